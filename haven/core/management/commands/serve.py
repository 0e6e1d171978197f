"""``manage.py serve``: the embedded server. Portal, workspace and API on one port, and the
task worker and the scheduled jobs beside it, stopped together.

gunicorn serves the WSGI app; its access log stays off so no visitor address is written.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import gunicorn.http.wsgi
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication

from haven.crypto.keys import ensure_keys
from haven.crypto.orphans import check_orphans, rows_without_key_message
from haven.wsgi import application


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return application


class Command(BaseCommand):
    help = "Serve Haven on HAVEN_HOST:HAVEN_PORT with the task worker beside it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-worker", action="store_true", help="do not start the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        # Refuse to serve with missing or exposed keys rather than fail on the first read.
        ensure_keys()
        # Keys left unused by a write that crashed between its two commits are removed; rows
        # of the data without their key are reported, loudly, and serving goes on.
        orphans = check_orphans(remove=True)
        self.stdout.write(f"Key store: {orphans.summary()}")
        if orphans.has_rows_without_key:
            self.stderr.write(self.style.ERROR(rows_without_key_message(orphans)))
        if settings.HAVEN_SERVE_STATIC:
            call_command("collectstatic", interactive=False, verbosity=0)
        # No server banner: responses say "haven", not the server's name and version.
        gunicorn.http.wsgi.SERVER = "haven"  # type: ignore[attr-defined]
        helpers: list[subprocess.Popen[bytes]] = []
        if not options["no_worker"]:
            manage = Path(settings.BASE_DIR) / "manage.py"
            for command in ("db_worker", "periodic"):
                helpers.append(subprocess.Popen([sys.executable, str(manage), command]))  # noqa: S603
        address = f"{settings.HAVEN_HOST}:{settings.HAVEN_PORT}"
        self.stdout.write(f"Haven is serving on http://{address}/ (workspace at /desk/)")
        try:
            _Gunicorn(
                {
                    "bind": address,
                    "workers": settings.HAVEN_WORKERS,
                    "accesslog": None,
                    "errorlog": "-",
                    "loglevel": "warning",
                    "timeout": 120,
                    "graceful_timeout": 10,
                    "limit_request_line": 8190,
                    "proc_name": "haven",
                }
            ).run()
        finally:
            for helper in helpers:
                helper.send_signal(signal.SIGTERM)
            for helper in helpers:
                try:
                    helper.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    helper.kill()
