"""Client workbooks: an account team writes one per client, and every number in it is the engine's.

LibreOffice Calc (headless) is the independent spreadsheet engine here: it recalculates the formulas from
scratch and must find the stored results again. Three LibreOffice runs in all (the generated workbook,
one with a corrupted stored value, one with edited inputs), shared through module-scoped fixtures.
Gnumeric, printing, checks, the FAST layout and the region x segment sheet are in
``tests/test_workbook_engines.py``.
"""

from __future__ import annotations

import html
import math
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.cell import coordinate_to_tuple

from tests.support.another_publication import ANOTHER_PUBLICATION
from tests.support.libreoffice import (
    cell_values,
    compare_stored_with_recalculated,
    formula_cells,
    recalculate,
    require_soffice,
)
from xl_addin.cli import main
from xl_addin.common.formats import money
from xl_addin.errors import InputError, LayoutError
from xl_addin.model import market_for
from xl_addin.model.status import MEANINGS
from xl_addin.report import build_context, load_profile
from xl_addin.report.brief import render_brief
from xl_addin.report.layout import SheetLayout, check_sheets, render_layout
from xl_addin.report.workbook import sheets as sheets_module
from xl_addin.report.workbook import workbook_path, write_workbook
from xl_addin.report.workbook import write as write_module
from xl_addin.report.workbook.book import Book, Cells
from xl_addin.report.workbook.sheets import SheetKind, check_kinds, discover, fill_order

OUTPUT_KINDS = ("forecast", "breakdown", "scenarios", "drivers")


@pytest.fixture(scope="module")
def context():
    profile = load_profile(None, name="Acme Imaging", focus_regions=["APAC"], notes="=1+1 is not a formula")
    return build_context(profile)


@pytest.fixture(scope="module")
def workbook(context, tmp_path_factory) -> Path:
    return write_workbook(context, tmp_path_factory.mktemp("wb") / "acme.xlsx")


@pytest.fixture(scope="module")
def recalculated(workbook, tmp_path_factory) -> Path:
    require_soffice()
    return recalculate(workbook, tmp_path_factory.mktemp("lo"))


def named_cell(book: openpyxl.Workbook, name: str) -> tuple[str, str]:
    ((sheet, coordinate),) = book.defined_names[name].destinations
    return sheet, coordinate.replace("$", "")


def sheet_of_kind(context, kind: str) -> str:
    return next(s.name for s in render_layout(context) if s.kind == kind)


def time_rows(path: Path, sheet: str) -> dict[str, dict[int, object]]:
    """The rows of a time-across sheet by their label (column A): {label: {year: stored value}}, the
    years read from the timeline row ("Year" in column A). A label seen twice keeps its first row."""
    rows = list(openpyxl.load_workbook(path, data_only=True)[sheet].iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "Year")
    years = {j: int(v) for j, v in enumerate(rows[top]) if j and isinstance(v, int | float)}
    out: dict[str, dict[int, object]] = {}
    for r in rows[top + 1 :]:
        if isinstance(r[0], str) and r[0] not in out and any(r[j] is not None for j in years):
            out[r[0]] = {y: r[j] for j, y in years.items()}
    return out


def block(path: Path, sheet: str, caption: str) -> dict[str, dict[int, float]]:
    """A member x year block under a caption on a time-across sheet: {member: {year: stored value}}."""
    rows = list(openpyxl.load_workbook(path, data_only=True)[sheet].iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "Year")
    years = {j: int(v) for j, v in enumerate(rows[top]) if j and isinstance(v, int | float)}
    start = next(i for i, r in enumerate(rows) if r[0] == caption)
    out = {}
    for r in rows[start + 1 :]:
        if r[0] in (None, "Total"):
            break
        out[r[0]] = {y: r[j] for j, y in years.items()}
    return out


TOTAL = "Market size, USD bn"


# ------------------------------------------------------------------ a real spreadsheet engine agrees


@pytest.mark.slow
def test_libreoffice_recalculating_the_workbook_finds_every_stored_result(workbook, recalculated):
    formulas = formula_cells(workbook)
    assert len(formulas) > 800  # the outputs are formulas, not pasted numbers
    assert compare_stored_with_recalculated(workbook, recalculated, rel=1e-9) == []


