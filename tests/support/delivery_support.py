"""Shared pieces of the delivery and batch tests: settings pointing at a local server, clients files, packs."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.support.smtp_server import LocalSMTPServer
from xl_addin.delivery import batch
from xl_addin.delivery.batch import BuildFailure
from xl_addin.delivery.channel import PackKey
from xl_addin.delivery.pack import Pack
from xl_addin.delivery.settings import DeliverySettings, load_settings
from xl_addin.report.profile import ClientProfile

SENDER = "briefs@imgout.example"
USER = "mailer@imgout.example"
# Distinctive, so that a search of every output for it cannot match anything by accident.
PASSWORD = "Zebra-zq7x-secret!"


def delivery_env(server: LocalSMTPServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment variables for imgout that point at ``server``, with the ledger and log under tmp_path.

    The throwaway CA is trusted through ``IMGOUT_SMTP_CAFILE`` (the documented setting), not through
    ``SSL_CERT_FILE``, and retries do not wait.
    """
    env = {k: v for k, v in server.client_env().items() if k != "SSL_CERT_FILE"}
    if server.security != "none":
        env["IMGOUT_SMTP_CAFILE"] = str(server.cafile)
    env.update(
        {
            "IMGOUT_MAIL_FROM": SENDER,
            "IMGOUT_SMTP_HELO": "localhost",
            "IMGOUT_SMTP_TIMEOUT": "5",
            "IMGOUT_SMTP_BACKOFF": "0",
            "IMGOUT_LEDGER": str(tmp_path / "state" / "ledger.sqlite3"),
            "IMGOUT_LOG": str(tmp_path / "state" / "delivery.jsonl"),
        }
    )
    env.update(extra)
    return env


def settings_for(server: LocalSMTPServer, tmp_path: Path, **extra: str) -> DeliverySettings:
    """The delivery settings a user with :func:`delivery_env` in their environment gets."""
    return load_settings(delivery_env(server, tmp_path, **extra))


def client_entries(count: int, domain: str = "acme.example") -> list[dict[str, Any]]:
    """``count`` clients for a clients file, each with its own To and, for every third one, a Cc."""
    entries: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        entry: dict[str, Any] = {"name": f"Client {n:02d} Radiology", "to": [f"cfo{n}@{domain}"]}
        if n % 3 == 0:
            entry["cc"] = [f"strategy{n}@{domain}"]
        entries.append(entry)
    return entries


