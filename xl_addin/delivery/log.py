"""The delivery log (``IMGOUT_LOG``): one JSON line per SMTP attempt, refusal, skip, build failure or file written.

Each line carries the time, the run id, whether it was a dry run, the client with its To and Cc, the event
and its details; it is flushed as it is written, so the log is complete even if the run is killed. The run
writes what it decides (refused, already sent, in doubt, build failed, not attempted); a channel writes what
it does while delivering (each SMTP attempt, the ``.eml`` written), through a :class:`ClientLog`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import ImgoutError, os_error
from ..report.profile import ClientProfile


class DeliveryLog:
    """The JSON-lines log of one run, appended to ``path``; use as a context manager.

    A line that cannot be written (a full disk) never interrupts a delivery half-way, which could leave
    the ledger wrong: :attr:`broken` then holds the error, and the run attempts no further pack.
    """

    def __init__(self, path: Path, run_id: str, dry_run: bool) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.dry_run = dry_run
        self._file: IO[str] | None = None
        #: Why the log could not be written, once a line failed (nothing more is written then).
        self.broken: ImgoutError | None = None

    def __enter__(self) -> DeliveryLog:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise os_error(f"Delivery log {self.path} cannot be written (see IMGOUT_LOG)", exc) from None
        return self

    def __exit__(self, *exc: object) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError as error:
                self._broke(error)

    def _broke(self, error: OSError) -> None:
        if self.broken is None:
            self.broken = os_error(f"Delivery log {self.path} cannot be written (see IMGOUT_LOG)", error)

    def write(self, profile: ClientProfile, event: str, **details: Any) -> None:
        """Append one line (and flush it, so the log is complete even if the run is killed)."""
        record = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "run": self.run_id,
            "dry_run": self.dry_run,
            "client": profile.name,
            "to": list(profile.to),
            "cc": list(profile.cc),
            "event": event,
            **details,
        }
        assert self._file is not None or self.broken, "use DeliveryLog as a context manager"
        if self.broken is not None or self._file is None:
            return
        try:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()
        except OSError as error:
            self._broke(error)

    def client(self, profile: ClientProfile) -> ClientLog:
        """The log as one client's channel sees it."""
        return ClientLog(self, profile)


@dataclass(frozen=True)
class ClientLog:
    """The run's log for one client: what a channel writes while it delivers that client's pack."""

    log: DeliveryLog
    profile: ClientProfile

    @property
    def run_id(self) -> str:
        """The run these lines belong to (the send ledger records it with each claim)."""
        return self.log.run_id

    def write(self, event: str, **details: Any) -> None:
        """Append one line for this client."""
        self.log.write(self.profile, event, **details)
