"""KEK rotation: every wrapped key moves to the new version, nothing stops opening, and an old
version goes only once nothing uses it."""

from __future__ import annotations

import base64
import os
import shutil
import stat
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from haven.crypto import keys, rotation
from haven.crypto.datakeys import new_data_key
from haven.crypto.errors import UnknownKeyVersion
from haven.crypto.keys import get_provider
from haven.crypto.models import DataKey, IntakeKey
from haven.crypto.sealing import create_intake_key, open_sealed, seal
from haven.crypto.tests.conftest import make_subject
from tests.testapp.models import Subject


class Stop(Exception):
    """Stands in for a crash or Ctrl-C between two batches."""


def _rotate(*args: str) -> str:
    out = StringIO()
    call_command("keys_rotate", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _seed(mission: Any, count: int) -> tuple[list[Subject], list[tuple[IntakeKey, bytes]]]:
    subjects = [
        make_subject(mission, name=f"Defender {n}", phone=f"+254 700 {n:06d}", profile={"n": n})
        for n in range(count)
    ]
    intake_key = create_intake_key(mission)
    sealed = seal(bytes(intake_key.public_key), b"please help", context=b"submission-1")
    return subjects, [(intake_key, sealed)]


def _assert_everything_opens(mission: Any, subjects: list[Subject], sealed: list[Any]) -> None:
    for subject in subjects:
        fresh = Subject.objects.get(pk=subject.pk)  # no cached key: unwraps from the store
        assert fresh.name == subject.name
        assert fresh.profile == subject.profile
    for _intake_key, payload in sealed:
        assert open_sealed(mission, payload, context=b"submission-1") == b"please help"


def _versions() -> set[int]:
    return set(DataKey.objects.values_list("kek_version", flat=True)) | set(
        IntakeKey.objects.values_list("kek_version", flat=True)
    )


def test_rotation_rewraps_every_key_and_everything_still_opens(mission: Any, key_dir: Path) -> None:
    subjects, sealed = _seed(mission, 5)
    before = {key.pk: bytes(key.wrapped) for key in DataKey.objects.all()}
    output = _rotate("--batch-size", "2")
    new_file = key_dir / "kek-0002.key"
    assert stat.S_IMODE(new_file.stat().st_mode) == 0o600
    assert "Created key-encryption key version 2" in output
    assert "Re-wrapped 7 keys under version 2" in output and "keys/s" in output
    assert _versions() == {2}
    assert all(bytes(key.wrapped) != before[key.pk] for key in DataKey.objects.all())
    _assert_everything_opens(mission, subjects, sealed)
    # New keys go under the new version.
    assert new_data_key().kek_version == 2
    assert create_intake_key(mission).kek_version == 2


def test_interrupted_rotation_resumes_and_a_second_run_does_nothing(
    mission: Any, key_dir: Path
) -> None:
    subjects, sealed = _seed(mission, 5)
    version = rotation.create_kek_version()

    def crash(rows: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        rotation.rewrap_to(version, batch_size=2, on_batch=crash)
    # The first batch is committed; the rest is still under version 1 and still opens.
    assert DataKey.objects.filter(kek_version=2).count() == 2
    assert rotation.rows_to_rewrap(version) == 5
    _assert_everything_opens(mission, subjects, sealed)

    output = _rotate("--no-new-version", "--batch-size", "2")
    assert "Re-wrapped 5 keys under version 2" in output
    assert _versions() == {2}
    assert not (key_dir / "kek-0003.key").exists()
    wrapped = {key.pk: bytes(key.wrapped) for key in DataKey.objects.all()}

    assert "already wrapped under version 2" in _rotate("--no-new-version")
    assert {key.pk: bytes(key.wrapped) for key in DataKey.objects.all()} == wrapped
    _assert_everything_opens(mission, subjects, sealed)


def test_retiring_refuses_a_version_in_use_and_destroys_it_once_unused(
    mission: Any, key_dir: Path, monkeypatch: Any
) -> None:
    subjects, sealed = _seed(mission, 3)
    version = rotation.create_kek_version()
    old_file = key_dir / "kek-0001.key"

    def crash(rows: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        rotation.rewrap_to(version, batch_size=2, on_batch=crash)
    result = rotation.retire_old_versions()
    assert result.retired == []
    still_old = DataKey.objects.filter(kek_version=1).order_by("pk").first()
    assert still_old is not None
    assert f"Data key {still_old.pk}" in result.in_use[1]
    assert old_file.exists()

    rotation.rewrap_to(version)
    # Unused now, but too soon: a running process may not have seen version 2 yet.
    assert rotation.retire_old_versions().wait_seconds > 0
    assert old_file.exists()

    monkeypatch.setattr(keys, "VERSION_RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(rotation, "RETIRE_AFTER_SECONDS", 0.0)
    output = _rotate("--no-new-version", "--retire")
    assert "Retired key-encryption key version 1" in output
    assert not old_file.exists()
    assert (key_dir / "kek-0002.key").exists()
    assert _versions() == {2}
    with pytest.raises(UnknownKeyVersion):
        get_provider().kek(1)
    _assert_everything_opens(mission, subjects, sealed)
    assert "No old key-encryption key version to retire" in _rotate("--no-new-version", "--retire")


def test_keys_made_while_rotation_runs_end_up_readable_on_a_valid_version(
    mission: Any, key_dir: Path
) -> None:
    subjects, sealed = _seed(mission, 6)
    version = rotation.create_kek_version()
    made: list[Subject] = []

    def write_between_batches(rows: int) -> None:
        # What the workspace does meanwhile: new subjects, a new intake key, and a read.
        made.append(make_subject(mission, name=f"Newcomer {len(made)}"))
        key = create_intake_key(mission)
        sealed.append((key, seal(bytes(key.public_key), b"please help", context=b"submission-1")))
        _assert_everything_opens(mission, subjects[:1], [])

    result = rotation.rewrap_to(version, batch_size=2, on_batch=write_between_batches)
    assert result.rewrapped == 8
    assert made
    assert _versions() == {2}
    _assert_everything_opens(mission, subjects + made, sealed)


def test_tampered_wrapped_key_stops_rotation_naming_the_row(mission: Any, key_dir: Path) -> None:
    subjects, sealed = _seed(mission, 4)
    keys_in_order = list(DataKey.objects.order_by("pk"))
    tampered = keys_in_order[2]
    blob = bytearray(tampered.wrapped)
    blob[-1] ^= 0x01
    DataKey.objects.filter(pk=tampered.pk).update(wrapped=bytes(blob))

    with pytest.raises(CommandError, match=str(tampered.pk)) as raised:
        _rotate("--batch-size", "1", "--retire")
    assert "Rotation stopped at Data key" in str(raised.value)
    # The rows before it moved, the rest stayed where they were; none is damaged.
    assert {key.pk: key.kek_version for key in DataKey.objects.all()} == {
        keys_in_order[0].pk: 2,
        keys_in_order[1].pk: 2,
        keys_in_order[2].pk: 1,
        keys_in_order[3].pk: 1,
    }
    assert (key_dir / "kek-0001.key").exists()
    intact = [subject for subject in subjects if subject.data_key_id != tampered.pk]
    _assert_everything_opens(mission, intact, sealed)
    assert f"Data key {tampered.pk}" in rotation.retire_old_versions().in_use[1]


def test_mounted_secrets_are_never_written_and_rotation_uses_the_mounted_version(
    mission: Any, key_dir: Path, settings: Any, tmp_path: Path
) -> None:
    subjects, sealed = _seed(mission, 3)
    mounted = tmp_path / "secrets"
    shutil.copytree(key_dir, mounted)
    settings.HAVEN_KEY_PROVIDER = "env"
    settings.HAVEN_KEY_SECRETS_DIR = str(mounted)

    output = _rotate()
    assert "mount it beside the others" in output and "kek-0002.key" in output
    assert "already wrapped under version 1" in output
    assert sorted(path.name for path in mounted.iterdir()) == ["blind-index.key", "kek-0001.key"]

    # The operator mounts version 2, then re-wraps to it.
    new_secret = mounted / "kek-0002.key"
    new_secret.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    new_secret.chmod(0o440)
    output = _rotate("--no-new-version", "--retire")
    assert "Re-wrapped 5 keys under version 2" in output
    assert "unmount them" in output and "kek-0001.key" in output
    assert (mounted / "kek-0001.key").exists()
    assert _versions() == {2}
    _assert_everything_opens(mission, subjects, sealed)
