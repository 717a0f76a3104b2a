"""Inputs: every assumption with its value, kind and source; the scenario selector; the master check.

Input cells (blue on light yellow, the only unlocked cells) are only inputs, one per parameter: where the
set gives a value or the model works one out (a growth rate, a member's share, a driver's growth), that
value sits read-only in one column, the override in the next (blank until a number is typed) and the
value used in a third, a formula. Typing an override therefore never destroys a formula, clearing it
brings the set's value back, and every override is seen (the Overrides sheet compares each input with
the set). Each input is registered with the engine's rule for it (:meth:`Book.typed`), from which its
data validation and its check on the Checks sheet are made.

Every other sheet's formulas read this one, through defined names (``BaseSize``, ``ForecastGrowth``,
``Share_region`` ...) and registered cells (shares, driver growths, scenario driver growths, anchors,
joint tables). The scenario selector's list is the Scenarios sheet's ``ScenarioNames`` (a validation
list, not a formula: every layout has a Scenarios sheet, see
:data:`~xl_addin.report.workbook.sheets.READ_BY_OTHERS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from xlsxwriter.worksheet import Worksheet

from ....common.formats import UNIT_LABELS, excel_money_format, excel_percent_format, in_units
from ....model.assumptions import (
    FADE_YEARS,
    GROWTH,
    LONG_RUN_GROWTH,
    RESERVED_SCENARIO,
    SHARE,
    SHARE_OVERRIDE,
    Bound,
)
from ...layout import SheetLayout
from .. import formulas
from ..book import Book, cell, here, span

NEEDS: tuple[str, ...] = ()
SHOWS = ("checks",)

WIDTHS = {0: 26, 1: 26, 2: 11, 3: 11, 4: 11, 5: 10, 6: 17, 7: 26, 8: 10}


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Inputs sheet: checks, selector and years, published figures, growth, splits, drivers, scenarios."""
    book.columns(ws, WIDTHS)
    row = book.title(ws, sheet)
    row = _master_check(book, ws, row)
    row = _selector_and_years(book, ws, row)
    row = _published(book, ws, row)
    row = _growth_rates(book, ws, row)
    for key in book.market.assumptions.dimensions:
        row = _split(book, ws, row, key)
    for seg_dim in book.market.assumptions.joint:
        row = _joint(book, ws, row, seg_dim)
    row = _drivers(book, ws, row)
    row = _scenario_drivers(book, ws, row)
    _monte_carlo(book, ws, row)
    ws.freeze_panes(1, 0)


def _source_text(book: Book, key: str) -> str:
    """A source as a short citation: publisher and date (the Sources sheet has the rest)."""
    s = book.market.assumptions.sources.get(key)
    return f"{s.publisher} ({s.date})" if s is not None else key


def _note(text: str) -> str:
    return " ".join(text.split())


def _master_check(book: Book, ws: Worksheet, row: int) -> int:
    """The workbook's master check, next to the inputs it guards (written once the Checks sheet exists)."""
    ws.write_string(row, 0, "Checks", book.fmt(bold=True))

    def show() -> None:
        if book.cells.has(("master check",)):  # a layout without a Checks sheet shows none
            book.link(ws, row, 1, ("master check",), book.fmt(bold=True))

    book.later(show)
    ws.write_string(row, 2, "all checks of the Checks sheet; fix any that fails before using the numbers")
    return row + 2


