"""A TCP proxy on loopback between Haven and its database, that cuts, stalls or slows the
connections it carries: the database network failing as it does in production.

One thread accepts; each connection gets two pumping threads (one per direction). ``cut()``
resets every connection open now (the peer sees a reset, as after a dropped route or a
restarted server); ``refusing()`` closes new connections at once (the server is down);
``stall()`` holds every byte in both directions for a while (a frozen network); ``slow()`` adds a
delay to every chunk. Nothing is kept about the bytes that pass.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator

CHUNK = 65536


class FaultProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._open = threading.Event()  # cleared while stalled
        self._open.set()
        self._refusing = False
        self.delay = 0.0
        self._closed = False
        self.cuts = 0  # connections reset by cut()
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

    # -- faults

    def cut(self) -> int:
        """Reset every connection open now; returns how many were cut."""
        with self._lock:
            pairs = list(self._pairs)
            self._pairs.clear()
        for pair in pairs:
            for end in pair:
                _reset(end)
        self.cuts += len(pairs)
        return len(pairs)

    @contextlib.contextmanager
    def refusing(self) -> Iterator[None]:
        """New connections are closed at once, and open ones cut, for the block."""
        self._refusing = True
        self.cut()
        try:
            yield
        finally:
            self._refusing = False

    def stall(self, seconds: float) -> None:
        """Hold every byte, both ways, for ``seconds`` (returns at once)."""
        self._open.clear()
        timer = threading.Timer(seconds, self._open.set)
        timer.daemon = True
        timer.start()

    def slow(self, seconds_per_chunk: float) -> None:
        """Delay every chunk by ``seconds_per_chunk`` (0 for full speed again)."""
        self.delay = seconds_per_chunk

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def close(self) -> None:
        self._closed = True
        self._open.set()
        self.cut()
        self._listener.close()

    # -- pumping

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _reset(client)
                continue
            pair = (client, server)
            with self._lock:
                self._pairs.add(pair)
            for source, target in (pair, pair[::-1]):
                threading.Thread(
                    target=self._pump, args=(source, target, pair), daemon=True
                ).start()

    def _pump(
        self,
        source: socket.socket,
        target: socket.socket,
        pair: tuple[socket.socket, socket.socket],
    ) -> None:
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                self._open.wait()
                if self.delay:
                    time.sleep(self.delay)
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._pairs.discard(pair)
            for end in pair:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    end.close()


def _reset(end: socket.socket) -> None:
    """Close with a reset (RST), not a polite FIN: what a cut route looks like to the peer."""
    with contextlib.suppress(OSError):
        end.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        end.shutdown(socket.SHUT_RD)  # wakes the pumping thread blocked on it; sends nothing
    with contextlib.suppress(OSError):
        end.close()
