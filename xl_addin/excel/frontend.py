"""The front-end workbook ``IMGOUT.xlsm``: an xlwings standalone workbook that uses every IMGOUT_* function.

Four sheets, in this order: **Start here** (the set-up steps and troubleshooting of :mod:`.instructions`, a
status cell that shows the model version once the functions work), **IMGOUT** (one example of every function
beside its formula), **Table** (grid calls: years across, regions down, one formula) and **xlwings.conf**
(only ``UDF Modules``: the interpreter comes from the user's xlwings config, see the sheet's note).

The VBA project is xlwings' standalone quickstart project (its ``xlwings`` module and ``Dictionary`` class)
without the quickstart's ``Module1`` sample macro, with a document module for every sheet
(:mod:`.vbaproject`). XlsxWriter writes the workbook so that table functions are true dynamic-array
formulas (they spill) and every formula stores its computed result, so the file shows numbers before
Excel has recalculated it; every sheet prints landscape, one page wide.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import textwrap
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_range, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from .. import __version__
from ..common.atomic import atomic_path
from ..common.formats import excel_money_format, excel_percent_format
from . import functions, instructions, vbaproject

UDF_MODULE = "xl_addin.udfs"
START_SHEET = "Start here"
DEMO_SHEET = "IMGOUT"
TABLE_SHEET = "Table"
CONF_SHEET = "xlwings.conf"
# Sheet -> the code name of its document module in the VBA project, in sheet order.
SHEETS = {START_SHEET: "Sheet1", DEMO_SHEET: "Sheet2", TABLE_SHEET: "Sheet3", CONF_SHEET: "Sheet4"}
# The quickstart project's module that is left out: SampleCall imports a Python module named after the
# workbook, which does not exist here.
DROPPED_MODULES = ("Module1",)
# Fixed, so that rebuilding the workbook from the same model gives the same file.
CREATED = dt.datetime(2026, 3, 3)

# The xlwings.conf sheet: only what this workbook needs. xlwings reads keys from A1 down to the first empty
# cell, and a key here overrides the user's xlwings config, so the interpreter is deliberately not here.
CONF_SETTINGS: tuple[tuple[str, str], ...] = (("UDF Modules", UDF_MODULE),)
CONF_NOTE = (
    "Only UDF Modules is set here (xlwings reads A1 down to the first empty cell). The Python that Excel starts "
    "comes from %USERPROFILE%\\.xlwings\\xlwings.conf (INTERPRETER_WIN, or CONDA PATH and CONDA ENV), which "
    "'xlwings config create --force' writes with the full path of the Python you ran it in. A row added "
    "here (Interpreter_Win, Conda Path ...) would override that for this workbook: leave them out."
)
ASSUMPTIONS_NOTE = (
    "Your own assumptions: set IMGOUT_ASSUMPTIONS to a YAML file (environment variable, or a line "
    '"IMGOUT_ASSUMPTIONS","C:\\path\\file.yaml" in %USERPROFILE%\\.xlwings\\xlwings.conf); then Ctrl+Alt+F9.'
)
DEMO_NOTES = (
    f"Setting up, and what to do when a cell shows #NAME?: sheet '{START_SHEET}'.",
    "Change the yellow inputs; the formulas in column E follow. An empty input means the default.",
    "A bad input gives one line of text such as #N/A Invalid region: 'Mars' (expected one of ...).",
    f"Whole tables (years across, regions down) in one formula: sheet '{TABLE_SHEET}'.",
)
STATUS_FORMULA = '=IFERROR(IMGOUT_INFO("version"),"Not working yet: follow the steps below")'
STATUS_NOT_YET = "Not working yet: follow the steps below"
#: The example on Start here: the headline figure with the publishers' consensus beside it, the engine's line.
HEADLINE_FORMULA = '=IFERROR(IMGOUT_INFO("headline"),"Not working yet: follow the steps below")'

# The IMGOUT sheet's columns (B what, C formula, E and on the results): narrow enough to print one page
# wide at 8.5 pt or more, every text wrapping inside its column.
DEMO_WIDTHS = {1: 32.0, 2: 44.0, 3: 2.0, 4: 22.0, 5: 16.0, 6: 16.0, 7: 30.0}

# The inputs block: label, value (None = empty: the function's default), row offset below the title.
INPUTS: tuple[tuple[str, object], ...] = (
    ("Year", 2030),
    ("Region", "Asia-Pacific"),
    ("Segment", None),
    ("Scenario", "base"),
    ("Options", "Units=bn"),
)


@dataclass(frozen=True)
class Example:
    """One demo formula: what it shows, the formula, and the Python call that gives its stored result."""

    description: str
    formula: str
    call: Callable[[], Any]
    formats: Sequence[str | None] = field(default_factory=tuple)  # number format per result column


def _examples(inputs: dict[str, object]) -> list[Example]:
    year, region, segment, scenario, options = (
        inputs[k] for k in ("Year", "Region", "Segment", "Scenario", "Options")
    )
    money, pct = "money", "percent"
    u = functions
    return [
        Example(
            "Market size 2030, USD bn", "=IMGOUT_FORECAST(2030)", lambda: u.IMGOUT_FORECAST(2030), [money]
        ),
        Example(
            "The 2030 headline with the publishers' consensus beside it",
            '=IMGOUT_INFO("headline")',
            lambda: u.IMGOUT_INFO("headline"),
        ),
        Example(
            "From the inputs above (empty cells are defaults)",
            "=IMGOUT_FORECAST($C$9,$C$10,$C$11,$C$12,$C$13)",
            lambda: u.IMGOUT_FORECAST(year, region, segment, scenario, options),
            [money],
        ),
        Example(
            "CT in Asia-Pacific, bull, USD mn, with status",
            '=IMGOUT_FORECAST(2030,"APAC","CT","bull","Units=mn;Status=Y")',
            lambda: u.IMGOUT_FORECAST(2030, "APAC", "CT", "bull", "Units=mn;Status=Y"),
            ["#,##0", None],
        ),
        Example(
            "CAGR 2026-2030 (a fraction)", "=IMGOUT_CAGR(2026,2030)", lambda: u.IMGOUT_CAGR(2026, 2030), [pct]
        ),
        Example(
            "CAGR of the input region with an override",
            '=IMGOUT_CAGR(2026,2030,$C$10,,,"cagr=0.10")',
            lambda: u.IMGOUT_CAGR(2026, 2030, region, None, None, "cagr=0.10"),
            [pct],
        ),
        Example(
            "Share of North America in the input year",
            '=IMGOUT_SHARE($C$9,"North America")',
            lambda: u.IMGOUT_SHARE(year, "North America"),
            [pct],
        ),
        Example("Monte Carlo P10, 2030", "=IMGOUT_FAN(2030,10)", lambda: u.IMGOUT_FAN(2030, 10), [money]),
        Example("Monte Carlo P90, 2030", "=IMGOUT_FAN(2030,90)", lambda: u.IMGOUT_FAN(2030, 90), [money]),
        Example(
            "Publishers' median estimate, 2030",
            "=IMGOUT_CONSENSUS(2030)",
            lambda: u.IMGOUT_CONSENSUS(2030),
            [money],
        ),
        Example(
            "The model over the publishers' median, 2030",
            '=IMGOUT_CONSENSUS(2030,"model_ratio")',
            lambda: u.IMGOUT_CONSENSUS(2030, "model_ratio"),
            [money],
        ),
        Example(
            "Published 2030 market size (an assumption)",
            '=IMGOUT_ASSUMPTION("anchors.horizon_size")',
            lambda: u.IMGOUT_ASSUMPTION("anchors.horizon_size"),
            [money],
        ),
        Example(
            "Where the Asia-Pacific share comes from",
            '=IMGOUT_ASSUMPTION("share.APAC","citation")',
            lambda: u.IMGOUT_ASSUMPTION("share.APAC", "citation"),
        ),
        Example("The market's source", "=IMGOUT_SOURCE()", lambda: u.IMGOUT_SOURCE()),
        Example(
            "Source of the telemedicine driver",
            '=IMGOUT_SOURCE("drivers.telemedicine.growth")',
            lambda: u.IMGOUT_SOURCE("drivers.telemedicine.growth"),
        ),
        Example("Model version and assumption hash", '=IMGOUT_INFO("hash")', lambda: u.IMGOUT_INFO("hash")),
        Example(
            "A bad input explains itself",
            '=IMGOUT_FORECAST(2030,"Mars")',
            lambda: u.IMGOUT_FORECAST(2030, "Mars"),
        ),
        Example(
            "Series for the input region (spills)",
            "=IMGOUT_SERIES(2024,2032,$C$10,$C$11,$C$12,$C$13)",
            lambda: u.IMGOUT_SERIES(2024, 2032, region, segment, scenario, options),
            [None, money, pct],
        ),
        Example(
            "Regions in the input year, with a total row",
            '=IMGOUT_BREAKDOWN($C$9,"region",$C$12,"Total=Y")',
            lambda: u.IMGOUT_BREAKDOWN(year, "region", scenario, "Total=Y"),
            [None, money, pct, pct],
        ),
        Example(
            "Modalities in the input year",
            '=IMGOUT_BREAKDOWN($C$9,"modality")',
            lambda: u.IMGOUT_BREAKDOWN(year, "modality"),
            [None, money, pct, pct],
        ),
        Example(
            "Scenarios by year",
            "=IMGOUT_SCENARIOS(2025,2030)",
            lambda: u.IMGOUT_SCENARIOS(2025, 2030),
            [None, money, money, money],
        ),
        Example(
            "Every publisher's estimate in the input year",
            "=IMGOUT_ESTIMATES($C$9)",
            lambda: u.IMGOUT_ESTIMATES(year),
            [None, money, None, None],
        ),
        Example("Regions (a list for drop-downs)", '=IMGOUT_LIST("region")', lambda: u.IMGOUT_LIST("region")),
        Example("Everything about the model in use", "=IMGOUT_INFO()", lambda: u.IMGOUT_INFO()),
    ]


def _grid(result: Any) -> list[list[Any]]:
    if isinstance(result, list):
        return [list(row) if isinstance(row, list) else [row] for row in result]
    return [[result]]


def _vba_project() -> bytes:
    """xlwings' standalone quickstart VBA project without its sample macro, a document module per sheet."""
    import xlwings

    template = Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")
    with zipfile.ZipFile(template) as archive:
        project = archive.read("xl/vbaProject.bin")
    present = {m.name for m in vbaproject.read_project(project).modules}
    extra = [name for name in SHEETS.values() if name not in present]
    return vbaproject.standalone_project(project, DROPPED_MODULES, extra)


