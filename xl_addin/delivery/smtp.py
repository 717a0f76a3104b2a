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
password two hundred times. So is a server that cannot be reached ``give_up_after`` times in a row
(refused, timed out, unreachable: a circuit breaker), so that a batch of 200 clients fails in seconds,
not in an hour of retries.

The password is sent as UTF-8 (AUTH PLAIN and LOGIN; any password the server accepts works) and never
appears in a reason: a failure during login is reported by its kind only, and every reason is scrubbed
of the password in the forms it travels in. With ``IMGOUT_SMTP_AUTH=xoauth2`` the login is SASL XOAUTH2
with an OAuth 2.0 token instead (:mod:`.oauth`), scrubbed the same way.
"""

from __future__ import annotations

import base64
import contextlib
import email.policy
import hmac
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal, Protocol

from ..errors import LedgerError, TokenError
from .channel import Delivered, PackKey
from .conversation import DeadlineExceeded, Deadlines, ReplyTooLong
from .ledger import Ledger, RecipientStatus, decide
from .log import ClientLog
from .message import build_message, new_message_id
from .oauth import Tokens, login_xoauth2
from .pack import Pack
from .settings import MAX_WAIT, DeliverySettings

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
    #: Recipients the server refused -> its reply (partly sent, or every recipient refused).
    refused: dict[str, str] = field(default_factory=dict)
    #: The server could not be reached ``give_up_after`` times in a row (``fatal`` too).
    unreachable: bool = False
    #: For an unreachable server: what the connections met, and how often in a row.
    cause: str = ""


class Sender(Protocol):
    """What :class:`SmtpChannel` sends through: :class:`Mailer` (SMTP), or :class:`.graph.GraphSender`."""

    @property
    def server(self) -> str:
        """Where messages go, for the log: ``host:port``, or Graph's URL."""
        ...

    @property
    def payload_sent(self) -> bool:
        """Whether the last message went out whole (a drop after that leaves it in doubt)."""
        ...

    def send(
        self,
        message: EmailMessage,
        recipients: Sequence[str],
        *,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> SendResult:
        """Send ``message`` to ``recipients``, retrying what is worth retrying."""
        ...

    def close(self) -> None:
        """Let go of the connection."""
        ...


class _LoginFailed(Exception):
    """AUTH failed other than by the server's refusal; carries the kind of failure, never its text."""


class _PayloadTracking:
    """Notices when the end of DATA (CRLF.CRLF) has gone out, so a later drop can be called "in doubt";
    and authenticates in UTF-8 (smtplib encodes AUTH as ASCII, which fails for "Pässwort")."""

    payload_sent = False
    _auth_challenge_count = 0
    user: str
    password: str

    def send(self, s: Any) -> None:
        super().send(s)  # type: ignore[misc]
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.payload_sent = True

    def auth(
        self, mechanism: str, authobject: Callable[..., str | None], *, initial_response_ok: bool = True
    ) -> Any:
        """smtplib's AUTH exchange (RFC 4954), with every response encoded as UTF-8 (RFC 4616)."""
        docmd = self.docmd  # type: ignore[attr-defined]
        mechanism = mechanism.upper()
        initial = authobject() if initial_response_ok else None
        if initial is not None:
            code, reply = docmd("AUTH", f"{mechanism} {_b64(initial)}")
            self._auth_challenge_count = 1
        else:
            code, reply = docmd("AUTH", mechanism)
            self._auth_challenge_count = 0
        while code == 334:
            self._auth_challenge_count += 1
            if self._auth_challenge_count > 5:
                raise smtplib.SMTPException("the server kept asking for more AUTH data")
            response = authobject(base64.decodebytes(reply))
            code, reply = docmd(_b64(response or ""))
        if code in (235, 503):
            return code, reply
        raise smtplib.SMTPAuthenticationError(code, reply)

    def auth_cram_md5(self, challenge: Any = None) -> Any:
        """CRAM-MD5 with the password's UTF-8 bytes as the key."""
        if challenge is None:
            return None
        return f"{self.user} {hmac.HMAC(self.password.encode('utf-8'), challenge, 'md5').hexdigest()}"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class _SMTP(_PayloadTracking, Deadlines, smtplib.SMTP):
    pass


class _SMTPSSL(_PayloadTracking, Deadlines, smtplib.SMTP_SSL):
    pass


class SmtpChannel:
    """Sends each pack by SMTP exactly once per recipient: claimed in the send ledger first, recorded after.

    A recipient the ledger has as sent is never sent to again; the others of a pack (new, or refused
    before) are, under the pack's first Message-ID. A pack a live run is sending is left to that run
    (``in progress``); one in doubt (it may have arrived) is sent again only with ``resend_in_doubt``.
    ``sleep`` waits between retries (tests pass a no-op).
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
        self._mailer: Sender | None = None

    def __enter__(self) -> SmtpChannel:
        self._ledger = Ledger(self.settings.ledger)
        self._mailer = self._sender()
        return self

    def _sender(self) -> Sender:
        """What the packs go out through: SMTP here (the Graph channel sends through Graph)."""
        return Mailer(self.settings, sleep=self._sleep)

    def __exit__(self, *exc: object) -> None:
        mailer, ledger, self._mailer, self._ledger = self._mailer, self._ledger, None, None
        try:
            if mailer is not None:
                mailer.close()
        finally:
            if ledger is not None:
                ledger.close()

    def _open(self) -> tuple[Ledger, Sender]:
        assert self._ledger is not None and self._mailer is not None, "use SmtpChannel as a context manager"
        return self._ledger, self._mailer

    def settled(self, key: PackKey) -> Delivered | None:
        """What the ledger says settles this pack now (already sent, in doubt, in progress), or None."""
        ledger, _ = self._open()
        previous = ledger.lookup(key)
        if previous is None:
            return None
        decision, _, reason = decide(key, previous, self.resend_in_doubt, ledger.opened)
        return _unsendable(decision, reason, previous.message_id, previous.updated)

    def last_figures(self, key: PackKey) -> str:
        """The headline figures of the last pack the ledger has as sent to ``key``'s client ('' for none)."""
        ledger, _ = self._open()
        return ledger.last_figures(key)

    def deliver(self, key: PackKey, pack: Pack, log: ClientLog) -> Delivered:
        """Claim the recipients to send to, send, record each one's outcome; each attempt goes to ``log``."""
        ledger, mailer = self._open()
        settings = self.settings
        try:
            claim = ledger.claim(
                key,
                new_message_id(settings.mail_from),
                log.run_id,
                resend_in_doubt=self.resend_in_doubt,
                figures=pack.figures,
            )
        except LedgerError as exc:  # locked too long, disk full: nothing was sent, and nothing more can be
            log.write("not sent", reason=str(exc))
            return Delivered("failed", f"not sent: {exc}", stop=True, stop_reason=str(exc))
        if claim.decision != "send":
            updated = claim.previous.updated if claim.previous else ""
            settled = _unsendable(claim.decision, claim.reason, claim.message_id, updated)
            assert settled is not None
            log.write(settled.status, message_id=claim.message_id, reason=settled.reason)
            return settled
        message = build_message(pack, key.to, key.cc, settings.mail_from, message_id=claim.message_id)
        spelled = {a.lower(): a for a in (*key.to, *key.cc)}
        envelope = [spelled[a] for a in claim.addresses]
        server = mailer.server

        def on_attempt(attempt: Attempt) -> None:
            log.write(
                "attempt",
                message_id=claim.message_id,
                recipients=envelope,
                attempt=attempt.number,
                outcome=attempt.outcome,
                code=attempt.code,
                reason=attempt.reason,
                server=server,
            )

        try:
            sent = mailer.send(message, envelope, on_attempt=on_attempt)
        except BaseException:  # Ctrl-C, SIGTERM: record what is known before the run stops
            arrived = mailer.payload_sent
            recorded: RecipientStatus = "in doubt" if arrived else "failed"
            why = (
                "interrupted after the whole message was sent: it may have arrived"
                if arrived
                else "interrupted before the message was sent"
            )
            with contextlib.suppress(LedgerError):
                ledger.finish(key, log.run_id, dict.fromkeys(claim.addresses, (recorded, why)), 1)
            raise
        outcomes = _outcomes(sent, claim.addresses)
        status, reason = _for_the_pack(sent, claim.addresses, set(key.addresses) - set(claim.addresses))
        stop_reason = f"server unreachable: {sent.cause}" if sent.unreachable else ""
        try:
            ledger.finish(key, log.run_id, outcomes, sent.attempts)
        except LedgerError as exc:
            return Delivered(
                status,
                f"{reason}; but the send ledger could not record it ({exc}): it will show as in doubt",
                claim.message_id,
                sent.attempts,
                stop=True,
                stop_reason=str(exc),
            )
        return Delivered(
            status, reason, claim.message_id, sent.attempts, stop=sent.fatal, stop_reason=stop_reason
        )


def _for_the_pack(sent: SendResult, addresses: Sequence[str], had_it: set[str]) -> tuple[Outcome, str]:
    """The client's status and reason after this send, counting the recipients ``had_it`` before."""
    if not had_it:
        if sent.outcome == "partly sent":
            return "partly sent", f"{sent.reason}; a rerun sends it to them only (same Message-ID)"
        return sent.outcome, sent.reason
    others = "the other recipients had it already"
    if sent.outcome == "sent":
        return "sent", f"to {', '.join(addresses)} ({others})"
    if sent.outcome in ("failed", "partly sent"):
        return "partly sent", f"{sent.reason}; {others}; a rerun sends it to the rest only (same Message-ID)"
    return sent.outcome, sent.reason


def _unsendable(decision: str, reason: str, message_id: str, updated: str) -> Delivered | None:
    """The run's result for a pack the ledger says not to send now (None: send it)."""
    if decision == "already sent":
        return Delivered("already sent", f"sent before ({updated}); nothing sent again", message_id)
    if decision == "in doubt":
        return Delivered("in doubt", in_doubt_reason(reason), message_id)
    if decision == "in progress":
        return Delivered("in progress", f"{reason}; it is left to that run", message_id)
    return None


def _outcomes(sent: SendResult, addresses: Sequence[str]) -> dict[str, tuple[RecipientStatus, str]]:
    """Each claimed recipient's outcome for the ledger."""
    refused = {a.lower(): why for a, why in sent.refused.items()}
    if sent.outcome == "in doubt":
        return dict.fromkeys(addresses, ("in doubt", sent.reason))
    if sent.outcome == "failed":
        return {a: ("failed", refused.get(a, sent.reason)) for a in addresses}
    return {
        a: ("failed", f"refused by the server ({refused[a]})") if a in refused else ("sent", "")
        for a in addresses
    }


def in_doubt_reason(why: str) -> str:
    """Why a pack is not sent again: it may have arrived, so the operator looks first."""
    why = why or "a run stopped while sending it"
    return f"{why}; check the mailbox, then say whether it arrived (it is sent again only when asked)"


class Mailer:
    """Sends messages through the server in ``settings``, one at a time, over one reused connection.

    Use as a context manager so the connection is closed at the end::

        with Mailer(settings) as mailer:
            result = mailer.send(message, ["cfo@acme.example"])

    It counts connection failures in a row across messages: after ``settings.give_up_after`` of them it
    stops retrying and says the server is unreachable (``SendResult.unreachable``).
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
        self._unreachable_in_a_row = 0
        self._payload_sent = False
        self._tokens: Tokens | None = None

    @property
    def server(self) -> str:
        """``host:port`` of the SMTP server (for the log)."""
        return f"{self.settings.smtp_host}:{self.settings.smtp_port}"

    @property
    def tokens(self) -> Tokens:
        """The OAuth tokens this mailer logs in with (IMGOUT_SMTP_AUTH=xoauth2), kept for the run."""
        if self._tokens is None:
            self._tokens = Tokens(self.settings, "smtp")
        return self._tokens

    def log_in(self) -> str:
        """Connect and log in as a send would, and send nothing: "" when that works, else why (one line)."""
        try:
            self._connect()
        except Exception as exc:
            self._drop()
            attempt, _, _ = _classify(1, exc, False)
            return self._scrub(attempt.reason)
        return ""

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def payload_sent(self) -> bool:
        """Whether the last message's whole content went out (on the current or the last connection)."""
        return self._payload_sent or (self._connection is not None and self._connection.payload_sent)

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
        self._payload_sent = False
        if self._connection is not None:  # the flag still says the previous message went out
            self._connection.payload_sent = False
        # Serialised once (CRLF line endings, as on the wire): every attempt sends exactly the same bytes.
        wire = message.as_bytes(policy=email.policy.SMTP)
        for number in range(1, attempts + 1):
            try:
                connection = self._connect()
                connection.payload_sent = False
                refused = connection.sendmail(settings.mail_from, list(recipients), wire)
            except Exception as exc:  # classified below; anything unexpected is a permanent failure
                payload_sent = self.payload_sent
                self._drop()
                attempt, fatal, unreachable = _classify(number, exc, payload_sent)
                attempt = Attempt(attempt.number, attempt.outcome, attempt.code, self._scrub(attempt.reason))
                report(attempt)
                self._unreachable_in_a_row = self._unreachable_in_a_row + 1 if unreachable else 0
                if self._unreachable_in_a_row >= settings.give_up_after:
                    reason = (
                        f"{attempt.reason} ({self._unreachable_in_a_row} connection failures in a row: "
                        "the server is unreachable)"
                    )
                    cause = f"{attempt.reason}, {self._unreachable_in_a_row} times in a row"
                    return SendResult("failed", reason, number, True, True, unreachable=True, cause=cause)
                if attempt.outcome == "transient" and number < attempts:
                    self._sleep(min(settings.retry_backoff * 2 ** (number - 1), MAX_WAIT))
                    continue
                outcome: Outcome = "in doubt" if attempt.outcome == "in doubt" else "failed"
                reason = attempt.reason
                if attempt.outcome == "transient":
                    reason = f"{reason} (gave up after {number} attempts)"
                refusals = (
                    {a: _reply(c, t) for a, (c, t) in exc.recipients.items()}
                    if isinstance(exc, smtplib.SMTPRecipientsRefused)
                    else {}
                )
                return SendResult(outcome, reason, number, attempt.outcome == "transient", fatal, refusals)
            self._unreachable_in_a_row = 0
            if refused:
                refusals = {address: _reply(code, text) for address, (code, text) in refused.items()}
                reason = "refused by the server: " + "; ".join(f"{a} ({r})" for a, r in refusals.items())
                report(Attempt(number, "partly sent", None, reason))
                return SendResult("partly sent", reason, number, refused=refusals)
            report(Attempt(number, "sent", 250, ""))
            return SendResult("sent", "", number)
        raise AssertionError("unreachable: the loop returns on its last attempt")

    def _scrub(self, text: str) -> str:
        """``text`` without the password, in any of the forms it travels in (plain, base64, AUTH PLAIN)."""
        if self._tokens is not None:
            text = self._tokens.scrub(text)
        password, user = self.settings.smtp_password, self.settings.smtp_user or ""
        if not password:
            return text
        forms = {
            password,
            repr(password)[1:-1],
            _b64(password),
            _b64(f"\0{user}\0{password}"),
            _b64(f"\0{user}\0{password}").rstrip("="),
        }
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "[password]")
        return text

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
            if s.smtp_auth == "xoauth2":
                login_xoauth2(connection, s.smtp_user or "", self.tokens)
            elif s.smtp_user and s.smtp_password is not None:
                try:
                    connection.login(s.smtp_user, s.smtp_password)
                except (smtplib.SMTPException, OSError):
                    raise
                except Exception as exc:  # its text could quote the password: only its kind is kept
                    raise _LoginFailed(type(exc).__name__) from None
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._payload_sent = self._payload_sent or connection.payload_sent
            connection.close()


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}".strip()


