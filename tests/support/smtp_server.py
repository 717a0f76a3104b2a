"""A real SMTP server on 127.0.0.1 for the email-delivery tests (aiosmtpd in a background thread).

The delivery code is tested against a genuine SMTP conversation rather than a mock of ``smtplib``, so
that TLS negotiation, AUTH, multi-recipient envelopes and error replies are exercised for real. This
module only provides the server; what a test asserts about the delivered mail is up to the test.

Typical use::

    with LocalSMTPServer(security="starttls", username="mailer", password="s3cret") as server:
        with smtplib.SMTP(server.host, server.port, local_hostname="localhost") as client:
            client.starttls(context=server.ssl_context_for_clients())
            client.login("mailer", "s3cret")
            client.send_message(msg)
        assert server.messages[0].message["Subject"] == msg["Subject"]

The received state (``messages``, ``auth_attempts``, ...) is kept by the ``LocalSMTPServer`` object,
not by the aiosmtpd controller, so it survives ``stop()``/``start()``: a test can stop the server
mid-batch, restart it on the same port and read everything that arrived on either side.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import email.policy
import hashlib
import ipaddress
import json
import os
import socket
import ssl
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Security = Literal["none", "starttls", "ssl"]

#: The only address the server ever binds to: tests must never expose a mail server on the network.
HOST = "127.0.0.1"

# The greeting name is fixed because aiosmtpd otherwise calls socket.getfqdn() for every connection,
# which can block for seconds on machines without working reverse DNS.
_SERVER_NAME = "localhost"

TRANSIENT_REPLY = "451 4.3.0 Try again later"
AUTH_REQUIRED_REPLY = "530 5.7.0 Authentication required"


def pick_free_port(host: str = HOST) -> int:
    """Return a TCP port on ``host`` that is free right now.

    The port is released before returning, so another process could in principle grab it; the window
    is tiny and the server keeps the port for its whole life (including restarts) once it has bound.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ReceivedMessage:
    """One message accepted by the server (``250`` after DATA), with its SMTP envelope."""

    #: The parsed message (``email.policy.default``, so ``get_body()``/``iter_attachments()`` work).
    message: EmailMessage
    #: Envelope sender (``MAIL FROM``), which may differ from the ``From:`` header.
    mail_from: str
    #: Envelope recipients that were accepted (``RCPT TO``), including Bcc ones absent from headers.
    rcpt_tos: list[str]
    #: The DATA payload exactly as received on the wire (CRLF line endings, dot-unstuffed).
    raw: bytes
    #: The login name the session authenticated with, or ``None`` for an unauthenticated session.
    authenticated_as: str | None
    #: Whether the message travelled over TLS (STARTTLS or implicit TLS).
    tls: bool

    @property
    def message_id(self) -> str | None:
        """The ``Message-ID`` header, or ``None`` if the message had none."""
        value = self.message["Message-ID"]
        return None if value is None else str(value)


@dataclass(frozen=True)
class AuthAttempt:
    """One AUTH exchange the server saw; the password is kept for assertions but never shown."""

    mechanism: str
    username: str
    # repr=False: a failing assertion or a log line that prints the attempt must not leak the secret.
    password: str = field(repr=False)
    success: bool
    #: Whether the client sent its response on the AUTH line (RFC 4954's initial response) or after a 334.
    initial_response: bool = True


@dataclass(frozen=True)
class _Certificate:
    cafile: Path
    certfile: Path
    keyfile: Path


