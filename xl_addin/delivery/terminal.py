"""What a delivery run shows on the terminal: a progress bar while it works, a summary table at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .batch import BatchReport, ClientResult
from .settings import DeliverySettings

_STYLES = {
    "sent": "green",
    "written": "green",
    "already sent": "dim",
    "partly sent": "yellow",
    "in doubt": "yellow",
}


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
        table.add_row(r.client, recipients, f"[{style}]{r.status}[/]", detail(r))
    console.print(table)
    counts = [f"{report.count(s)} {s}" for s in ("sent", "written", "already sent") if report.count(s)]
    failed = len(report.failures)
    counts.append(f"{failed} not served" if failed else "no failures")
    where = "" if report.dry_run else f"; ledger {settings.ledger}"
    console.print(f"{', '.join(counts)}. Log: {settings.log}{where}", highlight=False, soft_wrap=True)