@pytest.mark.slow
def test_a_wrong_stored_result_would_be_caught(workbook, context, tmp_path):
    """Corrupt the stored 2030 total inside the file: LibreOffice recomputes it and the check reports it."""
    require_soffice()
    book = openpyxl.load_workbook(workbook)
    sheet = sheet_of_kind(context, "forecast")
    year_cell = next(
        c for row in book[sheet].iter_rows() for c in row if c.value == context.market.horizon_year
    )
    coordinate = f"{year_cell.column_letter}{year_cell.row + 1}"  # the total, under the year
    index = book.sheetnames.index(sheet) + 1
    corrupted = tmp_path / "corrupted.xlsx"
    with zipfile.ZipFile(workbook) as source, zipfile.ZipFile(corrupted, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == f"xl/worksheets/sheet{index}.xml":
                text = data.decode()
                pattern = rf'(<c r="{coordinate}"[^>]*>.*?<v>)([^<]*)(</v>)'
                text, count = re.subn(pattern, r"\g<1>999\g<3>", text, count=1)
                assert count == 1
                data = text.encode()
            target.writestr(item, data)
    differences = compare_stored_with_recalculated(corrupted, recalculate(corrupted, tmp_path / "lo"))
    assert len(differences) == 1
    assert differences[0].startswith(f"{sheet}!{coordinate} ") and "stored 999" in differences[0]


@pytest.mark.slow
def test_editing_the_forecast_growth_and_the_scenario_gives_the_engines_numbers(workbook, context, tmp_path):
    """An analyst types 10 % growth and picks bull on Inputs: LibreOffice gives what the engine gives."""
    require_soffice()
    book = openpyxl.load_workbook(workbook)
    sheet, coordinate = named_cell(book, "ForecastGrowthOverride")
    book[sheet][coordinate] = 0.10
    sheet, coordinate = named_cell(book, "Scenario")
    book[sheet][coordinate] = "bull"
    edited = tmp_path / "edited.xlsx"
    book.save(edited)  # openpyxl drops every stored result: only a recalculation brings numbers back
    fresh = recalculate(edited, tmp_path / "lo")

    engine = market_for(None, "cagr=0.10")
    forecast = time_rows(fresh, sheet_of_kind(context, "forecast"))
    assert set(forecast[TOTAL]) == set(range(2020, 2036))
    for year, value in forecast[TOTAL].items():
        assert value == pytest.approx(engine.forecast(year, scenario="bull"), rel=1e-9), year
        assert forecast["Status"][year] == engine.status(year, "bull")
    scenarios = block(fresh, sheet_of_kind(context, "scenarios"), "Market size by scenario, USD bn")
    for name in engine.scenario_names:
        for year, value in scenarios[name].items():
            assert value == pytest.approx(engine.forecast(year, scenario=name), rel=1e-9), (year, name)
    regions = block(fresh, "By region", "Market size by region, USD bn")
    for region, values in regions.items():
        for year, value in values.items():
            assert value == pytest.approx(engine.forecast(year, region, scenario="bull"), rel=1e-9)
    modality = block(fresh, "By segment", "Market size by modality, USD bn")
    assert modality["MRI"][2035] == pytest.approx(
        engine.forecast(2035, segment="MRI", scenario="bull"), rel=1e-9
    )
    # The untouched workbook still says 27.88: the edit moved the numbers, it did not break the check.
    assert forecast[TOTAL][2030] != pytest.approx(27.88, abs=0.005)
    # The tornado is the base scenario's whatever scenario is picked: LibreOffice's title says so.
    assert tornado_title(fresh, data_only=True).endswith(": base scenario")


def tornado_title(path: Path, *, data_only: bool) -> str:
    """The title cell of the Drivers sheet's tornado chart (its formula, or its value)."""
    drivers = openpyxl.load_workbook(path, data_only=data_only)["Drivers"]
    formulas = openpyxl.load_workbook(path)["Drivers"]
    (coordinate,) = [
        c.coordinate
        for row in formulas.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith('="Tornado: market')
    ]
    return str(drivers[coordinate].value)


def test_the_tornado_title_names_the_base_scenario_it_is_computed_for(tmp_path):
    """A bull workbook: the tornado is the base scenario's, and its title says so, not "bull scenario"."""
    context = build_context(load_profile(None, name="Bull Co"), scenario="bull")
    path = write_workbook(context, tmp_path / "bull.xlsx")
    title = tornado_title(path, data_only=True)
    assert title == (
        "Tornado: market 2030 with one driver at its low or high, change from the base, USD bn: base scenario"
    )
    assert "Scenario" not in tornado_title(path, data_only=False).replace("base scenario", "")
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    (tornado,) = [c for c in charts if "Driver at its low" in c]
    assert "<c:tx><c:strRef><c:f>Drivers!$A$" in tornado  # the chart's title is that cell
    consensus = build_context(
        load_profile(None, name="Basis Co"), overrides="basis=consensus", scenario="bull"
    )
    path = write_workbook(consensus, tmp_path / "consensus.xlsx")
    assert tornado_title(path, data_only=True).endswith(": base scenario, basis consensus")


FAST_LONGEST_FORMULA = 250
"""FAST's limit on a formula's length, in characters (longer ones go into helper rows)."""


def longest_formulas(path: Path) -> list[tuple[int, str]]:
    """Every formula longer than FAST's limit: its length and its sheet!cell, longest first."""
    book = openpyxl.load_workbook(path)
    found = [
        (len(c.value), f"{ws.title}!{c.coordinate}")
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f" and isinstance(c.value, str)
    ]
    assert len(found) > 1000  # the formulas were read, not missed
    return sorted((f for f in found if f[0] > FAST_LONGEST_FORMULA), reverse=True)


def test_no_formula_is_longer_than_fast_allows(workbook, tmp_path):
    """FAST: no formula over 250 characters, in the default workbook and in a bull pack following the
    consensus (whose basis formulas are the longest); long ones are split into helper rows."""
    assert longest_formulas(workbook) == []
    consensus = build_context(
        load_profile(None, name="Basis Co"), overrides="basis=consensus", scenario="bull"
    )
    assert longest_formulas(write_workbook(consensus, tmp_path / "consensus.xlsx")) == []


# ------------------------------------------------------------------ the engine's numbers, cell for cell


def test_the_2030_total_and_every_region_are_the_engines_numbers(workbook, context):
    market = context.market
    forecast = time_rows(workbook, sheet_of_kind(context, "forecast"))[TOTAL]
    assert money(forecast[2030]) == "27.88"
    for year, value in forecast.items():
        assert value == market.forecast(year)
    regions = block(workbook, "By region", "Market size by region, USD bn")
    assert list(regions) == list(market.members("region"))
    for region, values in regions.items():
        for year, value in values.items():
            assert value == pytest.approx(market.forecast(year, region), rel=1e-15), (region, year)
    summary = pd.read_excel(workbook, sheet_name="By region", header=None)
    apac = summary[summary[0] == "Asia-Pacific"].iloc[0]
    assert apac[3] == pytest.approx(market.forecast(2030, "Asia-Pacific"), rel=1e-15)
    assert apac[5] == pytest.approx(market.cagr(2026, 2030, "Asia-Pacific"), rel=1e-12)
    assert apac[6] == "focus"


def test_pandas_reads_numbers_not_blanks_for_formula_cells(workbook, context):
    frame = pd.read_excel(workbook, sheet_name=sheet_of_kind(context, "forecast"), header=3, index_col=0)
    values = frame.loc[TOTAL]
    assert len(values) == 16 and values.notna().all()
    assert (values > 0).all() and list(values.index) == list(range(2020, 2036))
    stored = cell_values(workbook)
    numeric = {key for key in formula_cells(workbook) if isinstance(stored.get(key), float)}
    assert len(numeric) > 800
    for sheet in render_layout(context):
        if sheet.kind not in OUTPUT_KINDS:
            continue
        frame = pd.read_excel(workbook, sheet_name=sheet.name, header=None)
        for name, coordinate in numeric:
            if name == sheet.name:
                row, column = coordinate_to_tuple(coordinate)
                assert frame.iat[row - 1, column - 1] == stored[(name, coordinate)], f"{name}!{coordinate}"


def test_every_output_number_is_a_formula(workbook, context):
    """On the output sheets a plain number can only be a year label: the rest are live formulas."""
    book = openpyxl.load_workbook(workbook)
    years = set(range(2010, 2051))
    for sheet in render_layout(context):
        if sheet.kind not in OUTPUT_KINDS:
            continue
        for row in book[sheet.name].iter_rows():
            for cell in row:
                if cell.data_type == "n" and cell.value is not None:
                    assert cell.value in years, (
                        f"{sheet.name}!{cell.coordinate} = {cell.value} is not a formula"
                    )


def test_inputs_hold_every_assumption_named_styled_and_with_a_scenario_selector(workbook, context):
    book = openpyxl.load_workbook(workbook)
    inputs = book[sheet_of_kind(context, "inputs")]
    keys = {row[0] for row in inputs.iter_rows(values_only=True)}
    a = context.market.assumptions
    for entry in a.entries():
        if entry.key.startswith(("anchors.", "extension.")):
            assert entry.key in keys
    for dimension in a.dimensions.values():
        assert set(dimension.names) <= keys
    assert set(a.drivers) <= keys
    sheet, coordinate = named_cell(book, "ForecastGrowth")
    assert book[sheet][coordinate].data_type == "f"  # the rate used: a formula, never typed over
    sheet, coordinate = named_cell(book, "ForecastGrowthOverride")
    override = book[sheet][coordinate]
    assert override.value is None and not override.protection.locked  # blank until a rate is typed
    assert override.fill.fgColor.rgb.endswith("FFF2CC") and override.font.color.rgb.endswith("0000FF")
    lists = {
        str(v.sqref): v.formula1.lstrip("=")
        for v in inputs.data_validations.dataValidation
        if v.type == "list"
    }
    assert lists == {
        named_cell(book, "Scenario")[1]: "ScenarioNames",
        named_cell(book, "Basis")[1]: "BasisIds",
    }
    for name in (
        "BaseSize",
        "NextSize",
        "BackcastGrowth",
        "ExtrapolationGrowth",
        "Share_region",
        "SelectedGrowth",
    ):
        assert name in book.defined_names


def test_sheets_follow_the_layout_with_tables_charts_print_setup_and_provenance(workbook, context):
    book = openpyxl.load_workbook(workbook)
    layout = render_layout(context)
    assert book.sheetnames == [s.name for s in layout]
    contents = book[next(s.name for s in layout if s.kind == "contents")]
    links = {c.value: c.hyperlink.location for row in contents.iter_rows() for c in row if c.hyperlink}
    assert links == {s.name: f"{s.name}!A1" if " " not in s.name else f"'{s.name}'!A1" for s in layout}
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.print_area and ws.print_title_rows
        assert ws.protection.sheet and not ws.protection.password
    for kind in ("inputs", "breakdown", "scenarios", "drivers", "checks"):
        for sheet in (s for s in layout if s.kind == kind):
            assert book[sheet.name].tables, sheet.name
    for kind in ("inputs", *OUTPUT_KINDS, "uncertainty"):
        for sheet in (s for s in layout if s.kind == kind):
            assert book[sheet.name].freeze_panes, sheet.name
    custom = {p.name: p.value for p in book.custom_doc_props.props}
    assert custom["imgout model version"] == context.model_version
    assert custom["imgout assumption hash"] == context.assumption_hash
    assert context.assumption_hash in book.properties.keywords
    with zipfile.ZipFile(workbook) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        fan = next(z.read(n).decode() for n in charts if "P10 to P90" in z.read(n).decode())
    assert (
        len(charts) == 9
    )  # forecast, scenarios, regions, service, modality, end user, tornado, fan, estimates
    assert "<c:areaChart>" in fan and "<c:lineChart>" in fan
    uncertainty = book[sheet_of_kind(context, "uncertainty")]
    assert any("stored" in str(c.value) for row in uncertainty.iter_rows() for c in row)


# ------------------------------------------------------------------ hostile client text stays text

HOSTILE_NAMES = [
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+1)",
    "<script>alert(1)</script>",
    "../../x",
    "Acme\r\nBcc: victim@example.com",
    "A" * 300,
    "中文 影像 有限公司",
    "العربية للأشعة",
    '"]: {sheets: []}',
]


