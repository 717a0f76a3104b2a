"""Deadlines, not timeouts: a server that trickles, or answers without end, cannot hang a run or fill its memory.

Each adversary is a real socket server on 127.0.0.1 (tests/support/hostile_smtp.py). The promise: every SMTP
command's reply is complete within IMGOUT_SMTP_TIMEOUT or the attempt ends, and no reply grows past a cap;
the pack is then recorded failed (or in doubt, once the whole message went out), never left in progress.
"""

from __future__ import annotations

import resource
import subprocess
import time
import tracemalloc
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support.delivery_support import client_entries, imgout_command, process_env, write_clients_file
from tests.support.hostile_smtp import HostileSMTPServer, Trick
from xl_addin.delivery.conversation import MAX_REPLY_BYTES
from xl_addin.delivery.ledger import Ledger
from xl_addin.delivery.settings import load_settings
from xl_addin.delivery.smtp import Mailer

TIMEOUT = 1.5
#: What each adversary makes of one attempt: the outcome and the words that say why.
OUTCOMES: dict[Trick, tuple[str, str]] = {
    "tarpit greeting": ("failed", "timed out: no complete answer to the greeting within 1.5 s"),
    "endless continuation": ("failed", "the server's answer to EHLO went beyond 64 KiB"),
    "trickling reply": (
        "in doubt",
        "timed out: no complete answer to the message (end of DATA) within 1.5 s",
    ),
}


def _env(server: HostileSMTPServer, folder: Path) -> dict[str, str]:
    return {
        "IMGOUT_SMTP_HOST": "127.0.0.1",
        "IMGOUT_SMTP_PORT": str(server.port),
        "IMGOUT_SMTP_SECURITY": "none",
        "IMGOUT_SMTP_HELO": "localhost",
        "IMGOUT_MAIL_FROM": "briefs@imgout.example",
        "IMGOUT_SMTP_TIMEOUT": str(TIMEOUT),
        "IMGOUT_SMTP_RETRIES": "0",
        "IMGOUT_SMTP_BACKOFF": "0",
        "IMGOUT_LEDGER": str(folder / "ledger.sqlite3"),
        "IMGOUT_LOG": str(folder / "delivery.jsonl"),
    }


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "briefs@imgout.example"
    message["To"] = "cfo@acme.example"
    message["Subject"] = "Market brief"
    message.set_content("The brief.\n" * 2_000)
    return message


@pytest.mark.parametrize("trick", sorted(OUTCOMES))
def test_one_attempt_against_a_hostile_server_ends_within_its_deadline_in_little_memory(
    trick: Trick, tmp_path: Path
) -> None:
    outcome, why = OUTCOMES[trick]
    with HostileSMTPServer(trick) as server:
        mailer = Mailer(load_settings(_env(server, tmp_path)))
        tracemalloc.start()
        started = time.monotonic()
        try:
            result = mailer.send(_message(), ["cfo@acme.example"])
        finally:
            took = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            mailer.close()
    assert (result.outcome, result.attempts) == (outcome, 1), result
    assert why in result.reason and "\n" not in result.reason, result.reason
    # One command's deadline (two for the trickling reply: DATA's payload went out first), not for ever.
    assert took < 3 * TIMEOUT, took
    # A reply is read up to the cap and no further: the endless EHLO answer is not kept.
    assert peak < 4 * MAX_REPLY_BYTES + 2 * 2**20, peak


@pytest.mark.slow
@pytest.mark.parametrize("trick", sorted(OUTCOMES))
def test_a_batch_against_a_hostile_server_ends_with_one_line_per_client_and_an_honest_ledger(
    trick: Trick, tmp_path: Path
) -> None:
    outcome, why = OUTCOMES[trick]
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(2))
    with HostileSMTPServer(trick) as server:
        started = time.monotonic()
        # Under a memory cap: 1 GiB of address space (the endless EHLO answer grew a run to 10 GB).
        done = subprocess.run(
            imgout_command("batch", str(clients), "--no-pdf"),
            env=process_env(_env(server, tmp_path)),
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30)),
        )
        took = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr and len(lines) == 3, lines  # one per client, then the summary
    assert why in lines[0], lines[0]
    assert took < 60, took
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        statuses = [p.status for p in ledger.packs()]
    # Never "in progress": the first pack failed (or is in doubt); the second failed or was not attempted.
    assert statuses[0] == outcome and "in progress" not in statuses, statuses
