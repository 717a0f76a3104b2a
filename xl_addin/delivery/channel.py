"""Delivery channels: where a batch run hands each client's finished pack.

A batch run (:mod:`.batch`) reads the clients, checks them, builds their packs and gives each finished
pack to one channel. The run knows nothing of SMTP or files; a channel knows nothing of clients files,
building or progress bars. Three channels exist:

- :class:`.smtp.SmtpChannel` sends each pack by SMTP, exactly once, through the send ledger;
- :class:`.graph.GraphChannel` does the same through Microsoft Graph ``sendMail``, and looks a pack left
  in doubt up in the sender's mailbox by its Message-ID;
- :class:`.eml.EmlFolder` is the dry run: it writes each message as an ``.eml`` file and sends nothing.

A channel (:class:`Channel`) is a context manager (it holds what a run needs from the first pack to the
last: the ledger, the SMTP connection) with two methods, both given the pack's :class:`PackKey`:

- ``settled(key)``, asked before the pack is built: did an earlier run settle this pack (sent it, or
  left it in doubt)? Then the run reports that and builds nothing. ``None``: build it and deliver it.
- ``deliver(key, pack, log)``: deliver one pack and say what happened (:class:`Delivered`). It never
  raises for a problem with this one pack, and writes to ``log`` what it did (each SMTP attempt, the
  file written). ``Delivered.stop`` asks the run to attempt no further pack: the channel failed in a way
  that would fail for every pack (a refused password, an untrusted certificate).

The key is the pack's identity and the same for every channel (client, scenario, assumption hash, model
version, period, edition; and its recipients): the SMTP channel's ledger rows, and what a drop folder or
an HTTP API would use as its idempotency key. A new channel is one module with one class like these, plus the line in
:func:`.batch.channel_for` (or the caller) that picks it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .log import ClientLog
    from .pack import Pack

#: What a run did for one client, whichever channel delivered.
ClientStatus = Literal[
    "sent",
    "partly sent",
    "already sent",
    "written",
    "failed",
    "refused",
    "in doubt",
    "in progress",
    "not attempted",
]
#: Statuses that leave a client without a problem to act on.
OK_STATUSES: tuple[ClientStatus, ...] = ("sent", "already sent", "written")


@dataclass(frozen=True)
class PackKey:
    """What makes two deliveries "the same pack": what the client receives, and who receives it.

    The pack itself is the client, the scenario, the assumption set (its hash), the model's equations
    (the model version, which changes only when they do, never with a release of the package), the
    brief's period and an optional edition label. Each recipient receives a pack once: the ledger keeps
    one row per pack and recipient, so adding a Cc later sends the pack to that Cc only.
    """

    client: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    scenario: str
    assumption_hash: str
    model_version: str
    period: str
    #: An operator's label for a deliberate new issue of an unchanged pack ("2026-03"); "" by default.
    edition: str = ""

    @property
    def recipients(self) -> dict[str, list[str]]:
        """To and Cc addresses, case-folded and sorted: neither the order addresses are listed in nor their
        display names (``Jane Doe <cfo@...>``) make a new pack."""

        def addresses(mailboxes: tuple[str, ...]) -> list[str]:
            return sorted(parseaddr(a)[1].lower() for a in mailboxes)

        return {"to": addresses(self.to), "cc": addresses(self.cc)}

    @property
    def addresses(self) -> dict[str, str]:
        """Every recipient (lower-cased) -> ``to`` or ``cc``, To first; an address in both counts as To."""
        roles = {a.lower(): "cc" for a in self.cc}
        roles.update({a.lower(): "to" for a in self.to})
        return dict(sorted(roles.items(), key=lambda item: (item[1] != "to", item[0])))

    @property
    def digest(self) -> str:
        """A SHA-256 of the canonical JSON of what the client receives (the send ledger's pack key)."""
        canonical = json.dumps(
            [
                self.client.casefold(),
                self.scenario,
                self.assumption_hash,
                self.model_version,
                self.period,
                self.edition,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Delivered:
    """What a channel did with one pack (or found an earlier run did)."""

    status: ClientStatus
    reason: str = ""
    message_id: str | None = None
    #: How many times the channel tried (SMTP attempts); 0 when it did not try.
    attempts: int = 0
    #: The file written, for a channel that writes files (the dry run's ``.eml``).
    file: Path | None = None
    #: Attempt no further pack in this run: the failure would repeat for every one.
    stop: bool = False
    #: Why the packs after this one are not attempted (default: "the run stopped after <client>: <reason>").
    stop_reason: str = ""


class Channel(Protocol):
    """Where a batch run delivers packs (see the module docstring)."""

    #: True for a channel that only writes what it would deliver (the dry run).
    dry_run: bool

    def __enter__(self) -> Channel: ...

    def __exit__(self, *exc: object) -> None: ...

    def settled(self, key: PackKey) -> Delivered | None:
        """An earlier run's outcome that settles this pack (nothing to build), or None to deliver it."""
        ...

    def deliver(self, key: PackKey, pack: Pack, log: ClientLog) -> Delivered:
        """Deliver ``pack``; never raises for a problem with this one pack."""
        ...


@runtime_checkable
class RemembersEditions(Protocol):
    """A channel that knows what each client was last sent (the SMTP channel, from its ledger), so that the
    next edition can say what moved. A dry run does not: its editions say nothing about changes."""

    def last_figures(self, key: PackKey) -> str:
        """The headline figures (JSON) of the last pack delivered to ``key``'s client, '' for none."""
        ...