def _selector_and_years(book: Book, ws: Worksheet, row: int) -> int:
    """The scenario selector, the unit factor and the model's fixed years, each a defined name."""
    m = book.market
    label = book.fmt(bold=True)
    top = row
    _selector(
        book,
        ws,
        row,
        "Scenario",
        book.scenario,
        "ScenarioNames",
        "Pick a scenario: every output sheet follows it and names it in its title.",
        "Unknown scenario: pick one of the scenarios listed on the Scenarios sheet.",
        "the scenario every output sheet shows (and names in its title)",
    )
    row += 1
    book.cells.put(("basis",), cell(ws.name, row, 1), m.basis)
    _selector(
        book,
        ws,
        row,
        "Basis",
        m.basis,
        "BasisIds",
        f"What the total follows: {m.default_basis} (the model's own path), consensus or a publisher.",
        "Unknown basis: pick one of the ids listed on the Market estimates sheet.",
        f"what the total follows: {m.default_basis} (the model's own path), consensus, or a publisher's id",
    )
    row += 1
    ws.write_string(row, 0, "DefaultBasis", label)
    ws.write_string(row, 1, m.default_basis)
    book.define("DefaultBasis", cell(ws.name, row, 1))
    ws.write_string(row, 2, "the market's own publication: the model's calibrated path")
    row += 1
    ws.write_string(row, 0, f"Units per {UNIT_LABELS['bn']}", label)
    ws.write_number(row, 1, in_units(1.0, book.units), book.fmt(num_format="#,##0"))
    ws.write_string(row, 2, f"values are shown in {book.unit_label}")
    book.define("UnitFactor", cell(ws.name, row, 1))
    row += 1
    for key, year, text in (
        ("BaseYear", m.base_year, "first published year (base of the shares)"),
        ("NextYear", m.next_year, "second published year (start of the forecast growth)"),
        ("HorizonYear", m.horizon_year, "last published year"),
    ):
        ws.write_string(row, 0, key, label)
        ws.write_number(row, 1, year, book.fmt(num_format="0"))
        ws.write_string(row, 2, text)
        book.define(key, cell(ws.name, row, 1))
        row += 1
    book.keep(ws, top, row - 1)
    return row + 1


# ------------------------------------------------------------------------------------------ market and growth


def _published(book: Book, ws: Worksheet, row: int) -> int:
    """The published figures (calibration targets) beside the calibrated path's value of each."""
    m, cal = book.market, book.market.calibration
    ws.write_string(row, 0, "Published figures and the calibrated path", book.heading_fmt())
    row += 1
    top = row
    row += 1
    money_bn = excel_money_format("bn")
    names = {
        "base_size": ("BaseSize", cal.base_size),
        "next_size": ("NextSize", cal.next_size),
        "forecast_cagr": ("CalibratedGrowth", cal.forecast_cagr),
    }
    anchors = m.assumptions.anchors.values()
    for anchor in anchors:
        is_money = anchor.units == "USD bn"
        published_fmt = book.fmt(
            num_format=money_bn if is_money else excel_percent_format(anchor.decimals - 2)
        )
        exact = book.fmt(num_format="0.000000" if is_money else "0.0000%")
        ws.write_string(row, 0, f"anchors.{anchor.key}")
        book.paragraph(ws, row, 1, f"published {anchor.label}")
        ws.write_number(row, 2, anchor.value, published_fmt)
        book.cells.put(("anchor", anchor.key), cell(ws.name, row, 2), anchor.value)
        if anchor.key in names:  # a number the calibration found: stored, the formulas start from it
            name, value = names[anchor.key]
            ws.write_number(row, 3, value, exact)
            book.define(name, cell(ws.name, row, 3))
        else:  # a figure the calibrated path implies: a formula on the stored ones
            modelled = formulas.calibrated(m, anchor.key)
            book.formula(ws, row, 3, modelled, exact)
            if anchor.key == "historic_growth":
                book.define("HistoricGrowth", cell(ws.name, row, 3))
        book.cells.put(
            ("calibrated", anchor.key), cell(ws.name, row, 3), formulas.calibrated(m, anchor.key).value
        )
        ws.write_number(row, 4, anchor.half_width, exact)
        book.cells.put(("interval", anchor.key), cell(ws.name, row, 4), anchor.half_width)
        ws.write_string(row, 5, anchor.kind)
        book.paragraph(ws, row, 6, _source_text(book, anchor.source))
        book.paragraph(
            ws, row, 7, f"published to {anchor.decimals} decimals; the calibrated path stays inside"
        )
        row += 1
    headers = ("Key", "Figure", "Published", "Calibrated", "Half interval", "Kind", "Source", "Note")
    book.table(ws, top, 0, headers, len(anchors), "Inputs_published")
    return row + 1


class Rate(NamedTuple):
    """One row of the growth-rates table: what it is, its default (a value from the set, a formula on
    another name, or blank), the override typed (if the pack was made with one) and the value used."""

    key: str
    name: str
    text: str
    default: float | tuple[str, float] | None
    override: float | None
    used: float | None
    source: str
    note: str
    number_format: str = "0.000%"
    override_key: str = ""
    path: str = ""
    bound: Bound = GROWTH


