"""Mission identity keys, key cards and bundles: only the addressed mission opens a bundle,
only from a sender it knows, and any change on the way is detected."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haven.crypto.errors import (
    BundleTampered,
    KeyCardError,
    NotABundle,
    UnknownSender,
    WrongRecipient,
)
from haven.crypto.identity import (
    HEADER_BYTES,
    MAGIC,
    PublicIdentity,
    grouped,
    key_card,
    mission_identity,
    open_bundle,
    parse_key_card,
    public_identity,
    sign_and_encrypt,
)
from haven.crypto.models import MissionIdentity
from tests.factories import make_mission

PAYLOAD = b'{"schema": "test", "name": "Amina"}'


def _known(*missions: Any) -> dict[str, PublicIdentity]:
    return {public_identity(m).fingerprint: public_identity(m) for m in missions}


def test_identity_is_made_once_and_keeps_only_public_halves_in_the_clear(mission: Any) -> None:
    first = mission_identity(mission)
    again = mission_identity(mission)
    assert first.pk == again.pk
    assert first.created_now and not again.created_now
    stored = MissionIdentity.objects.get(pk=first.pk)
    assert len(bytes(stored.signing_public_key)) == 32
    assert len(bytes(stored.box_public_key)) == 32
    # Wrapped: format byte, nonce, both 32-byte secrets, tag; never the raw secrets.
    assert len(bytes(stored.wrapped_private_keys)) == 1 + 24 + 64 + 16


def test_key_card_round_trips_and_shows_the_fingerprint_in_groups(mission: Any) -> None:
    card = key_card(mission)
    parsed = parse_key_card(f"  some chat text\n{card}\nthanks")
    assert parsed.name == mission.name
    assert parsed.identity == public_identity(mission)
    assert grouped(parsed.fingerprint) in card
    assert len(grouped(parsed.fingerprint).split()) == 8


def test_key_card_with_a_changed_key_is_refused(mission: Any, other_mission: Any) -> None:
    card = key_card(mission).splitlines()
    theirs = key_card(other_mission).splitlines()
    # Someone swaps in another encryption key but leaves the fingerprint.
    swapped = [
        theirs[i] if line.startswith("Encryption key") else line for i, line in enumerate(card)
    ]
    with pytest.raises(KeyCardError, match="does not match"):
        parse_key_card("\n".join(swapped))


@pytest.mark.parametrize(
    "text", ["", "hello", "-----BEGIN HAVEN MISSION KEY CARD-----\nMission: x"]
)
def test_malformed_key_cards_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(KeyCardError):
        parse_key_card(text)


def test_bundle_opens_at_the_recipient_from_a_known_sender(
    mission: Any, other_mission: Any
) -> None:
    blob = sign_and_encrypt(PAYLOAD, sender=mission, recipient=public_identity(other_mission))
    assert blob.startswith(MAGIC)
    assert b"Amina" not in blob
    sender, payload = open_bundle(blob, recipient=other_mission, known_senders=_known(mission))
    assert sender == public_identity(mission).fingerprint
    assert payload == PAYLOAD


def test_bundle_for_another_mission_is_refused(mission: Any, other_mission: Any) -> None:
    third = make_mission()
    blob = sign_and_encrypt(PAYLOAD, sender=mission, recipient=public_identity(other_mission))
    with pytest.raises(WrongRecipient):
        open_bundle(blob, recipient=third, known_senders=_known(mission))


def test_bundle_from_an_unknown_sender_is_refused(mission: Any, other_mission: Any) -> None:
    blob = sign_and_encrypt(PAYLOAD, sender=mission, recipient=public_identity(other_mission))
    with pytest.raises(UnknownSender):
        open_bundle(blob, recipient=other_mission, known_senders={})


def test_bundle_readdressed_to_a_third_mission_is_detected(
    mission: Any, other_mission: Any
) -> None:
    # The recipient opens it and passes it on as if the first mission had sent it to C: it
    # can make the box (it knows C's public key and its own secret, not the sender's), but
    # the sender's signature names the first recipient.
    third = make_mission()
    blob = sign_and_encrypt(PAYLOAD, sender=mission, recipient=public_identity(other_mission))
    forged = sign_and_encrypt(PAYLOAD, sender=other_mission, recipient=public_identity(third))
    # Claim the original sender in the header of the forgery.
    forged = blob[: len(MAGIC) + 1 + 16] + forged[len(MAGIC) + 1 + 16 :]
    with pytest.raises(BundleTampered):
        open_bundle(forged, recipient=third, known_senders=_known(mission, other_mission))


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(position=st.integers(min_value=0, max_value=10_000))
def test_any_bit_flip_is_detected(mission: Any, other_mission: Any, position: int) -> None:
    blob = bytearray(
        sign_and_encrypt(PAYLOAD, sender=mission, recipient=public_identity(other_mission))
    )
    blob[position % len(blob)] ^= 0x04
    with pytest.raises((BundleTampered, NotABundle, WrongRecipient, UnknownSender)):
        open_bundle(bytes(blob), recipient=other_mission, known_senders=_known(mission))


def test_a_flipped_bit_in_the_body_is_reported_as_tampering(
    mission: Any, other_mission: Any
) -> None:
    blob = bytearray(
        sign_and_encrypt(PAYLOAD, sender=mission, recipient=public_identity(other_mission))
    )
    blob[HEADER_BYTES + 30] ^= 0x01
    with pytest.raises(BundleTampered, match="altered"):
        open_bundle(bytes(blob), recipient=other_mission, known_senders=_known(mission))


@pytest.mark.parametrize("keep", [0, 8, HEADER_BYTES, HEADER_BYTES + 40, -1])
def test_truncation_is_detected(mission: Any, other_mission: Any, keep: int) -> None:
    blob = sign_and_encrypt(PAYLOAD, sender=mission, recipient=public_identity(other_mission))
    with pytest.raises((NotABundle, BundleTampered)):
        open_bundle(blob[:keep], recipient=other_mission, known_senders=_known(mission))


def test_identity_keys_survive_kek_rotation_and_retirement(
    mission: Any, other_mission: Any, key_dir: Any, monkeypatch: Any
) -> None:
    from haven.crypto import keys, rotation
    from haven.crypto.cache import forget_all

    blob = sign_and_encrypt(PAYLOAD, sender=mission, recipient=public_identity(other_mission))
    version = rotation.create_kek_version()
    rotation.rewrap_to(version)
    assert set(MissionIdentity.objects.values_list("kek_version", flat=True)) == {version}
    monkeypatch.setattr(keys, "VERSION_RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(rotation, "RETIRE_AFTER_SECONDS", 0.0)
    assert rotation.retire_old_versions().retired == [1]
    forget_all()
    # Both private keys were re-wrapped: the recipient still opens, the sender still signs.
    assert open_bundle(blob, recipient=other_mission, known_senders=_known(mission))[1] == PAYLOAD
    again = sign_and_encrypt(PAYLOAD, sender=mission, recipient=public_identity(other_mission))
    assert open_bundle(again, recipient=other_mission, known_senders=_known(mission))[1] == PAYLOAD
