"""The committed front-end workbook works the first time: read back with openpyxl, olevba and LibreOffice.

What a new Windows user meets first: the sheet order (Start here first), the xlwings.conf sheet (only
UDF Modules, so the interpreter from the user's own xlwings config is not overridden), the VBA project
(xlwings' module without the quickstart's sample macro), print setup on every sheet, and set-up steps
that say the same thing as the docs' set-up and troubleshooting pages.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import olefile
import openpyxl
import pytest
import xlwings
from oletools.olevba import VBA_Parser, decompress_stream
from openpyxl.worksheet.formula import ArrayFormula

from tests.support.docs_site import DOCS
from tests.support.docs_site import hooks as docs_hooks
from tests.support.libreoffice import require_soffice
from xl_addin.excel import frontend, instructions, vbaproject

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "workbooks" / "IMGOUT.xlsm"
TEMPLATE = Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")


def _vba_modules(path: Path) -> dict[str, str]:
    """Module name -> VBA source, as olevba (oletools) reads them from the workbook."""
    parser = VBA_Parser(str(path))
    try:
        return {Path(vba_filename).stem: code for _, _, vba_filename, code in parser.extract_macros()}
    finally:
        parser.close()


def test_start_here_is_the_first_sheet_and_opens_first() -> None:
    wb = openpyxl.load_workbook(WORKBOOK, keep_vba=True)
    assert wb.sheetnames == ["Start here", "IMGOUT", "Table", "xlwings.conf"]
    assert wb.active.title == "Start here"
    assert [wb[name].sheet_properties.codeName for name in wb.sheetnames] == list(frontend.SHEETS.values())


def test_xlwings_conf_holds_only_udf_modules_as_xlwings_reads_it() -> None:
    """xlwings' GetConfigFromSheet reads A1, and down to A1.End(xlDown) only when A2 is not empty."""
    sheet = openpyxl.load_workbook(WORKBOOK, keep_vba=True)["xlwings.conf"]
    assert sheet["A2"].value is None
    read = {sheet["A1"].value.upper(): sheet["B1"].value}
    assert read == {"UDF MODULES": "xl_addin.udfs"}
    note = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "INTERPRETER_WIN" in note and "xlwings config create --force" in note
    assert not re.search(r"(?i)\binterpreter_win\b|conda path", sheet["A1"].value or "")


def test_the_vba_project_is_xlwings_without_the_sample_macro() -> None:
    modules = _vba_modules(WORKBOOK)
    assert set(modules) == {"ThisWorkbook", "Sheet1", "Sheet2", "Sheet3", "Sheet4", "xlwings", "Dictionary"}
    assert "SampleCall" not in "".join(modules.values())
    template = _vba_modules(TEMPLATE)
    assert modules["xlwings"] == template["xlwings"]  # xlwings' module, byte for byte
    assert modules["Dictionary"] == template["Dictionary"]
    for sheet in ("Sheet3", "Sheet4"):  # document modules of the added sheets, like Excel's own
        assert modules[sheet] == template["Sheet2"].replace('"Sheet2"', f'"{sheet}"')


def test_no_module_calls_a_python_module_that_does_not_exist() -> None:
    """Only xlwings' own modules hold code; the document modules are empty, so nothing runs "import IMGOUT"."""
    for name, code in _vba_modules(WORKBOOK).items():
        if name in ("xlwings", "Dictionary"):
            continue  # xlwings' library, equal to the template's (test above)
        body = [line for line in code.splitlines() if line.strip() and not line.startswith("Attribute ")]
        assert body == [], f"{name}: {body}"


@pytest.mark.slow  # LibreOffice imports the VBA project
def test_the_vba_project_reads_back_with_two_independent_readers(tmp_path: Path) -> None:
    """olefile parses the compound file; LibreOffice imports every module (its own CFB and VBA readers)."""
    soffice = require_soffice()
    project = zipfile.ZipFile(WORKBOOK).read("xl/vbaProject.bin")
    ole = olefile.OleFileIO(io.BytesIO(project))
    streams = {"/".join(p) for p in ole.listdir()}
    assert streams == {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir"} | {
        f"VBA/{m}" for m in ("ThisWorkbook", "Sheet1", "Sheet2", "Sheet3", "Sheet4", "xlwings", "Dictionary")
    }
    assert "Module1" not in ole.openstream("PROJECT").read().decode("latin-1")
    assert bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read()))) == vbaproject.decompress(
        ole.openstream("VBA/dir").read()
    )
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "ods",
            "--outdir",
            str(tmp_path),
            str(WORKBOOK),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    basic = {
        Path(n).stem
        for n in zipfile.ZipFile(tmp_path / "IMGOUT.ods").namelist()
        if n.startswith("Basic/VBAProject/")
    }
    assert basic - {"script-lb"} == {
        "ThisWorkbook",
        "Sheet1",
        "Sheet2",
        "Sheet3",
        "Sheet4",
        "xlwings",
        "Dictionary",
    }


