"""``manage.py open_export FILE --out DIR``: decrypt a complete exit export for a mission that
leaves Haven, check every file against the manifest, and write its JSON and files into DIR.

DIR receives plaintext: choose an encrypted disk. The passphrase is asked for (not echoed)
unless ``--passphrase-file`` names a file holding it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven.reports.exit.reader import ImportRefused, check_manifest
from haven.reports.management.commands._exit_archive import open_archive, read_passphrase


class Command(BaseCommand):
    help = "Decrypt an exit export into a folder (records as JSON, files under attachments/)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the .hvxa file downloaded from Haven")
        parser.add_argument("--out", required=True, help="an empty or new folder")
        parser.add_argument("--passphrase-file", help="read the passphrase from this file")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"]).resolve()
        if out.exists() and any(out.iterdir()):
            raise CommandError(f"{out} is not empty: choose a new or empty folder.")
        archive = open_archive(options["file"], read_passphrase(options["passphrase_file"]))
        try:
            manifest = check_manifest(archive)
        except ImportRefused as error:
            raise CommandError(str(error)) from None
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name in archive.namelist():
            target = (out / name).resolve()
            if not target.is_relative_to(out):
                raise CommandError(f"The archive names a file outside the folder: {name!r}.")
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with archive.open(name) as source, os.fdopen(descriptor, "wb") as handle:
                while piece := source.read(64 * 1024):
                    handle.write(piece)
        total = sum(manifest["counts"].values())
        self.stdout.write(
            f"Opened the export of {manifest['mission']['name']}: {total} records and "
            f"{len(manifest['files'])} files in {out}. The schema is described in "
            "docs/exit-export.md."
        )
