"""Spooling an upload to disk without plaintext: encrypted as it arrives, under a keypair that
lives only in memory for the length of the request.

An upload can be larger than memory should hold, and Django would otherwise spool it to a
temporary file in the clear. A ``Spool`` writes it through ``FileSealer`` to a temporary file
under a fresh X25519 keypair; reading it back decrypts chunk by chunk. When the request ends
the file is deleted and the key forgotten, so what reached the disk cannot be read again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from nacl import bindings

from haven.crypto.streams import FileSealer, iter_decrypted_with


class Spool:
    def __init__(self, directory: str | None = None) -> None:
        self._public, self._private = bindings.crypto_box_keypair()
        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115  (closed by close())
        self._sealer = FileSealer(self._file, public_key=self._public, context=b"spool")
        self.size = 0

    def write(self, data: bytes) -> None:
        self._sealer.write(data)
        self.size += len(data)

    def finish(self) -> None:
        self._sealer.close()

    def chunks(self) -> Iterator[bytes]:
        """The plaintext, chunk by chunk, from the start."""
        self._file.seek(0)
        yield from iter_decrypted_with(
            self._file, public_key=self._public, private_key=self._private, context=b"spool"
        )

    def close(self) -> None:
        self._file.close()
        self._private = b""
