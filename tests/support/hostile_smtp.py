"""SMTP servers that misbehave on purpose, on 127.0.0.1: the deadline and size-cap tests' adversaries.

Each speaks just enough SMTP to reach its trick, then plays it for as long as the client stays:

- ``tarpit greeting``: the greeting trickles, one byte a second, and never ends;
- ``endless continuation``: EHLO is answered by ``250-`` continuation lines, as fast as the client reads;
- ``trickling reply``: everything is accepted, then the answer to the end of DATA trickles, a byte a second.

``messages`` counts the messages whose whole DATA arrived (what a client may have delivered).
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Literal

Trick = Literal["tarpit greeting", "endless continuation", "trickling reply"]


class HostileSMTPServer:
    """A thread serving one :data:`Trick` to every connection; use as a context manager."""

    def __init__(self, trick: Trick) -> None:
        self.trick = trick
        self.messages = 0
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> HostileSMTPServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket, text: bytes) -> None:
        for byte in text:
            if self._stop.wait(1.0):
                return
            connection.sendall(bytes([byte]))

    def _talk(self, connection: socket.socket) -> None:
        try:
            with connection, connection.makefile("rb") as reading:
                if self.trick == "tarpit greeting":
                    self._trickle(connection, b"220 " + b"x" * 100_000 + b"\r\n")
                    return
                connection.sendall(b"220 hostile.example ESMTP\r\n")
                while not self._stop.is_set():
                    line = reading.readline(10_000)
                    if not line:
                        return
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO") and self.trick == "endless continuation":
                        while not self._stop.is_set():
                            connection.sendall(b"250-PIPELINING and more of it\r\n" * 100)
                    elif verb == b"DATA":
                        connection.sendall(b"354 go ahead\r\n")
                        while reading.readline(1_000_000) not in (b".\r\n", b""):
                            pass
                        self.messages += 1
                        self._trickle(connection, b"250 2.0.0 queued, eventually" + b"." * 100_000 + b"\r\n")
                        return
                    elif verb == b"QUIT":
                        connection.sendall(b"221 bye\r\n")
                        return
                    else:
                        connection.sendall(b"250 OK\r\n")
        except OSError:  # the client gave up: that is the point
            return
