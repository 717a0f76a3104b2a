"""The SMTP conversation with deadlines, not timeouts: no server can hang a run or fill its memory.

smtplib's ``timeout`` bounds each read of the socket, so a server that trickles one byte a second, or
answers EHLO with endless ``250-`` continuation lines, keeps a run waiting (or growing) for ever.
:class:`Deadlines` (mixed into the SMTP classes of :mod:`.smtp`) reads every reply itself, with

- a deadline: the whole reply, however many lines, within ``timeout`` seconds of the command that asked
  for it (of the connection, for the greeting; of the end of DATA, for the final reply);
- a size cap: at most :data:`MAX_REPLY_BYTES` per reply.

Missing either closes the connection and raises (:class:`DeadlineExceeded`, a ``TimeoutError``;
:class:`ReplyTooLong`, a lost connection), which the sender records as failed, or in doubt after the
whole message went out.
"""

from __future__ import annotations

import math
import smtplib
import time
from typing import Any

#: The longest reply a server may give to one command (a large EHLO answer is about 1 KiB).
MAX_REPLY_BYTES = 64 * 1024
#: The commands named in an error; anything else sent (AUTH's responses) is called "AUTH", never quoted.
_COMMANDS = {"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT"}


class DeadlineExceeded(TimeoutError):
    """The server did not complete a reply in time: ``timed out: no complete answer to EHLO within 3 s``."""


class ReplyTooLong(smtplib.SMTPServerDisconnected):
    """The server's reply to one command went beyond :data:`MAX_REPLY_BYTES`."""


def _asked(sent: Any) -> str:
    """What a reply answers, named for a user: the command sent (never its arguments: they could hold
    a password), or the message itself after the end of DATA."""
    data = sent.encode("ascii", "replace") if isinstance(sent, str) else bytes(sent)
    if data.endswith(b"\r\n.\r\n"):
        return "the message (end of DATA)"
    verb = data.split(b" ", 1)[0].strip().upper().decode("ascii", "replace")
    return verb if verb in _COMMANDS else "AUTH"


class Deadlines:
    """A mixin for :class:`smtplib.SMTP` (and ``SMTP_SSL``): every reply complete within ``timeout``
    seconds of its command and at most :data:`MAX_REPLY_BYTES` long."""

    timeout: Any
    sock: Any
    file: Any
    _deadline = math.inf
    _awaiting = "the greeting"

    def _start(self, awaiting: str) -> None:
        self._awaiting = awaiting
        limit = self.timeout if isinstance(self.timeout, int | float) else None
        self._deadline = time.monotonic() + limit if limit else math.inf

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> Any:
        """Connect; the greeting must be complete within ``timeout`` of the start."""
        self._start("the greeting")
        return super().connect(host, port, source_address)  # type: ignore[misc]

    def send(self, s: Any) -> None:
        """Send a command (or the message); its reply's deadline starts once it has gone out."""
        super().send(s)  # type: ignore[misc]
        self._start(_asked(s))

    def getreply(self) -> tuple[int, bytes]:
        """smtplib's reply reader (RFC 5321 multi-line replies), bounded in time and size."""
        if self.file is None:
            self.file = self.sock.makefile("rb")
        lines: list[bytes] = []
        size = 0
        try:
            while True:
                line = self._line(size)
                size += len(line)
                if len(line) > smtplib._MAXLINE:  # type: ignore[attr-defined]
                    self.close()  # type: ignore[attr-defined]
                    raise smtplib.SMTPResponseException(500, "Line too long.")
                lines.append(line[4:].strip(b" \t\r\n"))
                try:
                    code = int(line[:3])
                except ValueError:
                    code = -1
                    break
                if line[3:4] != b"-":
                    break
        finally:
            if self.sock is not None and isinstance(self.timeout, int | float):
                self.sock.settimeout(self.timeout)  # the next command's send: the plain timeout again
        return code, b"\n".join(lines)

    def _line(self, size: int) -> bytes:
        """One reply line, read as the bytes arrive, so the deadline holds however slowly they come."""
        parts: list[bytes] = []
        while True:
            remaining = self._deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                self.sock.settimeout(remaining)
                chunk = self.file.peek(1)  # what is buffered, or at most one read of the socket
            except TimeoutError:
                self.close()  # type: ignore[attr-defined]
                raise DeadlineExceeded(
                    f"timed out: no complete answer to {self._awaiting} within {self.timeout:g} s"
                ) from None
            except OSError as exc:
                self.close()  # type: ignore[attr-defined]
                raise smtplib.SMTPServerDisconnected(f"Connection unexpectedly closed: {exc}") from None
            if not chunk:
                self.close()  # type: ignore[attr-defined]
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            end = chunk.find(b"\n")
            taken = self.file.read(end + 1 if end >= 0 else len(chunk))
            size += len(taken)
            if size > MAX_REPLY_BYTES:
                self.close()  # type: ignore[attr-defined]
                raise ReplyTooLong(
                    f"the server's answer to {self._awaiting} went beyond {MAX_REPLY_BYTES // 1024} KiB"
                )
            parts.append(taken)
            if end >= 0:
                return b"".join(parts)