def _growth_rates(book: Book, ws: Worksheet, row: int) -> int:
    """Forecast, back-cast and extrapolation growth, the long-run rate and the fade: a default (calculated
    or from the set), an override column, and the value used (each a defined name)."""
    ws.write_string(row, 0, "Growth rates (type in Override; clear it to go back)", book.heading_fmt())
    row += 1
    top = row
    row += 1
    rates = _rates(book)
    for r in rates:
        ws.write_string(row, 0, r.key)
        book.paragraph(ws, row, 1, r.text)
        if isinstance(r.default, tuple):
            book.formula(ws, row, 2, formulas.follows(*r.default), book.follow_fmt(r.number_format))
        elif r.default is None:
            ws.write_blank(row, 2, None, book.follow_fmt(r.number_format))
        else:
            ws.write_number(row, 2, r.default, book.follow_fmt(r.number_format))
        if r.override is None:
            ws.write_blank(row, 3, None, book.input_fmt(r.number_format))
        else:
            ws.write_number(row, 3, r.override, book.input_fmt(r.number_format))
        default, override = here(row, 2), here(row, 3)
        if r.used is None or r.name == "ExtrapolationGrowth":
            used = formulas.chosen_or_blank(default, override, r.used)
        else:
            used = formulas.chosen(default, override, r.used)
        book.formula(ws, row, 4, used, book.fmt(num_format=r.number_format))
        book.define(r.name, cell(ws.name, row, 4))
        book.define(f"{r.name}Override", cell(ws.name, row, 3))
        book.define(f"{r.name}Default", cell(ws.name, row, 2))
        book.cells.put(("rate", r.name), cell(ws.name, row, 4), used.value)
        ws.write_string(
            row, 5, "derived" if isinstance(r.default, tuple) and r.override is None else "assumed"
        )
        book.paragraph(ws, row, 6, r.source)
        book.paragraph(ws, row, 7, _note(r.note))
        in_set = r.default[1] if isinstance(r.default, tuple) else r.default
        book.typed(
            ws,
            row,
            3,
            r.bound,
            r.override_key,
            path=r.path,
            in_set=in_set,
            used=cell(ws.name, row, 4),
            value=r.override,
            in_force=r.used,
        )
        row += 1
    headers = ("Key", "Assumption", "In set", "Override", "Used", "Kind", "Source", "Note")
    book.table(ws, top, 0, headers, len(rates), "Inputs_growth")
    return row + 1


def _rates(book: Book) -> list[Rate]:
    """The rows of the growth-rates table, from the set and the per-call overrides it was made with."""
    m = book.market
    a = m.assumptions
    original = a.original or a  # the set as read: per-call overrides go in the Override column
    typed = {o.key: o.in_force for o in a.overridden}
    extension = a.raw.get("extension", {})

    def text_of(key: str) -> tuple[str, str]:
        item = extension.get(key, {})
        return _source_text(book, str(item.get("source", ""))), str(item.get("note", ""))

    return [
        Rate(
            "forecast_growth",
            "ForecastGrowth",
            f"forecast growth per year {book.context.period} (base)",
            ("CalibratedGrowth", m.calibrated_growth),
            a.forecast_growth_override,
            m.forecast_growth,
            _source_text(book, a.anchors["forecast_cagr"].source),
            "the calibrated CAGR unless overridden",
            override_key="cagr",
            path="overrides.forecast_growth",
        ),
        Rate(
            "extension.backcast_growth",
            "BackcastGrowth",
            "back-cast growth per year (before the base year)",
            original.backcast_growth
            if original.backcast_growth is not None
            else ("HistoricGrowth", m.calibration.historic_growth),
            _number(typed.get("backcast_growth")),
            m.backcast_growth,
            *text_of("backcast_growth"),
            override_key="backcast_growth",
            path="extension.backcast_growth.value",
        ),
        Rate(
            "extension.extrapolation_growth",
            "ExtrapolationGrowth",
            "growth held after the horizon (blank: the long-run fade)",
            original.extrapolation_growth,
            _number(typed.get("extrapolation_growth")),
            a.extrapolation_growth,
            *text_of("extrapolation_growth"),
            override_key="extrapolation_growth",
            path="extension.extrapolation_growth.value",
        ),
        Rate(
            "extension.long_run_growth",
            "LongRunGrowth",
            "long-run growth every path fades to",
            original.long_run_growth,
            _number(typed.get("long_run_growth")),
            a.long_run_growth,
            *text_of("long_run_growth"),
            override_key="long_run_growth",
            path="extension.long_run_growth.value",
            bound=LONG_RUN_GROWTH,
        ),
        Rate(
            "extension.fade_years",
            "FadeYears",
            "years the growth takes to fade to the long-run rate",
            float(original.fade_years),
            _number(typed.get("fade_years")),
            float(a.fade_years),
            *text_of("fade_years"),
            "0",
            override_key="fade_years",
            path="extension.fade_years.value",
            bound=FADE_YEARS,
        ),
    ]


