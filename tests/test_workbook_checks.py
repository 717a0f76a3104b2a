"""A reviewer signs off the workbook: every value the engine refuses fails a named check, edits show.

The story: a reviewer types, into every input cell of a client workbook, each value the engine's rule
for that cell refuses (derived from the rule, :meth:`Bound.refused`, not from a list kept here), then
pastes text such as "10 %"; LibreOffice recalculates, and each cell's own check on the Checks sheet
fails, naming the cell and saying what the engine says. A pack made with overrides lists them on the
Overrides sheet and the Cover says how many inputs differ from the set; an edit moves both; a base that
leaves the stored Monte Carlo band fails its check.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import openpyxl
import pytest

from tests.support import libreoffice
from tests.test_model import JOINT  # a row for North America: Reporting 60 %
from tests.test_workbook import named_cell
from xl_addin.errors import AssumptionError, InputError
from xl_addin.model import market_for
from xl_addin.model.assumptions import BOUNDS, build, load_assumptions, with_overrides
from xl_addin.report import build_context, load_profile
from xl_addin.report.workbook import InputCell, input_cells, write_workbook

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")


@pytest.fixture(scope="module")
def joint_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("set") / "joint.yaml"
    path.write_text(JOINT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def context(joint_file):
    return build_context(load_profile(None, name="Acme Imaging"), assumptions=joint_file, scenario="bull")


def engine_refusal(joint_file: Path, typed: InputCell, value: float) -> InputError:
    """What the engine says of ``value`` for an input: through its per-call override where it has one,
    else put at its key in the assumption file."""
    assumptions = load_assumptions(joint_file)
    with pytest.raises(InputError) as refused:
        if typed.key != typed.path or typed.key.startswith("share."):
            with_overrides(assumptions, {typed.key: value})
        else:
            raw = copy.deepcopy(dict(assumptions.raw))
            *parents, leaf = typed.path.split(".")
            node = raw
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
            build(raw, "test")
    return refused.value


def checks_by_text(path: Path) -> dict[str, tuple[object, ...]]:
    rows = openpyxl.load_workbook(path, data_only=True)["Checks"].iter_rows(values_only=True)
    return {str(r[0]): r for r in rows if r[0] is not None}


def test_every_kind_of_input_is_registered_with_a_rule(context):
    cells = input_cells(context)
    kinds = {c.bound.name for c in cells}
    assert {"Growth", "LongRun", "FadeYears", "Share", "ShareOver"} <= kinds
    assert {b.name for b in BOUNDS} - kinds == {"Volatility"}  # Monte Carlo settings are not inputs
    assert len({c.ref for c in cells}) == len(cells)  # one rule per cell


@pytest.mark.slow
def test_every_value_the_engine_refuses_fails_the_named_check_of_its_cell(context, joint_file, tmp_path):
    libreoffice.require_soffice()
    path = write_workbook(context, tmp_path / "acme.xlsx")
    cells = input_cells(context)
    cases = {c.ref: [v for v in c.bound.refused() if not isinstance(v, str)] for c in cells}
    rounds = max(len(v) for v in cases.values())
    assert rounds >= 3  # below, above, the excluded limit, a fraction of a year
    for n in range(rounds):
        book = openpyxl.load_workbook(path)
        typed_now: dict[str, tuple[InputCell, float]] = {}
        for c in cells:
            if n < len(cases[c.ref]):
                sheet, coordinate = c.ref.rsplit("!", 1)
                book[sheet.strip("'")][coordinate.replace("$", "")] = cases[c.ref][n]
                typed_now[c.where] = (c, cases[c.ref][n])
        book.save(tmp_path / f"round{n}.xlsx")
        fresh = libreoffice.recalculate(tmp_path / f"round{n}.xlsx", tmp_path / "lo")
        checks = checks_by_text(fresh)
        for where, (c, value) in typed_now.items():
            text = next(t for t in checks if t.startswith(f"{where}: "))
            row = checks[text]
            assert row[3] == 0, (text, value)  # the check fails
            words = f"{c.path}: {c.bound.problem(value)}"
            assert row[5] == words, (text, value, row[5])  # in the engine's words, by formula
            refusal = engine_refusal(joint_file, c, value)  # and the engine does refuse it
            if isinstance(refusal, AssumptionError):
                assert words in str(refusal), (words, str(refusal))
        master = openpyxl.load_workbook(fresh, data_only=True)["Cover"]
        assert any(str(c.value).startswith("CHECK: ") for r in master.iter_rows() for c in r)


@pytest.mark.slow
def test_text_pasted_into_any_input_fails_its_check(context, tmp_path):
    """ "10 %" pasted (no data validation stops a paste) into the forecast-growth override was ignored:
    the workbook kept 27.88 where the engine gives 28.82. Now every input's check fails on text."""
    libreoffice.require_soffice()
    path = write_workbook(context, tmp_path / "acme.xlsx")
    cells = input_cells(context)
    book = openpyxl.load_workbook(path)
    for c in cells:
        sheet, coordinate = c.ref.rsplit("!", 1)
        book[sheet.strip("'")][coordinate.replace("$", "")] = "10 %"
    sheet, coordinate = named_cell(book, "Basis")
    book[sheet][coordinate] = "nobody"
    book.save(tmp_path / "pasted.xlsx")
    checks = checks_by_text(libreoffice.recalculate(tmp_path / "pasted.xlsx", tmp_path / "lo"))
    for c in cells:
        text = next(t for t in checks if t.startswith(f"{c.where}: "))
        assert checks[text][3] == 0, text
        assert str(checks[text][5]).startswith(f"{c.path}: expected a "), checks[text][5]
        assert str(checks[text][5]).endswith("got text 10 %"), checks[text][5]
    basis = next(t for t in checks if t.startswith("The basis chosen on Inputs"))
    assert checks[basis][3] == 0  # an invalid basis is its own failing check, not ten sums