def _classify(number: int, exc: BaseException, payload_sent: bool) -> tuple[Attempt, bool, bool]:
    """An exception from one attempt -> (the attempt as logged, whether it will fail for every message,
    whether the server could not be reached at all)."""
    if isinstance(exc, TokenError):  # no token, or a fresh one refused too: the same for every message
        return Attempt(number, "permanent", None, str(exc)), True, False
    if isinstance(exc, _LoginFailed):
        reason = f"SMTP login failed ({exc}) for IMGOUT_SMTP_USER; the password is not shown"
        return Attempt(number, "permanent", None, reason), True, False
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reason = f"SMTP login refused for IMGOUT_SMTP_USER ({_reply(exc.smtp_code, exc.smtp_error)})"
        return Attempt(number, "permanent", exc.smtp_code, reason), True, False
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Attempt(number, "permanent", None, f"the server does not support it: {exc}"), True, False
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = f"TLS certificate not trusted ({exc.verify_message}); see IMGOUT_SMTP_CAFILE"
        return Attempt(number, "permanent", None, reason), True, False
    if isinstance(exc, ssl.SSLError):
        reason = (
            f"TLS failed ({exc.reason or exc}); check that IMGOUT_SMTP_SECURITY matches the server's port"
        )
        return Attempt(number, "permanent", None, reason), True, False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = exc.recipients
        reason = "every recipient refused: " + "; ".join(
            f"{a} ({_reply(c, t)})" for a, (c, t) in replies.items()
        )
        transient = all(400 <= code < 500 for code, _ in replies.values())
        code = next(iter(replies.values()))[0] if replies else None
        return Attempt(number, "transient" if transient else "permanent", code, reason), False, False
    if isinstance(exc, smtplib.SMTPConnectError):  # the greeting was a refusal (421 busy): not reachable
        return (
            Attempt(
                number,
                "transient",
                exc.smtp_code,
                f"server refused the connection ({_reply(exc.smtp_code, exc.smtp_error)})",
            ),
            False,
            True,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        outcome: Literal["transient", "permanent"] = "transient" if 400 <= code < 500 else "permanent"
        # 530 before MAIL: the server wants AUTH that is not configured; the same for every message.
        return (
            Attempt(number, outcome, code, f"server replied {_reply(code, exc.smtp_error)}"),
            code == 530,
            False,
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        what = _lost(exc)
        if payload_sent:
            reason = f"{what} after the whole message was sent, before the server confirmed it: it may have arrived"
            return Attempt(number, "in doubt", None, reason), False, False
        return Attempt(number, "transient", None, what), False, True
    return Attempt(number, "permanent", None, f"{type(exc).__name__}: {exc}"), False, False


def _lost(exc: BaseException) -> str:
    """What happened to the connection, in words: a timeout is a timeout, whatever smtplib wrapped it in."""
    cause = exc.__context__ if isinstance(exc, smtplib.SMTPServerDisconnected) else exc
    if isinstance(exc, DeadlineExceeded | ReplyTooLong):
        return f"{exc} (see IMGOUT_SMTP_TIMEOUT)" if isinstance(exc, DeadlineExceeded) else str(exc)
    if isinstance(exc, TimeoutError) or isinstance(cause, TimeoutError):
        return "timed out (see IMGOUT_SMTP_TIMEOUT)"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "connection lost"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the SMTP server running? see IMGOUT_SMTP_HOST/PORT)"
    if isinstance(exc, socket.gaierror):
        return f"the server's name cannot be resolved ({exc.strerror or exc}; see IMGOUT_SMTP_HOST)"
    assert isinstance(exc, OSError)
    return f"network error: {exc.strerror or exc}"
