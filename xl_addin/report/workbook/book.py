"""The workbook being written: formats, the named-cell registry, formulas with stored results, print setup.

A :class:`Book` wraps one XlsxWriter workbook for one report context. Sheet writers
(:mod:`.sheets`) put cells on it; the book remembers where each input and output landed
(:class:`Cells`), so a later sheet's formula can reference it, and it checks that a sheet reads only
the cells of the sheet kinds it declares it needs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ...common.formats import UNIT_LABELS, excel_money_format, excel_percent_format, in_units
from ...errors import LayoutError, WorkbookError
from ..context import ReportContext
from ..layout import SheetLayout
from .formulas import Formula

INPUT_FONT = "#0000FF"  # FAST / banking convention: inputs blue on light yellow
INPUT_FILL = "#FFF2CC"
FOLLOW_FONT = "#595959"  # an input cell that follows another input until a number is typed
INPUT_PERCENT_DECIMALS = 2
PAPER = {"A4": 9, "Letter": 1}  # XlsxWriter's paper codes for the profile's paper sizes
CUSTOM_PROPERTY_LIMIT = 255  # characters Excel keeps in a custom document property
SERIES_COLOURS = ("#A5A5A5", "#ED7D31", "#70AD47", "#FFC000", "#5B9BD5", "#7030A0", "#C00000", "#264478")

_PLACEHOLDER = re.compile(r"\{(market|Market|publication)\}")

CellKey = tuple[Any, ...]
"""What a registered cell holds, e.g. ``("total", 2030)`` or ``("driver", "telemedicine", "low")``."""


def cell(sheet: str, row: int, col: int) -> str:
    """An absolute reference to a cell of a sheet: ``'By region'!$B$4``."""
    return f"{quote_sheetname(sheet)}!{xl_rowcol_to_cell(row, col, True, True)}"


def span(sheet: str, first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    """An absolute reference to a range of a sheet."""
    return f"{cell(sheet, first_row, first_col)}:{xl_rowcol_to_cell(last_row, last_col, True, True)}"


def here(row: int, col: int, *, fixed_row: bool = False, fixed_col: bool = False) -> str:
    """A reference to a cell of the same sheet: ``B4``, or ``B$4`` / ``$B4`` with the row or column fixed."""
    return xl_rowcol_to_cell(row, col, fixed_row, fixed_col)


@dataclass(frozen=True)
class Placed:
    """Where a registered cell landed, the result stored in it, and the sheet kind that wrote it."""

    ref: str
    value: Any
    kind: str


class Cells:
    """The named-cell registry: where each input and output landed, by key.

    Keys say what a cell holds: ``("total", year)`` (Forecast, selected scenario), ``("scenario total",
    scenario, year)`` and ``("scenario growth", scenario)`` (Scenarios), ``("share", dimension, member)``,
    ``("relative growth", dimension, member)``, ``("driver", key, "growth" | "low" | "high")``,
    ``("scenario driver", scenario, key)`` and ``("anchor", key)`` (Inputs). A sheet may read only
    cells written by itself or by the kinds it needs (see :mod:`.sheets`): reading any other is an error
    naming both kinds, so a sheet's declared needs stay true.
    """

    def __init__(self) -> None:
        self._placed: dict[CellKey, Placed] = {}
        self._kind = ""
        self._needs: tuple[str, ...] = ()

    def filling(self, kind: str, needs: Sequence[str]) -> None:
        """The sheet kind being written now and the kinds it may read from."""
        self._kind, self._needs = kind, tuple(needs)

    def put(self, key: CellKey, ref: str, value: Any = None) -> None:
        """Register where a cell landed (an absolute reference) and the result stored in it."""
        if key in self._placed:
            raise LayoutError(
                f"Invalid workbook layout: two sheets write {key!r} (sheet kind {self._kind!r})"
            )
        self._placed[key] = Placed(ref, value, self._kind)

    def get(self, key: CellKey) -> Placed:
        """A registered cell, checked against the needs of the sheet kind being written."""
        placed = self._placed.get(key)
        if placed is None:
            raise LayoutError(
                f"Invalid workbook layout: sheet kind {self._kind!r} reads {key!r}, which no sheet wrote"
            )
        if placed.kind != self._kind and placed.kind not in self._needs:
            raise LayoutError(
                f"Invalid workbook layout: sheet kind {self._kind!r} reads {key!r} from kind {placed.kind!r},"
                f" which is not among its needs ({', '.join(self._needs) or 'none'})"
            )
        return placed

    def ref(self, key: CellKey) -> str:
        """The absolute reference of a registered cell."""
        return self.get(key).ref


class Book:
    """One client workbook being written: the context it shows, its sheets, formats and registered cells."""

    def __init__(self, context: ReportContext, layout: Sequence[SheetLayout], path: Path) -> None:
        self.context = context
        self.market = context.market
        self.layout = tuple(layout)
        self.units = context.units
        self.scenario = context.scenario
        self.cells = Cells()
        m, profile = self.market, context.client
        self.years = tuple(
            range(min(profile.first_year, m.base_year), max(profile.last_year, m.horizon_year) + 1)
        )
        """The years every by-year table shows: the profile's span, widened to the published years."""
        self.workbook = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False})
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}
        self.sheets: Mapping[str, Worksheet] = {s.name: self.workbook.add_worksheet(s.name) for s in layout}

    # ------------------------------------------------------------------ formats

    def fmt(self, **props: Any) -> Format:
        """A cached cell format (XlsxWriter formats are objects; one per distinct look)."""
        key = tuple(sorted(props.items()))
        found = self._formats.get(key)
        if found is None:
            found = self._formats[key] = self.workbook.add_format(
                {"font_name": "Calibri", "font_size": 10, **props}
            )
        return found

    @property
    def money(self) -> str:
        """The Excel number format of money in the pack's units."""
        return excel_money_format(self.units)

    @property
    def pct(self) -> str:
        """The Excel number format of a share or growth rate as the brief shows it."""
        return excel_percent_format()

    @property
    def input_pct(self) -> str:
        """The number format of a rate typed on Inputs (two decimals: inputs are read closely)."""
        return excel_percent_format(INPUT_PERCENT_DECIMALS)

    @property
    def unit_label(self) -> str:
        """The pack's units as readers see them: ``USD bn``."""
        return UNIT_LABELS[self.units]

    def input_fmt(self, num_format: str) -> Format:
        """An input cell: blue on light yellow."""
        return self.fmt(
            font_color=INPUT_FONT,
            bg_color=INPUT_FILL,
            border=1,
            border_color="#BFBFBF",
            num_format=num_format,
        )

    def follow_fmt(self, num_format: str) -> Format:
        """An input cell that follows another input (a formula) until a number is typed over it."""
        return self.fmt(
            font_color=FOLLOW_FONT, italic=True, border=1, border_color="#BFBFBF", num_format=num_format
        )

    def header_fmt(self) -> Format:
        """A table header in the client's brand colour."""
        return self.fmt(
            bold=True, font_color="#FFFFFF", bg_color=self.context.client.brand_colour, text_wrap=True
        )

    def heading_fmt(self) -> Format:
        """The heading above a table."""
        return self.fmt(bold=True, font_size=12)

    def in_units(self, value_bn: float) -> float:
        """A value in USD bn in the pack's units."""
        return in_units(value_bn, self.units)

    # ------------------------------------------------------------------ cells

    def fill(self, text: str) -> str:
        """A layout text with what the assumption set says filled in: ``{market}`` (the market's name),
        ``{Market}`` (the same starting a title) and ``{publication}`` (whom the anchors come from).

        The layout template never sees these (they come from a file a user may write), so a name with
        YAML or Jinja syntax in it cannot change the layout.
        """
        c = self.context
        values = {"market": c.market_name, "Market": c.title_name, "publication": c.publication.citation()}
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)  # one pass: values are not read again

    def text(self, sheet: SheetLayout, key: str, default: str = "") -> str:
        """A text of a sheet in the layout (title, description, note), filled in (see :meth:`fill`)."""
        return self.fill(sheet.text(key, default))

    def chart_title(self, sheet: SheetLayout) -> str:
        """The title the layout gives a sheet's chart, else the sheet's title."""
        spec = sheet.spec.get("chart") or {}
        return self.fill(str(spec.get("title", sheet.text("title"))))

    def title(self, ws: Worksheet, sheet: SheetLayout) -> int:
        """Title and note lines at the top of a sheet; returns the next free row."""
        ws.write_string(
            0,
            0,
            self.text(sheet, "title", sheet.name),
            self.fmt(bold=True, font_size=14, font_color=self.context.client.brand_colour),
        )
        row = 1
        for key in ("description", "note"):
            text = self.text(sheet, key)
            if text:
                ws.write_string(
                    row, 0, text[:1].upper() + text[1:], self.fmt(italic=True, font_color="#595959")
                )
                row += 1
        return row + 1

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

    def formula(self, ws: Worksheet, row: int, col: int, formula: Formula, fmt: Format | None = None) -> None:
        """A live formula with the engine's result stored beside it."""
        value = formula.value
        if isinstance(value, float) and not math.isfinite(value):
            raise WorkbookError(f"Cannot write {ws.name}!{here(row, col)}: the model gives {value}")
        ws.write_formula(row, col, formula.text, fmt, value)

    def show(
        self, ws: Worksheet, row: int, col: int, ref: str, value: Any, fmt: Format | None = None
    ) -> None:
        """A formula that shows another cell (``=D40``) with that cell's stored result."""
        self.formula(ws, row, col, Formula(f"={ref}", value), fmt)

    def link(self, ws: Worksheet, row: int, col: int, key: CellKey, fmt: Format | None = None) -> None:
        """A formula that shows a registered cell (``='Inputs'!$D$40``) with that cell's stored result."""
        placed = self.cells.get(key)
        self.show(ws, row, col, placed.ref, placed.value, fmt)

    def define(self, name: str, ref: str) -> None:
        """An Excel defined name (``BaseSize``) for a cell or range; formulas use it by name."""
        self.workbook.define_name(name, f"={ref}")

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

    def chart(self, options: Mapping[str, Any]) -> Any:
        """A native Excel chart (placed on a sheet with ``insert_chart``)."""
        return self.workbook.add_chart(dict(options))

    def chart_layout(self, chart: Any, sheet: SheetLayout, x_name: str, title: str | None = None) -> None:
        """Title, axes and legend of a chart on a sheet: money on the y axis, in the pack's units."""
        chart.set_title({"name": title or self.chart_title(sheet), "name_font": {"size": 11}})
        chart.set_x_axis({"name": x_name, "num_font": {"rotation": -45}})
        chart.set_y_axis(
            {
                "name": self.unit_label,
                "num_format": self.money,
                "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
            }
        )
        chart.set_legend({"position": "bottom"})

    # ------------------------------------------------------------------ the file

    def print_setup(self, ws: Worksheet) -> None:
        """Landscape, one page wide, the profile's paper, no gridlines, provenance in the footer."""
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_paper(PAPER.get(self.context.client.paper, 9))
        ws.hide_gridlines(2)
        # Header and footer codes start with '&': provenance is hex and digits, so nothing to escape.
        ws.set_footer(f"&L&8{self.context.provenance}&R&8&P / &N")

    def close(self) -> None:
        """Set the document properties (provenance, client) and write the file."""
        c = self.context
        self.workbook.set_properties(
            {
                "title": f"{c.title_name} data pack",
                "subject": f"Prepared for {c.client.name}",
                "author": "imgout",
                "company": "imgout",
                "keywords": c.provenance,
                "comments": c.provenance,
                "created": c.generated.replace(tzinfo=None),
            }
        )
        self.workbook.set_custom_property("imgout model version", c.model_version)
        self.workbook.set_custom_property("imgout assumption hash", c.assumption_hash)
        self.workbook.set_custom_property("imgout scenario", c.scenario)
        self.workbook.set_custom_property("imgout client", c.client.name[:CUSTOM_PROPERTY_LIMIT])
        self.workbook.close()