def _number(value: float | str | None) -> float | None:
    """A recorded override's value in force as a number (None: none)."""
    return float(value) if isinstance(value, int | float) else None


# ------------------------------------------------------------------------------------------ splits


def _split(book: Book, ws: Worksheet, row: int, key: str) -> int:
    """One dimension's members: base share in the set, override, share used, and relative growth."""
    m = book.market
    dim = m.assumptions.dimensions[key]
    label = key.replace("_", " ")
    ws.write_string(row, 0, f"Split by {label}", book.heading_fmt())
    row += 1
    top = row
    row += 1
    first = row
    share_fmt = book.input_fmt(book.input_pct)
    in_set = book.follow_fmt(book.input_pct)
    used = {mb.name: m.share(m.base_year, f"{key}:{mb.name}") for mb in dim.members}
    original = (m.assumptions.original or m.assumptions).dimensions[key]  # the set as read
    typed = {o.key: o.in_force for o in m.assumptions.overridden}
    for member, as_read in zip(dim.members, original.members, strict=True):
        ws.write_string(row, 0, member.name)
        book.paragraph(ws, row, 1, f"{member.kind}: {_source_text(book, member.source)}")
        ws.write_number(row, 2, as_read.share, in_set)
        override_value = typed.get(f"share.{member.name}")
        if isinstance(override_value, float):
            ws.write_number(row, 3, override_value, share_fmt)
        else:
            ws.write_blank(row, 3, None, share_fmt)
        default, override = here(row, 2), here(row, 3)
        book.formula(
            ws,
            row,
            4,
            formulas.share_used(key, default, override, used[member.name]),
            book.fmt(num_format=book.input_pct),
        )
        book.typed(
            ws,
            row,
            3,
            SHARE_OVERRIDE,
            f"share.{member.name}",
            in_set=as_read.share,
            used=cell(ws.name, row, 4),
            value=override_value if isinstance(override_value, float) else None,
            in_force=used[member.name],
        )
        book.formula(
            ws,
            row,
            5,
            formulas.share_to_rescale(
                default, override, 0.0 if isinstance(override_value, float) else as_read.share
            ),
            book.fmt(num_format=book.input_pct),
        )
        ws.write_number(row, 6, member.growth, share_fmt)
        book.typed(
            ws,
            row,
            6,
            GROWTH,
            f"growth.{member.name}",
            path=f"dimensions.{key}.members.{member.name}.growth",
            optional=False,
            in_set=as_read.growth,
            value=member.growth,
        )
        book.paragraph(ws, row, 7, _note(member.note))
        ws.write_number(row, 8, as_read.growth, book.fmt(num_format=book.input_pct, font_color="#7F7F7F"))
        book.cells.put(("share", key, member.name), cell(ws.name, row, 4), used[member.name])
        book.cells.put(("relative growth", key, member.name), cell(ws.name, row, 6), member.growth)
        row += 1
    last = row - 1
    headers = (
        label.capitalize(),
        "Kind and source",
        f"Share {m.base_year} in set",
        "Override",
        "Share used",
        "Share to rescale",
        "Relative growth",
        "Note",
        "Growth in set",
    )
    book.table(ws, top, 0, headers, len(dim.members), f"Inputs_{key}")
    book.define(f"RelGrowthSet_{key}", span(ws.name, first, 8, last, 8))
    for name, col in (
        ("ShareSet", 2),
        ("ShareOverride", 3),
        ("Share", 4),
        ("ShareToRescale", 5),
        ("RelGrowth", 6),
    ):
        book.define(f"{name}_{key}", span(ws.name, first, col, last, col))
    ws.write_string(row, 0, "Total (must be 100%)", book.fmt(italic=True))
    totals = {
        2: [mb.share for mb in original.members],
        3: [
            v
            for k, v in typed.items()
            if k.startswith("share.") and isinstance(v, float) and k.removeprefix("share.") in dim.names
        ],
        4: list(used.values()),
        5: [mb.share for mb in original.members if f"share.{mb.name}" not in typed],
    }
    for col, values in totals.items():
        total = formulas.range_sum(span(ws.name, first, col, last, col).split("!")[1], values)
        book.formula(ws, row, col, total, book.fmt(italic=True, num_format=book.input_pct, top=1))
        book.cells.put(("shares total", key, col), cell(ws.name, row, col), total.value)
    moved = m.assumptions.moved
    for col, name, text, condition, value in (
        (
            3,
            "SplitShareMoved",
            "A share override typed",
            # The set's shares are those a per-call share override gave (the flag): they stay moved.
            f"OR({int(f'share.{key}' in moved)}=1,"
            f"{formulas.any_typed_differs(f'ShareOverride_{key}', f'ShareSet_{key}')})",
            f"share.{key}" in moved,
        ),
        (
            6,
            "SplitGrowthMoved",
            "A relative growth changed",
            f"OR({int(f'growth.{key}' in moved)}=1,SUMPRODUCT((RelGrowth_{key}<>RelGrowthSet_{key})*1)>0)",
            f"growth.{key}" in moved,
        ),
    ):
        row += 1
        ws.write_string(row, 0, f"{text} (1: the split's statuses say override)", book.fmt(italic=True))
        book.formula(
            ws, row, col, formulas.moved_flag(condition, value), book.fmt(num_format="0", italic=True)
        )
        book.define(f"{name}_{key}", cell(ws.name, row, col))
    book.keep(ws, top - 1, row)
    return row + 2