def _write_throwaway_certificate(directory: Path) -> _Certificate:
    """Create a throwaway CA and a server certificate for localhost/127.0.0.1 signed by it.

    A separate CA (rather than one self-signed leaf) keeps the chain valid under OpenSSL's strict X.509
    checks (``VERIFY_X509_STRICT`` is on by default from Python 3.13), so clients can verify normally
    with ``cafile`` and hostname checking left on. EC P-256 keys are generated in milliseconds.
    """
    now = datetime.datetime.now(datetime.UTC)
    # Backdated a little so a small clock difference cannot make the certificate "not yet valid".
    not_before = now - datetime.timedelta(hours=1)
    not_after = now + datetime.timedelta(days=7)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imgout throwaway test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        # Both names: clients connect to "127.0.0.1" (the only bound address) but may say "localhost".
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    paths = _Certificate(
        cafile=directory / "ca.pem", certfile=directory / "server.pem", keyfile=directory / "server.key"
    )
    paths.cafile.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Owner-only from the start, even though the key is throwaway: it is still a private key on disk.
    fd = os.open(paths.keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    return paths


class _TrackingController(Controller):
    """A Controller that remembers its live SMTP sessions so ``stop()`` can cut them off.

    aiosmtpd's own ``stop()`` just stops and closes the event loop; sockets of sessions in progress are
    then left open until garbage collection, so a client in the middle of a conversation would hang
    instead of seeing the connection drop, which is what a real server outage looks like.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only touched from the server's event-loop thread (factory and _abort_sessions run there).
        self.sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def factory(self) -> SMTP:
        smtp = cast(SMTP, super().factory())
        self.sessions.add(smtp)
        return smtp

    def _abort_sessions(self, done: threading.Event) -> None:
        try:
            # Stop listening first, so that no new session can slip in between the abort and the stop.
            if self.server is not None:
                self.server.close()
            for smtp in list(self.sessions):
                # After STARTTLS, `transport` is the TLS layer and `_original_transport` the socket.
                for transport in (smtp._original_transport, smtp.transport):
                    if transport is not None and not transport.is_closing():
                        cast(asyncio.Transport, transport).abort()
        finally:
            done.set()

    def abort_sessions(self, timeout: float = 2.0) -> None:
        """Abort every open client connection (runs on the loop thread, waits for it)."""
        done = threading.Event()
        self.loop.call_soon_threadsafe(self._abort_sessions, done)
        done.wait(timeout)


class _Handler:
    """aiosmtpd hooks; all state lives in the owning LocalSMTPServer so it survives restarts."""

    def __init__(self, owner: LocalSMTPServer) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        # Enforced here instead of with aiosmtpd's `auth_required`, which emits a UserWarning (and a log
        # warning) whenever it is combined with auth_require_tls=False, as in the plain and SMTPS modes.
        if self.owner.auth_required and not session.authenticated:
            return AUTH_REQUIRED_REPLY
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in {rejected.lower() for rejected in self.owner.reject_permanently}:
            self.owner._record_rejection(address)
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """SASL XOAUTH2 as Google and Microsoft define it: ``base64("user=" U ^A "auth=Bearer " T ^A ^A)``;
        a refused token gets a 334 challenge holding the error as base64 JSON, then 535 after the client's
        empty response."""
        check = self.owner.xoauth2
        if check is None:  # not offered (excluded), but never accepted either
            return AuthResult(success=False, handled=False)
        blob = args[1] if len(args) == 2 else ""
        initial = bool(blob)
        if not blob:
            answer = await server.challenge_auth("")
            blob = base64.b64encode(answer).decode() if isinstance(answer, bytes) else ""
        try:
            fields = base64.b64decode(blob, validate=True).decode("utf-8").split("\x01")
        except (binascii.Error, UnicodeDecodeError):
            await server.push("501 5.5.2 Cannot decode the XOAUTH2 response")
            return AuthResult(success=False, handled=True)
        values = dict(f.split("=", 1) for f in fields if "=" in f)
        user, bearer = values.get("user", ""), values.get("auth", "")
        token = bearer[len("Bearer ") :] if bearer.startswith("Bearer ") else ""
        well_formed = fields[-2:] == ["", ""] and bool(user) and bool(token)
        success = well_formed and check(user, token)
        with self.owner._lock:
            self.owner._auth_attempts.append(AuthAttempt("XOAUTH2", user, token, success, initial))
        if success:
            return AuthResult(success=True, handled=False, auth_data=LoginPassword(user.encode(), b""))
        error = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}
        await server.challenge_auth(json.dumps(error))
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Username and Password not accepted"
        )

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = bytes(cast(bytes, envelope.original_content))
        # Parsed from LF-normalised bytes: with CRLF kept, get_content() of 8bit text parts returns "\r\n"
        # line endings, which would make body assertions depend on the wire format.
        message = cast(
            EmailMessage, BytesParser(policy=email.policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        )
        if self.owner.fail_transiently_once_per_message and self.owner._first_sighting(message, raw):
            return TRANSIENT_REPLY
        # session.auth_data rather than the deprecated session.login_data (which logs a warning on use).
        auth_data = session.auth_data
        received = ReceivedMessage(
            message=message,
            mail_from=str(envelope.mail_from),
            rcpt_tos=list(envelope.rcpt_tos),
            raw=raw,
            authenticated_as=(
                auth_data.login.decode("utf-8", "replace") if isinstance(auth_data, LoginPassword) else None
            ),
            tls=server.transport is not None and server.transport.get_extra_info("sslcontext") is not None,
        )
        self.owner._record_message(received)
        if self.owner.data_delay:  # queued already: a client that gives up now cannot know it arrived
            await asyncio.sleep(self.owner.data_delay)
        return "250 2.0.0 OK: queued"


class LocalSMTPServer:
    """An SMTP server on 127.0.0.1 in a background thread, for tests.

    Args:
        security: ``"none"`` (plain SMTP), ``"starttls"`` (plain connection upgraded with STARTTLS) or
            ``"ssl"`` (implicit TLS, SMTPS). Same values as ``IMGOUT_SMTP_SECURITY``.
        port: TCP port; a free one is picked when omitted. It stays the same across ``stop()``/``start()``.
        username, password: when both are given, AUTH LOGIN and PLAIN accept exactly this pair.
        auth_required: refuse ``MAIL FROM`` with 530 until the session has authenticated. Defaults to
            ``True`` when credentials are configured.
        auth_require_tls: only offer/accept AUTH on an encrypted connection. Defaults to ``True`` for
            ``"starttls"`` (AUTH only after STARTTLS) and ``False`` for ``"none"`` (so plain-with-auth
            works). In ``"ssl"`` mode the connection is always encrypted, so this is always satisfied.
        require_starttls: (``"starttls"`` only) refuse every command but EHLO/HELO/NOOP/QUIT/STARTTLS
            with 530 until STARTTLS has been done.
        fail_transiently_once_per_message: answer ``451 4.3.0 Try again later`` at the end of DATA the
            first time each distinct Message-ID is seen and accept it afterwards (messages without a
            Message-ID are identified by a hash of their content).
        reject_permanently: recipients (case-insensitive) answered ``550`` at RCPT TO. The attribute is a
            mutable set and may be changed while the server runs.
        data_delay: seconds the server waits after accepting (recording) a message before it answers
            DATA: a slow server; a client killed or timed out meanwhile cannot know the message arrived.
        auth_mechanisms: the AUTH mechanisms offered (default: aiosmtpd's, LOGIN and PLAIN, and XOAUTH2
            when ``xoauth2`` is given).
        xoauth2: offer AUTH XOAUTH2 and accept a token when ``xoauth2(user, token)`` says it is good (the
            attempt's ``password`` is then the token).
        start: start serving immediately (otherwise call ``start()`` or enter the context manager).

    Attributes are documented on the properties below; ``messages``, ``auth_attempts``,
    ``transient_failures`` and ``rejected_recipients`` return snapshots (the server thread appends to the
    underlying lists).
    """

    def __init__(
        self,
        security: Security = "none",
        *,
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        auth_required: bool | None = None,
        auth_require_tls: bool | None = None,
        require_starttls: bool = False,
        fail_transiently_once_per_message: bool = False,
        reject_permanently: Iterable[str] = (),
        data_delay: float = 0.0,
        auth_mechanisms: Iterable[str] | None = None,
        xoauth2: Callable[[str, str], bool] | None = None,
        start: bool = False,
    ) -> None:
        if security not in ("none", "starttls", "ssl"):
            raise ValueError(f"security must be 'none', 'starttls' or 'ssl', not {security!r}")
        if (username is None) != (password is None):
            raise ValueError("username and password must be given together")
        if require_starttls and security != "starttls":
            raise ValueError("require_starttls only makes sense with security='starttls'")
        self.host = HOST
        self.port = pick_free_port() if port is None else port
        self.security: Security = security
        self.username = username
        self.password = password
        #: AUTH XOAUTH2 is offered when given: (user, token) -> whether the token is good for that user.
        self.xoauth2 = xoauth2
        self.auth_required = (
            (username is not None or xoauth2 is not None) if auth_required is None else auth_required
        )
        self.auth_require_tls = (security == "starttls") if auth_require_tls is None else auth_require_tls
        self.require_starttls = require_starttls
        self.fail_transiently_once_per_message = fail_transiently_once_per_message
        self.reject_permanently: set[str] = set(reject_permanently)
        self.data_delay = data_delay
        self.auth_mechanisms = None if auth_mechanisms is None else {m.upper() for m in auth_mechanisms}

        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self._auth_attempts: list[AuthAttempt] = []
        self._transient_failures: list[str] = []
        self._rejected: list[str] = []
        self._seen_ids: set[str] = set()
        self._controller: _TrackingController | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._certificate: _Certificate | None = None
        if start:
            self.start()

    def __repr__(self) -> str:
        # Deliberately without the password.
        state = "running" if self.is_running else "stopped"
        return f"<LocalSMTPServer {self.security} {self.host}:{self.port} user={self.username!r} {state}>"

    # -- lifecycle ------------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether the server is currently accepting connections."""
        return self._controller is not None

    def start(self) -> LocalSMTPServer:
        """Start serving on ``host:port`` (again, after ``stop()``); a no-op if already running."""
        if self._controller is not None:
            return self
        ssl_context = self._server_ssl_context() if self.security != "none" else None
        smtp_kwargs: dict[str, Any] = {
            "server_hostname": _SERVER_NAME,
            # Implicit TLS is not the STARTTLS aiosmtpd's auth_require_tls looks for, so with
            # auth_require_tls=True an SMTPS server would answer every AUTH with 538.
            "auth_require_tls": self.auth_require_tls and self.security != "ssl",
            "authenticator": self._authenticate,
            # Short, so a test client that vanishes does not keep a session (and stop()) waiting long.
            "timeout": 30,
        }
        excluded = set() if self.xoauth2 is not None else {"XOAUTH2"}
        if self.auth_mechanisms is not None:
            excluded |= {"LOGIN", "PLAIN", "XOAUTH2"} - self.auth_mechanisms
        if excluded:
            smtp_kwargs["auth_exclude_mechanism"] = excluded
        if self.security == "starttls":
            smtp_kwargs["tls_context"] = ssl_context
            smtp_kwargs["require_starttls"] = self.require_starttls
        # A new controller every time: aiosmtpd closes the controller's event loop in stop(), so a
        # controller cannot be started twice.
        controller = _TrackingController(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            ssl_context=ssl_context if self.security == "ssl" else None,
            **smtp_kwargs,
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop serving, dropping connections in progress (like a crash); a no-op if not running.

        Received messages and other records are kept; ``start()`` serves again on the same port.
        """
        controller, self._controller = self._controller, None
        if controller is None:
            return
        controller.abort_sessions()
        controller.stop()

    def close(self) -> None:
        """Stop the server and delete the throwaway certificate (final teardown)."""
        self.stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None
            self._certificate = None

    def __enter__(self) -> LocalSMTPServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- TLS ------------------------------------------------------------------------------------------

    def _ensure_certificate(self) -> _Certificate:
        if self._certificate is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="imgout-smtp-cert-")
            self._certificate = _write_throwaway_certificate(Path(self._tempdir.name))
        return self._certificate

    @property
    def cafile(self) -> Path:
        """PEM file of the throwaway CA that signed the server certificate (for clients to trust)."""
        return self._ensure_certificate().cafile

    @property
    def certfile(self) -> Path:
        """PEM file of the server certificate (subject alternative names localhost and 127.0.0.1)."""
        return self._ensure_certificate().certfile

    def ssl_context_for_clients(self) -> ssl.SSLContext:
        """A verifying client context (hostname check on) that trusts only the throwaway CA."""
        return ssl.create_default_context(cafile=str(self.cafile))

    def _server_ssl_context(self) -> ssl.SSLContext:
        cert = self._ensure_certificate()
        # Purpose.CLIENT_AUTH gives a server-side context that does not ask clients for certificates,
        # which aiosmtpd expects (it warns about verify_mode=CERT_REQUIRED).
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert.certfile), str(cert.keyfile))
        return context

    def client_env(self) -> dict[str, str]:
        """Environment variables pointing imgout's delivery settings at this server.

        Includes ``IMGOUT_SMTP_PASSWORD`` when credentials are configured (keep it out of any output) and,
        for the TLS modes, ``SSL_CERT_FILE`` so that ``ssl.create_default_context()`` in the code under
        test (same process via ``monkeypatch.setenv`` or a subprocess) trusts the throwaway CA.
        """
        env = {
            "IMGOUT_SMTP_HOST": self.host,
            "IMGOUT_SMTP_PORT": str(self.port),
            "IMGOUT_SMTP_SECURITY": self.security,
        }
        if self.username is not None and self.password is not None:
            env["IMGOUT_SMTP_USER"] = self.username
            env["IMGOUT_SMTP_PASSWORD"] = self.password
        if self.security != "none":
            env["SSL_CERT_FILE"] = str(self.cafile)
        return env

    # -- what the server saw --------------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Messages accepted so far, in arrival order (a snapshot)."""
        with self._lock:
            return list(self._messages)

    @property
    def auth_attempts(self) -> list[AuthAttempt]:
        """Every AUTH exchange that reached the credential check, successful or not (a snapshot)."""
        with self._lock:
            return list(self._auth_attempts)

    @property
    def logins(self) -> list[str]:
        """Usernames of the successful AUTH exchanges, in order."""
        return [attempt.username for attempt in self.auth_attempts if attempt.success]

    @property
    def transient_failures(self) -> list[str]:
        """Message-IDs (or content hashes) answered with 451, in order (a snapshot)."""
        with self._lock:
            return list(self._transient_failures)

    @property
    def rejected_recipients(self) -> list[str]:
        """Recipients answered with 550 at RCPT TO, one entry per refusal (a snapshot)."""
        with self._lock:
            return list(self._rejected)

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages have arrived and return them; raise TimeoutError.

        Not needed after a synchronous ``smtplib`` send (the message is recorded before the 250 reply is
        sent), but useful when the sender is another process or thread.
        """
        deadline = time.monotonic() + timeout
        while True:
            received = self.messages
            if len(received) >= count:
                return received
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(received)} of {count} messages arrived within {timeout} s")
            time.sleep(0.01)

    def reset(self) -> None:
        """Forget everything received so far (messages, AUTH attempts, 451/550 records, seen IDs)."""
        with self._lock:
            self._messages.clear()
            self._auth_attempts.clear()
            self._transient_failures.clear()
            self._rejected.clear()
            self._seen_ids.clear()

    # -- called from the server thread ----------------------------------------------------------------

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        username = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        success = self.username is not None and (username, password) == (self.username, self.password)
        with self._lock:
            self._auth_attempts.append(AuthAttempt(mechanism, username, password, success))
        return AuthResult(success=success, handled=False, auth_data=auth_data)

    def _first_sighting(self, message: EmailMessage, raw: bytes) -> bool:
        """Record the message's identity; True the first time it is seen (it then gets a 451)."""
        message_id = message["Message-ID"]
        key = str(message_id).strip() if message_id is not None else hashlib.sha256(raw).hexdigest()
        with self._lock:
            if key in self._seen_ids:
                return False
            self._seen_ids.add(key)
            self._transient_failures.append(key)
            return True

    def _record_message(self, received: ReceivedMessage) -> None:
        with self._lock:
            self._messages.append(received)

    def _record_rejection(self, address: str) -> None:
        with self._lock:
            self._rejected.append(address)


@contextmanager
def smtp_servers() -> Iterator[Callable[..., LocalSMTPServer]]:
    """Yield a factory ``make(**kwargs) -> LocalSMTPServer`` (started); all are closed on exit.

    Meant for a pytest fixture, so that every server a test creates is stopped even when it fails::

        @pytest.fixture
        def make_smtp_server():
            with smtp_servers() as make:
                yield make
    """
    servers: list[LocalSMTPServer] = []

    def make(security: Security = "none", **kwargs: Any) -> LocalSMTPServer:
        server = LocalSMTPServer(security, **kwargs)
        servers.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in servers:
            server.close()
