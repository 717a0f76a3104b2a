"""The send ledger: a SQLite file that remembers every pack handed to the SMTP server, so none goes twice.

A pack (:class:`~.channel.PackKey`: client, scenario, assumption hash, model version, period, edition) is
delivered to each of its recipients once: the ledger keeps one row per pack and recipient. Before talking
to the server a run *claims* the recipients it is about to send to (``sending``); after the server's
answer it records for each ``sent``, ``failed`` (nothing delivered: a later run sends again, with the
pack's first Message-ID) or ``in doubt`` (the connection dropped after the whole message was
transmitted, so the server may have it). A pack refused for one Cc stays open for that Cc only.

Every claim carries a lease: the run that made it (host, process id and the process's start time,
a heartbeat every few seconds) is a row of ``runs``. A claim whose run is alive is "in progress" and
nobody else touches it; only a claim whose run is gone (the process no longer exists, the machine
rebooted, or, for a run on another machine, no heartbeat for :data:`LEASE_SECONDS`) is "in doubt".
An in-doubt pack is sent again only when asked (``resend_in_doubt``) or after an operator resolved it
(:meth:`Ledger.resolve`: delivered, or to be sent again; recorded with who and when). The lease outlives
the answer: a pack recorded in doubt by a run that is still alive stays that run's, and no other run
sends it again, flag or not, until that run has ended (a slow server may still be delivering it).

The ledger knows itself: it is created (atomically) with SQLite's application id, a schema version and
an identity row; an existing file that is empty, damaged, of another application or another schema is
refused (:class:`~xl_addin.errors.LedgerFileError`), never taken as a new ledger, which would resend
every pack. It never stores message bodies, attachments or credentials.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import getpass
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from ..errors import InputError, LedgerError, LedgerFileError
from .channel import PackKey

#: What the ledger records for one recipient of a pack.
RecipientStatus = Literal["sending", "sent", "failed", "in doubt"]
#: What a pack (or a recipient) is, seen from now: ``sending`` by a live run is ``in progress``, by a
#: run that is gone ``in doubt``.
PackStatus = Literal["sent", "partly sent", "failed", "in doubt", "in progress"]

#: SQLite's application id for the file header ("imgo"), and the schema this code reads and writes.
APPLICATION_ID = 0x696D676F
SCHEMA_VERSION = 2
FORMAT_NAME = "imgout send ledger"
#: How often a run refreshes its heartbeat, and how long a run on another machine stays alive without one.
HEARTBEAT_SECONDS = 10.0
LEASE_SECONDS = 60.0
#: How long a command waits for another process's write to the ledger before giving up.
LOCK_TIMEOUT = 30.0

_SCHEMA = """
CREATE TABLE ledger_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE runs (
    run_id        TEXT PRIMARY KEY,
    host          TEXT NOT NULL,
    boot          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    process_start REAL NOT NULL,
    user          TEXT NOT NULL,
    began         TEXT NOT NULL,
    heartbeat     REAL NOT NULL,
    ended         TEXT
);
CREATE TABLE packs (
    pack_key        TEXT PRIMARY KEY,
    client          TEXT NOT NULL,
    scenario        TEXT NOT NULL,
    assumption_hash TEXT NOT NULL,
    model_version   TEXT NOT NULL,
    period          TEXT NOT NULL,
    edition         TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    created         TEXT NOT NULL
);
CREATE TABLE deliveries (
    pack_key    TEXT NOT NULL REFERENCES packs (pack_key),
    address     TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('to', 'cc')),
    status      TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'in doubt')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT '',
    run_id      TEXT NOT NULL,
    updated     TEXT NOT NULL,
    resolved_by TEXT,
    resolved_at TEXT,
    PRIMARY KEY (pack_key, address)
);
CREATE TABLE history (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    time     TEXT NOT NULL,
    pack_key TEXT NOT NULL,
    address  TEXT NOT NULL,
    event    TEXT NOT NULL,
    detail   TEXT NOT NULL,
    actor    TEXT NOT NULL
);
CREATE INDEX packs_by_client ON packs (client);
"""
#: The headline figures each pack was sent with (JSON of report.brief.changes.EditionFigures): the next
#: edition to the same client says what moved. A table of its own, made where missing, so a ledger of
#: schema 2 made before it keeps working and older imgout versions still read this one.
_HEADLINES = """
CREATE TABLE IF NOT EXISTS headlines (
    pack_key TEXT PRIMARY KEY REFERENCES packs (pack_key),
    figures  TEXT NOT NULL
);
"""
_TABLES = {"ledger_info", "runs", "packs", "deliveries", "history"}


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


# ------------------------------------------------------------------------------------------ who runs


@dataclass(frozen=True)
class Machine:
    """This machine as the ledger names it: host name and (on Linux) the id of the current boot."""

    host: str
    boot: str

    @classmethod
    def here(cls) -> Machine:
        """This machine now."""
        try:
            boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        except OSError:
            boot = ""
        return cls(socket.gethostname(), boot)


def process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None if there is no such process."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:  # it exists, but belongs to someone else
        return -1.0


def operator() -> str:
    """Who is running this command, as recorded with a resolution: ``user@host``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown user"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Owner:
    """The run holding a claim (its lease): where and in which process it runs, its last heartbeat."""

    run_id: str
    host: str
    boot: str
    pid: int
    process_start: float
    user: str
    began: str
    heartbeat: float
    ended: str | None

    def alive(self, machine: Machine, now: float | None = None) -> bool:
        """Whether the run still exists: its process on this machine, else a recent heartbeat."""
        if self.ended:
            return False
        if self.host == machine.host:
            if self.boot and machine.boot and self.boot != machine.boot:
                return False  # the machine rebooted since
            started = process_start(self.pid)
            # -1: the process exists but cannot be inspected; a PID reused since has another start time.
            return started is not None and (started < 0 or abs(started - self.process_start) < 1.0)
        return (time.time() if now is None else now) - self.heartbeat < LEASE_SECONDS

    def describe(self) -> str:
        """``run 1a2b3c on host mail-1 (pid 4242, started 2026-03-01T08:00:00+00:00)``."""
        return f"run {self.run_id} on host {self.host} (pid {self.pid}, started {self.began})"


