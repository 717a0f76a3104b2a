"""The Microsoft Graph channel: each pack sent once through ``sendMail``, and a lost answer looked up, not guessed.

:class:`GraphChannel` is the SMTP channel's exactly-once machinery (claim in the send ledger, send,
record; :class:`~.smtp.SmtpChannel`) with :class:`GraphSender` in place of SMTP. It sends the very MIME
message the SMTP channel would, as Graph's ``sendMail`` takes it (Microsoft Graph, "user: sendMail",
example "Send a new message using MIME format"):

    POST {IMGOUT_GRAPH_URL}/users/{sender}/sendMail
    Authorization: Bearer <token>
    Content-Type: text/plain

    <the MIME message, base64>

and expects ``202 Accepted``. Outcomes, one line each:

- ``202``: sent. Graph keeps the message's Message-ID (its ``internetMessageId``) and files a copy in
  the sender's Sent Items.
- ``429`` and ``503``: throttled; waited for as its ``Retry-After`` says (at most five minutes), retried.
- ``401``: the token is fetched again once and the request repeated; refused again, the run stops.
- ``403`` (no ``Mail.Send``, or an application access policy leaves the mailbox out), ``404`` (no such
  mailbox): the same for every pack, so the run stops.
- other ``4xx``: this pack's problem (permanent).
- ``500``, ``502``, ``504`` and a connection lost after the whole request went out: Graph may have sent
  it, so the pack is ``in doubt``.

In doubt, look it up: before a pack the ledger has in doubt is sent again, the sender's mailbox is searched
for its Message-ID (``GET /users/{sender}/messages?$filter=internetMessageId eq '<...>'``, which needs the
``Mail.ReadBasic.All`` or ``Mail.Read`` permission). Found: recorded as sent (by whom: this lookup), never
sent again. Not found: left in doubt, sent again only when asked (``--resend-in-doubt``).

Plain ``http://`` is refused except to this machine (the settings check ``IMGOUT_GRAPH_URL``): a token
never crosses a network in clear.
"""

from __future__ import annotations

import base64
import contextlib
import email.policy
import email.utils
import http.client
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from urllib.parse import SplitResult, quote, unquote, urlsplit

from .. import __version__
from ..errors import LedgerError, TokenError
from .channel import Delivered, PackKey
from .ledger import decide
from .oauth import Tokens, token_claims
from .settings import MAX_WAIT, DeliverySettings, is_loopback_url
from .smtp import Attempt, Sender, SendResult, SmtpChannel, _unsendable

#: Who records a pack found by the lookup (the ledger's "resolved by").
#: The most of an answer Graph's is read (a sendMail answer is empty, a lookup a few hundred bytes).
MAX_ANSWER_BYTES = 1024 * 1024

LOOKUP_ACTOR = "imgout (found by Microsoft Graph lookup)"
#: Answers after which Graph may have sent the message: in doubt, never retried blindly.
_IN_DOUBT_STATUSES = (500, 502, 504)


class GraphError(Exception):
    """One Graph answer that is not what was hoped for: its status, Graph's error code and message."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}" if code else f"{status} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class GraphChannel(SmtpChannel):
    """Sends each pack through Microsoft Graph exactly once per recipient, looking up packs left in doubt."""

    def _sender(self) -> Sender:
        return GraphSender(self.settings, sleep=self._sleep)

    def settled(self, key: PackKey) -> Delivered | None:
        """As for SMTP, after asking Graph about recipients in doubt: found in the sender's mailbox is sent."""
        ledger, sender = self._open()
        previous = ledger.lookup(key)
        if previous is None:
            return None
        doubtful = [
            r.address for r in previous.recipients if r.state == "in doubt" and r.address in key.addresses
        ]
        looked_up = ""
        if doubtful:
            assert isinstance(sender, GraphSender)
            found, looked_up = sender.look_up(previous.message_id)
            arrived = [a for a in doubtful if a in found]
            if arrived:
                try:
                    ledger.resolve(
                        previous.client,
                        True,
                        pack=previous.pack_key,
                        addresses=arrived,
                        note=f"Message-ID {previous.message_id} found in {self.settings.sender}'s mailbox",
                        by=LOOKUP_ACTOR,
                    )
                except LedgerError as exc:
                    return Delivered("in doubt", f"found by Microsoft Graph, but not recorded ({exc})")
                previous = ledger.lookup(key)
                assert previous is not None
        decision, _, reason = decide(key, previous, self.resend_in_doubt)
        if decision == "in doubt" and looked_up:
            reason = f"{reason}; {looked_up}"
        if decision == "already sent" and doubtful:
            return Delivered(
                "already sent",
                f"found in {self.settings.sender}'s mailbox by its Message-ID: it arrived; nothing sent again",
                previous.message_id,
            )
        return _unsendable(decision, reason, previous.message_id, previous.updated)


