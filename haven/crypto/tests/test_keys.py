"""Key providers: key files are created private, exposed or missing keys stop Haven."""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from haven.crypto.datakeys import new_data_key, unwrap_data_key
from haven.crypto.errors import KeyConfigurationError, UnknownKeyVersion
from haven.crypto.keys import ensure_keys, get_provider, key_problems, refuse_database_directory
from haven.crypto.models import DataKey


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_creates_private_key_files(db: Any, key_dir: Path) -> None:
    assert not key_dir.exists()
    provider = ensure_keys()
    assert provider.name == "file"
    assert provider.current_version() == 1
    assert _mode(key_dir) == 0o700
    for name in ("kek-0001.key", "blind-index.key"):
        assert _mode(key_dir / name) == 0o600
        assert len(base64.b64decode((key_dir / name).read_bytes().strip())) == 32
    # The blind-index key is a key of its own, not the KEK.
    assert (key_dir / "kek-0001.key").read_bytes() != (key_dir / "blind-index.key").read_bytes()


def test_keys_are_created_once_and_kept(db: Any, key_dir: Path) -> None:
    ensure_keys()
    first = (key_dir / "kek-0001.key").read_bytes()
    get_provider().forget()  # type: ignore[attr-defined]
    ensure_keys()
    assert (key_dir / "kek-0001.key").read_bytes() == first
    assert sorted(path.name for path in key_dir.iterdir()) == ["blind-index.key", "kek-0001.key"]


@pytest.mark.parametrize("name", ["kek-0001.key", "blind-index.key"])
def test_key_file_readable_by_others_is_refused(db: Any, key_dir: Path, name: str) -> None:
    ensure_keys()
    (key_dir / name).chmod(0o644)
    get_provider().forget()  # type: ignore[attr-defined]
    with pytest.raises(KeyConfigurationError) as refused:
        ensure_keys()
    message = str(refused.value)
    assert str(key_dir / name) in message
    assert f"chmod 600 {key_dir / name}" in message
    assert "0o644" in message


def test_group_writable_key_directory_is_refused(db: Any, key_dir: Path) -> None:
    ensure_keys()
    key_dir.chmod(0o770)
    get_provider().forget()  # type: ignore[attr-defined]
    with pytest.raises(KeyConfigurationError, match="chmod 700"):
        get_provider().kek(1)


def test_missing_kek_while_data_keys_exist_is_refused(db: Any, key_dir: Path) -> None:
    new_data_key()
    (key_dir / "kek-0001.key").unlink()
    get_provider().forget()  # type: ignore[attr-defined]
    with pytest.raises(KeyConfigurationError) as refused:
        ensure_keys()
    assert "kek-0001.key" in str(refused.value)
    assert "refuses to start" in str(refused.value)
    # Nothing was made up in its place.
    assert not (key_dir / "kek-0001.key").exists()
    assert key_problems()
    with pytest.raises(CommandError, match="Key files are missing"):
        call_command("keys_check")


def test_missing_blind_index_key_while_data_keys_exist_is_refused(db: Any, key_dir: Path) -> None:
    new_data_key()
    (key_dir / "blind-index.key").unlink()
    get_provider().forget()  # type: ignore[attr-defined]
    with pytest.raises(KeyConfigurationError, match=r"blind-index\.key"):
        get_provider().blind_index_key()
    assert not (key_dir / "blind-index.key").exists()


def test_malformed_key_file_is_refused_without_echoing_it(db: Any, key_dir: Path) -> None:
    ensure_keys()
    (key_dir / "kek-0001.key").write_text("c2VjcmV0LWJ1dC10b28tc2hvcnQ=\n")
    get_provider().forget()  # type: ignore[attr-defined]
    with pytest.raises(KeyConfigurationError) as refused:
        get_provider().kek(1)
    assert "not a Haven key" in str(refused.value)
    assert "c2VjcmV0" not in str(refused.value)


def test_data_wrapped_under_a_missing_version_is_reported(db: Any, key_dir: Path) -> None:
    data_key = new_data_key()
    DataKey.objects.filter(pk=data_key.pk).update(kek_version=7)
    data_key.refresh_from_db()
    with pytest.raises(UnknownKeyVersion, match=r"kek-0007\.key"):
        unwrap_data_key(data_key)
    assert any("kek-0007.key" in problem for problem in key_problems())


def test_keys_check_passes_on_sound_keys(db: Any, capsys: Any) -> None:
    new_data_key()
    call_command("keys_check")
    assert "current 1" in capsys.readouterr().out


def test_key_dir_may_not_be_the_database_directory(tmp_path: Path) -> None:
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "haven.sqlite3")}
    with pytest.raises(KeyConfigurationError, match="directory of their own"):
        refuse_database_directory(tmp_path, {"default": sqlite})
    refuse_database_directory(tmp_path / "keys", {"default": sqlite})


def _mounted_secrets(directory: Path, mode: int = 0o400) -> None:
    directory.mkdir(mode=0o700)
    for name in ("kek-0001.key", "kek-0002.key", "blind-index.key"):
        path = directory / name
        path.write_bytes(base64.b64encode(bytes([len(name)]) * 32) + b"\n")
        path.chmod(mode)


def test_mounted_secret_provider_reads_keys_and_uses_the_newest(
    db: Any, settings: Any, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    _mounted_secrets(secrets, mode=0o440)  # group-readable, as container platforms grant
    settings.HAVEN_KEY_PROVIDER = "env"
    settings.HAVEN_KEY_SECRETS_DIR = str(secrets)
    provider = ensure_keys()
    assert provider.name == "env"
    assert provider.versions() == (1, 2)
    assert provider.current_version() == 2
    data_key = new_data_key()
    assert data_key.kek_version == 2
    assert len(unwrap_data_key(DataKey.objects.get(pk=data_key.pk))) == 32


def test_mounted_secret_provider_never_creates_keys(db: Any, settings: Any, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    settings.HAVEN_KEY_PROVIDER = "env"
    settings.HAVEN_KEY_SECRETS_DIR = str(secrets)
    with pytest.raises(KeyConfigurationError, match="Mount the key secrets"):
        ensure_keys()
    assert list(secrets.iterdir()) == []


def test_mounted_secret_readable_by_everyone_is_refused(
    db: Any, settings: Any, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    _mounted_secrets(secrets, mode=0o444)
    settings.HAVEN_KEY_PROVIDER = "env"
    settings.HAVEN_KEY_SECRETS_DIR = str(secrets)
    with pytest.raises(KeyConfigurationError, match="chmod 600"):
        ensure_keys()


def test_system_check_reports_missing_keys_before_anything_runs(db: Any, key_dir: Path) -> None:
    from haven.crypto.checks import key_material

    new_data_key()
    assert key_material(databases=["default"]) == []
    (key_dir / "kek-0001.key").unlink()
    errors = key_material(databases=["default"])
    assert [error.id for error in errors] == ["haven_crypto.E010"]
    assert "kek-0001.key" in errors[0].msg
