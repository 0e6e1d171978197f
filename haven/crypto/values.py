"""The Python values encrypted fields hand out: ciphertext as loaded, plaintext once opened.

Invariant: ``repr()`` of either never shows plaintext, so a traceback, a debugger, a test
failure or a ``%r`` in a log line cannot leak a decrypted value. ``str()`` and every other
operation behave as for a plain ``str``/``dict``/``list``: callers (forms, templates, the API)
see ordinary values. Derived values (``name.upper()``, ``profile["city"]``) are plain types;
the masking is a safety net, not a reason to log values.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from haven.crypto import aead


class Sealed:
    """A column's ciphertext as the database returned it, not yet opened.

    ``QuerySet.values()`` and ``values_list()`` return these for encrypted columns: those paths
    bypass the model instance whose identity the ciphertext is bound to.
    """

    __slots__ = ("token",)
    HEADER_BYTES = 1 + 16  # format version, data key id

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "<Sealed: encrypted>"

    def __str__(self) -> str:
        return "[encrypted]"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)

    def raw(self) -> bytes | None:
        """The decoded bytes, or None when the column holds no valid base64 of a full header."""
        try:
            blob = base64.b64decode(self.token, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(blob) < self.HEADER_BYTES + aead.NONCE_BYTES + aead.TAG_BYTES:
            return None
        return blob

    def key_id(self) -> uuid.UUID | None:
        blob = self.raw()
        return None if blob is None else uuid.UUID(bytes=blob[1 : self.HEADER_BYTES])


class DecryptedText(str):
    """A decrypted ``str`` whose ``repr`` is masked."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<redacted text>"


class DecryptedDict(dict[str, Any]):
    """A decrypted JSON object whose ``repr`` is masked."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<redacted JSON object>"

    def __str__(self) -> str:
        return dict.__repr__(self)


class DecryptedList(list[Any]):
    """A decrypted JSON array whose ``repr`` is masked."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<redacted JSON array>"

    def __str__(self) -> str:
        return list.__repr__(self)


def redacted(value: Any) -> Any:
    """Wrap a decrypted value in its masked type (numbers, booleans and None stay as they are)."""
    if isinstance(value, str):
        return DecryptedText(value)
    if isinstance(value, dict):
        return DecryptedDict(value)
    if isinstance(value, list):
        return DecryptedList(value)
    return value
