"""Real server processes for fault tests: Haven under gunicorn, and a private PostgreSQL cluster.

``haven_server`` runs Haven as ``manage.py serve`` does (gunicorn, sync workers, no access log)
on a free loopback port, against an ``Instance``; its workers can be killed by id, and gunicorn
starts new ones, as in production. ``PrivateCluster`` is a PostgreSQL cluster of the test's own,
made with ``initdb`` in a temporary folder and started on a free loopback port, so that it can be
restarted (or crash-stopped) under load without touching any server another test uses. Run as
root, the cluster runs as the ``postgres`` user (PostgreSQL refuses root).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.faults.instance import ROOT, Instance

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], bool], *, seconds: float, what: str) -> None:
    """Poll ``check()`` until it is true; fail saying ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {seconds:.0f} s")
        time.sleep(0.1)


@dataclass
class HavenServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> list[int]:
        """The ids of gunicorn's worker processes now."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def kill_worker(self) -> int | None:
        """SIGKILL one worker (gunicorn starts another); returns its id."""
        workers = self.workers()
        if not workers:
            return None
        victim = workers[int(time.monotonic() * 1000) % len(workers)]
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
        return victim

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False


@contextlib.contextmanager
def haven_server(
    instance: Instance, *, workers: int = 2, timeout: int = 30
) -> Iterator[HavenServer]:
    """Haven under gunicorn against ``instance``; stopped (and reaped) at the end."""
    port = free_port()
    log = instance.folder / f"gunicorn-{port}.log"
    command = [sys.executable, "-m", "gunicorn", "haven.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--timeout", str(timeout), "--graceful-timeout", "5"]
    command += ["--log-level", "warning", "--error-logfile", "-"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=instance.environment(), stdout=output, stderr=subprocess.STDOUT
        )
    server = HavenServer(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until(
            lambda: server.healthy() or process.poll() is not None,
            seconds=60,
            what="gunicorn did not answer",
        )
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn did not start: {log.read_text()[-3000:]}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def postgres_binaries() -> str | None:
    """Why a private cluster cannot be made here, or ``None`` when it can."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / tool).exists():
            return f"PostgreSQL's {tool} is not installed in {PG_BIN}"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and no postgres user to run a cluster as"
    return None


class PrivateCluster:
    """A PostgreSQL cluster of the test's own in ``folder``: trust authentication, loopback."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        self.restarts = 0

    def _as_owner(self, command: list[str]) -> subprocess.CompletedProcess[bytes]:
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, timeout=120, check=False)

    def _checked(self, command: list[str]) -> None:
        done = self._as_owner(command)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {(done.stdout + done.stderr).decode()}")

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        if not self.data.exists():
            initdb = [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres"]
            self._checked([*initdb, "--auth=trust", "--encoding=UTF8", "--locale=C"])
        self._pg_ctl("start")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        options += " -c max_connections=60 -c fsync=on -c synchronous_commit=on"
        pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log")]
        self._checked([*pg_ctl, "-w", "-t", "60", "-o", options, action, *extra])

    def restart(self, *, crash: bool = True) -> None:
        """Stop the server (as a crash, ``immediate``, by default) and start it again."""
        self._pg_ctl("restart", "-m", "immediate" if crash else "fast")
        self.restarts += 1

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._pg_ctl("stop", "-m", "immediate")

    def url(self, database: str, *, port: int | None = None) -> str:
        return f"postgresql://postgres@127.0.0.1:{port or self.port}/{database}"

    def create_databases(self, *names: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            for name in names:
                admin.execute(f'CREATE DATABASE "{name}"')
