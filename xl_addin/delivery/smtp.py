"""The SMTP channel: each pack sent once over SMTP, through the send ledger, with retries and an honest outcome.

:class:`SmtpChannel` is what a batch run delivers through (see :mod:`.channel`): before sending it claims
the pack in the send ledger (:mod:`.ledger`), after the server's answer it records the outcome there, so
a rerun never sends a pack twice. :class:`Mailer` does the sending: one connection reused for the run,
retries with backoff.

Outcomes of one message:

- ``sent``: the server accepted the message for every recipient.
- ``partly sent``: accepted, but the server refused some recipients (their replies are in the reason).
- ``failed``: nothing was delivered; ``transient`` says whether a later run may succeed (4xx replies,
  refused connections, timeouts are retried here first) or not (5xx replies).
- ``in doubt``: the connection dropped after the whole message was transmitted and before the server's
  answer, so the server may have accepted it; it is not retried, to avoid sending it twice.

Failures that would repeat for every message (wrong password, TLS certificate not trusted, STARTTLS not
offered) are marked ``fatal`` so that a batch stops talking to the server instead of, say, trying a wrong
password two hundred times.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal

from .channel import Delivered, PackKey
from .ledger import Ledger
from .log import ClientLog
from .message import build_message, new_message_id
from .pack import Pack
from .settings import DeliverySettings

Outcome = Literal["sent", "partly sent", "failed", "in doubt"]


@dataclass(frozen=True)
class Attempt:
    """One SMTP attempt at one message, as written to the delivery log."""

    number: int
    outcome: Literal["sent", "partly sent", "transient", "permanent", "in doubt"]
    code: int | None
    reason: str


@dataclass(frozen=True)
class SendResult:
    """What finally happened to one message."""

    outcome: Outcome
    reason: str
    attempts: int
    transient: bool = False
    fatal: bool = False


class _PayloadTracking:
    """Notices when the end of DATA (CRLF.CRLF) has gone out, so a later drop can be called "in doubt"."""

    payload_sent = False

    def send(self, s: Any) -> None:
        super().send(s)  # type: ignore[misc]
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.payload_sent = True


class _SMTP(_PayloadTracking, smtplib.SMTP):
    pass


class _SMTPSSL(_PayloadTracking, smtplib.SMTP_SSL):
    pass


class SmtpChannel:
    """Sends each pack by SMTP exactly once: claimed in the send ledger first, its outcome recorded after.

    A pack the ledger has as sent is never sent again. One left ``sending`` (a run stopped while sending
    it) or ``in doubt`` is sent again only with ``resend_in_doubt``, under its first Message-ID, so that
    receiving systems can still recognise a duplicate. ``sleep`` waits between retries (tests pass a
    no-op).
    """

    dry_run = False

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        resend_in_doubt: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.resend_in_doubt = resend_in_doubt
        self._sleep = sleep
        self._ledger: Ledger | None = None
        self._mailer: Mailer | None = None

    def __enter__(self) -> SmtpChannel:
        self._ledger = Ledger(self.settings.ledger)
        self._mailer = Mailer(self.settings, sleep=self._sleep)
        return self

    def __exit__(self, *exc: object) -> None:
        mailer, ledger, self._mailer, self._ledger = self._mailer, self._ledger, None, None
        try:
            if mailer is not None:
                mailer.close()
        finally:
            if ledger is not None:
                ledger.close()

    def _open(self) -> tuple[Ledger, Mailer]:
        assert self._ledger is not None and self._mailer is not None, "use SmtpChannel as a context manager"
        return self._ledger, self._mailer

    def settled(self, key: PackKey) -> Delivered | None:
        """``already sent`` or ``in doubt`` from the ledger, or None when the pack is to be sent."""
        ledger, _ = self._open()
        previous = ledger.lookup(key)
        if previous is None:
            return None
        if previous.status == "sent":
            reason = f"sent before ({previous.updated}); nothing sent again"
            return Delivered("already sent", reason, previous.message_id)
        if previous.status in ("sending", "in doubt") and not self.resend_in_doubt:
            return Delivered("in doubt", in_doubt_reason(previous.reason), previous.message_id)
        return None

    def deliver(self, key: PackKey, pack: Pack, log: ClientLog) -> Delivered:
        """Claim the pack in the ledger, send it, record the outcome; each attempt goes to ``log``."""
        ledger, mailer = self._open()
        settings = self.settings
        claim = ledger.claim(
            key, new_message_id(settings.mail_from), log.run_id, resend_in_doubt=self.resend_in_doubt
        )
        if claim.decision == "already sent":  # another run sent it meanwhile
            log.write("already sent", message_id=claim.message_id)
            return Delivered("already sent", message_id=claim.message_id)
        if claim.decision == "in doubt":
            reason = in_doubt_reason(claim.previous.reason if claim.previous else "")
            log.write("in doubt", message_id=claim.message_id, reason=reason)
            return Delivered("in doubt", reason, claim.message_id)
        message = build_message(pack, key.to, key.cc, settings.mail_from, message_id=claim.message_id)
        server = f"{settings.smtp_host}:{settings.smtp_port}"

        def on_attempt(attempt: Attempt) -> None:
            log.write(
                "attempt",
                message_id=claim.message_id,
                attempt=attempt.number,
                outcome=attempt.outcome,
                code=attempt.code,
                reason=attempt.reason,
                server=server,
            )

        sent = mailer.send(message, [*key.to, *key.cc], on_attempt=on_attempt)
        # A partly refused message was still delivered to the others: never send it again.
        ledger.finish(
            key, "sent" if sent.outcome == "partly sent" else sent.outcome, sent.reason, sent.attempts
        )
        return Delivered(sent.outcome, sent.reason, claim.message_id, sent.attempts, stop=sent.fatal)


def in_doubt_reason(previous_reason: str) -> str:
    """Why a pack is not sent again: it may have arrived, so the operator looks first."""
    why = previous_reason or "a run stopped while sending it"
    return f"{why}; check the mailbox, and resend it only if it did not arrive"


class Mailer:
    """Sends messages through the server in ``settings``, one at a time, over one reused connection.

    Use as a context manager so the connection is closed at the end::

        with Mailer(settings) as mailer:
            result = mailer.send(message, ["cfo@acme.example"])
    """

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._connection: _SMTP | _SMTPSSL | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Say QUIT (if still connected) and close the connection."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def send(
        self,
        message: EmailMessage,
        recipients: Sequence[str],
        *,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> SendResult:
        """Send ``message`` to ``recipients`` (the envelope), retrying transient failures with backoff.

        ``on_attempt`` receives each attempt's outcome (for the log). The message is sent unchanged on
        every attempt, so its Message-ID stays the same.
        """

        def report(attempt: Attempt) -> None:
            if on_attempt is not None:
                on_attempt(attempt)

        settings = self.settings
        attempts = settings.retries + 1
        # Serialised once (CRLF line endings, as on the wire): every attempt sends exactly the same bytes.
        wire = message.as_bytes(policy=email.policy.SMTP)
        for number in range(1, attempts + 1):
            try:
                connection = self._connect()
                connection.payload_sent = False
                refused = connection.sendmail(settings.mail_from, list(recipients), wire)
            except Exception as exc:  # classified below; anything unexpected is a permanent failure
                payload_sent = self._connection is not None and self._connection.payload_sent
                self._drop()
                attempt, fatal = _classify(number, exc, payload_sent)
                report(attempt)
                if attempt.outcome == "transient" and number < attempts:
                    self._sleep(settings.retry_backoff * 2 ** (number - 1))
                    continue
                outcome: Outcome = "in doubt" if attempt.outcome == "in doubt" else "failed"
                reason = attempt.reason
                if attempt.outcome == "transient":
                    reason = f"{reason} (gave up after {number} attempts)"
                return SendResult(outcome, reason, number, attempt.outcome == "transient", fatal)
            if refused:
                reason = "refused by the server: " + "; ".join(
                    f"{address} ({_reply(code, text)})" for address, (code, text) in refused.items()
                )
                report(Attempt(number, "partly sent", None, reason))
                return SendResult("partly sent", reason, number)
            report(Attempt(number, "sent", 250, ""))
            return SendResult("sent", "", number)
        raise AssertionError("unreachable: the loop returns on its last attempt")

    # -- the connection ------------------------------------------------------------------------------

    def _connect(self) -> _SMTP | _SMTPSSL:
        """The open connection (checked with NOOP), or a new one: TLS as configured, then AUTH."""
        if self._connection is not None:
            try:
                if self._connection.noop()[0] == 250:
                    return self._connection
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        s = self.settings
        connection: _SMTP | _SMTPSSL
        if s.smtp_security == "ssl":
            connection = _SMTPSSL(
                s.smtp_host,
                s.smtp_port,
                local_hostname=s.smtp_helo,
                timeout=s.smtp_timeout,
                context=s.ssl_context(),
            )
        else:
            connection = _SMTP(s.smtp_host, s.smtp_port, local_hostname=s.smtp_helo, timeout=s.smtp_timeout)
        try:
            if s.smtp_security == "starttls":
                connection.ehlo()
                connection.starttls(context=s.ssl_context())
                connection.ehlo()
            if s.smtp_user and s.smtp_password is not None:
                connection.login(s.smtp_user, s.smtp_password)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}".strip()


def _classify(number: int, exc: BaseException, payload_sent: bool) -> tuple[Attempt, bool]:
    """An exception from one attempt -> (the attempt as logged, whether it will fail for every message)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reason = f"SMTP login refused for IMGOUT_SMTP_USER ({_reply(exc.smtp_code, exc.smtp_error)})"
        return Attempt(number, "permanent", exc.smtp_code, reason), True
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Attempt(number, "permanent", None, f"the server does not support it: {exc}"), True
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = f"TLS certificate not trusted ({exc.verify_message}); see IMGOUT_SMTP_CAFILE"
        return Attempt(number, "permanent", None, reason), True
    if isinstance(exc, ssl.SSLError):
        return Attempt(
            number, "permanent", None, f"TLS failed ({exc.reason or exc}); check IMGOUT_SMTP_SECURITY"
        ), True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = exc.recipients
        reason = "every recipient refused: " + "; ".join(
            f"{a} ({_reply(c, t)})" for a, (c, t) in replies.items()
        )
        transient = all(400 <= code < 500 for code, _ in replies.values())
        code = next(iter(replies.values()))[0] if replies else None
        return Attempt(number, "transient" if transient else "permanent", code, reason), False
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        outcome: Literal["transient", "permanent"] = "transient" if 400 <= code < 500 else "permanent"
        # 530 before MAIL: the server wants AUTH that is not configured; the same for every message.
        return Attempt(number, outcome, code, f"server replied {_reply(code, exc.smtp_error)}"), code == 530
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        what = "connection lost" if isinstance(exc, smtplib.SMTPServerDisconnected) else _os_reason(exc)
        if payload_sent:
            reason = f"{what} after the whole message was sent, before the server confirmed it: it may have arrived"
            return Attempt(number, "in doubt", None, reason), False
        return Attempt(number, "transient", None, what), False
    return Attempt(number, "permanent", None, f"{type(exc).__name__}: {exc}"), False


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the SMTP server running? see IMGOUT_SMTP_HOST/PORT)"
    if isinstance(exc, TimeoutError):
        return "timed out (see IMGOUT_SMTP_TIMEOUT)"
    return f"network error: {exc.strerror or exc}"
