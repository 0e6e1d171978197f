"""Sealed boxes: the portal seals with the public key; only the workspace opens, and only in place."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haven.crypto.errors import DecryptionError, UnknownKeyVersion
from haven.crypto.models import IntakeKey
from haven.crypto.sealing import (
    create_intake_key,
    current_intake_key,
    intake_public_key,
    open_sealed,
    seal,
)

db_examples = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def intake_key(mission: Any) -> IntakeKey:
    return create_intake_key(mission)


@db_examples
@given(data=st.binary(max_size=4096), context=st.binary(max_size=40))
def test_sealed_payload_round_trips(
    mission: Any, intake_key: IntakeKey, data: bytes, context: bytes
) -> None:
    sealed = seal(intake_public_key(mission), data, context=context)
    assert open_sealed(mission, sealed, context=context) == data


def test_intake_key_keeps_only_the_public_half_in_the_clear(
    mission: Any, intake_key: IntakeKey
) -> None:
    stored = IntakeKey.objects.get(pk=intake_key.pk)
    assert len(bytes(stored.public_key)) == 32
    assert bytes(stored.public_key) == intake_public_key(mission)
    assert len(bytes(stored.wrapped_private_key)) == 1 + 24 + 32 + 16
    assert current_intake_key(mission).pk == intake_key.pk


def test_sealing_needs_no_key_material(
    mission: Any, intake_key: IntakeKey, key_dir: Any, settings: Any, tmp_path: Any
) -> None:
    # The portal holds the public key only: sealing works with no key directory at all.
    public_key = intake_public_key(mission)
    settings.HAVEN_KEY_PROVIDER = "env"
    settings.HAVEN_KEY_SECRETS_DIR = str(tmp_path / "nothing-mounted")
    sealed = seal(public_key, b"a request for help")
    settings.HAVEN_KEY_PROVIDER = "file"
    assert open_sealed(mission, sealed) == b"a request for help"


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(position=st.integers(min_value=0, max_value=200))
def test_any_bit_flip_is_detected(mission: Any, intake_key: IntakeKey, position: int) -> None:
    sealed = bytearray(seal(intake_public_key(mission), b"a request for help"))
    sealed[position % len(sealed)] ^= 0x10
    with pytest.raises(DecryptionError):
        open_sealed(mission, bytes(sealed))


@pytest.mark.parametrize("keep", [0, 8, 9, 40, 72, -1])
def test_truncation_is_detected(mission: Any, intake_key: IntakeKey, keep: int) -> None:
    sealed = seal(intake_public_key(mission), b"a request for help")
    with pytest.raises(DecryptionError):
        open_sealed(mission, sealed[:keep])


def test_payload_moved_to_another_record_is_refused(mission: Any, intake_key: IntakeKey) -> None:
    sealed = seal(intake_public_key(mission), b"for submission one", context=b"submission-1")
    with pytest.raises(DecryptionError, match=r"submission 2.*another record"):
        open_sealed(mission, sealed, context=b"submission-2", what="submission 2")


def test_payload_for_another_mission_is_refused(
    mission: Any, other_mission: Any, intake_key: IntakeKey
) -> None:
    create_intake_key(other_mission)
    sealed = seal(intake_public_key(mission), b"for the first mission")
    with pytest.raises(UnknownKeyVersion, match="elsewhere"):
        open_sealed(other_mission, sealed)


def test_old_intake_keys_still_open_what_was_sealed_to_them(
    mission: Any, intake_key: IntakeKey
) -> None:
    sealed = seal(intake_public_key(mission), b"sealed before the new key")
    newer = create_intake_key(mission)
    assert intake_public_key(mission) == bytes(newer.public_key)
    assert open_sealed(mission, sealed) == b"sealed before the new key"


def test_intake_key_moved_to_another_mission_does_not_unwrap(
    mission: Any, other_mission: Any, intake_key: IntakeKey
) -> None:
    sealed = seal(intake_public_key(mission), b"for the first mission")
    IntakeKey.objects.filter(pk=intake_key.pk).update(mission=other_mission)
    with pytest.raises(DecryptionError, match="Intake key"):
        open_sealed(other_mission, sealed)


def test_oversized_payloads_are_sent_to_streams(mission: Any, intake_key: IntakeKey) -> None:
    with pytest.raises(ValueError, match="streams"):
        seal(intake_public_key(mission), b"x" * (4 * 1024 * 1024 + 1))
