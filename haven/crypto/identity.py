"""Mission identity keys, key cards, and signed-then-encrypted bundles between missions.

Each mission has one ``MissionIdentity``: an Ed25519 signing keypair and an X25519 box
keypair, made on first use, private halves wrapped by the KEK. Partners learn the public
halves from a *key card* (plain text) and confirm them by comparing the *fingerprint*,
BLAKE2b-128 of both public keys, read out over another channel.

A bundle is

    magic "HAVENBND" | version 0x01 | sender fingerprint (16) | recipient fingerprint (16)
    | nonce (24) | crypto_box(signature (64) | payload)

where the box is from the sender's X25519 key to the recipient's and the Ed25519 signature
covers the 41-byte header followed by the payload. Because the recipient's fingerprint is
signed, a bundle a recipient decrypts and re-encrypts to a third mission is detected there.

Invariant: ``open_bundle`` returns a payload only when it is addressed to this mission, comes
from a sender the caller named as known, is intact, and carries that sender's signature;
otherwise it raises a ``BundleError`` subclass whose message a person can act on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import nacl.exceptions
import nacl.utils
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from nacl import bindings

from haven.core.models import Mission
from haven.crypto.cache import cached_or
from haven.crypto.errors import (
    BundleTampered,
    KeyCardError,
    NotABundle,
    UnknownSender,
    WrongRecipient,
)
from haven.crypto.models import MissionIdentity
from haven.crypto.wrapping import unwrap_secret, wrap_secret

MAGIC = b"HAVENBND"
BUNDLE_VERSION = 1
FINGERPRINT_BYTES = 16
KEY_BYTES = 32
HEADER_BYTES = len(MAGIC) + 1 + 2 * FINGERPRINT_BYTES
_NONCE_BYTES: int = bindings.crypto_box_NONCEBYTES
_MAC_BYTES = 16  # Poly1305 tag of crypto_box
_SIGNATURE_BYTES: int = bindings.crypto_sign_BYTES
MIN_BUNDLE_BYTES = HEADER_BYTES + _NONCE_BYTES + _MAC_BYTES + _SIGNATURE_BYTES
_PURPOSE = "identity"
CARD_BEGIN = "-----BEGIN HAVEN MISSION KEY CARD-----"
CARD_END = "-----END HAVEN MISSION KEY CARD-----"
CARD_NAME_MAX = 200


@dataclass(frozen=True)
class PublicIdentity:
    """What a partner needs to know of a mission: its two public keys."""

    signing_key: bytes
    box_key: bytes

    @property
    def fingerprint(self) -> str:
        return identity_fingerprint(self.signing_key, self.box_key)


@dataclass(frozen=True)
class KeyCard:
    """A parsed key card: the name a mission gives itself and its public identity."""

    name: str
    identity: PublicIdentity

    @property
    def fingerprint(self) -> str:
        return self.identity.fingerprint


def identity_fingerprint(signing_key: bytes, box_key: bytes) -> str:
    """BLAKE2b-128 of both public keys, as 32 lower-case hex digits."""
    return hashlib.blake2b(
        bytes(signing_key) + bytes(box_key),
        digest_size=FINGERPRINT_BYTES,
        person=b"haven.missionid",
    ).hexdigest()


def grouped(fingerprint: str) -> str:
    """A fingerprint as people read it aloud: eight groups of four, upper case."""
    digits = fingerprint.upper()
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def identity_binding(identity_id: uuid.UUID, mission_id: int, signing: bytes, box: bytes) -> bytes:
    """What the wrapped private keys are bound to: their row, mission and public keys."""
    return identity_id.bytes + mission_id.to_bytes(8, "big") + signing + box


def mission_identity(mission: Mission) -> MissionIdentity:
    """The mission's identity keys, made now if it has none yet.

    The caller records the audit event (crypto sits below audit in the app order); whether
    the keys are new is told by ``created_now`` on the returned row.
    """
    found = MissionIdentity.objects.filter(mission=mission).first()
    if found is not None:
        found.created_now = False  # type: ignore[attr-defined]
        return found
    seed = nacl.utils.random(bindings.crypto_sign_SEEDBYTES)
    signing_public, signing_secret = bindings.crypto_sign_seed_keypair(seed)
    box_public, box_secret = bindings.crypto_box_keypair()
    identity_id = uuid.uuid4()
    binding = identity_binding(identity_id, mission.pk, signing_public, box_public)
    version, wrapped = wrap_secret(seed + box_secret, purpose=_PURPOSE, binding=binding)
    del signing_secret
    try:
        with transaction.atomic():
            made = MissionIdentity.objects.create(
                id=identity_id,
                mission=mission,
                signing_public_key=signing_public,
                box_public_key=box_public,
                fingerprint=identity_fingerprint(signing_public, box_public),
                kek_version=version,
                wrapped_private_keys=wrapped,
            )
    except IntegrityError:
        # Another request made them first: theirs are the mission's keys.
        found = MissionIdentity.objects.get(mission=mission)
        found.created_now = False  # type: ignore[attr-defined]
        return found
    made.created_now = True  # type: ignore[attr-defined]
    return made


def public_identity(mission: Mission) -> PublicIdentity:
    """The mission's two public keys (made now if it has none yet)."""
    identity = mission_identity(mission)
    return PublicIdentity(bytes(identity.signing_public_key), bytes(identity.box_public_key))


