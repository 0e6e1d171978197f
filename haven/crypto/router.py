"""Sends data keys to the key store (the ``keys`` database) and everything else elsewhere.

The key store is a database of its own so that it can be backed up apart from the data:
shredding a subject deletes its data key there, and an older copy of the data, restored
later, finds no key for it. A write to both goes through ``haven.crypto.commits.keys_first``,
which takes the data's transaction first and commits the key store's first.
"""

from __future__ import annotations

from typing import Any

KEYSTORE = "keys"
_KEY_MODELS = frozenset({"crypto.datakey", "crypto.submissionkey"})


def _is_key_model(model_or_row: Any) -> bool:
    # Works for classes and instances alike, lazy ones (request.user) included.
    meta = getattr(model_or_row, "_meta", None)
    return meta is not None and meta.label_lower in _KEY_MODELS


class KeyStoreRouter:
    # Everything but a key is named "default" explicitly: left to Django, a row created with
    # its data key as first related value would be taken for a row of the key store.
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return KEYSTORE if _is_key_model(model) else "default"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return KEYSTORE if _is_key_model(model) else "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # Rows of the data point at their data key across the two databases, by id only.
        if _is_key_model(obj1) or _is_key_model(obj2):
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        is_key = f"{app_label}.{model_name}" in _KEY_MODELS
        if db == KEYSTORE:
            return is_key
        return False if is_key else None
