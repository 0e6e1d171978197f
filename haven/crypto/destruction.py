"""Emergency destruction: make every encrypted record unreadable within seconds, and say so.

Invariant: the key-encryption keys go first. Once the KEK files are overwritten and unlinked
(a few small files, whatever the data size) no wrapped key can be opened again; removing the
wrapped data keys and intake keys afterwards is defence in depth, so a copy of the key files
made earlier still finds nothing to open in the live key store. Nothing here decrypts
anything. A rehearsal works on copies and destroys nothing real.

The operator's procedure is docs/emergency.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.utils.translation import gettext as _

from haven.crypto import cache
from haven.crypto.errors import CryptoError
from haven.crypto.keys import BLIND_INDEX_FILE, KEK_FILE, get_provider
from haven.crypto.models import DataKey, IntakeKey
from haven.crypto.shredding import flush_key_store
from haven.crypto.signals import everything_destroyed

logger = logging.getLogger(__name__)

Confirmer = tuple[int | None, str]
_FETCH = 10_000


class DestructionError(CryptoError):
    """Emergency destruction was refused or could not finish; ``str()`` says what to do."""


@dataclass
class Certificate:
    """What a destruction (or a rehearsal) did: written as JSON, shown on the 410 page."""

    destroyed_at: str
    confirmed_by: list[dict[str, Any]]
    reason: str
    rehearsal: bool
    key_provider: str
    data_keys: int
    intake_keys: int
    key_files: int
    duration_ms: float
    timings_ms: dict[str, float]
    state_hash: str
    # Mounted secrets (env provider) that Haven cannot delete: the operator must.
    operator_must_destroy: list[str] = field(default_factory=list)
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def certificate_path() -> Path:
    return Path(settings.HAVEN_DESTRUCTION_CERTIFICATE)


def read_certificate() -> dict[str, Any] | None:
    """The certificate of a past destruction, or None if Haven's data was never destroyed.

    A certificate that exists but cannot be read still means "destroyed": an empty dict.
    """
    path = certificate_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def destroy_everything(
    *, confirmed_by: Sequence[Confirmer], reason: str, rehearse: bool = False
) -> Certificate:
    """Destroy every KEK, the blind-index key, every data key and every intake key.

    ``confirmed_by`` lists who authorised it as (user id, username); the operator at the
    console has no user id. With ``rehearse`` the same steps run on copies in a temporary
    directory and nothing real is touched. Returns the certificate (also written to
    ``HAVEN_DESTRUCTION_CERTIFICATE`` unless rehearsing) and announces ``everything_destroyed``.
    """
    if not reason.strip():
        raise DestructionError(_("Say why the data is being destroyed."))
    if not confirmed_by:
        raise DestructionError(_("Emergency destruction needs the names of who confirmed it."))
    started_at = datetime.now(UTC)
    start = time.perf_counter()
    timings: dict[str, float] = {}
    state = hashlib.sha256(b"haven.destruction.v1\0")
    provider_name = str(settings.HAVEN_KEY_PROVIDER)

    with _workspace(rehearse) as scratch:
        # 1. The KEKs and the blind-index key: from here on nothing wrapped can be opened.
        tick = time.perf_counter()
        destroyed_files, operator_files = _destroy_key_files(scratch)
        _forget_keys_in_memory(rehearse)
        timings["key_files"] = _ms(tick)
        for name in sorted(destroyed_files):
            state.update(b"file\0" + name.encode() + b"\0")

        # 2. Every wrapped data key, in the key store.
        tick = time.perf_counter()
        data_keys, data_digest = _wipe_key_store(scratch, timings)
        timings["data_keys"] = round(_ms(tick) - timings.get("copy_for_rehearsal", 0.0), 3)

        # 3. Every intake private key (wrapped), in the main database.
        tick = time.perf_counter()
        intake_keys, intake_digest = _wipe_intake_keys(rehearse)
        timings["intake_keys"] = _ms(tick)

    state.update(data_digest + intake_digest)
    state.update(f"{data_keys}\0{intake_keys}\0{len(destroyed_files)}".encode())
    certificate = Certificate(
        destroyed_at=started_at.isoformat(timespec="seconds"),
        confirmed_by=[{"id": user_id, "username": name} for user_id, name in confirmed_by],
        reason=reason.strip(),
        rehearsal=rehearse,
        key_provider=provider_name,
        data_keys=data_keys,
        intake_keys=intake_keys,
        key_files=len(destroyed_files),
        # A rehearsal's copying is reported apart: the real thing does not copy.
        duration_ms=round(_ms(start) - timings.get("copy_for_rehearsal", 0.0), 3),
        timings_ms=timings,
        state_hash=state.hexdigest(),
        operator_must_destroy=operator_files,
    )
    if not rehearse:
        certificate.path = str(_write_certificate(certificate))
    _announce(certificate, confirmed_by=confirmed_by, reason=reason)
    return certificate


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)


@contextlib.contextmanager
def _workspace(rehearse: bool) -> Iterator[Path | None]:
    """For a rehearsal, a private temporary directory for the copies, removed afterwards."""
    if not rehearse:
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="haven-rehearsal-"))  # mode 0700
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# -- key files ------------------------------------------------------------------------------


def _is_key_file(name: str) -> bool:
    return bool(KEK_FILE.match(name)) or name == BLIND_INDEX_FILE or name.startswith(".new-key-")


def _destroy_key_files(scratch: Path | None) -> tuple[list[str], list[str]]:
    """Overwrite and unlink every key file; returns (files destroyed, secrets left to the operator).

    The mounted secrets of the ``env`` provider belong to the deployment: Haven cannot and
    must not delete them, so it names them for the operator.
    """
    if settings.HAVEN_KEY_PROVIDER == "env":
        secrets_dir = Path(str(settings.HAVEN_KEY_SECRETS_DIR))
        names = sorted(p.name for p in _key_files(secrets_dir))
        return [], names
    directory = Path(settings.HAVEN_KEY_DIR)
    files = _key_files(directory)
    if scratch is not None:
        copies = scratch / "keys"
        copies.mkdir(mode=0o700)
        files = [Path(shutil.copy2(path, copies / path.name)) for path in files]
    for path in files:
        _overwrite_and_unlink(path)
    if files:
        _fsync_directory(files[0].parent)
    return [path.name for path in files], []


def _key_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        entry
        for entry in directory.iterdir()
        if _is_key_file(entry.name) and stat.S_ISREG(entry.lstat().st_mode)
    )


def _overwrite_and_unlink(path: Path) -> None:
    """Overwrite the file's bytes in place before unlinking it, so the blocks do not keep it.

    On flash storage and copy-on-write file systems the old blocks may survive anyway; the
    procedure (docs/emergency.md) says so.
    """
    size = path.stat().st_size
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, os.urandom(max(size, 64)))
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _forget_keys_in_memory(rehearse: bool) -> None:
    """Drop the KEKs this process holds and every key unwrapped in the current scope."""
    if rehearse:
        return
    with contextlib.suppress(CryptoError):
        provider = get_provider()
        forget = getattr(provider, "forget", None)
        if forget is not None:
            forget()
    # The whole per-request cache, not one key: everything in it was wrapped by a dead KEK.
    cache.forget_all()


# -- wrapped keys ---------------------------------------------------------------------------


def _wipe_key_store(scratch: Path | None, timings: dict[str, float]) -> tuple[int, bytes]:
    """Remove every wrapped data key; returns (how many, digest of their sorted ids)."""
    alias = router.db_for_write(DataKey)
    connection = connections[alias]
    table = DataKey._meta.db_table
    if scratch is None:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            result = _wipe_table(cursor, connection.vendor, connection.ops.quote_name(table))
        transaction.on_commit(lambda: _flush_write_ahead_log(alias), using=alias)
        return result
    if connection.vendor == "sqlite":
        # A copy of the key store's table, read through this connection (so it sees what this
        # transaction sees; SQLite's backup API cannot run inside a write transaction), then
        # wiped the same way as the real one.
        copy = sqlite3.connect(scratch / "keystore.sqlite3")
        try:
            copy.execute("PRAGMA journal_mode=WAL")
            copy.execute("PRAGMA secure_delete=ON")
            tick = time.perf_counter()
            _copy_sqlite_table(connection, copy, table)
            timings["copy_for_rehearsal"] = _ms(tick)
            result = _wipe_table(copy.cursor(), "sqlite", f'"{table}"')
            copy.commit()
            copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            copy.close()
        return result
    # PostgreSQL: a temporary copy of the table in this session, wiped, then rolled back.
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        quoted = connection.ops.quote_name(table)
        tick = time.perf_counter()
        copy_sql = f"CREATE TEMPORARY TABLE haven_rehearsal_keys AS SELECT * FROM {quoted}"  # noqa: S608
        cursor.execute(copy_sql)
        timings["copy_for_rehearsal"] = _ms(tick)
        result = _wipe_table(cursor, connection.vendor, "haven_rehearsal_keys")
        transaction.set_rollback(True, using=alias)
    return result


def _copy_sqlite_table(connection: Any, copy: sqlite3.Connection, table: str) -> None:
    """Recreate ``table`` with its indexes in ``copy`` and fill it with every row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL "
            "ORDER BY type DESC",
            [table],
        )
        for (statement,) in cursor.fetchall():
            copy.execute(statement)
        cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
        width = len(cursor.description)
        insert = f'INSERT INTO "{table}" VALUES ({", ".join("?" * width)})'  # noqa: S608
        while rows := cursor.fetchmany(_FETCH):
            copy.executemany(insert, rows)
    copy.commit()


