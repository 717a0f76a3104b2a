"""A published figure is shown as published in every unit (issue 17, item 7).

The model reproduces the publication's 18.08 bn (2025) as 18.077659: at the publication's precision that
is 18.08, but in USD mn it would show as 18,078. Where a value is the model's own path in a year the
publication printed, every face shows the figure as printed (18,080 mn); everything else (other years,
regions and segments, other publishers, growth) keeps the model's value. Measured through the engine, the
Excel functions, the brief in every text format, and the workbook (stored and recalculated by LibreOffice).
"""

from __future__ import annotations

import openpyxl
import pytest

from tests.support import libreoffice
from tests.test_workbook import named_cell
from xl_addin.excel.functions import (
    IMGOUT_BREAKDOWN,
    IMGOUT_CAGR,
    IMGOUT_CONSENSUS,
    IMGOUT_ESTIMATES,
    IMGOUT_FAN,
    IMGOUT_FORECAST,
    IMGOUT_SCENARIOS,
    IMGOUT_SERIES,
)
from xl_addin.model import default_market, market_for
from xl_addin.model.headline import headline_with_consensus, money_as_published
from xl_addin.report import build_context, load_profile
from xl_addin.report.brief import render_brief
from xl_addin.report.workbook import write_workbook

PRINTED_MN = {2025: 18_080.0, 2026: 19_680.0, 2030: 27_880.0}
MN = "Units=mn"


def test_the_engine_shows_each_printed_size_as_printed_in_mn_and_keeps_the_model_value_in_bn() -> None:
    m = default_market()
    assert {y: figure for y, (_, figure) in m.printed.items()} == {2025: 18.08, 2026: 19.68, 2030: 27.88}
    for year, printed in PRINTED_MN.items():
        modelled = m.forecast(year)
        assert modelled * 1000 != printed  # the model's own digits differ in mn ...
        assert m.as_published(modelled, "mn") * 1000 == printed  # ... the figure as printed is shown
        assert m.as_published(modelled, "bn") == modelled  # bn: the model's value (shows as printed)
    assert m.as_published(m.forecast(2024), "mn") == m.forecast(2024)  # a back-cast year: the model's
    assert m.as_published(m.forecast(2025, "APAC"), "mn") == m.forecast(2025, "APAC")  # a split
    assert money_as_published(m, m.forecast(2025), "mn", with_unit=True) == "USD 18,080 mn"


def test_a_what_if_that_moves_a_printed_year_away_from_its_figure_shows_the_model_value() -> None:
    moved = market_for(None, "cagr=0.2")
    assert sorted(moved.printed) == [2025, 2026]  # 2030 is projected under the what-if, not published
    assert moved.as_published(moved.forecast(2030), "mn") == moved.forecast(2030)
    assert moved.as_published(moved.forecast(2025), "mn") == 18.08


def test_under_another_basis_the_total_is_that_publishers_and_the_publications_row_still_prints() -> None:
    gvr = market_for(None, "basis=gvr")
    assert gvr.as_published(gvr.forecast(2025), "mn") == gvr.forecast(2025)
    tbrc = next(e for e in gvr.estimates(2025) if e.key == "tbrc")
    assert gvr.as_published(tbrc.value, "mn") == 18.08


def test_excel_functions_in_mn_give_each_printed_size_as_printed() -> None:
    m = default_market()
    for year, printed in PRINTED_MN.items():
        assert IMGOUT_FORECAST(year, options=MN) == printed
        assert IMGOUT_FORECAST(year, options=MN + ";Status=Y") == [[printed, "published"]]
    assert IMGOUT_FORECAST(2024, options=MN) == pytest.approx(m.forecast(2024) * 1000, rel=1e-12)
    assert IMGOUT_FORECAST(2025, "Asia-Pacific", options=MN) == pytest.approx(
        m.forecast(2025, "APAC") * 1000, rel=1e-12
    )
    assert IMGOUT_FORECAST(2025) == m.forecast(2025)  # bn: the model's value, unchanged
    series = {row[0]: row[1] for row in IMGOUT_SERIES(2024, 2026, options=MN)[1:]}
    assert series[2025] == 18_080.0 and series[2026] == 19_680.0
    # Growth stays the model's (8.9 %, as published): not worked out from the rounded figures (8.8 %).
    assert IMGOUT_CAGR(2025, 2026, options=MN) == pytest.approx(m.growth(2026), rel=1e-12)
    assert round(m.growth(2026), 3) == 0.089 and round(19.68 / 18.08 - 1, 3) == 0.088
    scenarios = IMGOUT_SCENARIOS(2025, 2025, options=MN)
    assert scenarios[1][1:] == [18_080.0] * len(m.scenario_names)
    estimates = {row[0]: row[1] for row in IMGOUT_ESTIMATES(2025, MN)[1:]}
    assert estimates["The Business Research Company"] == 18_080.0
    assert estimates["TechSci Research"] == 12_910.0  # another publisher's figure, as it was published
    assert IMGOUT_CONSENSUS(2025, "max", MN) == 18_080.0
    assert IMGOUT_CONSENSUS(2025, "model", MN) == 18_080.0
    assert IMGOUT_FAN(2025, 50, options=MN) == 18_080.0  # no band yet in 2025: the path itself
    assert IMGOUT_FAN(2030, 50, options=MN) != 27_880.0  # a band with width: the Monte Carlo's value
    table = IMGOUT_BREAKDOWN(2025, "region", None, MN + ";Total=Y")
    assert table[-1][:2] == ["Total", 18_080.0]
    members = {row[0]: row[1] for row in table[1:-1]}
    assert members["Asia-Pacific"] == pytest.approx(m.forecast(2025, "APAC") * 1000, rel=1e-12)


