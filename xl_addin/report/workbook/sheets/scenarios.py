"""Scenarios: the base path and every scenario's path by year, each scenario's growth from its drivers,
the selected scenario and what the overrides moved.

Time runs across the columns; the timeline row is the workbook's ``Timeline``. The rows mirror the
engine's equations (``Market.own_path``, ``Market._scenario_path``): the fade weight, the growth after
the horizon, the model's own path, the base path the total follows (the basis), its growth, the weight of
a scenario's growth difference, then one row per scenario. Defines ``ScenarioNames``,
``ScenarioGrowths``, ``SelectedGrowth``, ``ScenarioCaption`` and the override flags the statuses read.
"""

from __future__ import annotations

from xlsxwriter.utility import quote_sheetname
from xlsxwriter.worksheet import Worksheet

from ....common.formats import money
from ....model.assumptions import RESERVED_SCENARIO
from ...context import scenario_labels
from ...layout import SheetLayout
from .. import formulas
from ..book import SERIES_COLOURS, Book, cell, here, span

NEEDS = ("inputs", "estimates")

PATH_ROWS = ("weight", "growth after", "own", "base", "base growth", "scenario weight", "own word", "word")


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Scenarios sheet: growth table, selection and flags, paths by year, a line chart."""
    m = book.market
    row = book.title(ws, sheet, scenario=True)
    timeline = row
    row = book.timeline(ws, row)
    book.define("Timeline", span(ws.name, timeline, 1, timeline, book.year_col(book.years[-1])))
    names = m.scenario_names
    growth_top = row + 1
    selection_top = growth_top + len(names) + 3
    paths_top = selection_top + 14
    scenario_top = paths_top + len(PATH_ROWS) + 2
    rows = {s: scenario_top + i for i, s in enumerate(names)}
    _growths(book, ws, growth_top, rows)
    _selection(book, ws, selection_top)
    _paths(book, ws, paths_top)
    _by_year(book, ws, sheet, scenario_top, timeline)


def _growths(book: Book, ws: Worksheet, row: int, rows: dict[str, int]) -> None:
    """Each scenario: growth per year (from its drivers on Inputs), its difference to the base path,
    horizon size and CAGR, description."""
    c, m = book.context, book.market
    names = m.scenario_names
    headers = (
        "Scenario",
        f"Growth per year {c.period}",
        "Difference to base",
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
        difference = formulas.growth_difference(here(row, 1), m.growth_difference(s))
        book.formula(ws, row, 2, difference, book.fmt(num_format="0.00%"))
        book.cells.put(("growth difference", s), cell(ws.name, row, 2), difference.value)
        path = span(ws.name, rows[s], 1, rows[s], book.year_col(book.years[-1]))
        horizon = formulas.in_year(path, "HorizonYear", book.in_units(m.forecast(m.horizon_year, scenario=s)))
        book.formula(ws, row, 3, horizon, book.fmt(num_format=book.money))
        start = formulas.in_year(path, "NextYear", 0.0).text[1:]
        cagr = formulas.scenario_cagr(m, start, here(row, 3), s)
        book.formula(ws, row, 4, cagr, book.fmt(num_format=book.pct))
        spec = m.assumptions.scenarios.get(s)
        if spec is not None:
            ws.write_string(row, 5, spec.description if text == s else f"{text}: {spec.description}")
        else:  # base: what it follows depends on Basis on Inputs
            book.formula(ws, row, 5, formulas.base_description(m))
        row += 1
    book.table(ws, top, 0, headers, len(names), "Scenarios_growth")
    book.define("ScenarioNames", span(ws.name, first, 0, row - 1, 0))
    book.define("ScenarioGrowths", span(ws.name, first, 1, row - 1, 1))


def _selection(book: Book, ws: Worksheet, row: int) -> None:
    """The scenario chosen on Inputs, its caption and growth, and what the overrides on Inputs moved
    (the statuses on Forecast read these flags)."""
    c, m = book.context, book.market
    a = m.assumptions
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
    moved = a.moved
    differs = formulas.typed_differs
    flags = (
        (
            "ForecastMoved",
            "Forecast growth typed",
            differs("ForecastGrowthOverride", "ForecastGrowthDefault"),
            "forecast" in moved,
        ),
        (
            "DriversMoved",
            "Driver what-if typed",
            formulas.any_typed_differs("DriverWhatIfs", "DriverGrowthsSet"),
            "drivers" in moved,
        ),
        (
            "BackcastMoved",
            "Back-cast growth typed",
            differs("BackcastGrowthOverride", "BackcastGrowthDefault"),
            "backcast" in moved,
        ),
        (
            "ExtrapolationMoved",
            "Extrapolation typed",
            differs("ExtrapolationGrowthOverride", "ExtrapolationGrowthDefault"),
            "extrapolation" in moved,
        ),
        (
            "FadeMoved",
            "Fade override typed",
            # The set's long-run rate and fade are those a per-call override gave (the flag): they stay moved.
            f"OR({int('fade' in moved)}=1,{differs('LongRunGrowthOverride', 'LongRunGrowthDefault')},"
            f"{differs('FadeYearsOverride', 'FadeYearsDefault')})",
            "fade" in moved,
        ),
        (
            "Moves",
            "Path moved",
            f'OR(Scenario<>"{RESERVED_SCENARIO}",ForecastMoved+DriversMoved>0)',
            c.scenario != RESERVED_SCENARIO or m.overridden,
        ),
    )
    for name, text, condition, value in flags:
        ws.write_string(row, 0, text)
        book.formula(ws, row, 1, formulas.moved_flag(condition, value), book.fmt(num_format="0"))
        book.define(name, cell(ws.name, row, 1))
        row += 1
    fade_start = m.fade_start
    ws.write_string(row, 0, "Last figure of the base path")
    book.formula(ws, row, 1, formulas.basis_fade_start(fade_start), book.fmt(num_format="0"))
    book.define("BasisFadeStart", cell(ws.name, row, 1))
    row += 1
    ws.write_string(row, 0, "Fade overrides apply after")
    fade_from = min(fade_start, m.horizon_year) if c.scenario != RESERVED_SCENARIO else fade_start
    book.formula(
        ws,
        row,
        1,
        formulas.Formula(
            f'=IF(Scenario="{RESERVED_SCENARIO}",BasisFadeStart,MIN(BasisFadeStart,HorizonYear))', fade_from
        ),
        book.fmt(num_format="0"),
    )
    book.define("FadeFrom", cell(ws.name, row, 1))
    ws.write_string(
        row, 3, "the last published year of the path the total follows (the horizon for a scenario)"
    )
    book.keep(ws, top, row)


def _paths(book: Book, ws: Worksheet, row: int) -> None:
    """The rows every scenario's path is built from, by year."""
    m = book.market
    ws.write_string(row, 0, "How the paths are built", book.heading_fmt())
    row += 1
    r = {name: row + i for i, name in enumerate(PATH_ROWS)}
    labels = {
        "weight": "Fade weight w(t)",
        "growth after": "Own growth after the horizon",
        "own": f"Model's own path, {book.unit_label}",
        "base": f"Base path (basis), {book.unit_label}",
        "base growth": "Base path growth b(t)",
        "scenario weight": "Weight of a scenario's difference",
        "own word": "Own path's word",
        "word": "Base path's word",
    }
    for key, text in labels.items():
        ws.write_string(r[key], 0, text)
    own = m.own_path()
    own_words = m.own_words()
    base_path = [book.in_units(v) for v in m.basis_path]
    base_words = m.basis_words
    index = {y: i for i, y in enumerate(m.year_list)}
    rate, money_fmt = book.fmt(num_format="0.00%"), book.fmt(num_format=book.money)
    own_values, base_values = {}, {}
    for y in book.years:
        j, i = book.year_col(y), index[y]
        y_ref = book.year_ref(ws, y)
        book.formula(ws, r["weight"], j, formulas.fade_weight(m, y, y_ref), book.fmt(num_format="0.00"))
        weight_ref = here(r["weight"], j)
        book.formula(ws, r["growth after"], j, formulas.post_horizon_growth(m, y, weight_ref), rate)
        own_values[y] = book.in_units(float(own[i]))
        own_f = formulas.own_path(y_ref, here(r["own"], j - 1), here(r["growth after"], j), own_values[y])
        book.formula(ws, r["own"], j, own_f, money_fmt)
        base_values[y] = base_path[i]
        basis = formulas.basis_path(here(r["own"], j), book.column_of(("basis block",), y), base_values[y])
        book.formula(ws, r["base"], j, basis, money_fmt)
        word = formulas.own_word(m, y, y_ref)
        vertical = book.fmt(font_color="#7F7F7F")
        book.formula(ws, r["own word"], j, formulas.Formula(word.text, own_words[i]), vertical)
        basis_word = formulas.basis_word(
            here(r["own word"], j), book.column_of(("basis words",), y), base_words[i]
        )
        book.formula(ws, r["word"], j, basis_word, vertical)
        b = base_path[i] / base_path[i - 1] - 1 if y > m.next_year else 0.0
        growth = formulas.base_growth(y_ref, here(r["base"], j), here(r["base"], j - 1), b)
        book.formula(ws, r["base growth"], j, growth, rate)
        w = m.fade_weight(y) if y > m.next_year else 0.0
        book.formula(
            ws,
            r["scenario weight"],
            j,
            formulas.scenario_weight(y_ref, weight_ref, w),
            book.fmt(num_format="0.00"),
        )
    for key in ("own word", "word"):  # the words the statuses are made of (Forecast shows them)
        book.helper_row(ws, r[key])
    for key in PATH_ROWS:
        book.put_row(("path", key), ws, r[key], {})
    book.keep(ws, row - 1, r["word"])


def _by_year(book: Book, ws: Worksheet, sheet: SheetLayout, row: int, timeline: int) -> None:
    """Market size by scenario (rows) and year (columns), with a line chart below."""
    c, m = book.context, book.market
    names = m.scenario_names
    ws.write_string(row - 1, 0, f"Market size by scenario, {book.unit_label}", book.heading_fmt())
    first_row = row
    for s in names:
        ws.write_string(row, 0, s)
        difference = book.cells.ref(("growth difference", s))
        values = {}
        for y in book.years:
            j = book.year_col(y)
            value = book.in_units(m.forecast(y, scenario=s))
            refs = (
                book.at(("path", "base"), y)[0],
                here(row, j - 1),
                book.at(("path", "base growth"), y)[0],
                difference,
                book.at(("path", "scenario weight"), y)[0],
            )
            book.formula(
                ws,
                row,
                j,
                formulas.scenario_path(book.year_ref(ws, y), refs, value),
                book.fmt(num_format=book.money),
            )
            values[y] = value
        book.put_row(("scenario row", s), ws, row, values)
        row += 1
    book.cells.put(("scenario block",), f"{quote_sheetname(ws.name)}!{first_row}:{row - 1}", None)
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
