"""Streaming file encryption to a mission's intake key (libsodium secretstream).

File format (all integers big-endian):

    offset  size  content
    0       4     magic b"HVNF"
    4       1     format version, 0x01
    5       4     chunk size C in plaintext bytes (default 65536, at most 1 MiB)
    9       8     intake key fingerprint (see haven.crypto.sealing)
    17      80    crypto_box_seal(file key) to the intake public key
    97      24    secretstream header
    121     ...   chunks: each C + 17 bytes, the last one 17 to C + 17 bytes and tagged FINAL

Each chunk is ``crypto_secretstream_xchacha20poly1305_push`` of C plaintext bytes with the
associated data BLAKE2b-256 (personalised ``haven.filectx``) of the first 97 bytes and the
caller's ``context`` (for example the attachment row's uid). The file key is random per file.

Invariants: the plaintext is never wholly in memory (at most about two chunks) and never
written anywhere but to the caller's destination; the portal needs only the public key.
Reading refuses with ``StreamError`` a stream that is truncated (even at a chunk boundary),
extended, reordered, altered or moved to another context. Chunks already yielded before a
``StreamError`` were authentic, but the caller must discard the whole output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import BinaryIO, Protocol

import nacl.exceptions
from django.utils.translation import gettext as _
from nacl import bindings

from haven.core.models import Mission
from haven.crypto.errors import StreamError
from haven.crypto.sealing import FINGERPRINT_BYTES, PUBLIC_KEY_BYTES, fingerprint, intake_keypair

MAGIC = b"HVNF"
STREAM_FORMAT = 1
CHUNK_BYTES = 64 * 1024
MAX_CHUNK_BYTES = 1024 * 1024
ABYTES: int = bindings.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
_SEALED_KEY_BYTES = (
    bindings.crypto_secretstream_xchacha20poly1305_KEYBYTES + bindings.crypto_box_SEALBYTES
)
_PREFIX_BYTES = 4 + 1 + 4 + FINGERPRINT_BYTES + _SEALED_KEY_BYTES  # 97
_STREAM_HEADER_BYTES: int = bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES  # 24
HEADER_BYTES = _PREFIX_BYTES + _STREAM_HEADER_BYTES  # 121
_TAG_MESSAGE: int = bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL: int = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def _associated_data(prefix: bytes, context: bytes) -> bytes:
    return hashlib.blake2b(prefix + context, digest_size=32, person=b"haven.filectx").digest()


def _read_full(src: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, or fewer only at the end of the stream (short reads are retried)."""
    parts: list[bytes] = []
    wanted = size
    while wanted:
        part = src.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


class FileSealer:
    """Encrypts a file written to it piece by piece, e.g. by an upload handler as it arrives.

    ``write()`` any number of times, then ``close()`` exactly once; a sealer that is never
    closed leaves a stream without its final chunk, which reading refuses as truncated.
    """

    def __init__(
        self,
        dst: Writable,
        *,
        public_key: bytes | memoryview,
        context: bytes = b"",
        chunk_size: int = CHUNK_BYTES,
    ) -> None:
        public_key = bytes(public_key)
        if len(public_key) != PUBLIC_KEY_BYTES:
            raise ValueError("An intake public key is 32 bytes.")
        if not 0 < chunk_size <= MAX_CHUNK_BYTES:
            raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_BYTES}.")
        self._dst = dst
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._closed = False
        self.plaintext_bytes = 0
        file_key = bindings.crypto_secretstream_xchacha20poly1305_keygen()
        prefix = (
            MAGIC
            + bytes([STREAM_FORMAT])
            + chunk_size.to_bytes(4, "big")
            + fingerprint(public_key)
            + bindings.crypto_box_seal(file_key, public_key)
        )
        self._ad = _associated_data(prefix, context)
        self._state = bindings.crypto_secretstream_xchacha20poly1305_state()
        stream_header = bindings.crypto_secretstream_xchacha20poly1305_init_push(
            self._state, file_key
        )
        dst.write(prefix + stream_header)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closed:
            raise ValueError("write() after close()")
        self._buffer += data
        self.plaintext_bytes += len(data)
        # Hold back a full chunk until more arrives: only close() knows which chunk is last.
        while len(self._buffer) > self._chunk_size:
            self._push(bytes(self._buffer[: self._chunk_size]), _TAG_MESSAGE)
            del self._buffer[: self._chunk_size]

    def close(self) -> None:
        if self._closed:
            return
        self._push(bytes(self._buffer), _TAG_FINAL)
        self._buffer.clear()
        self._closed = True

    def _push(self, chunk: bytes, tag: int) -> None:
        self._dst.write(
            bindings.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, self._ad, tag)
        )


