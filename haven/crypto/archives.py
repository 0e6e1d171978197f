"""Archives that leave Haven: a stream encrypted under a key stretched from a passphrase.

A mission's complete exit export is meant to be opened elsewhere, by people holding only a
passphrase, so no Haven key (KEK, intake key) is involved. File format (big-endian):

    offset  size  content
    0       4     magic b"HVXA"
    4       1     format version, 0x01
    5       4     chunk size C in plaintext bytes
    9       4     Argon2id opslimit
    13      4     Argon2id memlimit in KiB
    17      16    Argon2id salt (random per archive)
    33      24    secretstream header
    57      ...   chunks: each C + 17 bytes, the last one 17 to C + 17 bytes and tagged FINAL

The key is Argon2id(passphrase normalised as for receipts, salt); every chunk is
``crypto_secretstream_xchacha20poly1305_push`` with the first 33 bytes as associated data, so
the header (including the KDF cost) cannot be altered without detection.

Invariants: the plaintext is never wholly in memory (about two chunks) and is only written
to the caller's destination; a truncated, extended, altered or wrongly keyed archive raises
``StreamError`` and the caller must discard whatever was already written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
from django.utils.translation import gettext as _
from nacl import bindings, utils

from haven.crypto.errors import StreamError
from haven.crypto.receipts import new_passphrase, normalise
from haven.crypto.streams import _read_full

MAGIC = b"HVXA"
ARCHIVE_FORMAT = 1
CHUNK_BYTES = 64 * 1024
# Moderate Argon2id cost: about a second on a laptop, so a guessed passphrase is expensive.
OPSLIMIT = 3
MEMLIMIT = 128 * 1024 * 1024
MIN_PASSPHRASE_CHARS = 20
_MAX_MEMLIMIT = 1024 * 1024 * 1024
_PREFIX_BYTES = 4 + 1 + 4 + 4 + 4 + argon2id.SALTBYTES  # 33
_STREAM_HEADER_BYTES: int = bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES
_ABYTES: int = bindings.crypto_secretstream_xchacha20poly1305_ABYTES
_TAG_MESSAGE: int = bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL: int = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL


def new_archive_passphrase() -> str:
    """Seven diceware words (about 90 bits), from the receipts' word list."""
    return new_passphrase()


def passphrase_long_enough(passphrase: str) -> bool:
    """At least ``MIN_PASSPHRASE_CHARS`` once case and extra spaces are set aside."""
    return len(normalise(passphrase)) >= MIN_PASSPHRASE_CHARS


def _key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return argon2id.kdf(
        bindings.crypto_secretstream_xchacha20poly1305_KEYBYTES,
        normalise(passphrase).encode("utf-8"),
        salt,
        opslimit=opslimit,
        memlimit=memlimit,
    )


