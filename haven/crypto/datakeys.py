"""Data keys: one random 256-bit key per data subject, stored only wrapped by the KEK.

Invariant: an unwrapped data key exists only in the caller's hands and in the per-request
cache (``haven.crypto.cache``); the database sees it wrapped, bound to its own row id and
KEK version.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.utils.translation import gettext as _

from haven.crypto import aead
from haven.crypto.cache import cached_key, cached_or, forget_key, remember_key, scope_active
from haven.crypto.commits import note_new_key
from haven.crypto.errors import DecryptionError
from haven.crypto.models import DataKey, EncryptedModel
from haven.crypto.wrapping import unwrap_secret, wrap_secret

_PURPOSE = "dek"


def _cache_name(key_id: uuid.UUID) -> tuple[str, uuid.UUID]:
    return (_PURPOSE, key_id)


def new_data_key() -> DataKey:
    """Create and store a new subject's data key, wrapped under the current KEK.

    Call it inside ``keys_first()`` with the rows that use it (``haven.crypto.commits``): the
    key store commits first, so a crash cannot leave those rows without their key.
    """
    key_id = uuid.uuid4()
    dek = aead.random_key()
    version, wrapped = wrap_secret(dek, purpose=_PURPOSE, binding=key_id.bytes)
    data_key = DataKey.objects.create(id=key_id, kek_version=version, wrapped=wrapped)
    note_new_key(DataKey, key_id)
    remember_key(_cache_name(key_id), dek)
    return data_key


def new_data_keys(count: int) -> list[DataKey]:
    """Create and store ``count`` new subjects' data keys at once (the scale generator's path).

    Each key is made exactly as ``new_data_key`` makes it (fresh random key, wrapped under the
    current KEK, bound to its own id) and the unwrapped keys are remembered in the current
    ``key_scope()``; only the insert is one statement instead of ``count``.
    """
    made = []
    for _n in range(count):
        key_id = uuid.uuid4()
        dek = aead.random_key()
        version, wrapped = wrap_secret(dek, purpose=_PURPOSE, binding=key_id.bytes)
        made.append(DataKey(id=key_id, kek_version=version, wrapped=wrapped))
        note_new_key(DataKey, key_id)
        remember_key(_cache_name(key_id), dek)
    return DataKey.objects.bulk_create(made, batch_size=2000)


def unwrap_data_key(data_key: DataKey) -> bytes:
    """The plaintext data key, from the request's cache or unwrapped now."""
    return cached_or(
        _cache_name(data_key.id),
        lambda: unwrap_secret(
            data_key.wrapped,
            version=data_key.kek_version,
            purpose=_PURPOSE,
            binding=data_key.id.bytes,
            what=_("Data key %(id)s") % {"id": data_key.id},
        ),
    )


def data_key_of(row: EncryptedModel) -> tuple[uuid.UUID, bytes]:
    """The id and plaintext of the data key a row's fields are encrypted under.

    Looks in the cache by id first, so rows of one subject cost one unwrap per request.
    """
    key_id = row.data_key_id
    if key_id is None:
        raise DecryptionError(
            _("%(model)s row %(pk)s has no data key, so its encrypted fields cannot be read.")
            % {"model": row._meta.label, "pk": row.pk}
        )
    dek = cached_key(_cache_name(key_id))
    if dek is not None:
        return key_id, dek
    try:
        data_key = row.data_key
    except DataKey.DoesNotExist:
        raise DecryptionError(
            _(
                "The data key of %(model)s row %(pk)s no longer exists (the subject was "
                "shredded); its encrypted fields cannot be read."
            )
            % {"model": row._meta.label, "pk": row.pk}
        ) from None
    return key_id, unwrap_data_key(data_key)


def forget_data_key(key_id: uuid.UUID) -> None:
    """Drop a data key from this request's cache (after shredding it)."""
    forget_key(_cache_name(key_id))


def prime_data_keys(key_ids: Iterable[uuid.UUID | None]) -> None:
    """Unwrap the data keys of many rows with one query, into this request's cache, so a
    page that shows rows of many subjects does not fetch their keys list by list. Outside a
    key scope nothing is kept, and rows fetch their keys as usual."""
    if not scope_active():
        return
    wanted = {key_id for key_id in key_ids if key_id is not None}
    missing = [key_id for key_id in wanted if cached_key(_cache_name(key_id)) is None]
    for data_key in DataKey.objects.filter(id__in=missing):
        unwrap_data_key(data_key)
