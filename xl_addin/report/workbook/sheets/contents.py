"""Contents: a link to every sheet of the layout with what a reader finds there."""

from __future__ import annotations

from xlsxwriter.utility import quote_sheetname
from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from ..book import Book

NEEDS: tuple[str, ...] = ()


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """One row per sheet, in tab order: the sheet's name as a link, what it holds (its ``contents`` text,
    else its description, else its title)."""
    book.columns(ws, {0: 22, 1: 100})
    row = book.title(ws, sheet)
    link = book.fmt(font_color="#0563C1", underline=1, valign="top")
    top = row
    ws.write_string(row, 0, "Sheet", book.header_fmt())
    ws.write_string(row, 1, "What it holds", book.header_fmt())
    row += 1
    for other in book.layout:
        ws.write_url(row, 0, f"internal:{quote_sheetname(other.name)}!A1", link, string=other.name)
        text = book.text(other, "contents") or book.text(other, "description") or book.text(other, "title")
        book.paragraph(ws, row, 1, text[:1].upper() + text[1:])
        row += 1
    book.keep(ws, top, row - 1)
