"""KEK rotation: add a key-encryption key version, re-wrap every wrapped key under it, and
retire the versions nothing uses any more. ``manage.py keys_rotate`` is its front end.

Only the wrapping changes: data keys and intake private keys keep their value, so every
encrypted field and sealed payload keeps opening, during and after a rotation.

Invariants: a row is re-wrapped in the transaction that locks it, and written only if its
``kek_version`` is still the one it was unwrapped under (compare-and-set), so a second rotation,
a shredding or a new key made meanwhile is never overwritten, double-wrapped or lost. Each
batch commits on its own, so an interrupted rotation resumes where it stopped and a finished
one does nothing. A version is retired only once no row of either database uses it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connections, models, router, transaction
from django.utils.translation import gettext as _

from haven.crypto import keys
from haven.crypto.datakeys import _PURPOSE as DATA_KEY_PURPOSE
from haven.crypto.errors import CryptoError
from haven.crypto.identity import _PURPOSE as IDENTITY_PURPOSE
from haven.crypto.identity import identity_binding
from haven.crypto.keys import (
    DirectoryKeyProvider,
    get_provider,
    kek_file_name,
    key_problems,
    reload_provider,
)
from haven.crypto.models import DataKey, IntakeKey, MissionIdentity
from haven.crypto.sealing import _PURPOSE as INTAKE_PURPOSE
from haven.crypto.sealing import _binding as intake_binding
from haven.crypto.wrapping import unwrap_secret, wrap_secret

BATCH_SIZE = 500
# Rows named when a version cannot be retired; the count says how many more there are.
NAMED_ROWS = 5


class RotationError(CryptoError):
    """Rotation cannot go on; the message names the row or the file and what to do."""


@dataclass(frozen=True)
class _WrappedKind:
    """How to find, open and rewrite one table of wrapped keys."""

    model: type[models.Model]
    column: str
    purpose: str
    binding: Callable[[Any], bytes]
    name: Callable[[Any], str]

    @property
    def alias(self) -> str:
        return router.db_for_write(self.model) or "default"

    def rows(self) -> models.QuerySet[Any]:
        return self.model._default_manager.using(self.alias)


KINDS = (
    _WrappedKind(
        model=DataKey,
        column="wrapped",
        purpose=DATA_KEY_PURPOSE,
        binding=lambda row: row.id.bytes,
        name=lambda row: _("Data key %(id)s") % {"id": row.id},
    ),
    _WrappedKind(
        model=IntakeKey,
        column="wrapped_private_key",
        purpose=INTAKE_PURPOSE,
        binding=lambda row: intake_binding(row.id, row.mission_id, bytes(row.public_key)),
        name=lambda row: _("Intake key %(fingerprint)s") % {"fingerprint": row.fingerprint},
    ),
    _WrappedKind(
        model=MissionIdentity,
        column="wrapped_private_keys",
        purpose=IDENTITY_PURPOSE,
        binding=lambda row: identity_binding(
            row.id, row.mission_id, bytes(row.signing_public_key), bytes(row.box_public_key)
        ),
        name=lambda row: (
            _("Mission identity key %(fingerprint)s") % {"fingerprint": row.fingerprint}
        ),
    ),
)


@dataclass
class RewrapResult:
    version: int
    rewrapped: int = 0
    # Rows another process re-wrapped or shredded between our read and our write.
    skipped: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Rows re-wrapped per second."""
        return self.rewrapped / self.seconds if self.seconds > 0 else 0.0


@dataclass
class RetireResult:
    current: int
    retired: list[int] = field(default_factory=list)
    # Versions no row uses, that the deployment may unmount (mounted secrets: Haven never
    # deletes there).
    unmountable: list[int] = field(default_factory=list)
    # Version -> the rows that still use it.
    in_use: dict[int, list[str]] = field(default_factory=dict)
    # Set when retiring must wait for running processes to see the current version.
    wait_seconds: float = 0.0


def check_keys() -> None:
    """Refuse to rotate while a key file is missing, exposed or malformed."""
    problems = key_problems()
    if problems:
        raise RotationError("\n".join([_("Fix the key material first:"), *problems]))


def creates_versions() -> bool:
    """Whether Haven creates KEK versions itself (file provider) or the deployment mounts them."""
    provider = get_provider()
    return isinstance(provider, DirectoryKeyProvider) and provider.creates_keys


def current_version() -> int:
    return reload_provider().current_version()


def create_kek_version() -> int:
    """Create the next KEK version (file provider) and make it the one new keys use."""
    provider = get_provider()
    if not isinstance(provider, DirectoryKeyProvider) or not provider.creates_keys:
        raise RotationError(
            _(
                "The %(provider)s key provider reads mounted secrets and Haven never writes "
                "there. Mount %(file)s, then re-wrap with keys_rotate --no-new-version."
            )
            % {"provider": provider.name, "file": kek_file_name(provider.current_version() + 1)}
        )
    version = provider.add_version()
    reload_provider()
    return version


def rows_to_rewrap(version: int) -> int:
    """How many wrapped keys, in both databases, are under a version older than ``version``."""
    return sum(kind.rows().filter(kek_version__lt=version).count() for kind in KINDS)


