"""The dry-run channel: each message written as an ``.eml`` file into a folder, nothing sent.

A dry run goes through the same checks and builds the same packs as a real run; this channel then writes
the message a real run would send (same headers, body and attachments; its own Message-ID) as
``<client>.eml``, which any mail program opens. It neither reads nor writes the send ledger.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from pathlib import Path

from ..common.atomic import write_atomic
from ..errors import os_error
from ..report.profile import safe_filename
from .channel import Delivered, PackKey
from .log import ClientLog
from .message import CLIENT_HEADER, build_message
from .pack import Pack


def write_eml(message: EmailMessage, out_dir: Path, stem: str | None = None) -> Path:
    """Write ``message`` as ``<stem>.eml`` in ``out_dir`` (atomically) and return the path.

    The stem defaults to a file-safe form of the client name the message carries.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = stem or safe_filename(str(message.get(CLIENT_HEADER, "") or "message"), "message")
    target = out_dir / f"{stem}.eml"
    return write_atomic(target, message.as_bytes(policy=policy.SMTP))


class EmlFolder:
    """Writes each pack's message into ``folder`` (created when the run starts) instead of sending it."""

    dry_run = True

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = Path(folder)
        self.sender = sender

    def __enter__(self) -> EmlFolder:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(f"Cannot write to the dry-run folder {str(self.folder)!r}", exc) from None
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def settled(self, key: PackKey) -> Delivered | None:
        """Never: a dry run writes every pack, whatever was sent before."""
        return None

    def deliver(self, key: PackKey, pack: Pack, log: ClientLog) -> Delivered:
        """Write the message as ``<client>.eml``; status ``written``."""
        message = build_message(pack, key.to, key.cc, self.sender)
        message_id = str(message["Message-ID"])
        path = write_eml(message, self.folder, pack.slug)
        log.write("written", message_id=message_id, eml=str(path))
        return Delivered("written", message_id=message_id, file=path)