@pytest.mark.slow  # a workbook for each of ten names
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[ascii(n)[1:25] for n in HOSTILE_NAMES])
def test_hostile_client_names_stay_text_and_give_safe_file_names(name, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    profile = load_profile(None, name=name, notes=name)
    context = build_context(profile)
    path = write_workbook(context, workbook_path(context, folder))
    assert path.parent == folder and [p.name for p in folder.iterdir()] == [path.name]
    assert re.fullmatch(r"[\w\-]+\.xlsx", path.name) and not path.name.startswith((".", "-"))
    book = openpyxl.load_workbook(path)
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    names = [c for c in cells if c.value == profile.name]
    notes = [c for c in cells if c.value == profile.notes.replace("\r\n", "\n")]  # line breaks kept, as LF
    assert names and notes
    assert all(c.data_type == "s" for c in names + notes)
    assert {p.name: p.value for p in book.custom_doc_props.props}["imgout client"] == profile.name[:255]
    assert "\r" not in profile.name and "\n" not in profile.name


def test_notes_that_look_like_formulas_stay_text(workbook):
    notes = openpyxl.load_workbook(workbook)["Notes"]
    cells = [c for row in notes.iter_rows() for c in row if c.value == "=1+1 is not a formula"]
    assert cells and cells[0].data_type == "s"


def test_the_notes_sheet_says_what_every_status_word_means(workbook):
    notes = openpyxl.load_workbook(workbook)["Notes"]
    rows = [(row[0].value, row[1].value) for row in notes.iter_rows(max_col=2)]
    start = rows.index(("What the status words of the Status rows and columns mean", None))
    assert rows[start + 1 : start + 1 + len(MEANINGS)] == list(MEANINGS)


# ------------------------------------------------------------------ the command, and failures


def test_the_command_writes_a_workbook_named_after_the_client(tmp_path, capsys):
    main(
        [
            "workbook",
            "--client",
            "Acme Imaging",
            "--scenario",
            "bull",
            "--set",
            "cagr=0.10",
            "--out",
            str(tmp_path),
        ]
    )
    path = tmp_path / "Acme-Imaging.xlsx"
    assert path.is_file()
    out = capsys.readouterr().out
    assert str(path) in out and "scenario bull" in out
    book = openpyxl.load_workbook(path, data_only=True)
    sheet, coordinate = named_cell(book, "Scenario")
    assert book[sheet][coordinate].value == "bull"
    sheet, coordinate = named_cell(book, "ForecastGrowth")
    assert book[sheet][coordinate].value == 0.10


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("--client x --scenario mars --out {out}", "Invalid scenario: 'mars'"),
        ("--profile {tmp}/nope.yaml --out {out}", "file not found"),
        ("--profile {tmp}/garbage.yaml --out {out}", "not valid YAML"),
        ("--client x --out {tmp}/blocked/a.xlsx", "does not exist"),
        ("--client x --out {out}/report.txt", "ending in .xlsx"),
        ("--out {out}", "Missing --client"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_leaves_nothing(arguments, message, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "garbage.yaml").write_text("name: [unclosed", encoding="utf-8")
    (tmp_path / "blocked").write_text("a file where a folder should be", encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        main(["workbook", *arguments.format(tmp=tmp_path, out=out).split()])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked", "garbage.yaml", "out"]


def test_a_crash_while_writing_leaves_the_old_workbook_and_no_temporary_file(context, tmp_path, monkeypatch):
    target = tmp_path / "acme.xlsx"
    target.write_bytes(b"the previous pack")

    def crash(self):
        raise RuntimeError("disk full halfway")

    monkeypatch.setattr(Book, "close", crash)
    with pytest.raises(RuntimeError):
        write_workbook(context, target)
    assert [p.name for p in tmp_path.iterdir()] == ["acme.xlsx"]
    assert target.read_bytes() == b"the previous pack"


def test_writing_into_a_folder_path_is_refused(context, tmp_path):
    (tmp_path / "taken.xlsx").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        write_workbook(context, tmp_path / "taken.xlsx")


def test_a_layout_must_name_valid_unique_sheets_and_the_ones_formulas_need():
    good = [
        {"name": "Inputs", "kind": "inputs"},
        {"name": "Estimates", "kind": "estimates"},
        {"name": "Scenarios", "kind": "scenarios"},
        {"name": "F", "kind": "forecast"},
    ]

    def check(sheets):
        layout = check_sheets(sheets, "t")
        check_kinds(layout, "t")
        return layout

    assert [s.kind for s in check(good)] == ["inputs", "estimates", "scenarios", "forecast"]
    for bad, problem in (
        ([*good, {"name": "inputs", "kind": "notes"}], "appears twice"),
        ([*good, {"name": "A/B", "kind": "notes"}], "none of"),
        ([*good, {"name": "X", "kind": "pivot"}], "kind 'pivot'"),
        ([*good[:3], {"name": "C", "kind": "cover"}], "kind 'forecast'"),
        ([*good, {"name": "R1", "kind": "breakdown"}, {"name": "R2", "kind": "breakdown"}], None),
        ([*good, {"name": "S1", "kind": "scenarios"}], "exactly one sheet of kind 'scenarios'"),
    ):
        if problem is None:  # several sheets of a kind that allows it (By region, By segment)
            check(bad)
            continue
        with pytest.raises(LayoutError, match=problem):
            check(bad)


def test_the_workbook_builds_in_millions_too(tmp_path):
    context = build_context(load_profile(None, name="Mega", units="mn", first_year=2024, last_year=2040))
    path = write_workbook(context, tmp_path / "mega.xlsx")
    forecast = time_rows(path, sheet_of_kind(context, "forecast"))["Market size, USD mn"]
    assert forecast[2030] == 27_880  # as printed (test_units_as_published)
    assert forecast[2031] == pytest.approx(context.market.forecast(2031) * 1000, rel=1e-12)
    modelled = time_rows(path, sheet_of_kind(context, "forecast"))["Market size as modelled, USD mn"]
    assert modelled[2030] == pytest.approx(context.market.forecast(2030) * 1000, rel=1e-12)
    assert f"{forecast[2030]:,.0f}" == "27,880"
    assert set(forecast) == set(range(2023, 2041))  # widened to Market.us's published 2023
    values = cell_values(path)
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in values.values())


# ------------------------------------------------------------------ sheet kinds: one module each, one table


def test_a_template_sheet_of_a_kind_without_a_module_stops_the_build_naming_it(
    context, tmp_path, monkeypatch
):
    """Someone adds a 'glossary' sheet to the template but writes no sheets/glossary.py: a loud error, no file."""
    shipped = render_layout(context)
    glossary = SheetLayout("Glossary", "glossary", {"name": "Glossary", "kind": "glossary"})
    monkeypatch.setattr(write_module, "render_layout", lambda c, t: (*shipped, glossary))
    with pytest.raises(LayoutError, match=r"sheet 'Glossary' kind 'glossary' \(expected one of .*cover"):
        write_workbook(context, tmp_path / "acme.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_sheet_module_the_shipped_template_does_not_use_stops_the_build_naming_it(
    context, tmp_path, monkeypatch
):
    """Someone adds sheets/glossary.py but no template line: the build names the kind and its module."""
    module = "xl_addin.report.workbook.sheets.glossary"
    monkeypatch.setitem(
        sheets_module.SHEETS, "glossary", SheetKind("glossary", (), lambda b, w, s: None, module)
    )
    with pytest.raises(
        LayoutError, match=r"kind 'glossary' \(xl_addin/report/workbook/sheets/glossary\.py\)"
    ):
        write_workbook(context, tmp_path / "acme.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_the_shipped_template_uses_every_registered_kind_and_nothing_else(context):
    assert {s.kind for s in render_layout(context)} == set(sheets_module.SHEETS)


def _package(tmp_path: Path, name: str, modules: dict[str, str]) -> tuple[str, list[str]]:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, text in modules.items():
        (folder / f"{module}.py").write_text(text)
    return name, [str(folder)]


def test_every_module_of_the_sheets_folder_is_a_kind_and_a_broken_one_is_named(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    write = "def write(book, ws, sheet):\n    pass\n"
    found = discover(
        *_package(
            tmp_path,
            "good_sheets",
            {"glossary": f"NEEDS = ('terms',)\n{write}", "terms": f"NEEDS = ()\n{write}", "_shared": ""},
        )
    )
    assert {k: s.needs for k, s in found.items()} == {"glossary": ("terms",), "terms": ()}
    for name, modules, problem in (
        ("no_needs", {"glossary": write}, r"'glossary' \(no_needs\.glossary\): expected NEEDS"),
        (
            "unknown_need",
            {"glossary": f"NEEDS = ('forecast',)\n{write}"},
            r"'glossary' .*needs 'forecast', which is not a kind",
        ),
        ("circle", {"a": f"NEEDS = ('b',)\n{write}", "b": f"NEEDS = ('a',)\n{write}"}, "round in a circle"),
    ):
        with pytest.raises(LayoutError, match=problem):
            discover(*_package(tmp_path, name, modules))


def test_sheets_are_filled_after_the_kinds_they_need_and_otherwise_in_template_order(context):
    layout = render_layout(context)
    order = [s.kind for s in fill_order(layout)]
    for kind in order:
        for need in sheets_module.SHEETS[kind].needs:
            assert order.index(need) < order.index(kind), (need, kind)
    assert order[:5] == ["contents", "inputs", "estimates", "scenarios", "forecast"] and order[-1] == "notes"
    assert sorted(fill_order(layout), key=layout.index) == list(layout)  # every sheet once


def test_a_sheet_reading_cells_of_a_kind_it_does_not_need_is_an_error_naming_both():
    cells = Cells()
    cells.filling("forecast", ("inputs", "scenarios"))
    cells.put(("total", 2030), "Forecast!$B$15", 27.88)
    cells.filling("cover", ("forecast",))
    assert cells.ref(("total", 2030)) == "Forecast!$B$15"
    cells.filling("notes", ())
    with pytest.raises(LayoutError, match=r"kind 'notes' reads \('total', 2030\) from kind 'forecast'"):
        cells.ref(("total", 2030))
    with pytest.raises(LayoutError, match="no sheet wrote"):
        cells.ref(("total", 2031))


_STRING = re.compile(r'"[^"]*"')
_SHEET_REF = re.compile(r"(?:'((?:[^']|'')+)'|([A-Za-z_][\w.]*))!")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def test_every_sheets_formulas_reference_only_the_kinds_it_declares_it_needs(workbook, context):
    """Read back with openpyxl: each formula's sheet references and defined names lie on its own sheet or
    on a sheet of a kind in its NEEDS, so the registry's needs (and the fill order) are true."""
    book = openpyxl.load_workbook(workbook)
    kind_of = {s.name: s.kind for s in render_layout(context)}
    name_sheet = {name: next(iter(d.destinations))[0] for name, d in book.defined_names.items()}
    seen = set()
    for ws in book.worksheets:
        kind = kind_of[ws.title]
        allowed = {kind, *sheets_module.SHEETS[kind].needs, *sheets_module.SHEETS[kind].shows}
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                text = _STRING.sub("", str(c.value))
                sheets = {(q or p).replace("''", "'") for q, p in _SHEET_REF.findall(text)}
                sheets |= {name_sheet[w] for w in _WORD.findall(text) if w in name_sheet}
                for other in sheets:
                    seen.add((kind, kind_of[other]))
                    assert kind_of[other] in allowed, f"{ws.title}!{c.coordinate} {c.value} reads {other}"
    # The check looked at references across sheets, not only within them.
    assert {("cover", "forecast"), ("breakdown", "inputs"), ("uncertainty", "scenarios")} <= seen


def test_a_set_from_another_publication_is_credited_to_it_in_the_workbook(tmp_path):
    """The cover, the document title and the method name the file's market and publication, and the
    Sources & method sheet lists its trends, not the default set's."""
    assumptions = tmp_path / "acme.yaml"
    assumptions.write_text(ANOTHER_PUBLICATION, encoding="utf-8")
    context = build_context(load_profile(None, name="Client"), assumptions=assumptions)
    book = openpyxl.load_workbook(write_workbook(context, tmp_path / "client.xlsx"))
    assert book[sheet_of_kind(context, "cover")]["B3"].value == "Imaging services outsourcing market"
    assert book.properties.title == "Imaging services outsourcing market data pack"
    texts = [c.value for row in book[sheet_of_kind(context, "sources")].iter_rows() for c in row if c.value]
    method = next(t for t in texts if str(t).startswith("Published anchors"))
    assert method.startswith(
        "Published anchors (Acme Research, Imaging Outsourcing Outlook 2026, 2026-01) are"
    )
    assert "- AI triage of routine studies" in texts and "- teleradiology adoption" in texts
    assert "- shortage of radiologists" not in texts


def test_a_market_name_with_template_syntax_stays_text(tmp_path):
    """The market's name comes from a file a user writes: it never passes through the layout template."""
    assumptions = tmp_path / "odd.yaml"
    assumptions.write_text('market:\n  name: "{{ 7 * 7 }}: [sheets] {publication}"\n', encoding="utf-8")
    context = build_context(load_profile(None, name="Client"), assumptions=assumptions)
    book = openpyxl.load_workbook(write_workbook(context, tmp_path / "client.xlsx"))
    assert book.sheetnames == [s.name for s in render_layout(context)]
    assert book[sheet_of_kind(context, "cover")]["B3"].value == "{{ 7 * 7 }}: [sheets] {publication}"


def test_formulas_are_prepared_exactly_as_xlsxwriter_prepares_them(context, tmp_path, monkeypatch):
    """The workbook skips XlsxWriter's future-function renaming for classic formulas (a private method,
    overridden for speed, XlsxWriter pinned): for every formula of a real workbook, and for formulas that
    do need renaming, the result is XlsxWriter's own."""
    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

    from xl_addin.report.workbook.book import ClassicFormulaSheet

    seen: list[str] = []
    prepare = ClassicFormulaSheet._prepare_formula

    def recording(self, formula, expand_future_functions=False):  # type: ignore[no-untyped-def]
        seen.append(formula)
        return prepare(self, formula, expand_future_functions)

    monkeypatch.setattr(ClassicFormulaSheet, "_prepare_formula", recording)
    write_workbook(context, tmp_path / "acme.xlsx")
    assert len(seen) > 2000
    extra = [
        "=XLOOKUP(A1,B1:B9,C1:C9)",  # a future function: prefixed
        "{=SUM(A1:A3*B1:B3)}",  # an array formula's braces
        "=SORT(UNIQUE(A1:A9))",
        "=_xlfn.CONCAT(A1,B1)",  # already expanded by hand
    ]
    ours, theirs = ClassicFormulaSheet(), Worksheet()
    for formula in [*dict.fromkeys(seen), *extra]:
        expected = theirs._prepare_formula(formula)
        assert ours._prepare_uncached(formula, False) == expected, formula
        assert prepare(ours, formula) == prepare(ours, formula) == expected, formula  # cached, then read back
    assert (
        xlsxwriter.__version__ == "3.3.1"
    )  # the version pinned in pyproject.toml, whose method this follows


def test_the_prepared_formulas_cache_stays_bounded(monkeypatch):
    from xl_addin.report.workbook import book

    monkeypatch.setattr(book, "PREPARED_LIMIT", 3)
    monkeypatch.setattr(book, "_PREPARED", {})
    sheet = book.ClassicFormulaSheet()
    for n in range(10):
        assert sheet._prepare_formula(f"=SUM(A{n}:B{n})") == f"SUM(A{n}:B{n})"
        assert len(book._PREPARED) <= 3


def test_the_telemedicine_evidence_says_its_periods_beside_its_numbers_in_every_face(context, workbook):
    """Issue 17: the widest driver once rested on a one-month change with no period stated. Its figures
    now stand with their months in the workbook, every brief format and the assumptions' notes."""
    periods = (
        "5.9 % of US medical claim lines in January 2023",
        "4.8 % in January 2024",
        "Dec 2022-Jan 2023",
    )
    book = openpyxl.load_workbook(workbook, data_only=True)
    inputs = " ".join(str(c.value) for row in book["Inputs"].iter_rows() for c in row if c.value is not None)
    faces = {"workbook": " ".join(inputs.split())}
    for kind in ("html", "md", "txt"):
        faces[kind] = " ".join(html.unescape(render_brief(context, kind)).split())
    entry = next(e for e in context.market.assumptions.entries() if e.key == "drivers.telemedicine.growth")
    faces["assumptions"] = entry.note
    for face, text in faces.items():
        for period in periods:
            assert period in text, (face, period)