def write_clients_file(path: Path, entries: list[dict[str, Any]]) -> Path:
    """Write a clients file (the format an operations person writes by hand)."""
    path.write_text(
        yaml.safe_dump({"clients": entries}, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return path


class PackCache:
    """Builds each (client profile, assumptions, PDF or not) pack once per test session.

    Installed in place of the batch's in-process builder, so the many batch stories below do not pay for
    building the same real pack again; the local-process and Dask tests build for real.
    """

    def __init__(self) -> None:
        self.packs: dict[tuple[Any, ...], Pack | BuildFailure] = {}
        self.builds = 0
        self._real: Callable[..., Pack | BuildFailure] = batch.build_task

    def build_task(
        self,
        profile: ClientProfile,
        assumptions: str | None,
        overrides: str | None,
        with_pdf: bool,
        pdf_engine: str | None = None,
        previous: str = "",
    ) -> Pack | BuildFailure:
        key = (profile, assumptions, overrides, with_pdf, pdf_engine, previous)
        if key not in self.packs:
            self.builds += 1
            self.packs[key] = self._real(profile, assumptions, overrides, with_pdf, pdf_engine, previous)
        return self.packs[key]


def received_by_client(server: LocalSMTPServer) -> Mapping[str, list[Any]]:
    """Messages the server accepted, grouped by the client header."""
    grouped: dict[str, list[Any]] = {}
    for received in server.messages:
        grouped.setdefault(str(received.message["X-Imgout-Client"]), []).append(received)
    return grouped


_CLAIM_AND_DIE = """
import json, os, sys
from pathlib import Path
from xl_addin.delivery.channel import PackKey
from xl_addin.delivery.ledger import Ledger
fields = json.loads(sys.argv[2])
key = PackKey(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
ledger = Ledger(Path(sys.argv[1]))
claim = ledger.claim(key, sys.argv[3], "crashed-run", resend_in_doubt=sys.argv[4] == "resend")
assert claim.decision == "send", claim
os._exit(9)  # dies between the claim and the server's answer, as a run killed with kill -9 does
"""


def claim_and_die(
    ledger: Path, key: PackKey, message_id: str = "<crashed@imgout.example>", resend_in_doubt: bool = False
) -> None:
    """What a run killed while sending leaves: a real process claims ``key`` in the ledger and dies."""
    fields = json.dumps(dataclasses.asdict(key))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _CLAIM_AND_DIE,
            str(ledger),
            fields,
            message_id,
            "resend" if resend_in_doubt else "",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 9, done.stderr


def imgout_command(*args: str) -> list[str]:
    """The command line of a real ``imgout`` process (this interpreter, so the same install)."""
    return [sys.executable, "-m", "xl_addin", *args]


def process_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with ``extra`` on top (what a subprocess of a test gets)."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGOUT_")}
    # No COLUMNS: a table printed to a pipe keeps its full width (xl_addin/common/console.py), and CI runs
    # the table tests again under COLUMNS=60 to hold that. keyring's "no keyring here" backend: an imgout
    # under test never reads this machine's OS keyring.
    env.update({"PYTHONDONTWRITEBYTECODE": "1", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    env.update(extra)
    return env


def run_imgout(
    *args: str, env: Mapping[str, str], timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``imgout ARGS`` as a real process and wait for it (stdout and stderr captured as text)."""
    return subprocess.run(
        imgout_command(*args),
        env=process_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def NO_WAIT(seconds: float) -> None:
    """Retries do not wait in tests."""


def start_imgout(*args: str, env: Mapping[str, str], cwd: Path | None = None) -> subprocess.Popen[str]:
    """Start ``imgout ARGS`` as a real process (stdout and stderr piped as text); the caller waits for it.

    Ctrl-C is given back its default meaning in the child: a test run started in the background (``&``,
    nohup, CI) ignores SIGINT, and a child would inherit that and never see the interrupt a test sends."""
    return subprocess.Popen(
        imgout_command(*args),
        env=process_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        preexec_fn=_default_interrupt,
    )


#: ``imgout`` as a process on another machine sharing the ledger file: its host name is ``sys.argv[1]``.
_ON_HOST = """
import socket, sys
host = sys.argv.pop(1)
socket.gethostname = lambda: host
from xl_addin.cli import main
main()
"""


def start_imgout_on_host(
    host: str, *args: str, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.Popen[str]:
    """Start ``imgout ARGS`` as if on the machine ``host`` (its host name is all the ledger sees of it),
    sharing this machine's files: a second host that mounts the same ledger."""
    return subprocess.Popen(
        [sys.executable, "-c", _ON_HOST, host, *args],
        env=process_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        preexec_fn=_default_interrupt,
    )


def _default_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


#: Ways a ledger file gets damaged, each as what imgout must say about it.
LEDGER_DAMAGE = {
    "truncated": "is empty (0 bytes): it may have been truncated",  # what `: > ledger.sqlite3` does
    "cut in half": "is damaged",
    "random bytes": "is not a SQLite database",
    "YAML text": "is not a SQLite database",
    "foreign": "is a SQLite database of another application",
    "schema 1 with malformed JSON": "an imgout ledger of an older format (schema 1)",
    "newer schema": "has schema 9, this imgout reads schema 2 (it was written by a newer imgout",
    "identity row removed": "has lost its identity",
    "a bad status row": "is damaged",
}


def damage_ledger(ledger: Path, kind: str) -> None:
    """Damage the ledger file one of the ways of :data:`LEDGER_DAMAGE`."""
    import os
    import sqlite3

    if kind == "truncated":
        ledger.write_bytes(b"")
    elif kind == "cut in half":
        ledger.write_bytes(ledger.read_bytes()[: ledger.stat().st_size // 2])
    elif kind == "random bytes":
        ledger.write_bytes(os.urandom(8192))
    elif kind == "YAML text":
        ledger.write_text("clients: [this is YAML, not a ledger]\n")
    else:
        if kind in ("foreign", "schema 1 with malformed JSON"):
            ledger.unlink()
        db = sqlite3.connect(ledger)
        statements = {
            "foreign": ["CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)"],
            # The layout imgout wrote before schema 2, with a recipients column that is not JSON.
            "schema 1 with malformed JSON": [
                "CREATE TABLE deliveries (pack_key TEXT PRIMARY KEY, client TEXT, recipients TEXT)",
                "INSERT INTO deliveries VALUES ('k', 'Acme', '{not json')",
            ],
            "newer schema": ["PRAGMA user_version = 9"],
            "identity row removed": ["DELETE FROM ledger_info"],
            "a bad status row": [
                "PRAGMA ignore_check_constraints = 1",
                "UPDATE deliveries SET status = 'bogus'",
            ],
        }[kind]
        for statement in statements:
            db.execute(statement)
        db.commit()
        db.close()
