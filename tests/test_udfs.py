"""The Excel functions as Windows Excel sees them, proved on Linux through tests/support/xlwings_harness.py.

Registration metadata and the VBA come from xlwings' own code (``xlwings.udfs.xlfunc``/``import_udfs``);
every value goes through xlwings' conversion layer (``XLPython.CallUDF`` -> ``call_udf`` ->
``conversion.read``/``write``) with arguments as pywin32 hands them over from Excel. Relies on the xlwings
version pinned in pyproject.toml (0.37.8).
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import time
import types
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from tests.support import xlwings_harness as xh
from xl_addin.model import Market, headline_with_consensus, market_for

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "workbooks" / "IMGOUT.xlsm"
MISSING = xh.MISSING

EXPECTED = {
    "IMGOUT_FORECAST": [
        ("year", None),
        ("region", None),
        ("segment", None),
        ("scenario", None),
        ("options", None),
    ],
    "IMGOUT_SERIES": [
        ("first_year", None),
        ("last_year", None),
        ("region", None),
        ("segment", None),
        ("scenario", None),
        ("options", None),
    ],
    "IMGOUT_CAGR": [
        ("from_year", None),
        ("to_year", None),
        ("region", None),
        ("segment", None),
        ("scenario", None),
        ("options", None),
    ],
    "IMGOUT_SHARE": [("year", None), ("member", None), ("scenario", None), ("options", None)],
    "IMGOUT_BREAKDOWN": [("year", None), ("dimension", None), ("scenario", None), ("options", None)],
    "IMGOUT_SCENARIOS": [
        ("first_year", None),
        ("last_year", None),
        ("region", None),
        ("segment", None),
        ("options", None),
    ],
    "IMGOUT_FAN": [
        ("year", None),
        ("percentile", 50),
        ("region", None),
        ("segment", None),
        ("options", None),
    ],
    "IMGOUT_ESTIMATES": [("year", None), ("options", None)],
    "IMGOUT_CONSENSUS": [("year", None), ("statistic", None), ("options", None)],
    "IMGOUT_ASSUMPTION": [("key", None), ("field", "value")],
    "IMGOUT_SOURCE": [("reference", None), ("field", "citation")],
    "IMGOUT_LIST": [("dimension", None), ("options", None)],
    "IMGOUT_INFO": [("field", None)],
}
REQUIRED = {
    "IMGOUT_FORECAST": 1,
    "IMGOUT_SERIES": 2,
    "IMGOUT_CAGR": 2,
    "IMGOUT_SHARE": 2,
    "IMGOUT_BREAKDOWN": 2,
    "IMGOUT_SCENARIOS": 2,
    "IMGOUT_FAN": 1,
    "IMGOUT_ESTIMATES": 1,
    "IMGOUT_CONSENSUS": 1,
    "IMGOUT_ASSUMPTION": 1,
    "IMGOUT_SOURCE": 0,
    "IMGOUT_LIST": 1,
    "IMGOUT_INFO": 0,
}


# Every story starts from the embedded default with nothing cached (fixtures in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("fresh")


def excel(udfs: types.ModuleType, name: str, *args: Any) -> Any:
    """What Excel receives for ``=NAME(args)``."""
    return xh.call_like_excel(getattr(udfs, name), *args)


def market() -> Market:
    return market_for(None)


# ----------------------------------------------------------------------------------------- registration


def test_the_function_family_is_exported_and_nothing_else(udfs: types.ModuleType) -> None:
    exported = xh.udf_functions(udfs)
    assert set(exported) == set(EXPECTED)
    assert list(udfs.FUNCTIONS) == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_registration_metadata(udfs: types.ModuleType, name: str) -> None:
    meta = xh.registration(getattr(udfs, name))
    assert meta["name"] == name
    assert meta["category"] == "IMGOUT"
    assert meta["ret"]["doc"] == getattr(udfs, name).__doc__ and len(meta["ret"]["doc"]) > 30
    assert [(a["name"], a.get("optional", None)) for a in meta["args"]] == EXPECTED[name]
    assert sum("optional" not in a for a in meta["args"]) == REQUIRED[name]
    for arg in meta["args"]:
        assert not arg["doc"].startswith("Positional argument"), arg["name"]
        assert arg["options"]["err_to_str"] is True, "error cells must arrive as their text"
        assert set(arg["options"]) <= {"err_to_str", "ndim"}, arg["name"]  # ndim: tests/test_udf_grid.py
    assert meta["volatile"] is (name == "IMGOUT_INFO")
    assert xh.registration_problems(getattr(udfs, name)) == []


def test_the_vba_excel_imports_compiles_looking_and_uses_no_reserved_words(udfs: types.ModuleType) -> None:
    imported = xh.import_udfs_like_excel(udfs, "IMGOUT.xlsm")
    for name in EXPECTED:  # Excel can call every wrapper it imported
        xh.call_like_excel(
            getattr(udfs, name), *(["region"] if name == "IMGOUT_LIST" else [2030.0] * REQUIRED[name])
        )
    assert xh.check_vba(imported.vba, udfs) == []
    for name, function in udfs.FUNCTIONS.items():
        meta = xh.registration(function)
        assert xh.check_vba_argument_names(meta) == []
        assert all(a["name"].lower() not in xh.vba_reserved_words for a in meta["args"])
        assert f'{name} = XLPy.CallUDF("xl_addin.udfs", "{name}"' in imported.vba
        wizard = imported.macro_options[name]
        assert wizard["Category"] == "IMGOUT"
        assert wizard["Description"] == function.__doc__
        assert wizard["ArgumentDescriptions"] == [a["doc"] for a in meta["args"]] or not meta["args"]
    assert (
        "Function IMGOUT_FORECAST(year, Optional region, Optional segment, Optional scenario, Optional options)"
        in (imported.vba)
    )


# ----------------------------------------------------------------------------------------- values


def test_forecast_2030_is_the_published_figure(udfs: types.ModuleType) -> None:
    value = excel(udfs, "IMGOUT_FORECAST", 2030.0)
    assert isinstance(value, float)
    assert f"{value:.2f}" == "27.88"
    assert value == market().forecast(2030)


def test_cagr_2026_2030_is_the_published_rate_as_a_fraction(udfs: types.ModuleType) -> None:
    value = excel(udfs, "IMGOUT_CAGR", 2026.0, 2030.0)
    assert f"{value:.3f}" == "0.091"
    assert value == market().cagr(2026, 2030)


def test_series_spills_a_labelled_block_equal_to_the_engine(udfs: types.ModuleType) -> None:
    block = excel(udfs, "IMGOUT_SERIES", 2020.0, 2040.0, "APAC", "CT", "bull")
    assert block[0] == ["year", "value (USD bn)", "growth"]
    points = market().series(2019, 2040, "Asia-Pacific", "CT", "bull")
    assert [row[0] for row in block[1:]] == list(range(2020, 2041))
    for row, before, point in zip(block[1:], points[:-1], points[1:], strict=True):
        assert row[1] == point.value
        assert row[2] == pytest.approx(point.value / before.value - 1, rel=1e-12)


def test_breakdown_regions_equal_the_engine_and_sum_to_the_total(udfs: types.ModuleType) -> None:
    block = excel(udfs, "IMGOUT_BREAKDOWN", 2030.0, "region")
    assert block[0] == ["region", "value (USD bn)", "share", "CAGR 2026-2030"]
    rows = market().breakdown(2030, "region")
    assert [tuple(r) for r in block[1:]] == [tuple(r)[:4] for r in rows]
    assert sum(r[1] for r in block[1:]) == pytest.approx(excel(udfs, "IMGOUT_FORECAST", 2030.0), rel=1e-12)
    assert sum(r[2] for r in block[1:]) == pytest.approx(1.0, rel=1e-12)
    for member, value, _share, _cagr in block[1:]:
        assert excel(udfs, "IMGOUT_FORECAST", 2030.0, member) == pytest.approx(value, rel=1e-12)


def test_breakdown_options_total_row_region_and_units(udfs: types.ModuleType) -> None:
    block = excel(udfs, "IMGOUT_BREAKDOWN", 2030.0, "modality", MISSING, "Total=Y;Region=NA;Units=mn")
    assert block[0][1] == "value (USD mn)"
    assert block[-1][0] == "Total"
    assert block[-1][1] == pytest.approx(market().forecast(2030, "North America") * 1000, rel=1e-12)
    assert sum(r[1] for r in block[1:-1]) == pytest.approx(block[-1][1], rel=1e-12)


def test_scenarios_are_years_by_scenarios(udfs: types.ModuleType) -> None:
    block = excel(udfs, "IMGOUT_SCENARIOS", 2026.0, 2030.0)
    assert block[0] == ["year", "bear", "base", "bull"]
    for row, (year, values) in zip(block[1:], market().scenarios(2026, 2030), strict=True):
        assert row == [year, values["bear"], values["base"], values["bull"]]
    assert block[-1][1] < block[-1][2] < block[-1][3]


def test_share_fan_assumption_source_list_info(udfs: types.ModuleType) -> None:
    m = market()
    assert excel(udfs, "IMGOUT_SHARE", 2030.0, "apac") == m.share(2030, "Asia-Pacific")
    assert excel(udfs, "IMGOUT_FAN", 2030.0) == m.fan(2030, 50)
    assert (
        excel(udfs, "IMGOUT_FAN", 2030.0, 0.9) == excel(udfs, "IMGOUT_FAN", 2030.0, "P90") == m.fan(2030, 90)
    )
    assert excel(udfs, "IMGOUT_FAN", 2030.0, 10.0) < excel(udfs, "IMGOUT_FAN", 2030.0, 90.0)
    assert excel(udfs, "IMGOUT_ASSUMPTION", "anchors.horizon_size") == 27.88
    assert excel(udfs, "IMGOUT_ASSUMPTION", "cagr") == 0.091
    assert excel(udfs, "IMGOUT_ASSUMPTION", "share.APAC") == 0.205
    assert excel(udfs, "IMGOUT_ASSUMPTION", "share.APAC", "kind") == "assumed"
    # A calibrated assumption shows the value the model uses.
    assert excel(udfs, "IMGOUT_ASSUMPTION", "drivers.price_mix.growth") == m.base_driver_growth["price_mix"]
    citation = excel(udfs, "IMGOUT_SOURCE")
    assert citation.startswith(
        "The Business Research Company, Medical Imaging Outsourcing Global Market Report"
    )
    assert "2026-03-03" in citation
    assert excel(udfs, "IMGOUT_SOURCE", "horizon_size") == citation
    assert excel(udfs, "IMGOUT_SOURCE", "drivers.imaging_volume.growth").startswith("NHS England")
    assert excel(udfs, "IMGOUT_SOURCE", "nhs", "url").startswith("https://www.england.nhs.uk/")
    assert excel(udfs, "IMGOUT_LIST", "region") == [[n] for n in m.members("region")]
    assert excel(udfs, "IMGOUT_LIST", "end users", "Dir=H") == list(m.members("end_user"))
    assert excel(udfs, "IMGOUT_LIST", "scenarios") == [["bear"], ["base"], ["bull"]]
    assert excel(udfs, "IMGOUT_LIST", "functions") == [[n] for n in EXPECTED]
    assert len(excel(udfs, "IMGOUT_LIST", "assumptions")) == len(m.assumptions.entries())
    assert excel(udfs, "IMGOUT_INFO", "hash") == m.assumption_hash
    assert excel(udfs, "IMGOUT_INFO", "version") == m.version
    assert (
        excel(udfs, "IMGOUT_INFO", "basis") == "tbrc (the calibrated path of The Business Research Company)"
    )
    # The headline line every face prints: the engine's, built once (xl_addin.model.headline).
    headline = "USD 27.88 bn (basis: tbrc); 5 publishers' median 11.55, range 10.70-27.88"
    assert excel(udfs, "IMGOUT_INFO", "headline") == headline == headline_with_consensus(m, 2030)
    info = dict((row[0], row[1]) for row in excel(udfs, "IMGOUT_INFO")[1:])
    assert info["headline"] == headline
    assert info["assumption file"] == "embedded default"
    assert info["calibration"] == "5 of 5 published figures reproduced"
    assert sum(k.startswith("anchor: ") for k in info) == 5


def test_years_as_dates_serials_and_text(udfs: types.ModuleType) -> None:
    expected = excel(udfs, "IMGOUT_FORECAST", 2030.0)
    for year in (
        xh.excel_date(2030, 6, 30),  # a reference to a date cell
        xh.excel_serial(dt.date(2030, 1, 1)),  # DATE(2030,1,1): 47484
        xh.excel_serial(dt.datetime(2030, 12, 31, 18)),  # with a time of day
        "2030",
        " 2030 ",
        "2030-06-30",
    ):
        assert excel(udfs, "IMGOUT_FORECAST", year) == expected, year
    assert xh.excel_serial(dt.date(2030, 1, 1)) == 47484
    assert excel(udfs, "IMGOUT_CAGR", xh.excel_date(2026, 3, 1), 47849.0) == excel(
        udfs, "IMGOUT_CAGR", 2026.0, 2031.0
    )


def test_empty_cells_omitted_arguments_and_defaults_agree(udfs: types.ModuleType) -> None:
    expected = market().forecast(2030)
    assert (
        excel(udfs, "IMGOUT_FORECAST", 2030.0, None, None, None, None) == expected
    )  # empty referenced cells
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, "", "", "", "") == expected  # ="" cells
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, MISSING, MISSING, "base") == expected
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, "Global") == expected
    assert excel(udfs, "IMGOUT_FAN", 2030.0, None) == excel(udfs, "IMGOUT_FAN", 2030.0, 50.0)


def test_aliases_are_case_insensitive(udfs: types.ModuleType) -> None:
    m = market()
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, "apac") == m.forecast(2030, "Asia-Pacific")
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, "na", "interpretation", "BULL") == m.forecast(
        2030, "North America", "Reporting", "bull"
    )
    assert excel(udfs, "IMGOUT_SHARE", 2030.0, "region:NA") == m.share(2030, "North America")


def test_estimates_spill_every_publisher_with_value_status_and_source(udfs: types.ModuleType) -> None:
    block = excel(udfs, "IMGOUT_ESTIMATES", 2030.0)
    assert block[0] == ["publisher", "value (USD bn)", "status", "source"]
    rows = market().estimates(2030)
    assert [r[0] for r in block[1:]] == [e.publisher for e in rows]
    assert [r[1] for r in block[1:]] == [e.value for e in rows]
    assert [r[2] for r in block[1:]] == [e.status for e in rows]
    assert (
        block[1][3].startswith("The Business Research Company, ")
        and "https://www.einpresswire.com/" in block[1][3]
    )
    assert [r[2] for r in block[1:]][-1] == "extrapolated (publisher CAGR, fading)"  # Grand View in 2030
    in_mn = excel(udfs, "IMGOUT_ESTIMATES", 2030.0, "Units=mn;Header=N;Dir=H")
    assert in_mn[0] == [e.publisher for e in rows]
    # A size the publication printed as printed (27,880, not the model's 27,879.9996): see test_units_as_published.
    assert in_mn[1] == [pytest.approx(market().as_published(e.value, "mn") * 1000, rel=1e-15) for e in rows]


def test_consensus_gives_the_median_or_the_statistic_asked_for(udfs: types.ModuleType) -> None:
    c = market().consensus(2030)
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0) == c.median
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, MISSING) == c.median
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, "min") == c.minimum
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, "MAX") == c.maximum
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, "count") == 5
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, "model_ratio") == c.model_ratio
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, "median", "Units=mn") == pytest.approx(c.median * 1000)
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, "model_ratio", "basis=consensus") == 1.0
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, MISSING, MISSING, MISSING, "basis=consensus") == c.median
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, "average") == (
        "#N/A Invalid statistic: 'average' (expected one of median, min, max, count, model, model_ratio, "
        "model_rank, in_span, excluded)"
    )
    assert excel(udfs, "IMGOUT_CONSENSUS", 2060.0).startswith("#N/A Invalid year")


def test_consensus_answers_are_cached_like_every_other(
    udfs: types.ModuleType, functions: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = excel(udfs, "IMGOUT_CONSENSUS", 2031.0, "max")
    assert functions.cached_answers()["IMGOUT_CONSENSUS"] >= 1

    def not_asked(*args: Any) -> None:
        raise AssertionError("the engine was asked again")

    monkeypatch.setattr(Market, "consensus", not_asked)  # what a cached answer is served from
    assert excel(udfs, "IMGOUT_CONSENSUS", 2031.0, "max") == first
    assert excel(udfs, "IMGOUT_CONSENSUS", 2032.0, "max").startswith(
        "#N/A IMGOUT_CONSENSUS could not compute"
    )


def test_status_y_shows_the_same_words_as_the_engine(udfs: types.ModuleType) -> None:
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, "APAC", "CT", MISSING, "Status=Y") == [
        market().forecast(2030, "APAC", "CT"),
        "published total, assumed split",
    ]
    rows = excel(udfs, "IMGOUT_BREAKDOWN", 2028.0, "region", "bull", "Status=Y;Total=Y;share.APAC=0.25")
    assert {r[-1] for r in rows[1:-1]} == {"interpolated total, assumed split (bull, override)"}
    assert rows[-1][-1] == "interpolated (bull)"  # the share what-if leaves the total alone
    series = excel(
        udfs, "IMGOUT_SERIES", 2030.0, 2031.0, MISSING, MISSING, MISSING, "Status=Y;basis=consensus"
    )
    assert [r[-1] for r in series[1:]] == [
        "consensus median (basis: consensus)",
        "consensus median (basis: consensus)",
    ]


def test_a_country_gets_a_one_line_answer_never_another_regions_figure(udfs: types.ModuleType) -> None:
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, "US") == (
        "#N/A Invalid region: 'US' is a country; the model's regions are North America, Western Europe, "
        "Eastern Europe, Asia-Pacific, South East Asia, South America, Middle East, Africa "
        "(did you mean 'North America'?)"
    )
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, "EU").endswith(
        "(did you mean 'Western Europe' or 'Eastern Europe'?)"
    )
    assert excel(udfs, "IMGOUT_SHARE", 2030.0, "UK").startswith("#N/A Invalid member: 'UK' is a country")


def test_options_text_or_range(udfs: types.ModuleType) -> None:
    m = market()
    base = m.forecast(2030)
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, MISSING, MISSING, MISSING, "Units=mn") == pytest.approx(
        base * 1000
    )
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, MISSING, MISSING, MISSING, "units = MN ; currency=usd") == (
        pytest.approx(base * 1000)
    )
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, MISSING, MISSING, MISSING, "Status=Y") == [
        base,
        "published",
    ]
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, MISSING, MISSING, MISSING, "Status=Y;Dir=V") == [
        [base],
        ["published"],
    ]
    overridden = market_for(None, "cagr=0.1").forecast(2030, "Asia-Pacific", None, "bull")
    assert excel(
        udfs, "IMGOUT_FORECAST", 2030.0, MISSING, MISSING, MISSING, "Region=APAC;Scenario=bull;cagr=0.1"
    ) == (overridden)
    # A range of option cells (a column, a row, with an empty cell), as xlwings delivers it.
    column = (("Units=mn",), (None,), ("cagr=0.1",))
    row = (("Units=mn", None, "cagr=0.1"),)
    expected = market_for(None, "cagr=0.1").forecast(2030) * 1000
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, MISSING, MISSING, MISSING, column) == pytest.approx(
        expected
    )
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, MISSING, MISSING, MISSING, row) == pytest.approx(expected)
    # An argument wins over the same key in options.
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0, "NA", MISSING, MISSING, "Region=APAC") == m.forecast(
        2030, "NA"
    )


def test_table_layout_options(udfs: types.ModuleType) -> None:
    block = excel(udfs, "IMGOUT_SERIES", 2025.0, 2027.0)
    assert excel(udfs, "IMGOUT_SERIES", 2025.0, 2027.0, MISSING, MISSING, MISSING, "Header=N") == block[1:]
    across = excel(udfs, "IMGOUT_SERIES", 2025.0, 2027.0, MISSING, MISSING, MISSING, "Dir=H")
    assert across == [list(col) for col in zip(*block, strict=True)]
    with_status = excel(udfs, "IMGOUT_SERIES", 2025.0, 2027.0, MISSING, MISSING, MISSING, "Status=Y")
    assert [r[-1] for r in with_status] == ["status", "published", "published", "interpolated"]
    assert excel(udfs, "IMGOUT_SCENARIOS", 2030.0, 2030.0, MISSING, MISSING, "Header=N;Units=mn")[0] == 2030
    assert excel(udfs, "IMGOUT_LIST", "scenarios", "Header=Y") == [["scenario"], ["bear"], ["base"], ["bull"]]


def test_results_are_cached_and_tables_are_fresh_lists(
    udfs: types.ModuleType, functions: types.ModuleType
) -> None:
    first = udfs.IMGOUT_SERIES(2020, 2030)
    first[1][1] = "scribbled"
    assert udfs.IMGOUT_SERIES(2020, 2030)[1][1] != "scribbled"
    udfs.clear_cache()
    assert functions.cached_answers()["IMGOUT_FORECAST"] == 0
    udfs.IMGOUT_FORECAST(2030)
    udfs.IMGOUT_FORECAST(2030)
    assert functions.cached_answers()["IMGOUT_FORECAST"] == 1


def test_the_cache_keeps_values_of_different_types_apart(
    udfs: types.ModuleType, functions: types.ModuleType
) -> None:
    """2030, 2030.0 and a bool are equal in Python's eyes (True == 1): each call keeps an answer of its own."""
    udfs.clear_cache()
    answers = [udfs.IMGOUT_FORECAST(year) for year in (2030, 2030.0, True, 1, 1.0)]
    assert functions.cached_answers()["IMGOUT_FORECAST"] == 5
    assert answers[0] == answers[1] == market().forecast(2030)
    assert answers[2].startswith("#N/A Invalid year: True") and answers[3].startswith("#N/A Invalid year: 1")


