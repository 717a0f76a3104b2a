"""Checks: what must hold for the workbook's numbers to be the engine's, each a live formula, and one
master check that the Cover and the Inputs sheet show.

Each row is a check: the value it looks at, the limit, and a result (1 passes, 0 fails, shown as
``pass`` / ``FAIL``), with the sheet to look at and what to do when it fails. The tolerances and the
engine's limits are cells at the bottom (no number is spelled in a formula). Every input cell has its own
check, generated from the engine's rule for it (:mod:`xl_addin.model.assumptions.rules`, registered by
:meth:`Book.typed`): it names the cell and the key and, when it fails, says by formula what the engine
would say of the value (a pasted value or text such as "10 %", which data validation does not stop, is
caught the same way). A workbook fresh from imgout passes every check; an edit that breaks one turns the
master check to ``CHECK: n of N checks fail``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from xlsxwriter.worksheet import Worksheet

from ....model.assumptions import BOUNDS, SHARE_TOLERANCE
from ...layout import SheetLayout
from .. import formulas
from ..book import Book, InputCell, Placed, cell, here, span

NEEDS = (
    "inputs",
    "forecast",
    "scenarios",
    "breakdown",
    "drivers",
    "sources",
    "matrix",
    "uncertainty",
    "estimates",
)

WIDTHS = {0: 52, 1: 13, 2: 30, 3: 8, 4: 16, 5: 32}
TOLERANCE = 1e-9  # relative to the total: what the LibreOffice and Gnumeric tests hold the formulas to
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
    remedy: str | Callable[..., formulas.Formula]
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
        book.paragraph(ws, row, 2, check.limit)
        result = check.result(here(row, 1))
        book.formula(ws, row, 3, result, result_fmt)
        passed += int(result.value)
        ws.write_string(row, 4, check.sheet)
        if isinstance(check.remedy, str):
            book.paragraph(ws, row, 5, check.remedy)
        else:  # the engine's words for the value, by formula
            says = check.remedy(here(row, 1), here(row, 3), key_ref=here(row, 2))
            book.formula(ws, row, 5, says, book.wrap_fmt())
        row += 1
    last = row - 1
    headers = ("Check", "Value", "Limit or key", "Result", "Where", "If it fails (the engine's words)")
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
        *(
            (
                f"{b.name}{end}",
                f"{word} {b.what.removeprefix('a ')} the engine accepts ({b.allowed})",
                limit,
                "0" if b.whole else "0%",
            )
            for b in BOUNDS
            for end, word, limit in (("Low", "Lowest", b.low), ("High", "Highest", b.high))
        ),
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
    checks.append(
        Check(
            "The basis chosen on Inputs is the market's own path, consensus or a publisher's id",
            formulas.Formula("=Basis", m.basis),
            "listed on Market estimates",
            partial(formulas.check_listed, names="BasisIds", passed=True),
            inputs,
            "pick a basis from the list on Inputs: the engine refuses any other (unknown basis)",
            "@",
        )
    )
    return checks + [_rule_check(typed, inputs) for typed in book.inputs]


def _rule_check(typed: InputCell, sheet: str) -> Check:
    """An input cell's check, from the engine's rule for it: it names the cell and the key, and says, when
    it fails, what the engine would say."""
    bound = typed.bound
    problem = None if typed.value is None else bound.problem(typed.value)
    blank_ok = typed.optional or typed.value is not None
    passed = problem is None and blank_ok
    return Check(
        f"{typed.where}: {bound.allowed}" + (", or blank" if typed.optional else ""),
        formulas.typed_value(typed.ref, typed.value),
        typed.path,
        partial(formulas.check_rule, bound=bound, optional=typed.optional, passed=passed),
        sheet,
        partial(
            formulas.engine_says,
            bound=bound,
            optional=typed.optional,
            value="" if passed else f"{typed.path}: {problem or 'missing'}",
        ),
        "0" if bound.whole else "0.00%",
    )


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
                "the shares used are not 100 %, or an input check above fails (fix it first)",
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
                    "a joint row or the shares used are not 100 %, or an input check fails",
                )
            )
    if book.cells.has(("fan band",)):
        band = book.cells.get(("fan band",))
        low, high, base = band.ref.split("|")
        checks.append(
            Check(
                "The live base stays inside the stored Monte Carlo P10-P90 (years outside)",
                formulas.outside_band(base, low, high, band.value),
                "0",
                partial(formulas.check_near, target="0", tolerance="0", passed=band.value == 0),
                sheet_of["uncertainty"],
                "the band was computed for the set the workbook was made from: rebuild it with imgout"
                " (imgout workbook --set ...) to compute the band for these inputs",
                "0",
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
