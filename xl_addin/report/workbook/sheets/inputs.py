"""Inputs: every assumption with its value, kind and source, styled as an input; the scenario selector.

Every other sheet's formulas read this one, through defined names (``BaseSize``, ``ForecastGrowth``,
``Share_region`` ...) and registered cells (shares, driver growths, scenario driver growths, anchors).
The scenario selector's list is the Scenarios sheet's ``ScenarioNames`` (a validation list, not a
formula: every layout has a Scenarios sheet, see :data:`~xl_addin.report.workbook.sheets.READ_BY_OTHERS`).
"""

from __future__ import annotations

from typing import NamedTuple

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ....common.formats import UNIT_LABELS, excel_money_format, excel_percent_format, in_units
from ...layout import SheetLayout
from .. import formulas
from ..book import Book, cell, span

NEEDS: tuple[str, ...] = ()

SCALAR_HEADERS = ("Key", "Assumption", "Value", "Kind", "Source", "Note")


class Scalar(NamedTuple):
    """One row of the market and growth table: an assumption, its defined name and how it is shown."""

    key: str
    text: str
    value: float
    kind: str
    source: str
    note: str
    name: str
    follows: str | None  # the defined name it follows until a number is typed, if any
    fmt: Format


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Inputs sheet: selector and years, market and growth, splits, drivers, scenario drivers."""
    row = book.title(ws, sheet)
    row = _selector_and_years(book, ws, row)
    row = _market_and_growth(book, ws, row)
    for key in book.market.assumptions.dimensions:
        row = _split(book, ws, row, key)
    row = _drivers(book, ws, row)
    _scenario_drivers(book, ws, row)
    ws.freeze_panes(3, 0)
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 14)
    ws.set_column(3, 4, 16)
    ws.set_column(5, 5, 60)
    ws.set_column(6, 8, 18)


def _source_text(book: Book, key: str) -> str:
    """A source as a short citation: publisher and date (the Sources sheet has the rest)."""
    s = book.market.assumptions.sources.get(key)
    return f"{s.publisher} ({s.date})" if s is not None else key


def _selector_and_years(book: Book, ws: Worksheet, row: int) -> int:
    """The scenario selector, the unit factor and the model's fixed years, each a defined name."""
    m = book.market
    label = book.fmt(bold=True)
    ws.write_string(row, 0, "Scenario", label)
    ws.write_string(row, 1, book.scenario, book.input_fmt("@"))
    book.define("Scenario", cell(ws.name, row, 1))
    ws.data_validation(
        row,
        1,
        row,
        1,
        {
            "validate": "list",
            "source": "=ScenarioNames",
            "input_title": "Scenario",
            "input_message": "Pick a scenario: Forecast, By region, By segment and Drivers follow it.",
            "error_title": "Unknown scenario",
            "error_message": "Pick one of the scenarios listed on the Scenarios sheet.",
        },
    )
    ws.write_string(
        row, 2, "selects the scenario the Forecast, By region, By segment and Drivers sheets show"
    )
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
    return row + 1


# ------------------------------------------------------------------------------------------ market and growth


def _market_and_growth(book: Book, ws: Worksheet, row: int) -> int:
    """Published anchors, the calibrated path, growth rates and Monte Carlo settings: one table."""
    ws.write_string(row, 0, "Market and growth", book.heading_fmt())
    row += 1
    top = row
    row += 1
    scalars = [
        *_anchors(book),
        *_calibrated(book),
        _forecast_growth(book),
        *_extension(book),
        *_monte_carlo(book),
    ]
    for s in scalars:
        ws.write_string(row, 0, s.key)
        ws.write_string(row, 1, s.text)
        if s.follows is not None:
            book.formula(ws, row, 2, formulas.follows(s.follows, s.value), s.fmt)
        else:
            ws.write_number(row, 2, s.value, s.fmt)
        ws.write_string(row, 3, s.kind)
        ws.write_string(row, 4, s.source)
        ws.write_string(row, 5, s.note)
        book.define(s.name, cell(ws.name, row, 2))
        if s.name.startswith("Anchor_"):
            book.cells.put(("anchor", s.name.removeprefix("Anchor_")), cell(ws.name, row, 2), s.value)
        row += 1
    book.table(ws, top, 0, SCALAR_HEADERS, len(scalars), "Inputs_market")
    return row + 1


