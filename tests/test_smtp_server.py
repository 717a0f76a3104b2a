"""The local SMTP test server behaves like a real one, checked with the standard library's smtplib."""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests.support.smtp_server import HOST, LocalSMTPServer, smtp_servers

pytestmark = pytest.mark.slow  # the aiosmtpd harness itself, on real sockets

USER = "mailer@imgout.example"
PASSWORD = "correct horse battery staple"
# A timeout on every client, so that a server bug fails the test instead of hanging the run.
TIMEOUT = 5.0


@pytest.fixture
def make_server() -> Iterator[Callable[..., LocalSMTPServer]]:
    with smtp_servers() as make:
        yield make


def _message(subject: str = "Market brief", to: str = "cfo@acme.example") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "briefs@imgout.example"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="imgout.example")
    msg.set_content("Market size: 1 234.5 m\nGrowth: 6.1 %\n")
    return msg


def _plain_client(server: LocalSMTPServer) -> smtplib.SMTP:
    # local_hostname avoids smtplib's socket.getfqdn() lookup for EHLO, which can be slow without DNS.
    return smtplib.SMTP(server.host, server.port, local_hostname="localhost", timeout=TIMEOUT)


def test_plain_send_records_parsed_message_envelope_and_raw_bytes(
    make_server: Callable[..., LocalSMTPServer],
) -> None:
    server = make_server("none")
    msg = _message()
    with _plain_client(server) as client:
        # An extra envelope recipient that is not in the headers, like a Bcc.
        client.send_message(
            msg, from_addr="bounces@imgout.example", to_addrs=["cfo@acme.example", "x@b.example"]
        )

    [received] = server.messages
    assert server.host == HOST == "127.0.0.1"
    assert received.mail_from == "bounces@imgout.example"
    assert received.rcpt_tos == ["cfo@acme.example", "x@b.example"]
    assert received.message["Subject"] == "Market brief"
    assert received.message_id == msg["Message-ID"]
    # Parsed with email.policy.default from LF-normalised bytes: the body reads back as it was written.
    assert received.message.get_content() == "Market size: 1 234.5 m\nGrowth: 6.1 %\n"
    assert b"Subject: Market brief\r\n" in received.raw
    assert received.authenticated_as is None
    assert received.tls is False


def test_plain_with_auth_allows_login_without_tls_and_requires_it(
    make_server: Callable[..., LocalSMTPServer],
) -> None:
    server = make_server("none", username=USER, password=PASSWORD)
    with _plain_client(server) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.send_message(_message())
        assert refused.value.smtp_code == 530
        client.login(USER, PASSWORD)
        client.send_message(_message())

    assert [m.authenticated_as for m in server.messages] == [USER]
    assert server.logins == [USER]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_with_auth(make_server: Callable[..., LocalSMTPServer], mechanism: str) -> None:
    server = make_server("starttls", username=USER, password=PASSWORD)
    with _plain_client(server) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        # AUTH is only offered once the connection is encrypted (auth_require_tls defaults to True).
        assert not client.has_extn("auth")
        client.starttls(context=server.ssl_context_for_clients())
        client.ehlo()
        assert client.has_extn("auth")
        client.user, client.password = USER, PASSWORD
        authobject = client.auth_plain if mechanism == "PLAIN" else client.auth_login
        code, _ = client.auth(mechanism, authobject)
        assert code == 235
        client.send_message(_message())

    [received] = server.messages
    assert received.tls is True
    assert received.authenticated_as == USER
    [attempt] = server.auth_attempts
    assert (attempt.mechanism, attempt.username, attempt.success) == (mechanism, USER, True)
    assert attempt.password == PASSWORD


def test_require_starttls_refuses_mail_before_starttls(make_server: Callable[..., LocalSMTPServer]) -> None:
    server = make_server("starttls", require_starttls=True)
    with _plain_client(server) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.send_message(_message())
        assert refused.value.smtp_code == 530
        client.starttls(context=server.ssl_context_for_clients())
        client.send_message(_message())
    assert len(server.messages) == 1


