"""Checks: what must hold for the workbook's numbers to be the engine's, each a live formula, and one
master check that the Cover and the Inputs sheet show.

Each row is a check: the value it looks at, the limit, and a result (1 passes, 0 fails, shown as
``pass`` / ``FAIL``), with the sheet to look at and what to do when it fails. The tolerances are cells at
the top (no number is spelled in a formula). A workbook fresh from imgout passes every check; an edit
that breaks one (shares that no longer add to 100 %, a scenario typed that does not exist, an override
beyond what the engine accepts) turns the master check to ``CHECK: n of N checks fail``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from xlsxwriter.worksheet import Worksheet

from ....model.assumptions import SHARE_TOLERANCE
from ...layout import SheetLayout
from .. import formulas
from ..book import Book, Placed, cell, here, span

NEEDS = ("inputs", "forecast", "scenarios", "breakdown", "drivers", "sources", "matrix")

WIDTHS = {0: 52, 1: 13, 2: 18, 3: 8, 4: 16, 5: 44}
TOLERANCE = 1e-9  # relative to the total: what the LibreOffice and Gnumeric tests hold the formulas to
GROWTH = (-0.5, 1.0)  # what the assumption set accepts for a growth rate
RESULT_FORMAT = '[=1]"pass";[=0]"FAIL";General'
SHARE_LIMIT = f"100% ± {SHARE_TOLERANCE:g}"
PERCENT = "0.0000%"


class Check(NamedTuple):
    """One row: what is checked, the value (a formula and its stored result), the limit shown, the result
    formula given the value's cell, whether it passes now, the sheet and what to do if it fails."""

    text: str
    value: formulas.Formula
    limit: str
    result: Callable[[str], formulas.Formula]
    sheet: str
    remedy: str
    number_format: str = "0.0E+0"


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """Tolerances, the master check, then every check."""
    book.columns(ws, WIDTHS)
    row = book.title(ws, sheet, scenario=True)
    master_row = row
    row += 2
    checks = _checks(book)
    top = row
    book.pages[ws.name].header_row = top  # the table's header row repeats on every printed page
    row += 1
    first = row
    result_fmt = book.fmt(num_format=RESULT_FORMAT, bold=True, align="center")
    passed = 0
    for check in checks:
        book.paragraph(ws, row, 0, check.text)
        book.formula(ws, row, 1, check.value, book.fmt(num_format=check.number_format))
        ws.write_string(row, 2, check.limit)
        result = check.result(here(row, 1))
        book.formula(ws, row, 3, result, result_fmt)
        passed += int(result.value)
        ws.write_string(row, 4, check.sheet)
        book.paragraph(ws, row, 5, check.remedy)
        row += 1
    last = row - 1
    headers = ("Check", "Value", "Limit", "Result", "Where", "If it fails")
    book.table(ws, top, 0, headers, len(checks), "Checks")
    results = span(ws.name, first, 3, last, 3)
    book.define("CheckResults", results)
    ws.conditional_format(
        first,
        3,
        last,
        3,
        {
            "type": "cell",
            "criteria": "==",
            "value": 0,
            "format": book.fmt(bg_color="#F4CCCC", font_color="#9C0006"),
        },
    )
    ws.write_string(master_row, 0, "Master check", book.fmt(bold=True, font_size=12))
    master = formulas.master_check("CheckResults", passed, len(checks))
    book.formula(ws, master_row, 1, master, book.fmt(bold=True, font_size=12))
    book.cells.put(("master check",), cell(ws.name, master_row, 1), master.value)
    book.define("MasterCheck", cell(ws.name, master_row, 1))
    ws.freeze_panes(top + 1, 0)
    _tolerances(book, ws, row + 1)


def _tolerances(book: Book, ws: Worksheet, row: int) -> int:
    """The limits the checks use, as named cells."""
    top = row  # the heading stays with its rows
    ws.write_string(row, 0, "Limits the checks use", book.heading_fmt())
    row += 1
    for name, text, value, numfmt in (
        (
            "CheckTolerance",
            "Tolerance relative to the total (formulas against the engine)",
            TOLERANCE,
            "0E+0",
        ),
        (
            "ShareTolerance",
            "Tolerance on shares adding to 100 % (as the assumption set's)",
            SHARE_TOLERANCE,
            "0E+0",
        ),
        ("GrowthLow", "Lowest growth rate the engine accepts", GROWTH[0], "0%"),
        ("GrowthHigh", "Highest growth rate the engine accepts", GROWTH[1], "0%"),
    ):
        ws.write_string(row, 0, text)
        ws.write_number(row, 1, value, book.fmt(num_format=numfmt))
        book.define(name, cell(ws.name, row, 1))
        row += 1
    book.keep(ws, top, row - 1)
    return row + 1


def _checks(book: Book) -> list[Check]:
    """Every check of this workbook, in the order a reader fixes things: inputs first, then outputs."""
    return [*_input_checks(book), *_output_checks(book)]


