"""Region x segment: for the year chosen on the sheet and the scenario chosen on Inputs, every region
(down) by every member of each segment dimension (across).

Where the assumption set has a joint table (``joint: region/service``) a region with a row in it is
split by that row's mix, shifting with the members' relative growth as the engine does; every other
region by the whole market's split (a product of shares). Each region's row says which. Rows add up to
the region's value and the table to the total (the Checks sheet holds both); with a joint table the
column totals differ from the By segment sheet, which splits the whole market.
"""

from __future__ import annotations

import math

from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from .. import formulas
from ..book import Book, cell, here

NEEDS = ("inputs", "forecast", "scenarios", "breakdown")

JOINT, PRODUCT = "joint table", "product of shares"
FIRST_MEMBER = 3  # column of the first member: region, its value and the basis come first


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The year selector, then one matrix per segment dimension the layout names."""
    m = book.market
    dims = [m.dimension(str(d)) for d in sheet.spec.get("dimensions", ())]
    widest = max(len(m.assumptions.dimensions[d].members) for d in dims)
    book.columns(ws, {0: 26, 1: 12, 2: 16, **{FIRST_MEMBER + j: 12 for j in range(widest + 1)}})
    row = book.title(ws, sheet, scenario=True)
    year = min(max(m.horizon_year, book.years[0]), book.years[-1])
    ws.write_string(row, 0, "Year", book.fmt(bold=True))
    ws.write_number(row, 1, year, book.input_fmt("0"))
    book.define("MatrixYear", cell(ws.name, row, 1))
    ws.data_validation(
        row,
        1,
        row,
        1,
        {
            "validate": "list",
            "source": "=Timeline",
            "input_title": "Year",
            "input_message": "Pick the year the tables below show.",
            "error_title": "Not a year of the workbook",
            "error_message": "Pick one of the years on the Forecast sheet's timeline.",
        },
    )
    ws.write_string(row, 2, "the year the tables show (the scenario is the one chosen on Inputs)")
    book.keep(ws, row, row)
    row += 2
    for dim in dims:
        row = _matrix(book, ws, row, dim, year)


def _matrix(book: Book, ws: Worksheet, row: int, dim: str, year: int) -> int:
    """Regions x the members of one dimension; returns the next free row."""
    m = book.market
    members = m.assumptions.dimensions[dim].names
    regions = m.assumptions.dimensions["region"].names
    joint = m.assumptions.joint.get(dim, {})
    label = dim.replace("_", " ")
    s = book.scenario
    top = row
    heading = formulas.Formula(
        f'="Regions by {label}, "&MatrixYear&", {book.unit_label}"',
        f"Regions by {label}, {year}, {book.unit_label}",
    )
    book.formula(ws, row, 0, heading, book.heading_fmt())
    row += 1
    basis = (
        f"Regions marked '{JOINT}' are split by the joint table region/{dim} on Inputs; the others by the"
        f" {label} split of the whole market, so the column totals differ from By segment."
        if joint
        else f"No joint table region/{dim}: every region is split by the {label} split of the whole market"
        " (a product of shares)."
    )
    ws.write_string(row, 0, basis, book.fmt(italic=True, font_color="#595959"))
    row += 1
    cols = {name: FIRST_MEMBER + j for j, name in enumerate(members)}
    total_col = FIRST_MEMBER + len(members)
    number_row, growth_row, share_row = row, row + 1, row + 2
    ws.write_string(number_row, 0, "Member number")
    ws.write_string(growth_row, 0, "Relative growth (Inputs)")
    book.formula(
        ws,
        share_row,
        0,
        formulas.Formula('="Share of the whole market, "&MatrixYear', f"Share of the whole market, {year}"),
    )
    a_dim = m.assumptions.dimensions[dim]
    for n, member in enumerate(a_dim.members, start=1):
        j = cols[member.name]
        ws.write_number(number_row, j, n, book.fmt(num_format="0", font_color="#7F7F7F"))
        number_ref = here(number_row, j, fixed_row=True)
        book.formula(
            ws,
            growth_row,
            j,
            formulas.nth(f"RelGrowth_{dim}", number_ref, member.growth),
            book.fmt(num_format=book.input_pct),
        )
        share = formulas.mix_share(
            (f"INDEX(Share_{dim},{number_ref},1)", here(growth_row, j, fixed_row=True)),
            (f"Share_{dim}", f"RelGrowth_{dim}"),
            "MatrixYear",
            m.share(year, f"{dim}:{member.name}"),
        )
        book.formula(ws, share_row, j, share, book.fmt(num_format=book.pct))
    growths = f"{here(growth_row, FIRST_MEMBER, fixed_row=True, fixed_col=True)}:{here(growth_row, total_col - 1, fixed_row=True, fixed_col=True)}"
    row = share_row + 2
    headers = ("Region", f"Region, {book.unit_label}", "Split by", *members, "Total")
    for j, text in enumerate(headers):
        ws.write_string(row, j, text, book.header_fmt())
        book.fit_row(ws, row, j, text)
    row += 1
    first = row
    column_values: dict[str, list[float]] = {name: [] for name in members}
    for region in regions:
        ws.write_string(row, 0, region)
        region_span = book.row_span(("member row", "region", region))
        region_value = book.in_units(m.forecast(year, region, scenario=s))
        book.formula(
            ws,
            row,
            1,
            formulas.in_year(region_span, "MatrixYear", region_value),
            book.fmt(num_format=book.money),
        )
        ws.write_string(row, 2, JOINT if region in joint else PRODUCT)
        region_ref = here(row, 1, fixed_col=True)
        for name, j in cols.items():
            value = book.in_units(m.forecast(year, region, f"{dim}:{name}", s))
            column_values[name].append(value)
            if region in joint:
                share_cell = book.cells.ref(("joint", dim, region, name))
                first_ref = book.cells.ref(("joint", dim, region, members[0]))
                last_ref = book.cells.ref(("joint", dim, region, members[-1]))
                joint_row = f"{first_ref}:{last_ref.split('!')[1]}"
                relative = _column_relative(share_cell)
                share_expr = formulas.mix_share(
                    (relative, here(growth_row, j, fixed_row=True)), (joint_row, growths), "MatrixYear", 0.0
                ).text
            else:
                share_expr = f"={here(share_row, j, fixed_row=True)}"
            book.formula(
                ws, row, j, formulas.in_region(region_ref, share_expr, value), book.fmt(num_format=book.money)
            )
        row_sum = formulas.range_sum(
            f"{here(row, FIRST_MEMBER)}:{here(row, total_col - 1)}", [column_values[n][-1] for n in members]
        )
        book.formula(ws, row, total_col, row_sum, book.fmt(bold=True, num_format=book.money))
        row += 1
    last = row - 1
    ws.write_string(row, 0, "Total", book.fmt(bold=True))
    region_total = formulas.range_sum(
        f"{here(first, 1)}:{here(last, 1)}", [book.in_units(m.forecast(year, r, scenario=s)) for r in regions]
    )
    book.formula(ws, row, 1, region_total, book.fmt(bold=True, num_format=book.money, top=1))
    for name, j in cols.items():
        book.formula(
            ws,
            row,
            j,
            formulas.range_sum(f"{here(first, j)}:{here(last, j)}", column_values[name]),
            book.fmt(bold=True, num_format=book.money, top=1),
        )
    grand = math.fsum(v for values in column_values.values() for v in values)
    book.formula(
        ws,
        row,
        total_col,
        formulas.range_sum(f"{here(first, total_col)}:{here(last, total_col)}", [grand]),
        book.fmt(bold=True, num_format=book.money, top=1),
    )
    total_row = row
    row += 1
    ws.write_string(row, 0, "Rows less region values (largest)", book.fmt(italic=True))
    gaps = [
        book.in_units(m.forecast(year, r, scenario=s)) - math.fsum(column_values[n][i] for n in members)
        for i, r in enumerate(regions)
    ]
    ws.write_string(row + 1, 0, "Table less the Forecast total", book.fmt(italic=True))
    _gap_cells(book, ws, dim, row, (first, last, total_col), gaps, total_row, year)
    book.keep(ws, top, row + 1)
    return row + 3


def _gap_cells(
    book: Book,
    ws: Worksheet,
    dim: str,
    row: int,
    where: tuple[int, int, int],
    gaps: list[float],
    total_row: int,
    year: int,
) -> None:
    """The two differences the Checks sheet requires to be zero: each row against its region's value
    (largest), and the table's total against the Forecast total of the year."""
    first, last, total_col = where
    m = book.market
    for r in range(first, last + 1):
        book.formula(
            ws,
            r,
            total_col + 1,
            formulas.difference(here(r, total_col), here(r, 1), -gaps[r - first]),
            book.fmt(num_format="0.0E+0", font_color="#7F7F7F"),
        )
    largest = max((abs(g) for g in gaps), default=0.0)
    gap_span = f"{here(first, total_col + 1)}:{here(last, total_col + 1)}"
    book.formula(ws, row, 1, formulas.largest_gap(gap_span, largest), book.fmt(num_format="0.0E+0"))
    total = book.in_units(m.forecast(year, scenario=book.scenario))
    forecast = formulas.in_year("ForecastTotals", "MatrixYear", total).text[1:]
    grand = book.in_units(
        math.fsum(
            m.forecast(year, r, scenario=book.scenario) for r in m.assumptions.dimensions["region"].names
        )
    )
    table_gap = formulas.difference(here(total_row, total_col), forecast, grand - total)
    book.formula(ws, row + 1, 1, table_gap, book.fmt(num_format="0.0E+0"))
    book.cells.put(("matrix gap", dim, "rows"), cell(ws.name, row, 1), largest)
    book.cells.put(("matrix gap", dim, "total"), cell(ws.name, row + 1, 1), grand - total)
    book.pages[ws.name].widths.setdefault(total_col + 1, 8.43)


def _column_relative(ref: str) -> str:
    """``Inputs!$C$40`` as ``Inputs!C$40``: copied across a row, it moves to the next member."""
    sheet, _, coordinate = ref.rpartition("!")
    return f"{sheet}!{coordinate.lstrip('$')}"
