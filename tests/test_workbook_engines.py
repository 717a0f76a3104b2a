"""A client workbook a modeller would sign off: two independent engines, checks, FAST layout, printing.

The story: an analyst opens the bull-scenario pack of a client whose assumption set has a joint region x
service table. Gnumeric and LibreOffice both recalculate every formula to the stored result; both follow
an analyst's edits (a share typed for Asia-Pacific, a relative growth for MRI, a forecast growth, another
scenario) to what the engine gives for the same overrides; the Checks sheet catches shares that no longer
add up; the printed PDF has no text under 8 pt and every output page names the scenario.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import range_boundaries

from tests.support import gnumeric, libreoffice
from tests.test_model import JOINT  # a row for North America: Reporting 60 %
from tests.test_workbook import TOTAL, block, named_cell, time_rows
from xl_addin.model import market_for
from xl_addin.report import build_context, load_profile
from xl_addin.report.layout import render_layout
from xl_addin.report.workbook import write_workbook

OUTPUT_KINDS = (
    "forecast",
    "breakdown",
    "scenarios",
    "drivers",
    "matrix",
    "uncertainty",
    "checks",
    "estimates",
)
TIME_KINDS = ("forecast", "breakdown", "scenarios", "uncertainty")
EDITS = "share.APAC=0.25; growth.MRI=0.05; cagr=0.10"

# Gnumeric's .xlsx has no default cell style; openpyxl says so and reads it all the same.
pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")


def recalculate(engine: str, path: Path, out: Path) -> Path:
    """A workbook recalculated from scratch by LibreOffice or Gnumeric."""
    if engine == "Gnumeric":
        gnumeric.require_ssconvert()
        return gnumeric.recalculate(path, out)
    libreoffice.require_soffice()
    return libreoffice.recalculate(path, out)


@pytest.fixture(scope="module")
def joint_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("set") / "joint.yaml"
    path.write_text(JOINT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def context(joint_file):
    profile = load_profile(None, name="Acme Imaging", focus_regions=["APAC"])
    return build_context(profile, assumptions=joint_file, scenario="bull")


@pytest.fixture(scope="module")
def workbook(context, tmp_path_factory) -> Path:
    return write_workbook(context, tmp_path_factory.mktemp("wb") / "acme.xlsx")


def sheet_of(context, kind: str) -> str:
    return next(s.name for s in render_layout(context) if s.kind == kind)


def member_cell(book: openpyxl.Workbook, member: str, column: str) -> openpyxl.cell.Cell:
    """A member's cell in a split table of Inputs: column D is the share override, G the relative growth."""
    inputs = book["Inputs"]
    row = next(c.row for c in inputs["A"] if c.value == member)
    return inputs[f"{column}{row}"]


