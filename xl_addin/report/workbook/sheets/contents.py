"""Contents: a link to every sheet of the layout with its description."""

from __future__ import annotations

from xlsxwriter.utility import quote_sheetname
from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from ..book import Book

NEEDS: tuple[str, ...] = ()


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """One row per sheet, in tab order: the sheet's name as a link, its description (or title)."""
    row = book.title(ws, sheet)
    link = book.fmt(font_color="#0563C1", underline=1)
    for other in book.layout:
        ws.write_url(row, 0, f"internal:{quote_sheetname(other.name)}!A1", link, string=other.name)
        ws.write_string(row, 1, book.text(other, "description") or book.text(other, "title"))
        row += 1
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 90)
