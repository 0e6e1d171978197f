"""What every benchmark script shares: a throwaway instance in a temporary folder (on SQLite,
or on throwaway PostgreSQL databases it creates and drops), and the measures several scripts
take: server memory for one portal upload, key rotation and emergency destruction."""

from __future__ import annotations

import io
import os
import re
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def throwaway_instance(database_url: str = "", keystore_url: str = "") -> Path:
    """Set Django up on fresh databases and keys in a temporary folder, migrated; returns it.

    SQLite unless ``database_url`` names a PostgreSQL database (whose tables it creates);
    ``keystore_url`` names the key store's database (else the settings' default beside it).
    """
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="haven-bench-"))
    os.environ["HAVEN_VAR_DIR"] = str(work / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    if database_url:
        os.environ["HAVEN_DATABASE_URL"] = database_url
    if keystore_url:
        os.environ["HAVEN_KEYSTORE_URL"] = keystore_url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    for alias in connections:
        call_command("migrate", database=alias, verbosity=0)
    return work


def existing_instance(var_dir: Path) -> Path:
    """Set Django up on an instance seeded earlier: its files in ``var_dir``, its databases
    SQLite there unless HAVEN_DATABASE_URL and HAVEN_KEYSTORE_URL name PostgreSQL ones.
    Migrations not applied yet are applied; nothing is created or dropped."""
    if not (var_dir / "keys").is_dir():
        raise SystemExit(f"{var_dir} holds no Haven instance (no keys folder).")
    sys.path.insert(0, str(ROOT))
    os.environ["HAVEN_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    for alias in connections:
        call_command("migrate", database=alias, verbosity=0)
    return var_dir


@contextmanager
def postgres_databases(server_url: str, prefix: str = "haven_bench") -> Iterator[tuple[str, str]]:
    """Create ``<prefix>_<pid>`` and its ``_keys`` twin on the server ``server_url`` names
    (through its ``postgres`` database), yield their URLs, and drop both afterwards."""
    import psycopg

    parts = urlsplit(server_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    name = f"{prefix}_{os.getpid()}"
    names = [name, f"{name}_keys"]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for each in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{each}"')
            admin.execute(f'CREATE DATABASE "{each}"')
    try:
        yield tuple(urlunsplit(parts._replace(path=f"/{each}")) for each in names)  # type: ignore[misc]
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for each in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{each}" WITH (FORCE)')


def _status_kib(field: str) -> float | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def _reset_peak_rss() -> float:
    """Start a new peak-RSS measurement; returns the resident size now, in MiB.

    Linux resets the high-water mark when 5 is written to clear_refs; elsewhere the lifetime
    peak is used, which only shows growth beyond any earlier peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        now = _status_kib("VmRSS")
        if now is not None:
            return now / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_rss() -> float:
    peak = _status_kib("VmHWM")
    if peak is not None:
        return peak / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_memory_for_upload(answers: dict[str, str], data: bytes | None) -> dict[str, Any]:
    """Send one portal request with a file (or none) through Django's WSGI handler, the body
    read from a file on disk as a server reads a socket, and measure the server side only: the
    Python allocations' peak (tracemalloc) and the growth of the process's peak resident size."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    handler = WSGIHandler()
    base = {
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "SCRIPT_NAME": "",
    }
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured["status"], captured["headers"] = status, headers

    form = b"".join(
        handler(
            {**base, "REQUEST_METHOD": "GET", "PATH_INFO": "/request/", "wsgi.input": io.BytesIO()},
            start_response,
        )
    ).decode()
    cookie = next(v for k, v in captured["headers"] if k == "Set-Cookie").split(";")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    form_token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    files = [SimpleUploadedFile("big.bin", data)] if data is not None else []
    payload = encode_multipart(
        BOUNDARY,
        {**answers, "csrfmiddlewaretoken": token, "form_token": form_token, "attachments": files},
    )
    del files
    with tempfile.TemporaryFile() as body:
        body.write(payload)
        size = len(payload)
        del payload
        body.seek(0)
        environ = {
            **base,
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/request/",
            "CONTENT_TYPE": MULTIPART_CONTENT,
            "CONTENT_LENGTH": str(size),
            "HTTP_COOKIE": cookie,
            "HTTP_ORIGIN": "http://localhost",
            "HTTP_SEC_FETCH_SITE": "same-origin",
            "wsgi.input": body,
        }
        rss_before = _reset_peak_rss()
        tracemalloc.start()
        page = b"".join(handler(environ, start_response))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rss_growth = _peak_rss() - rss_before
    return {
        "status": captured["status"],
        "accepted": b"secret receipt" in page,
        "request_bytes": size,
        "python_peak_mib": round(peak / 2**20, 2),
        "rss_growth_mib": round(rss_growth, 2),
    }


def measure_rotation() -> dict[str, Any]:
    """Create a KEK version and re-wrap every wrapped key under it, timed."""
    from haven.crypto import rotation

    version = rotation.create_kek_version()
    total = rotation.rows_to_rewrap(version)
    start = time.perf_counter()
    result = rotation.rewrap_to(version)
    seconds = time.perf_counter() - start
    return {
        "keys": total,
        "seconds": round(seconds, 3),
        "keys_per_second": round(total / seconds, 1) if seconds else None,
        "result": str(result),
    }


def measure_destruction() -> dict[str, Any]:
    """Emergency destruction of every key, timed as the command runs it. Destroys the data."""
    from haven.crypto import destruction
    from haven.crypto.models import DataKey

    keys = DataKey.objects.count()
    start = time.perf_counter()
    destruction.destroy_everything(
        confirmed_by=[(0, "bench-a"), (0, "bench-b")], reason="benchmark"
    )
    return {"data_keys": keys, "seconds": round(time.perf_counter() - start, 3)}