def overrides_sheet(path: Path) -> tuple[str, dict[str, tuple[object, ...]]]:
    """The provenance line and the rows of the Overrides sheet by key."""
    rows = list(openpyxl.load_workbook(path, data_only=True)["Overrides"].iter_rows(values_only=True))
    line = next(str(r[0]) for r in rows if re.match(r"\d+ inputs? differs? from set|Inputs match", str(r[0])))
    top = next(i for i, r in enumerate(rows) if r[0] == "Key")
    return line, {str(r[0]): r for r in rows[top + 1 :] if r[0]}


def cover_text(path: Path) -> list[str]:
    ws = openpyxl.load_workbook(path, data_only=True)["Cover"]
    return [str(c.value) for r in ws.iter_rows() for c in r if c.value is not None]


@pytest.mark.slow
def test_the_overrides_sheet_and_the_cover_list_a_packs_overrides_and_follow_an_edit(tmp_path):
    libreoffice.require_soffice()
    market = market_for(None, "share.APAC=0.25; cagr=0.10")
    record = {o.key: o for o in market.assumptions.overridden}
    assert set(record) == {"share.Asia-Pacific", "cagr"}  # the engine's record, which the sheet shows
    context = build_context(load_profile(None, name="Acme Imaging"), overrides="share.APAC=0.25; cagr=0.10")
    path = write_workbook(context, tmp_path / "acme.xlsx")
    fresh = libreoffice.recalculate(path, tmp_path / "lo")
    assert libreoffice.compare_stored_with_recalculated(path, fresh, rel=1e-9) == []
    line, rows = overrides_sheet(fresh)
    set_hash = market.assumptions.set_hash
    assert line == f"2 inputs differ from set {set_hash}: cagr, share.Asia-Pacific"
    assert line in cover_text(fresh)
    for key in ("cagr", "share.Asia-Pacific"):
        _, _, in_set, typed, in_force, differs, _ = rows[key]
        assert in_set == pytest.approx(record[key].in_set, rel=1e-12)
        assert typed == in_force == pytest.approx(record[key].in_force, rel=1e-12)
        assert differs == 1
    assert sum(r[5] for r in rows.values()) == 2

    # The reviewer clears the CAGR and types a long-run growth: both sheets follow, live.
    book = openpyxl.load_workbook(path)
    for name, value in (("ForecastGrowthOverride", None), ("LongRunGrowthOverride", 0.03)):
        sheet, coordinate = named_cell(book, name)
        book[sheet][coordinate] = value
    book.save(tmp_path / "edited.xlsx")
    edited = libreoffice.recalculate(tmp_path / "edited.xlsx", tmp_path / "lo2")
    line, rows = overrides_sheet(edited)
    assert line == f"2 inputs differ from set {set_hash}: long_run_growth, share.Asia-Pacific"
    assert line in cover_text(edited)
    assert rows["cagr"][5] == 0 and rows["long_run_growth"][2:6] == (0.045, 0.03, 0.03, 1)