def test_smtps_with_auth_and_a_wrong_password(make_server: Callable[..., LocalSMTPServer]) -> None:
    server = make_server("ssl", username=USER, password=PASSWORD)
    context = server.ssl_context_for_clients()
    with smtplib.SMTP_SSL(
        server.host, server.port, local_hostname="localhost", context=context, timeout=TIMEOUT
    ) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(USER, "wrong password")
        client.login(USER, PASSWORD)
        client.send_message(_message())

    [received] = server.messages
    assert received.tls is True
    assert received.authenticated_as == USER
    # smtplib.login() falls back from PLAIN to LOGIN before giving up on the wrong password.
    assert [(a.mechanism, a.username, a.success) for a in server.auth_attempts] == [
        ("PLAIN", USER, False),
        ("LOGIN", USER, False),
        ("PLAIN", USER, True),
    ]
    # Recorded for assertions, but never shown.
    assert PASSWORD not in repr(server.auth_attempts)
    assert PASSWORD not in repr(server)


def test_throwaway_certificate_is_not_trusted_by_default(make_server: Callable[..., LocalSMTPServer]) -> None:
    server = make_server("ssl")
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL(
            server.host,
            server.port,
            local_hostname="localhost",
            context=ssl.create_default_context(),
            timeout=TIMEOUT,
        )


def test_451_once_per_message_then_accepts_the_retry(make_server: Callable[..., LocalSMTPServer]) -> None:
    server = make_server("none", fail_transiently_once_per_message=True)
    first, second = _message("first"), _message("second")
    with _plain_client(server) as client:
        for msg in (first, second):
            with pytest.raises(smtplib.SMTPDataError) as deferred:
                client.send_message(msg)
            assert deferred.value.smtp_code == 451
            assert deferred.value.smtp_error == b"4.3.0 Try again later"
            client.send_message(msg)  # the retry, same Message-ID
        client.send_message(first)  # a third attempt is accepted too: only the first sighting fails

    assert [m.message["Subject"] for m in server.messages] == ["first", "second", "first"]
    assert server.transient_failures == [first["Message-ID"], second["Message-ID"]]


def test_550_for_rejected_recipients(make_server: Callable[..., LocalSMTPServer]) -> None:
    server = make_server("none", reject_permanently=["Gone@Acme.example"])
    with _plain_client(server) as client:
        refused = client.send_message(_message(), to_addrs=["gone@acme.example", "cfo@acme.example"])
        assert refused["gone@acme.example"][0] == 550
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.send_message(_message(), to_addrs=["gone@acme.example"])

    [received] = server.messages
    assert received.rcpt_tos == ["cfo@acme.example"]
    assert server.rejected_recipients == ["gone@acme.example", "gone@acme.example"]


def test_stop_drops_sessions_and_start_serves_again_on_the_same_port(
    make_server: Callable[..., LocalSMTPServer],
) -> None:
    server = make_server("starttls", username=USER, password=PASSWORD)
    port = server.port

    client = _plain_client(server)
    client.starttls(context=server.ssl_context_for_clients())
    client.login(USER, PASSWORD)
    client.send_message(_message("before"))
    server.stop()
    # A session in progress is cut off, as in a real outage, rather than left hanging.
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        client.send_message(_message("lost"))
    client.close()
    with pytest.raises(ConnectionRefusedError):
        _plain_client(server)

    server.start()
    assert server.port == port
    with _plain_client(server) as client:
        client.starttls(context=server.ssl_context_for_clients())
        client.login(USER, PASSWORD)
        client.send_message(_message("after"))

    assert [m.message["Subject"] for m in server.messages] == ["before", "after"]


def test_servers_are_stopped_and_leave_no_threads() -> None:
    threads_before = set(threading.enumerate())
    with smtp_servers() as make:
        servers = [make(security) for security in ("none", "starttls", "ssl")]
        assert all(server.is_running for server in servers)
    assert not any(server.is_running for server in servers)
    assert set(threading.enumerate()) <= threads_before

    with LocalSMTPServer("ssl") as server:
        cafile = server.cafile
        assert cafile.exists()
    assert not server.is_running
    assert not cafile.exists()


def test_client_env_points_at_the_server() -> None:
    server = LocalSMTPServer("starttls", username=USER, password=PASSWORD)
    try:
        env = server.client_env()
        assert env["IMGOUT_SMTP_HOST"] == "127.0.0.1"
        assert env["IMGOUT_SMTP_PORT"] == str(server.port)
        assert env["IMGOUT_SMTP_SECURITY"] == "starttls"
        assert env["IMGOUT_SMTP_PASSWORD"] == PASSWORD
        assert env["SSL_CERT_FILE"] == str(server.cafile)
    finally:
        server.close()


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        LocalSMTPServer("tls")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        LocalSMTPServer("none", username=USER)
    with pytest.raises(ValueError):
        LocalSMTPServer("ssl", require_starttls=True)
