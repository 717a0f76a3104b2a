"""Forecast: the market size by year in the scenario selected on Inputs, with growth and status.

Registers each year's total (``("total", year)``), which the By region / By segment sheets split and the
Cover's headline shows.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from .. import formulas
from ..book import Book, cell, here

NEEDS = ("inputs", "scenarios")


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Forecast sheet: year, market size, growth, status; a column chart beside it."""
    m, s = book.market, book.scenario
    row = book.title(ws, sheet)
    top = row
    row += 1
    first = row
    previous: float | None = None
    for y in book.years:
        ws.write_number(row, 0, y, book.fmt(num_format="0"))
        total = formulas.total(m, book.units, y, here(row, 0, fixed_col=True), "SelectedGrowth", s)
        value = float(total.value)
        book.formula(ws, row, 1, total, book.fmt(num_format=book.money))
        if previous is not None:
            growth = formulas.growth(here(row, 1), here(row - 1, 1), value, previous)
            book.formula(ws, row, 2, growth, book.fmt(num_format=book.pct))
        status = formulas.status(m, y, s)
        if isinstance(status, str):
            ws.write_string(row, 3, status)
        else:
            book.formula(ws, row, 3, status)
        book.cells.put(("total", y), cell(ws.name, row, 1), value)
        previous = value
        row += 1
    headers = ("Year", f"Market size, {book.unit_label}", "Growth", "Status")
    book.table(ws, top, 0, headers, len(book.years), "Forecast")
    chart = book.chart({"type": "column"})
    chart.add_series(
        {
            "name": [ws.name, top, 1],
            "categories": [ws.name, first, 0, row - 1, 0],
            "values": [ws.name, first, 1, row - 1, 1],
            "fill": {"color": book.context.client.brand_colour},
            "gap": 60,
        }
    )
    book.chart_layout(chart, sheet, "Year")
    chart.set_legend({"none": True})
    ws.insert_chart(top, 5, chart, {"x_scale": 1.4, "y_scale": 1.3})
    ws.freeze_panes(top + 1, 1)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 20)
    ws.set_column(2, 2, 10)
    ws.set_column(3, 3, 26)
