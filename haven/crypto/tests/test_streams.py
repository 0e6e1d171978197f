"""Streaming file encryption: round trips, every kind of damage refused, bounded memory."""

from __future__ import annotations

import hashlib
import io
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haven.crypto.errors import DecryptionError, StreamError, UnknownKeyVersion
from haven.crypto.models import IntakeKey
from haven.crypto.sealing import create_intake_key, intake_public_key
from haven.crypto.streams import (
    ABYTES,
    HEADER_BYTES,
    FileSealer,
    decrypt_stream,
    encrypt_stream,
    iter_decrypted,
)

db_examples = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
CHUNK = 64


@pytest.fixture
def intake_key(mission: Any) -> IntakeKey:
    return create_intake_key(mission)


def _encrypt(mission: Any, data: bytes, *, context: bytes = b"", chunk_size: int = CHUNK) -> bytes:
    out = io.BytesIO()
    encrypt_stream(
        io.BytesIO(data),
        out,
        public_key=intake_public_key(mission),
        context=context,
        chunk_size=chunk_size,
    )
    return out.getvalue()


def _decrypt(mission: Any, blob: bytes, *, context: bytes = b"") -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(blob), out, mission=mission, context=context, what="attachment 7")
    return out.getvalue()


@db_examples
@given(
    data=st.binary(max_size=1000),
    context=st.binary(max_size=20),
    chunk_size=st.sampled_from([1, 7, 64, 1000]),
)
def test_stream_round_trips(
    mission: Any, intake_key: IntakeKey, data: bytes, context: bytes, chunk_size: int
) -> None:
    blob = _encrypt(mission, data, context=context, chunk_size=chunk_size)
    chunks = max(1, -(-len(data) // chunk_size))
    assert len(blob) == HEADER_BYTES + len(data) + chunks * ABYTES
    assert _decrypt(mission, blob, context=context) == data


@db_examples
@given(pieces=st.lists(st.binary(max_size=300), max_size=8))
def test_sealer_accepts_pieces_of_any_size(
    mission: Any, intake_key: IntakeKey, pieces: list[bytes]
) -> None:
    out = io.BytesIO()
    sealer = FileSealer(out, public_key=intake_public_key(mission), chunk_size=CHUNK)
    for piece in pieces:
        sealer.write(piece)
    sealer.close()
    assert _decrypt(mission, out.getvalue()) == b"".join(pieces)


DATA = bytes(range(256)) * 3  # 768 bytes: 12 chunks of 64


@db_examples
@given(position=st.integers(min_value=0, max_value=len(DATA) + HEADER_BYTES + 13 * ABYTES))
def test_any_bit_flip_is_detected(mission: Any, intake_key: IntakeKey, position: int) -> None:
    blob = bytearray(_encrypt(mission, DATA))
    blob[position % len(blob)] ^= 0x04
    with pytest.raises(DecryptionError):
        _decrypt(mission, bytes(blob))


@db_examples
@given(keep=st.integers(min_value=0, max_value=len(DATA) + HEADER_BYTES + 12 * ABYTES - 1))
def test_any_truncation_is_detected(mission: Any, intake_key: IntakeKey, keep: int) -> None:
    blob = _encrypt(mission, DATA)
    with pytest.raises(StreamError):
        _decrypt(mission, blob[:keep])


def test_truncation_at_a_chunk_boundary_is_detected(mission: Any, intake_key: IntakeKey) -> None:
    blob = _encrypt(mission, DATA)
    cut = HEADER_BYTES + 5 * (CHUNK + ABYTES)
    with pytest.raises(StreamError, match=r"attachment 7.*cut short"):
        _decrypt(mission, blob[:cut])


def test_appended_data_is_detected(mission: Any, intake_key: IntakeKey) -> None:
    blob = _encrypt(mission, DATA)
    with pytest.raises(StreamError, match="appended"):
        _decrypt(mission, blob + b"\x00")


def test_reordered_chunks_are_detected(mission: Any, intake_key: IntakeKey) -> None:
    blob = _encrypt(mission, DATA)
    size = CHUNK + ABYTES
    first, second = HEADER_BYTES, HEADER_BYTES + size
    swapped = (
        blob[:first] + blob[second : second + size] + blob[first:second] + blob[second + size :]
    )
    with pytest.raises(StreamError):
        _decrypt(mission, swapped)


def test_file_moved_to_another_record_is_refused(mission: Any, intake_key: IntakeKey) -> None:
    blob = _encrypt(mission, DATA, context=b"attachment-1")
    with pytest.raises(StreamError):
        _decrypt(mission, blob, context=b"attachment-2")


def test_file_for_another_mission_is_refused(
    mission: Any, other_mission: Any, intake_key: IntakeKey
) -> None:
    create_intake_key(other_mission)
    with pytest.raises(UnknownKeyVersion):
        _decrypt(other_mission, _encrypt(mission, DATA))


def test_unclosed_sealer_leaves_a_stream_that_is_refused(
    mission: Any, intake_key: IntakeKey
) -> None:
    out = io.BytesIO()
    sealer = FileSealer(out, public_key=intake_public_key(mission), chunk_size=CHUNK)
    sealer.write(DATA)
    with pytest.raises(StreamError, match="cut short"):
        _decrypt(mission, out.getvalue())


def test_plaintext_is_yielded_chunk_by_chunk(mission: Any, intake_key: IntakeKey) -> None:
    pieces = list(iter_decrypted(io.BytesIO(_encrypt(mission, DATA)), mission=mission))
    assert [len(piece) for piece in pieces] == [CHUNK] * 12
    assert b"".join(pieces) == DATA


class _HashSink:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)


def test_100_mb_file_streams_in_bounded_memory(
    mission: Any, intake_key: IntakeKey, tmp_path: Path
) -> None:
    mib = 1024 * 1024
    plain, sealed = tmp_path / "upload.bin", tmp_path / "upload.sealed"
    expected = hashlib.sha256()
    marker = b"CANARY-" + bytes(range(40))
    with plain.open("wb") as out:
        block = bytearray(hashlib.shake_256(b"haven").digest(mib))
        for n in range(100):
            block[:8] = n.to_bytes(8, "big")
            block[mib // 2 : mib // 2 + len(marker)] = marker
            out.write(block)
            expected.update(block)
    del block
    public_key = intake_public_key(mission)

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        with plain.open("rb") as src, sealed.open("wb") as dst:
            written = encrypt_stream(src, dst, public_key=public_key, context=b"attachment-1")
        encrypt_seconds = time.perf_counter() - started
        encrypt_peak = tracemalloc.get_traced_memory()[1] - baseline

        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        sink = _HashSink()
        started = time.perf_counter()
        with sealed.open("rb") as src:
            read = decrypt_stream(src, sink, mission=mission, context=b"attachment-1")
        decrypt_seconds = time.perf_counter() - started
        decrypt_peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()

    assert written == read == 100 * mib
    assert sink.digest.digest() == expected.digest()
    assert marker not in sealed.read_bytes()
    print(
        f"\n100 MiB stream: peak growth encrypt {encrypt_peak / mib:.2f} MiB"
        f" ({encrypt_seconds:.2f} s), decrypt {decrypt_peak / mib:.2f} MiB ({decrypt_seconds:.2f} s)"
    )
    assert encrypt_peak < 16 * mib
    assert decrypt_peak < 16 * mib
