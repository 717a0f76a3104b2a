"""Notes: the client's notes and the provenance, then the layout's fixed notes."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from ..book import Book

NEEDS: tuple[str, ...] = ()


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """Labelled fields (client notes, provenance) and the notes listed in the layout."""
    row = book.title(ws, sheet)
    wrap = book.fmt(text_wrap=True, valign="top")
    for item in sheet.spec.get("fields", ()):
        ws.write_string(row, 0, str(item["label"]), book.fmt(bold=True, valign="top"))
        ws.write_string(row, 1, book.field(str(item["field"])), wrap)
        row += 1
    row += 1
    for note in sheet.spec.get("notes", ()):
        ws.write_string(row, 1, f"- {book.fill(' '.join(str(note).split()))}", wrap)
        row += 1
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 110)