# ------------------------------------------------------------------ two engines agree with the stored results


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["Gnumeric", "LibreOffice"])
def test_both_engines_recalculate_every_formula_to_its_stored_result(engine, workbook, tmp_path):
    formulas = libreoffice.formula_cells(workbook)
    assert len(formulas) > 1400
    fresh = recalculate(engine, workbook, tmp_path / engine)
    assert libreoffice.compare_stored_with_recalculated(workbook, fresh, rel=1e-9, engine=engine) == []


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["Gnumeric", "LibreOffice"])
def test_a_pack_made_with_overrides_of_every_kind_recalculates_to_its_stored_result(engine, tmp_path):
    """``imgout workbook --set ...``: each override lands in its cell and every status still says what it
    moved after a recalculation (a share override's statuses once lost their "override")."""
    overrides = (
        "share.APAC=0.25; growth.MRI=0.05; cagr=0.1; driver.telemedicine=0.05; backcast_growth=0.05; "
        "long_run_growth=0.03; fade_years=5"
    )
    context = build_context(load_profile(None, name="Acme Imaging"), overrides=overrides, scenario="bull")
    path = write_workbook(context, tmp_path / "acme.xlsx")
    fresh = recalculate(engine, path, tmp_path / engine)
    assert libreoffice.compare_stored_with_recalculated(path, fresh, rel=1e-9, engine=engine) == []
    statuses = time_rows(fresh, "By region")["Status of each region"]
    assert statuses[2025] == "published total, assumed split (override)"


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["Gnumeric", "LibreOffice"])
def test_both_engines_follow_edited_inputs_to_the_engines_answer(
    engine, workbook, context, joint_file, tmp_path
):
    """Type 25 % for Asia-Pacific, 5 % relative growth for MRI, 10 % forecast growth, pick bear: every sheet
    gives what the engine gives for share.APAC=0.25; growth.MRI=0.05; cagr=0.10 in bear."""
    book = openpyxl.load_workbook(workbook)
    member_cell(book, "Asia-Pacific", "D").value = 0.25
    member_cell(book, "MRI", "G").value = 0.05
    sheet, coordinate = named_cell(book, "ForecastGrowthOverride")
    book[sheet][coordinate] = 0.10
    sheet, coordinate = named_cell(book, "Scenario")
    book[sheet][coordinate] = "bear"
    edited = tmp_path / "edited.xlsx"
    book.save(edited)  # openpyxl keeps no stored results: only the recalculation brings numbers back
    fresh = recalculate(engine, edited, tmp_path / engine)

    engine_market = market_for(joint_file, EDITS)
    forecast = time_rows(fresh, sheet_of(context, "forecast"))
    for year, value in forecast[TOTAL].items():
        assert value == pytest.approx(engine_market.forecast(year, scenario="bear"), rel=1e-9), year
        assert forecast["Status"][year] == engine_market.status(year, "bear"), year
    regions = block(fresh, "By region", "Market size by region, USD bn")
    for region, values in regions.items():
        for year, value in values.items():
            assert value == pytest.approx(engine_market.forecast(year, region, scenario="bear"), rel=1e-9)
    modality = block(fresh, "By segment", "Market size by modality, USD bn")
    for year, value in modality["MRI"].items():
        assert value == pytest.approx(engine_market.forecast(year, segment="MRI", scenario="bear"), rel=1e-9)
    scenarios = block(fresh, sheet_of(context, "scenarios"), "Market size by scenario, USD bn")
    for name in engine_market.scenario_names:
        for year, value in scenarios[name].items():
            assert value == pytest.approx(engine_market.forecast(year, scenario=name), rel=1e-9)
    statuses = time_rows(fresh, "By region")["Status of each region"]
    for year, status in statuses.items():
        assert status == engine_market.status(year, "bear", "Asia-Pacific"), year
    statuses = status_rows(fresh, "By segment")
    for year in range(2020, 2036):
        assert statuses["modality"][year] == engine_market.status(year, "bear", segment="MRI"), year
        assert statuses["service"][year] == engine_market.status(year, "bear", segment="Reporting"), year
    matrix = matrix_rows(fresh, sheet_of(context, "matrix"), "service")
    na_reporting = engine_market.forecast(2030, "North America", "Reporting", "bear")
    assert matrix["North America"]["Reporting"] == pytest.approx(na_reporting, rel=1e-9)
    values = openpyxl.load_workbook(fresh, data_only=True)
    for kind in OUTPUT_KINDS:
        title = values[sheet_of(context, kind)]["A1"].value
        assert title.endswith(": bear scenario"), title  # switching the scenario renamed every title
    assert values["Checks"][named_cell(values, "MasterCheck")[1]].value.startswith("OK: all ")


@pytest.mark.slow
def test_typing_25_percent_for_asia_pacific_is_the_engines_share_override_and_a_bad_set_is_flagged(
    tmp_path,
):
    """The issue's example: 25 % typed for Asia-Pacific gives the 2030 value share.APAC=0.25 gives (the
    others keep their proportions), not the 23.92 % share of dividing by the sum; typed into the set's own
    column instead, the shares add to 104.5 % and the master check says so on the Cover and on Inputs."""
    libreoffice.require_soffice()
    context = build_context(load_profile(None, name="Acme Imaging"))
    path = write_workbook(context, tmp_path / "acme.xlsx")
    book = openpyxl.load_workbook(path)
    member_cell(book, "Asia-Pacific", "D").value = 0.25
    overridden = tmp_path / "override.xlsx"
    book.save(overridden)
    book = openpyxl.load_workbook(path)
    member_cell(book, "Asia-Pacific", "C").value = 0.25
    broken = tmp_path / "broken.xlsx"
    book.save(broken)
    for edited in (overridden, broken):
        libreoffice.recalculate(edited, tmp_path / "lo")
    fresh_override, fresh_broken = tmp_path / "lo" / "override.xlsx", tmp_path / "lo" / "broken.xlsx"

    engine = market_for(None, "share.APAC=0.25")
    regions = block(fresh_override, "By region", "Market size by region, USD bn")
    assert regions["Asia-Pacific"][2030] == pytest.approx(engine.forecast(2030, "Asia-Pacific"), rel=1e-9)
    shares = block(fresh_override, "By region", "Share of the market by region")
    assert shares["Asia-Pacific"][2025] == pytest.approx(0.25, rel=1e-12)  # not 0.25 / 1.045 = 23.92 %
    assert master_checks(fresh_override)[0].startswith("OK: all ")

    messages = master_checks(fresh_broken)
    assert messages[0] == messages[1] == messages[2]
    assert re.fullmatch(r"CHECK: 1 of \d+ checks fail \(see Checks\)", messages[0])
    checks = openpyxl.load_workbook(fresh_broken, data_only=True)["Checks"]
    failing = [r[0] for r in checks.iter_rows(values_only=True) if len(r) > 3 and r[3] == 0]
    assert failing == ["Shares by region in the assumption set add to 100 %"]
    assert checks_value(checks, failing[0]) == pytest.approx(1.045)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["Gnumeric", "LibreOffice"])