def _joint(book: Book, ws: Worksheet, row: int, seg_dim: str) -> int:
    """A joint table: the base-year mix of a segment dimension within each region it gives a row for."""
    m = book.market
    a = m.assumptions
    rows = a.joint[seg_dim]
    members = a.dimensions[seg_dim].names
    spec = a.raw.get("joint", {}).get(f"region/{seg_dim}", {})
    label = seg_dim.replace("_", " ")
    ws.write_string(
        row, 0, f"Mix of {label} within regions (joint table region/{seg_dim})", book.heading_fmt()
    )
    row += 1
    kind, source = str(spec.get("kind", "assumed")), _source_text(book, str(spec.get("source", "")))
    ws.write_string(row, 0, f"{kind}: {source}; regions not listed use the {label} split of the whole market")
    row += 1
    top = row
    row += 1
    share_fmt = book.input_fmt(book.input_pct)
    cols = {name: 2 + j for j, name in enumerate(members)}
    total_col = 2 + len(members)
    widths = book.pages[ws.name].widths
    book.columns(ws, {c: 11.0 for c in range(2, total_col + 1) if c not in widths})
    for region, shares in rows.items():
        ws.write_string(row, 0, region)
        ws.write_string(row, 1, "joint table")
        for name, col in cols.items():
            ws.write_number(row, col, shares[name], share_fmt)
            book.cells.put(("joint", seg_dim, region, name), cell(ws.name, row, col), shares[name])
            path = f"joint.region/{seg_dim}.rows.{region}.{name}"
            book.typed(ws, row, col, SHARE, path, optional=False, in_set=shares[name], value=shares[name])
        total = formulas.range_sum(f"{here(row, 2)}:{here(row, total_col - 1)}", shares.values())
        book.formula(ws, row, total_col, total, book.fmt(num_format=book.input_pct))
        book.cells.put(("joint total", seg_dim, region), cell(ws.name, row, total_col), total.value)
        row += 1
    headers = ("Region", "Basis", *members, "Total (must be 100%)")
    book.table(ws, top, 0, headers, len(rows), f"Inputs_joint_{seg_dim}")
    return row + 1


