"""Drivers: the selected scenario's driver growths, the growth bridge, and the horizon-year tornado."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ....common.formats import money
from ...layout import SheetLayout
from .. import formulas
from ..book import Book, cell, here

NEEDS = ("inputs", "forecast", "scenarios")

WIDTHS = {0: 34, 1: 13, 2: 13, 3: 14, 4: 14, 5: 13, 6: 13, 7: 13}


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Drivers sheet: three tables, one under another, and the tornado chart."""
    book.columns(ws, WIDTHS)
    row = book.title(ws, sheet, scenario=True)
    row, selected = _selected_drivers(book, ws, row)
    row = _bridge(book, ws, row, selected)
    _tornado(book, ws, sheet, row)
    ws.freeze_panes(1, 0)


def _selected_drivers(book: Book, ws: Worksheet, row: int) -> tuple[int, dict[str, str]]:
    """Each driver's growth in the scenario chosen on Inputs; returns the next row and those cells."""
    m = book.market
    a = m.assumptions
    growths = {d.key: d.scenario_growth[book.scenario] for d in book.context.drivers}
    ws.write_string(row, 0, "Drivers in the selected scenario", book.heading_fmt())
    row += 1
    top = row
    row += 1
    selected: dict[str, str] = {}
    for d in a.drivers.values():
        ws.write_string(row, 0, d.label)
        ws.write_string(row, 1, d.factor)
        # The scenario driver cells are one row on Inputs, in the order of ScenarioNames.
        first = book.cells.ref(("scenario driver", m.scenario_names[0], d.key))
        last = book.cells.ref(("scenario driver", m.scenario_names[-1], d.key))
        row_range = first + ":" + last.split("!")[1]
        growth = formulas.selected(row_range, growths[d.key], across=True)
        book.formula(ws, row, 2, growth, book.fmt(num_format="0.00%"))
        selected[d.key] = here(row, 2)
        row += 1
    book.table(ws, top, 0, ("Driver", "Factor", "Growth per year"), len(a.drivers), "Drivers")
    return row + 1, selected


def _bridge(book: Book, ws: Worksheet, row: int, selected: dict[str, str]) -> int:
    """The growth of the path the total follows over the forecast period, then the growth bridge: each
    factor from its drivers, the one holding the price-and-mix residual re-solved under another basis
    (``Market.bridge``), and the factors compounded back to that growth."""
    c, m = book.context, book.market
    drivers = m.assumptions.drivers
    path_growth = _path_growth(book, ws, row)
    row += 2
    ws.write_string(row, 0, "Growth bridge: (1+g) = (1+volume)(1+penetration)(1+price)", book.heading_fmt())
    row += 1
    top = row
    row += 1
    first = row
    closing = next(i for i, f in enumerate(c.bridge) if m.residual_driver in dict(f.drivers))
    factor_cells = [here(first + i, 1) for i in range(len(c.bridge))]
    product = 1.0
    for i, factor in enumerate(c.bridge):
        ws.write_string(row, 0, factor.factor)
        keys = [k for k, _ in factor.drivers]
        compounded = formulas.compounded([selected[k] for k in keys], factor.growth)
        if i == closing:
            others = [ref for j, ref in enumerate(factor_cells) if j != closing]
            compounded = formulas.bridge_closing_factor(compounded, path_growth, others)
        book.formula(ws, row, 1, compounded, book.fmt(num_format="0.00%"))
        label = ", ".join(drivers[k].label for k in keys)
        if i == closing:
            label += " (the residual: re-solved to close the bridge when Basis is not the default)"
        ws.write_string(row, 2, label)
        product *= 1 + factor.growth
        row += 1
    ws.write_string(row, 0, "market growth", book.fmt(bold=True))
    market_growth = formulas.compounded(factor_cells, product - 1)
    book.formula(ws, row, 1, market_growth, book.fmt(bold=True, num_format="0.00%", top=1))
    book.cells.put(("bridge growth",), cell(ws.name, row, 1), market_growth.value)
    ws.write_string(row, 2, "equals the growth of the path the total follows, above (see Checks)")
    row += 1
    book.table(ws, top, 0, ("Factor", "Growth per year", "Drivers"), len(c.bridge) + 1, "Bridge")
    return row + 1


def _path_growth(book: Book, ws: Worksheet, row: int) -> str:
    """The selected scenario's CAGR over the forecast period on the Forecast sheet (the path the total
    follows, whatever the basis); returns its cell."""
    m, c = book.market, book.context
    ws.write_string(row, 0, f"Growth of the path the total follows, {c.period}", book.fmt(bold=True))
    span = book.row_span(("total row",))
    start = formulas.in_year(span, "NextYear", 0.0).text[1:]
    end = formulas.in_year(span, "HorizonYear", 0.0).text[1:]
    growth = formulas.forecast_cagr(start, end, m.cagr(m.next_year, m.horizon_year, scenario=c.scenario))
    book.formula(ws, row, 1, growth, book.fmt(bold=True, num_format="0.00%"))
    book.cells.put(("path growth",), cell(ws.name, row, 1), growth.value)
    return here(row, 1)


