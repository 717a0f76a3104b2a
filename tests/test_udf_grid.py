"""Grid calls: one formula with range arguments spills the table a finance user lays out by hand.

Every call goes through tests/support/xlwings_harness.py: xlwings' own ``XLPython.CallUDF`` -> ``call_udf`` ->
``conversion.read`` (with each argument's registered options, here ``ndim="natural"``) -> the function ->
``conversion.write``. A reference to cells (``C4:L4``) is an ``xh.ExcelRange``, read through xlwings'
Windows Range class; an array constant or a computed array (``{2021,2022}``, ``SEQUENCE(1,10,2021)``) is
the tuple pywin32 hands over. The single calls each grid is compared with go through the same path.
"""

from __future__ import annotations

import types
from typing import Any

import pytest

from tests.support import xlwings_harness as xh
from xl_addin.model import Market, market_for

MISSING = xh.MISSING
pytestmark = pytest.mark.usefixtures("fresh")  # the embedded default, nothing cached (tests/conftest.py)
YEARS = [float(y) for y in range(2021, 2031)]  # 10 years across
GRID_FUNCTIONS = {
    "IMGOUT_FORECAST": ("year", "region", "segment", "scenario"),
    "IMGOUT_CAGR": ("from_year", "to_year", "region", "segment", "scenario"),
    "IMGOUT_SHARE": ("year", "member", "scenario"),
    "IMGOUT_FAN": ("year", "percentile", "region", "segment"),
}


def regions() -> list[str]:
    return list(market_for(None).members("region"))


def row(values: list[Any]) -> xh.ExcelRange:
    """A reference to cells in one row, e.g. C4:L4."""
    return xh.ExcelRange([values])


def column(values: list[Any]) -> xh.ExcelRange:
    """A reference to cells in one column, e.g. B5:B12."""
    return xh.ExcelRange([[v] for v in values])


def excel(udfs: types.ModuleType, name: str, *args: Any) -> Any:
    return xh.call_like_excel(getattr(udfs, name), *args)


# ----------------------------------------------------------------------------------------- the table


def test_ten_years_across_eight_regions_down_equal_the_80_single_calls(udfs: types.ModuleType) -> None:
    names = regions()
    assert len(names) == 8
    table = excel(udfs, "IMGOUT_FORECAST", row(YEARS), column(names))
    assert len(table) == 8 and all(len(r) == 10 for r in table)
    udfs.clear_cache()  # the single calls compute afresh, as in another workbook
    for r, region in enumerate(names):
        for c, year in enumerate(YEARS):
            # =IMGOUT_FORECAST(C$4,$B5): each argument a one-cell reference
            single = excel(udfs, "IMGOUT_FORECAST", row([year]), column([region]))
            assert table[r][c] == single, (region, year)
            assert isinstance(single, float)
    # The same table from array constants ({2021,...,2030} and {"North America";...}).
    constants = excel(udfs, "IMGOUT_FORECAST", (tuple(YEARS),), tuple((n,) for n in names))
    assert constants == table


def test_a_one_cell_range_is_a_single_value(udfs: types.ModuleType, functions: types.ModuleType) -> None:
    assert excel(udfs, "IMGOUT_FORECAST", row([2030.0])) == excel(udfs, "IMGOUT_FORECAST", 2030.0)
    assert excel(udfs, "IMGOUT_FORECAST", ((2030.0,),), (("APAC",),)) == market_for(None).forecast(
        2030, "APAC"
    )
    # ... and is cached exactly like a typed-in value: the scalar path is the same path.
    udfs.clear_cache()
    excel(udfs, "IMGOUT_FORECAST", row([2030.0]))
    excel(udfs, "IMGOUT_FORECAST", 2030.0)
    assert functions.cached_answers()["IMGOUT_FORECAST"] == 1


