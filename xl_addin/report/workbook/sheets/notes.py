"""Notes: the client's notes and the provenance, then the layout's fixed notes."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from ..book import Book

NEEDS: tuple[str, ...] = ()


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """Labelled fields (client notes, provenance) and the notes listed in the layout."""
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
