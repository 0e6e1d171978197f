"""Build the exit archive: the mission's records as JSON and its files, zipped straight into
the encrypting writer, so no plaintext ever reaches the disk.

Layout of the zip (docs/exit-export.md): ``records/<app>.<Model>.json`` (a JSON array each),
``attachments/<uid>`` and ``attachments/<uid>.original`` (decrypted files), and
``manifest.json`` last: schema id and version, the mission, counts per record type, and the
size and SHA-256 of every other file.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any, BinaryIO

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.core.models import Mission
from haven.crypto.archives import ArchiveWriter
from haven.crypto.sealing import open_sealed_with
from haven.crypto.streams import iter_decrypted_with
from haven.crypto.submission_keys import submission_keypair
from haven.intake.models import Attachment, Submission
from haven.intake.services import (
    attachment_file_context,
    attachment_path,
    conversation_for_mission,
)
from haven.reports.exit.schema import MANIFEST, PARTS, SCHEMA_ID, SCHEMA_VERSION, Part, row_to_json


def attachment_name(uid: Any, *, original: bool = False) -> str:
    return f"attachments/{uid}.original" if original else f"attachments/{uid}"


class _Files:
    """Writes entries into the zip and keeps their size and SHA-256 for the manifest."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.files: dict[str, dict[str, Any]] = {}

    def write(self, name: str, pieces: Iterable[bytes]) -> None:
        digest = hashlib.sha256()
        size = 0
        with self.archive.open(name, "w", force_zip64=True) as handle:
            for piece in pieces:
                digest.update(piece)
                size += len(piece)
                handle.write(piece)
        self.files[name] = {"bytes": size, "sha256": digest.hexdigest()}


def _submission_content(submission: Submission) -> Any:
    keypair = submission_keypair(submission.mission, submission.key_id)  # type: ignore[arg-type]
    data = open_sealed_with(
        keypair,
        submission.sealed,
        context=b"submission" + submission.uid.bytes,
        what=_("Request %(id)s") % {"id": submission.pk},
    )
    return json.loads(data)


def _records(
    part: Part,
    mission: Mission,
    pending: list[tuple[str, Attachment, bool]],
    counts: dict[str, int],
) -> Iterator[bytes]:
    """The part's JSON array, one record at a time; attachments go to their own entries."""
    rows = part.rows(mission)
    texts: dict[int, str] = {}
    if part.label == "intake.Message":
        for submission in Submission.objects.filter(mission=mission, key_id__isnull=False):
            texts.update(
                (message.pk, text) for message, text in conversation_for_mission(submission)
            )
    yield b"["
    count = 0
    for row in rows.iterator(chunk_size=500):
        record = row_to_json(row, part)
        if part.label == "intake.Submission":
            assert isinstance(row, Submission)
            record["content"] = _submission_content(row) if row.key_id else None
        elif part.label == "intake.Message":
            record["text"] = texts.get(row.pk)
        elif part.label == "intake.Attachment":
            assert isinstance(row, Attachment)
            record["file"], record["original_file"] = _attachment_files(row, pending)
        yield (b"," if count else b"") + b"\n" + _dump(record)
        count += 1
    yield b"\n]\n"
    counts[part.label] = count


def _attachment_files(
    attachment: Attachment, pending: list[tuple[str, Attachment, bool]]
) -> tuple[str | None, str | None]:
    """Names of the attachment's files in the zip; written once the records entry is closed
    (a zip takes one entry at a time)."""
    names: list[str | None] = []
    for original in (False, True):
        if (original and not attachment.has_original) or not attachment_path(
            attachment, original=original
        ).exists():
            names.append(None)
            continue
        name = attachment_name(attachment.uid, original=original)
        pending.append((name, attachment, original))
        names.append(name)
    return names[0], names[1]


def _decrypted_file(attachment: Attachment, original: bool) -> Iterator[bytes]:
    submission = attachment.submission
    public_key, private_key = submission_keypair(submission.mission, submission.key_id)  # type: ignore[arg-type]
    with attachment_path(attachment, original=original).open("rb") as handle:
        yield from iter_decrypted_with(
            handle,
            public_key=public_key,
            private_key=private_key,
            context=attachment_file_context(attachment, original),
            what=_("File %(id)s") % {"id": attachment.pk},
        )


def _dump(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True).encode()


def write_exit_zip(mission: Mission, dst: IO[bytes], *, progress: Any = None) -> dict[str, Any]:
    """Write the mission's complete export as a zip into ``dst``; return its manifest."""
    counts: dict[str, int] = {}
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        files = _Files(archive)
        for part in PARTS:
            pending: list[tuple[str, Attachment, bool]] = []
            files.write(part.path, _records(part, mission, pending, counts))
            for name, attachment, original in pending:
                files.write(name, _decrypted_file(attachment, original))
            if progress is not None:
                progress.update(1)
        manifest = {
            "schema": SCHEMA_ID,
            "version": SCHEMA_VERSION,
            "generated_at": timezone.now().isoformat(),
            "mission": {"id": mission.pk, "slug": mission.slug, "name": mission.name},
            "counts": counts,
            "files": files.files,
        }
        with archive.open(MANIFEST, "w") as handle:
            handle.write(json.dumps(manifest, indent=2, sort_keys=True).encode())
    return manifest


def write_exit_archive(mission: Mission, dst: BinaryIO, passphrase: str) -> dict[str, Any]:
    """The same zip, encrypted under ``passphrase`` as it is written (haven.crypto.archives)."""
    writer = ArchiveWriter(dst, passphrase)
    manifest = write_exit_zip(mission, writer)  # type: ignore[arg-type]
    writer.close()
    return manifest
