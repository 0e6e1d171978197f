"""Random secrets and one-way digests for tokens and the audit chain.

Only this package touches cryptographic primitives (SECURITY.md invariant 1); other apps
call these small functions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679"


def random_token(length: int = 40) -> str:
    """A URL-safe random string drawn from 62 symbols (about 5.95 bits each)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def one_time_password(groups: int = 5, group_length: int = 5) -> str:
    """A one-time password that is easy to read aloud: no 0/O, 1/l, 2/Z look-alikes.

    Five groups of five from 50 symbols carry about 141 bits.
    """
    return "-".join(
        "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(group_length))
        for _ in range(groups)
    )


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy token. A slow hash adds nothing when the input is random."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def digests_equal(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode("ascii"), right.encode("ascii"))


def chain_hash(previous: str, canonical: bytes) -> str:
    """The audit chain link: SHA-256 over the previous link and this event's canonical bytes."""
    return hashlib.sha256(previous.encode("ascii") + b"\x00" + canonical).hexdigest()


def keyed_digest(value: str, *, purpose: str, key: bytes) -> str:
    """HMAC-SHA256 of ``value`` for one ``purpose``, so equal values can be matched
    without being stored."""
    message = purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()
