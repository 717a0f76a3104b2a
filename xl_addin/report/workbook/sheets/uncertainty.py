"""Uncertainty: the Monte Carlo fan (stored P10, P50, P90 by year) beside the live base scenario.

Time runs across the columns. The percentiles are stored values from the engine's Monte Carlo, labelled
as such on the sheet and in their row labels: they do not recompute when an input changes.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ....common.formats import money
from ....model.assumptions import RESERVED_SCENARIO
from ...layout import SheetLayout
from .. import formulas
from ..book import STORED_FONT, Book, here, span
from .checks import TOLERANCE

NEEDS = ("scenarios",)


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The fan by year (percentiles stored, said so on the sheet), the live base path, and the fan chart."""
    c = book.context
    row = book.title(ws, sheet, scenario=True)
    timeline = row
    row = book.timeline(ws, row)
    first = row
    stored = book.fmt(num_format=book.money, italic=True, font_color=STORED_FONT)
    labels = ("P10 (stored value)", "P50 (stored value)", "P90 (stored value)")
    for i, label in enumerate(labels):
        ws.write_string(row + i, 0, label, book.fmt(italic=True, font_color=STORED_FONT))
    ws.write_string(row + 3, 0, "P90 - P10")
    ws.write_string(row + 4, 0, "Base scenario (live)", book.fmt(bold=True))
    for fan in c.fan:
        if fan.year not in book.years:
            continue
        j = book.year_col(fan.year)
        p10, p50, p90 = (book.in_units(v) for v in (fan.p10, fan.p50, fan.p90))
        for i, value in enumerate((p10, p50, p90)):
            ws.write_number(row + i, j, value, stored)
        width = formulas.difference(here(row + 2, j), here(row, j), p90 - p10)
        book.formula(ws, row + 3, j, width, book.fmt(num_format=book.money))
        base_ref, base = book.at(("scenario row", RESERVED_SCENARIO), fan.year)
        book.show(ws, row + 4, j, base_ref, base, book.fmt(bold=True, num_format=book.money))
    years = [f.year for f in c.fan if f.year in book.years]
    if years:  # the band and the live base over the years the fan covers: the stale-band check reads them
        inside = {f.year: (book.in_units(f.p10), book.in_units(f.p90)) for f in c.fan if f.year in years}
        base = {y: book.at(("scenario row", RESERVED_SCENARIO), y)[1] for y in years}
        outside = sum(
            not (lo * (1 - TOLERANCE) <= base[y] <= hi * (1 + TOLERANCE)) for y, (lo, hi) in inside.items()
        )
        first_col, last_col = book.year_col(min(years)), book.year_col(max(years))
        book.cells.put(
            ("fan band",),
            "|".join(span(ws.name, r, first_col, r, last_col) for r in (row, row + 2, row + 4)),
            outside,
        )
    row += 5
    book.keep(ws, timeline, row - 1)
    ws.write_string(
        row,
        0,
        "P10, P50 and P90 are stored Monte Carlo values, not formulas: they do not move when an input"
        " changes. Rebuild the workbook with imgout to refresh them.",
        book.fmt(bold=True, italic=True),
    )
    ws.write_string(
        row + 1,
        0,
        f"The band was computed for assumption set {c.assumption_hash} as the workbook was made, not for"
        " later edits: the Checks sheet says when the live base leaves it.",
        book.fmt(italic=True),
    )
    _fan_chart(book, ws, sheet, timeline, first, row + 3)


def _fan_chart(book: Book, ws: Worksheet, sheet: SheetLayout, timeline: int, first: int, row: int) -> None:
    """A fan: an invisible P10 area with the P10-P90 band stacked on it, P50 and base as lines."""
    m, brand = book.market, book.context.client.brand_colour
    c0, c1 = book.year_col(book.years[0]), book.year_col(book.years[-1])
    categories = [ws.name, timeline, c0, timeline, c1]

    def values(offset: int) -> list[object]:
        return [ws.name, first + offset, c0, first + offset, c1]

    band = book.chart({"type": "area", "subtype": "stacked"})
    band.add_series(
        {
            "name": "P10",
            "categories": categories,
            "values": values(0),
            "fill": {"none": True},
            "border": {"none": True},
        }
    )
    band.add_series(
        {
            "name": "P10 to P90",
            "categories": categories,
            "values": values(3),
            "fill": {"color": brand, "transparency": 70},
            "border": {"none": True},
        }
    )
    lines = book.chart({"type": "line"})
    lines.add_series(
        {
            "name": "P50",
            "categories": categories,
            "values": values(1),
            "line": {"color": brand, "dash_type": "dash"},
        }
    )
    lines.add_series(
        {
            "name": "Base scenario",
            "categories": categories,
            "values": values(4),
            "line": {"color": "#000000", "width": 1.25},
        }
    )
    band.combine(lines)
    book.formula(ws, row, 0, book.captioned(book.chart_title(sheet)), book.fmt(bold=True))
    book.chart_layout(band, (ws.name, row, 0), "Year")
    fan = next((f for f in book.context.fan if f.year == m.horizon_year), None)
    spread = (
        f" In {m.horizon_year} the band runs from {money(fan.p10, book.units, with_unit=True)} (P10) to"
        f" {money(fan.p90, book.units, with_unit=True)} (P90)."
        if fan is not None
        else ""
    )
    book.place(
        ws,
        row + 1,
        0,
        band,
        "Fan chart of the base-scenario market by year: a shaded band from the stored Monte Carlo P10 to"
        f" P90, the P50 as a dashed line and the live base scenario as a solid line.{spread}",
        (1.6, 1.2),
    )
