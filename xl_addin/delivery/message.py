"""The email for one client's pack: a standard MIME message, from checked addresses.

Both channels build it: :mod:`.smtp` sends it, :mod:`.eml` writes it as a file (the dry run).

Structure (what Outlook, Gmail and Apple Mail all render)::

    multipart/mixed
      multipart/alternative
        text/plain                 the brief's short layer as text
        multipart/related
          text/html                the short layer, <img src="cid:market.<random>@imgout"> ...
          image/png                the market chart (one PNG for phone and desktop), Content-ID <market...>
          image/png                the client's logo, when the profile has one (or image/jpeg)
      application/vnd.openxmlformats-officedocument.spreadsheetml.sheet   the client workbook
      application/pdf                                                      the PDF brief (the long layer)
      text/html                                                            the HTML brief, when no PDF

Addresses may carry a display name (``Jane Doe <cfo@acme.example>``; non-ASCII names are encoded by the
email package, RFC 2047). The subject is folded between words with its first word on the first line, so
that it never unfolds with a leading space, whatever policy the message is serialised with.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Sequence
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Any

from ..errors import AddressError

if TYPE_CHECKING:
    from .pack import Pack

#: Headers carrying who the pack is for and what made it, so a delivered message can be traced back.
CLIENT_HEADER = "X-Imgout-Client"
PROVENANCE_HEADER = "X-Imgout-Provenance"

# RFC 5322 "dot-atom" local part (no quoted strings: nobody needs them for a client's finance team).
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_ADDRESS = re.compile(rf"({_LOCAL})@({_LABEL}(?:\.{_LABEL})*)")
# "Display Name <address>" or '"Quoted, Name" <address>'; the name may be any printable text but <>"\.
_MAILBOX = re.compile(r'\s*(?:"([^"\\<>]*)"|([^"\\<>]*?))\s*<([^<>]*)>\s*')
MAX_DISPLAY_NAME = 100


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


def check_mailbox(text: str, role: str = "recipient") -> str:
    """One mailbox, checked: a plain address, or a display name with the address in angle brackets.

    Returns it in a canonical form (the domain lower-cased; a name with commas or other specials quoted):
    ``'Jane Doe <cfo@acme.example>'``, ``'"Doe, Jane" <cfo@acme.example>'`` or ``'cfo@acme.example'``.
    Control characters are refused anywhere (header injection), and so are ``<``, ``>``, ``"`` and ``\\``
    inside a name.

    >>> check_mailbox("imgout Research <Research@Acme.Example>", "sender")
    'imgout Research <Research@acme.example>'
    """
    return str(mailbox(text, role))


def mailbox(text: str, role: str = "recipient") -> Address:
    """A checked mailbox (see :func:`check_mailbox`) as an :class:`email.headerregistry.Address`."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise AddressError(f"Invalid {role} {text!r}: contains a line break or control character")
    if "<" not in text:
        return Address(addr_spec=check_address(text, role))
    match = _MAILBOX.fullmatch(text)
    if match is None:
        raise AddressError(
            f"Invalid {role} {text!r}: expected an address like name@example.com or Name <name@example.com>"
        )
    name = " ".join((match.group(1) if match.group(1) is not None else match.group(2)).split())
    if len(name) > MAX_DISPLAY_NAME:
        raise AddressError(
            f"Invalid {role} {text!r}: the display name has {len(name)} characters, at most {MAX_DISPLAY_NAME}"
        )
    try:
        address = check_address(match.group(3), role)
    except AddressError:
        raise AddressError(
            f"Invalid {role} {text!r}: expected an address like name@example.com inside the angle brackets"
        ) from None
    return Address(display_name=name, addr_spec=address)


