"""The workbook being written: formats, the named-cell registry, formulas with stored results, printing.

A :class:`Book` wraps one XlsxWriter workbook for one report context. Sheet writers
(:mod:`.sheets`) put cells on it; the book remembers where each input and output landed
(:class:`Cells`), so a later sheet's formula can reference it, and it checks that a sheet reads only
the cells of the sheet kinds it declares it needs.

Calculation sheets run time across the columns: every one puts the same years in the same columns
(:meth:`Book.timeline`), so a row of one sheet can read the same column of a row of another and every
row holds one formula copied across. The book also lays out each sheet for print (:class:`Page`): the
column widths and row heights it was given, the blocks that should not be split and the charts decide
the print area, the scale (fit to the page's width only while text stays at 8.5 pt or more, otherwise
full size with the label column repeated) and the page breaks.
"""

from __future__ import annotations

import math
import re
import textwrap
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
from ...model.assumptions import Bound
from ..context import ReportContext
from ..layout import SheetLayout
from .formulas import Formula, base_captioned, caption_value, joined

#: Functions that Excel 2010+, LibreOffice and Gnumeric all know and none of which is an Excel 365 "future
#: function" XlsxWriter would prefix with ``_xlfn.``: the only ones the workbook's formulas use.
CLASSIC_FUNCTIONS = frozenset(
    {
        "ABS", "AND", "COUNT", "IF", "IFERROR", "INDEX", "ISNUMBER", "LEN", "MATCH", "MAX", "MEDIAN",
        "MID", "MIN", "OR", "ROUND", "ROWS", "SEARCH", "SUM", "SUMPRODUCT",
    }
)  # fmt: skip
_FUNCTION_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")


#: Prepared formulas by (formula, expand_future_functions): a batch writes the same 2,200 formulas for
#: every client of a scenario, so from the second workbook of a process on each is a lookup. Preparing
#: depends on nothing but the two (XlsxWriter's own function of them), so the cache cannot go stale.
_PREPARED: dict[tuple[str, bool], str] = {}
PREPARED_LIMIT = 100_000


