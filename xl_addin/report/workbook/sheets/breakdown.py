"""By region / By segment: one or more dimensions split from the Forecast total by shifting shares.

Time runs across the columns (the same years in the same columns as Forecast). For each dimension the
sheet holds a summary table (values in the published years, horizon share, CAGR, focus) over two
member x year blocks: shares (from the shares used and relative growths on Inputs) and values (the
Forecast total times the share), with a total row and its difference from the Forecast total, which
the Checks sheet requires to be zero. A stacked column chart follows each dimension.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xlsxwriter.worksheet import Worksheet

from ....common.formats import money, percent
from ...context import MemberRow
from ...layout import SheetLayout
from .. import formulas
from ..book import SERIES_COLOURS, Book, here

NEEDS = ("inputs", "forecast", "scenarios")
SEVERAL = True

Stored = tuple[str, float]
"""A cell of this sheet (relative reference) and the result stored in it."""


@dataclass
class _Blocks:
    """Where one dimension's share and value blocks are, and what landed in them, by (member, year)."""

    summary_top: int
    share_top: int
    value_top: int
    share: dict[tuple[str, int], Stored] = field(default_factory=dict)
    value: dict[tuple[str, int], Stored] = field(default_factory=dict)


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """Each dimension the layout names (``dimensions: [service, modality, end_user]``), one under another."""
    row = book.title(ws, sheet, scenario=True)
    timeline = row
    row = book.timeline(ws, row) + 1
    for dimension in sheet.spec.get("dimensions", ()):
        row = _dimension(book, ws, sheet, row, timeline, book.market.dimension(str(dimension)))


def _dimension(book: Book, ws: Worksheet, sheet: SheetLayout, row: int, timeline: int, key: str) -> int:
    """One dimension: heading, summary table, share and value blocks, stacked column chart; the next row."""
    c = book.context
    rows = c.regions if key == "region" else c.segments[key]
    label = key.replace("_", " ")
    ws.write_string(row, 0, f"By {label}", book.heading_fmt())
    n = len(rows)
    blocks = _Blocks(summary_top=row + 1, share_top=row + n + 4, value_top=row + 2 * n + 7)
    ws.write_string(blocks.share_top - 1, 0, f"Share of the market by {label}", book.fmt(bold=True))
    ws.write_string(
        blocks.value_top - 1, 0, f"Market size by {label}, {book.unit_label}", book.fmt(bold=True)
    )
    for i, member in enumerate(r.member for r in rows):
        _member(book, ws, key, member, i, blocks)
    total_row = _total(book, ws, key, [r.member for r in rows], blocks)
    _statuses(book, ws, key, rows[0].member, total_row + 2)
    _summary(book, ws, key, rows, blocks)
    book.keep(ws, blocks.share_top - 1, blocks.share_top + n - 1)
    book.keep(ws, blocks.value_top - 1, total_row + 5)
    return _chart(book, ws, sheet, key, n, blocks, timeline, total_row + 7)


def _member(book: Book, ws: Worksheet, key: str, member: str, i: int, blocks: _Blocks) -> None:
    """One member's row in both blocks: its share by year, and the Forecast total times that share."""
    m = book.market
    share_row, value_row = blocks.share_top + i, blocks.value_top + i
    ws.write_string(share_row, 0, member)
    ws.write_string(value_row, 0, member)
    refs = (book.cells.ref(("share", key, member)), book.cells.ref(("relative growth", key, member)))
    values = {}
    for y in book.years:
        j = book.year_col(y)
        share = formulas.share(m, key, member, refs, y, book.year_ref(ws, y), book.scenario)
        book.formula(ws, share_row, j, share, book.fmt(num_format=book.pct))
        blocks.share[(member, y)] = (here(share_row, j), float(share.value))
        total_ref, _ = book.at(("total row",), y)
        value = formulas.member_value(
            m, book.units, total_ref, here(share_row, j), y, key, member, book.scenario
        )
        book.formula(ws, value_row, j, value, book.fmt(num_format=book.money))
        blocks.value[(member, y)] = (here(value_row, j), float(value.value))
        values[y] = float(value.value)
    book.put_row(("member row", key, member), ws, value_row, values)


def _total(book: Book, ws: Worksheet, key: str, members: list[str], blocks: _Blocks) -> int:
    """The members' values added up under the value block, and the difference from the Forecast total
    (zero: members add to the total; the Checks sheet says so); returns the total's row."""
    total_row = blocks.value_top + len(members)
    ws.write_string(total_row, 0, "Total", book.fmt(bold=True))
    ws.write_string(total_row + 1, 0, "Less the Forecast total", book.fmt(italic=True))
    sums, gaps = {}, {}
    for y in book.years:
        j = book.year_col(y)
        column = formulas.column_sum(
            here(blocks.value_top, j), here(total_row - 1, j), (blocks.value[(mb, y)][1] for mb in members)
        )
        book.formula(ws, total_row, j, column, book.fmt(bold=True, num_format=book.money, top=1))
        total_ref, total = book.at(("total row",), y)
        gap = formulas.difference(here(total_row, j), total_ref, float(column.value) - total)
        book.formula(ws, total_row + 1, j, gap, book.fmt(italic=True, num_format="0.0E+0"))
        sums[y], gaps[y] = float(column.value), float(gap.value)
    book.put_row(("members gap", key), ws, total_row + 1, gaps)
    book.helper_row(ws, total_row + 1)  # the Checks sheet reads it and says whether it is 0
    return total_row