def _anchors(book: Book) -> list[Scalar]:
    """The published figures: calibration targets, at their published precision."""
    money_bn = excel_money_format("bn")
    return [
        Scalar(
            f"anchors.{anchor.key}",
            f"published {anchor.label}",
            anchor.value,
            anchor.kind,
            _source_text(book, anchor.source),
            f"published to {anchor.decimals} decimals: calibration target",
            f"Anchor_{anchor.key}",
            None,
            book.fmt(
                num_format=money_bn if anchor.units == "USD bn" else excel_percent_format(anchor.decimals - 2)
            ),
        )
        for anchor in book.market.assumptions.anchors.values()
    ]


def _calibrated(book: Book) -> list[Scalar]:
    """The calibrated path: base and next sizes, historic growth and CAGR (derived, not typed)."""
    m, cal = book.market, book.market.calibration
    a = m.assumptions
    rows = (
        ("BaseSize", "base_size", f"calibrated market size {m.base_year}, USD bn", cal.base_size, "0.000000"),
        ("NextSize", "next_size", f"calibrated market size {m.next_year}, USD bn", cal.next_size, "0.000000"),
        (
            "HistoricGrowth",
            "historic_growth",
            f"calibrated growth {m.base_year}-{m.next_year}",
            cal.historic_growth,
            "0.0000%",
        ),
        (
            "CalibratedGrowth",
            "forecast_cagr",
            f"calibrated CAGR {book.context.period}",
            cal.forecast_cagr,
            "0.0000%",
        ),
    )
    return [
        Scalar(
            f"calibration.{key}",
            text,
            value,
            "derived",
            _source_text(book, a.anchors[key].source),
            "the path through every published figure at its published precision",
            name,
            None,
            book.fmt(num_format=numfmt),
        )
        for name, key, text, value, numfmt in rows
    ]


def _forecast_growth(book: Book) -> Scalar:
    """The forecast growth: the calibrated CAGR unless overridden; an input."""
    m = book.market
    a = m.assumptions
    overridden = a.forecast_growth_override is not None
    return Scalar(
        "forecast_growth",
        f"forecast growth per year {book.context.period} (base scenario)",
        m.forecast_growth,
        "assumed" if overridden else "derived",
        "override" if overridden else _source_text(book, a.anchors["forecast_cagr"].source),
        f"type a rate here to override the calibrated CAGR; drives every year after {m.next_year}",
        "ForecastGrowth",
        None,
        book.input_fmt("0.000%"),
    )


def _extension(book: Book) -> list[Scalar]:
    """Back-cast and extrapolation growth: typed, or following another rate until one is typed."""
    m = book.market
    a = m.assumptions
    out = []
    for name, key, follows, value in (
        ("BackcastGrowth", "backcast_growth", "HistoricGrowth", m.backcast_growth),
        # None is the engine's long-run fade (model 2.0); until this sheet mirrors it, the input follows
        # ForecastGrowth as before.
        (
            "ExtrapolationGrowth",
            "extrapolation_growth",
            "ForecastGrowth",
            _given(m.extrapolation_growth, m.forecast_growth),
        ),
    ):
        item = a.raw.get("extension", {}).get(key, {})
        given = getattr(a, key)
        note = str(item.get("note", "")) + (
            "" if given is not None else f" (follows {follows} until a rate is typed)"
        )
        out.append(
            Scalar(
                f"extension.{key}",
                key.replace("_", " "),
                value,
                str(item.get("kind", "derived")),
                _source_text(book, str(item.get("source", ""))),
                note,
                name,
                None if given is not None else follows,
                book.input_fmt("0.000%") if given is not None else book.follow_fmt("0.000%"),
            )
        )
    return out


def _monte_carlo(book: Book) -> list[Scalar]:
    """Monte Carlo settings: shown for the record; the stored fan does not recompute from them."""
    u = book.market.assumptions.uncertainty
    return [
        Scalar(
            f"uncertainty.{key}",
            f"Monte Carlo {key.replace('_', ' ')}",
            float(value),
            "assumed",
            _source_text(book, "imgout"),
            "used by the stored Monte Carlo fan: rebuild the workbook with imgout to apply",
            f"MonteCarlo_{key}",
            None,
            book.fmt(num_format=numfmt),
        )
        for key, value, numfmt in (
            ("paths", u.paths, "#,##0"),
            ("seed", u.seed, "0"),
            ("annual_volatility", u.annual_volatility, "0.00%"),
        )
    ]


# ------------------------------------------------------------------------------------------ splits and drivers


