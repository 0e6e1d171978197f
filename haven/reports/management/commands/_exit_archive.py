"""What ``open_export`` and ``import_mission`` share: asking for the passphrase and decrypting
an exit archive into memory (never into a plaintext file the operator did not ask for)."""

from __future__ import annotations

import getpass
import io
import zipfile
from pathlib import Path

from django.core.management.base import CommandError

from haven.crypto.archives import decrypt_archive
from haven.crypto.errors import StreamError


def read_passphrase(passphrase_file: str | None) -> str:
    if passphrase_file:
        try:
            return Path(passphrase_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CommandError(f"Cannot read the passphrase file: {error.strerror}.") from None
    return getpass.getpass("Passphrase of the export: ")


def open_archive(path: str, passphrase: str) -> zipfile.ZipFile:
    """The decrypted zip, held in memory; ``CommandError`` with the reason if it won't open."""
    plain = io.BytesIO()
    try:
        with open(path, "rb") as source:
            decrypt_archive(source, plain, passphrase)
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
    except StreamError as error:
        raise CommandError(str(error)) from None
    try:
        return zipfile.ZipFile(plain)
    except zipfile.BadZipFile:
        raise CommandError("The archive opened but its content is not a Haven export.") from None
