"""Secrets in the OS keyring (`imgout secret set/delete`), where each one comes from (`imgout doctor`), and a
login that sends nothing (`imgout doctor --mail`).

The keyring is the tests' in-memory stand-in (tests/support/memory_keyring.py, set for every test by conftest.py):
no test reads or writes this machine's keyring. The commands run in this process (`xl_addin.cli.main`) so
that they share that keyring; the servers are the real aiosmtpd and the Graph stand-in on 127.0.0.1.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.cloud_server import CloudServer, graph_env, nothing_holds, token_command, token_file
from tests.support.delivery_support import (
    PASSWORD,
    USER,
    PackCache,
    client_entries,
    delivery_env,
    write_clients_file,
)
from tests.support.memory_keyring import MemoryKeyring
from tests.support.smtp_server import LocalSMTPServer
from xl_addin import cli

KEYRING_PASSWORD = "Kr-4471-from-the-keyring"


def _imgout(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str = "",
) -> tuple[int, str, str]:
    """Run ``imgout ARGS`` in this process with ``env`` as its only IMGOUT_ settings; (exit code, out, err)."""
    import os

    for name in [n for n in os.environ if n.startswith("IMGOUT_")]:
        monkeypatch.delenv(name)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    try:
        cli.main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cloud() -> Iterator[CloudServer]:
    with CloudServer() as server:
        yield server


def test_a_secret_set_from_stdin_is_stored_in_the_keyring_and_never_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keyring_in_memory: MemoryKeyring
) -> None:
    code, out, err = _imgout(
        monkeypatch, capsys, "secret", "set", "smtp-password", stdin=KEYRING_PASSWORD + "\n"
    )
    assert (code, err) == (0, "")
    assert out == "Stored smtp-password in the OS keyring (test memory keyring).\n"
    assert keyring_in_memory.secrets == {("imgout", "smtp-password"): KEYRING_PASSWORD}  # without the newline

    code, out, _ = _imgout(
        monkeypatch,
        capsys,
        "secret",
        "set",
        "smtp-password",
        env={"IMGOUT_SMTP_PASSWORD": PASSWORD},
        stdin="x2\n",
    )
    assert code == 0 and "IMGOUT_SMTP_PASSWORD is set and wins over the keyring" in out

    code, out, _ = _imgout(monkeypatch, capsys, "secret", "delete", "smtp-password")
    assert (code, out) == (0, "Deleted smtp-password from the OS keyring (test memory keyring).\n")
    assert keyring_in_memory.secrets == {}
    code, out, _ = _imgout(monkeypatch, capsys, "secret", "delete", "smtp-password")
    assert code == 0 and "was not in the OS keyring" in out


def test_a_secret_is_never_an_argument_and_unknown_names_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _imgout(monkeypatch, capsys, "secret", "set", "smtp-password", KEYRING_PASSWORD)
    assert code == 2 and "never as an argument; nothing was stored" in err and KEYRING_PASSWORD not in err
    code, _, err = _imgout(monkeypatch, capsys, "secret", "set", "smtp_pasword", stdin="x\n")
    assert code == 2
    assert err == (
        "imgout: error: Unknown secret 'smtp_pasword' (expected one of smtp-password, ms-client-secret, "
        "ms-certificate, google-service-account)\n"
    )
    code, _, err = _imgout(monkeypatch, capsys, "secret", "set", "ms-client-secret", stdin="\n")
    assert code == 2 and "Refusing to store an empty value" in err
    code, _, err = _imgout(
        monkeypatch, capsys, "secret", "set", "ms-certificate", stdin="-----BEGIN CERTIFICATE-----\n"
    )
    assert code == 2 and err == (
        "imgout: error: Refusing to store ms-certificate: expected the Microsoft Entra app's certificate with its "
        "private key (PEM); it holds no private key in PEM form\n"
    )
    encrypted = (
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMII\n-----END ENCRYPTED PRIVATE KEY-----\n"
        "-----BEGIN CERTIFICATE-----\n"
    )
    code, _, err = _imgout(monkeypatch, capsys, "secret", "set", "ms-certificate", stdin=encrypted)
    assert code == 2 and "its private key is encrypted: export it without a passphrase" in err
    code, _, err = _imgout(
        monkeypatch, capsys, "secret", "set", "google-service-account", stdin='{"type": "user"}'
    )
    assert code == 2 and "this JSON is not a service account's key" in err


def test_a_machine_without_a_keyring_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    code, _, err = _imgout(monkeypatch, capsys, "secret", "set", "smtp-password", stdin="x\n")
    assert code == 2
    assert err.startswith("imgout: error: this machine has no OS keyring") and err.count("\n") == 1


def test_the_keyring_password_logs_in_the_environment_wins_and_doctor_says_which_without_showing_either(
    make_server: Callable[..., LocalSMTPServer],
    tmp_path: Path,
    cached_packs: PackCache,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = make_server("starttls", username=USER, password=KEYRING_PASSWORD, auth_mechanisms=["PLAIN"])
    env = {k: v for k, v in delivery_env(server, tmp_path).items() if k != "IMGOUT_SMTP_PASSWORD"}
    assert _imgout(monkeypatch, capsys, "secret", "set", "smtp-password", stdin=KEYRING_PASSWORD)[0] == 0

    code, out, err = _imgout(monkeypatch, capsys, "doctor", "--mail", env=env)
    assert (code, err) == (0, "")
    assert out == (
        f"Mail: works: SMTP 127.0.0.1:{server.port} (starttls, password of {USER}): logged in; nothing was sent.\n"
    )
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(2))
    code, out, err = _imgout(monkeypatch, capsys, "batch", str(clients), "--no-pdf", env=env)
    assert code == 0, err
    assert [m.authenticated_as for m in server.messages] == [USER, USER]

    from xl_addin.report.brief import pdf

    monkeypatch.setattr(pdf, "check_engines", lambda: [])  # the PDF engines are not this test's subject
    code, out, _ = _imgout(monkeypatch, capsys, "doctor", env=env)
    assert "  smtp-password           the OS keyring (test memory keyring)\n" in out
    assert "  ms-client-secret        not set\n" in out

    env["IMGOUT_SMTP_PASSWORD"] = PASSWORD  # the environment wins: the server refuses this one
    code, out, _ = _imgout(monkeypatch, capsys, "doctor", "--mail", env=env)
    assert code == 1
    assert out.startswith(
        f"Mail: fails: SMTP 127.0.0.1:{server.port} (starttls, password of {USER}): SMTP login refused"
    )
    code, out, _ = _imgout(monkeypatch, capsys, "doctor", env=env)
    assert "  smtp-password           the environment (IMGOUT_SMTP_PASSWORD)\n" in out
    assert len(server.messages) == 2  # doctor sent nothing
    nothing_holds(tmp_path, [KEYRING_PASSWORD, PASSWORD], out, err)


def test_doctor_mail_logs_in_with_xoauth2_and_reads_the_graph_mailbox_sending_nothing(
    make_server: Callable[..., LocalSMTPServer],
    cloud: CloudServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = make_server(
        "starttls",
        xoauth2=lambda user, token: cloud.token_ok(token, "smtp") is not None,
        auth_mechanisms=["XOAUTH2"],
    )
    smtp_token = cloud.issue("smtp", USER)
    command = token_command(token_file(tmp_path, smtp_token))
    env = delivery_env(
        server,
        tmp_path,
        IMGOUT_SMTP_USER=USER,
        IMGOUT_SMTP_AUTH="xoauth2",
        IMGOUT_OAUTH_TOKEN_COMMAND=command,
    )
    code, out, _ = _imgout(monkeypatch, capsys, "doctor", "--mail", env=env)
    assert code == 0
    assert out == (
        f"Mail: works: SMTP 127.0.0.1:{server.port} (starttls, XOAUTH2 as {USER}, token from the command "
        "IMGOUT_OAUTH_TOKEN_COMMAND): logged in; nothing was sent.\n"
    )

    code, out, _ = _imgout(monkeypatch, capsys, "doctor", "--mail", env=graph_env(cloud, tmp_path))
    assert code == 0
    assert out.startswith(f"Mail: works: Microsoft Graph ({cloud.graph_url}) for briefs@imgout.example")
    assert (
        "token accepted and the mailbox readable; Mail.Send is proven only by a send; nothing was sent."
        in out
    )

    no_send = cloud.issue("graph", "ops", ("Mail.ReadBasic.All",))
    env = graph_env(cloud, tmp_path, IMGOUT_OAUTH_TOKEN_COMMAND=token_command(token_file(tmp_path, no_send)))
    code, out, _ = _imgout(monkeypatch, capsys, "doctor", "--mail", env=env)
    assert code == 1 and out.count("\n") == 1
    assert "fails:" in out and "the token has no Mail.Send role (it has Mail.ReadBasic.All)" in out
    assert "grant the app the Microsoft Graph application permission Mail.Send with admin consent" in out
    assert server.messages == [] and cloud.messages == []
    nothing_holds(tmp_path, cloud.token_values, out)


def test_a_key_too_long_for_windows_credential_manager_is_refused_naming_the_file_setting_instead(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import keyring

    from tests.support.cloud_server import app_certificate

    class WinVaultKeyring(MemoryKeyring):  # what keyring's Windows backend is, by its module
        __module__ = "keyring.backends.Windows"

    keyring.set_keyring(WinVaultKeyring())
    pem, _ = app_certificate()
    code, _, err = _imgout(monkeypatch, capsys, "secret", "set", "ms-certificate", stdin=pem)
    assert code == 2
    assert err == (
        f"imgout: error: Windows Credential Manager holds at most 1,280 characters a secret and ms-certificate has "
        f"{len(pem):,}: keep it in a file only the sending account can read and name it with "
        "IMGOUT_MS_CERTIFICATE_FILE\n"
    )
    assert _imgout(monkeypatch, capsys, "secret", "set", "ms-client-secret", stdin="Qx8~short\n")[0] == 0