def _wipe_table(cursor: Any, vendor: str, quoted_table: str) -> tuple[int, bytes]:
    """Digest the ids in order, then empty the table in one statement.

    Table names here come from model metadata, never from input (hence the S608 waivers).

    SQLite runs an unqualified DELETE as a whole-table drop (and, with secure_delete, zeroes
    the freed pages); PostgreSQL's TRUNCATE drops the table's files without visiting rows.
    """
    digest = hashlib.sha256()
    count = 0
    cursor.execute(f"SELECT id FROM {quoted_table} ORDER BY id")  # noqa: S608
    while rows := cursor.fetchmany(_FETCH):
        for (key_id,) in rows:
            digest.update(str(key_id).replace("-", "").encode("ascii"))
        count += len(rows)
    verb = "TRUNCATE" if vendor == "postgresql" else "DELETE FROM"
    cursor.execute(f"{verb} {quoted_table}")
    return count, digest.digest()


def _wipe_intake_keys(rehearse: bool) -> tuple[int, bytes]:
    """Remove every intake key (a handful of rows: one or two per mission)."""
    alias = router.db_for_write(IntakeKey)
    digest = hashlib.sha256()
    with transaction.atomic(using=alias):
        ids = list(
            IntakeKey.objects.using(alias)
            .select_for_update()
            .order_by("id")
            .values_list("id", flat=True)
        )
        for key_id in ids:
            digest.update(key_id.hex.encode("ascii"))
        if not rehearse:
            IntakeKey.objects.using(alias).filter(id__in=ids).delete()
    if not rehearse:
        transaction.on_commit(lambda: _flush_write_ahead_log(alias), using=alias)
    return len(ids), digest.digest()


def _flush_write_ahead_log(alias: str) -> None:
    """Push the removal out of SQLite's write-ahead log and truncate it to nothing."""
    flush_key_store(alias)


# -- the record -----------------------------------------------------------------------------


def _write_certificate(certificate: Certificate) -> Path:
    """Write the certificate atomically; an earlier one is kept inside the new one."""
    path = certificate_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    document = certificate.as_dict()
    document["path"] = str(path)
    earlier = read_certificate()
    if earlier:
        document["earlier"] = earlier
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".destruction-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)  # names who confirmed and why: for the operator only
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(path.parent)
    return path


def _announce(certificate: Certificate, *, confirmed_by: Sequence[Confirmer], reason: str) -> None:
    """Tell the audit app. The keys are gone whatever happens here, so a failing receiver is
    logged (by event name only) rather than raised over a destruction that did happen."""
    results = everything_destroyed.send_robust(
        sender=Certificate,
        certificate=certificate.as_dict(),
        confirmed_by=list(confirmed_by),
        reason=reason.strip(),
        rehearsal=certificate.rehearsal,
    )
    for receiver, outcome in results:
        if isinstance(outcome, Exception):
            logger.error("emergency destruction: receiver %s failed", receiver)