def _statuses(book: Book, ws: Worksheet, key: str, member: str, row: int) -> None:
    """The status every member of the dimension shares in each year, in the engine's words (``interpolated
    total, assumed split (bull, override)``), with the qualifiers it is made of."""
    m, s = book.market, book.scenario
    label = key.replace("_", " ")
    moved_row, qualifier_row, status_row, code_row = range(row, row + 4)
    grey = book.fmt(font_color="#7F7F7F")
    ws.write_string(moved_row, 0, "Moved by an override (1)", grey)
    ws.write_string(qualifier_row, 0, "Qualifiers", grey)
    ws.write_string(status_row, 0, f"Status of each {label}")
    ws.write_string(code_row, 0, f"Status code of each {label} (legend on Forecast)")
    for y in book.years:
        j = book.year_col(y)
        y_ref = book.year_ref(ws, y)
        total_moved, _ = book.at(("moved row",), y)
        moved = formulas.moved(m, y, y_ref, s, (key, member), total_moved)
        book.formula(ws, moved_row, j, moved, grey)
        qualifiers = formulas.qualifiers(m, y, y_ref, s, here(moved_row, j), (key, member))
        book.formula(ws, qualifier_row, j, qualifiers, grey)
        word_ref, _ = book.at(("path", "word"), y)
        status = formulas.status(m, y, (y_ref, word_ref, here(qualifier_row, j)), s, (key, member))
        book.formula(ws, status_row, j, status)
        code = formulas.status_code((y_ref, word_ref), here(status_row, j), str(status.value))
        book.formula(ws, code_row, j, code, book.fmt(align="center"))
    for helper in (moved_row, qualifier_row, status_row):
        book.helper_row(ws, helper)


def _summary(book: Book, ws: Worksheet, key: str, rows: tuple[MemberRow, ...], blocks: _Blocks) -> None:
    """The table readers look at: values in the published years, horizon share, CAGR, focus mark."""
    c, m = book.context, book.market
    years = c.table_years
    headers = (
        key.replace("_", " ").capitalize(),
        *(str(y) for y in years),
        f"Share {m.horizon_year}",
        f"CAGR {c.period}",
        "Focus",
    )
    r = blocks.summary_top + 1
    for row in rows:
        bold = {"bold": True} if row.focus else {}
        ws.write_string(r, 0, row.member, book.fmt(**bold))
        for j, (y, v) in enumerate(zip(years, row.values, strict=True), start=1):
            book.show(
                ws,
                r,
                j,
                blocks.value[(row.member, y)][0],
                book.in_units(v),
                book.fmt(num_format=book.money, **bold),
            )
        j = len(years) + 1
        ref, share = blocks.share[(row.member, m.horizon_year)]
        book.show(ws, r, j, ref, share, book.fmt(num_format=book.pct, **bold))
        start, end = blocks.value[(row.member, m.next_year)][0], blocks.value[(row.member, m.horizon_year)][0]
        book.formula(
            ws, r, j + 1, formulas.forecast_cagr(start, end, row.cagr), book.fmt(num_format=book.pct, **bold)
        )
        ws.write_string(r, j + 2, "focus" if row.focus else "", book.fmt(**bold))
        r += 1
    book.table(ws, blocks.summary_top, 0, headers, len(rows), f"By_{key}")


def _chart(
    book: Book, ws: Worksheet, sheet: SheetLayout, key: str, n: int, blocks: _Blocks, timeline: int, row: int
) -> int:
    """Stacked columns of the value block, one series per member, below the blocks; returns the next row."""
    m, c = book.market, book.context
    chart = book.chart({"type": "column", "subtype": "stacked"})
    first, last = book.year_col(book.years[0]), book.year_col(book.years[-1])
    for i in range(n):
        colour = c.client.brand_colour if i == 0 else SERIES_COLOURS[(i - 1) % len(SERIES_COLOURS)]
        chart.add_series(
            {
                "name": [ws.name, blocks.value_top + i, 0],
                "categories": [ws.name, timeline, first, timeline, last],
                "values": [ws.name, blocks.value_top + i, first, blocks.value_top + i, last],
                "fill": {"color": colour},
                "gap": 50,
            }
        )
    label = key.replace("_", " ")
    title = book.chart_title(sheet).replace("{dimension}", label)
    book.formula(ws, row, 0, book.captioned(title), book.fmt(bold=True))
    book.chart_layout(chart, (ws.name, row, 0), "Year")
    rows = c.regions if key == "region" else c.segments[key]
    largest = max(rows, key=lambda r: r.values[-1])
    description = (
        f"Stacked column chart of the market in {book.unit_label} by {label} and year, {book.years[0]} to"
        f" {book.years[-1]}, in the {book.scenario} scenario; the largest in {m.horizon_year} is"
        f" {largest.member} with {money(largest.values[-1], book.units, with_unit=True)}"
        f" ({percent(largest.share)} of the market)."
    )
    return book.place(ws, row + 1, 0, chart, description, (1.6, 1.2)) + 1