def test_typing_the_value_already_there_moves_nothing(engine, tmp_path):
    """Issue 10: (override) only on the values an override moves. Typed into their override cells, the
    file's telemedicine growth, the calibrated CAGR, the long-run rate, the fade and Asia-Pacific's share
    change no status, as the engine says for the same overrides. (The back-cast growth's default is a
    formula each engine works out to its own last digit: typing Python's value would differ by one.)"""
    context = build_context(load_profile(None, name="Acme Imaging"), scenario="bull")
    market = context.market
    path = write_workbook(context, tmp_path / "acme.xlsx")
    book = openpyxl.load_workbook(path)
    member_cell(book, "telemedicine", "D").value = 0.0
    member_cell(book, "Asia-Pacific", "D").value = 0.205
    typed = {
        "ForecastGrowthOverride": market.calibrated_growth,
        "LongRunGrowthOverride": 0.045,
        "FadeYearsOverride": 10,
    }
    for name, value in typed.items():
        sheet, coordinate = named_cell(book, name)
        book[sheet][coordinate] = value
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    fresh = recalculate(engine, edited, tmp_path / engine)
    same = market_for(None, "driver.telemedicine=0.0; share.APAC=0.205; long_run_growth=0.045; fade_years=10")
    assert same.assumptions is market.assumptions  # nothing moved: the engine keeps the very same set
    forecast = time_rows(fresh, sheet_of(context, "forecast"))["Status"]
    assert forecast == {year: market.status(year, "bull") for year in forecast}
    assert forecast[2030] == "projected (bull)" and forecast[2020] == "back-cast"
    regions = time_rows(fresh, "By region")["Status of each region"]
    assert regions == {year: market.status(year, "bull", "Asia-Pacific") for year in regions}
    # A value that differs does move: 5 % for telemedicine says so from 2027.
    member_cell(book, "telemedicine", "D").value = 0.05
    book.save(edited)
    fresh = recalculate(engine, edited, tmp_path / f"{engine}-moved")
    assert time_rows(fresh, sheet_of(context, "forecast"))["Status"][2027] == "interpolated (bull, override)"


def status_rows(path: Path, sheet: str) -> dict[str, dict[int, object]]:
    """The "Status of each <dimension>" rows of a breakdown sheet: {dimension: {year: status}}."""
    rows = list(openpyxl.load_workbook(path, data_only=True)[sheet].iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "Year")
    years = {j: int(v) for j, v in enumerate(rows[top]) if j and isinstance(v, int | float)}
    return {
        str(r[0]).removeprefix("Status of each ").replace(" ", "_"): {y: r[j] for j, y in years.items()}
        for r in rows
        if str(r[0]).startswith("Status of each ")
    }


def test_every_status_is_the_engines_in_its_words(workbook, context):
    market = context.market
    forecast = time_rows(workbook, sheet_of(context, "forecast"))["Status"]
    for year, status in forecast.items():
        assert status == market.status(year, "bull")
    assert forecast[2030] == "projected (bull)" and forecast[2028] == "interpolated (bull)"
    for sheet in ("By region", "By segment"):
        for dimension, statuses in status_rows(workbook, sheet).items():
            member = market.members(dimension)[0]
            for year, status in statuses.items():
                region, segment = (member, None) if dimension == "region" else (None, f"{dimension}:{member}")
                assert status == market.status(year, "bull", region, segment), (dimension, year)
    assert status_rows(workbook, "By region")["region"][2025] == "published total, assumed split"


def master_checks(path: Path) -> list[str]:
    """The master check as the Checks sheet, the Cover and Inputs show it."""
    book = openpyxl.load_workbook(path, data_only=True)
    sheet, coordinate = named_cell(book, "MasterCheck")
    cover = next(r[2] for r in book["Cover"].iter_rows(values_only=True) if r[1] == "Checks")
    inputs = next(r[1] for r in book["Inputs"].iter_rows(values_only=True) if r[0] == "Checks")
    return [book[sheet][coordinate].value, cover, inputs]


def checks_value(sheet, text: str) -> object:
    return next(r[1] for r in sheet.iter_rows(values_only=True) if r[0] == text)


