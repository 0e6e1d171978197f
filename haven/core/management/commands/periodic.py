"""``manage.py periodic [--once]``: run the scheduled jobs (purges, reminders) forever, or once."""

from __future__ import annotations

import datetime
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from haven.core.periodic import run_due
from haven.crypto.cache import key_scope


class Command(BaseCommand):
    help = "Run the scheduled jobs: every minute, each job whose interval has passed."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run the due jobs and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        last_runs: dict[str, datetime.datetime] = {}
        stopping = False

        def stop(*_args: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        while not stopping:
            with key_scope():
                for line in run_due(last_runs, timezone.now()):
                    self.stdout.write(line)
            if options["once"]:
                return
            for _second in range(60):
                if stopping:
                    return
                time.sleep(1)
