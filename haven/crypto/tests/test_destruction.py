"""Emergency destruction: every record unreadable, a certificate, and a clear "destroyed" state."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import router
from django.test import Client

from haven.audit.models import AuditEvent
from haven.crypto.cache import cached_count, key_scope
from haven.crypto.destruction import DestructionError, destroy_everything
from haven.crypto.errors import CryptoError, DecryptionError
from haven.crypto.keys import ensure_keys
from haven.crypto.models import DataKey, IntakeKey
from haven.crypto.sealing import create_intake_key
from haven.crypto.tests.conftest import make_subject
from tests.testapp.models import Subject, SubjectNote

OPERATOR = [(None, "operator (test)")]
MIDDLEWARE_PATH = "haven.crypto.destroyed.DestroyedStateMiddleware"


@pytest.fixture(autouse=True)
def certificate_file(settings: Any, tmp_path: Path) -> Path:
    """Certificates of these tests go to tmp_path, never to the repository's var/."""
    settings.HAVEN_VAR_DIR = tmp_path / "var"
    settings.HAVEN_DESTRUCTION_CERTIFICATE = tmp_path / "var" / "destruction-certificate.json"
    return Path(settings.HAVEN_DESTRUCTION_CERTIFICATE)


def _seed(mission: Any, subjects: int) -> list[int]:
    pks = []
    for n in range(subjects):
        subject = make_subject(mission, name=f"Defender {n}", phone=f"+254 700 {n:06d}")
        if n % 10 == 0:
            SubjectNote.objects.create(subject=subject, data_key=subject.data_key, body=f"n{n}")
        pks.append(subject.pk)
    return pks


def test_destruction_leaves_no_record_readable(
    mission: Any, key_dir: Path, certificate_file: Path
) -> None:
    pks = _seed(mission, 2000)
    create_intake_key(mission)
    assert Subject.objects.get(pk=pks[7]).name == "Defender 7"
    key_files = sorted(p.name for p in key_dir.iterdir())
    assert key_files == ["blind-index.key", "kek-0001.key"]

    certificate = destroy_everything(confirmed_by=OPERATOR, reason="mission overrun")

    assert sorted(key_dir.iterdir()) == []
    assert not DataKey.objects.exists() and not IntakeKey.objects.exists()
    unreadable = 0
    for subject in Subject.objects.all():
        with pytest.raises(DecryptionError):
            _ = subject.name
        unreadable += 1
    for note in SubjectNote.objects.all():
        with pytest.raises(DecryptionError):
            _ = note.body
        unreadable += 1
    assert unreadable == 2000 + 200
    # Two intake keys: the one every mission gets when created, and the test's own.
    assert (certificate.data_keys, certificate.intake_keys, certificate.key_files) == (2000, 2, 2)
    written = json.loads(certificate_file.read_text())
    assert written["data_keys"] == 2000 and written["intake_keys"] == 2
    assert written["key_files"] == 2 and written["rehearsal"] is False
    assert written["confirmed_by"] == [{"id": None, "username": "operator (test)"}]
    assert written["reason"] == "mission overrun"
    assert written["destroyed_at"].endswith("+00:00")
    assert len(written["state_hash"]) == 64 and written["duration_ms"] > 0
    event = AuditEvent.objects.get(action="emergency.destroyed")
    assert event.actor_username == "operator (test)" and event.reason == "mission overrun"
    assert event.object_id == certificate.state_hash


def test_a_copy_of_the_key_store_taken_before_is_useless_without_the_key_files(
    mission: Any,
) -> None:
    subject = make_subject(mission, name="Jane")
    alias = router.db_for_write(DataKey)
    saved = list(DataKey.objects.using(alias).all())
    destroy_everything(confirmed_by=OPERATOR, reason="evacuation")
    # An attacker restores the wrapped keys from a backup of the key store.
    DataKey.objects.using(alias).bulk_create(saved)
    with pytest.raises(CryptoError):
        _ = Subject.objects.get(pk=subject.pk).name


def test_destruction_empties_the_key_cache(mission: Any) -> None:
    with key_scope():
        subject = make_subject(mission, name="Jane")
        assert Subject.objects.get(pk=subject.pk).name == "Jane"
        assert cached_count() > 0
        destroy_everything(confirmed_by=OPERATOR, reason="evacuation")
        assert cached_count() == 0
        with pytest.raises(DecryptionError):
            _ = Subject.objects.get(pk=subject.pk).name


def test_destruction_needs_a_reason_and_a_confirmer(mission: Any, key_dir: Path) -> None:
    make_subject(mission, name="Jane")
    with pytest.raises(DestructionError, match="Say why"):
        destroy_everything(confirmed_by=OPERATOR, reason=" ")
    with pytest.raises(DestructionError):
        destroy_everything(confirmed_by=[], reason="evacuation")
    assert (key_dir / "kek-0001.key").exists() and DataKey.objects.count() == 1


