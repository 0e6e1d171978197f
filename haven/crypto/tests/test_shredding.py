"""Crypto-shredding: the key goes, the rows go, and an older copy of the data stays unreadable."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from haven.audit.models import AuditEvent
from haven.crypto.errors import CryptoError, DecryptionError
from haven.crypto.models import DataKey
from haven.crypto.shredding import shred_subject
from haven.crypto.tests.conftest import make_subject
from tests.testapp.models import Subject, SubjectNote


def test_shredding_removes_the_key_and_every_row_under_it(mission: Any, officer: Any) -> None:
    subject = make_subject(mission, name="Jane")
    SubjectNote.objects.create(subject=subject, data_key=subject.data_key, body="met")
    other = make_subject(mission, name="John")
    counts = shred_subject(subject, actor=officer, reason="asked to be forgotten")
    assert counts == {"testapp.Subject": 1, "testapp.SubjectNote": 1}
    assert not DataKey.objects.filter(pk=subject.data_key_id).exists()
    assert not Subject.objects.filter(pk=subject.pk).exists()
    assert Subject.objects.get(pk=other.pk).name == "John"
    event = AuditEvent.objects.get(action="subject.shredded")
    assert event.reason == "asked to be forgotten"
    assert event.actor_id == officer.pk and event.mission_id == mission.pk
    assert event.fields == ["testapp.Subject", "testapp.SubjectNote"]


def test_shredding_needs_a_reason(mission: Any, officer: Any) -> None:
    subject = make_subject(mission, name="Jane")
    with pytest.raises(CryptoError, match="Say why"):
        shred_subject(subject, actor=officer, reason="  ")
    assert Subject.objects.filter(pk=subject.pk).exists()


def _key_store_bytes() -> bytes:
    connection = connections["keys"]
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        return b"".join(
            Path(name + suffix).read_bytes()
            for suffix in ("", "-wal", "-shm")
            if Path(name + suffix).exists()
        )
    import subprocess

    params = connection.get_connection_params()
    command = ["pg_dump", "--data-only", "-d", str(params["dbname"])]
    for flag, key in (("-h", "host"), ("-p", "port"), ("-U", "user")):
        if params.get(key):
            command += [flag, str(params[key])]
    return subprocess.run(command, capture_output=True, check=True).stdout


def test_no_trace_of_a_shredded_key_is_left_in_the_key_store(
    transactional_db: Any, mission: Any, officer: Any
) -> None:
    subject = make_subject(mission, name="Jane")
    wrapped = bytes(DataKey.objects.get(pk=subject.data_key_id).wrapped)
    dump = _key_store_bytes()
    found = wrapped in dump or wrapped.hex().encode() in dump
    assert found, "the scan must see the key before shredding"
    shred_subject(subject, actor=officer, reason="test")
    after = _key_store_bytes()
    assert wrapped not in after and wrapped.hex().encode() not in after


def test_an_old_copy_of_the_data_restored_after_shredding_cannot_be_read(
    transactional_db: Any, mission: Any, officer: Any, tmp_path: Path
) -> None:
    data = connections["default"]
    if data.vendor != "sqlite":
        pytest.skip("the file-level restore is shown on SQLite; the key store test covers both")
    shredded = make_subject(mission, name="Jane Defender")
    kept = make_subject(mission, name="John Defender")
    database = Path(str(data.settings_dict["NAME"]))
    with data.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backup = tmp_path / "backup.sqlite3"
    shutil.copyfile(database, backup)

    shred_subject(shredded, actor=officer, reason="asked to be forgotten")

    # The old copy comes back over the live data; the key store is the live one.
    data.close()
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, database)
    restored = Subject.objects.get(pk=shredded.pk)
    with pytest.raises(DecryptionError, match="shredded"):
        restored.name  # noqa: B018
    assert Subject.objects.get(pk=kept.pk).name == "John Defender"


def test_a_dependent_row_cannot_be_shredded_alone(mission: Any, officer: Any) -> None:
    subject = make_subject(mission, name="Jane")
    note = SubjectNote.objects.create(subject=subject, data_key=subject.data_key, body="met")
    with pytest.raises(CryptoError, match="whole record"):
        shred_subject(note, actor=officer, reason="tidy up")
    assert Subject.objects.get(pk=subject.pk).name == "Jane"
