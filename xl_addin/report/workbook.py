"""Client workbooks: the report context written as a formatted .xlsx with live formulas.

The sheets and their order come from the layout template (:mod:`xl_addin.report.layout`); this module
turns each sheet kind into cells, Excel tables and native charts. Every output number is a formula on
the Inputs sheet that recomputes the way the engine would for that input, and every formula also
stores the engine's result, so viewers and ``pandas.read_excel`` see numbers. Only functions that
Excel 2010 and LibreOffice both know are used (INDEX/MATCH, SUMPRODUCT, IF): no dynamic arrays.

    >>> from xl_addin.report import build_context, load_profile
    >>> context = build_context(load_profile(None, name="Acme Imaging"))
    >>> write_workbook(context, Path("acme.xlsx"))  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ..common.atomic import atomic_path
from ..common.formats import UNIT_LABELS, excel_money_format, excel_percent_format, in_units
from ..errors import InputError, LayoutError, WorkbookError, os_error
from ..model.assumptions import RESERVED_SCENARIO
from .context import ReportContext, scenario_labels
from .layout import SheetLayout, render_layout

INPUT_FONT = "#0000FF"  # FAST / banking convention: inputs blue on light yellow
INPUT_FILL = "#FFF2CC"
FOLLOW_FONT = "#595959"  # an input cell that follows another input until a number is typed
INPUT_PERCENT_DECIMALS = 2
PAPER = {"A4": 9, "Letter": 1}
CUSTOM_PROPERTY_LIMIT = 255  # characters Excel keeps in a custom document property
# Sheets are filled in this order (each references names defined by the ones before it); tabs keep
# the layout's order.
FILL_ORDER = (
    "inputs",
    "scenarios",
    "forecast",
    "breakdown",
    "drivers",
    "uncertainty",
    "sources",
    "notes",
    "cover",
    "contents",
)
SERIES_COLOURS = ("#A5A5A5", "#ED7D31", "#70AD47", "#FFC000", "#5B9BD5", "#7030A0", "#C00000", "#264478")


class _Worksheet(Worksheet):
    """A worksheet that skips XlsxWriter's future-function renaming for formulas that need none.

    XlsxWriter runs some 30 regular expressions over every formula to prefix Excel 365 functions
    (``_xlfn.XLOOKUP``); our formulas use only classic functions, and that renaming was half the time
    of a workbook. Any formula naming another function still goes through XlsxWriter's own path.
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if set(_FUNCTION_CALL.findall(formula)) <= CLASSIC_FUNCTIONS:
            return formula.removeprefix("=")
        return str(super()._prepare_formula(formula, expand_future_functions))


# Functions known to Excel 2010 and LibreOffice alike: the only ones the workbook's formulas use.
CLASSIC_FUNCTIONS = frozenset({"IF", "AND", "INDEX", "MATCH", "SUM", "SUMPRODUCT"})
_FUNCTION_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")


def workbook_path(context: ReportContext, out: Path) -> Path:
    """Where ``--out`` puts the workbook: a folder gets ``<client slug>.xlsx``, a file name is used as is."""
    if out.is_dir() or str(out).endswith(("/", os.sep)):
        return out / f"{context.client.slug}.xlsx"
    if out.suffix.lower() != ".xlsx":
        raise InputError(
            f"Invalid workbook path: {str(out)!r} is neither an existing folder nor a file name ending in .xlsx"
        )
    return out