class ClassicFormulaSheet(Worksheet):
    """A worksheet that skips XlsxWriter's future-function renaming for formulas that need none.

    XlsxWriter runs some 30 regular expressions over every formula to prefix Excel 365 functions
    (``_xlfn.XLOOKUP``); with 2,200 formulas a workbook that was 40 % of its build and a third of a batch
    pack's CPU. A formula naming only :data:`CLASSIC_FUNCTIONS` needs none, so it is prepared as XlsxWriter
    prepares it, without them; any other formula goes through XlsxWriter's own path. This overrides
    XlsxWriter's private ``Worksheet._prepare_formula``: XlsxWriter is pinned in pyproject.toml, and
    tests/test_workbook.py checks, formula by formula, that this gives exactly what XlsxWriter gives.
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, expand_future_functions)
        prepared = _PREPARED.get(key)
        if prepared is None:
            if len(_PREPARED) >= PREPARED_LIMIT:
                _PREPARED.clear()
            prepared = _PREPARED[key] = self._prepare_uncached(formula, expand_future_functions)
        return prepared

    def _prepare_uncached(self, formula: str, expand_future_functions: bool) -> str:
        # XlsxWriter's own first steps: array braces and the leading '=' removed.
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        if set(_FUNCTION_CALL.findall(formula)) <= CLASSIC_FUNCTIONS:
            return formula
        return str(super()._prepare_formula(formula, expand_future_functions))


INPUT_FONT = "#0000FF"  # FAST / banking convention: inputs blue on light yellow
INPUT_FILL = "#FFF2CC"
FOLLOW_FONT = "#595959"  # an input cell that follows another input until a number is typed
INPUT_PERCENT_DECIMALS = 2
STORED_FONT = "#7F7F7F"  # stored values that do not recompute (Monte Carlo percentiles)
PAPER = {"A4": 9, "Letter": 1}  # XlsxWriter's paper codes for the profile's paper sizes
PAGE_POINTS = {"A4": (842.0, 595.0), "Letter": (792.0, 612.0)}  # landscape width, height
MARGIN_INCHES = {"left": 0.5, "right": 0.5, "top": 0.7, "bottom": 0.7}
HEADER_INCHES = 0.3
BODY_POINTS = 10.0
MIN_PRINT_SCALE = 0.85  # 10 pt text printed at 8.5 pt at the smallest
ROW_POINTS = 15.0  # Excel's default row height for the workbook's fonts
LINE_POINTS = 13.0  # one line of wrapped 10 pt text
CHART_SIZE = (480, 288)  # XlsxWriter's default chart size in pixels
LABEL_WIDTH = 26  # the label column of a time-across sheet, in characters
YEAR_WIDTH = 7.5  # a year column: "#,##0.00" money and percentages at 10 pt
TITLE_LINE = 130  # characters of a description line under a title (fits a landscape page's width)
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


@dataclass(frozen=True)
class InputCell:
    """A cell a user types in (Inputs), with the engine's rule for it (:mod:`~xl_addin.model.assumptions.rules`).

    ``key`` is the per-call override it stands for (``cagr``, ``share.Asia-Pacific``) or, where there is
    none, the assumption file's key (``scenarios.bull.drivers.telemedicine``): what the engine's error
    names. ``path`` is the file's key the value would have, for a value the file holds. ``optional``: a
    blank means "none" (an override); ``in_set`` is the set's value (None: none); ``used`` the cell of the
    value in force (the input itself where there is no override column).
    """

    ref: str
    key: str
    path: str
    bound: Bound
    optional: bool
    in_set: float | None
    used: str
    value: float | None = None
    in_force: float | None = None

    @property
    def where(self) -> str:
        """The cell as a reader finds it: ``Inputs!D25``."""
        sheet, coordinate = self.ref.rsplit("!", 1)
        return f"{sheet.strip(chr(39))}!{coordinate.replace('$', '')}"


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

    @property
    def kind(self) -> str:
        """The sheet kind being written now."""
        return self._kind

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

    def has(self, key: CellKey) -> bool:
        """Whether some sheet registered a cell (a kind that is only shown may be left out of a layout)."""
        return key in self._placed


class Page:
    """How one sheet prints: what the writer said about its columns, rows, blocks and charts.

    Widths are Excel character widths, heights points; a *block* is a range of rows that should stay on
    one page (a table with its heading, a chart). :meth:`Book.print_setup` turns this into the print area,
    scale, repeated rows and columns, and page breaks.
    """

    def __init__(self) -> None:
        self.widths: dict[int, float] = {}
        self.heights: dict[int, float] = {}
        self.blocks: list[tuple[int, int]] = []
        self.last_row = 0
        self.header_row: int | None = None  # the row repeated on every printed page (a timeline)
        self.label_columns = 1  # columns repeated when a page is too wide to fit

    def width_points(self, first: int, last: int) -> float:
        """Printed width of columns ``first`` to ``last`` (pixels as Excel sizes them, at 0.75 pt each)."""
        return sum(_column_pixels(self.widths.get(c, 8.43)) for c in range(first, last + 1)) * 0.75

    def height(self, row: int) -> float:
        """A row's height in points."""
        return self.heights.get(row, ROW_POINTS)

    def extend(self, row: int) -> None:
        """The print area reaches at least this row."""
        self.last_row = max(self.last_row, row)


def _wrapped_lines(text: str, width: int) -> int:
    """How many lines a text takes wrapped at word breaks to ``width`` characters (at least one); a word
    longer than a line takes several, as Excel breaks it."""
    lines, used = 1, 0
    for word in text.split():
        n = len(word)
        if used and used + 1 + n <= width:
            used += 1 + n
            continue
        if used:
            lines += 1
        lines += (n - 1) // width
        used = n - (n - 1) // width * width
    return lines


