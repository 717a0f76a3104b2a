"""The email for one client's pack: a standard MIME message, from checked addresses.

Both channels build it: :mod:`.smtp` sends it, :mod:`.eml` writes it as a file (the dry run).

Structure (what Outlook, Gmail and Apple Mail all render)::

    multipart/mixed
      multipart/alternative
        text/plain                 the brief as text
        multipart/related
          text/html                the brief, <img src="cid:imgout-chart">
          image/png                the chart, Content-ID <imgout-chart>
      application/vnd.openxmlformats-officedocument.spreadsheetml.sheet   the client workbook
      application/pdf                                                      the PDF brief (when built)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import AddressError

if TYPE_CHECKING:
    import jinja2

    from .pack import Pack

#: Headers carrying who the pack is for and what made it, so a delivered message can be traced back.
CLIENT_HEADER = "X-Imgout-Client"
PROVENANCE_HEADER = "X-Imgout-Provenance"

# RFC 5322 "dot-atom" local part (no quoted strings: nobody needs them for a client's finance team).
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_ADDRESS = re.compile(rf"({_LOCAL})@({_LABEL}(?:\.{_LABEL})*)")


def check_address(address: str, role: str = "recipient") -> str:
    """Return ``address`` (domain lower-cased) if it is one plain address ``name@domain.tld``; else raise.

    Line breaks and other control characters are refused outright: in a header they would let one value
    inject others (header injection).
    >>> check_address("CFO@Acme.Example")
    'CFO@acme.example'
    """
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in address):
        raise AddressError(f"Invalid {role} {address!r}: contains a line break or control character")
    text = address.strip()
    match = _ADDRESS.fullmatch(text)
    if match is None or len(text) > 254 or len(match.group(1)) > 64:
        raise AddressError(f"Invalid {role} {address!r}: expected one address like name@example.com")
    return f"{match.group(1)}@{match.group(2).lower()}"


def check_recipients(
    to: Sequence[str], cc: Sequence[str] = (), allowed_domains: Iterable[str] = ()
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Checked To and Cc lists: at least one To, every address valid, every domain allowed (if restricted)."""
    if not to:
        raise AddressError("No recipient: give at least one To address")
    checked_to = tuple(check_address(a, "To address") for a in to)
    checked_cc = tuple(check_address(a, "Cc address") for a in cc)
    allowed = {d.lower() for d in allowed_domains}
    if allowed:
        outside = [a for a in checked_to + checked_cc if a.rsplit("@", 1)[1] not in allowed]
        if outside:
            raise AddressError(
                f"Recipient outside the allowed domains: {', '.join(outside)} "
                f"(allowed: {', '.join(sorted(allowed))}; see IMGOUT_ALLOWED_DOMAINS)"
            )
    return checked_to, checked_cc


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    from ..common.resources import templates_dir

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # a subject is plain text; the email package encodes it
        keep_trailing_newline=False,
    )


def render_subject(client: str, period: str, scenario: str) -> str:
    """The subject line (``templates/email_subject.txt.j2``): client name and forecast period, one line."""
    text = (
        _environment()
        .get_template("email_subject.txt.j2")
        .render(client=client, period=period, scenario=scenario)
    )
    return " ".join(text.split())


def build_message(
    pack: Pack,
    to: Sequence[str],
    cc: Sequence[str] = (),
    sender: str = "imgout@localhost",
    *,
    message_id: str | None = None,
) -> EmailMessage:
    """The email carrying ``pack`` to ``to``/``cc`` from ``sender``.

    ``message_id`` is reused when a send is retried (the ledger keeps it), so a receiving server that
    saw the first attempt can recognise the second; a new one is made when omitted.
    """
    to, cc = check_recipients(to, cc)
    sender = check_address(sender, "sender")
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = pack.subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id or new_message_id(sender)
    msg[CLIENT_HEADER] = pack.client
    msg[PROVENANCE_HEADER] = pack.provenance

    msg.set_content(pack.text, subtype="plain", charset="utf-8")
    msg.add_alternative(pack.html, subtype="html", charset="utf-8")
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None, "the HTML alternative was just added"
    html_part.add_related(
        pack.chart_png, "image", "png", cid=f"<{pack.chart_cid}>", filename="chart.png", disposition="inline"
    )
    for attachment in pack.attachments:
        maintype, subtype = attachment.mime_type.split("/", 1)
        msg.add_attachment(attachment.content, maintype, subtype, filename=attachment.filename)
    return msg


def new_message_id(sender: str) -> str:
    """A fresh, globally unique Message-ID in the sender's domain."""
    return make_msgid("imgout", domain=sender.rsplit("@", 1)[-1])
