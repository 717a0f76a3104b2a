"""Uncertainty: the Monte Carlo fan (stored P10, P50, P90 by year) beside the live base scenario."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ....model.assumptions import RESERVED_SCENARIO
from ...layout import SheetLayout
from .. import formulas
from ..book import Book, here

NEEDS = ("scenarios",)


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The fan table (percentiles are stored values, said so on the sheet) and its chart."""
    c = book.context
    row = book.title(ws, sheet)
    top = row
    row += 1
    first = row
    stored = book.fmt(num_format=book.money, italic=True, font_color="#7F7F7F")
    for fan in c.fan:
        ws.write_number(row, 0, fan.year, book.fmt(num_format="0"))
        p10, p50, p90 = (book.in_units(v) for v in (fan.p10, fan.p50, fan.p90))
        ws.write_number(row, 1, p10, stored)
        ws.write_number(row, 2, p50, stored)
        ws.write_number(row, 3, p90, stored)
        book.formula(
            ws,
            row,
            4,
            formulas.difference(here(row, 3), here(row, 1), p90 - p10),
            book.fmt(num_format=book.money),
        )
        book.link(
            ws, row, 5, ("scenario total", RESERVED_SCENARIO, fan.year), book.fmt(num_format=book.money)
        )
        row += 1
    last = row - 1
    headers = ("Year", "P10 (stored)", "P50 (stored)", "P90 (stored)", "P90 - P10", "Base scenario (live)")
    book.table(ws, top, 0, headers, len(c.fan), "Uncertainty")
    ws.write_string(
        row + 1,
        0,
        "P10, P50 and P90 are stored Monte Carlo values, not formulas.",
        book.fmt(italic=True, bold=True),
    )
    _fan_chart(book, ws, sheet, top, first, last)
    ws.freeze_panes(top + 1, 1)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 5, 16)


def _fan_chart(book: Book, ws: Worksheet, sheet: SheetLayout, top: int, first: int, last: int) -> None:
    """A fan: an invisible P10 area with the P10-P90 band stacked on it, P50 and base as lines."""
    brand = book.context.client.brand_colour
    band = book.chart({"type": "area", "subtype": "stacked"})
    categories = [ws.name, first, 0, last, 0]
    band.add_series(
        {
            "name": "P10",
            "categories": categories,
            "values": [ws.name, first, 1, last, 1],
            "fill": {"none": True},
            "border": {"none": True},
        }
    )
    band.add_series(
        {
            "name": "P10 to P90",
            "categories": categories,
            "values": [ws.name, first, 4, last, 4],
            "fill": {"color": brand, "transparency": 70},
            "border": {"none": True},
        }
    )
    lines = book.chart({"type": "line"})
    lines.add_series(
        {
            "name": "P50",
            "categories": categories,
            "values": [ws.name, first, 2, last, 2],
            "line": {"color": brand, "dash_type": "dash"},
        }
    )
    lines.add_series(
        {
            "name": "Base scenario",
            "categories": categories,
            "values": [ws.name, first, 5, last, 5],
            "line": {"color": "#000000", "width": 1.25},
        }
    )
    band.combine(lines)
    book.chart_layout(band, sheet, "Year")
    ws.insert_chart(top, 7, band, {"x_scale": 1.4, "y_scale": 1.3})