def test_the_table_fills_the_answer_cache_of_its_single_calls(
    udfs: types.ModuleType, functions: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = excel(udfs, "IMGOUT_FORECAST", row(YEARS), column(regions()))
    assert functions.cached_answers()["IMGOUT_FORECAST"] == 80

    def not_asked(*args: Any) -> None:
        raise AssertionError("the engine was asked again")

    monkeypatch.setattr(Market, "forecast", not_asked)  # each single call is answered from the cache
    for r, region in enumerate(regions()):
        assert udfs.IMGOUT_FORECAST(2030.0, region) == table[r][YEARS.index(2030.0)]


# ----------------------------------------------------------------------------------------- broadcasting


def test_broadcasting_rules(udfs: types.ModuleType) -> None:
    m = market_for(None)
    names = regions()[:3]
    # A row against a column: rows x columns.
    grid = excel(udfs, "IMGOUT_FORECAST", row(YEARS[:4]), column(names))
    assert [[round(v, 12) for v in r] for r in grid] == [
        [round(m.forecast(int(y), n), 12) for y in YEARS[:4]] for n in names
    ]
    # A column of years against a row of regions: the transposed table.
    flipped = excel(udfs, "IMGOUT_FORECAST", column(YEARS[:4]), row(names))
    assert flipped == [list(c) for c in zip(*grid, strict=True)]
    # Two columns of the same length pair up element by element (region i in year i).
    paired = excel(udfs, "IMGOUT_FORECAST", column(YEARS[:3]), column(names))
    assert paired == [[m.forecast(int(y), n)] for y, n in zip(YEARS[:3], names, strict=True)]
    # Two rows pair up too, and a single value (a segment) goes into every cell.
    across = excel(udfs, "IMGOUT_FORECAST", row(YEARS[:3]), row(names), "CT")
    assert across == [m.forecast(int(y), n, "CT") for y, n in zip(YEARS[:3], names, strict=True)]
    # Three ranges: years across, regions down, a column of scenarios paired with the regions.
    three = excel(
        udfs, "IMGOUT_FORECAST", row(YEARS[:2]), column(names), MISSING, column(["bear", "base", "bull"])
    )
    assert three == [
        [m.forecast(int(y), n, None, s) for y in YEARS[:2]]
        for n, s in zip(names, ["bear", "base", "bull"], strict=True)
    ]
    # A block of years (2 x 2) with a row of regions: each cell its own year, regions run across.
    block = excel(
        udfs, "IMGOUT_FORECAST", xh.ExcelRange([[2025.0, 2026.0], [2027.0, 2028.0]]), row(names[:2])
    )
    assert block == [
        [m.forecast(2025, names[0]), m.forecast(2026, names[1])],
        [m.forecast(2027, names[0]), m.forecast(2028, names[1])],
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            (row(YEARS), row(["APAC", "NA"])),
            "#N/A Invalid region: a row of 2 cells does not pair with year, a row of 10 cells "
            "(ranges that run across must have the same length; a row against a column makes a table)",
        ),
        (
            (column(YEARS[:3]), column(["APAC", "NA"])),
            "#N/A Invalid region: a column of 2 cells does not pair with year, a column of 3 cells "
            "(ranges that run down must have the same length; a row against a column makes a table)",
        ),
        (
            (2030.0, column(["APAC", "NA"]), MISSING, column(["bear", "base", "bull"])),
            "#N/A Invalid scenario: a column of 3 cells does not pair with region, a column of 2 cells",
        ),
    ],
    ids=["rows", "columns", "region and scenario"],
)
def test_ranges_that_do_not_pair_give_one_line_naming_both(
    udfs: types.ModuleType, args: tuple[Any, ...], expected: str
) -> None:
    answer = excel(udfs, "IMGOUT_FORECAST", *args)
    assert isinstance(answer, str) and "\n" not in answer
    assert answer.startswith(expected), answer


def test_a_table_too_large_is_refused_in_one_line(udfs: types.ModuleType) -> None:
    years = [2030.0] * 400
    members = ["APAC"] * 300
    answer = excel(udfs, "IMGOUT_FORECAST", (tuple(years),), tuple((n,) for n in members))
    assert answer == (
        "#N/A Invalid region and year: a table of 300 x 400 = 120,000 cells "
        "(expected at most 100,000 per call; split it over several formulas)"
    )


# ----------------------------------------------------------------------------------------- errors per cell


def test_a_bad_element_shows_its_error_in_its_own_cell(udfs: types.ModuleType) -> None:
    m = market_for(None)
    members = ["North America", "Mars", xh.excel_error("#DIV/0!"), None, "apac"]
    years = [2025.0, 2060.0, 2030.0]
    table = excel(udfs, "IMGOUT_FORECAST", row(years), column(members))
    assert len(table) == 5 and all(len(r) == 3 for r in table)
    assert table[0][0] == m.forecast(2025, "North America")
    assert table[0][1].startswith("#N/A Invalid year: 2060 (expected a year from 2010 to 2050")
    assert all(
        cell.startswith("#N/A Invalid region: 'Mars' (expected one of North America")
        for cell in table[1][::2]
    )
    assert table[2][0] == "#N/A Invalid region: the referenced cell shows #DIV/0! (fix that cell first)"
    assert table[3][2] == m.forecast(2030)  # an empty cell is the whole market, as in a single call
    assert table[4][2] == m.forecast(2030, "Asia-Pacific")
    for r in table:
        for cell in r:
            assert isinstance(cell, float) or (isinstance(cell, str) and cell.startswith("#N/A "))


def test_a_problem_with_the_whole_call_is_one_line(udfs: types.ModuleType) -> None:
    answer = excel(udfs, "IMGOUT_FORECAST", row(YEARS), column(regions()), MISSING, MISSING, "Units=kg")
    assert answer.startswith("#N/A Invalid Units option: 'kg'")
    answer = excel(udfs, "IMGOUT_FORECAST", row(YEARS), MISSING, MISSING, MISSING, "Status=Y")
    assert answer.startswith("#N/A Invalid options: Status=Y with a range argument")


# ----------------------------------------------------------------------------------------- headers, options