# ------------------------------------------------------------------------------------------ what it holds


@dataclass(frozen=True)
class Recipient:
    """One recipient of one pack, as the ledger has it now."""

    address: str
    role: str
    status: RecipientStatus
    attempts: int
    reason: str
    run_id: str
    updated: str
    resolved_by: str | None
    resolved_at: str | None
    owner: Owner | None
    #: Whether the run that claimed it is alive (meaningful while ``status`` is ``sending`` or ``in doubt``:
    #: the pack is still that run's).
    owner_alive: bool

    @property
    def state(self) -> Literal["sent", "failed", "in doubt", "in progress"]:
        """``sending`` read as ``in progress`` (its run is alive) or ``in doubt`` (gone)."""
        if self.status == "sending":
            return "in progress" if self.owner_alive else "in doubt"
        return self.status

    @property
    def leased(self) -> bool:
        """Whether a live run still owns the recipient (sending it, or it recorded it in doubt)."""
        return self.status in ("sending", "in doubt") and self.owner_alive

    @property
    def why(self) -> str:
        """Why the recipient is in its state, in one phrase."""
        who = self.owner.describe() if self.owner else f"run {self.run_id}"
        if self.status == "sending":
            return f"{who} is sending it now" if self.owner_alive else f"{who} stopped while sending it"
        if self.status == "in doubt" and self.owner_alive:
            return (
                f"{self.reason}; {who}, which sent it, is still running: nobody sends it again before "
                "that run has ended"
            )
        return self.reason


@dataclass(frozen=True)
class PackRecord:
    """One pack with its recipients."""

    pack_key: str
    client: str
    scenario: str
    assumption_hash: str
    model_version: str
    period: str
    edition: str
    message_id: str
    created: str
    recipients: tuple[Recipient, ...]

    @property
    def pack_id(self) -> str:
        """The first 12 characters of the key: enough to name a pack in a command."""
        return self.pack_key[:12]

    @property
    def updated(self) -> str:
        """When any recipient's row last changed."""
        return max((r.updated for r in self.recipients), default=self.created)

    @property
    def status(self) -> PackStatus:
        """The pack's state over all its recipients (one of :data:`PackStatus`)."""
        return pack_status([r.state for r in self.recipients])

    def recipient(self, address: str) -> Recipient | None:
        """The row of ``address`` (any case), or None."""
        return next((r for r in self.recipients if r.address == address.lower()), None)


