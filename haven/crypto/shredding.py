"""Crypto-shredding: destroy a data subject's key, then remove every row encrypted under it.

Invariant: once ``shred_subject`` returns, the key store no longer holds the subject's data
key, not even in SQLite's free pages or write-ahead log, so no copy of the data, old or new,
can be read for that subject again. The key goes first: if removing the rows then failed,
they would stay behind, unreadable.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.apps import apps
from django.db import connections, router, transaction
from django.utils.translation import gettext as _

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
    with transaction.atomic():
        with transaction.atomic(using=keys_alias):
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
    transaction.on_commit(lambda: _flush_key_store(keys_alias), using=keys_alias)
    return counts


def _flush_key_store(alias: str) -> None:
    """Push the deletion out of SQLite's write-ahead log so no old page keeps the key."""
    connection = connections[alias]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