def test_header_y_adds_the_year_row_and_the_member_column(udfs: types.ModuleType) -> None:
    given = ["north america", "APAC", None, "Mars"]
    plain = excel(udfs, "IMGOUT_FORECAST", row(YEARS[:3]), column(given))
    table = excel(
        udfs, "IMGOUT_FORECAST", row(YEARS[:3]), column(given), MISSING, MISSING, "Header=Y;Units=mn"
    )
    assert table[0] == ["USD mn", 2021, 2022, 2023]
    assert [r[0] for r in table[1:]] == ["North America", "Asia-Pacific", "Total", "Mars"]
    assert [r[1:] for r in table[1:4]] == [[v * 1000 for v in values] for values in plain[:3]]
    # Only years vary: a header row and no label column.
    assert excel(udfs, "IMGOUT_FORECAST", row(YEARS[:2]), "APAC", MISSING, MISSING, "Header=Y") == [
        [2021, 2022],
        [market_for(None).forecast(2021, "APAC"), market_for(None).forecast(2022, "APAC")],
    ]
    # Paired labels are joined; percentiles and scenarios read as they are meant.
    fan = excel(udfs, "IMGOUT_FAN", 2030.0, column([0.1, 90.0]), row(["APAC", "NA"]), MISSING, "Header=Y")
    assert fan[0] == ["USD bn", "Asia-Pacific", "North America"] and [r[0] for r in fan[1:]] == ["P10", "P90"]
    paired = excel(
        udfs, "IMGOUT_FORECAST", 2030.0, column(["APAC", "NA"]), MISSING, column(["bull", "BEAR"]), "Header=Y"
    )
    assert [r[0] for r in paired] == ["Asia-Pacific / bull", "North America / bear"]


def test_options_from_a_range_of_cells_serve_every_cell(udfs: types.ModuleType) -> None:
    options = xh.ExcelRange([["Units=mn"], [None], ["cagr=0.1"]])
    table = excel(udfs, "IMGOUT_FORECAST", row(YEARS[-2:]), column(regions()[:2]), MISSING, MISSING, options)
    overridden = market_for(None, "cagr=0.1")
    assert table == [
        [pytest.approx(overridden.forecast(int(y), n) * 1000, rel=1e-12) for y in YEARS[-2:]]
        for n in regions()[:2]
    ]
    # An empty region cell takes Region= from the options, as a single call does.
    assert excel(
        udfs, "IMGOUT_FORECAST", row([2030.0]), column([None, "NA"]), MISSING, MISSING, "Region=APAC"
    ) == [
        [market_for(None).forecast(2030, "APAC")],
        [market_for(None).forecast(2030, "NA")],
    ]


# ----------------------------------------------------------------------------------------- the other functions


def test_cagr_share_and_fan_take_ranges_too(udfs: types.ModuleType) -> None:
    m = market_for(None)
    horizons = [2027.0, 2028.0, 2030.0]
    cagr = excel(udfs, "IMGOUT_CAGR", 2026.0, row(horizons), column(["APAC", "NA"]))
    assert cagr == [[m.cagr(2026, int(y), n) for y in horizons] for n in ["APAC", "NA"]]
    bad = excel(udfs, "IMGOUT_CAGR", 2026.0, row([2026.0, 2030.0]))
    assert bad[0] == "#N/A Invalid to_year: 2026 (expected a year after from_year 2026)"
    assert bad[1] == m.cagr(2026, 2030)
    members = ["CT", "MRI", "Hospitals"]
    share = excel(udfs, "IMGOUT_SHARE", row(YEARS[-3:]), column(members))
    assert share == [[m.share(int(y), n) for y in YEARS[-3:]] for n in members]
    fan = excel(udfs, "IMGOUT_FAN", row([2028.0, 2030.0]), column([10.0, 50.0, 90.0]))
    assert fan == [[m.fan(y, p) for y in (2028, 2030)] for p in (10, 50, 90)]
    assert fan[0][1] < fan[1][1] < fan[2][1]


# ----------------------------------------------------------------------------------------- the function wizard


@pytest.mark.parametrize("name", list(GRID_FUNCTIONS))
def test_the_wizard_documents_the_range_form(udfs: types.ModuleType, name: str) -> None:
    function = getattr(udfs, name)
    meta = xh.registration(function)
    assert "Ranges give a table" in meta["ret"]["doc"]
    for arg in meta["args"]:
        if arg["name"] in GRID_FUNCTIONS[name]:
            assert arg["options"] == {"err_to_str": True, "ndim": "natural"}, arg["name"]
            assert "row/column range: one answer per cell" in arg["doc"]
        else:
            assert arg["options"] == {"err_to_str": True}, arg["name"]
    assert xh.registration_problems(function) == []  # no text over 255 characters, no line breaks
    wizard = xh.import_udfs_like_excel(udfs).macro_options[name]
    assert wizard["Description"] == function.__doc__
    assert wizard["ArgumentDescriptions"] == [a["doc"] for a in meta["args"]]