def pack_status(states: Sequence[str]) -> PackStatus:
    """A pack's state from its recipients' states."""
    if "in progress" in states:
        return "in progress"
    if "in doubt" in states:
        return "in doubt"
    if states and all(s == "sent" for s in states):
        return "sent"
    return "partly sent" if "sent" in states else "failed"


@dataclass(frozen=True)
class Claim:
    """The ledger's answer to "may I send this pack now, and to whom?"."""

    #: ``send`` (to ``addresses``, with ``message_id``), or why not: ``already sent`` (every recipient
    #: has it), ``in doubt`` (it may have arrived: look first) or ``in progress`` (a live run sends it).
    decision: Literal["send", "already sent", "in doubt", "in progress"]
    message_id: str
    addresses: tuple[str, ...]
    #: The pack as it was before this claim (None: never claimed before).
    previous: PackRecord | None
    #: Why not, for ``in doubt`` and ``in progress``.
    reason: str = ""


def decide(
    key: PackKey, pack: PackRecord | None, resend_in_doubt: bool, since: float | None = None
) -> tuple[Literal["send", "already sent", "in doubt", "in progress"], tuple[str, ...], str]:
    """What to do with ``key``'s recipients given the ledger's ``pack``: (decision, addresses to send, why).

    Recipients that have the pack are skipped; a recipient a live run is sending to makes the whole pack
    "in progress" (nothing is sent beside that run); one in doubt holds the pack back unless
    ``resend_in_doubt`` and the run that recorded it had ended before ``since`` (when the asking run
    began: the flag resends what was in doubt then, never a pack a live run still owned; one owner per
    pack, whatever the flags); the others (new, or failed before) are sent to.
    """
    wanted = list(key.addresses)
    rows = {r.address: r for r in pack.recipients} if pack else {}
    live = [rows[a] for a in wanted if a in rows and rows[a].state == "in progress"]
    if live:
        return "in progress", (), live[0].why
    doubtful = [rows[a] for a in wanted if a in rows and rows[a].state == "in doubt"]
    owned_since = [r for r in doubtful if not r.leased and since is not None and _owned_after(r, since)]
    if doubtful and (not resend_in_doubt or owned_since or any(r.leased for r in doubtful)):
        reasons = list(dict.fromkeys(r.why for r in doubtful if r.why))
        if resend_in_doubt and owned_since and not any(r.leased for r in doubtful):
            owner = owned_since[0].owner
            who = owner.describe() if owner else "another run"
            reasons.append(
                f"{who} still owned it when this run began, so --resend-in-doubt leaves it to the next run"
            )
        return "in doubt", (), "; ".join(reasons)
    to_send = tuple(a for a in wanted if a not in rows or rows[a].state != "sent")
    if not to_send:
        return "already sent", (), ""
    return "send", to_send, ""


def _owned_after(recipient: Recipient, since: float) -> bool:
    """Whether the run that left ``recipient`` in doubt was still alive at ``since`` (its last heartbeat,
    refreshed when it ends, is later): it was that run's pack when the asking run began."""
    return recipient.owner is not None and recipient.owner.heartbeat >= since


# ------------------------------------------------------------------------------------------ the file