def matrix_rows(path: Path, sheet: str, dimension: str) -> dict[str, dict[str, object]]:
    """One region x segment table (stored values): {region: {member or 'Split by': value}}."""
    rows = list(openpyxl.load_workbook(path, data_only=True)[sheet].iter_rows(values_only=True))
    start = next(
        i for i, r in enumerate(rows) if str(r[0]).startswith(f"Regions by {dimension.replace('_', ' ')},")
    )
    header = next(i for i in range(start, len(rows)) if rows[i][0] == "Region")
    names = rows[header]
    out = {}
    for r in rows[header + 1 :]:
        if r[0] == "Total":
            break
        out[r[0]] = {name: value for name, value in zip(names, r, strict=False) if name}
    return out


# ------------------------------------------------------------------ joint tables, checks, contents


def test_the_joint_table_is_honoured_and_each_region_says_how_it_is_split(workbook, context, tmp_path):
    market = context.market
    service = matrix_rows(workbook, sheet_of(context, "matrix"), "service")
    na = service["North America"]
    assert na["Reporting"] == pytest.approx(market.forecast(2030, "NA", "Reporting", "bull"), rel=1e-12)
    assert na["Split by"] == "joint table"
    assert {r["Split by"] for name, r in service.items() if name != "North America"} == {"product of shares"}
    assert sum(na[m] for m in market.members("service")) == pytest.approx(na["Region, USD bn"], rel=1e-12)
    plain = build_context(load_profile(None, name="Acme"), scenario="bull")
    plain_book = write_workbook(plain, tmp_path / "plain.xlsx")
    rows = matrix_rows(plain_book, sheet_of(plain, "matrix"), "service")
    assert {r["Split by"] for r in rows.values()} == {"product of shares"}
    # The case: the joint table's 60 % Reporting share in North America, not the product of shares.
    na_plain = rows["North America"]
    assert na["Reporting"] / na["Region, USD bn"] > na_plain["Reporting"] / na_plain["Region, USD bn"] + 0.05


def test_a_fresh_workbook_passes_every_check_and_shows_it_on_cover_and_inputs(workbook):
    messages = master_checks(workbook)
    assert messages[0] == messages[1] == messages[2]
    assert re.fullmatch(r"OK: all (\d+) checks pass", messages[0])
    checks = openpyxl.load_workbook(workbook, data_only=True)["Checks"]
    texts = [r[0] for r in checks.iter_rows(values_only=True)]
    for expected in (
        "The scenario chosen on Inputs is one of the workbook's scenarios",
        "Shares by region used (after overrides) add to 100 % and none is negative",
        "Joint table region/service: the mix within North America adds to 100 %",
        "The growth bridge multiplies back to the growth of the path the total follows",
        "Members by modality add to the Forecast total in every year (largest difference)",
        "Regions by service: the table adds to the total",
        "The calibrated path reproduces the published market size 2030",
    ):
        assert expected in texts


def test_contents_describe_every_sheet_in_words_of_its_own(workbook, context):
    contents = openpyxl.load_workbook(workbook)[sheet_of(context, "contents")]
    rows = {r[0]: r[1] for r in contents.iter_rows(values_only=True) if r[0] and r[1]}
    layout = render_layout(context)
    for sheet in layout:
        text = rows[sheet.name]
        assert len(text) > 30 and text.lower() != sheet.text("title").lower(), sheet.name
    assert len(set(rows.values())) == len(rows)


# ------------------------------------------------------------------ FAST: layout, inputs, protection


def test_time_runs_across_and_every_row_holds_one_formula_copied_across(workbook, context):
    book = openpyxl.load_workbook(workbook)
    rows_checked = 0
    for sheet in render_layout(context):
        if sheet.kind not in TIME_KINDS:
            continue
        ws = book[sheet.name]
        timeline = next(r for r in ws.iter_rows() if r[0].value == "Year")
        year_columns = [c.column for c in timeline[1:] if isinstance(c.value, int)]
        assert year_columns == list(range(2, 2 + len(year_columns)))  # the same columns on every sheet
        for row in ws.iter_rows(min_row=timeline[0].row + 1):
            cells = [row[c - 1] for c in year_columns if c - 1 < len(row) and row[c - 1].data_type == "f"]
            if len(cells) < len(year_columns) - 1:
                continue  # a summary table on the sheet, not a row of the timeline
            first = cells[0]
            for c in cells[1:]:
                moved = Translator(first.value, origin=first.coordinate).translate_formula(c.coordinate)
                assert c.value == moved, f"{sheet.name}!{c.coordinate}: {c.value} is not {first.value} copied"
            rows_checked += 1
    assert rows_checked > 50


