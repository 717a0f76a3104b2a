"""By region / By segment: one or more dimensions split from the Forecast total by shifting shares.

For each dimension the sheet holds a summary (table years, horizon share, CAGR, focus) over two
member x year blocks: shares (from the base shares and relative growths on Inputs) and values (the
Forecast total times the share), with a total row that gives the Forecast total back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xlsxwriter.worksheet import Worksheet

from ...context import MemberRow
from ...layout import SheetLayout
from .. import formulas
from ..book import SERIES_COLOURS, Book, here

NEEDS = ("inputs", "forecast")

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
    row = book.title(ws, sheet)
    for dimension in sheet.spec.get("dimensions", ()):
        row = _dimension(book, ws, sheet, row, book.market.dimension(str(dimension)))
    ws.freeze_panes(3, 1)
    ws.set_column(0, 0, 28)
    ws.set_column(1, len(book.years), 10)


def _dimension(book: Book, ws: Worksheet, sheet: SheetLayout, row: int, key: str) -> int:
    """One dimension: heading, blocks, summary table and a stacked column chart; returns the next row."""
    c = book.context
    rows = c.regions if key == "region" else c.segments[key]
    ws.write_string(row, 0, f"By {key.replace('_', ' ')}", book.heading_fmt())
    row += 1
    n = len(rows)
    # Shares by year, then values by year (total x share), then the summary that reads them.
    blocks = _Blocks(summary_top=row, share_top=row + n + 3, value_top=row + 2 * n + 6)
    _year_headers(book, ws, key, blocks)
    for i, member in enumerate(r.member for r in rows):
        _member(book, ws, key, member, i, blocks)
    total_row = _total(book, ws, [r.member for r in rows], blocks)
    _summary(book, ws, key, rows, blocks)
    _chart(book, ws, sheet, key, n, blocks)
    return max(total_row + 3, blocks.summary_top + 20)


def _year_headers(book: Book, ws: Worksheet, key: str, blocks: _Blocks) -> None:
    """Caption and header row (the years) of the share and the value block."""
    label = key.replace("_", " ")
    brand = book.context.client.brand_colour
    year_header = book.fmt(bold=True, num_format="0", font_color="#FFFFFF", bg_color=brand)
    for block_top, caption in (
        (blocks.share_top, f"Share of the market by {label}"),
        (blocks.value_top, f"Market size by {label}, {book.unit_label}"),
    ):
        ws.write_string(block_top - 1, 0, caption, book.fmt(bold=True))
        ws.write_string(block_top, 0, label.capitalize(), book.header_fmt())
        for j, y in enumerate(book.years, start=1):
            ws.write_number(block_top, j, y, year_header)


def _member(book: Book, ws: Worksheet, key: str, member: str, i: int, blocks: _Blocks) -> None:
    """One member's row in both blocks: its share by year, and the Forecast total times that share."""
    m = book.market
    share_row, value_row = blocks.share_top + 1 + i, blocks.value_top + 1 + i
    ws.write_string(share_row, 0, member)
    ws.write_string(value_row, 0, member)
    refs = (book.cells.ref(("share", key, member)), book.cells.ref(("relative growth", key, member)))
    for j, y in enumerate(book.years, start=1):
        year_ref = here(blocks.share_top, j, fixed_row=True)
        share = formulas.share(m, key, member, refs, y, year_ref, book.scenario)
        book.formula(ws, share_row, j, share, book.fmt(num_format=book.pct))
        blocks.share[(member, y)] = (here(share_row, j), float(share.value))
        value = formulas.member_value(
            m, book.units, book.cells.ref(("total", y)), here(share_row, j), y, key, member, book.scenario
        )
        book.formula(ws, value_row, j, value, book.fmt(num_format=book.money))
        blocks.value[(member, y)] = (here(value_row, j), float(value.value))


def _total(book: Book, ws: Worksheet, members: list[str], blocks: _Blocks) -> int:
    """The members' values added up under the value block; returns its row."""
    total_row = blocks.value_top + 1 + len(members)
    ws.write_string(total_row, 0, "Total", book.fmt(bold=True))
    for j, y in enumerate(book.years, start=1):
        column = formulas.column_sum(
            here(blocks.value_top + 1, j),
            here(total_row - 1, j),
            (blocks.value[(mb, y)][1] for mb in members),
        )
        book.formula(ws, total_row, j, column, book.fmt(bold=True, num_format=book.money, top=1))
    return total_row


def _summary(book: Book, ws: Worksheet, key: str, rows: tuple[MemberRow, ...], blocks: _Blocks) -> None:
    """The table readers look at: values in the table years, horizon share, CAGR, focus mark."""
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


def _chart(book: Book, ws: Worksheet, sheet: SheetLayout, key: str, n: int, blocks: _Blocks) -> None:
    """Stacked columns of the value block, one series per member, beside the summary."""
    chart = book.chart({"type": "column", "subtype": "stacked"})
    last_col = len(book.years)
    for i in range(n):
        colour = book.context.client.brand_colour if i == 0 else SERIES_COLOURS[(i - 1) % len(SERIES_COLOURS)]
        chart.add_series(
            {
                "name": [ws.name, blocks.value_top + 1 + i, 0],
                "categories": [ws.name, blocks.value_top, 1, blocks.value_top, last_col],
                "values": [ws.name, blocks.value_top + 1 + i, 1, blocks.value_top + 1 + i, last_col],
                "fill": {"color": colour},
                "gap": 50,
            }
        )
    title = book.chart_title(sheet).replace("{dimension}", key.replace("_", " "))
    book.chart_layout(chart, sheet, "Year", title)
    ws.insert_chart(blocks.summary_top, last_col + 2, chart, {"x_scale": 1.3, "y_scale": 1.2})