class GraphSender:
    """Sends messages with Microsoft Graph ``sendMail`` as ``settings.sender``; looks messages up by Message-ID.

    One HTTPS connection is reused for the run; retries and their waits follow the SMTP settings
    (``IMGOUT_SMTP_RETRIES``, ``_BACKOFF``, ``_GIVE_UP_AFTER``, ``_TIMEOUT``), and Graph's ``Retry-After``.
    """

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        tokens: Tokens | None = None,
    ) -> None:
        parts = urlsplit(settings.graph_url)
        if parts.scheme != "https" and not is_loopback_url(settings.graph_url):
            raise TokenError(f"Refusing to send a token to {settings.graph_url} without TLS: use https://")
        self.settings = settings
        self.tokens = tokens or Tokens(settings, "graph")
        self._sleep = sleep
        self._parts = parts
        self._connection: http.client.HTTPConnection | None = None
        self._payload_sent = False
        self._unreachable_in_a_row = 0

    @property
    def server(self) -> str:
        """Graph's URL (for the log)."""
        return self.settings.graph_url

    @property
    def payload_sent(self) -> bool:
        """Whether the last request went out whole (Graph may then have sent the message)."""
        return self._payload_sent

    def close(self) -> None:
        """Close the connection."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def __enter__(self) -> GraphSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending -------------------------------------------------------------------------------------

    def send(
        self,
        message: EmailMessage,
        recipients: Sequence[str],
        *,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> SendResult:
        """POST ``message`` (to ``recipients`` only) to ``sendMail``; retry what Graph says to retry.

        Graph takes the recipients from the message's To and Cc: when only some of them are to receive it
        now (the others have it), the message names only those.
        """
        settings = self.settings
        wire = _for_recipients(message, recipients).as_bytes(policy=email.policy.SMTP)
        body = base64.b64encode(wire)
        path = f"{self._parts.path}/users/{quote(settings.sender, safe='@')}/sendMail"
        attempts = settings.retries + 1
        self._payload_sent = False
        refreshed = False
        number = 0
        while number < attempts:
            number += 1
            self._payload_sent = False
            try:
                status, headers, answer = self._request("POST", path, body, "text/plain")
                if status == 202:
                    self._unreachable_in_a_row = 0
                    _report(on_attempt, Attempt(number, "sent", status, ""))
                    return SendResult("sent", "", number)
                raise _graph_error(status, headers, answer)
            except GraphError as exc:
                self._unreachable_in_a_row = 0
                if exc.status == 401 and not refreshed:  # an expired token: one fresh one, not an attempt
                    refreshed = True
                    _report(
                        on_attempt, Attempt(number, "transient", 401, "token refused; fetching a fresh one")
                    )
                    number -= 1
                    self._payload_sent = False
                    try:
                        self.tokens.refresh()
                    except TokenError as token_error:
                        return self._fatal(number + 1, str(token_error), on_attempt)
                    continue
                result = self._answered(number, attempts, exc, on_attempt)
                if result is not None:
                    return result
            except TokenError as exc:
                return self._fatal(number, str(exc), on_attempt)
            except ssl.SSLCertVerificationError as exc:
                reason = f"TLS certificate of {self._parts.hostname} not trusted ({exc.verify_message}); see IMGOUT_HTTPS_CAFILE"
                return self._fatal(number, reason, on_attempt)
            except (OSError, http.client.HTTPException) as exc:
                sent_whole = self._payload_sent
                self.close()
                what = _lost(exc, self._parts.netloc)
                if sent_whole:
                    reason = f"{what} after the whole message was sent to Microsoft Graph, before its answer: it may have been sent"
                    _report(on_attempt, Attempt(number, "in doubt", None, reason))
                    return SendResult("in doubt", reason, number)
                _report(on_attempt, Attempt(number, "transient", None, what))
                self._unreachable_in_a_row += 1
                if self._unreachable_in_a_row >= settings.give_up_after:
                    n = self._unreachable_in_a_row
                    reason = f"{what} ({n} connection failures in a row: Microsoft Graph is unreachable)"
                    return SendResult(
                        "failed",
                        reason,
                        number,
                        True,
                        True,
                        unreachable=True,
                        cause=f"{what}, {n} times in a row",
                    )
                if number < attempts:
                    self._sleep(min(settings.retry_backoff * 2 ** (number - 1), MAX_WAIT))
                    continue
                return SendResult(
                    "failed", f"{what} (gave up after {number} attempts)", number, transient=True
                )
        raise AssertionError("unreachable: the loop returns on its last attempt")

    def _answered(
        self, number: int, attempts: int, exc: GraphError, on_attempt: Callable[[Attempt], None] | None
    ) -> SendResult | None:
        """The result for a Graph answer other than 202 (None: wait and try again)."""
        said = f"Microsoft Graph answered {exc}"
        if exc.status in (429, 503):
            _report(on_attempt, Attempt(number, "transient", exc.status, said))
            if number < attempts:
                backoff = self.settings.retry_backoff * 2 ** (number - 1)
                self._sleep(min(exc.retry_after if exc.retry_after is not None else backoff, MAX_WAIT))
                return None
            return SendResult("failed", f"{said} (gave up after {number} attempts)", number, transient=True)
        if exc.status in _IN_DOUBT_STATUSES:
            reason = f"{said} after the whole message was sent: it may have been sent"
            _report(on_attempt, Attempt(number, "in doubt", exc.status, reason))
            return SendResult("in doubt", reason, number)
        if exc.status == 413:  # this pack only: Graph takes one request of about 4 MB at most
            said += "; the pack is too large for one sendMail request: send it without the PDF or by SMTP"
        fix = _GRAPH_FIXES.get(exc.status)
        if fix is not None:  # the same for every pack: stop the run
            return self._fatal(number, f"{said}; {fix(self.settings)}", on_attempt, exc.status)
        _report(on_attempt, Attempt(number, "permanent", exc.status, said))
        return SendResult("failed", said, number)

    def _fatal(
        self, number: int, reason: str, on_attempt: Callable[[Attempt], None] | None, code: int | None = None
    ) -> SendResult:
        reason = self.tokens.scrub(reason)
        _report(on_attempt, Attempt(number, "permanent", code, reason))
        return SendResult("failed", reason, number, fatal=True)

    # -- looking up ----------------------------------------------------------------------------------

    def look_up(self, message_id: str) -> tuple[set[str], str]:
        """The recipients (lower case) of messages in the sender's mailbox with ``message_id``, and what the
        lookup found, in words (for the reason of a pack left in doubt)."""
        query = (
            "$filter="
            + quote(f"internetMessageId eq '{message_id.replace(chr(39), chr(39) * 2)}'", safe="")
            + "&$select=internetMessageId,toRecipients,ccRecipients,bccRecipients"
        )
        path = f"{self._parts.path}/users/{quote(self.settings.sender, safe='@')}/messages?{query}"
        try:
            status, headers, answer = self._request("GET", path)
            if status != 200:
                raise _graph_error(status, headers, answer)
            found = json.loads(answer or b"{}").get("value", [])
        except GraphError as exc:
            fix = (
                " (grant the app Mail.ReadBasic.All or Mail.Read to look packs up)"
                if exc.status == 403
                else ""
            )
            return set(), f"Microsoft Graph could not look it up: {exc}{fix}"
        except (TokenError, OSError, http.client.HTTPException, ValueError, AttributeError) as exc:
            self.close()
            return (
                set(),
                f"Microsoft Graph could not look it up: {self.tokens.scrub(_lost(exc, self._parts.netloc))}",
            )
        addresses = {
            str(r.get("emailAddress", {}).get("address", "")).lower()
            for m in found
            if isinstance(m, dict)
            for field in ("toRecipients", "ccRecipients", "bccRecipients")
            for r in m.get(field) or []
            if isinstance(r, dict)
        }
        if not addresses:
            return (
                set(),
                f"Microsoft Graph finds no message with Message-ID {message_id} in {self.settings.sender}'s mailbox",
            )
        return addresses, ""

    def check(self) -> str:
        """Get a token and read the sender's mailbox without sending: "" when that works, else why (one line).

        The read is the lookup's own query (for a Message-ID no message has), so it also shows whether a
        pack in doubt can be looked up. A Microsoft token's roles say whether it carries ``Mail.Send``.
        """
        try:
            token = self.tokens.get()
        except TokenError as exc:
            return str(exc)
        roles = token_claims(token).get("roles")
        if isinstance(roles, list) and "Mail.Send" not in roles:
            return (
                f"the token has no Mail.Send role (it has {', '.join(map(str, roles)) or 'none'}); "
                + _GRAPH_FIXES[403](self.settings)
            )
        _, looked_up = self.look_up(
            f"<imgout-doctor-{uuid.uuid4().hex}@{self.settings.sender.split('@')[-1]}>"
        )
        if looked_up.startswith("Microsoft Graph could not"):
            return looked_up
        return ""

    # -- HTTP ----------------------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request on the kept connection (a new one if it was closed): status, headers, body."""
        headers = {
            "Authorization": f"Bearer {self.tokens.get()}",
            "User-Agent": f"imgout/{__version__}",
            "client-request-id": str(uuid.uuid4()),
            "Accept": "application/json",
        }
        if body is not None:
            headers["Content-Type"] = content_type
        connection = self._connect()
        try:
            connection.request(method, path, body=body, headers=headers)
            self._payload_sent = method == "POST"
            response, answer = _answer_by_deadline(connection, self.settings.smtp_timeout)
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        if 400 <= response.status < 500 or response.status == 503:  # refused, not taken: never in doubt
            self._payload_sent = False
        return response.status, response.headers, answer

    def _connect(self) -> http.client.HTTPConnection:
        """The kept connection, or a new one: straight to Graph, or through the HTTPS proxy the environment
        names (``HTTPS_PROXY``, ``NO_PROXY``; the proxy sees only a CONNECT, never the token)."""
        if self._connection is None:
            host, port, timeout = self._parts.hostname or "", self._parts.port, self.settings.smtp_timeout
            proxy = _proxy_for(self.settings.graph_url)
            if self._parts.scheme == "https":
                context = self.settings.https_context()
                if proxy is None:
                    self._connection = http.client.HTTPSConnection(
                        host, port, timeout=timeout, context=context
                    )
                else:
                    self._connection = http.client.HTTPSConnection(
                        proxy.hostname or "", proxy.port or 8080, timeout=timeout, context=context
                    )
                    self._connection.set_tunnel(host, port, headers=_proxy_headers(proxy))
            else:
                self._connection = http.client.HTTPConnection(host, port, timeout=timeout)
        return self._connection


