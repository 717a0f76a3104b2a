"""Sources & method: the publications cited, the calibration against the published figures, the method."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from .. import formulas
from ..book import Book, here

NEEDS = ("inputs",)


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """Sources table, calibration table, method paragraphs and the trends named in the source."""
    row = book.title(ws, sheet)
    row = _sources(book, ws, row)
    row = _calibration(book, ws, row)
    _method(book, ws, sheet, row)
    ws.set_column(0, 0, 36)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 2, 60)
    ws.set_column(3, 4, 18)
    ws.freeze_panes(3, 0)


def _sources(book: Book, ws: Worksheet, row: int) -> int:
    """Every source of the assumption set: key, publisher, title, date, link."""
    sources = book.context.sources
    top = row
    row += 1
    link = book.fmt(font_color="#0563C1", underline=1)
    for source in sources:
        ws.write_string(row, 0, source.key)
        ws.write_string(row, 1, source.publisher)
        ws.write_string(row, 2, source.title)
        ws.write_string(row, 3, source.date)
        if source.url.startswith(("https://", "http://")) and len(source.url) < 250:
            ws.write_url(row, 4, source.url, link, string=source.url)
        else:
            ws.write_string(row, 4, source.url)
        row += 1
    book.table(ws, top, 0, ("Key", "Publisher", "Title", "Date", "URL"), len(sources), "Sources")
    return row + 1


def _calibration(book: Book, ws: Worksheet, row: int) -> int:
    """Each published figure beside the calibrated path's value and the difference (inside its interval)."""
    anchors = book.market.assumptions.anchors
    ws.write_string(
        row, 0, "Calibration against the published figures (USD bn and fractions)", book.heading_fmt()
    )
    row += 1
    top = row
    row += 1
    for key, anchor in anchors.items():
        numfmt = book.fmt(num_format="0.000000" if anchor.units == "USD bn" else "0.0000%")
        ws.write_string(row, 0, anchor.label)
        book.link(ws, row, 1, ("anchor", key), numfmt)
        modelled = formulas.calibrated(book.market, key)
        book.formula(ws, row, 2, modelled, numfmt)
        residual = formulas.difference(here(row, 2), here(row, 1), float(modelled.value) - anchor.value)
        book.formula(ws, row, 3, residual, book.fmt(num_format="+0.000000;-0.000000;0"))
        ws.write_string(row, 4, f"inside +-{anchor.half_width:g}")
        row += 1
    headers = ("Published figure", "Published", "Calibrated", "Difference", "Interval")
    book.table(ws, top, 0, headers, len(anchors), "Calibration")
    return row + 1


def _method(book: Book, ws: Worksheet, sheet: SheetLayout, row: int) -> None:
    """The method paragraphs of the layout, then the trends and growth factors named in the source."""
    c = book.context
    wrap = book.fmt(text_wrap=True, valign="top")
    ws.write_string(row, 0, "Method", book.heading_fmt())
    row += 1
    for paragraph in sheet.spec.get("method", ()):
        ws.merge_range(row, 0, row, 4, "", wrap)
        ws.write_string(row, 0, book.fill(" ".join(str(paragraph).split())), wrap)
        ws.set_row(row, 45)
        row += 1
    row += 1
    for heading, items in (
        ("Trends named in the source", c.trends),
        ("Growth factors in the forecast period", c.forecast_factors),
        ("Growth factors in the historic period", c.historic_factors),
    ):
        ws.write_string(row, 0, heading, book.fmt(bold=True))
        row += 1
        for item in items:
            ws.write_string(row, 0, f"- {item}")
            row += 1
        row += 1