def encrypt_stream(
    src: BinaryIO,
    dst: Writable,
    *,
    public_key: bytes | memoryview,
    context: bytes = b"",
    chunk_size: int = CHUNK_BYTES,
) -> int:
    """Encrypt everything ``src`` yields into ``dst``; return the number of plaintext bytes."""
    sealer = FileSealer(dst, public_key=public_key, context=context, chunk_size=chunk_size)
    while piece := src.read(chunk_size):
        sealer.write(piece)
    sealer.close()
    return sealer.plaintext_bytes


def iter_decrypted(
    src: BinaryIO, *, mission: Mission, context: bytes = b"", what: str = ""
) -> Iterator[bytes]:
    """Yield the plaintext of an encrypted stream chunk by chunk (for downloads)."""
    return _iter_decrypted(
        src,
        lambda key_fingerprint, label: intake_keypair(mission, key_fingerprint, what=label),
        context=context,
        what=what,
    )


def iter_decrypted_with(
    src: BinaryIO, *, public_key: bytes, private_key: bytes, context: bytes = b"", what: str = ""
) -> Iterator[bytes]:
    """The same, with a keypair in hand (an upload spooled under a key of its own)."""
    return _iter_decrypted(
        src, lambda _fingerprint, _label: (public_key, private_key), context=context, what=what
    )


def _iter_decrypted(
    src: BinaryIO,
    keypair: Callable[[bytes, str], tuple[bytes, bytes]],
    *,
    context: bytes,
    what: str,
) -> Iterator[bytes]:
    what = what or _("Encrypted file")

    def refuse(reason: str) -> StreamError:
        return StreamError(
            _("%(what)s cannot be decrypted: %(reason)s.") % {"what": what, "reason": reason}
        )

    prefix = _read_full(src, _PREFIX_BYTES)
    if len(prefix) < _PREFIX_BYTES or prefix[:4] != MAGIC:
        raise refuse(_("it is not a Haven encrypted file, or its header is cut short"))
    if prefix[4] != STREAM_FORMAT:
        raise refuse(_("its format version %(version)s is unknown") % {"version": prefix[4]})
    chunk_size = int.from_bytes(prefix[5:9], "big")
    if not 0 < chunk_size <= MAX_CHUNK_BYTES:
        raise refuse(_("its header is damaged"))
    key_fingerprint = prefix[9 : 9 + FINGERPRINT_BYTES]
    public_key, private_key = keypair(key_fingerprint, what)
    try:
        file_key = bindings.crypto_box_seal_open(
            prefix[9 + FINGERPRINT_BYTES :], public_key, private_key
        )
    except nacl.exceptions.CryptoError:
        raise refuse(_("its key was altered")) from None
    stream_header = _read_full(src, _STREAM_HEADER_BYTES)
    if len(stream_header) < _STREAM_HEADER_BYTES:
        raise refuse(_("it is cut short"))
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, stream_header, file_key)
    ad = _associated_data(prefix, context)
    block_size = chunk_size + ABYTES
    while True:
        block = _read_full(src, block_size)
        if len(block) < ABYTES:
            raise refuse(_("it is cut short"))
        try:
            plaintext, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(state, block, ad)
        except nacl.exceptions.CryptoError:
            raise refuse(_("it was altered, reordered, cut short or belongs elsewhere")) from None
        if tag == _TAG_FINAL:
            if src.read(1):
                raise refuse(_("data was appended after its end"))
            yield plaintext
            return
        if tag != _TAG_MESSAGE or len(block) < block_size:
            raise refuse(_("it is cut short"))
        yield plaintext


def decrypt_stream(
    src: BinaryIO, dst: Writable, *, mission: Mission, context: bytes = b"", what: str = ""
) -> int:
    """Decrypt ``src`` into ``dst``; return the number of plaintext bytes written.

    On ``StreamError`` part of the plaintext may already be in ``dst``: discard it.
    """
    total = 0
    for piece in iter_decrypted(src, mission=mission, context=context, what=what):
        dst.write(piece)
        total += len(piece)
    return total
