"""Key providers: where the key-encryption keys (KEKs) and the blind-index key come from.

Two providers read the same layout, a directory of small text files, one key each (base64 of
32 random bytes): ``kek-0001.key``, ``kek-0002.key``, … (the KEK versions) and
``blind-index.key``. The highest KEK version is the current one.

* ``file`` (embedded mode): ``settings.HAVEN_KEY_DIR``. Missing keys are created at first use,
  mode 0600 in a 0700 directory, but only while no wrapped key exists in the database.
* ``env`` (production): ``settings.HAVEN_KEY_SECRETS_DIR``, a secrets directory the deployment
  mounts (Kubernetes/Docker secret, systemd credential). Haven never writes there.

Invariants: a key file that other users can read is refused, naming the file and the fix;
Haven never makes up a new KEK while wrapped keys exist (that would orphan every record); key
bytes never appear in a message. docs/keys.md is the operator's guide.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import stat
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext as _

from haven.crypto import aead
from haven.crypto.errors import KeyConfigurationError, UnknownKeyVersion

KEK_FILE = re.compile(r"^kek-(\d{4,})\.key$")
BLIND_INDEX_FILE = "blind-index.key"
KEY_BYTES = aead.KEY_BYTES
# How long a process trusts its list of KEK versions before looking at the directory again, so
# a long-running worker starts wrapping under a version added by ``keys_rotate`` (or mounted by
# the deployment) without a restart. ``keys_rotate --retire`` waits at least this long after a
# new version appears before it deletes an old one.
VERSION_RECHECK_SECONDS = 10.0


def kek_file_name(version: int) -> str:
    return f"kek-{version:04d}.key"


class KeyProvider(ABC):
    """What the rest of the crypto app asks of a key source."""

    name: str

    @abstractmethod
    def versions(self) -> tuple[int, ...]:
        """The KEK versions this process can use, oldest first."""

    @abstractmethod
    def current_version(self) -> int:
        """The KEK version new keys are wrapped under."""

    @abstractmethod
    def kek(self, version: int) -> bytes:
        """The KEK of ``version``; ``UnknownKeyVersion`` if this process does not hold it."""

    @abstractmethod
    def blind_index_key(self) -> bytes:
        """The key of the blind indexes, separate from every KEK."""

    @abstractmethod
    def problems(self) -> list[str]:
        """Everything wrong with the key material, without creating anything."""


class DirectoryKeyProvider(KeyProvider):
    """Keys as files in one directory. Subclasses decide whether missing keys may be created."""

    creates_keys = False
    # Permission bits a key file may not have (group and others: anything).
    forbidden_file_bits = stat.S_IRWXG | stat.S_IRWXO

    def __init__(self, directory: Path, *, wrapped_keys_exist: Callable[[], bool]) -> None:
        self.directory = directory
        self._wrapped_keys_exist = wrapped_keys_exist
        self._keks: dict[int, bytes] = {}
        self._blind: bytes | None = None
        self._versions: tuple[int, ...] = ()
        self._versions_read_at = 0.0
        self._lock = threading.Lock()

    # -- the interface

    def versions(self) -> tuple[int, ...]:
        now = time.monotonic()
        with self._lock:
            if self._versions and now - self._versions_read_at < VERSION_RECHECK_SECONDS:
                return self._versions
        self._ensure()
        versions = tuple(sorted(self._scan()))
        with self._lock:
            self._versions = versions
            self._versions_read_at = now
        return versions

    def current_version(self) -> int:
        return self.versions()[-1]

    def kek(self, version: int) -> bytes:
        with self._lock:
            cached = self._keks.get(version)
            if cached is not None:
                return cached
        self._ensure()
        path = self._scan().get(version)
        if path is None:
            raise UnknownKeyVersion(
                _(
                    "Key-encryption key version %(version)s is not in %(dir)s. Restore "
                    "%(file)s from the key backup; Haven cannot open data wrapped under it."
                )
                % {"version": version, "dir": self.directory, "file": kek_file_name(version)}
            )
        key = self._read(path)
        with self._lock:
            self._keks[version] = key
        return key

    def blind_index_key(self) -> bytes:
        with self._lock:
            if self._blind is not None:
                return self._blind
        self._ensure()
        key = self._read(self.directory / BLIND_INDEX_FILE)
        with self._lock:
            self._blind = key
        return key

    def problems(self) -> list[str]:
        found: list[str] = []
        if not self.directory.is_dir():
            if self._wrapped_keys_exist() or not self.creates_keys:
                found.append(_("The key directory %(dir)s does not exist.") % self._names())
            return found
        try:
            self._check_directory()
        except KeyConfigurationError as error:
            found.append(str(error))
        keks = self._scan()
        has_blind = (self.directory / BLIND_INDEX_FILE).exists()
        if (not keks or not has_blind) and (self._wrapped_keys_exist() or not self.creates_keys):
            found.append(self._missing_message(keks, has_blind))
        paths = list(keks.values()) + ([self.directory / BLIND_INDEX_FILE] if has_blind else [])
        for path in paths:
            try:
                self._read(path)
            except KeyConfigurationError as error:
                found.append(str(error))
        return found

    def forget(self) -> None:
        """Drop every key held in memory (after rotation, or when settings change in tests)."""
        with self._lock:
            self._keks.clear()
            self._blind = None
            self._versions = ()

    def add_version(self) -> int:
        """Create the next KEK version (``kek-NNNN.key``, 0600) and make it the current one.

        Only a provider that creates keys may; a mounted secrets directory is never written.
        """
        if not self.creates_keys:
            raise KeyConfigurationError(
                _("Haven never writes to %(dir)s: mount the new key version there.") % self._names()
            )
        self._ensure()
        with self._lock:
            version = max(self._scan()) + 1
            _create_key_file(self.directory / kek_file_name(version))
        self.forget()
        return version

    # -- files

    def _names(self) -> dict[str, Any]:
        return {"dir": self.directory}

    def _scan(self) -> dict[int, Path]:
        if not self.directory.is_dir():
            return {}
        found: dict[int, Path] = {}
        for entry in self.directory.iterdir():
            match = KEK_FILE.match(entry.name)
            if match and int(match.group(1)) > 0:
                found[int(match.group(1))] = entry
        return found

    def _ensure(self) -> None:
        """Check the directory and make sure a KEK and the blind-index key exist."""
        keks = self._scan()
        has_blind = (self.directory / BLIND_INDEX_FILE).exists()
        if keks and has_blind:
            self._check_directory()
            return
        with self._lock:
            keks = self._scan()
            has_blind = (self.directory / BLIND_INDEX_FILE).exists()
            if keks and has_blind:
                return
            if not self.creates_keys or self._wrapped_keys_exist():
                raise KeyConfigurationError(self._missing_message(keks, has_blind))
            if Path(settings.HAVEN_DESTRUCTION_CERTIFICATE).exists():
                # After an emergency destruction, no new key is made behind anyone's back.
                raise KeyConfigurationError(
                    _(
                        "The data on this server was destroyed (%(path)s). Haven makes no new"
                        " keys here; set up a new server, or remove the certificate to start"
                        " again from nothing."
                    )
                    % {"path": settings.HAVEN_DESTRUCTION_CERTIFICATE}
                )
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._check_directory()
            if not keks:
                _create_key_file(self.directory / kek_file_name(1))
            if not has_blind:
                _create_key_file(self.directory / BLIND_INDEX_FILE)

    def _missing_message(self, keks: dict[int, Path], has_blind: bool) -> str:
        missing = [] if keks else ["kek-0001.key (or another kek-NNNN.key)"]
        if not has_blind:
            missing.append(BLIND_INDEX_FILE)
        if self._wrapped_keys_exist():
            return _(
                "Key files are missing from %(dir)s: %(files)s, while the database holds data "
                "wrapped under them. Haven refuses to start rather than create new keys that "
                "could not open that data. Restore the key files from the key backup "
                "(docs/keys.md)."
            ) % {"dir": self.directory, "files": ", ".join(missing)}
        return _(
            "Key files are missing from %(dir)s: %(files)s. Mount the key secrets there "
            "(docs/keys.md)."
        ) % {"dir": self.directory, "files": ", ".join(missing)}

    def _check_directory(self) -> None:
        mode = self.directory.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise KeyConfigurationError(
                _(
                    "The key directory %(dir)s can be written by other users (mode %(mode)s), "
                    "so someone could replace a key. Run: chmod 700 %(dir)s"
                )
                % {"dir": self.directory, "mode": oct(stat.S_IMODE(mode))}
            )

    def _read(self, path: Path) -> bytes:
        try:
            info = path.stat()
        except FileNotFoundError:
            raise KeyConfigurationError(
                _("The key file %(path)s is missing. Restore it from the key backup.")
                % {"path": path}
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise KeyConfigurationError(
                _("The key file %(path)s is not a regular file.") % {"path": path}
            )
        if info.st_mode & self.forbidden_file_bits:
            raise KeyConfigurationError(
                _(
                    "The key file %(path)s can be read or changed by other users (mode "
                    "%(mode)s). Haven refuses to use it. Restrict it to its owner: "
                    "chmod 600 %(path)s"
                )
                % {"path": path, "mode": oct(stat.S_IMODE(info.st_mode))}
            )
        try:
            key = base64.b64decode(path.read_bytes().strip(), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise KeyConfigurationError(
                _(
                    "The key file %(path)s is not a Haven key (expected %(bytes)s bytes in "
                    "base64 on one line). Restore it from the key backup."
                )
                % {"path": path, "bytes": KEY_BYTES}
            )
        return key


class FileKeyProvider(DirectoryKeyProvider):
    """Embedded mode: key files in ``HAVEN_KEY_DIR``, created 0600 at first use."""

    name = "file"
    creates_keys = True


class MountedSecretKeyProvider(DirectoryKeyProvider):
    """Production: key secrets mounted by the deployment in ``HAVEN_KEY_SECRETS_DIR``.

    Haven never writes there. A group may read the files (container platforms grant access
    through a group); others may not, and nobody but the owner may write.
    """

    name = "env"
    creates_keys = False
    forbidden_file_bits = stat.S_IWGRP | stat.S_IRWXO | stat.S_IXGRP


def _create_key_file(path: Path) -> None:
    """Write a new random key atomically: never a half-written file, never over another key."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".new-key-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(aead.random_key()) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        # If another process created it first, its key stands.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def wrapped_keys_exist() -> bool:
    """Whether the database holds anything wrapped under a KEK (data keys, intake keys)."""
    from django.db import connections, router

    from haven.crypto.models import DataKey, IntakeKey

    for model in (DataKey, IntakeKey):
        alias = router.db_for_read(model) or "default"
        if model._meta.db_table in connections[alias].introspection.table_names() and (
            model._default_manager.using(alias).exists()
        ):
            return True
    return False


