"""XChaCha20-Poly1305 (libsodium, IETF variant) with a random 192-bit nonce per message.

Invariant: every encryption uses a fresh random nonce and authenticates its associated data;
a failed check raises ``DecryptionError`` and never returns partial plaintext. Callers add the
record's name to the message.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.utils
from nacl import bindings

KEY_BYTES: int = bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES  # 32
NONCE_BYTES: int = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
TAG_BYTES: int = bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16


class AuthenticationFailed(Exception):
    """Internal: the AEAD check failed. Callers raise a ``DecryptionError`` naming the record."""


def random_key() -> bytes:
    """A fresh 256-bit key from the operating system's CSPRNG (libsodium ``randombytes``)."""
    return nacl.utils.random(KEY_BYTES)


def encrypt(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Return ``nonce || ciphertext-with-tag``."""
    nonce = nacl.utils.random(NONCE_BYTES)
    sealed = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, associated_data, nonce, key
    )
    return nonce + sealed


def decrypt(key: bytes, blob: bytes, associated_data: bytes) -> bytes:
    """Open ``nonce || ciphertext-with-tag`` or raise ``AuthenticationFailed``."""
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise AuthenticationFailed("too short")
    nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    try:
        return bytes(
            bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, associated_data, nonce, key)
        )
    except nacl.exceptions.CryptoError:
        raise AuthenticationFailed("forged or corrupt") from None
