"""The send ledger: a SQLite file that remembers every pack handed to the SMTP server, so none goes twice.

A pack is identified by its :class:`~.channel.PackKey`: the client, the To and Cc recipients, the model
version, the assumption hash and the scenario. Before talking to the server the sender *claims* the pack
(status ``sending``, with the Message-ID it will use); after the server's answer it records ``sent``,
``failed`` (nothing was delivered; a rerun tries again with the same Message-ID) or ``in doubt`` (the
connection dropped after the whole message was transmitted, so the server may have it).

A pack left ``sending`` by a run that died, or marked ``in doubt``, is not sent again automatically: the
operator checks the mailbox and asks for it explicitly (``resend_in_doubt``), which reuses the same
Message-ID so receiving systems can still recognise a duplicate.

The ledger never stores message bodies, attachments or credentials.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import LedgerError
from .channel import PackKey

#: What the ledger records about a pack: claimed and being sent, sent, failed (send again), or in doubt.
LedgerStatus = Literal["sending", "sent", "failed", "in doubt"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    pack_key        TEXT PRIMARY KEY,
    client          TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    model_version   TEXT NOT NULL,
    assumption_hash TEXT NOT NULL,
    scenario        TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'in doubt')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    reason          TEXT NOT NULL DEFAULT '',
    run_id          TEXT NOT NULL,
    created         TEXT NOT NULL,
    updated         TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Delivery:
    """One ledger row."""

    client: str
    recipients: dict[str, list[str]]
    model_version: str
    assumption_hash: str
    scenario: str
    message_id: str
    status: LedgerStatus
    attempts: int
    reason: str
    run_id: str
    created: str
    updated: str


@dataclass(frozen=True)
class Claim:
    """The ledger's answer to "may I send this pack now?"."""

    #: ``send`` (go ahead with ``message_id``), ``already sent`` or ``in doubt`` (do not send).
    decision: Literal["send", "already sent", "in doubt"]
    message_id: str
    previous: Delivery | None


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class Ledger:
    """The SQLite send ledger at ``path`` (created with its folder on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE), so a claim is atomic even
            # when two runs share the ledger.
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            # WAL: one fsync per commit instead of several; synchronous=FULL keeps every commit durable,
            # which exactly-once needs (a claim or a "sent" lost to a power cut could mean a resend).
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(
                f"Send ledger {self.path}: cannot be opened ({exc}); see IMGOUT_LEDGER"
            ) from None

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def lookup(self, key: PackKey) -> Delivery | None:
        """The ledger row for ``key``, or None if the pack was never claimed."""
        row = self._db.execute(
            "SELECT client, recipients, model_version, assumption_hash, scenario, message_id, status, attempts,"
            " reason, run_id, created, updated FROM deliveries WHERE pack_key = ?",
            (key.digest,),
        ).fetchone()
        return None if row is None else _delivery(row)

    def claim(self, key: PackKey, message_id: str, run_id: str, *, resend_in_doubt: bool = False) -> Claim:
        """Mark the pack ``sending`` before any SMTP traffic, unless it was sent or its fate is unknown.

        A pack that failed before keeps its first Message-ID (``message_id`` is used only for a new pack).
        """
        with self._transaction() as db:
            previous = self.lookup(key)
            if previous is not None:
                if previous.status == "sent":
                    return Claim("already sent", previous.message_id, previous)
                if previous.status in ("sending", "in doubt") and not resend_in_doubt:
                    return Claim("in doubt", previous.message_id, previous)
                message_id = previous.message_id
                db.execute(
                    "UPDATE deliveries SET status = 'sending', run_id = ?, updated = ? WHERE pack_key = ?",
                    (run_id, _now(), key.digest),
                )
            else:
                now = _now()
                db.execute(
                    "INSERT INTO deliveries (pack_key, client, recipients, model_version, assumption_hash,"
                    " scenario, message_id, status, run_id, created, updated)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'sending', ?, ?, ?)",
                    (
                        key.digest,
                        key.client,
                        json.dumps(key.recipients, ensure_ascii=False),
                        key.model_version,
                        key.assumption_hash,
                        key.scenario,
                        message_id,
                        run_id,
                        now,
                        now,
                    ),
                )
        return Claim("send", message_id, previous)

    def finish(self, key: PackKey, status: LedgerStatus, reason: str = "", attempts: int = 1) -> None:
        """Record the outcome of the claim (``sent``, ``failed`` or ``in doubt``), the reason and attempts made."""
        with self._transaction() as db:
            db.execute(
                "UPDATE deliveries SET status = ?, reason = ?, attempts = attempts + ?, updated = ?"
                " WHERE pack_key = ?",
                (status, reason, attempts, _now(), key.digest),
            )

    def deliveries(self) -> list[Delivery]:
        """Every row, oldest first."""
        rows = self._db.execute(
            "SELECT client, recipients, model_version, assumption_hash, scenario, message_id, status, attempts,"
            " reason, run_id, created, updated FROM deliveries ORDER BY created, client"
        ).fetchall()
        return [_delivery(row) for row in rows]


def _delivery(row: tuple[object, ...]) -> Delivery:
    values = list(row)
    values[1] = json.loads(str(values[1]))
    return Delivery(*values)  # type: ignore[arg-type]
