"""Corporate mail: SMTP AUTH XOAUTH2 and the Microsoft Graph channel, with tokens from a command, Microsoft 365
(MSAL) or a Google service account, against stand-ins on 127.0.0.1 (tests/support/cloud_server.py and the aiosmtpd
server of tests/support/smtp_server.py). Nothing here reaches Microsoft or Google: the stand-ins answer as their
published APIs do, and check what they are sent the way those do (signatures of client assertions and
service-account JWTs included).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloud_server import (
    CloudServer,
    EntraApp,
    app_certificate,
    google_service_account,
    graph_env,
    nothing_holds,
    token_command,
    token_file,
)
from tests.support.delivery_support import (
    SENDER,
    USER,
    PackCache,
    claim_and_die,
    client_entries,
    delivery_env,
    run_imgout,
    start_imgout,
    write_clients_file,
)
from tests.support.smtp_server import LocalSMTPServer
from xl_addin.delivery.batch import BatchReport, channel_for, load_clients, pack_key, run_batch
from xl_addin.delivery.graph import LOOKUP_ACTOR, GraphSender
from xl_addin.delivery.ledger import Ledger
from xl_addin.delivery.message import build_message
from xl_addin.delivery.oauth import MS_SMTP_SCOPE, Tokens, xoauth2_response
from xl_addin.delivery.settings import DeliverySettings, load_settings
from xl_addin.delivery.smtp import Mailer
from xl_addin.errors import SettingsError, TokenError
from xl_addin.model import market_for

TENANT = "0a1b2c3d-4e5f-4789-abcd-ef0123456789"
CLIENT_ID = "11112222-3333-4444-5555-666677778888"
CLIENT_SECRET = "Qx8~client-secret-5521"


@pytest.fixture
def cloud() -> Iterator[CloudServer]:
    with CloudServer() as server:
        yield server


@pytest.fixture
def cloud_tls() -> Iterator[CloudServer]:
    with CloudServer(tls=True) as server:
        yield server


def _run(
    clients: Path, settings: DeliverySettings, waits: list[float] | None = None, **options: Any
) -> BatchReport:
    resend = options.pop("resend_in_doubt", False)
    sleep = waits.append if waits is not None else (lambda seconds: None)
    channel = channel_for(settings, resend_in_doubt=resend, sleep=sleep)
    return run_batch(load_clients(clients, market_for()), settings, channel, with_pdf=False, **options)


def _statuses(report: BatchReport) -> list[str]:
    return [r.status for r in report.results]


def _xoauth2_server(make_server: Callable[..., LocalSMTPServer], cloud: CloudServer) -> LocalSMTPServer:
    """An SMTP server offering only XOAUTH2 after STARTTLS, accepting the tokens ``cloud`` issued for SMTP."""
    return make_server(
        "starttls",
        xoauth2=lambda user, token: cloud.token_ok(token, "smtp") is not None,
        auth_mechanisms=["XOAUTH2"],
    )


# ------------------------------------------------------------------------------------------ SMTP XOAUTH2


def test_the_xoauth2_response_is_the_documented_one() -> None:
    # Google's example: user=someuser@example.com^Aauth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg^A^A
    encoded = base64.b64encode(
        xoauth2_response("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg").encode()
    ).decode()
    assert encoded == (
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52"
        "YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
    )


@pytest.mark.slow
def test_a_batch_logs_in_with_xoauth2_and_a_refused_token_is_fetched_again_once(
    make_server: Callable[..., LocalSMTPServer], cloud: CloudServer, tmp_path: Path, cached_packs: PackCache
) -> None:
    server = _xoauth2_server(make_server, cloud)
    stale, fresh = cloud.issue("smtp", USER, lifetime=-10), cloud.issue("smtp", USER)  # the first has expired
    tokens = token_file(tmp_path, stale, fresh)
    settings = load_settings(
        delivery_env(
            server,
            tmp_path,
            IMGOUT_SMTP_USER=USER,
            IMGOUT_SMTP_AUTH="xoauth2",
            IMGOUT_OAUTH_TOKEN_COMMAND=token_command(tokens),
        )
    )
    report = _run(write_clients_file(tmp_path / "clients.yaml", client_entries(3)), settings)
    assert _statuses(report) == ["sent"] * 3
    # One connection: the stale token refused (535), the fresh one accepted, then reused for every message.
    assert [(a.mechanism, a.username, a.success) for a in server.auth_attempts] == [
        ("XOAUTH2", USER, False),
        ("XOAUTH2", USER, True),
    ]
    assert [m.authenticated_as for m in server.messages] == [USER] * 3
    nothing_holds(tmp_path, [stale, fresh])


def test_a_token_refused_even_when_fresh_stops_the_run_in_one_line_naming_the_fix(
    make_server: Callable[..., LocalSMTPServer], cloud: CloudServer, tmp_path: Path, cached_packs: PackCache
) -> None:
    server = _xoauth2_server(make_server, cloud)
    tokens = token_file(tmp_path, "not-a-token-the-server-issued")
    settings = load_settings(
        delivery_env(
            server,
            tmp_path,
            IMGOUT_SMTP_USER=USER,
            IMGOUT_SMTP_AUTH="xoauth2",
            IMGOUT_OAUTH_TOKEN_COMMAND=token_command(tokens),
        )
    )
    report = _run(write_clients_file(tmp_path / "clients.yaml", client_entries(3)), settings)
    assert _statuses(report) == ["failed", "not attempted", "not attempted"]
    reason = report.results[0].reason
    assert reason.startswith(f"The SMTP server refused the token for {USER} even after a fresh one (535 ")
    assert "check that the command's token is for this mailbox and for SMTP" in reason
    assert "not-a-token" not in reason and "\n" not in reason
    assert server.messages == [] and len(server.auth_attempts) == 2


@pytest.mark.slow
def test_a_failing_token_command_is_one_line_exit_1_and_nothing_is_sent(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    import shlex
    import sys

    server = make_server("starttls", xoauth2=lambda user, token: True, auth_mechanisms=["XOAUTH2"])
    failing = f"{shlex.quote(sys.executable)} -c " + shlex.quote(
        "import sys; sys.stderr.write('vault: not signed in; run vault login\\n'); sys.exit(3)"
    )
    env = delivery_env(
        server,
        tmp_path,
        IMGOUT_SMTP_USER=USER,
        IMGOUT_SMTP_AUTH="xoauth2",
        IMGOUT_OAUTH_TOKEN_COMMAND=failing,
    )
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(2))
    done = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert done.returncode == 1
    first = done.stderr.splitlines()[0]
    assert first == (
        "imgout: Client 01 Radiology: failed: The token command (IMGOUT_OAUTH_TOKEN_COMMAND) failed "
        "(exit code 3: vault: not signed in; run vault login); run it by hand to see why"
    )
    assert "not attempted" in done.stderr.splitlines()[1]
    assert server.messages == [] and server.auth_attempts == []


def test_a_token_is_kept_until_it_expires_then_fetched_again(tmp_path: Path, cloud: CloudServer) -> None:
    first, second = cloud.issue("smtp", USER, lifetime=600), cloud.issue("smtp", USER, lifetime=600)
    path = token_file(tmp_path, first, second)
    settings = load_settings(
        {
            "IMGOUT_SMTP_USER": USER,
            "IMGOUT_SMTP_AUTH": "xoauth2",
            "IMGOUT_OAUTH_TOKEN_COMMAND": token_command(path),
        }
    )
    import time

    now = [time.time()]  # the tokens' exp claims say: 600 s from now
    tokens = Tokens(settings, "smtp", clock=lambda: now[0])
    assert tokens.get() == first
    now[0] += 500  # still valid (600 s, less a minute's margin)
    assert tokens.get() == first
    now[0] += 60  # within the last minute: a new one
    assert tokens.get() == second
    assert first not in repr(tokens)


# ------------------------------------------------------------------------------------------ Microsoft 365 (MSAL)


def _microsoft_env(cloud: CloudServer, **extra: str) -> dict[str, str]:
    assert cloud.cafile is not None
    return {
        "IMGOUT_MS_TENANT": TENANT,
        "IMGOUT_MS_CLIENT_ID": CLIENT_ID,
        "IMGOUT_MS_AUTHORITY": cloud.url,
        "IMGOUT_HTTPS_CAFILE": str(cloud.cafile),
        **extra,
    }


@pytest.mark.parametrize("credential", ["client secret", "certificate"])
def test_msal_gets_an_smtp_token_with_a_client_secret_or_a_certificate_and_xoauth2_uses_it(
    make_server: Callable[..., LocalSMTPServer], cloud_tls: CloudServer, tmp_path: Path, credential: str
) -> None:
    pem, cert = app_certificate()
    cloud_tls.apps.append(EntraApp(TENANT, CLIENT_ID, secret=CLIENT_SECRET, certificate_pem=cert))
    if credential == "client secret":
        secret_env = {"IMGOUT_MS_CLIENT_SECRET": CLIENT_SECRET}
    else:
        (tmp_path / "app.pem").write_text(pem)
        secret_env = {"IMGOUT_MS_CERTIFICATE_FILE": str(tmp_path / "app.pem")}
    server = _xoauth2_server(make_server, cloud_tls)
    settings = load_settings(
        delivery_env(
            server,
            tmp_path,
            IMGOUT_SMTP_USER=USER,
            IMGOUT_SMTP_AUTH="xoauth2",
            **_microsoft_env(cloud_tls, **secret_env),
        )
    )
    assert CLIENT_SECRET not in repr(settings) and "PRIVATE KEY" not in repr(settings)
    with Mailer(settings) as mailer:
        assert mailer.log_in() == ""
    # Microsoft's published exchange: AUTH XOAUTH2, an empty 334, then the response.
    assert [(a.mechanism, a.success, a.initial_response) for a in server.auth_attempts] == [
        ("XOAUTH2", True, False)
    ]
    [issued] = cloud_tls.issued
    assert issued.resource == "smtp" and issued.subject == CLIENT_ID  # asked for the scope of Exchange Online
    token_request = next(r for r in cloud_tls.requests if r[1].endswith("/oauth2/v2.0/token"))
    assert token_request[1] == f"/{TENANT}/oauth2/v2.0/token"
    assert MS_SMTP_SCOPE == "https://outlook.office365.com/.default"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            {"IMGOUT_MS_CLIENT_SECRET": "the-secret-ID-not-its-value"},
            "Microsoft 365 refused a token for app 11112222-3333-4444-5555-666677778888 (invalid_client: "
            "AADSTS7000215: Invalid client secret provided.",
        ),
        (
            {"IMGOUT_MS_TENANT": "contoso.onmicrosoft.com"},
            "Microsoft 365 does not know the tenant 'contoso.onmicrosoft.com' at https://127.0.0.1:",
        ),
        (
            {"IMGOUT_MS_CLIENT_ID": "99999999-3333-4444-5555-666677778888"},
            "(unauthorized_client: AADSTS700016: Application with identifier",
        ),
    ],
)
def test_a_wrong_secret_tenant_or_app_is_one_line_naming_the_fix_and_nothing_is_sent(
    make_server: Callable[..., LocalSMTPServer],
    cloud_tls: CloudServer,
    tmp_path: Path,
    cached_packs: PackCache,
    change: dict[str, str],
    said: str,
) -> None:
    cloud_tls.apps.append(EntraApp(TENANT, CLIENT_ID, secret=CLIENT_SECRET))
    server = _xoauth2_server(make_server, cloud_tls)
    env = _microsoft_env(cloud_tls, IMGOUT_MS_CLIENT_SECRET=CLIENT_SECRET) | change
    settings = load_settings(
        delivery_env(server, tmp_path, IMGOUT_SMTP_USER=USER, IMGOUT_SMTP_AUTH="xoauth2", **env)
    )
    report = _run(write_clients_file(tmp_path / "clients.yaml", client_entries(2)), settings)
    assert _statuses(report) == ["failed", "not attempted"]
    reason = report.results[0].reason
    assert said in reason and "\n" not in reason, reason
    fixes = ("imgout secret set ms-client-secret", "check IMGOUT_MS_TENANT", "check IMGOUT_MS_CLIENT_ID")
    assert any(fix in reason for fix in fixes), reason
    assert "Trace ID" not in reason and CLIENT_SECRET not in reason
    assert server.messages == [] and server.auth_attempts == []


# ------------------------------------------------------------------------------------------ Google


@pytest.mark.parametrize("delegated", [True, False])
def test_a_google_service_account_acts_as_the_mailbox_only_when_delegated(
    make_server: Callable[..., LocalSMTPServer], cloud: CloudServer, tmp_path: Path, delegated: bool
) -> None:
    key = google_service_account(cloud, {USER} if delegated else {"someone.else@imgout.example"})
    (tmp_path / "key.json").write_text(key)
    server = _xoauth2_server(make_server, cloud)
    settings = load_settings(
        delivery_env(
            server,
            tmp_path,
            IMGOUT_SMTP_USER=USER,
            IMGOUT_SMTP_AUTH="xoauth2",
            IMGOUT_GOOGLE_KEY_FILE=str(tmp_path / "key.json"),
        )
    )
    assert settings.token_source == "google"
    with Mailer(settings) as mailer:
        problem = mailer.log_in()
    if delegated:
        assert problem == ""
        # Google's published exchange: the response on the AUTH line itself.
        assert [(a.username, a.success, a.initial_response) for a in server.auth_attempts] == [
            (USER, True, True)
        ]
        assert cloud.issued[0].subject == USER
    else:
        assert problem.startswith(
            f"Google refused a token for {USER} (unauthorized_client: Client is unauthorized"
        )
        assert (
            "Domain-wide delegation) authorise client ID 104331224519716870123 for the scope https://mail.google.com/"
            in problem
        )
        assert server.auth_attempts == []


# ------------------------------------------------------------------------------------------ the Graph channel


def test_graph_sends_the_very_mime_message_smtp_would(
    make_server: Callable[..., LocalSMTPServer], cloud: CloudServer, tmp_path: Path, cached_packs: PackCache
) -> None:
    from xl_addin.delivery.batch import build_task
    from xl_addin.report.profile import ClientProfile

    pack = build_task(ClientProfile(name="Acme Radiology"), None, None, False)
    message = build_message(pack, ["cfo@acme.example"], ["strategy@acme.example"], SENDER)
    smtp = make_server("none")
    with Mailer(load_settings(delivery_env(smtp, tmp_path))) as mailer:
        assert mailer.send(message, ["cfo@acme.example", "strategy@acme.example"]).outcome == "sent"
    with GraphSender(load_settings(graph_env(cloud, tmp_path))) as graph:
        assert graph.send(message, ["cfo@acme.example", "strategy@acme.example"]).outcome == "sent"
    [by_smtp], [by_graph] = smtp.messages, cloud.messages
    assert by_graph.raw == by_smtp.raw  # byte for byte, CRLF line endings as on the SMTP wire
    [(_, path, headers)] = [r for r in cloud.requests if r[0] == "POST"]
    assert path == f"/v1.0/users/{SENDER}/sendMail"
    assert headers["Content-Type"] == "text/plain" and headers["Authorization"].startswith("Bearer ")


def test_graph_waits_as_429_and_503_say_then_sends_once(
    cloud: CloudServer, tmp_path: Path, cached_packs: PackCache
) -> None:
    cloud.script = ["429:7", "503", "202"]
    settings = load_settings(graph_env(cloud, tmp_path))
    waits: list[float] = []
    report = _run(write_clients_file(tmp_path / "clients.yaml", client_entries(1)), settings, waits)
    assert _statuses(report) == ["sent"] and report.results[0].attempts == 3
    assert waits == [7.0, 1.0]  # Retry-After: 7, then 1
    assert len(cloud.messages) == 1
    log = [json.loads(line) for line in settings.log.read_text().splitlines()]
    assert [(e["outcome"], e["code"]) for e in log if e["event"] == "attempt"] == [
        ("transient", 429),
        ("transient", 503),
        ("sent", 202),
    ]
    assert log[0]["server"] == cloud.graph_url


def test_a_graph_401_gets_one_fresh_token_and_sends_once(
    cloud: CloudServer, tmp_path: Path, cached_packs: PackCache
) -> None:
    cloud.script = ["401"]
    settings = load_settings(graph_env(cloud, tmp_path))
    report = _run(write_clients_file(tmp_path / "clients.yaml", client_entries(1)), settings)
    assert _statuses(report) == ["sent"] and len(cloud.messages) == 1


@pytest.mark.parametrize("lost", ["drop", "500-after-accept"])
def test_a_lost_graph_answer_is_in_doubt_and_the_next_run_finds_it_by_message_id(
    cloud: CloudServer, tmp_path: Path, cached_packs: PackCache, lost: str
) -> None:
    cloud.script = ["202", lost]
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(3))
    settings = load_settings(graph_env(cloud, tmp_path))
    first = _run(clients, settings)
    assert _statuses(first) == ["sent", "in doubt", "sent"]
    assert "it may have been sent" in first.results[1].reason
    second = _run(clients, settings, resend_in_doubt=True)  # even when asked to resend: it is looked up first
    assert _statuses(second) == ["already sent"] * 3
    assert second.results[1].reason.startswith(f"found in {SENDER}'s mailbox by its Message-ID")
    assert cloud.lookups == [first.results[1].message_id]
    assert len(cloud.messages) == 3
    with Ledger(settings.ledger) as ledger:
        [recipient] = next(p for p in ledger.packs() if p.client == "Client 02 Radiology").recipients
        assert (recipient.status, recipient.resolved_by) == ("sent", LOOKUP_ACTOR)


def test_a_pack_in_doubt_that_graph_cannot_find_is_resent_only_when_asked(
    cloud: CloudServer, tmp_path: Path, cached_packs: PackCache
) -> None:
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(1))
    settings = load_settings(graph_env(cloud, tmp_path))
    [entry] = load_clients(clients, market_for())
    key = pack_key(entry.profile, market_for())
    claim_and_die(settings.ledger, key, "<killed-before-posting@imgout.example>")  # kill -9 before the POST

    held = _run(clients, settings)
    assert _statuses(held) == ["in doubt"]
    assert (
        f"Microsoft Graph finds no message with Message-ID <killed-before-posting@imgout.example> in {SENDER}'s mailbox"
        in held.results[0].reason
    )
    assert cloud.messages == []
    resent = _run(clients, settings, resend_in_doubt=True)
    assert _statuses(resent) == ["sent"]
    assert [m.internet_message_id for m in cloud.messages] == ["<killed-before-posting@imgout.example>"]
    assert _statuses(_run(clients, settings, resend_in_doubt=True)) == ["already sent"]
    assert len(cloud.messages) == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "roles", "said"),
    [
        (
            ["403"],
            ("Mail.ReadBasic.All",),
            "failed: Microsoft Graph answered 403 ErrorAccessDenied: Access is denied. Check credentials and try "
            "again; grant the app the Microsoft Graph application permission Mail.Send with admin consent, and "
            "check that an application access policy (or RBAC for Applications) lets it use briefs@imgout.example",
        ),
        (
            ["401", "401"],
            ("Mail.Send",),
            "failed: Microsoft Graph answered 401 InvalidAuthenticationToken: Access token has expired or is not "
            "yet valid; the token was refused even when fresh: check that it is for Microsoft Graph "
            "(IMGOUT_GRAPH_URL) and the tenant IMGOUT_MS_TENANT",
        ),
    ],
)
def test_graph_refusing_the_app_or_its_token_is_one_line_exit_1_and_stops_the_run(
    cloud: CloudServer, tmp_path: Path, script: list[str], roles: tuple[str, ...], said: str
) -> None:
    token = cloud.issue("graph", "ops", roles)
    env = graph_env(cloud, tmp_path, IMGOUT_OAUTH_TOKEN_COMMAND=token_command(token_file(tmp_path, token)))
    cloud.script = list(script)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(3))
    done = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == f"imgout: Client 01 Radiology: {said}"
    assert [line.split(": ")[2] for line in lines[1:3]] == ["not attempted", "not attempted"]
    assert cloud.messages == []
    assert [(m, p) for m, p, _ in cloud.requests].count(
        ("POST", "/v1.0/users/briefs@imgout.example/sendMail")
    ) == len(script)


def test_graph_with_msal_uses_the_graph_scope_and_the_token_never_shows(
    cloud_tls: CloudServer, tmp_path: Path, cached_packs: PackCache
) -> None:
    cloud_tls.apps.append(EntraApp(TENANT, CLIENT_ID, secret=CLIENT_SECRET))
    env = graph_env(cloud_tls, tmp_path, **_microsoft_env(cloud_tls, IMGOUT_MS_CLIENT_SECRET=CLIENT_SECRET))
    settings = load_settings(env)
    assert settings.token_source == "microsoft"
    report = _run(write_clients_file(tmp_path / "clients.yaml", client_entries(2)), settings)
    assert _statuses(report) == ["sent", "sent"]
    [issued] = cloud_tls.issued  # one token for the run, scope https://127.0.0.1:<port>/.default
    assert issued.resource == "graph"
    nothing_holds(tmp_path, [issued.value, CLIENT_SECRET])


@pytest.mark.parametrize(
    ("env", "said"),
    [
        (
            {"IMGOUT_MAIL_CHANNEL": "graph", "IMGOUT_GRAPH_URL": "http://graph.example.com/v1.0"},
            "IMGOUT_GRAPH_URL: 'http://graph.example.com/v1.0' (expected an https:// URL",
        ),
        ({"IMGOUT_MAIL_CHANNEL": "graph"}, "IMGOUT_MAIL_CHANNEL=graph needs a token source"),
        ({"IMGOUT_SMTP_AUTH": "xoauth2"}, "IMGOUT_SMTP_AUTH=xoauth2 needs IMGOUT_SMTP_USER"),
        ({"IMGOUT_SMTP_AUTH": "password"}, "IMGOUT_SMTP_AUTH=password needs IMGOUT_SMTP_USER"),
        ({"IMGOUT_SMTP_AUTH": "oauth"}, "IMGOUT_SMTP_AUTH: 'oauth' (expected one of password, xoauth2)"),
        ({"IMGOUT_MAIL_CHANNEL": "ews"}, "IMGOUT_MAIL_CHANNEL: 'ews' (expected one of smtp, graph)"),
        (
            {
                "IMGOUT_SMTP_AUTH": "xoauth2",
                "IMGOUT_SMTP_USER": USER,
                "IMGOUT_OAUTH_TOKEN_COMMAND": "x",
                "IMGOUT_MS_TENANT": "t",
            },
            "Two token sources are set (IMGOUT_OAUTH_TOKEN_COMMAND and IMGOUT_MS_TENANT/IMGOUT_MS_CLIENT_ID): keep one",
        ),
        (
            {
                "IMGOUT_SMTP_AUTH": "xoauth2",
                "IMGOUT_SMTP_USER": USER,
                "IMGOUT_MS_TENANT": "t",
                "IMGOUT_MS_CLIENT_ID": "c",
            },
            "Microsoft 365 needs the app's client secret (IMGOUT_MS_CLIENT_SECRET, or `imgout secret set ms-client-secret`)",
        ),
        (
            {
                "IMGOUT_SMTP_HOST": "smtp.office365.com",
                "IMGOUT_SMTP_AUTH": "xoauth2",
                "IMGOUT_SMTP_USER": USER,
                "IMGOUT_OAUTH_TOKEN_COMMAND": "x",
            },
            "Refusing to send the OAuth token unencrypted to smtp.office365.com",
        ),
    ],
)
def test_settings_for_corporate_mail_name_what_is_missing(env: dict[str, str], said: str) -> None:
    with pytest.raises(SettingsError) as bad:
        load_settings(env)
    assert said in str(bad.value)


def test_graph_refuses_plain_http_except_to_this_machine() -> None:
    settings = DeliverySettings(
        mail_channel="graph",
        graph_url="http://graph.example.com/v1.0",
        token_source="command",
        oauth_token_command="x",
    )
    with pytest.raises(TokenError, match="without TLS"):
        GraphSender(settings)
    assert GraphSender(
        DeliverySettings(
            mail_channel="graph",
            graph_url="http://[::1]:8/v1.0",
            token_source="command",
            oauth_token_command="x",
        )
    )


# ------------------------------------------------------------------------------------------ exactly once, killed


@pytest.mark.slow
def test_graph_sends_each_pack_once_whatever_point_a_kill_9_lands_on(
    cloud: CloudServer, tmp_path: Path
) -> None:
    import random
    import time

    rng = random.Random(21)  # derandomized: the same kill points on every run
    names = [e["name"] for e in client_entries(8)]
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(8))
    env = graph_env(cloud, tmp_path)
    outputs: list[str] = []
    kills: list[tuple[int, float]] = []
    for _ in range(4):
        cloud.script = [
            "hold:0.4"
        ] * 20  # Graph has each message 0.4 s before it answers: kills land there too
        before = len(cloud.messages)
        target, extra = rng.randint(0, 2), rng.uniform(0.0, 0.6)
        run = start_imgout("batch", str(clients), "--no-pdf", env=env)
        deadline = time.monotonic() + 60
        while len(cloud.messages) < before + target and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(extra)
        run.kill()  # SIGKILL: nothing is recorded after this instant
        out, err = run.communicate(timeout=30)
        outputs += [out, err]
        kills.append((target, round(extra, 2)))
    cloud.script = []
    looked_up = run_imgout("batch", str(clients), "--no-pdf", env=env)  # packs in doubt: found, or held back
    resent = run_imgout("batch", str(clients), "--no-pdf", "--resend-in-doubt", env=env)
    outputs += [looked_up.stdout, looked_up.stderr, resent.stdout, resent.stderr]
    assert resent.returncode == 0, resent.stderr

    received = [str(m.message["X-Imgout-Client"]) for m in cloud.messages]
    assert sorted(received) == sorted(names), kills  # every client once: none twice, none lost
    assert "in doubt" not in resent.stderr
    assert cloud.lookups, kills  # some kill landed while Graph held an answer back: looked up, not resent
    nothing_holds(tmp_path, cloud.token_values, *outputs)


@pytest.mark.slow
def test_imgout_batch_over_xoauth2_with_msal_leaves_no_token_nor_secret_anywhere_and_a_wrong_tenant_is_exit_1(
    make_server: Callable[..., LocalSMTPServer], cloud_tls: CloudServer, tmp_path: Path
) -> None:
    cloud_tls.apps.append(EntraApp(TENANT, CLIENT_ID, secret=CLIENT_SECRET))
    server = _xoauth2_server(make_server, cloud_tls)
    env = delivery_env(
        server,
        tmp_path,
        IMGOUT_SMTP_USER=USER,
        IMGOUT_SMTP_AUTH="xoauth2",
        **_microsoft_env(cloud_tls, IMGOUT_MS_CLIENT_SECRET=CLIENT_SECRET),
    )
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(3))
    done = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert done.returncode == 0, done.stderr
    dry = run_imgout("batch", str(clients), "--no-pdf", "--dry-run", str(tmp_path / "eml"), env=env)
    listed = run_imgout("ledger", "list", env=env)
    assert len(server.messages) == 3 and len(cloud_tls.issued) == 1
    secrets = [*cloud_tls.token_values, CLIENT_SECRET]
    outputs = [done.stdout, done.stderr, dry.stdout, dry.stderr, listed.stdout, listed.stderr]
    nothing_holds(tmp_path, secrets, *outputs, *(m.raw.decode("utf-8", "replace") for m in server.messages))

    env["IMGOUT_MS_TENANT"] = "contoso.onmicrosoft.com"
    again = write_clients_file(tmp_path / "more.yaml", client_entries(2, domain="beta.example"))
    wrong = run_imgout("batch", str(again), "--no-pdf", env=env)
    assert wrong.returncode == 1
    first = wrong.stderr.splitlines()[0]
    assert first.startswith("imgout: Client 01 Radiology: failed: Microsoft 365 does not know the tenant")
    assert first.endswith(
        "check IMGOUT_MS_TENANT (the Directory (tenant) ID on the app registration's Overview page)"
    )
    assert len(server.messages) == 3  # nothing sent, nothing twice


def test_a_cc_added_later_gets_the_pack_through_graph_and_nobody_else_gets_it_again(
    cloud: CloudServer, tmp_path: Path, cached_packs: PackCache
) -> None:
    entries = client_entries(1)
    clients = write_clients_file(tmp_path / "clients.yaml", entries)
    settings = load_settings(graph_env(cloud, tmp_path))
    assert _statuses(_run(clients, settings)) == ["sent"]
    entries[0]["cc"] = ["new.cfo@acme.example"]
    write_clients_file(clients, entries)
    assert _statuses(_run(clients, settings)) == ["sent"]
    first, second = cloud.messages
    assert (first.addresses("To"), first.addresses("Cc")) == (["cfo1@acme.example"], [])
    # Graph takes the recipients from the headers: the second message names the new Cc only.
    assert (second.addresses("To"), second.addresses("Cc")) == ([], ["new.cfo@acme.example"])
    assert first.internet_message_id == second.internet_message_id


def test_graph_goes_through_the_https_proxy_the_environment_names_and_the_proxy_never_sees_the_token(
    cloud_tls: CloudServer, tmp_path: Path, cached_packs: PackCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.cloud_server import ConnectProxy

    proxy = ConnectProxy()
    try:
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("https_proxy", proxy.url.replace("http://", "http://ops:p%40ss@"))
        assert cloud_tls.cafile is not None
        settings = load_settings(graph_env(cloud_tls, tmp_path, IMGOUT_HTTPS_CAFILE=str(cloud_tls.cafile)))
        report = _run(write_clients_file(tmp_path / "clients.yaml", client_entries(2)), settings)
    finally:
        proxy.close()
    assert _statuses(report) == ["sent", "sent"] and len(cloud_tls.messages) == 2
    [connect] = proxy.seen  # one tunnel, kept for the run
    host = cloud_tls.url.removeprefix("https://")
    assert connect.startswith(f"CONNECT {host} HTTP/1.".encode())
    assert b"Proxy-Authorization: Basic " + base64.b64encode(b"ops:p@ss") in connect
    assert not any(token.encode() in connect for token in cloud_tls.token_values)


@pytest.mark.slow
def test_ctrl_c_while_graph_holds_its_answer_is_recorded_in_doubt_and_the_next_run_finds_it(
    cloud: CloudServer, tmp_path: Path
) -> None:
    import signal
    import time

    cloud.script = ["hold:20"]
    env = graph_env(cloud, tmp_path)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(2))
    run = start_imgout("batch", str(clients), "--no-pdf", env=env)
    deadline = time.monotonic() + 60
    while not cloud.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130 and err.splitlines()[-1] == "imgout: interrupted"
    with Ledger(Path(env["IMGOUT_LEDGER"])) as ledger:
        [pack] = ledger.packs()
        [recipient] = pack.recipients
        assert (recipient.status, recipient.reason) == (
            "in doubt",
            "interrupted after the whole message was sent: it may have arrived",
        )
    cloud.script = []
    rerun = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(str(m.message["X-Imgout-Client"]) for m in cloud.messages) == [
        "Client 01 Radiology",
        "Client 02 Radiology",
    ]


def test_exchange_refusing_an_msal_token_gets_one_fresh_token_then_names_what_the_admin_must_set(
    make_server: Callable[..., LocalSMTPServer], cloud_tls: CloudServer, tmp_path: Path
) -> None:
    cloud_tls.apps.append(EntraApp(TENANT, CLIENT_ID, secret=CLIENT_SECRET))
    server = make_server("starttls", xoauth2=lambda user, token: False, auth_mechanisms=["XOAUTH2"])
    settings = load_settings(
        delivery_env(
            server,
            tmp_path,
            IMGOUT_SMTP_USER=USER,
            IMGOUT_SMTP_AUTH="xoauth2",
            **_microsoft_env(cloud_tls, IMGOUT_MS_CLIENT_SECRET=CLIENT_SECRET),
        )
    )
    with Mailer(settings) as mailer:
        problem = mailer.log_in()
    assert problem.startswith(
        f"The SMTP server refused the token for {USER} even after a fresh one (535 5.7.8 "
    )
    assert problem.endswith(
        "check that the app has SMTP.SendAsApp with admin consent, that its service principal is registered in "
        "Exchange Online with FullAccess to the mailbox, and that SMTP AUTH is enabled for the mailbox"
    )
    assert len(cloud_tls.issued) == 2  # the refused token, and one fresh one: no more
    assert [(a.success, a.initial_response) for a in server.auth_attempts] == [(False, False), (False, False)]


def test_a_sender_that_is_no_mailbox_of_the_tenant_stops_the_run_naming_imgout_mail_from(
    cloud: CloudServer, tmp_path: Path, cached_packs: PackCache
) -> None:
    settings = load_settings(graph_env(cloud, tmp_path, IMGOUT_MAIL_FROM="briefs@elsewhere.example"))
    report = _run(write_clients_file(tmp_path / "clients.yaml", client_entries(2)), settings)
    assert _statuses(report) == ["failed", "not attempted"]
    assert report.results[0].reason == (
        "Microsoft Graph answered 404 ErrorInvalidUser: The requested user 'briefs@elsewhere.example' is invalid; "
        "the tenant has no mailbox briefs@elsewhere.example: check IMGOUT_MAIL_FROM"
    )
    assert cloud.messages == []


def test_a_graph_answer_trickling_a_byte_at_a_time_ends_by_its_deadline_and_leaves_the_pack_in_doubt(
    cloud: CloudServer, tmp_path: Path, cached_packs: PackCache
) -> None:
    """Graph accepted the message, then answers a byte every quarter second: a timeout per read never
    fires, the answer's deadline (IMGOUT_SMTP_TIMEOUT) does; the pack is in doubt, never in progress."""
    cloud.script = ["trickle"]
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(1))
    settings = load_settings(graph_env(cloud, tmp_path, IMGOUT_SMTP_TIMEOUT="1"))
    started = time.monotonic()
    report = _run(clients, settings)
    assert time.monotonic() - started < 8  # the deadline, a second, with the pack's build and the ledger
    assert _statuses(report) == ["in doubt"]
    assert "no answer from" in report.results[0].reason and "in time" in report.results[0].reason
