"""Restore an exit export into an empty instance.

Everything is re-encrypted under fresh keys through the normal model fields: each data-key
label of the export gets a new data key, each request a new request key, the mission a new
intake key. Ids, dates and statuses are kept as they were (the instance is empty, so no id is
taken), which also keeps the portal receipts of the mission's requests working. Accounts come
back without a usable password or second factor; an operator issues each person a one-time
password (``manage.py issue_one_time_password``).

Invariant: all or nothing. Rows commit in one transaction on both databases, and files
written before a failure are removed.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management.color import no_style
from django.db import connections, models, router
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit.models import AuditEvent
from haven.audit.services import record
from haven.core.models import Mission
from haven.crypto.datakeys import new_data_key
from haven.crypto.digests import random_token, token_digest
from haven.crypto.models import DataKey
from haven.crypto.router import data_and_keys
from haven.crypto.sealing import create_intake_key, seal
from haven.crypto.submission_keys import new_submission_key
from haven.intake.models import Attachment, Message, Submission
from haven.intake.services import attachment_path, store_attachment_file
from haven.reports.exit.schema import (
    MANIFEST,
    PARTS,
    SCHEMA_ID,
    SCHEMA_VERSION,
    Part,
    json_to_values,
)
from haven.reports.models import ArchivedAuditEvent

_READ_BYTES = 64 * 1024


class ImportRefused(Exception):
    """The archive cannot be imported here; ``str()`` says why and what to do."""


def check_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, once the schema is known and every file matches its size and SHA-256."""
    try:
        manifest: dict[str, Any] = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError):
        raise ImportRefused(_("This is not a Haven exit export: it has no manifest.")) from None
    if manifest.get("schema") != SCHEMA_ID or manifest.get("version") != SCHEMA_VERSION:
        raise ImportRefused(
            _(
                "This export uses schema %(schema)s version %(version)s, which this Haven "
                "cannot read."
            )
            % {"schema": manifest.get("schema"), "version": manifest.get("version")}
        )
    names = set(archive.namelist()) - {MANIFEST}
    if names != set(manifest["files"]):
        raise ImportRefused(_("The export's files do not match its manifest."))
    for name, expected in manifest["files"].items():
        digest = hashlib.sha256()
        size = 0
        with archive.open(name) as handle:
            while piece := handle.read(_READ_BYTES):
                digest.update(piece)
                size += len(piece)
        if digest.hexdigest() != expected["sha256"] or size != expected["bytes"]:
            raise ImportRefused(
                _("%(name)s was changed after the export was made.") % {"name": name}
            )
    return manifest


def refuse_unless_empty() -> None:
    if Mission.objects.exists() or User.objects.exists():
        raise ImportRefused(
            _(
                "This instance already holds missions or accounts. Import only into an empty "
                "instance: a new database after “manage.py migrate”, before the first start."
            )
        )