def _tornado(book: Book, ws: Worksheet, sheet: SheetLayout, row: int) -> None:
    """The horizon-year market with one driver at its low and its high (base scenario), widest first,
    and a tornado chart of the swings around the base market."""
    c, m = book.context, book.market
    money_fmt = book.fmt(num_format=book.money)
    rate = book.fmt(num_format="0.00%")
    ws.write_string(
        row,
        0,
        f"Tornado: market size {m.horizon_year} with one driver at its low and high (base scenario)",
        book.heading_fmt(),
    )
    row += 1
    ws.write_string(row, 0, f"Base market {m.horizon_year}, {book.unit_label}")
    base = book.in_units(m.forecast(m.horizon_year))
    path = book.row_span(("scenario row", "base"))
    book.formula(ws, row, 1, formulas.in_year(path, "HorizonYear", base), money_fmt)
    base_ref = here(row, 1, fixed_row=True, fixed_col=True)
    row += 2
    top = row
    row += 1
    first = row
    for bar in c.tornado:
        growth = book.cells.ref(("driver", bar.driver, "growth"))
        ws.write_string(row, 0, bar.label)
        for j, end, value, upper in ((1, "low", bar.low_growth, False), (2, "high", bar.high_growth, True)):
            end_ref = book.cells.ref(("driver", bar.driver, end))
            book.formula(ws, row, j, formulas.tornado_end(growth, end_ref, value, high=upper), rate)
        for j, end_col, value in ((3, 1, bar.low_value), (4, 2, bar.high_value)):
            bar_value = formulas.tornado_value(base_ref, growth, here(row, end_col), value, book.units)
            book.formula(ws, row, j, bar_value, money_fmt)
        low, high = book.in_units(bar.low_value), book.in_units(bar.high_value)
        book.formula(ws, row, 5, formulas.tornado_delta(here(row, 3), base_ref, low - base), money_fmt)
        book.formula(ws, row, 6, formulas.tornado_delta(here(row, 4), base_ref, high - base), money_fmt)
        book.formula(ws, row, 7, formulas.difference(here(row, 4), here(row, 3), high - low), money_fmt)
        row += 1
    headers = (
        "Driver",
        "Low growth",
        "High growth",
        f"Market {m.horizon_year} at low",
        f"Market {m.horizon_year} at high",
        "Low less base",
        "High less base",
        "Swing",
    )
    book.table(ws, top, 0, headers, len(c.tornado), "Tornado")
    _tornado_chart(book, ws, sheet, first, row - 1, row + 1)


def _tornado_chart(book: Book, ws: Worksheet, sheet: SheetLayout, first: int, last: int, row: int) -> None:
    """Horizontal bars from the base market: each driver's low to the left, its high to the right."""
    m, c = book.market, book.context
    chart = book.chart({"type": "bar"})
    for col, name, colour in (
        (5, "Driver at its low", "#ED7D31"),
        (6, "Driver at its high", c.client.brand_colour),
    ):
        chart.add_series(
            {
                "name": name,
                "categories": [ws.name, first, 0, last, 0],
                "values": [ws.name, first, col, last, col],
                "fill": {"color": colour},
                "overlap": 100,
                "gap": 40,
            }
        )
    title = book.text(sheet, "tornado_title", f"Tornado: market {m.horizon_year} around the base")
    # Computed for the base scenario whichever is selected: the title names base, not the selection.
    book.formula(ws, row, 0, book.base_captioned(title), book.fmt(bold=True))
    book.chart_layout(chart, (ws.name, row, 0), None)
    chart.set_x_axis(
        {
            "name": f"Change in the {m.horizon_year} market, {book.unit_label}",
            "name_font": {"size": 10},
            "num_font": {"size": 10},
            "num_format": book.money,
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    chart.set_y_axis({"reverse": True, "num_font": {"size": 10}, "label_position": "low"})
    widest = c.tornado[0]
    description = (
        f"Tornado chart: the change in the {m.horizon_year} base market when one driver moves to its low or"
        f" high growth, widest first. {widest.label} swings it most, from"
        f" {money(widest.low_value, book.units, with_unit=True)} to {money(widest.high_value, book.units, with_unit=True)}."
    )
    book.place(ws, row + 1, 0, chart, description, (1.6, 1.2))