class Ledger:
    """The SQLite send ledger at ``path``.

    With ``create`` (what a sending run does) a missing file is created, with its folder; without it (the
    ``imgout ledger`` commands) a missing file is an error. An existing file must be an imgout ledger of
    this schema, whole (see the module docstring).
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self.machine = Machine.here()
        #: When this ledger was opened (a run's start): ``resend_in_doubt`` resends what was in doubt then.
        self.opened = time.time()
        self._run: Owner | None = None
        self._beat: _Heartbeat | None = None
        if not self.path.exists() and not self.path.is_symlink():
            if not create:
                raise LedgerFileError(
                    f"Send ledger {self.path}: no such file (nothing has been sent with it; see IMGOUT_LEDGER)"
                )
            self._create()
        self._db = self._connect(self.path)
        try:
            self._check()
        except BaseException:
            self._db.close()
            raise

    # -- opening --------------------------------------------------------------------------------------

    def _fail(self, problem: str, exc: BaseException | None = None) -> LedgerError:
        """The error for an operation that failed: the file's fault (exit 2) or the environment's (1)."""
        text = " ".join(str(exc).split()) if exc is not None else ""
        if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
            return LedgerError(
                f"Send ledger {self.path} is locked: another process has been writing to it for more than "
                f"{LOCK_TIMEOUT:.0f} s; try again when it has finished"
            )
        if isinstance(exc, sqlite3.OperationalError | OSError) and not _damaged(text):
            return LedgerError(f"Send ledger {self.path} cannot be {problem}: {text}; see IMGOUT_LEDGER")
        detail = f" ({text})" if text else ""
        return LedgerFileError(
            f"Send ledger {self.path} is damaged{detail}: restore it from a backup, or move it aside and "
            "check the recipients' mailboxes before a new ledger resends every pack"
        )

    def _connect(self, path: Path) -> sqlite3.Connection:
        try:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE), so a claim is atomic
            # even when two runs share the ledger.
            db = sqlite3.connect(path, timeout=LOCK_TIMEOUT, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._fail("opened", exc) from None
        return db

    def _create(self) -> None:
        """Make the ledger under a temporary name, complete, then link it into place (never half made)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.new")
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # owner only
            try:
                db = sqlite3.connect(temp, isolation_level=None)
                try:
                    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    db.execute("PRAGMA journal_mode = WAL")
                    db.executescript(_SCHEMA + _HEADLINES)
                    db.executemany(
                        "INSERT INTO ledger_info (key, value) VALUES (?, ?)",
                        [
                            ("format", FORMAT_NAME),
                            ("schema", str(SCHEMA_VERSION)),
                            ("created", _now()),
                            ("created_by", operator()),
                        ],
                    )
                finally:
                    db.close()
                try:
                    os.link(temp, self.path)  # fails if another run created it meanwhile: then use theirs
                except FileExistsError:
                    pass
                except OSError:  # a file system without hard links: a rename (only a tiny race)
                    if not self.path.exists():
                        os.replace(temp, self.path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
        except (OSError, sqlite3.Error) as exc:
            raise self._fail("created", exc) from None

    def _check(self) -> None:
        """Refuse a file that is not a whole imgout ledger of this schema (one line each, saying what to do)."""
        path = self.path
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise self._fail("read", exc) from None
        if size == 0:
            raise LedgerFileError(
                f"Send ledger {path} is empty (0 bytes): it may have been truncated, and taking it as a new "
                "ledger would resend every pack; restore it from a backup, or delete it to start afresh "
                "after checking the recipients' mailboxes"
            )
        try:
            db = self._db
            application_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise LedgerFileError(
                    f"Send ledger {path} is not a SQLite database (another kind of file, or damaged): "
                    "restore it from a backup, or name another file in IMGOUT_LEDGER"
                ) from None
            raise self._fail("read", exc) from None
        if application_id != APPLICATION_ID:
            if "deliveries" in tables and "ledger_info" not in tables:
                raise LedgerFileError(
                    f"Send ledger {path} is an imgout ledger of an older format (schema 1), which this version "
                    "cannot read: keep it for reference and name a new file in IMGOUT_LEDGER"
                )
            raise LedgerFileError(
                f"Send ledger {path} is a SQLite database of another application, not an imgout send "
                "ledger: name another file in IMGOUT_LEDGER"
            )
        if version != SCHEMA_VERSION:
            newer = "a newer imgout: upgrade imgout" if version > SCHEMA_VERSION else "an older imgout"
            raise LedgerFileError(
                f"Send ledger {path} has schema {version}, this imgout reads schema {SCHEMA_VERSION} "
                f"(it was written by {newer})"
            )
        try:
            info = dict(self._db.execute("SELECT key, value FROM ledger_info").fetchall())
            check = self._db.execute("PRAGMA quick_check").fetchone()[0]
            self._db.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            raise self._fail("read", exc) from None
        if (
            not tables >= _TABLES
            or info.get("format") != FORMAT_NAME
            or info.get("schema") != str(SCHEMA_VERSION)
        ):
            raise LedgerFileError(
                f"Send ledger {path} has lost its identity (tables or the ledger_info row are missing): "
                "restore it from a backup"
            )
        if check != "ok":
            raise self._fail("read", sqlite3.DatabaseError(str(check)))

    def close(self) -> None:
        """End this process's run (if it claimed anything) and close the database."""
        try:
            self.end_run()
        finally:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """A write transaction; any SQLite failure becomes a one-line :class:`LedgerError`."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._fail(what, exc) from None
        try:
            yield self._db
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise self._fail(what, exc) from None
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise self._fail(what, exc) from None

    def _read(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[object, ...]]:
        try:
            return self._db.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise self._fail("read", exc) from None

    # -- the run's lease -----------------------------------------------------------------------------

    def begin_run(self, run_id: str) -> Owner:
        """Register this process's run (the owner of its claims) and start its heartbeat; idempotent."""
        if self._run is not None:
            return self._run
        pid = os.getpid()
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = ""
        run = Owner(
            run_id,
            self.machine.host,
            self.machine.boot,
            pid,
            process_start(pid) or 0.0,
            user,
            _now(),
            time.time(),
            None,
        )
        with self._transaction("written") as db:
            db.execute(
                "INSERT INTO runs (run_id, host, boot, pid, process_start, user, began, heartbeat)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.run_id,
                    run.host,
                    run.boot,
                    run.pid,
                    run.process_start,
                    run.user,
                    run.began,
                    run.heartbeat,
                ),
            )
        self._run = run
        self._beat = _Heartbeat(self.path, run_id)
        return run

    def end_run(self) -> None:
        """Mark this process's run ended: any claim it still holds is in doubt from now on."""
        run, beat, self._run, self._beat = self._run, self._beat, None, None
        if beat is not None:
            beat.stop()
        if run is not None:
            with contextlib.suppress(LedgerError), self._transaction("written") as db:
                db.execute(
                    "UPDATE runs SET ended = ?, heartbeat = ? WHERE run_id = ?",
                    (_now(), time.time(), run.run_id),
                )

    # -- packs -----------------------------------------------------------------------------------------

    def lookup(self, key: PackKey) -> PackRecord | None:
        """The ledger's record of ``key``'s pack, or None if it was never claimed."""
        found = self._packs("WHERE p.pack_key = ?", (key.digest,))
        return found[0] if found else None

    def packs(self, client: str | None = None) -> list[PackRecord]:
        """Every pack (of ``client``, any case), oldest first."""
        if client is None:
            return self._packs("", ())
        return [p for p in self._packs("", ()) if p.client.casefold() == client.casefold()]

    def _packs(self, where: str, parameters: Sequence[object]) -> list[PackRecord]:
        owners = {
            str(row[0]): _owner(self.path, row) for row in self._read(f"SELECT {_RUN_COLUMNS} FROM runs")
        }
        alive: dict[str, bool] = {}
        rows = self._read(
            f"SELECT {_PACK_COLUMNS}, {_DELIVERY_COLUMNS} FROM packs p JOIN deliveries d USING (pack_key) "
            f"{where} ORDER BY p.created, p.client, d.role DESC, d.address",
            parameters,
        )
        packs: dict[str, PackRecord] = {}
        for row in rows:
            pack = packs.get(str(row[0]))
            if pack is None:
                pack = packs[str(row[0])] = _pack(self.path, row[:9])
            recipient = _recipient(self.path, row[9:], owners)
            if recipient.status in ("sending", "in doubt"):
                if recipient.run_id not in alive:
                    owner = owners.get(recipient.run_id)
                    alive[recipient.run_id] = owner is not None and owner.alive(self.machine)
                recipient = replace(recipient, owner_alive=alive[recipient.run_id])
            packs[pack.pack_key] = replace(pack, recipients=(*pack.recipients, recipient))
        return list(packs.values())

    def last_figures(self, key: PackKey) -> str:
        """The headline figures (JSON) of the last pack sent to ``key``'s client (any case) other than
        ``key``'s own, or '' when the client has received none (or none recorded with its figures)."""
        tables = {str(r[0]) for r in self._read("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "headlines" not in tables:
            return ""
        rows = self._read(
            "SELECT p.client, h.figures FROM packs p JOIN headlines h USING (pack_key)"
            " WHERE p.pack_key != ? AND EXISTS (SELECT 1 FROM deliveries d"
            " WHERE d.pack_key = p.pack_key AND d.status = 'sent') ORDER BY p.created DESC, p.rowid DESC",
            (key.digest,),
        )
        client = key.client.casefold()
        return next((str(figures) for name, figures in rows if str(name).casefold() == client), "")

    def claim(
        self,
        key: PackKey,
        message_id: str,
        run_id: str,
        *,
        resend_in_doubt: bool = False,
        figures: str = "",
    ) -> Claim:
        """Claim the recipients of ``key`` that are to be sent to now (``sending``), before any SMTP traffic.

        ``message_id`` is used for a new pack only: a pack sent before (to other recipients, or failed)
        keeps its first Message-ID. Nothing is claimed unless the decision is ``send``. ``figures`` (the
        pack's headline figures as JSON) are recorded with a pack the first time they are given.
        """
        self.begin_run(run_id)
        with self._transaction("written") as db:
            previous = self.lookup(key)
            decision, addresses, reason = decide(key, previous, resend_in_doubt, self.opened)
            if previous is not None:
                message_id = previous.message_id
            if decision != "send":
                return Claim(decision, message_id, (), previous, reason)
            now = _now()
            if previous is None:
                db.execute(
                    f"INSERT INTO packs ({_PACK_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key.digest,
                        key.client,
                        key.scenario,
                        key.assumption_hash,
                        key.model_version,
                        key.period,
                        key.edition,
                        message_id,
                        now,
                    ),
                )
            if figures:
                db.execute(_HEADLINES)
                db.execute(
                    "INSERT OR IGNORE INTO headlines (pack_key, figures) VALUES (?, ?)", (key.digest, figures)
                )
            roles = key.addresses
            for address in addresses:
                db.execute(
                    "INSERT INTO deliveries (pack_key, address, role, status, reason, run_id, updated)"
                    " VALUES (?, ?, ?, 'sending', '', ?, ?) ON CONFLICT (pack_key, address) DO UPDATE SET"
                    " role = excluded.role, status = 'sending', reason = '', run_id = excluded.run_id,"
                    " updated = excluded.updated, resolved_by = NULL, resolved_at = NULL",
                    (key.digest, address, roles[address], run_id, now),
                )
                self._history(key.digest, address, "claimed", f"Message-ID {message_id}", run_id)
        return Claim("send", message_id, addresses, previous)

    def finish(
        self, key: PackKey, run_id: str, outcomes: Mapping[str, tuple[RecipientStatus, str]], attempts: int
    ) -> None:
        """Record the server's answer for each claimed recipient: (``sent``/``failed``/``in doubt``, reason)."""
        with self._transaction("written") as db:
            now = _now()
            for address, (status, reason) in outcomes.items():
                db.execute(
                    "UPDATE deliveries SET status = ?, reason = ?, attempts = attempts + ?, updated = ?"
                    " WHERE pack_key = ? AND address = ? AND run_id = ? AND status = 'sending'",
                    (status, reason, attempts, now, key.digest, address.lower(), run_id),
                )
                self._history(key.digest, address.lower(), status, reason, run_id)

    def resolve(
        self,
        client: str,
        delivered: bool,
        *,
        pack: str | None = None,
        addresses: Sequence[str] = (),
        note: str = "",
        by: str | None = None,
    ) -> tuple[PackRecord, list[str]]:
        """Settle what an operator checked by hand: the client's unsent recipients were ``delivered``, or
        are to be sent again by the next run (same Message-ID). Returns the pack and the addresses changed.

        The pack is the client's only one with a recipient not sent, or the one whose id starts with
        ``pack``; ``addresses`` limits the change to those recipients. A recipient a live run is sending
        to cannot be resolved. Recorded with ``by`` (default: user@host) and the time.
        """
        by = by or operator()
        with self._transaction("written") as db:
            target = self._pack_to_resolve(client, pack)
            open_ = self._recipients_to_resolve(target, addresses, delivered)
            now = _now()
            status = "sent" if delivered else "failed"
            event = "resolved: delivered" if delivered else "resolved: send again"
            what = "delivered, as checked" if delivered else "to be sent again, as asked"
            reason = f"{what} by {by} at {now}" + (f" ({note})" if note else "")
            for r in open_:
                db.execute(
                    "UPDATE deliveries SET status = ?, reason = ?, updated = ?, resolved_by = ?, resolved_at = ?"
                    " WHERE pack_key = ? AND address = ?",
                    (status, reason, now, by, now, target.pack_key, r.address),
                )
                self._history(
                    target.pack_key, r.address, event, f"by {by}" + (f": {note}" if note else ""), by
                )
        return target, [r.address for r in open_]

    def _recipients_to_resolve(
        self, target: PackRecord, addresses: Sequence[str], delivered: bool
    ) -> list[Recipient]:
        """The recipients of ``target`` (those in ``addresses``, if given) without the pack, none in progress;
        for ``delivered``, only those in doubt: a recipient the server refused did not get it."""
        chosen = {a.lower() for a in addresses}
        unknown = chosen - {r.address for r in target.recipients}
        if unknown:
            raise InputError(
                f"Send ledger {self.path}: pack {target.pack_id} of {target.client} has no recipient "
                f"{', '.join(sorted(unknown))} (it has {', '.join(r.address for r in target.recipients)})"
            )
        open_ = [r for r in target.recipients if r.state != "sent" and (not chosen or r.address in chosen)]
        busy = [r for r in open_ if r.state == "in progress"]
        if busy:
            raise LedgerError(
                f"Send ledger {self.path}: {target.client}: {busy[0].why}; wait for that run to finish"
            )
        if not open_:
            raise InputError(
                f"Send ledger {self.path}: pack {target.pack_id} of {target.client} has nothing to resolve "
                "(every recipient named has it)"
            )
        if delivered:
            failed = [r for r in open_ if r.state != "in doubt"]
            if failed and (chosen or len(failed) == len(open_)):
                r = failed[0]
                raise InputError(
                    f"Send ledger {self.path}: pack {target.pack_id} of {target.client}: {r.address} is "
                    f"{r.state} ({r.reason[:160] or 'not sent'}), not in doubt, so it did not arrive; only a "
                    "recipient in doubt can be resolved as delivered (the next run sends a failed one again)"
                )
            open_ = [r for r in open_ if r.state == "in doubt"]
        return open_

    def _pack_to_resolve(self, client: str, pack: str | None) -> PackRecord:
        candidates = self.packs(client)
        if not candidates:
            known = sorted({p.client for p in self.packs()})
            close = difflib.get_close_matches(client, known, n=1, cutoff=0.6) if len(client) < 200 else []
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"Send ledger {self.path} has no pack for client {client[:80]!r}{hint}")
        if pack:
            matching = [p for p in candidates if p.pack_key.startswith(pack.lower())]
            if len(matching) != 1:
                ids = ", ".join(p.pack_id for p in candidates)
                raise InputError(
                    f"Send ledger {self.path}: {len(matching)} packs of {candidates[0].client} start with "
                    f"{pack[:20]!r} (its packs: {ids})"
                )
            return matching[0]
        open_packs = [p for p in candidates if p.status != "sent"]
        if len(open_packs) == 1:
            return open_packs[0]
        if not open_packs:
            raise InputError(
                f"Send ledger {self.path}: every pack of {candidates[0].client} was sent; nothing to resolve"
            )
        ids = ", ".join(f"{p.pack_id} ({p.scenario}, {p.period}, {p.status})" for p in open_packs)
        raise InputError(
            f"Send ledger {self.path}: {candidates[0].client} has {len(open_packs)} open packs ({ids}); "
            "name one by its id"
        )

    def history(self, pack_key: str) -> list[tuple[str, str, str, str, str]]:
        """A pack's events, oldest first: (time, address, event, detail, by whom)."""
        rows = self._read(
            "SELECT time, address, event, detail, actor FROM history WHERE pack_key = ? ORDER BY id",
            (pack_key,),
        )
        return [tuple(str(v) for v in row) for row in rows]  # type: ignore[misc]

    def runs(self) -> list[tuple[Owner, bool]]:
        """Every run that claimed something, with whether it is alive (the leases)."""
        return [
            (owner, owner.alive(self.machine))
            for owner in (
                _owner(self.path, row)
                for row in self._read(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY began")
            )
        ]

    def _history(self, pack_key: str, address: str, event: str, detail: str, actor: str) -> None:
        self._db.execute(
            "INSERT INTO history (time, pack_key, address, event, detail, actor) VALUES (?, ?, ?, ?, ?, ?)",
            (_now(), pack_key, address, event, detail, actor),
        )


class _Heartbeat:
    """A daemon thread refreshing a run's heartbeat (its own connection): the lease of a run elsewhere."""

    def __init__(self, path: Path, run_id: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(path, run_id), name="imgout-heartbeat", daemon=True
        )
        self._thread.start()

    def _beat(self, path: Path, run_id: str) -> None:
        try:
            db = sqlite3.connect(path, timeout=HEARTBEAT_SECONDS, isolation_level=None)
        except sqlite3.Error:
            return
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                with contextlib.suppress(sqlite3.Error):  # a missed beat; the lease allows several
                    db.execute("UPDATE runs SET heartbeat = ? WHERE run_id = ?", (time.time(), run_id))
        finally:
            db.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_SECONDS + 1)


