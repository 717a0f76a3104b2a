"""The front-end workbook ``IMGOUT.xlsm``: an xlwings standalone workbook that uses every IMGOUT_* function.

It is what ``xlwings quickstart IMGOUT --standalone`` makes (xlwings' own ``quickstart_standalone.xlsm``:
the xlwings VBA module and the ``xlwings.conf`` sheet), with ``UDF Modules`` set to ``xl_addin.udfs`` and a
demo sheet of live formulas. XlsxWriter writes it so that the table functions are true dynamic-array
formulas (they spill; a legacy formula would show ``=@IMGOUT_SERIES(...)`` and one cell) and every formula
stores its computed result, so the file shows numbers before Excel has recalculated it.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from .. import __version__
from ..common.atomic import atomic_path
from ..common.formats import excel_money_format, excel_percent_format
from . import functions

UDF_MODULE = "xl_addin.udfs"
CONF_SHEET = "xlwings.conf"
DEMO_SHEET = "IMGOUT"
# Fixed, so that rebuilding the workbook from the same model gives the same file.
CREATED = dt.datetime(2026, 3, 3)

# The xlwings.conf settings of xlwings' standalone quickstart workbook, with our UDF module.
CONF_SETTINGS: tuple[tuple[str, object], ...] = (
    ("Interpreter_Win", "python"),
    ("Interpreter_Mac", ""),
    ("PYTHONPATH", ""),
    ("Conda Path", ""),
    ("Conda Env", ""),
    ("UDF Modules", UDF_MODULE),
    ("Debug UDFs", False),
    ("Use UDF Server", False),
    ("Show Console", False),
)

INSTRUCTIONS = (
    "1. Install imgout into the Python that Excel uses (pip install imgout; it brings xlwings) and, in Excel, "
    "File > Options > Trust Center > Macro Settings: tick 'Trust access to the VBA project object model'.",
    "2. Open this workbook with macros enabled and run the macro ImportPythonUDFs (Alt+F8), or click "
    "'Import Functions' on the xlwings ribbon: that registers the IMGOUT_* functions (category IMGOUT).",
    "3. Change the yellow inputs; the formulas in column E follow. An empty input means the default.",
    "4. A bad input gives one line of text such as #N/A Invalid region: 'Mars' (expected one of ...).",
    "5. Your own assumptions: set IMGOUT_ASSUMPTIONS to a YAML file (environment variable, or a line "
    '"IMGOUT_ASSUMPTIONS","C:\\path\\file.yaml" in %USERPROFILE%\\.xlwings\\xlwings.conf); then Ctrl+Alt+F9.',
)

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


def _template_vba() -> bytes:
    """The VBA project of xlwings' standalone quickstart workbook (the xlwings module and its helpers)."""
    import xlwings

    template = Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")
    with zipfile.ZipFile(template) as archive:
        return archive.read("xl/vbaProject.bin")


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
    wb.add_vba_project(io.BytesIO(_template_vba()), is_stream=True)
    wb.set_vba_name("ThisWorkbook")
    demo = wb.add_worksheet(DEMO_SHEET)
    demo.set_vba_name("Sheet1")
    _write_demo_sheet(wb, demo)
    conf = wb.add_worksheet(CONF_SHEET)
    conf.set_vba_name("Sheet2")
    _write_conf_sheet(conf)
    demo.activate()
    wb.close()


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
    demo.set_column("B:B", 44)
    demo.set_column("C:C", 58)
    demo.set_column("D:D", 2)
    demo.set_column("E:E", 26)
    demo.set_column("F:I", 16)
    demo.write_string(0, 1, "imgout: the medical imaging outsourcing market in Excel (USD bn)", title)
    for i, line in enumerate(INSTRUCTIONS):
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
    code = wb.add_format({"font_name": "Consolas", "font_color": "#1F4E79"})
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
    demo.write_string(row, 1, example.description)
    demo.write_string(row, 2, example.formula, code)
    first = grid[0][0]
    first_name = example.formats[0] if example.formats else None
    first_format = formats[first_name] if first_name else None
    if height == 1 and width == 1:
        demo.write_formula(row, 4, example.formula, first_format, first)
        return 1
    demo.write_dynamic_array_formula(
        row, 4, row + height - 1, 4 + width - 1, example.formula, first_format, first
    )
    # The spilled cells, stored as Excel stores them: plain values beside the anchor formula.
    for r in range(height):
        for c in range(width):
            if (r, c) != (0, 0):
                name = example.formats[c] if c < len(example.formats) else None
                demo.write(row + r, 4 + c, grid[r][c], formats[name] if name and r else None)
    return height + (1 if height > 1 else 0)


def _write_conf_sheet(conf: Worksheet) -> None:
    """The ``xlwings.conf`` sheet: xlwings' settings from A1, then notes on what they mean here."""
    conf.set_column("A:A", 22)
    conf.set_column("B:B", 22)
    for i, (key, value) in enumerate(CONF_SETTINGS):
        conf.write_string(i, 0, key)
        if isinstance(value, bool):
            conf.write_boolean(i, 1, value)
        elif value:
            conf.write_string(i, 1, str(value))
    notes = (
        "Instructions:",
        "These settings override the xlwings add-in and %USERPROFILE%\\.xlwings\\xlwings.conf; they must start in A1.",
        f"UDF Modules = {UDF_MODULE}: 'Import Python UDFs' (macro ImportPythonUDFs) registers its functions.",
        "PYTHONPATH: leave empty when imgout is installed; else the folder that contains xl_addin.",
        "Assumptions come from the IMGOUT_ASSUMPTIONS environment variable or user xlwings.conf, not this sheet.",
    )
    for i, note in enumerate(notes):
        conf.write_string(len(CONF_SETTINGS) + 3 + i, 0, note)
