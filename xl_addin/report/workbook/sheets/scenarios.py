"""Scenarios: each scenario's growth from its driver growths, the selected scenario, and years x scenarios.

Defines ``ScenarioNames``, ``ScenarioGrowths``, ``SelectedGrowth`` and ``StatusQualifier``, which the
Inputs selector, Forecast, By region / By segment and Drivers read.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ....model.assumptions import RESERVED_SCENARIO
from ...context import scenario_labels
from ...layout import SheetLayout
from .. import formulas
from ..book import SERIES_COLOURS, Book, cell, here, span

NEEDS = ("inputs",)


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Scenarios sheet: growth table, the selection, market size by year and scenario, a line chart."""
    row = book.title(ws, sheet)
    row = _growths(book, ws, row)
    row = _selection(book, ws, row)
    _by_year(book, ws, sheet, row)
    names = book.market.scenario_names
    ws.freeze_panes(3, 0)
    ws.set_column(0, 0, 24)
    ws.set_column(1, len(names), 14)
    ws.set_column(5, 5, 60)


def _growths(book: Book, ws: Worksheet, row: int) -> int:
    """Each scenario: growth per year (from its drivers on Inputs), horizon size and CAGR, description."""
    c, m = book.context, book.market
    names = m.scenario_names
    headers = (
        "Scenario",
        "Label",
        f"Growth per year {c.period}",
        f"Market size {m.horizon_year}",
        f"CAGR {c.period}",
        "Description",
    )
    top = row
    row += 1
    first = row
    horizon = m.horizon_year
    for s, text in zip(names, scenario_labels(c), strict=True):
        ws.write_string(row, 0, s)
        ws.write_string(row, 1, text)
        drivers = [book.cells.ref(("scenario driver", s, k)) for k in m.assumptions.drivers]
        growth = formulas.scenario_growth(m, s, drivers)
        book.formula(ws, row, 2, growth, book.fmt(num_format="0.00%"))
        book.cells.put(("scenario growth", s), cell(ws.name, row, 2), growth.value)
        g = here(row, 2, fixed_col=True)
        book.formula(
            ws,
            row,
            3,
            formulas.total(m, book.units, horizon, "HorizonYear", g, s),
            book.fmt(num_format=book.money),
        )
        cagr = formulas.scenario_cagr(m, here(row, 3), s)
        book.formula(ws, row, 4, cagr, book.fmt(num_format=book.pct))
        spec = m.assumptions.scenarios.get(s)
        ws.write_string(
            row,
            5,
            spec.description
            if spec is not None
            else "pinned to the published anchors (forecast growth on Inputs)",
        )
        row += 1
    book.table(ws, top, 0, headers, len(names), "Scenarios_growth")
    book.define("ScenarioNames", span(ws.name, first, 0, row - 1, 0))
    book.define("ScenarioGrowths", span(ws.name, first, 2, row - 1, 2))
    return row + 1


def _selection(book: Book, ws: Worksheet, row: int) -> int:
    """The scenario chosen on Inputs, its growth (``SelectedGrowth``) and its status label."""
    c, m = book.context, book.market
    label = book.fmt(bold=True)
    ws.write_string(row, 0, "Selected scenario", label)
    book.formula(ws, row, 1, formulas.Formula("=Scenario", c.scenario))
    ws.write_string(row, 2, "chosen on the Inputs sheet")
    row += 1
    ws.write_string(row, 0, "Selected growth per year", label)
    book.formula(
        ws,
        row,
        1,
        formulas.selected("ScenarioGrowths", book.cells.get(("scenario growth", c.scenario)).value),
        book.fmt(num_format="0.00%"),
    )
    book.define("SelectedGrowth", cell(ws.name, row, 1))
    row += 1
    ws.write_string(row, 0, "Status label", label)
    book.formula(ws, row, 1, formulas.status_qualifier(m, c.scenario))
    ws.write_string(row, 2, "added to the status of forecast years that are not the published base path")
    book.define("StatusQualifier", cell(ws.name, row, 1))
    return row + 2


def _by_year(book: Book, ws: Worksheet, sheet: SheetLayout, row: int) -> None:
    """Market size by year for every scenario, with a line chart beside it."""
    c, m = book.context, book.market
    names = m.scenario_names
    ws.write_string(row, 0, f"Market size by scenario, {book.unit_label}", book.heading_fmt())
    row += 1
    top = row
    row += 1
    first = row
    for y in book.years:
        ws.write_number(row, 0, y, book.fmt(num_format="0"))
        year_ref = here(row, 0, fixed_col=True)
        for j, s in enumerate(names, start=1):
            value = formulas.total(m, book.units, y, year_ref, book.cells.ref(("scenario growth", s)), s)
            book.formula(ws, row, j, value, book.fmt(num_format=book.money))
            book.cells.put(("scenario total", s, y), cell(ws.name, row, j), value.value)
        row += 1
    book.table(ws, top, 0, ("Year", *names), len(book.years), "Scenarios_by_year")
    chart = book.chart({"type": "line"})
    for j, s in enumerate(names, start=1):
        colour = (
            c.client.brand_colour if s == RESERVED_SCENARIO else SERIES_COLOURS[(j - 1) % len(SERIES_COLOURS)]
        )
        chart.add_series(
            {
                "name": s,
                "categories": [ws.name, first, 0, row - 1, 0],
                "values": [ws.name, first, j, row - 1, j],
                "line": {"color": colour, "width": 2.25 if s == RESERVED_SCENARIO else 1.5},
            }
        )
    book.chart_layout(chart, sheet, "Year")
    ws.insert_chart(top, len(names) + 2, chart, {"x_scale": 1.4, "y_scale": 1.3})
