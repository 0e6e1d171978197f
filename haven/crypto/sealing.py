"""Intake keypairs and sealed boxes: the portal encrypts with a public key it cannot undo.

Each mission has an X25519 intake keypair (``IntakeKey``): the public key in the clear, the
private key wrapped by the KEK, bound to the key's id, its mission and its public key.

A sealed payload (``seal``) is

    0x01 | intake key fingerprint (8 bytes) | crypto_box_seal(tag (16 bytes) | data)

where ``tag`` is BLAKE2b-128 (personalised ``haven.sealctx``) of the first 9 bytes and the
caller's ``context`` (for example the row's uid), so a payload moved to another row, or given
another header, fails to open. Anyone holding the public key can seal (that is the point); only
the workspace, which holds the KEK, can open.

Invariant: the portal needs the public key only; opening raises ``DecryptionError`` (or
``UnknownKeyVersion`` for a key the mission does not hold), naming what was being opened.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable

import nacl.exceptions
from django.utils.translation import gettext as _
from nacl import bindings

from haven.core.models import Mission
from haven.crypto.cache import cached_or
from haven.crypto.errors import DecryptionError, UnknownKeyVersion
from haven.crypto.models import IntakeKey
from haven.crypto.wrapping import unwrap_secret, wrap_secret

SEAL_FORMAT = 1
FINGERPRINT_BYTES = 8
PUBLIC_KEY_BYTES: int = bindings.crypto_box_PUBLICKEYBYTES
SEAL_OVERHEAD: int = bindings.crypto_box_SEALBYTES
_TAG_BYTES = 16
# Larger payloads go through haven.crypto.streams, which never holds a whole file.
MAX_SEAL_BYTES = 4 * 1024 * 1024
_PURPOSE = "intake"


def fingerprint(public_key: bytes | memoryview) -> bytes:
    """BLAKE2b-64 of an intake public key: how a payload names the key it was sealed to."""
    return hashlib.blake2b(
        bytes(public_key), digest_size=FINGERPRINT_BYTES, person=b"haven.intakekey"
    ).digest()


def _binding(key_id: uuid.UUID, mission_id: int, public_key: bytes) -> bytes:
    return key_id.bytes + mission_id.to_bytes(8, "big") + public_key


def create_intake_key(mission: Mission) -> IntakeKey:
    """Make a new intake keypair for ``mission``; it becomes the one the portal seals to.

    The caller records the audit event (crypto sits below audit in the app order).
    """
    public_key, private_key = bindings.crypto_box_keypair()
    key_id = uuid.uuid4()
    version, wrapped = wrap_secret(
        private_key, purpose=_PURPOSE, binding=_binding(key_id, mission.pk, public_key)
    )
    return IntakeKey.objects.create(
        id=key_id,
        mission=mission,
        public_key=public_key,
        fingerprint=fingerprint(public_key).hex(),
        kek_version=version,
        wrapped_private_key=wrapped,
    )


def current_intake_key(mission: Mission) -> IntakeKey:
    """The mission's newest intake key (``IntakeKey.DoesNotExist`` if it has none)."""
    return IntakeKey.objects.filter(mission=mission).latest()


def intake_public_key(mission: Mission) -> bytes:
    """What the portal needs to seal for ``mission``: its current public key."""
    return bytes(current_intake_key(mission).public_key)


def intake_keypair(mission: Mission, key_fingerprint: bytes, *, what: str) -> tuple[bytes, bytes]:
    """The mission's (public, private) intake keys named by ``key_fingerprint``."""
    try:
        intake_key = IntakeKey.objects.get(mission=mission, fingerprint=key_fingerprint.hex())
    except IntakeKey.DoesNotExist:
        raise UnknownKeyVersion(
            _(
                "%(what)s was sealed to intake key %(fingerprint)s, which mission %(mission)s "
                "does not hold."
            )
            % {"what": what, "fingerprint": key_fingerprint.hex(), "mission": mission.slug}
        ) from None
    public_key = bytes(intake_key.public_key)
    private_key = cached_or(
        (_PURPOSE, intake_key.id),
        lambda: unwrap_secret(
            intake_key.wrapped_private_key,
            version=intake_key.kek_version,
            purpose=_PURPOSE,
            binding=_binding(intake_key.id, intake_key.mission_id, public_key),
            what=_("Intake key %(fingerprint)s") % {"fingerprint": intake_key.fingerprint},
        ),
    )
    return public_key, private_key


def _context_tag(header: bytes, context: bytes) -> bytes:
    return hashlib.blake2b(
        header + context, digest_size=_TAG_BYTES, person=b"haven.sealctx"
    ).digest()


def seal(public_key: bytes | memoryview, data: bytes, *, context: bytes = b"") -> bytes:
    """Encrypt a small payload (at most 4 MiB) so only the holder of the private key can read it."""
    public_key = bytes(public_key)
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError("An intake public key is 32 bytes.")
    if len(data) > MAX_SEAL_BYTES:
        raise ValueError("Payload too large for seal(); use haven.crypto.streams for files.")
    header = bytes([SEAL_FORMAT]) + fingerprint(public_key)
    return header + bindings.crypto_box_seal(_context_tag(header, context) + data, public_key)


def open_sealed(
    mission: Mission, sealed: bytes | memoryview, *, context: bytes = b"", what: str = ""
) -> bytes:
    """Open what ``seal`` made for ``mission``; ``what`` names the record in errors."""
    return _open(
        sealed,
        lambda key_fingerprint, label: intake_keypair(mission, key_fingerprint, what=label),
        context=context,
        what=what,
    )


def open_sealed_with(
    keypair: tuple[bytes, bytes],
    sealed: bytes | memoryview,
    *,
    context: bytes = b"",
    what: str = "",
) -> bytes:
    """Open what ``seal`` made for ``keypair``'s public key (a submission's own key)."""
    return _open(sealed, lambda _fingerprint, _label: keypair, context=context, what=what)


def _open(
    sealed: bytes | memoryview,
    keypair: Callable[[bytes, str], tuple[bytes, bytes]],
    *,
    context: bytes,
    what: str,
) -> bytes:
    what = what or _("Sealed data")
    blob = bytes(sealed)
    header_bytes = 1 + FINGERPRINT_BYTES
    if len(blob) < header_bytes + SEAL_OVERHEAD + _TAG_BYTES or blob[0] != SEAL_FORMAT:
        raise DecryptionError(
            _("%(what)s is not a sealed payload in a format Haven knows.") % {"what": what}
        )
    header = blob[:header_bytes]
    public_key, private_key = keypair(header[1:], what)
    if not hmac.compare_digest(fingerprint(public_key), header[1:]):
        raise DecryptionError(
            _("%(what)s was sealed to another key than the one given.") % {"what": what}
        )
    try:
        inner = bindings.crypto_box_seal_open(blob[header_bytes:], public_key, private_key)
    except nacl.exceptions.CryptoError:
        raise DecryptionError(
            _("%(what)s could not be opened: it was altered or truncated.") % {"what": what}
        ) from None
    if not hmac.compare_digest(inner[:_TAG_BYTES], _context_tag(header, context)):
        raise DecryptionError(
            _("%(what)s belongs to another record (it was moved or swapped).") % {"what": what}
        )
    return inner[_TAG_BYTES:]
