"""The database connection cut, stalled and slowed, and the database server restarted, while
defenders send requests and officers update a case, through real processes on loopback.

Haven runs under gunicorn against a PostgreSQL cluster of the test's own, reached through a
proxy that cuts, stalls or slows the connections (``tests/faults``). What must hold (SECURITY.md,
"database down"): the defender sees "not sent, try again" and the officer a clear 503, never a
500 or a stack trace; everything a person was shown as saved is in the database afterwards; and
the same worker processes serve again by themselves once the database is back.

These run in the PostgreSQL pass of ``make test``; they need PostgreSQL's own programs to make
the private cluster, and skip saying so where those are not installed.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.faults.instance import NOTHING_LOST, Instance
from tests.faults.portal import Outcome, People
from tests.faults.proxy import FaultProxy
from tests.faults.servers import HavenServer, PrivateCluster, haven_server, postgres_binaries

pytestmark = pytest.mark.postgres_only

LOAD_SECONDS = 8
CLIENTS = 4


@dataclass
class Stack:
    cluster: PrivateCluster
    proxy: FaultProxy
    instance: Instance
    server: HavenServer


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("database faults are tested in the PostgreSQL pass (SQLite has no connection)")
    missing = postgres_binaries()
    if missing:
        pytest.skip(f"no private PostgreSQL cluster can be made here: {missing}")
    folder = Path(tempfile.mkdtemp(prefix="haven-faults-"))
    # A folder of its own straight under the temporary folder: the cluster's user must reach it.
    cluster = PrivateCluster(Path(tempfile.mkdtemp(prefix="haven-faults-pg-")))
    proxy: FaultProxy | None = None
    try:
        cluster.start()
        cluster.create_databases("haven", "haven_keys")
        proxy = FaultProxy(("127.0.0.1", cluster.port))
        instance = Instance(
            folder,
            database_url=cluster.url("haven", port=proxy.port),
            keystore_url=cluster.url("haven_keys", port=proxy.port),
            direct_urls=(cluster.url("haven"), cluster.url("haven_keys")),
        )
        instance.setup()
        with haven_server(instance, workers=2) as server:
            yield Stack(cluster, proxy, instance, server)
    finally:
        if proxy is not None:
            proxy.close()
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(cluster.folder, ignore_errors=True)


_numbers = itertools.count(1)


def _load(people: People, seconds: float, fault: Callable[[], None]) -> None:
    """``CLIENTS`` people send requests, notes and incidents without pause for ``seconds``,
    while ``fault`` is called again and again in this thread."""
    stop = threading.Event()

    def person(number: int) -> None:
        for turn in itertools.count(number):
            if stop.is_set():
                return
            people.any_write(turn, next(_numbers), number)

    threads = [threading.Thread(target=person, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            fault()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)


def _recovers(stack: Stack, workers_before: list[int]) -> None:
    """Once the database is back, the same processes serve every kind of write again."""
    people = People(stack.server.url, stack.instance.seeded)
    for n in range(3):
        assert people.submit(f"after {n}") == Outcome.ACKNOWLEDGED, people.faults
        assert people.note(f"after {n}") == Outcome.ACKNOWLEDGED, people.faults
        assert people.incident(f"after {n}") == Outcome.ACKNOWLEDGED, people.faults
    assert sorted(stack.server.workers()) == workers_before, "a worker had to be replaced"
    assert stack.instance.lost(people.acknowledged) == NOTHING_LOST


def _assert_nothing_lost_and_no_fault(stack: Stack, people: People) -> None:
    assert people.faults == [], people.faults[:3]
    assert people.count(Outcome.NO_ANSWER) == 0, people.tally
    assert stack.instance.lost(people.acknowledged) == NOTHING_LOST


def test_connections_cut_during_writes_refuse_clearly_and_lose_nothing(stack: Stack) -> None:
    workers = sorted(stack.server.workers())
    people = People(stack.server.url, stack.instance.seeded)

    def cut_mid_query() -> None:
        # Freeze the network so that queries are in flight, then cut: the cut lands inside
        # requests, not only between them.
        stack.proxy.stall(0.3)
        time.sleep(0.15)
        stack.proxy.cut()
        time.sleep(0.35)

    _load(people, LOAD_SECONDS, cut_mid_query)
    _assert_nothing_lost_and_no_fault(stack, people)
    assert stack.proxy.cuts > 0
    for kind in ("portal", "workspace", "api"):
        assert people.tally.get(f"{kind}: {Outcome.REFUSED}", 0) >= 1, people.tally
        assert people.tally.get(f"{kind}: {Outcome.ACKNOWLEDGED}", 0) >= 1, people.tally
    _recovers(stack, workers)


def test_a_stalled_or_slow_connection_only_makes_writes_slower(stack: Stack) -> None:
    workers = sorted(stack.server.workers())
    people = People(stack.server.url, stack.instance.seeded)
    stack.proxy.slow(0.002)

    def stall_now_and_then() -> None:
        stack.proxy.stall(1.0)
        time.sleep(2.0)

    try:
        _load(people, LOAD_SECONDS, stall_now_and_then)
    finally:
        stack.proxy.slow(0)
    _assert_nothing_lost_and_no_fault(stack, people)
    assert people.count(Outcome.REFUSED) == 0, (people.tally, stack.server.log.read_text()[-6000:])
    assert people.count(Outcome.ACKNOWLEDGED) >= CLIENTS, people.tally
    _recovers(stack, workers)


def test_postgresql_restarted_under_load_refuses_clearly_and_loses_nothing(stack: Stack) -> None:
    workers = sorted(stack.server.workers())
    people = People(stack.server.url, stack.instance.seeded)

    def crash_and_restart() -> None:
        time.sleep(1.0)
        stack.cluster.restart(crash=True)

    _load(people, LOAD_SECONDS, crash_and_restart)
    _assert_nothing_lost_and_no_fault(stack, people)
    assert stack.cluster.restarts >= 1
    assert people.count(Outcome.REFUSED) >= 1, people.tally
    _recovers(stack, workers)