def build(path: str | os.PathLike[str]) -> Path:
    """Write IMGOUT.xlsm to ``path`` atomically (a temporary file beside it, then a rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temp:
        _write(str(temp))
    return target


def _write(path: str) -> None:
    market = functions.current_market()
    wb = xlsxwriter.Workbook(path)
    _set_properties(wb, market.version, market.assumption_hash)
    wb.add_vba_project(io.BytesIO(_vba_project()), is_stream=True)
    wb.set_vba_name("ThisWorkbook")
    sheets = {}
    for name, code_name in SHEETS.items():
        sheets[name] = wb.add_worksheet(name)
        sheets[name].set_vba_name(code_name)
    styles = _Styles(wb)
    _write_start_sheet(sheets[START_SHEET], styles)
    _write_demo_sheet(wb, sheets[DEMO_SHEET])
    _write_table_sheet(sheets[TABLE_SHEET], styles, market)
    _write_conf_sheet(sheets[CONF_SHEET], styles)
    for sheet in sheets.values():
        _print_setup(sheet)
    sheets[START_SHEET].activate()
    wb.close()


def _print_setup(sheet: Worksheet) -> None:
    """Landscape, one page wide (every sheet is laid out narrow enough to print at 8.5 pt or more: text
    wraps inside its column), the sheet's name in the header, page numbers in the footer."""
    sheet.set_landscape()
    sheet.set_paper(9)  # A4; Letter users get the same page scaled by their printer driver
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.set_header("&L&A")
    sheet.set_footer("&Rpage &P of &N")
    sheet.hide_gridlines(1)  # gridlines on screen, not on paper


