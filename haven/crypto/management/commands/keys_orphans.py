"""``manage.py keys_orphans [--remove]``: keys that no row uses, and rows whose key is missing.

A thin wrapper around ``haven.crypto.orphans.check_orphans``. Without ``--remove`` it changes
nothing. Exits non-zero when rows of the data have no key in the key store: they are never
deleted, someone must look (docs/keys.md, "Writes across the two databases").
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from haven.crypto.orphans import check_orphans, rows_without_key_message


class Command(BaseCommand):
    help = "Find keys no row uses (and rows without their key); --remove removes old unused keys."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--remove",
            action="store_true",
            help="remove (shred) unused keys older than HAVEN_ORPHAN_KEY_GRACE_HOURS",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = check_orphans(remove=options["remove"])
        if report.destroyed:
            self.stdout.write(report.summary())
            return
        for label, count in sorted(report.unused.items()):
            expired = len(report.expired.get(label, []))
            self.stdout.write(
                _("%(label)s: %(count)d unused, %(expired)d past the grace period")
                % {"label": label, "count": count, "expired": expired}
            )
        for label, count in sorted(report.removed.items()):
            self.stdout.write(_("%(label)s: %(count)d removed") % {"label": label, "count": count})
        if report.has_rows_without_key:
            raise CommandError(rows_without_key_message(report))