def _answer_by_deadline(
    connection: http.client.HTTPConnection, seconds: float
) -> tuple[http.client.HTTPResponse, bytes]:
    """The answer to the request just sent, whole within ``seconds`` (a deadline for the answer, not a
    timeout per read: a server trickling a byte a second never ends it) and at most MAX_ANSWER_BYTES."""
    cut = threading.Event()

    def cut_off() -> None:
        cut.set()
        if connection.sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing left to cut
                connection.sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(seconds, cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        response = connection.getresponse()
        answer = response.read(MAX_ANSWER_BYTES + 1)
    except (OSError, http.client.HTTPException):
        if cut.is_set():
            raise TimeoutError(f"no whole answer in {seconds:g} s") from None
        raise
    finally:
        watchdog.cancel()
    if cut.is_set():
        raise TimeoutError(f"no whole answer in {seconds:g} s")
    if len(answer) > MAX_ANSWER_BYTES:
        raise http.client.HTTPException(f"an answer of more than {MAX_ANSWER_BYTES:,} bytes")
    return response, answer


def _for_recipients(message: EmailMessage, recipients: Sequence[str]) -> EmailMessage:
    """``message`` as it is when everyone it names receives it now, else naming only ``recipients``."""
    wanted = {a.lower() for a in recipients}
    named = {
        address.lower(): (field, f"{name} <{address}>" if name else address)
        for field in ("To", "Cc")
        for name, address in email.utils.getaddresses([str(v) for v in message.get_all(field, [])])
    }
    if set(named) == wanted:
        return message
    copy = email.message_from_bytes(message.as_bytes(policy=email.policy.SMTP), policy=email.policy.SMTP)
    assert isinstance(copy, EmailMessage)
    for field in ("To", "Cc"):
        kept = [shown for address, (f, shown) in named.items() if f == field and address in wanted]
        del copy[field]
        if kept:
            copy[field] = ", ".join(kept)
    return copy


def _graph_error(status: int, headers: http.client.HTTPMessage, answer: bytes) -> GraphError:
    """Graph's error JSON (``{"error": {"code", "message"}}``) as a GraphError; any body is cut to one line."""
    code, message = "", ""
    try:
        error = json.loads(answer).get("error", {})
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
    except (ValueError, AttributeError):
        message = answer.decode("utf-8", "replace")
    # One line, without its closing full stop: the reason goes on after it ("...; grant the app ...").
    message = " ".join(message.split())[:300].rstrip(".") or http.client.responses.get(status, "")
    return GraphError(status, code, message, _retry_after(headers.get("Retry-After")))


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (a number of seconds, or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _lost(exc: BaseException, where: str) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer from {where} in time (see IMGOUT_SMTP_TIMEOUT)"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection to {where} refused (see IMGOUT_GRAPH_URL)"
    if isinstance(exc, socket.gaierror):
        return f"the name of {where} cannot be resolved ({exc.strerror or exc})"
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError):
        return f"connection to {where} lost"
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed ({exc.reason or exc})"
    if isinstance(exc, OSError):
        return f"network error with {where}: {exc.strerror or exc}"
    return f"{type(exc).__name__} from {where}"


def _proxy_for(url: str) -> SplitResult | None:
    """The http:// proxy the environment sets for ``url`` (HTTPS_PROXY, unless NO_PROXY exempts its host)."""
    import urllib.request

    host = urlsplit(url).hostname or ""
    proxy = urllib.request.getproxies().get(urlsplit(url).scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return parts if parts.scheme == "http" and parts.hostname else None


def _proxy_headers(proxy: SplitResult) -> dict[str, str]:
    if proxy.username is None:
        return {}
    credentials = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
    return {"Proxy-Authorization": "Basic " + base64.b64encode(credentials).decode("ascii")}


def _report(on_attempt: Callable[[Attempt], None] | None, attempt: Attempt) -> None:
    if on_attempt is not None:
        on_attempt(attempt)


def _fix_401(s: DeliverySettings) -> str:
    return "the token was refused even when fresh: check that it is for Microsoft Graph (IMGOUT_GRAPH_URL) and the tenant IMGOUT_MS_TENANT"


def _fix_403(s: DeliverySettings) -> str:
    return (
        f"grant the app the Microsoft Graph application permission Mail.Send with admin consent, and check that "
        f"an application access policy (or RBAC for Applications) lets it use {s.sender}"
    )


def _fix_404(s: DeliverySettings) -> str:
    return f"the tenant has no mailbox {s.sender}: check IMGOUT_MAIL_FROM"


#: Answers that would repeat for every pack, and what to fix.
_GRAPH_FIXES: dict[int, Callable[[DeliverySettings], str]] = {401: _fix_401, 403: _fix_403, 404: _fix_404}