def test_every_function_caches_its_answers_under_its_own_name(
    udfs: types.ModuleType, functions: types.ModuleType
) -> None:
    """Two functions given the same arguments never answer from each other's cache entries."""
    for name, function in udfs.FUNCTIONS.items():
        udfs.clear_cache()
        function(*(["region"] if name == "IMGOUT_LIST" else [2030.0] * REQUIRED[name]))
        assert {n for n, count in functions.cached_answers().items() if count} == {name}
    udfs.clear_cache()
    assert excel(udfs, "IMGOUT_FORECAST", 2030.0) != excel(udfs, "IMGOUT_FAN", 2030.0)
    assert sum(functions.cached_answers().values()) == 2


def test_true_and_1_are_different_arguments_whatever_was_asked_first(udfs: types.ModuleType) -> None:
    """In Python TRUE == 1 == 1.0 (equal hashes); in Excel =IMGOUT_FAN(2030,TRUE) is an error, (2030,1) is P1."""
    p1 = market().fan(2030, 1)
    for first_true in (True, False):
        udfs.clear_cache()
        order = (True, 1.0) if first_true else (1.0, True)
        # A list, not a dict: {True: ..., 1.0: ...} would itself fall into the trap.
        answers = [(repr(value), excel(udfs, "IMGOUT_FAN", 2030.0, value)) for value in order]
        by_value = dict(answers)
        assert by_value["True"].startswith("#N/A Invalid percentile: True"), answers
        assert by_value["1.0"] == p1, answers
    udfs.clear_cache()
    assert udfs.IMGOUT_FAN(2030, 1) == udfs.IMGOUT_FAN(2030, 1.0) == p1  # from Python: int and float agree
    assert udfs.IMGOUT_FAN(2030, (True,)).startswith("#N/A Invalid percentile: True")  # typed inside ranges
    assert udfs.IMGOUT_FAN(2030, (1,)) == p1


