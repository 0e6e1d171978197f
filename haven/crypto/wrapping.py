"""Wrapping secrets (data keys, intake private keys) under the key-encryption key.

Format of a wrapped secret (stored in a binary column, beside its KEK version):

    0x01 | nonce (24 bytes) | XChaCha20-Poly1305 ciphertext of the secret | tag (16 bytes)

The associated data is ``b"haven.wrap.v1\\0" + purpose + b"\\0" + binding + version (4 bytes,
big-endian) + 0x01``, where ``binding`` is the owning row's identity (the data key's id; the
intake key's id, mission and public key). Invariant: a wrapped secret opens only under the KEK
version it names and only in the row it was made for; copied to another row, or relabelled
with another version, it fails with ``DecryptionError``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from haven.crypto import aead
from haven.crypto.errors import DecryptionError, UnknownKeyVersion
from haven.crypto.keys import get_provider

WRAP_FORMAT = 1


def _associated_data(purpose: str, binding: bytes, version: int) -> bytes:
    return (
        b"haven.wrap.v1\x00"
        + purpose.encode("ascii")
        + b"\x00"
        + binding
        + version.to_bytes(4, "big")
        + bytes([WRAP_FORMAT])
    )


def wrap_secret(secret: bytes, *, purpose: str, binding: bytes) -> tuple[int, bytes]:
    """Wrap under the current KEK; return ``(kek_version, wrapped)``."""
    provider = get_provider()
    version = provider.current_version()
    wrapped = aead.encrypt(
        provider.kek(version), secret, _associated_data(purpose, binding, version)
    )
    return version, bytes([WRAP_FORMAT]) + wrapped


def unwrap_secret(
    wrapped: bytes | memoryview, *, version: int, purpose: str, binding: bytes, what: str
) -> bytes:
    """Open a wrapped secret. ``what`` names the row in any error ("data key 1b4e…")."""
    blob = bytes(wrapped)
    try:
        kek = get_provider().kek(version)
    except UnknownKeyVersion as error:
        raise UnknownKeyVersion(f"{what}: {error}") from None
    if not blob or blob[0] != WRAP_FORMAT:
        raise DecryptionError(
            _("%(what)s is not in a wrapped-key format this version of Haven knows.")
            % {"what": what}
        )
    try:
        return aead.decrypt(kek, blob[1:], _associated_data(purpose, binding, version))
    except aead.AuthenticationFailed:
        raise DecryptionError(
            _(
                "%(what)s could not be unwrapped with key-encryption key version %(version)s: "
                "it was altered, moved from another row, or that key file is not the right one."
            )
            % {"what": what, "version": version}
        ) from None