@pytest.mark.slow  # oletools' pure-Python decompression of 40 KB of samples: about 20 s
def test_vba_compression_round_trips_through_oletools() -> None:
    sources = [code.encode("latin-1") for code in _vba_modules(TEMPLATE).values()]
    for data in [*sources, b"", b"ab", b"a" * 10_000, bytes(range(256)) * 20]:
        packed = vbaproject.compress(data)
        assert bytes(decompress_stream(bytearray(packed))) == data
        assert vbaproject.decompress(packed) == data


def test_every_sheet_prints_landscape_one_page_wide() -> None:
    wb = openpyxl.load_workbook(WORKBOOK, keep_vba=True)
    for sheet in wb:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.page_setup.fitToHeight == 0, sheet.title  # as many pages down as needed
        assert "&A" in (sheet.oddHeader.left.text or ""), sheet.title  # the sheet's name on paper
        assert not sheet.print_options.gridLines, sheet.title


def test_start_here_shows_status_steps_name_meaning_and_troubleshooting() -> None:
    sheet = openpyxl.load_workbook(WORKBOOK)["Start here"]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert frontend.STATUS_FORMULA in texts
    for step in instructions.STEPS:
        assert instructions.plain(step.text) in texts
    assert instructions.NAME_MEANING in texts
    for trouble in instructions.TROUBLESHOOTING:
        assert instructions.plain(trouble.fix) in texts
    stored = openpyxl.load_workbook(WORKBOOK, data_only=True)["Start here"]
    assert frontend.STATUS_NOT_YET in [c.value for row in stored.iter_rows() for c in row]


def test_the_docs_give_the_same_steps_as_the_workbook() -> None:
    """One source: the docs' set-up and troubleshooting pages, as the docs build expands them, carry
    instructions' steps and table verbatim (``python -m xl_addin.excel.instructions`` prints them)."""
    setup = docs_hooks.expand((DOCS / "excel" / "setup.md").read_text(encoding="utf-8"))
    trouble = docs_hooks.expand((DOCS / "excel" / "troubleshooting.md").read_text(encoding="utf-8"))
    assert instructions.steps_markdown() in setup
    assert instructions.troubleshooting_markdown() in trouble
    section = setup + trouble
    for phrase in (
        "Unblock",
        "64-bit",
        "Trust access to the VBA project",
        "Tools > References",
        "ImportPythonUDFs",
        "Ctrl+Alt+F9",
        ".xlsm",
        "Could not activate Python COM server",
    ):
        assert phrase in section


def test_the_table_sheet_is_one_formula_years_across_regions_down() -> None:
    wb = openpyxl.load_workbook(WORKBOOK)
    sheet = wb["Table"]
    anchor = sheet["C6"].value
    assert isinstance(anchor, ArrayFormula) and anchor.text == "=IMGOUT_FORECAST(C5:L5,B6:B13)"
    assert anchor.ref == "C6:L13"  # 8 regions x 10 years, spilled from one cell
    stored = openpyxl.load_workbook(WORKBOOK, data_only=True)["Table"]
    years = [stored.cell(5, c).value for c in range(3, 13)]
    regions = [stored.cell(r, 2).value for r in range(6, 14)]
    from xl_addin.model import market_for

    m = market_for(None)
    assert years == list(range(2021, 2031)) and regions == list(m.members("region"))
    for r, region in enumerate(regions):
        for c, year in enumerate(years):
            assert stored.cell(6 + r, 3 + c).value == pytest.approx(m.forecast(year, region), rel=1e-12)


def test_a_stale_workbook_is_caught(tmp_path: Path) -> None:
    """The committed workbook is what `imgout excel` writes today (formulas and VBA modules)."""
    from xl_addin.cli import main

    out = tmp_path / "IMGOUT.xlsm"
    main(["excel", "--out", str(out)])
    assert _vba_modules(out) == _vba_modules(WORKBOOK)
    fresh, committed = openpyxl.load_workbook(out), openpyxl.load_workbook(WORKBOOK)
    for name in committed.sheetnames:
        assert _cells(fresh[name]) == _cells(committed[name]), name


def _cells(sheet: Any) -> dict[str, Any]:
    return {
        c.coordinate: (c.value.text if isinstance(c.value, ArrayFormula) else c.value)
        for row in sheet.iter_rows()
        for c in row
        if c.value is not None
    }


def test_start_here_shows_the_headline_with_the_publishers_consensus_beside_it() -> None:
    """The committed workbook's Start here example: the engine's headline line as its stored result, from a
    formula that asks the functions for it (so it follows the user's assumption file)."""
    from xl_addin.model import default_market, headline_with_consensus

    formulas, values = openpyxl.load_workbook(WORKBOOK), openpyxl.load_workbook(WORKBOOK, data_only=True)
    start = formulas["Start here"]
    row = next(c.row for c in start["B"] if str(c.value or "").startswith("Example: the 2030 headline"))
    assert (
        start.cell(row, 3).value
        == '=IFERROR(IMGOUT_INFO("headline"),"Not working yet: follow the steps below")'
    )
    assert values["Start here"].cell(row, 3).value == headline_with_consensus(default_market(), 2030)