def _private_keys(identity: MissionIdentity) -> tuple[bytes, bytes]:
    """(Ed25519 secret key, X25519 secret key) of an identity, unwrapped."""
    signing_public = bytes(identity.signing_public_key)
    box_public = bytes(identity.box_public_key)
    binding = identity_binding(identity.id, identity.mission_id, signing_public, box_public)
    secrets = cached_or(
        (_PURPOSE, identity.id),
        lambda: unwrap_secret(
            identity.wrapped_private_keys,
            version=identity.kek_version,
            purpose=_PURPOSE,
            binding=binding,
            what=_("Mission identity key %(fingerprint)s") % {"fingerprint": identity.fingerprint},
        ),
    )
    seed, box_secret = secrets[:32], secrets[32:]
    _public, signing_secret = bindings.crypto_sign_seed_keypair(seed)
    return signing_secret, box_secret


# -- key cards


def key_card(mission: Mission) -> str:
    """The text a mission hands to partners: its name, both public keys and the fingerprint."""
    identity = public_identity(mission)
    name = " ".join(mission.name.split())[:CARD_NAME_MAX]
    return "\n".join(
        [
            CARD_BEGIN,
            f"Mission: {name}",
            f"Signing key: {base64.b64encode(identity.signing_key).decode('ascii')}",
            f"Encryption key: {base64.b64encode(identity.box_key).decode('ascii')}",
            f"Fingerprint: {grouped(identity.fingerprint)}",
            CARD_END,
            "",
        ]
    )


