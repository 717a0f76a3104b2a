"""The brief as PDF: the printable HTML brief (:func:`~.render.print_html`) on the profile's paper.

Printing is isolated here so that the engine behind :func:`pdf_bytes` can change (WeasyPrint today)
without touching how the brief is rendered or written.
"""

from __future__ import annotations

from pathlib import Path

from ...common.atomic import write_atomic
from ...common.formats import UNIT_LABELS
from ..context import ReportContext
from .render import generated_text, print_html

PAGE_MARGIN = "7mm"


def pdf_bytes(context: ReportContext) -> bytes:
    """The brief as PDF: WeasyPrint's rendering of the HTML brief on A4 or Letter (the profile's paper).

    The same page as the HTML brief, fitted on one page by the ``@media print`` rules of ``brief.css``. The
    CSS is left in its ``<style>`` element rather than inlined: WeasyPrint reads it there (inlining is for
    email clients) and the ``@media print`` rules, which inlining drops, apply.
    """
    from weasyprint import CSS, HTML  # imported when a PDF is asked for: it takes a while to load

    html = print_html(context)
    footer = _css_string(  # the HTML footer row, which the print CSS hides: here it is on every page
        f"{context.provenance} ({context.assumption_origin}) · generated {generated_text(context)}"
        f" · figures in {UNIT_LABELS[context.units]}, growth a year"
    )
    page = CSS(
        string=(
            f"@page {{ size: {context.client.paper}; margin: {PAGE_MARGIN} {PAGE_MARGIN} 10mm;"
            f" @bottom-left {{ content: {footer}; font: 6.5pt Helvetica, Arial, sans-serif; color: #6B7280; }}"
            " @bottom-right { content: 'page ' counter(page) ' of ' counter(pages);"
            " font: 6.5pt Helvetica, Arial, sans-serif; color: #6B7280; } }"
        )
    )
    return bytes(HTML(string=html).write_pdf(stylesheets=[page]))


def write_pdf(context: ReportContext, path: Path) -> Path:
    """Write the PDF brief to `path` (atomically) and return it."""
    return write_atomic(Path(path), pdf_bytes(context))


def _css_string(text: str) -> str:
    """Text as a CSS string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
