"""``manage.py audit_verify``: walk the audit chain; exit 1 at the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from haven.audit.models import AuditEvent
from haven.audit.services import verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and report the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        total = AuditEvent.objects.count()
        with tqdm(total=total, unit="event", disable=options["verbosity"] < 1) as bar:
            result = verify(progress=bar)
        if not result.ok:
            where = f"event {result.broken_at}: " if result.broken_at else ""
            raise CommandError(
                f"Audit chain broken at {where}{result.problem}. "
                f"{result.checked} events verified before it."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.checked} events."))