def _column_pixels(width: float) -> int:
    """A column width in characters as pixels, as Excel (and XlsxWriter) size it."""
    return int(width * 12 + 0.5) if width < 1 else int(width * 7 + 0.5) + 5


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
        published = [y for e in m.assumptions.estimates.values() for y in e.years]
        self.years = tuple(
            range(
                min(profile.first_year, m.base_year, *published),
                max(profile.last_year, m.horizon_year, *published) + 1,
            )
        )
        """The years every by-year table shows: the profile's span, widened to every published year (the
        model's and the publishers')."""
        self.workbook = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False})
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}
        self.sheets: Mapping[str, Worksheet] = {
            s.name: self.workbook.add_worksheet(s.name, worksheet_class=ClassicFormulaSheet) for s in layout
        }
        self.pages: dict[str, Page] = {s.name: Page() for s in layout}
        self.inputs: list[InputCell] = []
        """Every cell a user types a number in, with the engine's rule for it (see :meth:`typed`)."""
        self._later: list[tuple[str, Callable[[], None]]] = []

    # ------------------------------------------------------------------ formats

    def fmt(self, **props: Any) -> Format:
        """A cached cell format (XlsxWriter formats are objects; one per distinct look)."""
        key = tuple(sorted(props.items()))
        found = self._formats.get(key)
        if found is None:
            found = self._formats[key] = self.workbook.add_format(
                {"font_name": "Calibri", "font_size": BODY_POINTS, "valign": "top", **props}
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
        """An input cell: blue on light yellow, the only cells left unlocked on a protected sheet."""
        return self.fmt(
            font_color=INPUT_FONT,
            bg_color=INPUT_FILL,
            border=1,
            border_color="#BFBFBF",
            num_format=num_format,
            locked=False,
        )

    def follow_fmt(self, num_format: str) -> Format:
        """A calculated default beside an override cell: grey italic, a formula (typing goes next door)."""
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

    def wrap_fmt(self, **props: Any) -> Format:
        """Text that wraps inside its column, top-aligned."""
        return self.fmt(text_wrap=True, valign="top", **props)

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

    def title(self, ws: Worksheet, sheet: SheetLayout, *, scenario: bool = False) -> int:
        """Title and note lines at the top of a sheet; returns the next free row.

        With ``scenario`` the title is a formula that names the scenario selected on Inputs (an output
        sheet), so choosing another scenario renames the sheet's title, and its printed pages, with it.
        """
        title_fmt = self.fmt(bold=True, font_size=14, font_color=self.context.client.brand_colour)
        text = self.text(sheet, "title", sheet.name)
        if scenario:
            self.formula(ws, 0, 0, self.captioned(text), title_fmt)
        else:
            ws.write_string(0, 0, text, title_fmt)
        ws.set_row(0, 21)
        self.pages[ws.name].heights[0] = 21
        row = 1
        grey = self.fmt(italic=True, font_color="#595959")
        for key in ("description", "note"):
            text = self.text(sheet, key)
            # Lines of their own rather than text wrapped in column A (too narrow on a time-across sheet):
            # each runs over the empty cells to its right, on screen and on paper.
            for line in textwrap.wrap(text[:1].upper() + text[1:], TITLE_LINE):
                ws.write_string(row, 0, line, grey)
                row += 1
        return row + 1

    def captioned(self, text: str) -> Formula:
        """A title followed by the selected scenario's caption (``ScenarioCaption`` on Scenarios)."""
        return joined(text + ": ", "ScenarioCaption", caption_value(self.market, self.scenario))

    def base_captioned(self, text: str) -> Formula:
        """A title followed by the base scenario's caption, for a result computed for base whichever
        scenario is selected (the tornado)."""
        return base_captioned(self.market, text)

    def later(self, write: Callable[[], None]) -> None:
        """Write a cell once every sheet is filled: a sheet showing a result of a kind it does not need
        (the master check on Inputs and the Cover, declared in the module's ``SHOWS``)."""
        self._later.append((self.cells.kind, write))

    def pending(self) -> list[tuple[str, Callable[[], None]]]:
        """The cells left for after every sheet is filled, with the kind of sheet each belongs to."""
        return list(self._later)

    def paragraph(self, ws: Worksheet, row: int, col: int, text: str, **props: Any) -> None:
        """Text that wraps inside its column, the row made tall enough for every line (no merged cells).

        Without ``text_wrap`` a long sentence runs over the cells to its right and is cut at the page's
        edge when printed; the row height is set so every engine shows the same lines.
        """
        ws.write_string(row, col, text, self.wrap_fmt(**props))
        self.fit_row(ws, row, col, text)

    def fit_row(self, ws: Worksheet, row: int, col: int, text: str) -> None:
        """Make a row tall enough for wrapped text in one of its cells (keeps the tallest)."""
        page = self.pages[ws.name]
        chars = max(int(page.widths.get(col, 8.43) * 1.15), 8)
        lines = sum(_wrapped_lines(part, chars) for part in text.split("\n"))
        height = max(ROW_POINTS, lines * LINE_POINTS + 2)
        if height > page.height(row):
            page.heights[row] = height
            ws.set_row(row, height)

    def helper_row(self, ws: Worksheet, row: int) -> None:
        """A row other rows calculate from that a reader need not read (the words a status is made of, a
        status in full where a code is shown, a difference a check reads): grouped and hidden (Excel's +
        beside the rows shows it), so it takes no room on screen or on paper."""
        ws.set_row(row, None, None, {"level": 1, "hidden": True})
        self.pages[ws.name].heights[row] = 0.0

    def columns(self, ws: Worksheet, widths: Mapping[int, float]) -> None:
        """Column widths in characters, remembered for printing; set these before writing wrapped text."""
        for col, width in widths.items():
            # The column's format is what a cell written without one takes: top-aligned, like wrapped text
            # beside it, so a label sits level with its row's values.
            ws.set_column(col, col, width, self.fmt())
            self.pages[ws.name].widths[col] = width

    def keep(self, ws: Worksheet, first_row: int, last_row: int) -> None:
        """Rows that should print on one page (a table with its heading)."""
        page = self.pages[ws.name]
        page.blocks.append((first_row, last_row))
        page.extend(last_row)

    def timeline(self, ws: Worksheet, row: int, label: str = "Year") -> int:
        """The years across the columns (one column per year, the same columns on every sheet).

        The row is frozen on screen and repeated on every printed page; formulas read their year from it.
        Returns the next row.
        """
        year_header = self.fmt(
            bold=True, num_format="0", font_color="#FFFFFF", bg_color=self.context.client.brand_colour
        )
        ws.write_string(row, 0, label, self.header_fmt())
        for y in self.years:
            ws.write_number(row, self.year_col(y), y, year_header)
        ws.freeze_panes(row + 1, 1)
        page = self.pages[ws.name]
        page.header_row = row
        self.columns(ws, {0: LABEL_WIDTH, **{self.year_col(y): YEAR_WIDTH for y in self.years}})
        return row + 1

    def timeline_span(self, ws: Worksheet) -> str:
        """A sheet's own timeline row, absolute: ``$B$4:$Q$4``."""
        row = self.pages[ws.name].header_row
        assert row is not None
        first, last = self.year_col(self.years[0]), self.year_col(self.years[-1])
        return f"{xl_rowcol_to_cell(row, first, True, True)}:{xl_rowcol_to_cell(row, last, True, True)}"

    def column_of(self, key: CellKey, year: int) -> str:
        """A registered block of rows (``sheet!first:last``) in a year's column, rows fixed and column
        relative: ``'Market estimates'!C$20:C$25``."""
        sheet, rows = self.cells.get(key).ref.rsplit("!", 1)
        first, last = (int(r) for r in rows.split(":"))
        col = xl_rowcol_to_cell(0, self.year_col(year))[:-1]
        return f"{sheet}!{col}${first + 1}:{col}${last + 1}"

    def year_col(self, year: int) -> int:
        """The column of a year on every time-across sheet."""
        return 1 + year - self.years[0]

    def year_ref(self, ws: Worksheet, year: int) -> str:
        """The timeline cell of a year on a sheet, row fixed: ``C$4`` (copied across, it moves with the year)."""
        row = self.pages[ws.name].header_row
        if row is None:
            raise LayoutError(
                f"Invalid workbook layout: sheet {ws.name!r} reads its timeline before writing it"
            )
        return here(row, self.year_col(year), fixed_row=True)

    def put_row(self, key: CellKey, ws: Worksheet, row: int, values: Mapping[int, float]) -> None:
        """Register a by-year row (the total, a member's value): other sheets read it column by column."""
        self.cells.put(key, f"{quote_sheetname(ws.name)}!{row + 1}", dict(values))

    def at(self, key: CellKey, year: int) -> tuple[str, Any]:
        """A registered by-year row's cell in a year's column, row fixed and column relative
        (``Forecast!C$6``), with its stored result."""
        placed = self.cells.get(key)
        sheet, row = placed.ref.rsplit("!", 1)
        return f"{sheet}!{xl_rowcol_to_cell(0, self.year_col(year))[:-1]}${row}", placed.value.get(year)

    def row_span(self, key: CellKey) -> str:
        """The whole timeline of a registered by-year row, absolute: ``Forecast!$B$6:$Q$6``."""
        placed = self.cells.get(key)
        sheet, row = placed.ref.rsplit("!", 1)
        r = int(row) - 1
        first, last = self.year_col(self.years[0]), self.year_col(self.years[-1])
        return f"{sheet}!{xl_rowcol_to_cell(r, first, True, True)}:{xl_rowcol_to_cell(r, last, True, True)}"

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

    def typed(
        self,
        ws: Worksheet,
        row: int,
        col: int,
        bound: Bound,
        key: str,
        *,
        path: str = "",
        optional: bool = True,
        in_set: float | None = None,
        used: str = "",
        value: float | None = None,
        in_force: float | None = None,
    ) -> InputCell:
        """Register an input cell with the engine's rule for it and give it that rule's data validation:
        the Checks sheet checks it and the Overrides sheet lists it (see :class:`InputCell`)."""
        ref = cell(ws.name, row, col)
        in_force = value if in_force is None else in_force
        typed = InputCell(ref, key, path or key, bound, optional, in_set, used or ref, value, in_force)
        self.inputs.append(typed)
        self.validate_rule(ws, row, col, row, bound)
        return typed

    def validate_rule(self, ws: Worksheet, first_row: int, col: int, last_row: int, bound: Bound) -> None:
        """Data validation from the engine's rule for a kind of value (an exact limit the rule refuses,
        a share of 0 or 1 for instance, is left to the Checks sheet)."""
        self.validate(ws, first_row, col, last_row, bound.low, bound.high, bound.what.removeprefix("a "),
                      whole=bound.whole)  # fmt: skip

    def validate(
        self,
        ws: Worksheet,
        first_row: int,
        col: int,
        last_row: int,
        low: float,
        high: float,
        what: str,
        *,
        whole: bool = False,
    ) -> None:
        """Data validation on input cells: a number from ``low`` to ``high`` (or blank), saying so on entry."""
        shown = (f"{low:g}", f"{high:g}") if whole else (f"{low:.0%}", f"{high:.0%}")
        ws.data_validation(
            first_row,
            col,
            last_row,
            col,
            {
                "validate": "integer" if whole else "decimal",
                "criteria": "between",
                "minimum": low,
                "maximum": high,
                "ignore_blank": True,
                "input_title": what[:32],
                "input_message": f"A number from {shown[0]} to {shown[1]}."[:255],
                "error_title": f"Not a valid {what}"[:32],
                "error_message": f"Type a {what} from {shown[0]} to {shown[1]}."[:255],
            },
        )

    def table(self, ws: Worksheet, row: int, col: int, headers: Sequence[str], rows: int, name: str) -> None:
        """An Excel table over cells already written: header row at ``row``, ``rows`` data rows below."""
        last = row + max(rows, 1)
        ws.add_table(
            row,
            col,
            last,
            col + len(headers) - 1,
            {
                "name": name,
                "style": "Table Style Light 9",
                "columns": [{"header": h, "header_format": self.header_fmt()} for h in headers],
            },
        )
        for j, header in enumerate(headers):
            self.fit_row(ws, row, col + j, header)
        self.keep(ws, max(row - 1, 0), last)

    def chart(self, options: Mapping[str, Any]) -> Any:
        """A native Excel chart (placed on a sheet with :meth:`place`)."""
        return self.workbook.add_chart(dict(options))

    def chart_layout(
        self, chart: Any, title: str | tuple[str, int, int], x_name: str | None, y_name: str | None = None
    ) -> None:
        """Title, axes and legend of a chart: money on the y axis in the pack's units, text at 9 pt or more.

        ``title`` may be a cell (sheet, row, column): the chart then shows that cell, so a title formula
        naming the selected scenario renames the chart with it.
        """
        name: Any = list(title) if isinstance(title, tuple) else title
        chart.set_title({"name": name, "name_font": {"size": 11, "bold": True}})
        chart.set_x_axis(
            {"name": x_name, "name_font": {"size": 10}, "num_font": {"size": 10, "rotation": -45}}
            if x_name
            else {"num_font": {"size": 10}}
        )
        chart.set_y_axis(
            {
                "name": y_name or self.unit_label,
                "name_font": {"size": 10},
                "num_font": {"size": 10},
                "num_format": self.money,
                "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
            }
        )
        chart.set_legend({"position": "bottom", "font": {"size": 10}})

    def place(
        self,
        ws: Worksheet,
        row: int,
        col: int,
        chart: Any,
        description: str,
        scale: tuple[float, float] = (1, 1),
    ) -> int:
        """Put a chart on a sheet with its alt text (what it shows, for screen readers); returns the row
        below it. The chart and the caption row above it are one block for printing."""
        ws.insert_chart(
            row, col, chart, {"x_scale": scale[0], "y_scale": scale[1], "description": description}
        )
        rows = math.ceil(CHART_SIZE[1] * scale[1] * 0.75 / ROW_POINTS) + 1
        page = self.pages[ws.name]
        right = col + math.ceil(CHART_SIZE[0] * scale[0] / _column_pixels(page.widths.get(col, 8.43)))
        for c in range(col, right + 1):
            page.widths.setdefault(c, 8.43)
        self.keep(ws, max(row - 1, 0), row + rows)
        return row + rows + 1

    def protect(self, ws: Worksheet) -> None:
        """Lock every cell but the inputs (no password: a user can lift it from Excel's Review tab)."""
        ws.protect(
            "",
            {
                "format_columns": True,
                "format_rows": True,
                "select_locked_cells": True,
                "select_unlocked_cells": True,
            },
        )

    # ------------------------------------------------------------------ the file

    def print_setup(self, ws: Worksheet) -> None:
        """Landscape on the profile's paper, text at 8.5 pt or more, header rows and labels repeated,
        page breaks between blocks, no gridlines, provenance in the footer."""
        paper = self.context.client.paper if self.context.client.paper in PAPER else "A4"
        page = self.pages[ws.name]
        ws.set_landscape()
        ws.set_paper(PAPER[paper])
        ws.set_margins(**MARGIN_INCHES)
        ws.hide_gridlines(2)
        last_col = max(page.widths, default=0)
        last_row = max(page.last_row, ws.dim_rowmax or 0)
        ws.print_area(0, 0, last_row, last_col)
        width, height = PAGE_POINTS[paper]
        printable_width = width - 72 * (MARGIN_INCHES["left"] + MARGIN_INCHES["right"])
        printable_height = height - 72 * (MARGIN_INCHES["top"] + MARGIN_INCHES["bottom"])
        scale = min(1.0, printable_width / page.width_points(0, last_col))
        if scale >= MIN_PRINT_SCALE:
            ws.fit_to_pages(1, 0)
        else:
            scale = 1.0  # too wide to shrink legibly: full size, the labels repeated on every page across
            ws.set_print_scale(100)
            ws.repeat_columns(0, page.label_columns - 1)
        if page.header_row is None:
            page.header_row = 0  # the title, which names the scenario on an output sheet, on every page
        ws.repeat_rows(0, page.header_row)
        ws.set_h_pagebreaks(_page_breaks(page, printable_height / scale))
        # Header and footer codes start with '&': the provenance has none and starts with a word (digits right
        # after a code would be read as a font size). No size code either: Gnumeric prints it as text.
        # A header or footer cannot hold a formula: the footer says what the pack was made from, the
        # Cover's provenance line (a formula) whether the inputs still match it. The header names the sheet.
        ws.set_header("&L&A", {"margin": HEADER_INCHES})
        made = f"{self.context.provenance} as made (the Cover says whether the inputs still match)"
        ws.set_footer(f"&L{made}&R&P / &N", {"margin": HEADER_INCHES})
        self.protect(ws)

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


def _page_breaks(page: Page, capacity: float) -> list[int]:
    """Rows to start a new page at, so no block is split when it fits on a page (``capacity`` points of
    rows per page at the print scale, less the repeated rows)."""
    top = 0 if page.header_row is None else page.header_row + 1
    repeated = sum(page.height(r) for r in range(top))
    room = max(capacity - repeated, 5 * ROW_POINTS)
    breaks: list[int] = []
    used = 0.0
    row = top
    for first, last in sorted(page.blocks):
        if last < row:  # inside a block already placed
            continue
        first = max(first, row)
        used += sum(page.height(r) for r in range(row, first))
        size = sum(page.height(r) for r in range(first, last + 1))
        if used + size > room and used > 0:
            breaks.append(first)
            used = 0.0
        used = (used + size) % room if used + size > room else used + size  # a block taller than a page
        row = last + 1
    return breaks