def test_no_formula_spells_a_number_other_than_0_or_1(workbook):
    book = openpyxl.load_workbook(workbook)
    seen = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                seen += 1
                numbers = [
                    t.value
                    for t in Tokenizer(c.value).items
                    if t.type == Token.OPERAND and t.subtype == Token.NUMBER
                ]
                assert set(numbers) <= {"0", "1"}, f"{ws.title}!{c.coordinate} {c.value}"
    assert seen > 1400


def test_inputs_are_only_inputs_validated_and_the_only_unlocked_cells(workbook, context):
    book = openpyxl.load_workbook(workbook)
    unlocked = [
        (ws, c) for ws in book.worksheets for row in ws.iter_rows() for c in row if not c.protection.locked
    ]
    assert {ws.title for ws, _ in unlocked} == {
        sheet_of(context, k) for k in ("inputs", "matrix", "estimates")
    }
    assert all(c.data_type != "f" for _, c in unlocked)  # typing into one destroys no formula
    for ws, c in unlocked:
        validations = [v for v in ws.data_validations.dataValidation if covers(v.sqref, c.coordinate)]
        assert validations, f"{ws.title}!{c.coordinate} has no data validation"
    shares = [c for ws, c in unlocked if c.number_format.endswith("%")]
    assert len(shares) > 40
    for ws in book.worksheets:
        assert ws.protection.sheet and not ws.protection.password, ws.title
        assert not ws.merged_cells.ranges, ws.title


def covers(sqref, coordinate: str) -> bool:
    col, row = openpyxl.utils.cell.coordinate_from_string(coordinate)
    column = openpyxl.utils.cell.column_index_from_string(col)
    for part in str(sqref).split():
        low_col, low_row, high_col, high_row = range_boundaries(part)
        if low_col <= column <= high_col and low_row <= row <= high_row:
            return True
    return False


def test_every_chart_has_alt_text_and_a_title_that_names_its_scenario_by_formula(workbook):
    book = openpyxl.load_workbook(workbook)
    with zipfile.ZipFile(workbook) as z:
        drawings = [z.read(n).decode() for n in z.namelist() if re.match(r"xl/drawings/drawing\d+\.xml$", n)]
        charts = [z.read(n).decode() for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)]
    descriptions = [d for x in drawings for d in re.findall(r'<xdr:cNvPr [^>]*descr="([^"]*)"', x)]
    assert len(descriptions) == len(charts) == 9
    assert all(len(d) > 60 for d in descriptions)
    for chart in charts:
        title = re.search(r"<c:title>.*?<c:f>([^<]+)</c:f>", chart, re.S)
        assert title, "chart title is not a cell reference"
        sheet, _, coordinate = title.group(1).rpartition("!")
        formula = book[sheet.strip("'")][coordinate.replace("$", "")].value
        if formula.startswith('="Tornado'):  # computed for the base scenario only: it says so
            assert '"base"&" scenario"' in formula and "Basis" in formula
        else:
            assert "ScenarioCaption" in formula


# ------------------------------------------------------------------ printed as a reader sees it