# ------------------------------------------------------------------------------------------ rows

_RUN_COLUMNS = "run_id, host, boot, pid, process_start, user, began, heartbeat, ended"
_PACK_FIELDS = (
    "pack_key, client, scenario, assumption_hash, model_version, period, edition, message_id, created"
)
_PACK_COLUMNS = ", ".join(f"p.{c.strip()}" for c in _PACK_FIELDS.split(","))
_DELIVERY_COLUMNS = (
    "d.address, d.role, d.status, d.attempts, d.reason, d.run_id, d.updated, d.resolved_by, d.resolved_at"
)


def _damaged(text: str) -> bool:
    return any(word in text for word in ("malformed", "not a database", "corrupt"))


def _bad_row(path: Path, table: str, row: Sequence[object]) -> LedgerFileError:
    return LedgerFileError(
        f"Send ledger {path} is damaged (a row of {table} holds values imgout never writes: "
        f"{str(list(row))[:120]}): restore it from a backup"
    )


def _texts(path: Path, table: str, row: Sequence[object], optional: int = 0) -> list[str]:
    """Every value of ``row`` as text, checking it is text (the last ``optional`` may be NULL)."""
    required = len(row) - optional
    if not all(isinstance(v, str) for v in row[:required]) or not all(
        v is None or isinstance(v, str) for v in row[required:]
    ):
        raise _bad_row(path, table, row)
    return list(row)  # type: ignore[arg-type]