def write_workbook(context: ReportContext, path: Path) -> Path:
    """Write the client workbook for a context to ``path`` atomically and return the path.

    The file is built under a temporary name in the same folder and renamed into place, so a failure at
    any point leaves neither a half-written workbook nor a temporary file behind.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"Cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise InputError(f"Cannot write {path}: it is a folder (give a file name ending in .xlsx)")
    layout = render_layout(context)
    try:
        with atomic_path(path) as temp:
            _Writer(context, layout, temp).write()
    except OSError as exc:
        raise os_error(f"Cannot write {path}", exc) from None
    return path


def cell(sheet: str, row: int, col: int) -> str:
    """An absolute reference to a cell of another sheet: ``'By region'!$B$4``."""
    return f"{quote_sheetname(sheet)}!{xl_rowcol_to_cell(row, col, True, True)}"


def span(sheet: str, first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    """An absolute reference to a range of a sheet."""
    return f"{cell(sheet, first_row, first_col)}:{xl_rowcol_to_cell(last_row, last_col, True, True)}"


class _Writer:
    """Writes one workbook; remembers where each input and output landed so formulas can find them."""

    def __init__(self, context: ReportContext, layout: Sequence[SheetLayout], path: Path) -> None:
        self.context = context
        self.market = context.market
        self.layout = layout
        self.units = context.units
        self.scenario = context.scenario
        self.book = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False})
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}
        m = self.market
        profile = context.client
        self.years = tuple(
            range(min(profile.first_year, m.base_year), max(profile.last_year, m.horizon_year) + 1)
        )
        self.sheets: dict[str, Worksheet] = {}
        self.by_kind: dict[str, list[SheetLayout]] = {}
        # Where things are, filled as sheets are written.
        self.forecast_cell: dict[int, str] = {}
        self.forecast_value: dict[int, float] = {}
        self.member_cells: dict[str, dict[str, tuple[str, str]]] = {}
        self.driver_cells: dict[str, dict[str, str]] = {}
        self.scenario_driver_cell: dict[tuple[str, str], str] = {}
        self.scenario_growth_cell: dict[str, str] = {}
        self.scenario_year_cell: dict[tuple[str, int], str] = {}
        self.anchor_cell: dict[str, str] = {}

    # ------------------------------------------------------------------ formats

    def fmt(self, **props: Any) -> Format:
        """A cached cell format (XlsxWriter formats are objects; one per distinct look)."""
        key = tuple(sorted(props.items()))
        found = self._formats.get(key)
        if found is None:
            found = self._formats[key] = self.book.add_format(
                {"font_name": "Calibri", "font_size": 10, **props}
            )
        return found

    @property
    def money(self) -> str:
        return excel_money_format(self.units)

    @property
    def pct(self) -> str:
        return excel_percent_format()

    @property
    def input_pct(self) -> str:
        return excel_percent_format(INPUT_PERCENT_DECIMALS)

    def input_fmt(self, num_format: str) -> Format:
        return self.fmt(
            font_color=INPUT_FONT,
            bg_color=INPUT_FILL,
            border=1,
            border_color="#BFBFBF",
            num_format=num_format,
        )

    def follow_fmt(self, num_format: str) -> Format:
        return self.fmt(
            font_color=FOLLOW_FONT, italic=True, border=1, border_color="#BFBFBF", num_format=num_format
        )

    def header_fmt(self) -> Format:
        return self.fmt(
            bold=True, font_color="#FFFFFF", bg_color=self.context.client.brand_colour, text_wrap=True
        )

    def in_units(self, value_bn: float) -> float:
        return in_units(value_bn, self.units)

    # ------------------------------------------------------------------ writing

    def write(self) -> None:
        for sheet in self.layout:
            self.sheets[sheet.name] = self.book.add_worksheet(sheet.name, worksheet_class=_Worksheet)
            self.by_kind.setdefault(sheet.kind, []).append(sheet)
        for kind in FILL_ORDER:
            for sheet in self.by_kind.get(kind, []):
                ws = self.sheets[sheet.name]
                getattr(self, f"_{kind}")(ws, sheet)
                self._print_setup(ws)
        self._properties()
        self.book.close()

    def title(self, ws: Worksheet, sheet: SheetLayout) -> int:
        """Title and note lines at the top of a sheet; returns the next free row."""
        ws.write_string(
            0,
            0,
            sheet.text("title", sheet.name),
            self.fmt(bold=True, font_size=14, font_color=self.context.client.brand_colour),
        )
        row = 1
        for key in ("description", "note"):
            text = sheet.text(key)
            if text:
                ws.write_string(
                    row, 0, text[:1].upper() + text[1:], self.fmt(italic=True, font_color="#595959")
                )
                row += 1
        return row + 1

    def formula(
        self, ws: Worksheet, row: int, col: int, text: str, value: float | str, fmt: Format | None = None
    ) -> None:
        """A live formula with the engine's result stored beside it."""
        if isinstance(value, float) and not math.isfinite(value):
            raise WorkbookError(
                f"Cannot write {ws.name}!{xl_rowcol_to_cell(row, col)}: the model gives {value}"
            )
        ws.write_formula(row, col, text, fmt, value)

    def name(self, name: str, ref: str) -> None:
        self.book.define_name(name, f"={ref}")

    def table(self, ws: Worksheet, row: int, col: int, headers: Sequence[str], rows: int, name: str) -> None:
        """An Excel table over cells already written: header row at ``row``, ``rows`` data rows below."""
        ws.add_table(
            row,
            col,
            row + max(rows, 1),
            col + len(headers) - 1,
            {
                "name": name,
                "style": "Table Style Light 9",
                "columns": [{"header": h, "header_format": self.header_fmt()} for h in headers],
            },
        )

    def _print_setup(self, ws: Worksheet) -> None:
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_paper(PAPER.get(self.context.client.paper, 9))
        ws.hide_gridlines(2)
        # Header and footer codes start with '&': provenance is hex and digits, so nothing to escape.
        ws.set_footer(
            f"&L&8imgout {self.context.model_version}, assumptions {self.context.assumption_hash}&R&8&P / &N"
        )

    def _properties(self) -> None:
        c = self.context
        self.book.set_properties(
            {
                "title": "Medical imaging outsourcing market data pack",
                "subject": f"Prepared for {c.client.name}",
                "author": "imgout",
                "company": "imgout",
                "keywords": f"imgout {c.model_version}, assumptions {c.assumption_hash}",
                "comments": c.provenance,
                "created": c.generated.replace(tzinfo=None),
            }
        )
        self.book.set_custom_property("imgout model version", c.model_version)
        self.book.set_custom_property("imgout assumption hash", c.assumption_hash)
        self.book.set_custom_property("imgout scenario", c.scenario)
        self.book.set_custom_property("imgout client", c.client.name[:CUSTOM_PROPERTY_LIMIT])

    # ------------------------------------------------------------------ formulas shared by sheets

    def total_expr(self, year: int, year_ref: str, growth: str) -> str:
        """The engine's total path in USD bn for one year, as an Excel expression (see Market._path)."""
        m = self.market
        if year < m.base_year:
            return f"BaseSize/(1+BackcastGrowth)^(BaseYear-{year_ref})"
        if year == m.base_year:
            return "BaseSize"
        if year <= m.horizon_year:
            return f"NextSize*(1+{growth})^({year_ref}-NextYear)"
        return (
            f"NextSize*(1+{growth})^(HorizonYear-NextYear)"
            f"*((1+ExtrapolationGrowth)*(1+{growth})/(1+ForecastGrowth))^({year_ref}-HorizonYear)"
        )

    def share_expr(self, dimension: str, member: str, year_ref: str) -> str:
        """share_m(t) = s_m (1+d_m)^(t-base) / sum_k s_k (1+d_k)^(t-base), on the Inputs cells."""
        share, growth = self.member_cells[dimension][member]
        return (
            f"{share}*(1+{growth})^({year_ref}-BaseYear)"
            f"/SUMPRODUCT(Share_{dimension},(1+RelGrowth_{dimension})^({year_ref}-BaseYear))"
        )

    # ------------------------------------------------------------------ Inputs

    def _inputs(self, ws: Worksheet, sheet: SheetLayout) -> None:
        c, m = self.context, self.market
        a = m.assumptions
        sources = a.sources
        label = self.fmt(bold=True)
        row = self.title(ws, sheet)

        def source_text(key: str) -> str:
            s = sources.get(key)
            return f"{s.publisher} ({s.date})" if s is not None else key

        # The scenario selector and the model's fixed years.
        ws.write_string(row, 0, "Scenario", label)
        ws.write_string(row, 1, c.scenario, self.input_fmt("@"))
        self.name("Scenario", cell(ws.name, row, 1))
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
        ws.write_number(row, 1, in_units(1.0, self.units), self.fmt(num_format="#,##0"))
        ws.write_string(row, 2, f"values are shown in {UNIT_LABELS[self.units]}")
        self.name("UnitFactor", cell(ws.name, row, 1))
        row += 1
        for key, year, text in (
            ("BaseYear", m.base_year, "first published year (base of the shares)"),
            ("NextYear", m.next_year, "second published year (start of the forecast growth)"),
            ("HorizonYear", m.horizon_year, "last published year"),
        ):
            ws.write_string(row, 0, key, label)
            ws.write_number(row, 1, year, self.fmt(num_format="0"))
            ws.write_string(row, 2, text)
            self.name(key, cell(ws.name, row, 1))
            row += 1
        row += 1

        # Scalar inputs: published anchors, the calibrated path and the growth rates.
        headers = ("Key", "Assumption", "Value", "Kind", "Source", "Note")
        ws.write_string(row, 0, "Market and growth", self.fmt(bold=True, font_size=12))
        row += 1
        top = row
        row += 1
        cal = m.calibration
        money_bn = excel_money_format("bn")
        scalars: list[tuple[str, str, float, str, str, str, str, str | None, Format]] = []
        for anchor in a.anchors.values():
            numfmt = money_bn if anchor.units == "USD bn" else excel_percent_format(anchor.decimals - 2)
            scalars.append(
                (
                    f"anchors.{anchor.key}",
                    f"published {anchor.label}",
                    anchor.value,
                    anchor.kind,
                    source_text(anchor.source),
                    f"published to {anchor.decimals} decimals: calibration target",
                    f"Anchor_{anchor.key}",
                    None,
                    self.fmt(num_format=numfmt),
                )
            )
        calibrated = (
            (
                "BaseSize",
                "base_size",
                f"calibrated market size {m.base_year}, USD bn",
                cal.base_size,
                "0.000000",
            ),
            (
                "NextSize",
                "next_size",
                f"calibrated market size {m.next_year}, USD bn",
                cal.next_size,
                "0.000000",
            ),
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
                f"calibrated CAGR {c.period}",
                cal.forecast_cagr,
                "0.0000%",
            ),
        )
        for name, key, text, value, numfmt in calibrated:
            scalars.append(
                (
                    f"calibration.{key}",
                    text,
                    value,
                    "derived",
                    source_text(a.anchors[key].source),
                    "the path through every published figure at its published precision",
                    name,
                    None,
                    self.fmt(num_format=numfmt),
                )
            )
        overridden = a.forecast_growth_override is not None
        scalars.append(
            (
                "forecast_growth",
                f"forecast growth per year {c.period} (base scenario)",
                m.forecast_growth,
                "assumed" if overridden else "derived",
                "override" if overridden else source_text(a.anchors["forecast_cagr"].source),
                f"type a rate here to override the calibrated CAGR; drives every year after {m.next_year}",
                "ForecastGrowth",
                None,
                self.input_fmt("0.000%"),
            )
        )
        for name, key, follows, value in (
            ("BackcastGrowth", "backcast_growth", "HistoricGrowth", m.backcast_growth),
            ("ExtrapolationGrowth", "extrapolation_growth", "ForecastGrowth", m.extrapolation_growth),
        ):
            item = a.raw.get("extension", {}).get(key, {})
            given = getattr(a, key)
            note = str(item.get("note", "")) + (
                "" if given is not None else f" (follows {follows} until a rate is typed)"
            )
            scalars.append(
                (
                    f"extension.{key}",
                    key.replace("_", " "),
                    value,
                    str(item.get("kind", "derived")),
                    source_text(str(item.get("source", ""))),
                    note,
                    name,
                    None if given is not None else f"={follows}",
                    self.input_fmt("0.000%") if given is not None else self.follow_fmt("0.000%"),
                )
            )
        u = a.uncertainty
        for key, value, numfmt in (
            ("paths", u.paths, "#,##0"),
            ("seed", u.seed, "0"),
            ("annual_volatility", u.annual_volatility, "0.00%"),
        ):
            scalars.append(
                (
                    f"uncertainty.{key}",
                    f"Monte Carlo {key.replace('_', ' ')}",
                    float(value),
                    "assumed",
                    source_text("imgout"),
                    "used by the stored Monte Carlo fan: rebuild the workbook with imgout to apply",
                    f"MonteCarlo_{key}",
                    None,
                    self.fmt(num_format=numfmt),
                )
            )
        for entry_key, text, number, kind, source, note, defined, formula_text, cell_fmt in scalars:
            ws.write_string(row, 0, entry_key)
            ws.write_string(row, 1, text)
            if formula_text is not None:
                self.formula(ws, row, 2, formula_text, number, cell_fmt)
            else:
                ws.write_number(row, 2, number, cell_fmt)
            ws.write_string(row, 3, kind)
            ws.write_string(row, 4, source)
            ws.write_string(row, 5, note)
            self.name(defined, cell(ws.name, row, 2))
            if defined.startswith("Anchor_"):
                self.anchor_cell[defined.removeprefix("Anchor_")] = cell(ws.name, row, 2)
            row += 1
        self.table(ws, top, 0, headers, len(scalars), "Inputs_market")
        row += 1

        # Shares and relative growths, one table per dimension.
        for key, dim in a.dimensions.items():
            ws.write_string(row, 0, f"Split by {key.replace('_', ' ')}", self.fmt(bold=True, font_size=12))
            row += 1
            top = row
            row += 1
            self.member_cells[key] = {}
            for member in dim.members:
                ws.write_string(row, 0, member.name)
                ws.write_number(row, 1, member.share, self.input_fmt(self.input_pct))
                ws.write_number(row, 2, member.growth, self.input_fmt(self.input_pct))
                ws.write_string(row, 3, member.kind)
                ws.write_string(row, 4, source_text(member.source))
                ws.write_string(row, 5, " ".join(member.note.split()))
                self.member_cells[key][member.name] = (cell(ws.name, row, 1), cell(ws.name, row, 2))
                row += 1
            first, last = top + 1, row - 1
            self.table(
                ws,
                top,
                0,
                (
                    key.replace("_", " ").capitalize(),
                    f"Share {m.base_year}",
                    "Relative growth",
                    "Kind",
                    "Source",
                    "Note",
                ),
                len(dim.members),
                f"Inputs_{key}",
            )
            self.name(f"Share_{key}", span(ws.name, first, 1, last, 1))
            self.name(f"RelGrowth_{key}", span(ws.name, first, 2, last, 2))
            ws.write_string(row, 0, "Total (must be 100%)", self.fmt(italic=True))
            self.formula(
                ws,
                row,
                1,
                f"=SUM(Share_{key})",
                math.fsum(mb.share for mb in dim.members),
                self.fmt(italic=True, num_format=self.input_pct),
            )
            row += 2

        # Drivers: base growth per year, range, evidence.
        ws.write_string(row, 0, "Growth drivers (base scenario)", self.fmt(bold=True, font_size=12))
        row += 1
        top = row
        row += 1
        driver_rows: dict[str, int] = {}
        for d in a.drivers.values():
            driver_rows[d.key] = row
            ws.write_string(row, 0, d.key)
            ws.write_string(row, 1, d.label)
            ws.write_string(row, 2, d.factor)
            ws.write_number(row, 4, d.low, self.input_fmt(self.input_pct))
            ws.write_number(row, 5, d.high, self.input_fmt(self.input_pct))
            ws.write_string(row, 6, d.kind)
            ws.write_string(row, 7, source_text(d.source))
            ws.write_string(row, 8, " ".join((d.evidence or d.note).split()))
            self.driver_cells[d.key] = {
                "growth": cell(ws.name, row, 3),
                "low": cell(ws.name, row, 4),
                "high": cell(ws.name, row, 5),
            }
            row += 1
        for d in a.drivers.values():
            r = driver_rows[d.key]
            if d.growth is not None:
                ws.write_number(r, 3, d.growth, self.input_fmt(self.input_pct))
            else:
                others = "*".join(
                    f"(1+{self.driver_cells[k]['growth']})"
                    for k, o in a.drivers.items()
                    if o.growth is not None
                )
                self.formula(
                    ws,
                    r,
                    3,
                    f"=(1+ForecastGrowth)/({others or 1})-1",
                    m.base_driver_growth[d.key],
                    self.follow_fmt(self.input_pct),
                )
        self.table(
            ws,
            top,
            0,
            ("Key", "Driver", "Factor", "Growth", "Low (P10)", "High (P90)", "Kind", "Source", "Evidence"),
            len(a.drivers),
            "Inputs_drivers",
        )
        row += 1

        # Scenario driver growths: a number where the scenario overrides a driver, else the base growth.
        ws.write_string(row, 0, f"Scenario driver growths ({c.period})", self.fmt(bold=True, font_size=12))
        row += 1
        top = row
        row += 1
        names = m.scenario_names
        for d in a.drivers.values():
            ws.write_string(row, 0, d.key)
            for j, s in enumerate(names, start=1):
                spec = a.scenarios.get(s)
                if spec is not None and d.key in spec.drivers:
                    ws.write_number(row, j, spec.drivers[d.key], self.input_fmt(self.input_pct))
                else:
                    self.formula(
                        ws,
                        row,
                        j,
                        f"={self.driver_cells[d.key]['growth']}",
                        m.driver_growths(s)[d.key],
                        self.follow_fmt(self.input_pct),
                    )
                self.scenario_driver_cell[(s, d.key)] = cell(ws.name, row, j)
            row += 1
        self.table(ws, top, 0, ("Driver", *names), len(a.drivers), "Inputs_scenarios")
        ws.freeze_panes(3, 0)
        ws.set_column(0, 0, 30)
        ws.set_column(1, 1, 40)
        ws.set_column(2, 2, 14)
        ws.set_column(3, 4, 16)
        ws.set_column(5, 5, 60)
        ws.set_column(6, 8, 18)

    # ------------------------------------------------------------------ Scenarios

    def _scenarios(self, ws: Worksheet, sheet: SheetLayout) -> None:
        c, m = self.context, self.market
        row = self.title(ws, sheet)
        names = m.scenario_names
        labels = scenario_labels(c)
        headers = (
            "Scenario",
            "Label",
            f"Growth per year {c.period}",
            f"Market size {m.horizon_year}",
            f"CAGR {c.period}",
            "Description",
        )
        top = row
        row += 1
        first = row
        horizon = m.horizon_year
        for s, text in zip(names, labels, strict=True):
            ws.write_string(row, 0, s)
            ws.write_string(row, 1, text)
            spec = m.assumptions.scenarios.get(s)
            if s == RESERVED_SCENARIO:
                growth = "=ForecastGrowth"
            else:
                product = "*".join(f"(1+{self.scenario_driver_cell[(s, k)]})" for k in m.assumptions.drivers)
                growth = f"={product}-1"
            self.formula(ws, row, 2, growth, m.scenario_growth[s], self.fmt(num_format="0.00%"))
            self.scenario_growth_cell[s] = cell(ws.name, row, 2)
            g = xl_rowcol_to_cell(row, 2, False, True)
            value = self.in_units(m.forecast(horizon, scenario=s))
            self.formula(
                ws,
                row,
                3,
                f"=UnitFactor*{self.total_expr(horizon, 'HorizonYear', g)}",
                value,
                self.fmt(num_format=self.money),
            )
            cagr = m.cagr(m.next_year, horizon, scenario=s)
            self.formula(
                ws,
                row,
                4,
                f"=({xl_rowcol_to_cell(row, 3)}/(UnitFactor*NextSize))^(1/(HorizonYear-NextYear))-1",
                cagr,
                self.fmt(num_format=self.pct),
            )
            ws.write_string(
                row,
                5,
                spec.description
                if spec is not None
                else "pinned to the published anchors (forecast growth on Inputs)",
            )
            row += 1
        self.table(ws, top, 0, headers, len(names), "Scenarios_growth")
        self.name("ScenarioNames", span(ws.name, first, 0, row - 1, 0))
        self.name("ScenarioGrowths", span(ws.name, first, 2, row - 1, 2))
        row += 1

        label = self.fmt(bold=True)
        ws.write_string(row, 0, "Selected scenario", label)
        self.formula(ws, row, 1, "=Scenario", c.scenario)
        ws.write_string(row, 2, "chosen on the Inputs sheet")
        row += 1
        ws.write_string(row, 0, "Selected growth per year", label)
        self.formula(
            ws,
            row,
            1,
            "=INDEX(ScenarioGrowths,MATCH(Scenario,ScenarioNames,0))",
            m.scenario_growth[c.scenario],
            self.fmt(num_format="0.00%"),
        )
        self.name("SelectedGrowth", cell(ws.name, row, 1))
        row += 1
        ws.write_string(row, 0, "Status label", label)
        pinned = c.scenario == RESERVED_SCENARIO and not m.overridden
        qualifier = "" if pinned else f" ({'override' if c.scenario == RESERVED_SCENARIO else c.scenario})"
        self.formula(
            ws,
            row,
            1,
            '=IF(AND(Scenario="base",ForecastGrowth=CalibratedGrowth),""," ("&IF(Scenario="base","override",Scenario)&")")',
            qualifier,
        )
        ws.write_string(row, 2, "added to the status of forecast years that are not the published base path")
        self.name("StatusQualifier", cell(ws.name, row, 1))
        row += 2

        # Years x scenarios.
        ws.write_string(
            row, 0, f"Market size by scenario, {UNIT_LABELS[self.units]}", self.fmt(bold=True, font_size=12)
        )
        row += 1
        top = row
        row += 1
        first = row
        for y in self.years:
            ws.write_number(row, 0, y, self.fmt(num_format="0"))
            year_ref = xl_rowcol_to_cell(row, 0, False, True)
            for j, s in enumerate(names, start=1):
                growth = self.scenario_growth_cell[s]
                value = self.in_units(m.forecast(y, scenario=s))
                self.formula(
                    ws,
                    row,
                    j,
                    f"=UnitFactor*{self.total_expr(y, year_ref, growth)}",
                    value,
                    self.fmt(num_format=self.money),
                )
                self.scenario_year_cell[(s, y)] = cell(ws.name, row, j)
            row += 1
        self.table(ws, top, 0, ("Year", *names), len(self.years), "Scenarios_by_year")
        chart = self.book.add_chart({"type": "line"})
        for j, s in enumerate(names, start=1):
            colour = (
                c.client.brand_colour
                if s == RESERVED_SCENARIO
                else SERIES_COLOURS[(j - 1) % len(SERIES_COLOURS)]
            )
            chart.add_series(
                {
                    "name": s,
                    "categories": [ws.name, first, 0, row - 1, 0],
                    "values": [ws.name, first, j, row - 1, j],
                    "line": {"color": colour, "width": 2.25 if s == RESERVED_SCENARIO else 1.5},
                }
            )
        self._chart_layout(chart, sheet, "Year")
        ws.insert_chart(top, len(names) + 2, chart, {"x_scale": 1.4, "y_scale": 1.3})
        ws.freeze_panes(3, 0)
        ws.set_column(0, 0, 24)
        ws.set_column(1, len(names), 14)
        ws.set_column(5, 5, 60)

    def _chart_layout(self, chart: Any, sheet: SheetLayout, x_name: str, title: str | None = None) -> None:
        spec = sheet.spec.get("chart") or {}
        chart.set_title(
            {"name": title or str(spec.get("title", sheet.text("title"))), "name_font": {"size": 11}}
        )
        chart.set_x_axis({"name": x_name, "num_font": {"rotation": -45}})
        chart.set_y_axis(
            {
                "name": UNIT_LABELS[self.units],
                "num_format": self.money,
                "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
            }
        )
        chart.set_legend({"position": "bottom"})

    # ------------------------------------------------------------------ Forecast

    def _forecast(self, ws: Worksheet, sheet: SheetLayout) -> None:
        m = self.market
        s = self.scenario
        row = self.title(ws, sheet)
        top = row
        row += 1
        first = row
        previous: float | None = None
        for y in self.years:
            ws.write_number(row, 0, y, self.fmt(num_format="0"))
            year_ref = xl_rowcol_to_cell(row, 0, False, True)
            value = self.in_units(m.forecast(y, scenario=s))
            self.formula(
                ws,
                row,
                1,
                f"=UnitFactor*{self.total_expr(y, year_ref, 'SelectedGrowth')}",
                value,
                self.fmt(num_format=self.money),
            )
            if previous is not None:
                here, before = xl_rowcol_to_cell(row, 1), xl_rowcol_to_cell(row - 1, 1)
                self.formula(
                    ws, row, 2, f"={here}/{before}-1", value / previous - 1, self.fmt(num_format=self.pct)
                )
            status = m.status(y, s)
            if y > m.next_year:
                word = "interpolated" if y < m.horizon_year else "extrapolated"
                text = f'="{word}"&StatusQualifier'
                if y == m.horizon_year:
                    text = '=IF(StatusQualifier="","published","projected")&StatusQualifier'
                self.formula(ws, row, 3, text, status)
            else:
                ws.write_string(row, 3, status)
            self.forecast_cell[y] = cell(ws.name, row, 1)
            self.forecast_value[y] = value
            previous = value
            row += 1
        self.table(
            ws,
            top,
            0,
            ("Year", f"Market size, {UNIT_LABELS[self.units]}", "Growth", "Status"),
            len(self.years),
            "Forecast",
        )
        chart = self.book.add_chart({"type": "column"})
        chart.add_series(
            {
                "name": [ws.name, top, 1],
                "categories": [ws.name, first, 0, row - 1, 0],
                "values": [ws.name, first, 1, row - 1, 1],
                "fill": {"color": self.context.client.brand_colour},
                "gap": 60,
            }
        )
        self._chart_layout(chart, sheet, "Year")
        chart.set_legend({"none": True})
        ws.insert_chart(top, 5, chart, {"x_scale": 1.4, "y_scale": 1.3})
        ws.freeze_panes(top + 1, 1)
        ws.set_column(0, 0, 8)
        ws.set_column(1, 1, 20)
        ws.set_column(2, 2, 10)
        ws.set_column(3, 3, 26)

    # ------------------------------------------------------------------ By region / By segment

    def _breakdown(self, ws: Worksheet, sheet: SheetLayout) -> None:
        c, m = self.context, self.market
        row = self.title(ws, sheet)
        chart_spec = sheet.spec.get("chart") or {}
        for dimension in sheet.spec.get("dimensions", ()):
            key = m.dimension(str(dimension))
            label = key.replace("_", " ")
            rows = c.regions if key == "region" else c.segments[key]
            members = [r.member for r in rows]
            ws.write_string(row, 0, f"By {label}", self.fmt(bold=True, font_size=12))
            row += 1
            # Shares by year, then values by year (total x share), then the summary that reads them.
            summary_top = row
            n = len(members)
            share_top = summary_top + n + 3
            value_top = share_top + n + 3
            share_cell: dict[tuple[str, int], str] = {}
            value_cell: dict[tuple[str, int], str] = {}
            stored: dict[tuple[str, int], float] = {}
            for block_top, caption in (
                (share_top, f"Share of the market by {label}"),
                (value_top, f"Market size by {label}, {UNIT_LABELS[self.units]}"),
            ):
                ws.write_string(block_top - 1, 0, caption, self.fmt(bold=True))
                ws.write_string(block_top, 0, label.capitalize(), self.header_fmt())
                for j, y in enumerate(self.years, start=1):
                    ws.write_number(
                        block_top,
                        j,
                        y,
                        self.fmt(
                            bold=True, num_format="0", font_color="#FFFFFF", bg_color=c.client.brand_colour
                        ),
                    )
            for i, member in enumerate(members):
                target = f"{key}:{member}"
                region, segment = (member, None) if key == "region" else (None, target)
                for j, y in enumerate(self.years, start=1):
                    r = share_top + 1 + i
                    if j == 1:
                        ws.write_string(r, 0, member)
                        ws.write_string(value_top + 1 + i, 0, member)
                    year_ref = xl_rowcol_to_cell(share_top, j, True, False)
                    self.formula(
                        ws,
                        r,
                        j,
                        "=" + self.share_expr(key, member, year_ref),
                        m.share(y, target, self.scenario),
                        self.fmt(num_format=self.pct),
                    )
                    share_cell[(member, y)] = xl_rowcol_to_cell(r, j)
                    value = self.in_units(m.forecast(y, region, segment, self.scenario))
                    self.formula(
                        ws,
                        value_top + 1 + i,
                        j,
                        f"={self.forecast_cell[y]}*{share_cell[(member, y)]}",
                        value,
                        self.fmt(num_format=self.money),
                    )
                    value_cell[(member, y)] = xl_rowcol_to_cell(value_top + 1 + i, j)
                    stored[(member, y)] = value
            total_row = value_top + 1 + n
            ws.write_string(total_row, 0, "Total", self.fmt(bold=True))
            for j, y in enumerate(self.years, start=1):
                column = xl_rowcol_to_cell(value_top + 1, j) + ":" + xl_rowcol_to_cell(total_row - 1, j)
                total = math.fsum(stored[(mb, y)] for mb in members)
                self.formula(
                    ws,
                    total_row,
                    j,
                    f"=SUM({column})",
                    total,
                    self.fmt(bold=True, num_format=self.money, top=1),
                )

            # Summary: table years, horizon share, CAGR, focus.
            years = c.table_years
            headers = (
                label.capitalize(),
                *(str(y) for y in years),
                f"Share {m.horizon_year}",
                f"CAGR {c.period}",
                "Focus",
            )
            r = summary_top + 1
            for row_data in rows:
                bold = {"bold": True} if row_data.focus else {}
                ws.write_string(r, 0, row_data.member, self.fmt(**bold))
                for j, (y, v) in enumerate(zip(years, row_data.values, strict=True), start=1):
                    self.formula(
                        ws,
                        r,
                        j,
                        f"={value_cell[(row_data.member, y)]}",
                        self.in_units(v),
                        self.fmt(num_format=self.money, **bold),
                    )
                j = len(years) + 1
                self.formula(
                    ws,
                    r,
                    j,
                    f"={share_cell[(row_data.member, m.horizon_year)]}",
                    m.share(m.horizon_year, f"{key}:{row_data.member}", self.scenario),
                    self.fmt(num_format=self.pct, **bold),
                )
                start = value_cell[(row_data.member, m.next_year)]
                end = value_cell[(row_data.member, m.horizon_year)]
                self.formula(
                    ws,
                    r,
                    j + 1,
                    f"=({end}/{start})^(1/(HorizonYear-NextYear))-1",
                    row_data.cagr,
                    self.fmt(num_format=self.pct, **bold),
                )
                ws.write_string(r, j + 2, "focus" if row_data.focus else "", self.fmt(**bold))
                r += 1
            self.table(ws, summary_top, 0, headers, n, f"By_{key}")

            chart = self.book.add_chart({"type": "column", "subtype": "stacked"})
            for i in range(len(members)):
                colour = c.client.brand_colour if i == 0 else SERIES_COLOURS[(i - 1) % len(SERIES_COLOURS)]
                chart.add_series(
                    {
                        "name": [ws.name, value_top + 1 + i, 0],
                        "categories": [ws.name, value_top, 1, value_top, len(self.years)],
                        "values": [ws.name, value_top + 1 + i, 1, value_top + 1 + i, len(self.years)],
                        "fill": {"color": colour},
                        "gap": 50,
                    }
                )
            title = str(chart_spec.get("title", sheet.text("title"))).replace("{dimension}", label)
            self._chart_layout(chart, sheet, "Year", title)
            ws.insert_chart(summary_top, len(self.years) + 2, chart, {"x_scale": 1.3, "y_scale": 1.2})
            row = max(total_row + 3, summary_top + 20)
        ws.freeze_panes(3, 1)
        ws.set_column(0, 0, 28)
        ws.set_column(1, len(self.years), 10)

    # ------------------------------------------------------------------ Drivers

    def _drivers(self, ws: Worksheet, sheet: SheetLayout) -> None:
        c, m = self.context, self.market
        a = m.assumptions
        row = self.title(ws, sheet)
        growths = m.driver_growths(self.scenario)
        ws.write_string(row, 0, "Drivers in the selected scenario", self.fmt(bold=True, font_size=12))
        row += 1
        top = row
        row += 1
        selected_cell: dict[str, str] = {}
        for d in a.drivers.values():
            ws.write_string(row, 0, d.label)
            ws.write_string(row, 1, d.factor)
            scenario_cells = [self.scenario_driver_cell[(s, d.key)] for s in m.scenario_names]
            # The scenario driver cells are one row on Inputs, in the order of ScenarioNames.
            row_range = scenario_cells[0] + ":" + scenario_cells[-1].split("!")[1]
            self.formula(
                ws,
                row,
                2,
                f"=INDEX({row_range},MATCH(Scenario,ScenarioNames,0))",
                growths[d.key],
                self.fmt(num_format="0.00%"),
            )
            selected_cell[d.key] = xl_rowcol_to_cell(row, 2)
            ws.write_string(
                row, 3, " ".join((d.evidence or d.note).split()), self.fmt(text_wrap=True, valign="top")
            )
            row += 1
        self.table(ws, top, 0, ("Driver", "Factor", "Growth per year", "Evidence"), len(a.drivers), "Drivers")
        row += 1

        ws.write_string(
            row,
            0,
            "Growth bridge: (1+g) = (1+volume)(1+penetration)(1+price)",
            self.fmt(bold=True, font_size=12),
        )
        row += 1
        top = row
        row += 1
        factor_cells = []
        product = 1.0
        for factor in c.market.bridge(self.scenario):
            ws.write_string(row, 0, factor.factor)
            keys = [k for k, _ in factor.drivers]
            text = "=" + "*".join(f"(1+{selected_cell[k]})" for k in keys) + "-1" if keys else "=0"
            self.formula(ws, row, 1, text, factor.growth, self.fmt(num_format="0.00%"))
            ws.write_string(row, 2, ", ".join(a.drivers[k].label for k in keys))
            factor_cells.append(xl_rowcol_to_cell(row, 1))
            product *= 1 + factor.growth
            row += 1
        ws.write_string(row, 0, "market growth", self.fmt(bold=True))
        self.formula(
            ws,
            row,
            1,
            "=" + "*".join(f"(1+{f})" for f in factor_cells) + "-1",
            product - 1,
            self.fmt(bold=True, num_format="0.00%", top=1),
        )
        ws.write_string(row, 2, "equals the selected scenario's growth per year (Scenarios sheet)")
        row += 1
        self.table(ws, top, 0, ("Factor", "Growth per year", "Drivers"), len(c.bridge) + 1, "Bridge")
        row += 1

        ws.write_string(
            row,
            0,
            f"Tornado: market size {m.horizon_year} with one driver at its low and high (base scenario)",
            self.fmt(bold=True, font_size=12),
        )
        row += 1
        top = row
        row += 1
        for bar in c.tornado:
            cells = self.driver_cells[bar.driver]
            ws.write_string(row, 0, bar.label)
            self.formula(ws, row, 1, f"={cells['low']}", bar.low_growth, self.fmt(num_format="0.00%"))
            self.formula(ws, row, 2, f"={cells['high']}", bar.high_growth, self.fmt(num_format="0.00%"))
            for j, (end, value) in enumerate(
                ((cells["low"], bar.low_value), (cells["high"], bar.high_value)), start=3
            ):
                text = f"=UnitFactor*(NextSize*((1+ForecastGrowth)/(1+{cells['growth']})*(1+{end}))^(HorizonYear-NextYear))"
                self.formula(ws, row, j, text, self.in_units(value), self.fmt(num_format=self.money))
            low_value, high_value = self.in_units(bar.low_value), self.in_units(bar.high_value)
            self.formula(
                ws,
                row,
                5,
                f"={xl_rowcol_to_cell(row, 4)}-{xl_rowcol_to_cell(row, 3)}",
                high_value - low_value,
                self.fmt(num_format=self.money),
            )
            row += 1
        self.table(
            ws,
            top,
            0,
            (
                "Driver",
                "Low growth",
                "High growth",
                f"Market {m.horizon_year} at low",
                f"Market {m.horizon_year} at high",
                "Swing",
            ),
            len(c.tornado),
            "Tornado",
        )
        ws.freeze_panes(3, 0)
        ws.set_column(0, 0, 34)
        ws.set_column(1, 2, 14)
        ws.set_column(3, 3, 70)
        ws.set_column(4, 5, 16)

    # ------------------------------------------------------------------ Uncertainty

    def _uncertainty(self, ws: Worksheet, sheet: SheetLayout) -> None:
        c = self.context
        row = self.title(ws, sheet)
        top = row
        row += 1
        first = row
        stored = self.fmt(num_format=self.money, italic=True, font_color="#7F7F7F")
        for fan in c.fan:
            ws.write_number(row, 0, fan.year, self.fmt(num_format="0"))
            p10, p50, p90 = (self.in_units(v) for v in (fan.p10, fan.p50, fan.p90))
            ws.write_number(row, 1, p10, stored)
            ws.write_number(row, 2, p50, stored)
            ws.write_number(row, 3, p90, stored)
            self.formula(
                ws,
                row,
                4,
                f"={xl_rowcol_to_cell(row, 3)}-{xl_rowcol_to_cell(row, 1)}",
                p90 - p10,
                self.fmt(num_format=self.money),
            )
            base = self.in_units(self.market.forecast(fan.year, scenario=RESERVED_SCENARIO))
            self.formula(
                ws,
                row,
                5,
                f"={self.scenario_year_cell[(RESERVED_SCENARIO, fan.year)]}",
                base,
                self.fmt(num_format=self.money),
            )
            row += 1
        last = row - 1
        self.table(
            ws,
            top,
            0,
            ("Year", "P10 (stored)", "P50 (stored)", "P90 (stored)", "P90 - P10", "Base scenario (live)"),
            len(c.fan),
            "Uncertainty",
        )
        ws.write_string(
            row + 1,
            0,
            "P10, P50 and P90 are stored Monte Carlo values, not formulas.",
            self.fmt(italic=True, bold=True),
        )

        # A fan: an invisible P10 area with the P10-P90 band stacked on it, P50 and base as lines.
        band = self.book.add_chart({"type": "area", "subtype": "stacked"})
        categories = [ws.name, first, 0, last, 0]
        band.add_series(
            {
                "name": "P10",
                "categories": categories,
                "values": [ws.name, first, 1, last, 1],
                "fill": {"none": True},
                "border": {"none": True},
            }
        )
        band.add_series(
            {
                "name": "P10 to P90",
                "categories": categories,
                "values": [ws.name, first, 4, last, 4],
                "fill": {"color": c.client.brand_colour, "transparency": 70},
                "border": {"none": True},
            }
        )
        lines = self.book.add_chart({"type": "line"})
        lines.add_series(
            {
                "name": "P50",
                "categories": categories,
                "values": [ws.name, first, 2, last, 2],
                "line": {"color": c.client.brand_colour, "dash_type": "dash"},
            }
        )
        lines.add_series(
            {
                "name": "Base scenario",
                "categories": categories,
                "values": [ws.name, first, 5, last, 5],
                "line": {"color": "#000000", "width": 1.25},
            }
        )
        band.combine(lines)
        self._chart_layout(band, sheet, "Year")
        ws.insert_chart(top, 7, band, {"x_scale": 1.4, "y_scale": 1.3})
        ws.freeze_panes(top + 1, 1)
        ws.set_column(0, 0, 8)
        ws.set_column(1, 5, 16)

    # ------------------------------------------------------------------ Sources & method

    def _sources(self, ws: Worksheet, sheet: SheetLayout) -> None:
        c, m = self.context, self.market
        row = self.title(ws, sheet)
        top = row
        row += 1
        link = self.fmt(font_color="#0563C1", underline=1)
        for source in c.sources:
            ws.write_string(row, 0, source.key)
            ws.write_string(row, 1, source.publisher)
            ws.write_string(row, 2, source.title)
            ws.write_string(row, 3, source.date)
            if source.url.startswith(("https://", "http://")) and len(source.url) < 250:
                ws.write_url(row, 4, source.url, link, string=source.url)
            else:
                ws.write_string(row, 4, source.url)
            row += 1
        self.table(ws, top, 0, ("Key", "Publisher", "Title", "Date", "URL"), len(c.sources), "Sources")
        row += 1

        ws.write_string(
            row,
            0,
            "Calibration against the published figures (USD bn and fractions)",
            self.fmt(bold=True, font_size=12),
        )
        row += 1
        top = row
        row += 1
        cal = m.calibration
        n = m.horizon_year - m.next_year
        modelled = {
            "base_size": ("=BaseSize", cal.base_size),
            "next_size": ("=NextSize", cal.next_size),
            "historic_growth": ("=NextSize/BaseSize-1", cal.next_size / cal.base_size - 1),
            "horizon_size": (
                "=NextSize*(1+CalibratedGrowth)^(HorizonYear-NextYear)",
                cal.next_size * (1 + cal.forecast_cagr) ** n,
            ),
            "forecast_cagr": ("=CalibratedGrowth", cal.forecast_cagr),
        }
        for key, anchor in m.assumptions.anchors.items():
            numfmt = "0.000000" if anchor.units == "USD bn" else "0.0000%"
            text, value = modelled[key]
            ws.write_string(row, 0, anchor.label)
            self.formula(ws, row, 1, f"={self.anchor_cell[key]}", anchor.value, self.fmt(num_format=numfmt))
            self.formula(ws, row, 2, text, value, self.fmt(num_format=numfmt))
            here, published = xl_rowcol_to_cell(row, 2), xl_rowcol_to_cell(row, 1)
            self.formula(
                ws,
                row,
                3,
                f"={here}-{published}",
                value - anchor.value,
                self.fmt(num_format="+0.000000;-0.000000;0"),
            )
            ws.write_string(row, 4, f"inside +-{anchor.half_width:g}")
            row += 1
        self.table(
            ws,
            top,
            0,
            ("Published figure", "Published", "Calibrated", "Difference", "Interval"),
            len(m.assumptions.anchors),
            "Calibration",
        )
        row += 1

        wrap = self.fmt(text_wrap=True, valign="top")
        ws.write_string(row, 0, "Method", self.fmt(bold=True, font_size=12))
        row += 1
        for paragraph in sheet.spec.get("method", ()):
            ws.merge_range(row, 0, row, 4, "", wrap)
            ws.write_string(row, 0, " ".join(str(paragraph).split()), wrap)
            ws.set_row(row, 45)
            row += 1
        row += 1
        for heading, items in (
            ("Trends named in the source", c.trends),
            ("Growth factors in the forecast period", c.forecast_factors),
            ("Growth factors in the historic period", c.historic_factors),
        ):
            ws.write_string(row, 0, heading, self.fmt(bold=True))
            row += 1
            for item in items:
                ws.write_string(row, 0, f"- {item}")
                row += 1
            row += 1
        ws.set_column(0, 0, 36)
        ws.set_column(1, 1, 30)
        ws.set_column(2, 2, 60)
        ws.set_column(3, 4, 18)
        ws.freeze_panes(3, 0)

    # ------------------------------------------------------------------ Notes, Cover, Contents

    def field(self, name: str) -> str:
        """User and provenance text a layout asks for by name (never rendered through the template)."""
        c = self.context
        fields: dict[str, Callable[[], str]] = {
            "client": lambda: c.client.name,
            "generated": lambda: c.generated.strftime("%Y-%m-%d %H:%M UTC"),
            "scenario": lambda: c.scenario,
            "model_version": lambda: c.model_version,
            "assumption_origin": lambda: c.assumption_origin,
            "assumption_hash": lambda: c.assumption_hash,
            # Excel breaks lines at LF; a CR would show as "_x000D_" in some readers.
            "notes": lambda: c.client.notes.replace("\r\n", "\n").replace("\r", "\n"),
            "provenance": lambda: c.provenance,
        }
        if name not in fields:
            raise LayoutError(
                f"Invalid workbook layout: unknown field {name!r} (expected one of {', '.join(fields)})"
            )
        return fields[name]()

    def _notes(self, ws: Worksheet, sheet: SheetLayout) -> None:
        row = self.title(ws, sheet)
        wrap = self.fmt(text_wrap=True, valign="top")
        for item in sheet.spec.get("fields", ()):
            ws.write_string(row, 0, str(item["label"]), self.fmt(bold=True, valign="top"))
            ws.write_string(row, 1, self.field(str(item["field"])), wrap)
            row += 1
        row += 1
        for note in sheet.spec.get("notes", ()):
            ws.write_string(row, 1, f"- {' '.join(str(note).split())}", wrap)
            row += 1
        ws.set_column(0, 0, 18)
        ws.set_column(1, 1, 110)

    def _cover(self, ws: Worksheet, sheet: SheetLayout) -> None:
        c, m = self.context, self.market
        brand = c.client.brand_colour
        ws.set_row(0, 8, self.fmt(bg_color=brand))
        ws.write_string(2, 1, sheet.text("title"), self.fmt(bold=True, font_size=20, font_color=brand))
        ws.write_string(3, 1, sheet.text("subtitle"), self.fmt(font_size=12, font_color="#595959"))
        row = 5
        for item in sheet.spec.get("fields", ()):
            ws.write_string(row, 1, str(item["label"]), self.fmt(bold=True))
            ws.write_string(row, 2, self.field(str(item["field"])))
            row += 1
        row += 1
        big_money = self.fmt(bold=True, font_size=14, num_format=self.money)
        big_pct = self.fmt(bold=True, font_size=14, num_format=self.pct)
        for item in sheet.spec.get("headline", ()):
            ws.write_string(
                row,
                1,
                f"{item['label']}, {UNIT_LABELS[self.units]}"
                if item.get("format") == "money"
                else str(item["label"]),
            )
            if "year" in item:
                y = int(item["year"])
                self.formula(ws, row, 2, f"={self.forecast_cell[y]}", self.forecast_value[y], big_money)
            else:
                start, end = (int(v) for v in item["cagr"])
                text = f"=({self.forecast_cell[end]}/{self.forecast_cell[start]})^(1/({end}-{start}))-1"
                self.formula(ws, row, 2, text, m.cagr(start, end, scenario=self.scenario), big_pct)
            row += 1
        row += 1
        ws.merge_range(row, 1, row + 2, 4, "", self.fmt(text_wrap=True, valign="top", italic=True))
        ws.write_string(row, 1, sheet.text("note"), self.fmt(text_wrap=True, valign="top", italic=True))
        if c.client.logo is not None:
            ws.insert_image(2, 5, str(c.client.logo), {"x_scale": 0.5, "y_scale": 0.5, "object_position": 3})
        ws.set_column(0, 0, 3)
        ws.set_column(1, 1, 28)
        ws.set_column(2, 2, 48)
        ws.set_column(3, 4, 14)
        ws.activate()

    def _contents(self, ws: Worksheet, sheet: SheetLayout) -> None:
        row = self.title(ws, sheet)
        link = self.fmt(font_color="#0563C1", underline=1)
        for other in self.layout:
            ws.write_url(row, 0, f"internal:{quote_sheetname(other.name)}!A1", link, string=other.name)
            ws.write_string(row, 1, other.text("description") or other.text("title"))
            row += 1
        ws.set_column(0, 0, 20)
        ws.set_column(1, 1, 90)