def printed_text(pdf: Path) -> list[tuple[str, float]]:
    """Each printed page's text and its smallest text size in points (poppler's pdftohtml at zoom 3:
    sizes in thirds of a point, as drawn, after the page's print scale)."""
    xml = subprocess.run(
        ["pdftohtml", "-xml", "-i", "-stdout", "-zoom", "3", str(pdf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pages: list[tuple[str, float]] = []
    sizes: dict[str, float] = {}
    for chunk in xml.split("<page ")[1:]:
        for font, size in re.findall(r'<fontspec id="(\d+)" size="(-?\d+)"', chunk):
            sizes[font] = int(size) / 3
        texts = re.findall(r'<text [^>]*font="(\d+)"[^>]*>(.*?)</text>', chunk)
        words = [(font, re.sub("<[^>]+>", "", t)) for font, t in texts]
        shown = [(sizes[font], t) for font, t in words if t.strip()]
        pages.append((" ".join(t for _, t in shown), min((s for s, _ in shown), default=99.0)))
    return pages


@pytest.mark.slow
@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_printed_every_page_is_8_pt_or_more_and_every_output_sheet_names_the_scenario(
    paper, joint_file, tmp_path
):
    libreoffice.require_soffice()
    units = "bn" if paper == "A4" else "mn"  # millions: wider numbers on the narrower paper
    profile = load_profile(None, name="Acme Imaging", paper=paper, units=units, focus_regions=["APAC"])
    context = build_context(profile, assumptions=joint_file, scenario="bull")
    path = write_workbook(context, tmp_path / "acme.xlsx")
    pdf = libreoffice.print_to_pdf(path, tmp_path / "pdf")
    pages = printed_text(pdf)
    assert len(pages) > 12
    small = [(i + 1, size, text[:60]) for i, (text, size) in enumerate(pages) if size < 8.0]
    assert small == []
    book = openpyxl.load_workbook(path, data_only=True)
    for sheet in render_layout(context):
        if sheet.kind not in OUTPUT_KINDS:
            continue
        title = book[sheet.name]["A1"].value
        assert title.endswith(": bull scenario"), title
        on_pages = [text for text, _ in pages if title in text]
        assert on_pages, f"{sheet.name}: no printed page shows {title!r}"
    # No title left on the old scenario; the tornado alone is computed for base and says so.
    left = [re.findall(r"[^:]*: base scenario", text) for text, _ in pages]
    assert all(re.search(r"change from the base, USD \w+: base scenario$", t) for f in left for t in f), left


# ------------------------------------------------------------------ publishers' estimates, basis, what-ifs


def estimate_rows(path: Path, sheet: str) -> dict[str, dict[int, object]]:
    """The rows of the Market estimates sheet by label: published figures come first, then the paths
    (the same publisher names: the second occurrence is the path), then the consensus and model rows."""
    rows = list(openpyxl.load_workbook(path, data_only=True)[sheet].iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "Year")
    years = {j: int(v) for j, v in enumerate(rows[top]) if j and isinstance(v, int | float)}
    start = next(i for i, r in enumerate(rows) if r[0] == "Each publisher's path, USD bn")
    out: dict[str, dict[int, object]] = {}
    for r in rows[start + 1 :]:
        if isinstance(r[0], str) and r[0] not in out:
            out[r[0]] = {y: r[j] for j, y in years.items()}
    return out


def test_the_estimates_sheet_shows_every_publisher_and_the_consensus_as_the_engine(context, workbook):
    market = context.market
    sheet = sheet_of(context, "estimates")
    rows = estimate_rows(workbook, sheet)
    book = openpyxl.load_workbook(workbook, data_only=True)[sheet]
    figures: dict[str, tuple[object, ...]] = {}  # the first row of each name: the published figures
    for r in book.iter_rows(values_only=True):
        if isinstance(r[0], str):
            figures.setdefault(r[0], r)
    for key, estimate in market.assumptions.estimates.items():
        path = rows[estimate.publisher]
        for year, point in estimate.points.items():
            assert f"{path[year]:.{estimate.decimals[year]}f}" == estimate.shown(year)  # at its precision
            assert point in figures[estimate.publisher]  # typed in as an input
        for e in market.estimate_series(key, 2020, 2035):
            assert path[e.year] == pytest.approx(e.value, rel=1e-12), (key, e.year)
    tbrc = rows["The Business Research Company"]  # one path per publisher: TBRC's is the model's own
    assert len(tbrc) >= 10
    for year, value in tbrc.items():
        assert value == pytest.approx(market.forecast(year), rel=1e-12), year
    for year in range(2020, 2036):
        consensus = market.consensus(year)
        assert rows["Consensus: publishers"][year] == consensus.count
        assert rows["Consensus: minimum"][year] == pytest.approx(consensus.minimum, rel=1e-12)
        assert rows["Consensus: median"][year] == pytest.approx(consensus.median, rel=1e-12)
        assert rows["Consensus: maximum"][year] == pytest.approx(consensus.maximum, rel=1e-12)
        assert rows["Model: rank among the others (1 = largest)"][year] == consensus.model_rank
        assert rows["Model: ratio to the median"][year] == pytest.approx(consensus.model_ratio, rel=1e-12)


WHAT_IFS = "driver.telemedicine=0.05; long_run_growth=0.03; basis=consensus"


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["Gnumeric", "LibreOffice"])
def test_both_engines_follow_a_driver_what_if_the_fade_a_basis_and_a_publishers_figure(engine, tmp_path):
    """Type a telemedicine what-if of 5 %, a long-run growth of 3 %, pick the consensus as basis and
    correct TechSci's 2031 figure to 27.50: every scenario, status and consensus is the engine's for the
    same overrides on a set whose TechSci figure says 27.50."""
    context = build_context(load_profile(None, name="Acme Imaging"), scenario="bull")
    path = write_workbook(context, tmp_path / "acme.xlsx")
    book = openpyxl.load_workbook(path)
    inputs = book["Inputs"]
    driver_row = next(c.row for c in inputs["A"] if c.value == "telemedicine")
    inputs[f"D{driver_row}"] = 0.05
    for name, value in (("LongRunGrowthOverride", 0.03), ("Basis", "consensus")):
        sheet, coordinate = named_cell(book, name)
        book[sheet][coordinate] = value
    estimates = book[sheet_of(context, "estimates")]
    techsci = next(r for r in estimates.iter_rows() if r[0].value == "TechSci Research")
    year_cell = next(c for row in estimates.iter_rows() for c in row if c.value == 2031)
    techsci[year_cell.column - 1].value = 27.5
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    fresh = recalculate(engine, edited, tmp_path / engine)

    corrected = tmp_path / "techsci.yaml"
    corrected.write_text(
        "estimates:\n  techsci:\n    publisher: TechSci Research\n    source: techsci\n"
        "    points: {2025: 12.91, 2031: 27.50}\n    cagr: {from: 2026, to: 2031, value: 0.1243}\n"
        "    scope: not stated\n",
        encoding="utf-8",
    )
    market = market_for(corrected, WHAT_IFS)
    forecast = time_rows(fresh, sheet_of(context, "forecast"))
    for year, value in forecast[TOTAL].items():
        assert value == pytest.approx(market.forecast(year, scenario="bull"), rel=1e-9), year
        assert forecast["Status"][year] == market.status(year, "bull"), year
    scenarios = block(fresh, sheet_of(context, "scenarios"), "Market size by scenario, USD bn")
    for name in market.scenario_names:
        for year, value in scenarios[name].items():
            assert value == pytest.approx(market.forecast(year, scenario=name), rel=1e-9), (name, year)
    rows = estimate_rows(fresh, sheet_of(context, "estimates"))
    for year in range(2020, 2036):
        assert rows["Consensus: median"][year] == pytest.approx(market.consensus(year).median, rel=1e-9)
        assert rows["TechSci Research"][year] == pytest.approx(market.estimates(year)[1].value, rel=1e-9)
        tbrc = market.estimates(year)[0].value  # the model's own path at the calibrated growth
        assert rows["The Business Research Company"][year] == pytest.approx(tbrc, rel=1e-9)
    values = openpyxl.load_workbook(fresh, data_only=True)
    assert values[sheet_of(context, "forecast")]["A1"].value.endswith(": bull scenario, basis consensus")
    # The one check that fails: the base now follows the consensus, outside the band computed for the set.
    checks = values[sheet_of(context, "checks")].iter_rows(values_only=True)
    failing = [r[0] for r in checks if len(r) > 3 and r[3] == 0]
    assert failing == ["The live base stays inside the stored Monte Carlo P10-P90 (years outside)"]


DECLINING = (
    "estimates:\n  shrinking:\n    publisher: Shrinking Research\n    source: tbrc\n"
    "    points: {2025: 18.5}\n    cagr: {from: 2025, to: 2030, value: -0.027}\n"
)


# ------------------------------------------------------------------ the headline with the consensus beside it


def cover_line(path: Path) -> str:
    """The Cover's headline line (the cell under "Beside it: the publishers' consensus"), as stored."""
    cover = openpyxl.load_workbook(path, data_only=True)["Cover"]
    label = next(
        c for c in cover["B"] if str(c.value or "").startswith("Beside it: the publishers' consensus")
    )
    return str(cover.cell(label.row + 1, 2).value)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["Gnumeric", "LibreOffice"])
def test_a_declining_path_levels_off_in_the_workbook_as_in_the_engine(engine, tmp_path):
    """A -2.7 % publisher and a -3 % what-if on the model fade to flat after their last year, not up to
    the long-run +4.5 %: the stored values and both engines' recalculation say so."""
    declining = tmp_path / "declining.yaml"
    declining.write_text(DECLINING, encoding="utf-8")
    context = build_context(load_profile(None, name="Acme Imaging"), declining, overrides="cagr=-0.03")
    path = write_workbook(context, tmp_path / "acme.xlsx")
    fresh = recalculate(engine, path, tmp_path / engine)
    assert libreoffice.compare_stored_with_recalculated(path, fresh, rel=1e-9, engine=engine) == []
    rows = estimate_rows(fresh, sheet_of(context, "estimates"))
    shrinking = rows["Shrinking Research"]
    assert max(shrinking[y] / shrinking[y - 1] for y in shrinking if y - 1 in shrinking and y > 2030) <= 1.0
    market = market_for(declining, "cagr=-0.03")
    assert shrinking[2035] == pytest.approx(market.estimates(2035)[-1].value, rel=1e-9)
    total = time_rows(fresh, sheet_of(context, "forecast"))[TOTAL]
    last = max(total)
    assert total[last] == pytest.approx(market.forecast(last), rel=1e-9)
    assert total[last] < total[2030] and market.forecast(2050) <= market.forecast(2040)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["Gnumeric", "LibreOffice"])