@dataclass
class _State:
    archive: zipfile.ZipFile
    mission: Mission | None = None
    data_keys: dict[str, DataKey] = field(default_factory=dict)
    links: list[tuple[models.Model, str, list[Any]]] = field(default_factory=list)
    self_links: list[tuple[type[models.Model], Any, dict[str, Any]]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def data_key(self, label: str) -> DataKey:
        if label not in self.data_keys:
            self.data_keys[label] = new_data_key()
        return self.data_keys[label]


@dataclass(frozen=True)
class Restored:
    mission: Mission
    counts: dict[str, int]
    usernames: list[str]


def restore(archive: zipfile.ZipFile, *, progress: Any = None) -> Restored:
    """Import the export in ``archive`` (an opened, decrypted zip) into this empty instance."""
    manifest = check_manifest(archive)
    refuse_unless_empty()
    state = _State(archive)
    try:
        with data_and_keys():
            for part in PARTS:
                for data in json.loads(archive.read(part.path)):
                    _restore_row(part, data, state)
                    if progress is not None:
                        progress.update(1)
            _link(state)
            _reset_sequences()
            assert state.mission is not None
            record(
                action="mission.imported",
                mission=state.mission,
                obj=state.mission,
                reason=f"{SCHEMA_ID} v{SCHEMA_VERSION}",
            )
    except BaseException:
        for path in state.files:
            path.unlink(missing_ok=True)
        raise
    assert state.mission is not None
    users = User.objects.filter(memberships__mission=state.mission).order_by("username")
    return Restored(state.mission, manifest["counts"], [user.username for user in users])


def _restore_row(part: Part, data: dict[str, Any], state: _State) -> None:
    if part.label == "audit.AuditEvent":
        values = json_to_values(AuditEvent, part, data)
        values.pop("id", None)
        values.pop("mission_id", None)
        assert state.mission is not None
        ArchivedAuditEvent.objects.create(mission_id=state.mission.pk, **values)
        return
    model = part.model
    values = json_to_values(model, part, data)
    if model is Mission:
        mission = Mission(**values)
        # Raw: the new-mission receivers (starter directory, audit) must not run; the
        # mission's directory comes from the export and its intake key is made here.
        mission.save_base(raw=True, force_insert=True)
        create_intake_key(mission)
        state.mission = mission
        return
    deferred = {
        column.attname: values.pop(column.attname)
        for column in model._meta.concrete_fields
        if isinstance(column, models.ForeignKey)
        and column.related_model is model
        and values.get(column.attname) is not None
    }
    if "data_key_id" in values:
        values["data_key_id"] = state.data_key(str(values["data_key_id"])).id
    row = model(**values)
    if isinstance(row, User):
        row.set_unusable_password()
        row.must_change_password = True
    elif part.label == "monitoring.CalendarFeed":
        row.digest = token_digest(random_token())  # type: ignore[attr-defined]
        row.revoked_at = row.revoked_at or timezone.now()  # type: ignore[attr-defined]
    elif isinstance(row, Submission):
        _seal_submission(row, data.get("content"), state)
    elif isinstance(row, Message):
        _seal_message(row, data.get("text"))
    row.save(force_insert=True)
    if isinstance(row, Attachment):
        _store_files(row, data, state)
    stamps = {
        column.attname: values[column.attname]
        for column in model._meta.concrete_fields
        if (getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False))
        and column.attname in values
    }
    if stamps:
        model._base_manager.filter(pk=row.pk).update(**stamps)
    for link in model._meta.many_to_many:
        if link.name in data:
            state.links.append((row, link.name, data[link.name]))
    if deferred:
        state.self_links.append((model, row.pk, deferred))


def _seal_submission(submission: Submission, content: Any, state: _State) -> None:
    if content is None:
        submission.sealed = b""
        return
    assert state.mission is not None
    key = new_submission_key(state.mission)
    submission.key_id = key.id
    submission.public_key = bytes(key.public_key)
    submission.sealed = seal(
        submission.public_key,
        json.dumps(content).encode("utf-8"),
        context=b"submission" + submission.uid.bytes,
    )


def _seal_message(message: Message, text: str | None) -> None:
    submission = Submission.objects.get(pk=message.submission_id)
    if text is None or submission.key_id is None:
        message.sealed_for_mission = b""
        return
    message.sealed_for_mission = seal(
        submission.public_key,
        text.encode("utf-8"),
        context=b"message" + message.pk.to_bytes(8, "big") + submission.uid.bytes,
    )


def _store_files(attachment: Attachment, data: dict[str, Any], state: _State) -> None:
    submission = Submission.objects.get(pk=attachment.submission_id)
    for original, key in ((False, "file"), (True, "original_file")):
        name = data.get(key)
        if not name:
            continue
        state.files.append(attachment_path(attachment, original=original))
        store_attachment_file(
            attachment,
            _pieces(state.archive, name),
            bytes(submission.public_key),
            original=original,
        )


def _pieces(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    with archive.open(name) as handle:
        while piece := handle.read(_READ_BYTES):
            yield piece


def _link(state: _State) -> None:
    for model, pk, columns in state.self_links:
        model._base_manager.filter(pk=pk).update(**columns)
    for row, name, ids in state.links:
        getattr(row, name).set(ids)


def _reset_sequences() -> None:
    """Rows were inserted with their ids: move PostgreSQL's sequences past them."""
    from django.apps import apps

    alias = router.db_for_write(Mission)
    connection = connections[alias]
    here = [model for model in apps.get_models() if router.allow_migrate_model(alias, model)]
    statements = connection.ops.sequence_reset_sql(no_style(), here)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