def _card_key(value: str, label: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyCardError(
            _("The %(label)s on the key card is not a valid public key. Copy the card again.")
            % {"label": label}
        )
    return key


def parse_key_card(text: str) -> KeyCard:
    """Read a key card pasted by a person; refuse it if its fingerprint does not match."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    if CARD_BEGIN not in lines or CARD_END not in lines:
        raise KeyCardError(
            _("This is not a Haven key card. Paste the whole card, from “%(begin)s” to “%(end)s”.")
            % {"begin": CARD_BEGIN, "end": CARD_END}
        )
    body = lines[lines.index(CARD_BEGIN) + 1 : lines.index(CARD_END)]
    values: dict[str, str] = {}
    for line in body:
        label, colon, value = line.partition(":")
        if colon:
            values[label.strip().lower()] = value.strip()
    missing = [
        k for k in ("mission", "signing key", "encryption key", "fingerprint") if k not in values
    ]
    if missing:
        raise KeyCardError(
            _("The key card lacks these lines: %(lines)s. Copy the card again.")
            % {"lines": ", ".join(missing)}
        )
    name = " ".join(values["mission"].split())
    if not name or len(name) > CARD_NAME_MAX:
        raise KeyCardError(_("The mission's name on the key card is empty or too long."))
    identity = PublicIdentity(
        _card_key(values["signing key"], _("signing key")),
        _card_key(values["encryption key"], _("encryption key")),
    )
    stated = "".join(values["fingerprint"].split()).lower()
    if not hmac.compare_digest(stated.encode(), identity.fingerprint.encode()):
        raise KeyCardError(
            _(
                "The fingerprint on the key card does not match its keys: the card was altered "
                "or mistyped. Ask the partner mission for its card again."
            )
        )
    return KeyCard(name=name, identity=identity)


# -- bundles


def sign_and_encrypt(payload: bytes, *, sender: Mission, recipient: PublicIdentity) -> bytes:
    """Sign ``payload`` with the sender mission's key, then encrypt it to ``recipient``."""
    identity = mission_identity(sender)
    signing_secret, box_secret = _private_keys(identity)
    header = (
        MAGIC
        + bytes([BUNDLE_VERSION])
        + bytes.fromhex(identity.fingerprint)
        + bytes.fromhex(recipient.fingerprint)
    )
    signature = bindings.crypto_sign(header + payload, signing_secret)[:_SIGNATURE_BYTES]
    nonce = nacl.utils.random(_NONCE_BYTES)
    boxed = bindings.crypto_box(signature + payload, nonce, bytes(recipient.box_key), box_secret)
    return header + nonce + boxed


def bundle_addresses(blob: bytes) -> tuple[str, str]:
    """(sender fingerprint, recipient fingerprint) a bundle claims, before any check."""
    if len(blob) < MIN_BUNDLE_BYTES or not blob.startswith(MAGIC):
        raise NotABundle(_("This file is not a Haven bundle, or it was cut short."))
    if blob[len(MAGIC)] != BUNDLE_VERSION:
        raise NotABundle(
            _("This bundle was made by a version of Haven this one does not know. Update Haven.")
        )
    start = len(MAGIC) + 1
    return (
        blob[start : start + FINGERPRINT_BYTES].hex(),
        blob[start + FINGERPRINT_BYTES : HEADER_BYTES].hex(),
    )


def open_bundle(
    blob: bytes, *, recipient: Mission, known_senders: Mapping[str, PublicIdentity]
) -> tuple[str, bytes]:
    """Verify and decrypt a bundle sent to ``recipient``; return (sender fingerprint, payload).

    ``known_senders`` maps fingerprints to the public identity of each partner the mission
    accepts bundles from. Raises ``NotABundle``, ``WrongRecipient``, ``UnknownSender`` or
    ``BundleTampered``.
    """
    blob = bytes(blob)
    sender_fingerprint, recipient_fingerprint = bundle_addresses(blob)
    identity = mission_identity(recipient)
    if not hmac.compare_digest(recipient_fingerprint, identity.fingerprint):
        raise WrongRecipient(
            _(
                "This bundle is addressed to another mission (key %(fingerprint)s), not to this "
                "one. Nothing was imported; tell the sender."
            )
            % {"fingerprint": grouped(recipient_fingerprint)}
        )
    sender = known_senders.get(sender_fingerprint)
    if sender is None:
        raise UnknownSender(
            _(
                "This bundle was sent by a mission that is not among your verified partners "
                "(key %(fingerprint)s). Nothing was imported. Add and verify the partner first."
            )
            % {"fingerprint": grouped(sender_fingerprint)}
        )
    if not hmac.compare_digest(sender.fingerprint, sender_fingerprint):
        raise UnknownSender(_("The partner's keys do not match the fingerprint given for them."))
    _signing_secret, box_secret = _private_keys(identity)
    nonce = blob[HEADER_BYTES : HEADER_BYTES + _NONCE_BYTES]
    tampered = BundleTampered(
        _(
            "This bundle was altered or damaged on the way, or was not made by the partner it "
            "names. Nothing was imported. Ask the sender for a new one."
        )
    )
    try:
        inner = bindings.crypto_box_open(
            blob[HEADER_BYTES + _NONCE_BYTES :], nonce, sender.box_key, box_secret
        )
    except nacl.exceptions.CryptoError:
        raise tampered from None
    if len(inner) < _SIGNATURE_BYTES:
        raise tampered
    signature, payload = inner[:_SIGNATURE_BYTES], inner[_SIGNATURE_BYTES:]
    try:
        bindings.crypto_sign_open(signature + blob[:HEADER_BYTES] + payload, sender.signing_key)
    except nacl.exceptions.CryptoError:
        raise tampered from None
    return sender_fingerprint, payload