#: Points of one line of 11 pt text, and characters of it per unit of column width (conservatively few:
#: a row made too tall shows white space, one too short hides a line under the next row).
LINE_POINTS, CHARS_PER_WIDTH = 15.0, 1.15


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped at word breaks in a column ``width`` characters wide."""
    chars = max(int(width * CHARS_PER_WIDTH), 1)
    return sum(max(len(textwrap.wrap(part, chars)), 1) for part in text.split("\n"))


def _fit_row(sheet: Worksheet, row: int, cells: Sequence[tuple[str, float]]) -> None:
    """A row tall enough for every wrapped text in it (``cells``: text and its column's width)."""
    lines = max((_lines(text, width) for text, width in cells), default=1)
    sheet.set_row(row, LINE_POINTS * max(lines, 1))


class _Styles:
    """The few cell formats the sheets share."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.bold = wb.add_format({"bold": True})
        self.bold_wrap = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.head = wb.add_format({"bold": True, "bottom": 1, "valign": "top", "text_wrap": True})
        self.status = wb.add_format(
            {"bold": True, "font_color": "#1F4E79", "bg_color": "#DDEBF7", "border": 1}
        )
        self.input = wb.add_format({"bg_color": "#FFF2CC", "border": 1})
        self.input_year = wb.add_format({"bg_color": "#FFF2CC", "border": 1, "bold": True, "num_format": "0"})
        self.money = wb.add_format({"num_format": excel_money_format()})
        self.percent = wb.add_format({"num_format": excel_percent_format()})
        self.code = wb.add_format({"font_name": "Consolas", "font_color": "#1F4E79"})


def _write_start_sheet(sheet: Worksheet, st: _Styles) -> None:
    """The set-up steps, the status cell, what #NAME? means and the troubleshooting table.

    Every text wraps inside its column and every row is as tall as its longest text, so nothing overlaps
    or is cut at 100 % zoom (a text never runs into the next column's)."""
    widths = {1: 36.0, 2: 62.0, 3: 52.0}
    sheet.set_column("A:A", 2)
    for col, width in widths.items():
        sheet.set_column(col, col, width)
    sheet.write_string(0, 1, "imgout: the medical imaging outsourcing market in Excel", st.title)
    sheet.write_string(2, 1, "Status (the model version once the functions work)", st.bold_wrap)
    sheet.write_formula(2, 2, STATUS_FORMULA, st.status, STATUS_NOT_YET)
    _fit_row(sheet, 2, [("Status (the model version once the functions work)", widths[1])])
    example = "Example: the 2030 headline, the publishers beside it"
    headline = functions.IMGOUT_INFO("headline")
    sheet.write_string(3, 1, example, st.bold_wrap)
    sheet.write_formula(3, 2, HEADLINE_FORMULA, st.wrap, headline)
    _fit_row(sheet, 3, [(example, widths[1]), (headline, widths[2])])
    sheet.write_string(4, 1, "#NAME? in a cell", st.bold_wrap)
    sheet.write_string(4, 2, instructions.NAME_MEANING, st.wrap)
    _fit_row(sheet, 4, [(instructions.NAME_MEANING, widths[2])])
    sheet.write_string(6, 1, "Set up on Windows (classic Excel)", st.title)
    row = 7
    for number, step in enumerate(instructions.STEPS, 1):
        title, text = f"{number}. {step.title}", instructions.plain(step.text)
        sheet.write_string(row, 1, title, st.bold_wrap)
        sheet.write_string(row, 2, text, st.wrap)
        _fit_row(sheet, row, [(title, widths[1]), (text, widths[2])])
        row += 1
    row += 1
    sheet.write_string(row, 1, "When it does not work", st.title)
    row += 1
    for column, heading in enumerate(("Symptom", "Cause", "Fix")):
        sheet.write_string(row, 1 + column, heading, st.head)
    for trouble in instructions.TROUBLESHOOTING:
        row += 1
        texts = [instructions.plain(t) for t in (trouble.symptom, trouble.cause, trouble.fix)]
        for column, text in enumerate(texts):
            sheet.write_string(row, 1 + column, text, st.wrap)
        _fit_row(sheet, row, [(t, widths[1 + c]) for c, t in enumerate(texts)])
    row += 2
    sheet.write_string(row, 1, "Your own assumptions", st.bold_wrap)
    sheet.write_string(row, 2, ASSUMPTIONS_NOTE, st.wrap)
    _fit_row(sheet, row, [(ASSUMPTIONS_NOTE, widths[2])])
    next_text = f"Sheet {DEMO_SHEET}: every function with its formula; sheet {TABLE_SHEET}: whole tables in one formula."
    sheet.write_string(row + 1, 1, "What to look at next", st.bold_wrap)
    sheet.write_string(row + 1, 2, next_text, st.wrap)
    _fit_row(sheet, row + 1, [(next_text, widths[2])])
    sheet.print_area(0, 0, row + 1, 3)


def _write_table_sheet(sheet: Worksheet, st: _Styles, market: Any) -> None:
    """Grid calls: a row of years and a column of regions (yellow inputs) and one formula for the table."""
    sheet.set_column("A:A", 2)
    sheet.set_column("B:B", 22)
    sheet.set_column("C:N", 11)
    sheet.write_string(0, 1, "Whole tables in one formula: years across, regions down", st.title)
    sheet.write_string(
        1,
        1,
        "One call answers the whole table (one Excel-to-Python round trip instead of one per cell). "
        "Change a year or a region: the table follows. A bad cell shows its own #N/A message.",
    )
    years = list(range(market.horizon_year - 9, market.horizon_year + 1))
    regions = list(market.members("region"))
    top, left = 4, 1  # the years in row 5 (C5:L5), the regions in column B (B6:B13)
    for c, year in enumerate(years):
        sheet.write_number(top, left + 1 + c, year, st.input_year)
    for r, region in enumerate(regions):
        sheet.write_string(top + 1 + r, left, region, st.input)
    formula = f"=IMGOUT_FORECAST({_span(top, left + 1, top, left + len(years))},{_span(top + 1, left, top + len(regions), left)})"
    sheet.write_string(
        top - 1, left, f"Market size, USD bn: {formula} in {_span(top + 1, left + 1)}", st.bold
    )
    table = functions.IMGOUT_FORECAST([float(y) for y in years], [[r] for r in regions])
    _write_spill(sheet, top + 1, left + 1, formula, table, st.money)
    # CAGR from the first year to each later year, by region: the same regions, another function.
    row = top + len(regions) + 3
    horizons = years[1:]
    sheet.write_string(
        row - 1, left, f"CAGR from {years[0]} to each year (=IMGOUT_CAGR(C5,D5:L5,B6:B13))", st.bold
    )
    cagr_formula = f"=IMGOUT_CAGR({_span(top, left + 1)},{_span(top, left + 2, top, left + len(years))},{_span(top + 1, left, top + len(regions), left)})"
    sheet.write_string(row - 1, left, f"CAGR from {years[0]} to each later year: {cagr_formula}", st.bold)
    cagr = functions.IMGOUT_CAGR(float(years[0]), [float(y) for y in horizons], [[r] for r in regions])
    for c, year in enumerate(horizons):
        sheet.write_formula(row, left + 2 + c, f"={_span(top, left + 2 + c)}", st.bold, year)
    for r, region in enumerate(regions):
        sheet.write_formula(row + 1 + r, left, f"={_span(top + 1 + r, left)}", None, region)
    _write_spill(sheet, row + 1, left + 2, cagr_formula, cagr, st.percent)
    # The same table with its labels, from nothing but formulas: Header=Y.
    row += len(regions) + 3
    header_formula = '=IMGOUT_FORECAST(SEQUENCE(1,5,2026),IMGOUT_LIST("region"),,,"Header=Y")'
    sheet.write_string(row - 1, left, f"With Header=Y, labels included: {header_formula}", st.bold)
    labelled = functions.IMGOUT_FORECAST(
        [float(y) for y in range(2026, 2031)], [[r] for r in regions], None, None, "Header=Y"
    )
    _write_spill(sheet, row, left, header_formula, labelled, st.money)
    sheet.print_area(0, 0, row + len(regions), left + len(years))


def _span(first_row: int, first_col: int, last_row: int | None = None, last_col: int | None = None) -> str:
    """``C5`` for one cell, ``C5:L5`` for a range (0-based rows and columns)."""
    if last_row is None or last_col is None:
        return xl_rowcol_to_cell(first_row, first_col)
    return xl_range(first_row, first_col, last_row, last_col)


def _write_spill(sheet: Worksheet, row: int, col: int, formula: str, table: Any, number: Format) -> None:
    """A dynamic-array formula at (row, col) with its stored results: numbers formatted, text as it is."""
    grid = _grid(table)
    height, width = len(grid), len(grid[0])
    first = grid[0][0]
    sheet.write_dynamic_array_formula(
        row,
        col,
        row + height - 1,
        col + width - 1,
        formula,
        number if isinstance(first, float) else None,
        first,
    )
    for r in range(height):
        for c in range(width):
            if (r, c) != (0, 0):
                value = grid[r][c]
                sheet.write(row + r, col + c, value, number if isinstance(value, float) else None)


def _set_properties(wb: xlsxwriter.Workbook, version: str, assumption_hash: str) -> None:
    """Document properties: what the workbook is and which model and assumptions its results come from."""
    wb.set_properties(
        {
            "title": "imgout: Excel functions for the medical imaging outsourcing market",
            "subject": "IMGOUT_* functions (xlwings standalone workbook)",
            "author": "imgout",
            "comments": f"imgout {__version__} (model {version}), assumptions {assumption_hash}",
            "created": CREATED,
        }
    )
    wb.set_custom_property("imgout model version", version)
    wb.set_custom_property("imgout assumption hash", assumption_hash)


def _write_demo_sheet(wb: xlsxwriter.Workbook, demo: Worksheet) -> None:
    """Title and instructions, the yellow inputs block, then one row (or spilled block) per example."""
    title = wb.add_format({"bold": True, "font_size": 14})
    wrap = wb.add_format({"text_wrap": False, "font_color": "#404040"})
    demo.set_column("A:A", 2)
    for col, width in DEMO_WIDTHS.items():
        demo.set_column(col, col, width)
    demo.write_string(0, 1, "imgout: the medical imaging outsourcing market in Excel (USD bn)", title)
    for i, line in enumerate(DEMO_NOTES):
        demo.write_string(1 + i, 1, line, wrap)
    bold = wb.add_format({"bold": True})
    row = 7
    inputs = _write_inputs(demo, row, bold, wb.add_format({"bg_color": "#FFF2CC", "border": 1}))
    row += len(INPUTS) + 2
    demo.write_string(row, 1, "What", bold)
    demo.write_string(row, 2, "Formula", bold)
    demo.write_string(row, 4, "Result", bold)
    formats = {
        "money": wb.add_format({"num_format": excel_money_format()}),
        "percent": wb.add_format({"num_format": excel_percent_format()}),
        "#,##0": wb.add_format({"num_format": "#,##0"}),
    }
    code = wb.add_format(
        {"font_name": "Consolas", "font_color": "#1F4E79", "text_wrap": True, "valign": "top"}
    )
    formats["text"] = wb.add_format({"text_wrap": True, "valign": "top"})
    row += 1
    for example in _examples(inputs):
        row += _write_example(demo, row, example, formats, code)


def _write_inputs(demo: Worksheet, row: int, bold: Format, input_format: Format) -> dict[str, object]:
    """The inputs block under ``row`` (rows 9-13 in Excel: $C$9 .. $C$13); returns label -> value."""
    demo.write_string(row, 1, "Inputs", bold)
    inputs: dict[str, object] = {}
    for i, (label, value) in enumerate(INPUTS):
        r = row + 1 + i
        demo.write_string(r, 1, label)
        if value is None:
            demo.write_blank(r, 2, None, input_format)
        elif isinstance(value, str):
            demo.write_string(r, 2, value, input_format)
        elif isinstance(value, int | float):
            demo.write_number(r, 2, value, input_format)
        inputs[label] = value
    return inputs


def _write_example(
    demo: Worksheet, row: int, example: Example, formats: dict[str, Format], code: Format
) -> int:
    """One example at ``row``: what, the formula as text, the live formula with its stored result.

    Returns how many rows it took: one, or a spilled table's height and a blank row after a column.
    """
    grid = _grid(example.call())
    height, width = len(grid), len(grid[0])
    demo.write_string(row, 1, example.description, formats["text"])
    demo.write_string(row, 2, example.formula, code)
    texts: dict[int, list[tuple[str, float]]] = {
        row: [(example.description, DEMO_WIDTHS[1]), (example.formula, DEMO_WIDTHS[2])]
    }
    first = grid[0][0]
    first_name = example.formats[0] if example.formats else None
    first_format = formats[first_name] if first_name else None
    if height == 1 and width == 1:
        demo.write_formula(row, 4, example.formula, first_format, first)
        _fit_row(demo, row, texts[row])
        return 1
    demo.write_dynamic_array_formula(
        row, 4, row + height - 1, 4 + width - 1, example.formula, first_format, first
    )
    # The spilled cells, stored as Excel stores them: plain values beside the anchor formula; a text
    # longer than its column wraps inside it (it would print cut off past the last column).
    for r in range(height):
        for c in range(width):
            value = grid[r][c]
            if isinstance(value, str):
                texts.setdefault(row + r, []).append((value, DEMO_WIDTHS.get(4 + c, 8.43)))
            if (r, c) != (0, 0):
                name = example.formats[c] if c < len(example.formats) else None
                fmt = formats[name] if name and r else None
                if isinstance(value, str) and len(value) > DEMO_WIDTHS.get(4 + c, 8.43):
                    fmt = formats["text"]
                demo.write(row + r, 4 + c, value, fmt)
    for r, cells in texts.items():
        _fit_row(demo, r, cells)
    return height + (1 if height > 1 else 0)


def _write_conf_sheet(conf: Worksheet, st: _Styles) -> None:
    """The ``xlwings.conf`` sheet: UDF Modules in A1:B1, A2 empty (where xlwings stops reading), the note."""
    conf.set_column("A:A", 22)
    conf.set_column("B:B", 22)
    conf.set_column("C:C", 90)
    for i, (key, value) in enumerate(CONF_SETTINGS):
        conf.write_string(i, 0, key)
        conf.write_string(i, 1, value)
    conf.write_string(len(CONF_SETTINGS) + 1, 0, "Note", st.bold)
    conf.merge_range(len(CONF_SETTINGS) + 1, 1, len(CONF_SETTINGS) + 1, 2, CONF_NOTE, st.wrap)
    conf.set_row(len(CONF_SETTINGS) + 1, 62)