_provider: KeyProvider | None = None
_provider_lock = threading.Lock()


def _build_provider() -> KeyProvider:
    if settings.HAVEN_KEY_PROVIDER == "env":
        secrets_dir = str(settings.HAVEN_KEY_SECRETS_DIR)
        if not secrets_dir:
            raise KeyConfigurationError(
                _("HAVEN_KEY_PROVIDER=env needs HAVEN_KEY_SECRETS_DIR (docs/keys.md).")
            )
        return MountedSecretKeyProvider(Path(secrets_dir), wrapped_keys_exist=wrapped_keys_exist)
    directory = Path(settings.HAVEN_KEY_DIR).resolve()
    refuse_database_directory(directory, settings.DATABASES)
    return FileKeyProvider(directory, wrapped_keys_exist=wrapped_keys_exist)


def refuse_database_directory(directory: Path, databases: dict[str, dict[str, Any]]) -> None:
    """Keys may not live in the SQLite database's own directory: one copy would carry both."""
    for database in databases.values():
        name = str(database.get("NAME", ""))
        if not database["ENGINE"].endswith("sqlite3") or name.startswith((":memory:", "file:")):
            continue
        if Path(name).resolve().parent == directory:
            raise KeyConfigurationError(
                _(
                    "HAVEN_KEY_DIR (%(dir)s) is the database's own directory; a copy of one "
                    "would carry the other. Keep the keys in a directory of their own."
                )
                % {"dir": directory}
            )