def _split(book: Book, ws: Worksheet, row: int, key: str) -> int:
    """One dimension's members: base share and relative growth (inputs), with a total that must be 100 %."""
    m = book.market
    dim = m.assumptions.dimensions[key]
    ws.write_string(row, 0, f"Split by {key.replace('_', ' ')}", book.heading_fmt())
    row += 1
    top = row
    row += 1
    for member in dim.members:
        ws.write_string(row, 0, member.name)
        ws.write_number(row, 1, member.share, book.input_fmt(book.input_pct))
        ws.write_number(row, 2, member.growth, book.input_fmt(book.input_pct))
        ws.write_string(row, 3, member.kind)
        ws.write_string(row, 4, _source_text(book, member.source))
        ws.write_string(row, 5, " ".join(member.note.split()))
        book.cells.put(("share", key, member.name), cell(ws.name, row, 1), member.share)
        book.cells.put(("relative growth", key, member.name), cell(ws.name, row, 2), member.growth)
        row += 1
    first, last = top + 1, row - 1
    headers = (
        key.replace("_", " ").capitalize(),
        f"Share {m.base_year}",
        "Relative growth",
        "Kind",
        "Source",
        "Note",
    )
    book.table(ws, top, 0, headers, len(dim.members), f"Inputs_{key}")
    book.define(f"Share_{key}", span(ws.name, first, 1, last, 1))
    book.define(f"RelGrowth_{key}", span(ws.name, first, 2, last, 2))
    ws.write_string(row, 0, "Total (must be 100%)", book.fmt(italic=True))
    book.formula(
        ws,
        row,
        1,
        formulas.shares_total(key, (mb.share for mb in dim.members)),
        book.fmt(italic=True, num_format=book.input_pct),
    )
    return row + 2


def _drivers(book: Book, ws: Worksheet, row: int) -> int:
    """Drivers: base growth per year (the residual one a formula), low and high, evidence."""
    m = book.market
    drivers = m.assumptions.drivers
    ws.write_string(row, 0, "Growth drivers (base scenario)", book.heading_fmt())
    row += 1
    top = row
    row += 1
    rows: dict[str, int] = {}
    for d in drivers.values():
        rows[d.key] = row
        ws.write_string(row, 0, d.key)
        ws.write_string(row, 1, d.label)
        ws.write_string(row, 2, d.factor)
        ws.write_number(row, 4, d.low, book.input_fmt(book.input_pct))
        ws.write_number(row, 5, d.high, book.input_fmt(book.input_pct))
        ws.write_string(row, 6, d.kind)
        ws.write_string(row, 7, _source_text(book, d.source))
        ws.write_string(row, 8, " ".join((d.evidence or d.note).split()))
        book.cells.put(("driver", d.key, "growth"), cell(ws.name, row, 3), m.base_driver_growth[d.key])
        book.cells.put(("driver", d.key, "low"), cell(ws.name, row, 4), d.low)
        book.cells.put(("driver", d.key, "high"), cell(ws.name, row, 5), d.high)
        row += 1
    # The growths go in once every driver has its cell: the residual's formula reads the others.
    for d in drivers.values():
        if d.growth is not None:
            ws.write_number(rows[d.key], 3, d.growth, book.input_fmt(book.input_pct))
        else:
            others = [
                book.cells.ref(("driver", k, "growth")) for k, o in drivers.items() if o.growth is not None
            ]
            residual = formulas.residual_growth(m, d.key, others)
            book.formula(ws, rows[d.key], 3, residual, book.follow_fmt(book.input_pct))
    headers = ("Key", "Driver", "Factor", "Growth", "Low (P10)", "High (P90)", "Kind", "Source", "Evidence")
    book.table(ws, top, 0, headers, len(drivers), "Inputs_drivers")
    return row + 1


def _scenario_drivers(book: Book, ws: Worksheet, row: int) -> None:
    """Scenario driver growths: a number where the scenario overrides a driver, else the base growth."""
    m = book.market
    a = m.assumptions
    ws.write_string(row, 0, f"Scenario driver growths ({book.context.period})", book.heading_fmt())
    row += 1
    top = row
    row += 1
    names = m.scenario_names
    for d in a.drivers.values():
        ws.write_string(row, 0, d.key)
        for j, s in enumerate(names, start=1):
            spec = a.scenarios.get(s)
            value = m.driver_growths(s)[d.key]
            if spec is not None and d.key in spec.drivers:
                ws.write_number(row, j, spec.drivers[d.key], book.input_fmt(book.input_pct))
            else:
                base = formulas.follows(book.cells.ref(("driver", d.key, "growth")), value)
                book.formula(ws, row, j, base, book.follow_fmt(book.input_pct))
            book.cells.put(("scenario driver", s, d.key), cell(ws.name, row, j), value)
        row += 1
    book.table(ws, top, 0, ("Driver", *names), len(a.drivers), "Inputs_scenarios")


def _given(value: float | None, otherwise: float) -> float:
    return otherwise if value is None else value