def _input_checks(book: Book) -> list[Check]:
    """The scenario, the shares, the joint tables and the growth rates typed on Inputs."""
    m, c = book.market, book.context
    a = m.assumptions
    sheet_of = {s.kind: s.name for s in book.layout}
    checks: list[Check] = [
        Check(
            "The scenario chosen on Inputs is one of the workbook's scenarios",
            formulas.Formula("=Scenario", c.scenario),
            "listed on Scenarios",
            partial(formulas.check_listed, names="ScenarioNames", passed=True),
            sheet_of["inputs"],
            "pick a scenario from the list on Inputs",
            "@",
        )
    ]
    inputs = sheet_of["inputs"]
    for key in a.dimensions:
        label = key.replace("_", " ")
        used_total = book.cells.get(("shares total", key, 4))
        checks.append(
            _adds_to_one(
                f"Shares by {label} in the assumption set add to 100 %",
                book.cells.get(("shares total", key, 2)),
                inputs,
                f"correct the 'Share in set' column of the {label} split",
            )
        )
        checks.append(
            Check(
                f"Shares by {label} used (after overrides) add to 100 % and none is negative",
                formulas.Formula(f"={used_total.ref}", used_total.value),
                SHARE_LIMIT,
                partial(
                    formulas.check_shares_used,
                    dimension=key,
                    passed=abs(used_total.value - 1) <= SHARE_TOLERANCE,
                ),
                inputs,
                "overrides of one dimension must add to less than 100 % (or exactly 100 % if every member has one)",
                PERCENT,
            )
        )
    for seg_dim, rows in a.joint.items():
        for region in rows:
            checks.append(
                _adds_to_one(
                    f"Joint table region/{seg_dim}: the mix within {region} adds to 100 %",
                    book.cells.get(("joint total", seg_dim, region)),
                    inputs,
                    f"correct the row of {region} in the joint table",
                )
            )
    for name in ("ForecastGrowth", "BackcastGrowth", "ExtrapolationGrowth", "LongRunGrowth"):
        rate = book.cells.get(("rate", name))
        checks.append(
            Check(
                f"{name} is a growth rate the engine accepts",
                formulas.Formula(f"={name}", rate.value),
                f"{GROWTH[0]:.0%} to {GROWTH[1]:.0%}",
                partial(
                    formulas.check_between,
                    low="GrowthLow",
                    high="GrowthHigh",
                    passed=not isinstance(rate.value, float) or GROWTH[0] <= rate.value <= GROWTH[1],
                ),
                sheet_of["inputs"],
                "type a rate from -50 % to 100 %",
                "0.000%",
            )
        )
    return checks


def _output_checks(book: Book) -> list[Check]:
    """The bridge, members against the total, the region x segment tables, the calibration."""
    m, c = book.market, book.context
    a = m.assumptions
    sheet_of = {s.kind: s.name for s in book.layout}
    checks: list[Check] = []
    bridge = book.cells.get(("bridge growth",))
    path = book.cells.get(("path growth",))
    checks.append(
        Check(
            "The growth bridge multiplies back to the growth of the path the total follows",
            formulas.Formula(f"={bridge.ref}-{path.ref}", bridge.value - path.value),
            f"0 ± {TOLERANCE:g}",
            partial(
                formulas.check_near,
                target="0",
                tolerance="CheckTolerance",
                passed=abs(bridge.value - path.value) <= TOLERANCE,
            ),
            sheet_of["drivers"],
            "a driver or scenario growth on Inputs is not a number",
        )
    )
    largest_total = book.in_units(max(m.forecast(y, scenario=c.scenario) for y in book.years))
    for key in (d for s in book.layout if s.kind == "breakdown" for d in s.spec.get("dimensions", ())):
        dim = m.dimension(str(key))
        gaps = book.cells.get(("members gap", dim))
        largest = max(abs(v) for v in gaps.value.values())
        checks.append(
            Check(
                f"Members by {dim.replace('_', ' ')} add to the Forecast total in every year (largest difference)",
                formulas.largest_gap(book.row_span(("members gap", dim)), largest),
                f"0 ± {TOLERANCE:g} × total",
                partial(
                    formulas.check_near,
                    target="0",
                    tolerance="CheckTolerance*MAX(ForecastTotals)",
                    passed=largest <= TOLERANCE * largest_total,
                ),
                next(
                    s.name
                    for s in book.layout
                    if s.kind == "breakdown" and key in s.spec.get("dimensions", ())
                ),
                "the shares used on Inputs do not add to 100 %",
            )
        )
    for dim in (
        m.dimension(str(d)) for s in book.layout if s.kind == "matrix" for d in s.spec.get("dimensions", ())
    ):
        for part, text in (
            ("rows", "each region's row adds to the region's value"),
            ("total", "the table adds to the total"),
        ):
            gap = book.cells.get(("matrix gap", dim, part))
            checks.append(
                Check(
                    f"Regions by {dim.replace('_', ' ')}: {text}",
                    formulas.Formula(f"={gap.ref}", gap.value),
                    f"0 ± {TOLERANCE:g} × total",
                    partial(
                        formulas.check_near,
                        target="0",
                        tolerance="CheckTolerance*MAX(ForecastTotals)",
                        passed=abs(gap.value) <= TOLERANCE * largest_total,
                    ),
                    sheet_of["matrix"],
                    "a joint table row or the shares used on Inputs do not add to 100 %",
                )
            )
    for key, anchor in a.anchors.items():
        residual = book.cells.get(("calibration residual", key))
        interval = book.cells.ref(("interval", key))
        checks.append(
            Check(
                f"The calibrated path reproduces the published {anchor.label}",
                formulas.Formula(f"={residual.ref}", residual.value),
                f"0 ± {anchor.half_width:g}",
                partial(
                    formulas.check_near,
                    target="0",
                    tolerance=f"{interval}*(1+CheckTolerance)",
                    passed=abs(residual.value) <= anchor.half_width * (1 + TOLERANCE),
                ),
                sheet_of["sources"],
                "rebuild the workbook with imgout: the calibration is not a formula",
            )
        )
    return checks


def _adds_to_one(text: str, total: Placed, sheet: str, remedy: str) -> Check:
    """A check that shares (a registered total) add to 100 % within the share tolerance."""
    passed = abs(total.value - 1) <= SHARE_TOLERANCE
    near = partial(formulas.check_near, target="1", tolerance="ShareTolerance", passed=passed)
    return Check(
        text, formulas.Formula(f"={total.ref}", total.value), SHARE_LIMIT, near, sheet, remedy, PERCENT
    )
