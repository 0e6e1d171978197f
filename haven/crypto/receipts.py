"""Receipts: the passphrase a defender keeps instead of an account (SECURITY.md invariant 5).

A receipt is seven words drawn uniformly from the EFF long word list (CC BY 3.0, read from the
``xkcdpass`` package's data; 7,772 words once its four hyphenated ones are left out):
log2(7772) x 7 = 90.5 bits. Typed back, it is
normalised (case folded, white space collapsed) and stretched with Argon2id (memory-hard)
under a salt of the mission, into 64 bytes:

* the first 32, hashed again (BLAKE2b, personalised), are the **lookup id** the server stores
  to find the submission;
* the last 32 are an X25519 **private key**; the server stores only its public key, and seals
  every reply to it, so only the person holding the passphrase can read replies later.

Invariant: neither the passphrase nor anything that opens replies is ever stored.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import secrets
from dataclasses import dataclass

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
from django.conf import settings
from django.utils.translation import gettext as _
from nacl import bindings
from nacl.public import PrivateKey

from haven.crypto.errors import DecryptionError

WORDS = 7
_PERSON_LOOKUP = b"haven.rcpt.id"
_PERSON_SALT = b"haven.rcpt.salt"


@functools.cache
def wordlist() -> tuple[str, ...]:
    """The EFF long word list without its few hyphenated words (easy to mistype): 7,772
    distinct lower-case words."""
    data = importlib.resources.files("xkcdpass") / "static" / "eff-long"
    return tuple(word for word in data.read_text(encoding="utf-8").split() if word.isalpha())


def new_passphrase() -> str:
    """Seven random words, separated by spaces (about 90 bits)."""
    words = wordlist()
    return " ".join(secrets.choice(words) for _ in range(WORDS))


def normalise(passphrase: str) -> str:
    """What is stretched: case and extra spaces do not matter to the person typing it."""
    return " ".join(passphrase.casefold().split())


@dataclass(frozen=True)
class ReceiptKeys:
    lookup: str  # 64 hex characters
    public_key: bytes
    private_key: bytes

    def __repr__(self) -> str:
        return f"<ReceiptKeys: {self.lookup[:8]}…>"


def _salt(mission_id: int) -> bytes:
    return hashlib.blake2b(
        mission_id.to_bytes(8, "big"), digest_size=argon2id.SALTBYTES, person=_PERSON_SALT
    ).digest()


def derive(passphrase: str, *, mission_id: int) -> ReceiptKeys:
    """Stretch a passphrase into its lookup id and keypair (Argon2id, ``HAVEN_RECEIPT_KDF_*``)."""
    stretched = argon2id.kdf(
        64,
        normalise(passphrase).encode("utf-8"),
        _salt(mission_id),
        opslimit=settings.HAVEN_RECEIPT_KDF_OPSLIMIT,
        memlimit=settings.HAVEN_RECEIPT_KDF_MEMLIMIT,
    )
    lookup = hashlib.blake2b(stretched[:32], digest_size=32, person=_PERSON_LOOKUP).hexdigest()
    private = PrivateKey(stretched[32:])
    return ReceiptKeys(lookup, bytes(private.public_key), bytes(private))


def seal_to_receipt(public_key: bytes | memoryview, data: bytes) -> bytes:
    """Encrypt a reply so that only the holder of the receipt can read it."""
    return bindings.crypto_box_seal(data, bytes(public_key))


def open_with_receipt(keys: ReceiptKeys, sealed: bytes | memoryview) -> bytes:
    try:
        return bindings.crypto_box_seal_open(bytes(sealed), keys.public_key, keys.private_key)
    except nacl.exceptions.CryptoError:
        raise DecryptionError(_("This message cannot be opened with this receipt.")) from None
