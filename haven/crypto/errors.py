"""The exceptions the crypto app raises, so callers can tell a bad key set-up from bad data.

Invariant: no message built here or by a raiser ever contains plaintext or key material. A
message names the record (model, field, row id) or the file, and says what to do.
"""

from __future__ import annotations

from django.core.exceptions import FieldError, ImproperlyConfigured


class CryptoError(Exception):
    """Base of every error raised by ``haven.crypto``."""


class KeyConfigurationError(CryptoError, ImproperlyConfigured):
    """Key material is missing, unreadable, malformed or exposed: Haven must not run like this."""


class DecryptionError(CryptoError):
    """Ciphertext could not be opened: it was altered, moved, truncated, or the key is wrong."""


class UnknownKeyVersion(DecryptionError):
    """The ciphertext names a key (KEK version or data key) that this process does not hold."""


class StreamError(DecryptionError):
    """An encrypted file stream is truncated, extended, reordered or tampered with."""


class EncryptedFieldError(CryptoError, FieldError):
    """An encrypted field was used in a way that would expose it or silently misbehave:
    filtering, ordering, bulk updates, serialisation, or saving without a data key."""


class BundleError(DecryptionError):
    """A bundle from a partner mission cannot be accepted; ``code`` says why, for the audit
    log (never the bundle's contents), and the message says it to a person."""

    code = "unreadable"


class NotABundle(BundleError):
    code = "not_a_bundle"


class WrongRecipient(BundleError):
    code = "wrong_recipient"


class UnknownSender(BundleError):
    code = "unknown_sender"


class BundleTampered(BundleError):
    code = "tampered"


class KeyCardError(CryptoError):
    """A pasted key card is not in the format Haven writes, or its fingerprint does not
    match its keys (it was altered or mistyped)."""
