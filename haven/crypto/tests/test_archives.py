"""Exit archives: only the passphrase opens them, and any damage is refused."""

from __future__ import annotations

import io
import os

import pytest

from haven.crypto.archives import (
    ArchiveWriter,
    decrypt_archive,
    encrypt_archive,
    new_archive_passphrase,
)
from haven.crypto.errors import StreamError

PASSPHRASE = "plenty of words in this long passphrase"
CHEAP = {"opslimit": 1, "memlimit": 8 * 1024 * 1024, "chunk_size": 1024}


def _sealed(data: bytes, **cost: int) -> bytes:
    out = io.BytesIO()
    encrypt_archive(io.BytesIO(data), out, PASSPHRASE, **{**CHEAP, **cost})
    return out.getvalue()


def _opened(blob: bytes, passphrase: str = PASSPHRASE) -> bytes:
    out = io.BytesIO()
    decrypt_archive(io.BytesIO(blob), out, passphrase)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, 1024, 1025, 5000])
def test_round_trip_and_no_plaintext_in_the_file(size: int) -> None:
    data = (b"canary-plaintext " * 400)[:size]
    blob = _sealed(data)
    assert _opened(blob) == data
    if size > 20:
        assert b"canary-plaintext" not in blob


def test_case_and_spacing_of_the_passphrase_do_not_matter() -> None:
    blob = _sealed(b"x" * 3000)
    assert _opened(blob, "  PLENTY of words in this long   passphrase ") == b"x" * 3000


def test_wrong_passphrase_refused() -> None:
    with pytest.raises(StreamError, match="passphrase is wrong"):
        _opened(_sealed(b"secret"), "another passphrase of enough length")


def test_tampering_truncation_and_extension_refused() -> None:
    blob = _sealed(os.urandom(4000))
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 1
    header_flip = bytearray(blob)
    header_flip[20] ^= 1
    chunk_end = 57 + 2 * (1024 + 17)  # cut exactly at a chunk boundary
    for damaged in (bytes(flipped), bytes(header_flip), blob[:-1], blob[:chunk_end], blob + b"x"):
        with pytest.raises(StreamError):
            _opened(damaged)


def test_an_unclosed_writer_is_refused_as_cut_short() -> None:
    out = io.BytesIO()
    writer = ArchiveWriter(out, PASSPHRASE, **CHEAP)
    writer.write(b"a" * 3000)
    with pytest.raises(StreamError):
        _opened(out.getvalue())


def test_short_passphrase_refused_and_generated_ones_are_long() -> None:
    with pytest.raises(ValueError):
        ArchiveWriter(io.BytesIO(), "too short", **CHEAP)
    generated = new_archive_passphrase()
    assert len(generated.split()) == 7 and len(generated) >= 20
    assert generated != new_archive_passphrase()
