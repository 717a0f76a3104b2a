"""Cover: title, who the pack is for and its provenance, the headline figures (live), the client's logo."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from .. import formulas
from ..book import Book

NEEDS = ("forecast",)


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Cover sheet; it is the sheet the workbook opens on."""
    c = book.context
    brand = c.client.brand_colour
    ws.set_row(0, 8, book.fmt(bg_color=brand))
    ws.write_string(2, 1, book.text(sheet, "title"), book.fmt(bold=True, font_size=20, font_color=brand))
    ws.write_string(3, 1, book.text(sheet, "subtitle"), book.fmt(font_size=12, font_color="#595959"))
    row = 5
    for item in sheet.spec.get("fields", ()):
        ws.write_string(row, 1, str(item["label"]), book.fmt(bold=True))
        ws.write_string(row, 2, book.field(str(item["field"])))
        row += 1
    row = _headline(book, ws, sheet, row + 1)
    note = book.fmt(text_wrap=True, valign="top", italic=True)
    ws.merge_range(row + 1, 1, row + 3, 4, "", note)
    ws.write_string(row + 1, 1, book.text(sheet, "note"), note)
    if c.client.logo is not None:
        ws.insert_image(2, 5, str(c.client.logo), {"x_scale": 0.5, "y_scale": 0.5, "object_position": 3})
    ws.set_column(0, 0, 3)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 48)
    ws.set_column(3, 4, 14)
    ws.activate()


def _headline(book: Book, ws: Worksheet, sheet: SheetLayout, row: int) -> int:
    """The layout's headline items: a year's market size (from Forecast) or a CAGR between two years."""
    big_money = book.fmt(bold=True, font_size=14, num_format=book.money)
    big_pct = book.fmt(bold=True, font_size=14, num_format=book.pct)
    for item in sheet.spec.get("headline", ()):
        money = item.get("format") == "money"
        ws.write_string(row, 1, f"{item['label']}, {book.unit_label}" if money else str(item["label"]))
        if "year" in item:
            book.link(ws, row, 2, ("total", int(item["year"])), big_money)
        else:
            start, end = (int(v) for v in item["cagr"])
            first, last = book.cells.ref(("total", start)), book.cells.ref(("total", end))
            cagr = formulas.cagr_between(book.market, first, last, start, end, book.scenario)
            book.formula(ws, row, 2, cagr, big_pct)
        row += 1
    return row