def get_provider() -> KeyProvider:
    """The process's key provider, chosen by ``HAVEN_KEY_PROVIDER``."""
    global _provider
    with _provider_lock:
        if _provider is None:
            _provider = _build_provider()
        return _provider


def reload_provider() -> KeyProvider:
    """Forget the keys and version list the process holds, so the next use reads the key
    directory again (after ``keys_rotate`` adds or retires a version)."""
    provider = get_provider()
    if isinstance(provider, DirectoryKeyProvider):
        provider.forget()
    return provider


def ensure_keys() -> KeyProvider:
    """Load (in embedded mode, create at first start) every key now, so a problem stops
    start-up with a clear message rather than the first request that needs a key."""
    provider = get_provider()
    provider.kek(provider.current_version())
    provider.blind_index_key()
    return provider


def key_problems() -> list[str]:
    """Everything that would stop Haven opening its data, for ``keys_check`` and the checks."""
    from haven.crypto.models import DataKey, IntakeKey

    try:
        provider = get_provider()
    except KeyConfigurationError as error:
        return [str(error)]
    found = provider.problems()
    if found or not wrapped_keys_exist():
        return found
    held = set(provider.versions())
    used: set[int] = set()
    for model in (DataKey, IntakeKey):
        used.update(model._default_manager.values_list("kek_version", flat=True).distinct())
    found.extend(
        _(
            "Data is wrapped under key-encryption key version %(version)s, but %(file)s is not "
            "available. Restore it from the key backup."
        )
        % {"version": version, "file": kek_file_name(version)}
        for version in sorted(used - held)
    )
    return found


@receiver(setting_changed)
def _forget_provider(*, setting: str, **kwargs: Any) -> None:
    global _provider
    if setting in {"HAVEN_KEY_PROVIDER", "HAVEN_KEY_DIR", "HAVEN_KEY_SECRETS_DIR", "DATABASES"}:
        with _provider_lock:
            _provider = None
