"""The exit export loses nothing: export a rich mission, wipe the instance, import, export
again, and the two exports hold the same records and byte-identical files."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connections, transaction

from haven.accounts.models import User
from haven.core.models import Mission
from haven.intake import services as intake
from haven.intake.models import Submission
from haven.registry.models import Defender
from haven.reports.exit.reader import ImportRefused, restore
from haven.reports.exit.schema import LEFT_OUT, PARTS, exported_columns, mission_models
from haven.reports.exit.writer import write_exit_zip
from tests.test_access_matrix import MARKER, World

# Columns that must change on import, and why: a calendar feed's secret stays behind, so the
# imported feed is revoked.
CHANGED_ON_IMPORT = {"monitoring.CalendarFeed": {"revoked_at"}}


def _export(mission: Mission) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any], bytes]:
    buffer = io.BytesIO()
    manifest = write_exit_zip(mission, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        records = {part.label: json.loads(archive.read(part.path)) for part in PARTS}
    return records, manifest, buffer.getvalue()


def _wipe_instance() -> None:
    """Empty every table of both databases and the media folder, like a new instance."""
    for alias in connections:
        connection = connections[alias]
        tables = connection.introspection.django_table_names(only_existing=True)
        # One transaction per database: foreign keys are checked when all rows are gone.
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The test's own transaction holds deferred foreign-key checks on rows it
                # wrote; PostgreSQL refuses to truncate a table while they are pending.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for statement in connection.ops.sql_flush(no_style(), tables):
                cursor.execute(statement)
    shutil.rmtree(settings.HAVEN_MEDIA_DIR, ignore_errors=True)


def _key_groups(rows: list[dict[str, Any]]) -> list[Any]:
    """Which rows share a data key, independent of the key's label."""
    labels: dict[str, int] = {}
    return [labels.setdefault(row["data_key_id"], len(labels)) for row in rows]


def _without(rows: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in names} for row in rows]


@pytest.fixture
def world(db: Any) -> World:
    return World()


def test_every_mission_model_is_exported_or_left_out_with_a_reason() -> None:
    covered = {part.label for part in PARTS} | set(LEFT_OUT)
    missing = [
        model._meta.label
        for model in mission_models()
        # tests.testapp holds test-only models, never installed outside the suite.
        if model._meta.app_label != "testapp" and model._meta.label not in covered
    ]
    assert not missing, f"mission-scoped models not in the exit export: {missing}"
    assert all(apps.get_model(label) for label in covered)


def test_the_documented_schema_lists_every_exported_field() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "exit-export.md").read_text(encoding="utf-8")
    for part in PARTS:
        heading = f"### `{part.label}`"
        assert heading in doc, f"docs/exit-export.md does not describe {part.label}"
        section = doc.split(heading, 1)[1].split("\n### ", 1)[0]
        names = [column.attname for column in exported_columns(part.model, part)]
        names += [link.name for link in part.model._meta.many_to_many if link.name not in part.omit]
        undocumented = [name for name in names if f"| `{name}` |" not in section]
        assert not undocumented, f"{part.label}: fields missing from the doc: {undocumented}"
    for label in LEFT_OUT:
        assert f"`{label}`" in doc


def test_round_trip_loses_nothing(world: World) -> None:
    mission = world.mission
    first, first_manifest, raw = _export(mission)
    # The export is rich and decrypted: the canary plaintext of every kind is in it.
    text = raw.decode("latin-1")
    for kind in ("Defender", "Relative", "Reply", "Case", "Threat", "Court", "Report", "Cell"):
        assert first["registry.Defender"] and f"{kind} {MARKER}" in json.dumps(first)
    assert first["intake.Submission"][0]["content"]["description"] == f"Request {MARKER}"
    assert first["intake.Attachment"][0]["file"] and first["intake.Attachment"][0]["original_file"]
    assert all(
        first[label] for label in ("cases.Incident", "monitoring.Hearing", "audit.AuditEvent")
    )
    assert "password" not in first["accounts.User"][0] and text

    _wipe_instance()
    assert not Mission.objects.exists() and not Defender.objects.exists()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        restored = restore(archive)
    assert restored.mission.pk == mission.pk

    second, second_manifest, _raw = _export(Mission.objects.get(pk=mission.pk))
    for part in PARTS:
        label = part.label
        before, after = first[label], second[label]
        if label == "audit.AuditEvent":
            # This instance's chain comes back as archived events, unchanged.
            archived = _without(second["reports.ArchivedAuditEvent"], "mission_id")
            assert archived == _without(before, "id", "mission_id")
            continue
        if label == "reports.ArchivedAuditEvent":
            assert before == []
            continue
        assert len(after) == len(before), label
        if before and "data_key_id" in before[0]:
            assert _key_groups(after) == _key_groups(before), label
            assert {r["data_key_id"] for r in after}.isdisjoint(
                {r["data_key_id"] for r in before}
            ), f"{label} kept its old data keys"
        ignored = {"data_key_id", *CHANGED_ON_IMPORT.get(label, set())}
        assert _without(after, *ignored) == _without(before, *ignored), label
    attachments = {n: f for n, f in first_manifest["files"].items() if n.startswith("attach")}
    assert attachments and all(second_manifest["files"][n] == f for n, f in attachments.items())
    # What was imported works: the request opens under its new key, the user cannot sign in
    # until given a one-time password.
    submission = Submission.objects.get()
    admin = User.objects.get(username=world.members["admin"].username)
    assert intake.open_submission(submission=submission, actor=admin)["name"] == MARKER
    assert not admin.has_usable_password() and admin.must_change_password


def test_import_refuses_an_instance_that_holds_data(world: World) -> None:
    _first, _manifest, raw = _export(world.mission)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive, pytest.raises(ImportRefused, match="empty"):
        restore(archive)


def test_import_refuses_a_changed_file(world: World) -> None:
    _first, _manifest, raw = _export(world.mission)
    source = zipfile.ZipFile(io.BytesIO(raw))
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "records/registry.Defender.json":
                data = data.replace(MARKER.encode(), b"tampered")
            target.writestr(item.filename, data)
    _wipe_instance()
    with zipfile.ZipFile(changed) as archive, pytest.raises(ImportRefused, match="changed"):
        restore(archive)
