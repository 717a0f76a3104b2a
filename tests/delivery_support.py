"""Shared pieces of the delivery and batch tests: settings pointing at a local server, clients files, packs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.smtp_server import LocalSMTPServer
from xl_addin.delivery import batch
from xl_addin.delivery.batch import BuildFailure
from xl_addin.delivery.pack import Pack
from xl_addin.delivery.settings import DeliverySettings, load_settings
from xl_addin.report.profile import ClientProfile

SENDER = "briefs@imgout.example"
USER = "mailer@imgout.example"
# Distinctive, so that a search of every output for it cannot match anything by accident.
PASSWORD = "Zebra-7781-secret!"


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
    ) -> Pack | BuildFailure:
        key = (profile, assumptions, overrides, with_pdf, pdf_engine)
        if key not in self.packs:
            self.builds += 1
            self.packs[key] = self._real(profile, assumptions, overrides, with_pdf, pdf_engine)
        return self.packs[key]


def received_by_client(server: LocalSMTPServer) -> Mapping[str, list[Any]]:
    """Messages the server accepted, grouped by the client header."""
    grouped: dict[str, list[Any]] = {}
    for received in server.messages:
        grouped.setdefault(str(received.message["X-Imgout-Client"]), []).append(received)
    return grouped