def test_a_pack_that_leaves_old_estimates_out_of_the_consensus_recalculates_to_the_engines(engine, tmp_path):
    """consensus_max_age=5 leaves Grand View's 2020 report out: the workbook's consensus takes the other
    four, as the engine's does, after both engines recalculate it."""
    overrides = "consensus_max_age=5; basis=consensus"
    context = build_context(load_profile(None, name="Acme Imaging"), overrides=overrides)
    path = write_workbook(context, tmp_path / "acme.xlsx")
    fresh = recalculate(engine, path, tmp_path / engine)
    assert libreoffice.compare_stored_with_recalculated(path, fresh, rel=1e-9, engine=engine) == []
    market = market_for(None, overrides)
    rows = estimate_rows(fresh, sheet_of(context, "estimates"))
    for year in (2025, 2030, 2035):
        c = market.consensus(year)
        assert (rows["Consensus: publishers"][year], c.excluded) == (4, 1)
        assert rows["Consensus: median"][year] == pytest.approx(c.median, rel=1e-9)
    statuses = time_rows(fresh, sheet_of(context, "forecast"))["Status"]
    assert {statuses[y] for y in (2025, 2026, 2030)} == {"consensus median (basis: consensus)"}
    assert all(statuses[y] == market.status(y) for y in statuses)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["Gnumeric", "LibreOffice"])