class ArchiveWriter:
    """A file-like sink: everything written to it reaches ``dst`` encrypted.

    ``write()`` any number of times, then ``close()`` exactly once (an archive never closed
    lacks its final chunk, and opening it is refused as cut short).
    """

    def __init__(
        self,
        dst: BinaryIO,
        passphrase: str,
        *,
        opslimit: int = OPSLIMIT,
        memlimit: int = MEMLIMIT,
        chunk_size: int = CHUNK_BYTES,
    ) -> None:
        if not passphrase_long_enough(passphrase):
            raise ValueError(
                _("The passphrase must have at least %(count)d characters.")
                % {"count": MIN_PASSPHRASE_CHARS}
            )
        salt = utils.random(argon2id.SALTBYTES)
        self._prefix = (
            MAGIC
            + bytes([ARCHIVE_FORMAT])
            + chunk_size.to_bytes(4, "big")
            + opslimit.to_bytes(4, "big")
            + (memlimit // 1024).to_bytes(4, "big")
            + salt
        )
        self._dst = dst
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._closed = False
        self._state = bindings.crypto_secretstream_xchacha20poly1305_state()
        header = bindings.crypto_secretstream_xchacha20poly1305_init_push(
            self._state, _key(passphrase, salt, opslimit, memlimit)
        )
        dst.write(self._prefix + header)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("write() after close()")
        self._buffer += data
        while len(self._buffer) > self._chunk_size:
            self._push(bytes(self._buffer[: self._chunk_size]), _TAG_MESSAGE)
            del self._buffer[: self._chunk_size]
        return len(data)

    def flush(self) -> None:
        """Nothing to do: a chunk is written when full, the last one on ``close()``."""

    def close(self) -> None:
        if self._closed:
            return
        self._push(bytes(self._buffer), _TAG_FINAL)
        self._buffer.clear()
        self._closed = True

    def _push(self, chunk: bytes, tag: int) -> None:
        self._dst.write(
            bindings.crypto_secretstream_xchacha20poly1305_push(
                self._state, chunk, self._prefix, tag
            )
        )


def encrypt_archive(src: BinaryIO, dst: BinaryIO, passphrase: str, **cost: int) -> int:
    """Encrypt everything ``src`` yields into ``dst``; return the number of plaintext bytes."""
    writer = ArchiveWriter(dst, passphrase, **cost)
    total = 0
    while piece := src.read(CHUNK_BYTES):
        writer.write(piece)
        total += len(piece)
    writer.close()
    return total


def iter_archive(src: BinaryIO, passphrase: str) -> Iterator[bytes]:
    """Yield the plaintext of an archive chunk by chunk; ``StreamError`` if anything is wrong
    (wrong passphrase, altered, cut short or extended)."""

    def refuse(reason: str) -> StreamError:
        return StreamError(_("The archive cannot be opened: %(reason)s.") % {"reason": reason})

    prefix = _read_full(src, _PREFIX_BYTES)
    if len(prefix) < _PREFIX_BYTES or prefix[:4] != MAGIC:
        raise refuse(_("it is not a Haven exit archive, or its header is cut short"))
    if prefix[4] != ARCHIVE_FORMAT:
        raise refuse(_("its format version %(version)s is unknown") % {"version": prefix[4]})
    chunk_size = int.from_bytes(prefix[5:9], "big")
    opslimit = int.from_bytes(prefix[9:13], "big")
    memlimit = int.from_bytes(prefix[13:17], "big") * 1024
    if not (0 < chunk_size <= 1024 * 1024 and 0 < opslimit <= 32 and memlimit <= _MAX_MEMLIMIT):
        raise refuse(_("its header is damaged"))
    header = _read_full(src, _STREAM_HEADER_BYTES)
    if len(header) < _STREAM_HEADER_BYTES:
        raise refuse(_("it is cut short"))
    try:
        key = _key(passphrase, prefix[17:], opslimit, memlimit)
    except (nacl.exceptions.CryptoError, ValueError):
        raise refuse(_("its header is damaged")) from None
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
    block_size = chunk_size + _ABYTES
    first = True
    while True:
        block = _read_full(src, block_size)
        if len(block) < _ABYTES:
            raise refuse(_("it is cut short"))
        try:
            plaintext, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(
                state, block, prefix
            )
        except nacl.exceptions.CryptoError:
            if first:
                raise refuse(_("the passphrase is wrong, or the file was altered")) from None
            raise refuse(_("it was altered or cut short")) from None
        first = False
        if tag == _TAG_FINAL:
            if src.read(1):
                raise refuse(_("data was appended after its end"))
            yield plaintext
            return
        if tag != _TAG_MESSAGE or len(block) < block_size:
            raise refuse(_("it is cut short"))
        yield plaintext


def decrypt_archive(src: BinaryIO, dst: BinaryIO, passphrase: str) -> int:
    """Decrypt ``src`` into ``dst``; return the plaintext size. On ``StreamError`` discard
    ``dst``: part of it may already be written."""
    total = 0
    for piece in iter_archive(src, passphrase):
        dst.write(piece)
        total += len(piece)
    return total
