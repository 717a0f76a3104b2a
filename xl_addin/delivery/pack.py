"""One client's pack: the workbook, the brief (HTML, text, PDF) and the charts, built from one report context.

A :class:`Pack` holds the attachment bytes, not only their paths, so that a pack built in another
process or on a Dask worker can travel back to the process that sends it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from ..report import ClientProfile, build_context
from ..report.brief.mail import InlineImage

PDF_TYPE = "application/pdf"
HTML_TYPE = "text/html"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Attachment:
    """A file attached to the email."""

    filename: str
    mime_type: str
    content: bytes = b""


@dataclass(frozen=True)
class Pack:
    """Everything one client's email carries, with the provenance of its figures."""

    client: str
    slug: str
    subject: str
    period: str
    scenario: str
    generated: dt.datetime
    html: str
    text: str
    #: The chart PNGs the HTML shows by ``cid:`` (desktop and phone), each under its own Content-ID.
    images: tuple[InlineImage, ...]
    attachments: tuple[Attachment, ...]
    provenance: str
    model_version: str
    assumption_hash: str
    #: The headline figures the send ledger records with the pack (JSON of
    #: :class:`~xl_addin.report.brief.changes.EditionFigures`): the next edition says what moved.
    figures: str = ""
    #: Where the builder wrote the files (on the machine that built the pack), or None once detached.
    workbook_path: Path | None = None
    pdf_path: Path | None = None

    def detached(self) -> Pack:
        """The same pack without local paths (for packs built in a temporary folder or elsewhere)."""
        return replace(self, workbook_path=None, pdf_path=None)


def build_pack(
    profile: ClientProfile,
    out_dir: Path,
    *,
    assumptions: str | Path | None = None,
    overrides: str | None = None,
    with_pdf: bool = True,
    pdf_engine: str | None = None,
    previous: str = "",
) -> Pack:
    """Build ``profile``'s pack in ``out_dir``: workbook (.xlsx), PDF brief (optional), HTML and text brief.

    The email is the brief's short layer; the long layer travels as the PDF (or, without a PDF, as the HTML
    brief). ``previous`` is the client's last sent edition's figures as the send ledger keeps them (JSON,
    '' for none): the email then says what moved since.

    The HTML refers to the charts by ``cid:`` so that the email can carry them inline; their Content-IDs
    are new for every pack (RFC 2045: unique in the world), so no two messages of a batch share one.
    ``pdf_engine`` chooses the PDF's engine (``auto``, ``chromium`` or ``weasyprint``; default:
    ``IMGOUT_PDF_ENGINE``, else auto).
    """
    from ..report.brief import email_brief, email_subject, render_brief, write_pdf
    from ..report.brief.changes import EditionFigures, edition_figures, what_changed
    from ..report.brief.render import render_email_text
    from ..report.workbook import write_workbook

    context = build_context(profile, assumptions, overrides)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{profile.slug}-imaging-outsourcing-{context.period}"
    workbook_path = Path(write_workbook(context, out_dir / f"{stem}.xlsx"))
    attachments = [Attachment(workbook_path.name, XLSX_TYPE, workbook_path.read_bytes())]
    pdf_path = None
    if with_pdf:
        pdf_path = Path(write_pdf(context, out_dir / f"{stem}.pdf", pdf_engine))
        attachments.append(Attachment(pdf_path.name, PDF_TYPE, pdf_path.read_bytes()))
        long_layer = pdf_path.name
    else:  # the long layer still travels: the standalone HTML brief
        long_layer = f"{stem}.html"
        attachments.append(Attachment(long_layer, HTML_TYPE, render_brief(context, "html").encode("utf-8")))
    figures = edition_figures(context, overrides)
    changed = what_changed(figures, EditionFigures.from_json(previous) if previous else None, context.units)
    mail = email_brief(context, long_layer=long_layer, workbook=workbook_path.name, changed=changed)
    return Pack(
        client=profile.name,
        slug=profile.slug,
        subject=email_subject(context),
        period=context.period,
        scenario=context.scenario,
        generated=context.generated,
        html=mail.html,
        text=render_email_text(context, changed=changed, long_layer=long_layer, workbook=workbook_path.name),
        images=mail.images,
        attachments=tuple(attachments),
        provenance=context.provenance,
        model_version=context.model_version,
        assumption_hash=context.assumption_hash,
        figures=figures.to_json(),
        workbook_path=workbook_path,
        pdf_path=pdf_path,
    )


def build_detached_pack(
    profile: ClientProfile,
    *,
    assumptions: str | Path | None = None,
    overrides: str | None = None,
    with_pdf: bool = True,
    pdf_engine: str | None = None,
    previous: str = "",
) -> Pack:
    """Build a pack in a temporary folder that is removed afterwards (what batch workers run).

    A top-level function so that local processes and Dask workers can run it by reference. The PDF comes
    from the process's own browser (or WeasyPrint), started at its first pack and kept for the next.
    """
    with tempfile.TemporaryDirectory(prefix="imgout-pack-") as folder:
        pack = build_pack(
            profile,
            Path(folder),
            assumptions=assumptions,
            overrides=overrides,
            with_pdf=with_pdf,
            pdf_engine=pdf_engine,
            previous=previous,
        )
    return pack.detached()
