"""Crypto-shredding: destroy a data subject's key, then remove every row encrypted under it.

Invariant: once ``shred_subject`` returns, the key store no longer holds the subject's data
key, not even in SQLite's free pages or write-ahead log, so no copy of the data, old or new,
can be read for that subject again. The key goes first (``keys_first``: the key store commits
before the data): a crash between the two commits leaves the rows behind, unreadable, never a
key whose rows are gone; an error before the commits leaves everything as it was.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.apps import apps
from django.db import connections, router, transaction
from django.utils.translation import gettext as _

from haven.crypto.commits import keys_first
from haven.crypto.datakeys import forget_data_key
from haven.crypto.errors import CryptoError
from haven.crypto.models import DataKey, EncryptedModel
from haven.crypto.signals import subject_shredded


def encrypted_models() -> list[type[EncryptedModel]]:
    """Every concrete model whose rows are encrypted under a subject's data key."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, EncryptedModel) and not model._meta.abstract
    ]


def shred_subject(subject: EncryptedModel, *, actor: Any, reason: str) -> dict[str, int]:
    """Shred ``subject`` and every row that shares its data key; returns rows removed per model.

    ``reason`` is required: it goes to the audit log with the actor and the counts.
    """
    if not reason.strip():
        raise CryptoError(_("Say why this record is being destroyed."))
    if not getattr(type(subject), "is_data_subject", False):
        # A dependent row (a note, an incident) shares its subject's key: shredding it
        # would destroy the whole subject. Shred the subject, or delete the row.
        raise CryptoError(
            _("Only a whole record (a person, an organisation, a case) can be shredded.")
        )
    key_id = subject.data_key_id
    if key_id is None:
        raise CryptoError(_("This record has no data key to destroy."))
    mission_id = getattr(subject, "mission_id", None)
    return shred_data_key(key_id, actor=actor, reason=reason, mission_id=mission_id)


def shred_data_key(
    key_id: uuid.UUID, *, actor: Any, reason: str, mission_id: int | None = None
) -> dict[str, int]:
    keys_alias = router.db_for_write(DataKey)
    counts: dict[str, int] = {}
    with keys_first():
        DataKey.objects.filter(pk=key_id).delete()
        for model in encrypted_models():
            _removed, per_model = model._base_manager.filter(data_key_id=key_id).delete()
            for label, count in per_model.items():
                counts[label] = counts.get(label, 0) + count
        subject_shredded.send(
            sender=DataKey,
            data_key_id=key_id,
            actor=actor,
            reason=reason,
            counts=counts,
            mission_id=mission_id,
        )
    forget_data_key(key_id)
    # Runs at once, or when a caller's enclosing transaction commits.
    transaction.on_commit(lambda: flush_key_store(keys_alias), using=keys_alias)
    return counts


def flush_key_store(alias: str, *, attempts: int = 50, pause: float = 0.1) -> None:
    """Push deletions out of SQLite's write-ahead log into the (securely overwritten) main
    file, so no old page keeps a destroyed key.

    A reader elsewhere holding an old snapshot makes the checkpoint "busy"; it is retried
    for a few seconds, and a key store that still cannot be flushed is an error, not silence.
    """
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return
    for _attempt in range(attempts):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log, _done = cursor.fetchone()
        if not busy:
            return
        time.sleep(pause)
    raise CryptoError(
        _(
            "The key was destroyed, but another process kept the key store busy, so its old"
            " pages are not overwritten yet. Run the same action again in a minute."
        )
    )