def test_rehearsal_destroys_nothing_and_reports_timings(
    mission: Any, key_dir: Path, certificate_file: Path
) -> None:
    pks = _seed(mission, 50)
    create_intake_key(mission)
    before = sorted((p.name, p.read_bytes()) for p in key_dir.iterdir())

    certificate = destroy_everything(confirmed_by=OPERATOR, reason="drill", rehearse=True)

    assert certificate.rehearsal and (certificate.data_keys, certificate.key_files) == (50, 2)
    assert certificate.intake_keys == 2  # the mission's own and the test's
    assert {"key_files", "data_keys", "intake_keys", "copy_for_rehearsal"} == set(
        certificate.timings_ms
    )
    assert certificate.duration_ms > 0
    assert sorted((p.name, p.read_bytes()) for p in key_dir.iterdir()) == before
    assert DataKey.objects.count() == 50 and IntakeKey.objects.count() == 2
    assert [Subject.objects.get(pk=pk).name for pk in pks[:3]] == [
        f"Defender {n}" for n in (0, 1, 2)
    ]
    assert not certificate_file.exists()
    assert AuditEvent.objects.filter(action="emergency.rehearsed").exists()
    assert not AuditEvent.objects.filter(action="emergency.destroyed").exists()


def test_rehearsal_and_destruction_agree_on_the_state_hash(mission: Any) -> None:
    _seed(mission, 20)
    rehearsal = destroy_everything(confirmed_by=OPERATOR, reason="drill", rehearse=True)
    real = destroy_everything(confirmed_by=OPERATOR, reason="for real")
    assert rehearsal.state_hash == real.state_hash


def test_workspace_and_api_answer_gone_after_destruction_and_health_still_answers(
    mission: Any, settings: Any
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE]
    position = settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware")
    settings.MIDDLEWARE.insert(position, MIDDLEWARE_PATH)
    make_subject(mission, name="Jane")
    client = Client()
    assert client.get("/desk/login/").status_code == 200

    destroy_everything(confirmed_by=OPERATOR, reason="evacuation")

    page = client.get("/desk/login/")
    assert page.status_code == 410
    body = page.content.decode()
    assert "has been destroyed" in body and "Traceback" not in body
    assert "<dd>1</dd>" in body  # one data key, one... shown as counts
    assert client.post("/desk/", {"x": "y"}).status_code == 410
    api = client.get("/api/v1/openapi.json")
    assert api.status_code == 410 and api.json()["certificate"]["data_keys"] == 1
    assert client.get("/healthz").status_code == 200


def test_command_refuses_without_the_phrase(mission: Any, key_dir: Path) -> None:
    make_subject(mission, name="Jane")
    with pytest.raises(CommandError):
        call_command("emergency_destroy", "--reason", "evacuation", stdin=io.StringIO("destroy\n"))
    assert (key_dir / "kek-0001.key").exists() and DataKey.objects.count() == 1


def test_command_destroys_after_the_typed_phrase(mission: Any, key_dir: Path) -> None:
    make_subject(mission, name="Jane")
    out = io.StringIO()
    typed = io.StringIO("DESTROY ALL DATA\n")
    call_command("emergency_destroy", "--reason", "evacuation", stdin=typed, stdout=out)
    assert "Destroyed" in out.getvalue() and not DataKey.objects.exists()
    assert not any(key_dir.iterdir())


def test_command_rehearses_then_destroys(mission: Any, key_dir: Path) -> None:
    subject = make_subject(mission, name="Jane")
    out = io.StringIO()
    call_command("emergency_destroy", "--reason", "drill", "--rehearse", stdout=out)
    assert "Rehearsal" in out.getvalue() and "ms" in out.getvalue()
    assert Subject.objects.get(pk=subject.pk).name == "Jane"
    out = io.StringIO()
    call_command("emergency_destroy", "--reason", "evacuation", "--yes", stdout=out)
    assert "Destroyed" in out.getvalue() and "data keys: 1" in out.getvalue()
    assert not any(key_dir.iterdir())


def test_benchmark_destruction_of_100000_data_keys(mission: Any, key_dir: Path) -> None:
    """Measured, not asserted: run with -s to read the figures."""
    ensure_keys()
    total = 100_000
    DataKey.objects.bulk_create(
        (DataKey(kek_version=1, wrapped=os.urandom(73)) for _ in range(total)), batch_size=5000
    )
    rehearsal = destroy_everything(confirmed_by=OPERATOR, reason="bench", rehearse=True)
    start = time.perf_counter()
    certificate = destroy_everything(confirmed_by=OPERATOR, reason="bench")
    wall = (time.perf_counter() - start) * 1000
    assert certificate.data_keys == total and not DataKey.objects.exists()
    print(
        f"\nemergency destruction, {total} data keys: {wall:.0f} ms wall, steps "
        f"{certificate.timings_ms}; rehearsal {rehearsal.duration_ms:.0f} ms {rehearsal.timings_ms}"
    )


def test_no_new_keys_are_made_after_destruction(mission: Any, key_dir: Path, settings: Any) -> None:
    from haven.crypto.errors import KeyConfigurationError
    from haven.crypto.keys import ensure_keys, reload_provider

    make_subject(mission, name="Jane")
    destroy_everything(confirmed_by=[(1, "a"), (2, "b")], reason="test")
    reload_provider()
    with pytest.raises(KeyConfigurationError, match="was destroyed"):
        ensure_keys()
    assert not list(key_dir.glob("kek-*.key"))
    assert oct(Path(settings.HAVEN_DESTRUCTION_CERTIFICATE).stat().st_mode & 0o777) == "0o600"