@pytest.mark.slow
def test_a_fresh_pack_matches_its_set_and_a_base_below_the_stored_band_fails_its_check(tmp_path):
    """The issue's example: cagr=0.0343 puts the live 2030 base at 22.52, below the stored P10 (24.82)."""
    libreoffice.require_soffice()
    context = build_context(load_profile(None, name="Acme Imaging"))
    path = write_workbook(context, tmp_path / "acme.xlsx")
    line, _ = overrides_sheet(path)
    assert line == f"Inputs match assumption set {context.market.assumptions.hash}"
    book = openpyxl.load_workbook(path)
    sheet, coordinate = named_cell(book, "ForecastGrowthOverride")
    book[sheet][coordinate] = 0.0343
    book.save(tmp_path / "edited.xlsx")
    fresh = libreoffice.recalculate(tmp_path / "edited.xlsx", tmp_path / "lo")
    checks = checks_by_text(fresh)
    band = checks["The live base stays inside the stored Monte Carlo P10-P90 (years outside)"]
    assert band[3] == 0 and band[1] >= 1
    failing = [t for t, r in checks.items() if r[3] == 0]
    assert failing == [band[0]]  # a rate the engine accepts: only the band is stale
    uncertainty = [str(c.value) for r in openpyxl.load_workbook(fresh)["Uncertainty"].iter_rows() for c in r]
    assert any(f"computed for assumption set {context.market.assumptions.hash}" in t for t in uncertainty)


# ------------------------------------------------------------------ print that reads

MIN_POINTS = 8.5


def printed_pages(pdf: Path) -> list[dict[str, object]]:
    """Every printed page as LibreOffice drew it, read back character by character with pdfplumber: its
    text (header first), the smallest character in points and the text drawn turned.

    A turned character's size is its extent across the line it sits on (pdfplumber's ``size`` is the
    height of its box, which for turned text is the advance along it)."""
    import pdfplumber

    pages = []
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            chars = [c for c in page.chars if c["text"].strip()]
            sizes = [c["size"] if c["upright"] else c["x1"] - c["x0"] for c in chars]
            pages.append(
                {
                    "text": page.extract_text() or "",
                    "smallest": min(sizes, default=99.0),
                    "turned": "".join(c["text"] for c in chars if not c["upright"]),
                }
            )
    return pages


def assert_reads(pages: list[dict[str, object]], sheets: list[str], axis_titles: set[str]) -> None:
    """Every page at MIN_POINTS or more, headed by its sheet's name, with something on it besides the
    header and footer, and no turned text but a chart's axis title."""
    small = [
        (i + 1, p["smallest"], str(p["text"])[:50]) for i, p in enumerate(pages) if p["smallest"] < MIN_POINTS
    ]
    assert small == []
    for i, page in enumerate(pages, 1):
        lines = str(page["text"]).splitlines()
        assert lines[0] in sheets, (i, lines[:2])  # the header names the sheet
        assert len(lines) > 2, (i, lines)  # not an empty page with its header and footer
        turned = str(page["turned"])
        titles = {t.replace(" ", "") for t in axis_titles}  # spaces are not drawn characters
        assert not turned or any(turned == t * (len(turned) // len(t)) for t in titles), (i, turned)


@pytest.mark.slow
def test_every_printed_page_of_the_client_workbook_reads(context, tmp_path):
    libreoffice.require_soffice()
    path = write_workbook(context, tmp_path / "acme.xlsx")
    pages = printed_pages(libreoffice.print_to_pdf(path, tmp_path / "pdf"))
    sheets = openpyxl.load_workbook(path).sheetnames
    assert_reads(pages, sheets, {"USD bn", "Year"})
    # 43 before (Inputs at 8.3 pt, statuses turned); now the time-across sheets take 5 pages fewer, Inputs
    # 2 more at 8.9 pt, the Checks of every input 3 more and the Overrides sheet 3.
    assert len(pages) <= 46
    assert {str(p["text"]).splitlines()[0] for p in pages} == set(sheets)


@pytest.mark.slow
def test_every_printed_page_of_imgout_xlsm_reads(tmp_path):
    """The front-end workbook as shipped: its IMGOUT sheet printed at 8.1 pt (4.4 pt in Excel)."""
    libreoffice.require_soffice()
    from tests.test_excel_workbook import WORKBOOK

    pages = printed_pages(libreoffice.print_to_pdf(WORKBOOK, tmp_path / "pdf"))
    assert_reads(pages, openpyxl.load_workbook(WORKBOOK).sheetnames, set())