# ----------------------------------------------------------------------------------------- bad inputs

ERR = xh.excel_error
BAD_INPUTS: list[tuple[str, tuple[Any, ...], str]] = [
    ("IMGOUT_FORECAST", (2060.0,), "Invalid year: 2060 (expected a year from 2010 to 2050"),
    ("IMGOUT_FORECAST", (1999.0,), "Invalid year: 1999"),
    ("IMGOUT_FORECAST", (2030.5,), "Invalid year: 2030.5"),
    ("IMGOUT_FORECAST", (-5.0,), "Invalid year: -5"),
    ("IMGOUT_FORECAST", ("next year",), "Invalid year: 'next year'"),
    ("IMGOUT_FORECAST", ("",), "Invalid year: an empty value"),
    ("IMGOUT_FORECAST", (None,), "Invalid year: an empty value"),
    ("IMGOUT_FORECAST", (True,), "Invalid year: True"),
    ("IMGOUT_FORECAST", (xh.excel_serial(dt.date(2070, 1, 1)),), "(the date 2070-01-01)"),
    ("IMGOUT_FORECAST", (xh.excel_date(1990, 1, 1),), "Invalid year: 1990"),
    (
        "IMGOUT_SERIES",
        (((2030.0, 2031.0),), 2040.0),
        "Invalid first_year: a range of 2 cells",
    ),  # grids: test_udf_grid
    ("IMGOUT_FORECAST", (ERR("#DIV/0!"),), "Invalid year: the referenced cell shows #DIV/0!"),
    ("IMGOUT_FORECAST", (ERR("#REF!"),), "shows #REF!"),
    ("IMGOUT_FORECAST", (-2146826243,), "shows #SPILL!"),  # newer error codes arrive as plain ints
    ("IMGOUT_FORECAST", (2030.0, "Mars"), "Invalid region: 'Mars' (expected one of North America"),
    ("IMGOUT_FORECAST", (2030.0, "Asia Pacifc"), "did you mean 'Asia-Pacific'"),
    ("IMGOUT_FORECAST", (2030.0, 42.0), "Invalid region: 42.0"),
    ("IMGOUT_FORECAST", (2030.0, ERR("#N/A")), "Invalid region: the referenced cell shows #N/A"),
    ("IMGOUT_FORECAST", (2030.0, MISSING, "Cheese"), "Invalid segment: 'Cheese'"),
    ("IMGOUT_FORECAST", (2030.0, MISSING, "region:APAC"), "Invalid segment dimension: 'region'"),
    (
        "IMGOUT_FORECAST",
        (2030.0, MISSING, MISSING, "boom"),
        "Invalid scenario: 'boom' (expected one of bear, base, bull)",
    ),
    (
        "IMGOUT_FORECAST",
        (2030.0, MISSING, MISSING, ERR("#VALUE!")),
        "Invalid scenario: the referenced cell shows",
    ),
    (
        "IMGOUT_FORECAST",
        (2030.0, MISSING, MISSING, MISSING, "Units"),
        "Invalid options: 'Units' (expected Key=Value",
    ),
    ("IMGOUT_FORECAST", (2030.0, MISSING, MISSING, MISSING, "Units=kg"), "Invalid Units option: 'kg'"),
    ("IMGOUT_FORECAST", (2030.0, MISSING, MISSING, MISSING, "Dir=diagonal"), "Invalid Dir option"),
    ("IMGOUT_FORECAST", (2030.0, MISSING, MISSING, MISSING, "Header=maybe"), "Invalid Header option"),
    (
        "IMGOUT_FORECAST",
        (2030.0, MISSING, MISSING, MISSING, "Currency=EUR"),
        "Invalid Currency option: 'EUR'",
    ),
    ("IMGOUT_FORECAST", (2030.0, MISSING, MISSING, MISSING, "bogus=1"), "Invalid override: 'bogus'"),
    ("IMGOUT_FORECAST", (2030.0, MISSING, MISSING, MISSING, "cagr=fast"), "Invalid override value for cagr"),
    ("IMGOUT_FORECAST", (2030.0, MISSING, MISSING, MISSING, "=0.1"), "Invalid options: '=0.1'"),
    ("IMGOUT_FORECAST", (2030.0, MISSING, MISSING, MISSING, 5.0), "Invalid options: 5"),
    (
        "IMGOUT_FORECAST",
        (2030.0, MISSING, MISSING, MISSING, ((ERR("#NAME?"),),)),
        "Invalid options: the referenced",
    ),
    (
        "IMGOUT_SERIES",
        (2030.0, 2020.0),
        "Invalid last_year: 2020 (expected a year at or after first_year 2030)",
    ),
    ("IMGOUT_SERIES", (2020.0, "later"), "Invalid last_year: 'later'"),
    ("IMGOUT_SERIES", (2020.0, 2030.0, "Atlantis"), "Invalid region: 'Atlantis'"),
    ("IMGOUT_CAGR", (2030.0, 2030.0), "Invalid to_year: 2030 (expected a year after from_year 2030)"),
    ("IMGOUT_CAGR", (2026.0, 2099.0), "Invalid to_year: 2099"),
    ("IMGOUT_SHARE", (2030.0, "Pluto"), "Invalid member: 'Pluto'"),
    ("IMGOUT_SHARE", (2030.0, None), "Invalid member: an empty value"),
    ("IMGOUT_SHARE", (2030.0, "APAC", "doom"), "Invalid scenario: 'doom'"),
    ("IMGOUT_BREAKDOWN", (2030.0, "colour"), "Invalid dimension: 'colour'"),
    ("IMGOUT_BREAKDOWN", (2030.0, ""), "Invalid dimension: ''"),
    (
        "IMGOUT_BREAKDOWN",
        (2030.0, "region", MISSING, "Region=APAC"),
        "no region filter when breaking down by region",
    ),
    ("IMGOUT_SCENARIOS", (2031.0, 2030.0), "Invalid last_year: 2030"),
    ("IMGOUT_FAN", (2030.0, 150.0), "Invalid percentile: 150"),
    ("IMGOUT_FAN", (2030.0, "median"), "Invalid percentile: 'median'"),
    ("IMGOUT_FAN", (2030.0, 0.0), "Invalid percentile: 0"),
    ("IMGOUT_ASSUMPTION", ("anchors.horizon_sise",), "did you mean 'anchors.horizon_size'"),
    ("IMGOUT_ASSUMPTION", ("",), "Invalid assumption key: an empty value"),
    ("IMGOUT_ASSUMPTION", ("cagr", "colour"), "Invalid field: 'colour'"),
    ("IMGOUT_ASSUMPTION", (12.0,), "Invalid assumption key: 12"),
    (
        "IMGOUT_SOURCE",
        ("wikipedia",),
        "Invalid reference: 'wikipedia' (expected an assumption key, an anchor",
    ),
    ("IMGOUT_SOURCE", ("nhs", "isbn"), "Invalid field: 'isbn'"),
    ("IMGOUT_LIST", ("planets",), "Invalid dimension: 'planets' (expected one of region, service"),
    ("IMGOUT_LIST", (None,), "Invalid dimension: an empty value"),
    ("IMGOUT_INFO", ("everything",), "Invalid field: 'everything'"),
]
PYTHON_NAMES = re.compile(
    r"Traceback|\b(Error|Exception|NoneType|str|int|float|tuple|bool|KeyError|ValueError|TypeError"
    r"|AttributeError|IndexError|ImgoutError|InvalidArgument|self|def|File \")\b"
)