@pytest.mark.parametrize("fmt", ["html", "md", "txt"])
def test_a_brief_in_mn_shows_the_printed_sizes_and_says_why_rows_add_to_the_models(fmt: str) -> None:
    context = build_context(load_profile(None, name="Units Co", units="mn"))
    text = render_brief(context, fmt)
    for printed in ("18,080", "19,680", "27,880"):
        assert printed in text
    # The model's own digits appear only where the rounded rows of a table are added up.
    lines = [line for line in text.splitlines() if "18,078" in line or "19,682" in line]
    assert lines and all("add to" in line for line in lines), lines
    flat = " ".join(text.split())
    assert "shown as printed in every unit" in flat
    assert headline_with_consensus(context.market, 2025, units="mn").startswith("USD 18,080 mn")


def test_a_brief_in_bn_reads_as_before() -> None:
    text = render_brief(build_context(load_profile(None, name="Units Co")), "txt")
    assert "shown as printed in every unit" not in " ".join(text.split())


def _forecast_row(path, label: str) -> dict[int, float]:
    ws = openpyxl.load_workbook(path, data_only=True)["Forecast"]
    rows = list(ws.iter_rows(values_only=True))
    years = next(r for r in rows if sum(isinstance(v, int | float) and 1990 < v < 2100 for v in r[1:]) > 5)
    found = next(r for r in rows if r[0] == label)
    return {int(y): v for y, v in zip(years[1:], found[1:], strict=False) if y is not None}


def test_the_workbook_in_mn_shows_the_printed_sizes_and_calculates_from_the_models(tmp_path) -> None:
    context = build_context(load_profile(None, name="Units Co", units="mn"))
    path = write_workbook(context, tmp_path / "mn.xlsx")
    m = context.market
    shown = _forecast_row(path, "Market size, USD mn")
    modelled = _forecast_row(path, "Market size as modelled, USD mn")
    for year, printed in PRINTED_MN.items():
        assert shown[year] == printed
        assert modelled[year] == pytest.approx(m.forecast(year) * 1000, rel=1e-12)
    assert shown[2024] == pytest.approx(m.forecast(2024) * 1000, rel=1e-12)
    cover = openpyxl.load_workbook(path, data_only=True)["Cover"]
    sizes = [r for r in cover.iter_rows(values_only=True) if r[1] and str(r[1]).startswith("Market size")]
    assert [r[4] for r in sizes if r[2] in PRINTED_MN] == [
        PRINTED_MN[r[2]] for r in sizes if r[2] in PRINTED_MN
    ]


def test_the_workbook_in_bn_stores_the_models_values_as_before(tmp_path) -> None:
    context = build_context(load_profile(None, name="Units Co"))
    path = write_workbook(context, tmp_path / "bn.xlsx")
    shown = _forecast_row(path, "Market size, USD bn")
    assert shown[2025] == context.market.forecast(2025)


@pytest.mark.slow
def test_libreoffice_recalculates_the_printed_sizes_and_follows_an_edited_basis(tmp_path) -> None:
    context = build_context(load_profile(None, name="Units Co", units="mn"))
    path = write_workbook(context, tmp_path / "mn.xlsx")
    fresh = libreoffice.recalculate(path, tmp_path / "fresh")
    assert _forecast_row(fresh, "Market size, USD mn") == pytest.approx(
        _forecast_row(path, "Market size, USD mn")
    )
    assert {
        y: v for y, v in _forecast_row(fresh, "Market size, USD mn").items() if y in PRINTED_MN
    } == PRINTED_MN
    book = openpyxl.load_workbook(path)
    sheet, coordinate = named_cell(book, "Basis")
    book[sheet][coordinate] = "gvr"
    edited = tmp_path / "gvr.xlsx"
    book.save(edited)
    recalculated = _forecast_row(libreoffice.recalculate(edited, tmp_path / "gvr"), "Market size, USD mn")
    gvr = market_for(None, "basis=gvr")
    for year in PRINTED_MN:
        expected = gvr.as_published(gvr.forecast(year), "mn") * 1000
        assert recalculated[year] == pytest.approx(expected, rel=1e-9)
        assert expected == pytest.approx(gvr.forecast(year) * 1000, rel=1e-12)  # Grand View's, not 18,080