# ------------------------------------------------------------------------------------------ drivers


def _drivers(book: Book, ws: Worksheet, row: int) -> int:
    """Drivers: the growth in the set (the residual one a formula), a what-if column, the growth used,
    low and high, evidence. The residual stays at its calibrated value under a what-if, as the engine's
    does, so a what-if moves the forecast in its own direction."""
    m = book.market
    a = m.assumptions
    drivers = a.drivers
    ws.write_string(row, 0, "Growth drivers (base scenario; type a what-if in column D)", book.heading_fmt())
    row += 1
    top = row
    row += 1
    rows: dict[str, int] = {}
    rate = book.input_fmt(book.input_pct)
    for d in drivers.values():
        rows[d.key] = row
        ws.write_string(row, 0, d.key)
        book.paragraph(ws, row, 1, f"{d.label} ({d.factor})")
        ws.write_number(row, 5, d.low, book.follow_fmt(book.input_pct))
        ws.write_number(row, 6, d.high, book.follow_fmt(book.input_pct))
        book.paragraph(ws, row, 7, _note(f"{d.kind}; {_source_text(book, d.source)}: {d.evidence or d.note}"))
        book.cells.put(
            ("driver", d.key, "set"),
            cell(ws.name, row, 2),
            d.growth if d.growth is not None else m.residual_growth,
        )
        book.cells.put(("driver", d.key, "growth"), cell(ws.name, row, 4), m.base_driver_growth[d.key])
        book.cells.put(("driver", d.key, "low"), cell(ws.name, row, 5), d.low)
        book.cells.put(("driver", d.key, "high"), cell(ws.name, row, 6), d.high)
        row += 1
    # The growths go in once every driver has its cell: the residual's formula reads the others.
    pct = book.fmt(num_format=book.input_pct)
    for d in drivers.values():
        r = rows[d.key]
        if d.growth is not None:
            ws.write_number(r, 2, d.growth, book.follow_fmt(book.input_pct))
            whatif = a.driver_overrides.get(d.key)
            if whatif is None:
                ws.write_blank(r, 3, None, rate)
            else:
                ws.write_number(r, 3, whatif, rate)
            used = formulas.chosen(here(r, 2), here(r, 3), m.base_driver_growth[d.key])
            book.formula(ws, r, 4, used, pct)
            book.typed(
                ws,
                r,
                3,
                GROWTH,
                f"driver.{d.key}",
                path=f"overrides.drivers.{d.key}",
                in_set=d.growth,
                used=cell(ws.name, r, 4),
                value=whatif,
                in_force=m.base_driver_growth[d.key],
            )
        else:
            others = [
                book.cells.ref(("driver", k, "set")) for k, o in drivers.items() if o.growth is not None
            ]
            residual = formulas.residual_growth(m, d.key, others)
            book.formula(ws, r, 2, residual, book.follow_fmt(book.input_pct))
            book.formula(ws, r, 4, formulas.follows(here(r, 2), m.residual_growth), pct)
    headers = (
        "Key",
        "Driver (factor)",
        "Growth in set",
        "What-if",
        "Used",
        "Low (P10)",
        "High (P90)",
        "Evidence",
    )
    book.table(ws, top, 0, headers, len(drivers), "Inputs_drivers")
    book.define("DriverWhatIfs", span(ws.name, top + 1, 3, row - 1, 3))
    book.define("DriverGrowthsSet", span(ws.name, top + 1, 2, row - 1, 2))
    return row + 1


