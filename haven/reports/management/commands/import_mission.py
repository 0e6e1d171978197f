"""``manage.py import_mission ARCHIVE``: restore a complete exit export into this instance,
which must be empty (a new database after ``migrate``). Everything is re-encrypted under
fresh keys. Accounts come back without a usable password or second factor: give each person
a one-time password with ``manage.py issue_one_time_password USERNAME``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from haven.reports.exit.reader import ImportRefused, check_manifest, refuse_unless_empty, restore
from haven.reports.management.commands._exit_archive import open_archive, read_passphrase


class Command(BaseCommand):
    help = "Restore a mission from its exit export into an empty instance."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("archive", help="the .hvxa file downloaded from Haven")
        parser.add_argument("--passphrase-file", help="read the passphrase from this file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            refuse_unless_empty()
            archive = open_archive(options["archive"], read_passphrase(options["passphrase_file"]))
            manifest = check_manifest(archive)
            total = sum(manifest["counts"].values())
            with tqdm(total=total, unit="records", disable=None) as progress:
                restored = restore(archive, progress=progress)
        except ImportRefused as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored {restored.mission.name} ({total} records). Its {len(restored.usernames)} "
            "accounts have no password yet: give each person a one-time password with\n"
            + "\n".join(
                f"  manage.py issue_one_time_password {name}" for name in restored.usernames
            )
        )