def check_recipients(
    to: Sequence[str], cc: Sequence[str] = (), allowed_domains: Iterable[str] = ()
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Checked To and Cc lists: at least one To, every mailbox valid (see :func:`check_mailbox`), every
    domain allowed (if restricted). Each comes back in its canonical form."""
    if not to:
        raise AddressError("No recipient: give at least one To address")
    checked_to = tuple(check_mailbox(a, "To address") for a in to)
    checked_cc = tuple(check_mailbox(a, "Cc address") for a in cc)
    allowed = {d.lower() for d in allowed_domains}
    if allowed:
        outside = [a for a in checked_to + checked_cc if mailbox(a).domain not in allowed]
        if outside:
            raise AddressError(
                f"Recipient outside the allowed domains: {', '.join(outside)} "
                f"(allowed: {', '.join(sorted(allowed))}; see IMGOUT_ALLOWED_DOMAINS)"
            )
    return checked_to, checked_cc


class SubjectHeader(UnstructuredHeader, BaseHeader):
    """A Subject that folds between words with its first word on the first line.

    The email package folds an ASCII subject of 70 to 77 characters as ``Subject:`` CRLF SP ``text``:
    legal, but readers then show it with a leading space (and Python's own parser keeps the space). This
    folds greedily at spaces instead, each line at most ``max_line_length`` (78) where a word allows, so
    unfolding (removing each CRLF) gives back ``Subject: `` and the exact text. Text that is not plain
    ASCII, or holds something that reads as an encoded word (``=?``), is left to the email package,
    which encodes and folds it correctly (RFC 2047).
    """

    def fold(self, *, policy: Policy) -> str:
        """The header as it goes on the wire, folded as the class docstring says."""
        text = str(self)
        if not text.isascii() or "=?" in text or not text.strip():
            return super().fold(policy=policy)
        limit = policy.max_line_length or 998
        lines = [f"{self.name}: "]
        for i, word in enumerate(text.split(" ")):
            if i and len(lines[-1]) + 1 + len(word) > limit:
                lines.append(" " + word)
            else:
                lines[-1] += (" " if i else "") + word
        return policy.linesep.join(lines) + policy.linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("subject", SubjectHeader)


def subject_header(text: str) -> Any:
    """A Subject header object (:class:`SubjectHeader`) to assign to a message: one line of text."""
    return _HEADERS("Subject", " ".join(text.split()))


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
    sender_box = mailbox(sender, "sender")
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = subject_header(pack.subject)
    msg["From"] = sender_box
    msg["To"] = [mailbox(a) for a in to]
    if cc:
        msg["Cc"] = [mailbox(a) for a in cc]
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id or new_message_id(sender)
    msg[CLIENT_HEADER] = pack.client
    msg[PROVENANCE_HEADER] = pack.provenance

    msg.set_content(pack.text, subtype="plain", charset="utf-8", cte=transfer_encoding(pack.text))
    msg.add_alternative(pack.html, subtype="html", charset="utf-8", cte=transfer_encoding(pack.html))
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None, "the HTML alternative was just added"
    for image in pack.images:  # each under the Content-ID the HTML refers to, unique to this pack
        html_part.add_related(
            image.png,
            "image",
            image.subtype,
            cid=f"<{image.content_id}>",
            filename=image.filename,
            disposition="inline",
        )
    for attachment in pack.attachments:
        maintype, subtype = attachment.mime_type.split("/", 1)
        msg.add_attachment(attachment.content, maintype, subtype, filename=attachment.filename)
    for part in msg.walk():
        if part.is_multipart():
            part.set_boundary(new_boundary())
    return msg


def transfer_encoding(text: str) -> str:
    """How a text part travels: quoted-printable, unless base64 is shorter.

    Quoted-printable keeps ASCII text readable raw (spam filters count base64 text against a message), but
    writes every other byte as three: a note of 5,000 Japanese characters (15,000 bytes of UTF-8) becomes
    45,000, and Gmail clips an HTML part over about 102,000 bytes as received. Base64 costs 4 bytes per 3
    whatever they are, so a part that is mostly non-ASCII goes as base64.

    >>> transfer_encoding("Market USD 27.88 bn"), transfer_encoding("医用画像" * 100)
    ('quoted-printable', 'base64')
    """
    data = text.encode("utf-8")
    non_ascii = sum(1 for b in data if b > 126 or b == 61)  # each written as =XX
    quoted = len(data) + 2 * non_ascii + len(data) // 75 * 3  # soft line breaks: "=\r\n" every 76
    base64 = (len(data) + 2) // 3 * 4 + len(data) // 57 * 2  # lines of 76 characters and CRLF
    return "base64" if base64 < quoted else "quoted-printable"


def new_boundary() -> str:
    """A MIME boundary no part can contain: ``=_`` cannot occur in quoted-printable or base64 text, which is
    how every part of a message is encoded. Left unset, the email package draws random boundaries and
    searches the whole text of the parts for each (half the time of turning a pack's message into bytes).

    >>> b = new_boundary()
    >>> b.startswith("=_imgout_") and len(b) == 41
    True
    """
    return f"=_imgout_{uuid.uuid4().hex}"


def new_message_id(sender: str) -> str:
    """A fresh, globally unique Message-ID in the sender's domain (the sender may carry a display name)."""
    return make_msgid("imgout", domain=mailbox(sender, "sender").domain)