def test_the_covers_headline_has_the_consensus_beside_it_and_follows_an_edited_basis(engine, tmp_path):
    """A pack in USD mn, bull: the Cover stores the engine's line; a recalculation gives it back; pick the
    consensus as basis and bear on Inputs, and the recalculated line is the engine's for that basis."""
    from xl_addin.model import headline_with_consensus

    context = build_context(load_profile(None, name="Acme Imaging", units="mn"), scenario="bull")
    path = write_workbook(context, tmp_path / "acme.xlsx")
    assert cover_line(path) == headline_with_consensus(market_for(None), 2030, "bull", "mn")
    assert cover_line(path).startswith(
        "USD 31,890 mn (bull scenario, basis: tbrc); 5 publishers' median 11,546, range 10,698-27,880"
    )
    fresh = recalculate(engine, path, tmp_path / engine)
    assert cover_line(fresh) == cover_line(path)
    cover = openpyxl.load_workbook(path)["Cover"]
    formula = next(c.value for c in cover["B"] if str(c.value or "").startswith('="USD "'))
    numbers = {t.value for t in Tokenizer(formula).items if t.subtype == Token.NUMBER}
    assert numbers <= {"0", "1"}, formula  # decimals and units come from named cells, not typed in

    book = openpyxl.load_workbook(path)
    for name, value in (("Basis", "consensus"), ("Scenario", "bear")):
        sheet, coordinate = named_cell(book, name)
        book[sheet][coordinate] = value
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    fresh = recalculate(engine, edited, tmp_path / f"{engine}-edited")
    consensus = market_for(None, "basis=consensus")
    expected = headline_with_consensus(consensus, 2030, "bear", "mn")
    assert cover_line(fresh) == expected
    assert "(bear scenario, basis: consensus)" in expected
    # The bridge's residual is re-solved for the consensus path: the bridge still reconciles, to that path
    # (the one check that fails is the stored Monte Carlo band's, computed for the set's own path).
    values = openpyxl.load_workbook(fresh, data_only=True)
    checks = list(values[sheet_of(context, "checks")].iter_rows(values_only=True))
    assert [r[0] for r in checks if len(r) > 3 and r[3] == 0] == [
        "The live base stays inside the stored Monte Carlo P10-P90 (years outside)"
    ]
    bridge_check = "The growth bridge multiplies back to the growth of the path the total follows"
    assert [r[3] for r in checks if r[0] == bridge_check] == [1]
    drivers = openpyxl.load_workbook(fresh, data_only=True)["Drivers"]
    bridged = checks_value(drivers, "market growth")
    assert bridged == pytest.approx(consensus.cagr(2026, 2030, scenario="bear"), rel=1e-9)
    price = checks_value(drivers, "price")
    assert price == pytest.approx(consensus.bridge("bear")[2].growth, rel=1e-9)
    scenarios = openpyxl.load_workbook(fresh, data_only=True)[sheet_of(context, "scenarios")]
    base = next(r for r in scenarios.iter_rows(values_only=True) if r[0] == "base")
    assert (
        base[5]
        == "follows the median of the publishers' paths (Basis on Inputs); the bridge's residual is re-solved"
    )
