"""Scenarios: each scenario's growth from its driver growths, the selected scenario, and scenarios x years.

Defines ``ScenarioNames``, ``ScenarioGrowths``, ``SelectedGrowth``, ``StatusQualifier`` and
``ScenarioCaption`` (how every output title names the selected scenario), which the Inputs selector,
Forecast, By region / By segment, Drivers and the other output sheets read.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ....common.formats import money
from ....model.assumptions import RESERVED_SCENARIO
from ...context import scenario_labels
from ...layout import SheetLayout
from .. import formulas
from ..book import SERIES_COLOURS, Book, cell, here, span

NEEDS = ("inputs",)


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Scenarios sheet: growth table, the selection, market size by scenario and year, a line chart."""
    row = book.title(ws, sheet, scenario=True)
    timeline = row
    row = book.timeline(ws, row)
    row = _growths(book, ws, row + 1)
    row = _selection(book, ws, row)
    _by_year(book, ws, sheet, row, timeline)


def _growths(book: Book, ws: Worksheet, row: int) -> int:
    """Each scenario: growth per year (from its drivers on Inputs), horizon size and CAGR, description."""
    c, m = book.context, book.market
    names = m.scenario_names
    headers = (
        "Scenario",
        f"Growth per year {c.period}",
        f"Market size {m.horizon_year}",
        f"CAGR {c.period}",
        "Description",
    )
    ws.write_string(row, 0, "Scenario growth from its drivers", book.heading_fmt())
    row += 1
    top = row
    row += 1
    first = row
    for s, text in zip(names, scenario_labels(c), strict=True):
        ws.write_string(row, 0, s)
        drivers = [book.cells.ref(("scenario driver", s, k)) for k in m.assumptions.drivers]
        growth = formulas.scenario_growth(m, s, drivers)
        book.formula(ws, row, 1, growth, book.fmt(num_format="0.00%"))
        book.cells.put(("scenario growth", s), cell(ws.name, row, 1), growth.value)
        g = here(row, 1, fixed_col=True)
        horizon = formulas.total(m, book.units, m.horizon_year, "HorizonYear", g, s)
        book.formula(ws, row, 2, horizon, book.fmt(num_format=book.money))
        book.formula(ws, row, 3, formulas.scenario_cagr(m, here(row, 2), s), book.fmt(num_format=book.pct))
        spec = m.assumptions.scenarios.get(s)
        description = spec.description if spec is not None else "pinned to the published figures"
        ws.write_string(row, 4, description if text == s else f"{text}: {description}")
        row += 1
    book.table(ws, top, 0, headers, len(names), "Scenarios_growth")
    book.define("ScenarioNames", span(ws.name, first, 0, row - 1, 0))
    book.define("ScenarioGrowths", span(ws.name, first, 1, row - 1, 1))
    return row + 1


def _selection(book: Book, ws: Worksheet, row: int) -> int:
    """The scenario chosen on Inputs, its caption, its growth (``SelectedGrowth``) and status label."""
    c, m = book.context, book.market
    label = book.fmt(bold=True)
    top = row
    ws.write_string(row, 0, "Selected scenario", label)
    book.formula(ws, row, 1, formulas.Formula("=Scenario", c.scenario))
    ws.write_string(row, 3, "chosen on the Inputs sheet")
    row += 1
    ws.write_string(row, 0, "Caption in titles", label)
    book.formula(ws, row, 1, formulas.caption(m, c.scenario))
    book.define("ScenarioCaption", cell(ws.name, row, 1))
    row += 1
    ws.write_string(row, 0, "Selected growth per year", label)
    growth = book.cells.get(("scenario growth", c.scenario)).value
    book.formula(
        ws, row, 1, formulas.selected("ScenarioGrowths", growth, across=False), book.fmt(num_format="0.00%")
    )
    book.define("SelectedGrowth", cell(ws.name, row, 1))
    row += 1
    ws.write_string(row, 0, "Status label", label)
    book.formula(ws, row, 1, formulas.status_qualifier(m, c.scenario))
    ws.write_string(row, 3, "added to the status of forecast years that are not the published base path")
    book.define("StatusQualifier", cell(ws.name, row, 1))
    book.keep(ws, top, row)
    return row + 2


def _by_year(book: Book, ws: Worksheet, sheet: SheetLayout, row: int, timeline: int) -> None:
    """Market size by scenario (rows) and year (columns), with a line chart below."""
    c, m = book.context, book.market
    names = m.scenario_names
    ws.write_string(row, 0, f"Market size by scenario, {book.unit_label}", book.heading_fmt())
    row += 1
    first_row = row
    for s in names:
        ws.write_string(row, 0, s)
        growth = book.cells.ref(("scenario growth", s))
        values = {}
        for y in book.years:
            value = formulas.total(m, book.units, y, book.year_ref(ws, y), growth, s)
            book.formula(ws, row, book.year_col(y), value, book.fmt(num_format=book.money))
            values[y] = float(value.value)
        book.put_row(("scenario row", s), ws, row, values)
        row += 1
    book.keep(ws, first_row - 1, row - 1)
    row += 1
    book.formula(ws, row, 0, book.captioned(book.chart_title(sheet)), book.fmt(bold=True))
    first, last = book.year_col(book.years[0]), book.year_col(book.years[-1])
    chart = book.chart({"type": "line"})
    for i, s in enumerate(names):
        colour = c.client.brand_colour if s == RESERVED_SCENARIO else SERIES_COLOURS[i % len(SERIES_COLOURS)]
        chart.add_series(
            {
                "name": [ws.name, first_row + i, 0],
                "categories": [ws.name, timeline, first, timeline, last],
                "values": [ws.name, first_row + i, first, first_row + i, last],
                "line": {"color": colour, "width": 2.25 if s == RESERVED_SCENARIO else 1.5},
            }
        )
    book.chart_layout(chart, (ws.name, row, 0), "Year")
    ends = ", ".join(
        f"{s} {money(m.forecast(m.horizon_year, scenario=s), book.units, with_unit=True)}" for s in names
    )
    book.place(
        ws,
        row + 1,
        0,
        chart,
        f"Line chart of the market size in {book.unit_label} by year for every scenario; in"
        f" {m.horizon_year}: {ends}.",
        (1.6, 1.2),
    )