def _scenario_drivers(book: Book, ws: Worksheet, row: int) -> int:
    """Scenario driver growths: what each scenario sets (inputs, blank where it keeps the base growth),
    then the growth each scenario uses (formulas), in the order of ``ScenarioNames``; a driver what-if
    moves a scenario's own value of that driver by as much as it moves base's."""
    m = book.market
    a = m.assumptions
    names = m.scenario_names
    custom = [s for s in names if s != RESERVED_SCENARIO]
    rate = book.input_fmt(book.input_pct)
    ws.write_string(
        row,
        0,
        f"Driver growths each scenario sets ({book.context.period}; blank: the base growth)",
        book.heading_fmt(),
    )
    row += 1
    top = row
    row += 1
    typed: dict[tuple[str, str], str] = {}
    for d in a.drivers.values():
        ws.write_string(row, 0, d.key)
        ws.write_string(row, 1, d.label)
        for j, s in enumerate(custom, start=2):
            spec = a.scenarios[s]
            if d.key in spec.drivers:
                ws.write_number(row, j, spec.drivers[d.key], rate)
            else:
                ws.write_blank(
                    row, j, None, rate if d.growth is not None else book.follow_fmt(book.input_pct)
                )
            typed[(s, d.key)] = here(row, j)
            if d.growth is not None:  # the residual is not a scenario's to set
                path = f"scenarios.{s}.drivers.{d.key}"
                book.typed(
                    ws, row, j, GROWTH, path, in_set=spec.drivers.get(d.key), value=spec.drivers.get(d.key)
                )
        row += 1
    book.table(ws, top, 0, ("Key", "Driver", *custom), len(a.drivers), "Inputs_scenario_set")
    row += 1
    ws.write_string(row, 0, "Driver growths each scenario uses", book.heading_fmt())
    row += 1
    top = row
    row += 1
    for d in a.drivers.values():
        ws.write_string(row, 0, d.key)
        ws.write_string(row, 1, d.label)
        base = book.cells.ref(("driver", d.key, "growth"))
        file_growth = book.cells.ref(("driver", d.key, "set"))
        for j, s in enumerate(names, start=2):
            value = m.driver_growths(s)[d.key]
            if s == RESERVED_SCENARIO:
                used = formulas.follows(base, value)
            else:
                used = formulas.scenario_driver(typed[(s, d.key)], base, file_growth, value)
            book.formula(ws, row, j, used, book.fmt(num_format=book.input_pct))
            book.cells.put(("scenario driver", s, d.key), cell(ws.name, row, j), value)
        row += 1
    book.table(ws, top, 0, ("Key", "Driver", *names), len(a.drivers), "Inputs_scenarios")
    return row + 1


def _monte_carlo(book: Book, ws: Worksheet, row: int) -> None:
    """Monte Carlo settings: shown for the record; the stored fan does not recompute from them."""
    u = book.market.assumptions.uncertainty
    ws.write_string(row, 0, "Monte Carlo settings (used by the stored fan)", book.heading_fmt())
    row += 1
    top = row
    row += 1
    settings: Sequence[tuple[str, float, str]] = (
        ("paths", u.paths, "#,##0"),
        ("seed", u.seed, "0"),
        ("annual_volatility", u.annual_volatility, "0.00%"),
    )
    for key, value, numfmt in settings:
        ws.write_string(row, 0, f"uncertainty.{key}")
        ws.write_string(row, 1, f"Monte Carlo {key.replace('_', ' ')}")
        ws.write_number(row, 2, float(value), book.fmt(num_format=numfmt))
        row += 1
    book.table(ws, top, 0, ("Key", "Setting", "Value"), len(settings), "Inputs_monte_carlo")
    book.paragraph(
        ws,
        row,
        1,
        "The Uncertainty sheet's percentiles are stored: rebuild the workbook with imgout to apply a change.",
    )


def _selector(
    book: Book,
    ws: Worksheet,
    row: int,
    name: str,
    value: str,
    choices: str,
    prompt: str,
    refusal: str,
    note: str,
) -> None:
    """A drop-down input named ``name`` (a defined name) whose list is the defined range ``choices``."""
    ws.write_string(row, 0, name, book.fmt(bold=True))
    ws.write_string(row, 1, value, book.input_fmt("@"))
    book.define(name, cell(ws.name, row, 1))
    title, _, message = refusal.partition(": ")
    ws.data_validation(
        row,
        1,
        row,
        1,
        {
            "validate": "list",
            "source": f"={choices}",
            "input_title": name,
            "input_message": prompt,
            "error_title": title,
            "error_message": message[:1].upper() + message[1:],
        },
    )
    ws.write_string(row, 2, note)
