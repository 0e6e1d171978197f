"""The fault soak of ``make bench``: at least 1,000 injected faults while people write, and not
one acknowledged write lost.

Haven runs under gunicorn (3 sync workers) against an instance of its own: SQLite files in a
temporary folder, or, with ``--database-url``, two throwaway databases on that PostgreSQL server
(``haven_soak_<pid>`` and ``_keys``, dropped at the end) reached through the fault proxy of
``tests/faults``. Four people write without pause: requests with a 20 KB file on the portal,
notes in the workspace, incidents and new cases through the API. Meanwhile faults are injected
in turns until ``--faults`` have been:

- connection drops (PostgreSQL): the proxy holds the network for a moment so that queries are in
  flight, then resets every connection it carries; each connection reset counts as one fault;
- worker SIGKILLs: one gunicorn worker killed, mid-request or not (gunicorn starts another);
- stalls: the database network frozen for up to a second (PostgreSQL), or a worker frozen with
  SIGSTOP for up to a second while it may hold SQLite's write lock (SQLite).

Every answer is judged as the person saw it (tests/faults/portal.py): acknowledged (a receipt, a
redirect to the case, a 201), refused clearly (the "not sent" page, the 503 pages), no answer
(the worker died under the request), or a fault of Haven's (anything else). Afterwards the
database is checked for every acknowledged write. The goal: 0 acknowledged-but-lost writes and
0 unclear answers. Receipts use the test suite's small Argon2id cost: the faults are measured,
not the hashing.

    .venv/bin/python bench/soak.py [--faults 1000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import postgres_databases  # noqa: E402

from tests.faults.instance import NOTHING_LOST, Instance  # noqa: E402
from tests.faults.portal import Outcome, People  # noqa: E402
from tests.faults.proxy import FaultProxy  # noqa: E402
from tests.faults.servers import HavenServer, haven_server, wait_until  # noqa: E402

FAULTS = 1000
PEOPLE = 4
WORKERS = 3
MAX_SECONDS = 1800  # the soak stops here even short of its faults, and says so


class Injector:
    """Injects faults in turns until ``target`` have been, counting each kind."""

    def __init__(self, server: HavenServer, proxy: FaultProxy | None, target: int) -> None:
        self.server, self.proxy, self.target = server, proxy, target
        self.counts = {"connection drops": 0, "worker SIGKILLs": 0, "stalls": 0}
        self.turn = itertools.count()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def once(self) -> None:
        turn = next(self.turn)
        if turn % 4 == 3:
            self._kill()
        elif self.proxy is not None:
            if turn % 2:
                self.proxy.stall(0.25)
                time.sleep(0.1)
                self.counts["connection drops"] += self.proxy.cut()
                time.sleep(0.3)
            else:
                self.proxy.stall(0.6)
                self.counts["stalls"] += 1
                time.sleep(0.9)
        else:
            self._freeze(0.3)
            time.sleep(0.1)

    def _kill(self) -> None:
        # Only with every worker up: killing the last one would test gunicorn, not Haven.
        if len(self.server.workers()) < WORKERS:
            time.sleep(0.3)
            return
        if self.server.kill_worker() is not None:
            self.counts["worker SIGKILLs"] += 1
        time.sleep(0.5)

    def _freeze(self, seconds: float) -> None:
        workers = self.server.workers()
        if not workers:
            return
        victim = workers[self.total % len(workers)]
        try:
            os.kill(victim, signal.SIGSTOP)
            time.sleep(seconds)
        except ProcessLookupError:
            return
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGCONT)
        self.counts["stalls"] += 1


def soak(*, faults: int = FAULTS, database_url: str = "") -> dict[str, Any]:
    """Run the soak; returns its figures (see the module's docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="haven-soak-"))
    try:
        with contextlib.ExitStack() as stack:
            proxy = None
            instance = Instance(folder)
            if database_url:
                data, keys = stack.enter_context(postgres_databases(database_url, "haven_soak"))
                parts = urlsplit(data)
                proxy = FaultProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
                stack.callback(proxy.close)
                instance = Instance(
                    folder,
                    database_url=_through(data, proxy.port),
                    keystore_url=_through(keys, proxy.port),
                    direct_urls=(data, keys),
                )
            instance.setup()
            server = stack.enter_context(haven_server(instance, workers=WORKERS))
            return _run(instance, server, proxy, faults, "postgresql" if database_url else "sqlite")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's on loopback."""
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def _run(
    instance: Instance, server: HavenServer, proxy: FaultProxy | None, target: int, database: str
) -> dict[str, Any]:
    people = People(server.url, instance.seeded, timeout=60)
    injector = Injector(server, proxy, target)
    numbers = itertools.count(1)
    stop = threading.Event()

    def person(number: int) -> None:
        for turn in itertools.count(number):
            if stop.is_set():
                return
            people.any_write(turn, next(numbers), number)

    threads = [threading.Thread(target=person, args=(n,), daemon=True) for n in range(PEOPLE)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while injector.total < target and time.monotonic() - started < MAX_SECONDS:
        injector.once()
    seconds = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    # Recovery: once the faults stop, every kind of write is acknowledged again.
    wait_until(server.healthy, seconds=60, what="Haven did not answer again")
    after = People(server.url, instance.seeded)
    recovered = all(
        outcome == Outcome.ACKNOWLEDGED
        for n in range(3)
        for outcome in (
            after.submit(f"after {n}", attachment=20_000),
            after.note(f"after {n}"),
            after.incident(f"after {n}"),
            after.open_case(f"after {n}"),
        )
    )
    for kind, values in after.acknowledged.items():
        people.acknowledged[kind].extend(values)
    lost = instance.lost(people.acknowledged)
    acknowledged = {kind: len(values) for kind, values in people.acknowledged.items()}
    return {
        "database": database,
        "seconds": round(seconds, 1),
        "faults": injector.total,
        "faults_by_kind": injector.counts,
        "answers": dict(sorted(people.tally.items())),
        "acknowledged": acknowledged,
        "acknowledged_total": sum(acknowledged.values()),
        "refused": people.count(Outcome.REFUSED),
        "no_answer": people.count(Outcome.NO_ANSWER),
        "unclear_answers": len(people.faults),
        "unclear_examples": people.faults[:3],
        "lost": sum(len(values) for values in lost.values()),
        "lost_examples": {kind: values[:3] for kind, values in lost.items() if values},
        "recovered": recovered,
        "pass": injector.total >= target
        and lost == NOTHING_LOST
        and not people.faults
        and recovered,
    }


def summary(result: dict[str, Any]) -> str:
    """One line for the benchmark table."""
    kinds = ", ".join(f"{n} {kind}" for kind, n in result["faults_by_kind"].items())
    return (
        f"{result['faults']} faults ({kinds}) in {result['seconds']:.0f} s;"
        f" {result['acknowledged_total']} writes acknowledged, {result['lost']} lost;"
        f" {result['refused']} refused clearly, {result['no_answer']} without an answer"
        f" (killed worker), {result['unclear_answers']} unclear;"
        f" recovered by itself: {'yes' if result['recovered'] else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--faults", type=int, default=FAULTS)
    parser.add_argument("--database-url", default="", help="a PostgreSQL server (else SQLite)")
    options = parser.parse_args()
    result = soak(faults=options.faults, database_url=options.database_url)
    print(json.dumps(result, indent=2))
    print(summary(result))
    sys.exit(0 if result["pass"] else 1)


if __name__ == "__main__":
    main()
