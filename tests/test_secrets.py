"""Secrets: any password the server accepts works, and no part of it appears anywhere imgout writes.

Against the real aiosmtpd server over STARTTLS with AUTH; the outputs searched are every one a user or a
log collector could see: stdout and stderr of every command (the `ledger` commands included), the log,
the ledger file with its WAL, every row of its tables (the leases in ``runs`` too), ``.eml`` files and the
messages as they arrived.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.delivery_support import (
    PASSWORD,
    USER,
    client_entries,
    delivery_env,
    run_imgout,
    settings_for,
    write_clients_file,
)
from tests.support.smtp_server import LocalSMTPServer
from xl_addin.delivery.smtp import Mailer

pytestmark = pytest.mark.slow  # real SMTP servers and imgout processes

#: Letters outside ASCII, in two scripts, with a marker no output could contain by accident.
# No run of four of its characters is hex: a Message-ID or hash in the output could hold "7781" by chance.
UNICODE_PASSWORD = "Pässwörd-ñ-秘密-zq7x"


def _parts(secret: str) -> set[str]:
    """Every piece of ``secret`` that would give part of it away: its non-ASCII letters and every run of 4."""
    return {ch for ch in secret if not ch.isascii()} | {secret[i : i + 4] for i in range(len(secret) - 3)}


def _everything_written(tmp_path: Path, *outputs: str) -> dict[str, str]:
    places = {f"output {i}": text for i, text in enumerate(outputs)}
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix not in (".pem", ".key"):
            places[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return places


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_a_password_with_accents_and_chinese_works_over_auth_plain_and_login(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, mechanism: str
) -> None:
    server = make_server("starttls", username=USER, password=UNICODE_PASSWORD, auth_mechanisms=[mechanism])
    env = delivery_env(server, tmp_path)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(2))
    done = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert done.returncode == 0, done.stderr
    assert [(a.mechanism, a.success) for a in server.auth_attempts] == [(mechanism, True)]
    assert server.auth_attempts[0].password == UNICODE_PASSWORD
    assert [m.authenticated_as for m in server.messages] == [USER, USER]
    for place, text in _everything_written(tmp_path, done.stdout, done.stderr).items():
        assert not any(part in text for part in _parts(UNICODE_PASSWORD)), place


def test_a_wrong_password_is_tried_once_for_the_whole_batch_and_never_shown(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    server = make_server("starttls", username=USER, password=PASSWORD, auth_mechanisms=["PLAIN"])
    env = delivery_env(server, tmp_path, IMGOUT_SMTP_PASSWORD=UNICODE_PASSWORD)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(5))
    done = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert done.returncode == 1
    assert "SMTP login refused for IMGOUT_SMTP_USER (535" in done.stderr
    assert (
        done.stderr.count("not attempted: the run stopped after Client 01 Radiology: SMTP login refused") == 4
    )
    assert len(server.auth_attempts) == 1 and server.messages == []
    for place, text in _everything_written(tmp_path, done.stdout, done.stderr).items():
        assert not any(part in text for part in _parts(UNICODE_PASSWORD)), place


def test_no_reason_ever_carries_the_password_in_any_form_it_travels_in(
    tmp_path: Path, make_server: Callable[..., LocalSMTPServer]
) -> None:
    server = make_server("starttls", username=USER, password=UNICODE_PASSWORD)
    mailer = Mailer(settings_for(server, tmp_path))
    plain = base64.b64encode(f"\0{USER}\0{UNICODE_PASSWORD}".encode()).decode()
    leaked = f"server said: {UNICODE_PASSWORD!r} / {UNICODE_PASSWORD} / {plain} / {base64.b64encode(UNICODE_PASSWORD.encode()).decode()}"
    scrubbed = mailer._scrub(leaked)
    assert not any(part in scrubbed for part in _parts(UNICODE_PASSWORD)) and plain not in scrubbed
    assert scrubbed.count("[password]") == 4


@pytest.mark.tables
def test_the_password_marker_is_in_no_output_of_any_command_nor_in_the_ledgers_rows(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    server = make_server(
        "starttls", username=USER, password=PASSWORD, reject_permanently=["strategy3@acme.example"]
    )
    env = delivery_env(server, tmp_path)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(3))
    outputs = [
        run_imgout("batch", str(clients), "--no-pdf", env=env),  # client 3: partly sent (its Cc refused)
        run_imgout("batch", str(clients), "--no-pdf", "--dry-run", str(tmp_path / "eml"), env=env),
        run_imgout("ledger", "list", env=env),
        run_imgout("ledger", "list", "--json", env=env),
        run_imgout("ledger", "list", "--status", "partly sent", env=env),
        run_imgout("ledger", "show", "Client 03 Radiology", env=env),
        run_imgout("ledger", "show", "Client 03 Radiology", "--json", env=env),
        run_imgout(
            "ledger", "resolve", "Client 03 Radiology", "--resend", "--note", "mailbox fixed", env=env
        ),
        run_imgout("ledger", "show", "client 03 radiology", "--json", env=env),
    ]
    assert [o.returncode for o in outputs] == [1, 0, 0, 0, 0, 0, 0, 0, 0], [o.stderr for o in outputs]
    assert "strategy3@acme.example (failed)" in outputs[4].stdout
    assert '"resolved_by"' in outputs[8].stdout and "mailbox fixed" in outputs[8].stdout

    ledger = Path(env["IMGOUT_LEDGER"])
    db = sqlite3.connect(ledger)
    rows = {
        table: repr(db.execute(f"SELECT * FROM {table}").fetchall())
        for table in ("ledger_info", "runs", "packs", "deliveries", "history")
    }
    db.close()
    assert rows["runs"].count(f"'{os.uname().nodename}'") == 1  # the lease of the run that sent
    places = {
        **_everything_written(tmp_path, *(o.stdout + o.stderr for o in outputs)),
        **{f"rows of {table}": text for table, text in rows.items()},
        **{f"message {i}": m.raw.decode("latin-1") for i, m in enumerate(server.messages)},
    }
    assert any(p.endswith(".eml") for p in places) and str(ledger) in places
    for place, text in places.items():
        assert PASSWORD not in text, place
    assert server.auth_attempts[0].password == PASSWORD  # used, never shown