def test_there_are_at_least_thirty_bad_inputs() -> None:
    assert len(BAD_INPUTS) >= 30


@pytest.mark.parametrize(
    ("name", "args", "expected"), BAD_INPUTS, ids=[f"{n}{a!r}"[:60] for n, a, _ in BAD_INPUTS]
)
def test_a_bad_input_gives_one_line_that_says_what_is_wrong(
    udfs: types.ModuleType, name: str, args: tuple[Any, ...], expected: str
) -> None:
    result = excel(udfs, name, *args)
    assert isinstance(result, str), result
    assert result.startswith("#N/A "), result
    assert "\n" not in result and len(result) < 1000
    assert expected in result, result
    assert not PYTHON_NAMES.search(result), result


# ----------------------------------------------------------------------------------------- assumptions file


def _write_assumptions(path: Path, growth: float) -> None:
    path.write_text(
        f"extension:\n  extrapolation_growth:\n    value: {growth}\n    kind: assumed\n    source: imgout\n",
        encoding="utf-8",
    )


def test_a_changed_assumption_file_is_picked_up(
    udfs: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default_2040 = excel(udfs, "IMGOUT_FORECAST", 2040.0)
    default_hash = excel(udfs, "IMGOUT_INFO", "hash")
    file = tmp_path / "mine.yaml"
    _write_assumptions(file, 0.05)
    monkeypatch.setenv("IMGOUT_ASSUMPTIONS", str(file))
    time.sleep(udfs.CHECK_INTERVAL * 1.5)  # the next recalculation
    first = excel(udfs, "IMGOUT_FORECAST", 2040.0)
    assert first == pytest.approx(market_for(file).forecast(2040), rel=1e-12)
    assert first != pytest.approx(default_2040)
    assert excel(udfs, "IMGOUT_INFO", "file") == str(file)
    first_hash = excel(udfs, "IMGOUT_INFO", "hash")
    assert first_hash != default_hash
    # The 2030 figure stays the published one: the file only changes the extrapolation.
    assert f"{excel(udfs, 'IMGOUT_FORECAST', 2030.0):.2f}" == "27.88"

    _write_assumptions(file, 0.07)  # the user edits and saves the file
    time.sleep(udfs.CHECK_INTERVAL * 1.5)
    second = excel(udfs, "IMGOUT_FORECAST", 2040.0)
    assert second > first
    assert excel(udfs, "IMGOUT_INFO", "hash") != first_hash

    file.write_text("extension: [not, a, mapping]\n", encoding="utf-8")  # a broken save
    time.sleep(udfs.CHECK_INTERVAL * 1.5)
    broken = excel(udfs, "IMGOUT_FORECAST", 2040.0)
    assert broken.startswith(f"#N/A Invalid assumptions in {file}"), broken
    assert not PYTHON_NAMES.search(broken)

    monkeypatch.delenv("IMGOUT_ASSUMPTIONS")
    time.sleep(udfs.CHECK_INTERVAL * 1.5)
    assert excel(udfs, "IMGOUT_FORECAST", 2040.0) == default_2040


def test_the_setting_can_live_in_the_xlwings_user_config(
    udfs: types.ModuleType, functions: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "mine.yaml"
    _write_assumptions(file, 0.05)
    conf = tmp_path / "xlwings.conf"
    conf.write_text(f'"INTERPRETER_WIN","python"\n"IMGOUT_ASSUMPTIONS","{file}"\n', encoding="utf-8")
    monkeypatch.setattr(functions, "USER_CONFIG", str(conf))
    udfs.clear_cache()
    assert udfs.assumption_path() == str(file)
    assert excel(udfs, "IMGOUT_FORECAST", 2040.0) == pytest.approx(market_for(file).forecast(2040), rel=1e-12)
    assert "xlwings.conf" in excel(udfs, "IMGOUT_INFO", "setting")


# ----------------------------------------------------------------------------------------- the workbook


def _formulas(path: Path) -> dict[str, str]:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    out = {}
    for row in wb["IMGOUT"].iter_rows():
        for cell in row:
            value = cell.value
            text = value.text if isinstance(value, ArrayFormula) else value
            if isinstance(text, str) and text.startswith("=IMGOUT_") and cell.column == 5:
                out[cell.coordinate] = text
    return out


def test_the_demo_sheet_uses_every_function_and_tables_spill(udfs: types.ModuleType) -> None:
    formulas = _formulas(WORKBOOK)
    used = {re.match(r"=(IMGOUT_\w+)\(", f).group(1) for f in formulas.values()}  # type: ignore[union-attr]
    assert used == set(EXPECTED)
    wb = openpyxl.load_workbook(WORKBOOK)
    sheet = wb["IMGOUT"]
    for coordinate, formula in formulas.items():
        value = sheet[coordinate].value
        if any(
            formula.startswith(f"={n}(") for n in ("IMGOUT_SERIES", "IMGOUT_BREAKDOWN", "IMGOUT_SCENARIOS")
        ):
            assert isinstance(value, ArrayFormula), f"{coordinate} {formula} must be a dynamic array formula"
        # The formula text shown beside each result is the formula itself.
        assert sheet.cell(sheet[coordinate].row, 3).value == formula


def test_the_demo_sheet_stores_its_results() -> None:
    wb = openpyxl.load_workbook(WORKBOOK, data_only=True)
    sheet = wb["IMGOUT"]
    stored = {sheet.cell(r, 3).value: sheet.cell(r, 5).value for r in range(1, sheet.max_row + 1)}
    assert f"{stored['=IMGOUT_FORECAST(2030)']:.2f}" == "27.88"
    assert f"{stored['=IMGOUT_CAGR(2026,2030)']:.3f}" == "0.091"
    assert stored['=IMGOUT_FORECAST(2030,"Mars")'].startswith("#N/A Invalid region: 'Mars'")


def test_imgout_excel_writes_the_committed_workbook(tmp_path: Path) -> None:
    from xl_addin.cli import main

    out = tmp_path / "IMGOUT.xlsm"
    main(["excel", "--out", str(out)])
    assert _formulas(out) == _formulas(WORKBOOK)
    fresh = openpyxl.load_workbook(out, keep_vba=True)
    assert fresh.vba_archive is not None
    assert not list(tmp_path.glob(".imgout-*"))  # written atomically: no temporary file left


def _imports(module: str) -> set[str]:
    """Absolute names of what ``module``'s source imports, at module level or inside functions."""
    path = ROOT.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            name = ".".join(part for part in (base, node.module or "") if part)
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)  # `from . import functions`
    return found


def test_the_udf_module_stays_importable_in_xlwings_lite() -> None:
    """Pyodide has no processes or sockets, and the command-line libraries are not part of the add-in.

    Everything ``xl_addin.udfs`` imports, followed through the package, is checked.
    """
    seen, todo = set(), ["xl_addin.udfs"]
    imports: set[str] = set()
    while todo:
        module = todo.pop()
        seen.add(module)
        for name in _imports(module):
            imports.add(name)
            exists = ROOT.joinpath(*name.split(".")).with_suffix(".py").is_file() or (
                ROOT.joinpath(*name.split("."), "__init__.py").is_file()
            )
            if name.startswith("xl_addin") and exists and name not in seen:
                todo.append(name)
    assert "xl_addin.excel.functions" in seen and "xl_addin.excel.arguments" in seen
    top_level = {name.split(".")[0] for name in imports}
    assert not top_level & {
        "subprocess",
        "socket",
        "multiprocessing",
        "click",
        "rich",
        "xlsxwriter",
        "openpyxl",
    }
    adapters = ("xl_addin.cli", "xl_addin.report", "xl_addin.delivery", "xl_addin.excel.frontend")
    assert not {name for name in seen if name.startswith(adapters)}


def test_estimates_and_consensus_are_the_same_numbers_in_cells_and_on_the_command_line(
    udfs: types.ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from xl_addin.cli import main

    for year in (2025, 2030, 2035):
        main(["estimates", str(year), "--json"])
        payload = json.loads(capsys.readouterr().out)
        block = excel(udfs, "IMGOUT_ESTIMATES", float(year))
        assert [[e["publisher"], e["value"], e["status"]] for e in payload["estimates"]] == [
            r[:3] for r in block[1:]
        ]
        assert [e["source"]["citation"] for e in payload["estimates"]] == [r[3] for r in block[1:]]
        c = payload["consensus"]
        for statistic, field in (
            ("median", "median"),
            ("min", "minimum"),
            ("max", "maximum"),
            ("count", "count"),
        ):
            assert excel(udfs, "IMGOUT_CONSENSUS", float(year), statistic) == c[field]
        assert excel(udfs, "IMGOUT_CONSENSUS", float(year), "model_ratio") == c["model_ratio"]


def test_assumptions_of_the_fade_are_readable_and_an_unset_held_growth_says_why(
    udfs: types.ModuleType,
) -> None:
    assert excel(udfs, "IMGOUT_ASSUMPTION", "extension.long_run_growth") == 0.045
    assert excel(udfs, "IMGOUT_ASSUMPTION", "fade_years") == 10
    assert excel(udfs, "IMGOUT_ASSUMPTION", "fade_years", "kind") == "assumed"
    assert excel(udfs, "IMGOUT_ASSUMPTION", "extrapolation_growth") == (
        "#N/A extension.extrapolation_growth has no value: after 2030 growth fades to "
        "extension.long_run_growth over extension.fade_years"
    )
    assert excel(udfs, "IMGOUT_ASSUMPTION", "estimates.techsci.2031") == 26.07
    assert excel(udfs, "IMGOUT_LIST", "estimates") == [
        ["tbrc"],
        ["techsci"],
        ["360iresearch"],
        ["marketus"],
        ["gvr"],
    ]


@pytest.mark.parametrize("what_if", ["cagr=0", "cagr=-0.05", "driver.telemedicine=0.10"])
def test_a_level_what_if_moves_the_fan_but_not_its_width(udfs: types.ModuleType, what_if: str) -> None:
    def width(options: str | None) -> float:
        return excel(udfs, "IMGOUT_FAN", 2030.0, 90.0, None, None, options) / excel(
            udfs, "IMGOUT_FAN", 2030.0, 10.0, None, None, options
        )

    assert excel(udfs, "IMGOUT_FAN", 2030.0, 50.0, None, None, what_if) != excel(udfs, "IMGOUT_FAN", 2030.0)
    assert width(what_if) == pytest.approx(width(None), rel=0.005)


def test_the_estimates_function_says_the_forecasts_word_and_follows_the_models_path(
    udfs: types.ModuleType,
) -> None:
    rows = {r[0]: r for r in excel(udfs, "IMGOUT_ESTIMATES", 2020.0)[1:]}
    assert rows["Grand View Research"][2] == "back-cast (publisher CAGR)"
    following = excel(udfs, "IMGOUT_FORECAST", 2020.0, MISSING, MISSING, MISSING, "basis=gvr;Status=Y")
    assert following[1] == "back-cast (basis: gvr)"
    assert rows["Grand View Research"][1] == following[0]
    # One path per publisher: TBRC's row is the model's own path, in a back-cast year too.
    assert rows["The Business Research Company"][1] == excel(udfs, "IMGOUT_FORECAST", 2020.0)
    median = excel(udfs, "IMGOUT_FORECAST", 2033.0, MISSING, MISSING, MISSING, "basis=consensus;Status=Y")
    assert median[1] == "consensus median (basis: consensus)"


def test_every_source_has_a_vintage_and_an_old_estimate_can_be_left_out_of_the_consensus(
    udfs: types.ModuleType,
) -> None:
    assert excel(udfs, "IMGOUT_SOURCE", "gvr", "vintage") == 2020
    assert excel(udfs, "IMGOUT_SOURCE", "gvr", "base_year") == 2019
    assert excel(udfs, "IMGOUT_SOURCE", "techsci", "vintage") == "not stated"
    assert "2020 (base year 2019)" in excel(udfs, "IMGOUT_SOURCE", "gvr")
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, "excluded") == 0  # off by default
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, "excluded", "consensus_max_age=5") == 1
    assert excel(udfs, "IMGOUT_CONSENSUS", 2030.0, "count", "consensus_max_age=5") == 4


def test_a_drivers_note_carries_its_evidence_with_its_periods(udfs: types.ModuleType) -> None:
    note = excel(udfs, "IMGOUT_ASSUMPTION", "drivers.telemedicine.growth", "note")
    assert "4.8 % in January 2024" in note and "Dec 2022-Jan 2023" in note
    assert excel(udfs, "IMGOUT_ASSUMPTION", "drivers.telemedicine.growth") == 0.0