def _owner(path: Path, row: Sequence[object]) -> Owner:
    run_id, host, boot, pid, started, user, began, heartbeat, ended = row
    if (
        not isinstance(pid, int)
        or not isinstance(started, int | float)
        or not isinstance(heartbeat, int | float)
    ):
        raise _bad_row(path, "runs", row)
    texts = _texts(path, "runs", (run_id, host, boot, user, began, ended), optional=1)
    return Owner(
        texts[0], texts[1], texts[2], pid, float(started), texts[3], texts[4], float(heartbeat), texts[5]
    )


def _pack(path: Path, row: Sequence[object]) -> PackRecord:
    key, client, scenario, assumption_hash, model_version, period, edition, message_id, created = _texts(
        path, "packs", row
    )
    return PackRecord(
        key, client, scenario, assumption_hash, model_version, period, edition, message_id, created, ()
    )


def _recipient(path: Path, row: Sequence[object], owners: Mapping[str, Owner]) -> Recipient:
    address, role, status, attempts, reason, run_id, updated, resolved_by, resolved_at = row
    if status not in ("sending", "sent", "failed", "in doubt") or not isinstance(attempts, int):
        raise _bad_row(path, "deliveries", row)
    texts = _texts(
        path, "deliveries", (address, role, reason, run_id, updated, resolved_by, resolved_at), optional=2
    )
    return Recipient(
        texts[0],
        texts[1],
        status,
        attempts,
        texts[2],
        texts[3],
        texts[4],
        texts[5],
        texts[6],
        owners.get(texts[3]),
        False,
    )