def rewrap_to(
    version: int,
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> RewrapResult:
    """Re-wrap every data key and intake key older than ``version`` under the current KEK.

    One transaction per batch, on the database that holds the rows; ``on_batch`` is called
    with the number of rows of each batch once it has committed. Raises ``RotationError``,
    naming the row, if a wrapped key does not open; the failing batch is rolled back and every
    row stays readable under the version it had.
    """
    if batch_size < 1:
        raise RotationError(_("The batch size must be at least 1."))
    result = RewrapResult(version=version)
    started = time.perf_counter()
    for kind in KINDS:
        for rewrapped, skipped in _batches(kind, version, batch_size):
            result.rewrapped += rewrapped
            result.skipped += skipped
            if on_batch is not None:
                on_batch(rewrapped + skipped)
    result.seconds = time.perf_counter() - started
    return result


def _batches(kind: _WrappedKind, version: int, batch_size: int) -> Iterator[tuple[int, int]]:
    while True:
        rewrapped = skipped = 0
        with transaction.atomic(using=kind.alias):
            batch = list(
                kind.rows()
                .select_for_update()
                .filter(kek_version__lt=version)
                .order_by("pk")[:batch_size]
            )
            for row in batch:
                if _rewrap_row(kind, row, version):
                    rewrapped += 1
                else:
                    skipped += 1
        if not batch:
            return
        yield rewrapped, skipped


def _rewrap_row(kind: _WrappedKind, row: Any, version: int) -> bool:
    binding = kind.binding(row)
    what = kind.name(row)
    try:
        secret = unwrap_secret(
            getattr(row, kind.column),
            version=row.kek_version,
            purpose=kind.purpose,
            binding=binding,
            what=what,
        )
    except CryptoError as error:
        raise RotationError(
            _(
                "Rotation stopped at %(what)s: %(error)s No row of this batch was changed; rows "
                "of earlier batches are re-wrapped. Restore that row or its key file from "
                "the backups, then run keys_rotate --no-new-version again."
            )
            % {"what": what, "error": error}
        ) from None
    new_version, wrapped = wrap_secret(secret, purpose=kind.purpose, binding=binding)
    if new_version < version:
        raise RotationError(
            _(
                "Key-encryption key version %(version)s is not the current one in this "
                "process (%(current)s). Check that %(file)s is in the key directory."
            )
            % {"version": version, "current": new_version, "file": kek_file_name(version)}
        )
    updated = (
        kind.rows()
        .filter(pk=row.pk, kek_version=row.kek_version)
        .update(kek_version=new_version, **{kind.column: wrapped})
    )
    return updated == 1


def rows_using(version: int) -> list[str]:
    """Names of (some of) the rows wrapped under ``version``, and how many more there are."""
    named: list[str] = []
    more = 0
    for kind in KINDS:
        rows = kind.rows().filter(kek_version=version).order_by("pk")
        named.extend(kind.name(row) for row in rows[:NAMED_ROWS])
        more += max(rows.count() - NAMED_ROWS, 0)
    if more:
        named.append(_("and %(count)s more") % {"count": more})
    return named


# A process may have wrapped a key under the old version just before it noticed the new one
# (VERSION_RECHECK_SECONDS), and its insert may then wait for the database (SQLite's busy
# timeout is 10 s). Retiring waits out both, with a margin.
RETIRE_AFTER_SECONDS = keys.VERSION_RECHECK_SECONDS + 10.0 + 5.0


def retire_old_versions(*, now: float | None = None) -> RetireResult:
    """Retire every KEK version older than the current one that no row uses any more.

    File provider: the key file is overwritten, then removed. Mounted secrets: the versions
    are reported for the operator to unmount. A version still in use is kept and its rows
    are named. Nothing is retired until running processes have had the time to start using
    the current version (``VERSION_RECHECK_SECONDS``).
    """
    provider = reload_provider()
    current = provider.current_version()
    result = RetireResult(current=current)
    old = [version for version in provider.versions() if version < current]
    for version in old:
        users = rows_using(version)
        if users:
            result.in_use[version] = users
    free = [version for version in old if version not in result.in_use]
    if not free:
        return result
    if not creates_versions():
        result.unmountable = free
        return result
    assert isinstance(provider, DirectoryKeyProvider)
    current_file = provider.directory / kek_file_name(current)
    age = (time.time() if now is None else now) - current_file.stat().st_mtime
    if age < RETIRE_AFTER_SECONDS:
        result.wait_seconds = RETIRE_AFTER_SECONDS - age
        return result
    alias = router.db_for_write(DataKey)
    with transaction.atomic(using=alias):
        # No new key may be written while the last check and the deletion happen.
        if connections[alias].vendor == "postgresql":
            with connections[alias].cursor() as cursor:
                cursor.execute(f"LOCK TABLE {DataKey._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        for version in free:
            users = rows_using(version)
            if users:
                result.in_use[version] = users
                continue
            _destroy_key_file(provider.directory / kek_file_name(version))
            result.retired.append(version)
    reload_provider()
    return result


def _destroy_key_file(path: Path) -> None:
    """Overwrite a key file with random bytes, flush it, then remove it.

    On copy-on-write or flash storage the old blocks may survive the overwrite; the key backups
    must be destroyed as well (docs/keys.md).
    """
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.write(os.urandom(size))
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
