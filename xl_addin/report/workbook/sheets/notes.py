"""Notes: the client's notes and the provenance, the layout's fixed notes, then what each status word means."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ....model.status import MEANINGS
from ...layout import SheetLayout
from ..book import Book

NEEDS: tuple[str, ...] = ()


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """Labelled fields (client notes, provenance), the notes listed in the layout and, under the layout's
    ``statuses`` heading, the status vocabulary (``status.MEANINGS``) the Status rows and columns use."""
    book.columns(ws, {0: 20, 1: 105})
    row = book.title(ws, sheet)
    for item in sheet.spec.get("fields", ()):
        ws.write_string(row, 0, str(item["label"]), book.fmt(bold=True, valign="top"))
        book.paragraph(ws, row, 1, book.field(str(item["field"])))
        row += 1
    row += 1
    for note in sheet.spec.get("notes", ()):
        book.paragraph(ws, row, 1, f"- {book.fill(' '.join(str(note).split()))}")
        row += 1
    heading = sheet.text("statuses")
    if heading:
        row += 1
        ws.write_string(row, 0, heading, book.heading_fmt())
        row += 1
        for status, meaning in MEANINGS:
            book.paragraph(ws, row, 0, status)
            book.paragraph(ws, row, 1, meaning)
            row += 1
