"""Drivers: the selected scenario's driver growths, the growth bridge, and the horizon-year tornado."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from .. import formulas
from ..book import Book, here

NEEDS = ("inputs", "scenarios")


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Drivers sheet: three tables, one under another."""
    row = book.title(ws, sheet)
    row, selected = _selected_drivers(book, ws, row)
    row = _bridge(book, ws, row, selected)
    _tornado(book, ws, row)
    ws.freeze_panes(3, 0)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 2, 14)
    ws.set_column(3, 3, 70)
    ws.set_column(4, 5, 16)


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
        book.formula(ws, row, 2, formulas.selected(row_range, growths[d.key]), book.fmt(num_format="0.00%"))
        selected[d.key] = here(row, 2)
        ws.write_string(
            row, 3, " ".join((d.evidence or d.note).split()), book.fmt(text_wrap=True, valign="top")
        )
        row += 1
    book.table(ws, top, 0, ("Driver", "Factor", "Growth per year", "Evidence"), len(a.drivers), "Drivers")
    return row + 1, selected


def _bridge(book: Book, ws: Worksheet, row: int, selected: dict[str, str]) -> int:
    """The growth bridge: each factor from its drivers, and the factors compounded to the market growth."""
    c = book.context
    drivers = book.market.assumptions.drivers
    ws.write_string(row, 0, "Growth bridge: (1+g) = (1+volume)(1+penetration)(1+price)", book.heading_fmt())
    row += 1
    top = row
    row += 1
    factor_cells = []
    product = 1.0
    for factor in c.bridge:
        ws.write_string(row, 0, factor.factor)
        keys = [k for k, _ in factor.drivers]
        compounded = formulas.compounded([selected[k] for k in keys], factor.growth)
        book.formula(ws, row, 1, compounded, book.fmt(num_format="0.00%"))
        ws.write_string(row, 2, ", ".join(drivers[k].label for k in keys))
        factor_cells.append(here(row, 1))
        product *= 1 + factor.growth
        row += 1
    ws.write_string(row, 0, "market growth", book.fmt(bold=True))
    market_growth = formulas.compounded(factor_cells, product - 1)
    book.formula(ws, row, 1, market_growth, book.fmt(bold=True, num_format="0.00%", top=1))
    ws.write_string(row, 2, "equals the selected scenario's growth per year (Scenarios sheet)")
    row += 1
    book.table(ws, top, 0, ("Factor", "Growth per year", "Drivers"), len(c.bridge) + 1, "Bridge")
    return row + 1


def _tornado(book: Book, ws: Worksheet, row: int) -> None:
    """The horizon-year market with one driver at its low and its high (base scenario), widest first."""
    c, m = book.context, book.market
    ws.write_string(
        row,
        0,
        f"Tornado: market size {m.horizon_year} with one driver at its low and high (base scenario)",
        book.heading_fmt(),
    )
    row += 1
    top = row
    row += 1
    money = book.fmt(num_format=book.money)
    for bar in c.tornado:
        growth = book.cells.ref(("driver", bar.driver, "growth"))
        ws.write_string(row, 0, bar.label)
        book.link(ws, row, 1, ("driver", bar.driver, "low"), book.fmt(num_format="0.00%"))
        book.link(ws, row, 2, ("driver", bar.driver, "high"), book.fmt(num_format="0.00%"))
        for j, end, value in ((3, "low", bar.low_value), (4, "high", bar.high_value)):
            end_ref = book.cells.ref(("driver", bar.driver, end))
            book.formula(ws, row, j, formulas.tornado_value(growth, end_ref, value, book.units), money)
        swing = book.in_units(bar.high_value) - book.in_units(bar.low_value)
        book.formula(ws, row, 5, formulas.difference(here(row, 4), here(row, 3), swing), money)
        row += 1
    headers = (
        "Driver",
        "Low growth",
        "High growth",
        f"Market {m.horizon_year} at low",
        f"Market {m.horizon_year} at high",
        "Swing",
    )
    book.table(ws, top, 0, headers, len(c.tornado), "Tornado")
