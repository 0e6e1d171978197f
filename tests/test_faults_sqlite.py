"""SQLite writers contending: in the embedded mode several processes write to the same
database files at once, and no "database is locked" may reach a person.

Haven runs under gunicorn with several worker processes on SQLite files of its own; people
send requests with files, add notes in the workspace and log incidents through the API, all at
once and without pause. Every one of them must be acknowledged (no 503, no 500), and every
acknowledgement must be in the database afterwards.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.faults.instance import NOTHING_LOST, Instance
from tests.faults.portal import Outcome, People
from tests.faults.servers import haven_server

WORKERS = 4
WRITERS = 6
SECONDS = 10


def test_contending_writers_never_see_database_is_locked() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("SQLite's write lock is tested in the SQLite pass")
    folder = Path(tempfile.mkdtemp(prefix="haven-sqlite-writers-"))
    try:
        instance = Instance(folder)
        instance.setup()
        with haven_server(instance, workers=WORKERS) as server:
            people = People(server.url, instance.seeded)
            numbers = itertools.count(1)
            deadline = time.monotonic() + SECONDS

            def writer(number: int) -> None:
                for turn in itertools.count(number):
                    if time.monotonic() > deadline:
                        return
                    people.any_write(turn, next(numbers), number)

            threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=SECONDS + 120)
            log = server.log.read_text()
        assert people.faults == [], people.faults[:3]
        assert people.count(Outcome.REFUSED) == 0, people.tally
        assert people.count(Outcome.NO_ANSWER) == 0, people.tally
        for kind in ("portal", "workspace", "api"):
            assert people.tally.get(f"{kind}: {Outcome.ACKNOWLEDGED}", 0) >= WRITERS, people.tally
        assert "database is locked" not in log
        assert instance.lost(people.acknowledged) == NOTHING_LOST
    finally:
        shutil.rmtree(folder, ignore_errors=True)
