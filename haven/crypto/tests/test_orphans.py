"""The orphan check: unused keys go once past their grace period; rows without a key stay, loudly."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from haven.audit.models import AuditEvent
from haven.core.periodic import run_due
from haven.crypto.datakeys import new_data_key
from haven.crypto.models import DataKey
from haven.crypto.orphans import check_orphans, find_orphans
from haven.crypto.tests.conftest import make_subject
from tests.testapp.models import Subject

LATER = datetime.timedelta(hours=25)


def test_an_unused_key_is_removed_only_past_its_grace_period(mission: Any) -> None:
    used = make_subject(mission, name="Jane")
    unused = new_data_key()  # as a write that crashed after the key store committed leaves it
    report = check_orphans(remove=True)
    assert report.unused["crypto.DataKey"] == 1 and report.removed == {}
    assert DataKey.objects.filter(pk=unused.pk).exists()
    with time_machine.travel(timezone.now() + LATER):
        young = new_data_key()
        report = check_orphans(remove=True)
    assert report.removed == {"crypto.DataKey": 1}
    assert set(DataKey.objects.values_list("pk", flat=True)) == {used.data_key_id, young.pk}
    assert Subject.objects.get(pk=used.pk).name == "Jane"
    event = AuditEvent.objects.get(action="keys.orphans_removed")
    assert event.actor_id is None and event.fields == ["crypto.DataKey"]
    assert event.reason == "crypto.DataKey: 1"


def test_the_periodic_runner_removes_unused_keys(mission: Any) -> None:
    unused = new_data_key()
    later = timezone.now() + LATER
    with time_machine.travel(later):
        lines = run_due({}, later)
    assert any(line.startswith("crypto.orphaned_keys: 1 unused keys, 1 removed") for line in lines)
    assert not DataKey.objects.filter(pk=unused.pk).exists()


def _lose_key(subject: Subject) -> None:
    # What a key store restored from a backup older than the data looks like.
    DataKey.objects.filter(pk=subject.data_key_id).delete()


def test_rows_without_their_key_are_reported_and_never_deleted(mission: Any) -> None:
    lost = make_subject(mission, name="Jane")
    make_subject(mission, name="John")
    _lose_key(lost)
    with time_machine.travel(timezone.now() + LATER):
        report = check_orphans(remove=True)
    assert report.rows_without_key == {"testapp.Subject": 1}
    assert report.missing_keys == 1 and report.removed == {}
    assert "DATA WITHOUT ITS KEY" in report.summary()
    assert Subject.objects.filter(pk=lost.pk).exists()
    assert Subject.objects.count() == 2


def test_the_command_fails_on_rows_without_their_key(mission: Any) -> None:
    make_subject(mission, name="Jane")
    call_command("keys_orphans", "--remove")
    _lose_key(make_subject(mission, name="John"))
    with pytest.raises(CommandError, match="DATA WITHOUT ITS KEY"):
        call_command("keys_orphans", "--remove")
    assert Subject.objects.count() == 2


def test_the_system_check_warns_of_rows_without_their_key(mission: Any) -> None:
    subject = make_subject(mission, name="Jane")
    assert not [m for m in run_checks(databases=["default", "keys"]) if m.id == "haven_crypto.W020"]
    _lose_key(subject)
    messages = [m for m in run_checks(databases=["default", "keys"]) if m.id == "haven_crypto.W020"]
    assert len(messages) == 1 and "testapp.Subject: 1" in messages[0].msg


def test_after_emergency_destruction_nothing_is_reported_or_removed(
    mission: Any, settings: Any, tmp_path: Path
) -> None:
    _lose_key(make_subject(mission, name="Jane"))
    unused = new_data_key()
    Path(settings.HAVEN_DESTRUCTION_CERTIFICATE).write_text(json.dumps({"data_keys": 1}))
    with time_machine.travel(timezone.now() + LATER):
        report = check_orphans(remove=True)
    assert report.destroyed and not report.rows_without_key and report.removed == {}
    assert DataKey.objects.filter(pk=unused.pk).exists()


def test_a_key_used_by_a_row_is_never_unused(mission: Any) -> None:
    subjects = [make_subject(mission, name=f"Person {n}") for n in range(30)]
    for subject in subjects[::3]:
        subject.delete()
    report = find_orphans()
    assert report.unused["crypto.DataKey"] == 10
    assert report.rows_without_key == {}
