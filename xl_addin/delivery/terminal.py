"""What a delivery run shows on the terminal: a progress bar while it works, a summary table at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..common.console import print_fitted
from .batch import BatchReport, ClientResult
from .ledger import PackRecord, Recipient
from .settings import DeliverySettings

_STYLES = {
    "sent": "green",
    "written": "green",
    "already sent": "dim",
    "partly sent": "yellow",
    "in doubt": "yellow",
    "in progress": "cyan",
}


def _status(status: str) -> Text:
    return Text(status, style=_STYLES.get(status, "red"))


@contextmanager
def progress_bar(total: int, what: str) -> Iterator[Callable[[str, int], None]]:
    """A progress bar on stderr (a terminal only); yields the ``progress(client, done)`` callback for run_batch."""
    console = Console(stderr=True)
    if not console.is_terminal:  # cron, CI, a pipe: the summary table is enough
        yield lambda client, done: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[client]}"),
    )
    # transient: the summary table replaces the bar.
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(what, total=total, client="")

        def advance(client: str, done: int) -> None:
            bar.update(task, completed=done, client=client)

        yield advance


def detail(result: ClientResult) -> str:
    """The last column of the summary: the reason, else the Message-ID or the file written (.eml)."""
    if result.reason and result.status != "already sent":
        return result.reason
    if result.file is not None:
        return str(result.file)
    return result.message_id or ""


def print_summary(report: BatchReport, settings: DeliverySettings, console: Console | None = None) -> None:
    """The table of every client's outcome, then one line of totals and where the log is."""
    console = console or Console()
    verb = "Dry run" if report.dry_run else "Delivery"
    table = Table(title=f"{verb} {report.run_id}", title_justify="left")
    table.add_column("client")
    table.add_column("recipients")
    table.add_column("status")
    table.add_column("Message-ID / file / reason", overflow="fold")
    for r in report.results:
        style = _STYLES.get(r.status, "red")
        recipients = ", ".join(r.to) + (f" (cc {', '.join(r.cc)})" if r.cc else "")
        # Text, not markup: a client called "[/bold]" is shown as written.
        table.add_row(Text(r.client), Text(recipients), Text(r.status, style=style), Text(detail(r)))
    print_fitted(console, table)
    counts = [f"{report.count(s)} {s}" for s in ("sent", "written", "already sent") if report.count(s)]
    failed = len(report.failures)
    counts.append(f"{failed} not served" if failed else "no failures")
    where = "" if report.dry_run else f"; ledger {settings.ledger}"
    console.print(f"{', '.join(counts)}. Log: {settings.log}{where}", highlight=False, soft_wrap=True)


# ------------------------------------------------------------------------------------------ the ledger


def recipient_json(r: Recipient) -> dict[str, Any]:
    """One recipient of a pack as ``imgout ledger ... --json`` shows it."""
    owner = r.owner
    return {
        "address": r.address,
        "role": r.role,
        "status": r.state,
        "attempts": r.attempts,
        "reason": r.why,
        "updated": r.updated,
        "resolved_by": r.resolved_by,
        "resolved_at": r.resolved_at,
        "run": None
        if owner is None
        else {
            "run_id": owner.run_id,
            "host": owner.host,
            "pid": owner.pid,
            "began": owner.began,
            "ended": owner.ended,
            "alive": r.owner_alive if r.status in ("sending", "in doubt") else None,
        },
    }


def pack_json(p: PackRecord) -> dict[str, Any]:
    """One pack as ``imgout ledger list --json`` shows it."""
    return {
        "pack": p.pack_id,
        "client": p.client,
        "scenario": p.scenario,
        "period": p.period,
        "edition": p.edition,
        "assumption_hash": p.assumption_hash,
        "model_version": p.model_version,
        "status": p.status,
        "message_id": p.message_id,
        "created": p.created,
        "updated": p.updated,
        "recipients": [recipient_json(r) for r in p.recipients],
    }


def print_packs(packs: Sequence[PackRecord], path: Path, console: Console | None = None) -> None:
    """The table of ``imgout ledger list``."""
    console = console or Console()
    table = Table(title=f"Send ledger {path}", title_justify="left")
    for column in ("client", "pack", "scenario, period", "status", "recipients", "updated"):
        table.add_column(column, overflow="fold")
    for p in packs:
        recipients = "\n".join(f"{r.address} ({r.state})" for r in p.recipients)
        edition = f", {p.edition}" if p.edition else ""
        table.add_row(
            Text(p.client),
            p.pack_id,
            Text(f"{p.scenario}, {p.period}{edition}"),
            _status(p.status),
            Text(recipients),
            p.updated,
        )
    print_fitted(console, table)
    console.print(f"{len(packs)} packs", highlight=False)


def print_pack(p: PackRecord, history: Sequence[Sequence[str]], console: Console | None = None) -> None:
    """What ``imgout ledger show CLIENT`` prints for one pack: its recipients, then its history."""
    console = console or Console()
    edition = f", edition {p.edition}" if p.edition else ""
    head = Text(f"{p.client}: pack {p.pack_id} ({p.scenario}, {p.period}{edition}; assumptions ")
    head.append(f"{p.assumption_hash}, model {p.model_version}) ")
    head.append_text(_status(p.status))
    console.print(head)
    console.print(Text(f"Message-ID {p.message_id}, first claimed {p.created}"))
    table = Table(show_header=True, box=None, padding=(0, 2))
    for column in ("recipient", "status", "attempts", "why", "updated"):
        table.add_column(column, overflow="fold")
    for r in p.recipients:
        table.add_row(
            Text(f"{r.address} ({r.role})"), _status(r.state), str(r.attempts), Text(r.why), r.updated
        )
    print_fitted(console, table)
    events = Table(title="history", title_justify="left", box=None, padding=(0, 2))
    for column in ("time", "recipient", "event", "detail", "by"):
        events.add_column(column, overflow="fold")
    for row in history:
        events.add_row(*(Text(str(v)) for v in row))
    print_fitted(console, events)
    console.print()
