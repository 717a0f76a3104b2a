"""The LibreOffice recalculation harness really recalculates, and catches wrong stored results.

Client workbooks store a result next to every formula. These tests prove the harness the workbook tests
rely on: a correct workbook comes back from LibreOffice unchanged, a wrong stored value is reported
(so LibreOffice recalculated rather than echoing our numbers), and an edited input flows through.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from tests.support.libreoffice import (
    LibreOfficeError,
    cell_values,
    compare_stored_with_recalculated,
    formula_cells,
    recalculate,
    require_soffice,
)


@dataclass(frozen=True)
class Inputs:
    """The assumptions on the Inputs sheet of the test workbook."""

    base_market: float = 1250.0
    growth: float = 0.072
    years: int = 5
    shares: Mapping[str, float] = field(
        default_factory=lambda: {"North America": 0.42, "Europe": 0.31, "Asia Pacific": 0.27}
    )
    region: str = "Europe"


def expected_forecast(inputs: Inputs) -> dict[str, Any]:
    """What each Forecast formula evaluates to, computed independently in Python."""
    final_market = inputs.base_market * (1 + inputs.growth) ** inputs.years
    share_sum = sum(inputs.shares.values())
    region_share = inputs.shares[inputs.region]
    yearly = {f"B{9 + year - 1}": inputs.base_market * (1 + inputs.growth) ** year for year in range(1, 6)}
    return {
        "B1": final_market,
        "B2": share_sum,
        "B3": region_share,
        "B4": final_market * region_share,
        "B5": "Major" if region_share >= 0.3 else "Minor",
        "B6": abs(share_sum - 1) < 1e-6,
        **yearly,
        "B14": sum(yearly.values()),
    }


# Forecast formulas: SUM, POWER, cross-sheet references, the defined name Growth, IF/INDEX/MATCH on text.
FORECAST_FORMULAS = {
    "B1": "=Inputs!B1*POWER(1+Growth,Inputs!B3)",
    "B2": "=SUM(Inputs!B6:B8)",
    "B3": "=INDEX(Inputs!B6:B8,MATCH(Inputs!B10,Inputs!A6:A8,0))",
    "B4": "=B1*B3",
    "B5": '=IF(B3>=0.3,"Major","Minor")',
    "B6": "=ABS(B2-1)<0.000001",
    **{f"B{row}": f"=Inputs!$B$1*POWER(1+Growth,A{row})" for row in range(9, 14)},
    "B14": "=SUM(B9:B13)",
}


def build_workbook(path: Path, inputs: Inputs, wrong: Mapping[str, Any] | None = None) -> Path:
    """Write the test workbook with XlsxWriter, storing each formula's result like our writer does.

    ``wrong`` maps Forecast cells to deliberately incorrect stored results.
    """
    stored = {**expected_forecast(inputs), **(wrong or {})}
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Inputs")
    sheet.write_column("A1", ["Base market (USD m)", "Annual growth", "Years"])
    sheet.write_column("B1", [inputs.base_market, inputs.growth, inputs.years])
    sheet.write_row("A5", ["Region", "Share"])
    sheet.write_column("A6", list(inputs.shares))
    sheet.write_column("B6", list(inputs.shares.values()))
    sheet.write_string("A10", "Selected region")
    sheet.write_string("B10", inputs.region)
    workbook.define_name("Growth", "=Inputs!$B$2")

    forecast = workbook.add_worksheet("Forecast")
    forecast.write_column("A9", list(range(1, 6)))
    for cell, formula in FORECAST_FORMULAS.items():
        forecast.write_formula(cell, formula, None, stored[cell])
    workbook.close()
    return path


def forecast_values(xlsx_path: Path) -> dict[str, Any]:
    """The Forecast formula results stored in a workbook, keyed by cell."""
    values = cell_values(xlsx_path)
    return {cell: values.get(("Forecast", cell)) for cell in FORECAST_FORMULAS}


def assert_matches(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    for cell, want in expected.items():
        got = actual[cell]
        if isinstance(want, float):
            assert isinstance(got, int | float) and not isinstance(got, bool), (cell, got)
            assert math.isclose(got, want, rel_tol=1e-9), (cell, got, want)
        else:
            assert got == want and type(got) is type(want), (cell, got, want)


@pytest.fixture
def soffice() -> str:
    return require_soffice()


@pytest.mark.slow
def test_a_workbook_whose_stored_results_are_right_comes_back_unchanged(soffice: str, tmp_path: Path) -> None:
    workbook = build_workbook(tmp_path / "right.xlsx", Inputs())

    recalculated = recalculate(workbook, tmp_path / "lo", soffice=soffice)

    assert recalculated == tmp_path / "lo" / "right.xlsx"
    assert set(formula_cells(workbook)) == {("Forecast", cell) for cell in FORECAST_FORMULAS}
    assert compare_stored_with_recalculated(workbook, recalculated) == []
    assert_matches(forecast_values(recalculated), expected_forecast(Inputs()))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("cell", "wrong_value"),
    [("B4", 999.0), ("B5", "Minor")],
    ids=["number", "text"],
)
def test_the_harness_catches_a_wrong_stored_value(
    soffice: str, tmp_path: Path, cell: str, wrong_value: Any
) -> None:
    workbook = build_workbook(tmp_path / "wrong.xlsx", Inputs(), wrong={cell: wrong_value})
    assert forecast_values(workbook)[cell] == wrong_value

    recalculated = recalculate(workbook, tmp_path / "lo", soffice=soffice)

    # Exactly one difference, on the cell we broke: LibreOffice recomputed it instead of keeping ours.
    differences = compare_stored_with_recalculated(workbook, recalculated)
    assert len(differences) == 1, differences
    assert differences[0].startswith(f"Forecast!{cell} {FORECAST_FORMULAS[cell]}: stored {wrong_value!r}")
    expected = expected_forecast(Inputs())[cell]
    # pytest.approx takes no relative tolerance for text (pytest 9.2 refuses it): text must match exactly.
    assert forecast_values(recalculated)[cell] == (
        expected if isinstance(expected, str) else pytest.approx(expected, rel=1e-9)
    )


@pytest.mark.slow
def test_an_input_edited_with_openpyxl_flows_through_libreoffice(soffice: str, tmp_path: Path) -> None:
    original = build_workbook(tmp_path / "original.xlsx", Inputs())
    edited_inputs = replace(Inputs(), growth=0.1, region="Asia Pacific")
    workbook = openpyxl.load_workbook(original)
    workbook["Inputs"]["B2"] = edited_inputs.growth
    workbook["Inputs"]["B10"] = edited_inputs.region
    edited = tmp_path / "edited.xlsx"
    workbook.save(edited)

    recalculated = recalculate(edited, tmp_path / "lo", soffice=soffice)

    before, after = expected_forecast(Inputs()), expected_forecast(edited_inputs)
    assert after["B4"] != pytest.approx(before["B4"]) and after["B5"] != before["B5"]
    assert_matches(forecast_values(recalculated), after)


@pytest.mark.slow
def test_recalculations_can_run_concurrently(soffice: str, tmp_path: Path) -> None:
    cases = {f"book{index}": Inputs(growth=0.05 + index / 100) for index in range(3)}
    paths = {name: build_workbook(tmp_path / f"{name}.xlsx", inputs) for name, inputs in cases.items()}

    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        futures = {
            name: pool.submit(recalculate, path, tmp_path / "lo" / name, soffice=soffice)
            for name, path in paths.items()
        }
        results = {name: future.result() for name, future in futures.items()}

    for name, recalculated in results.items():
        assert compare_stored_with_recalculated(paths[name], recalculated) == []
        assert_matches(forecast_values(recalculated), expected_forecast(cases[name]))


@pytest.mark.slow
def test_a_reused_profile_keeps_recalculating(soffice: str, tmp_path: Path) -> None:
    workbook = build_workbook(tmp_path / "wrong.xlsx", Inputs(), wrong={"B1": 1.0})
    profile = tmp_path / "profile"

    # The second run uses the profile LibreOffice rewrote on exit from the first.
    for run in range(2):
        recalculated = recalculate(workbook, tmp_path / f"lo{run}", profile_dir=profile, soffice=soffice)
        assert [line.split(" ")[0] for line in compare_stored_with_recalculated(workbook, recalculated)] == [
            "Forecast!B1"
        ]


@pytest.mark.slow
def test_a_file_libreoffice_cannot_open_is_a_clear_error(soffice: str, tmp_path: Path) -> None:
    not_a_workbook = tmp_path / "broken.xlsx"
    not_a_workbook.write_bytes(b"PK\x03\x04 this is not a workbook")

    with pytest.raises(LibreOfficeError, match="could not recalculate") as error:
        recalculate(not_a_workbook, tmp_path / "lo", soffice=soffice)
    assert "stderr" in str(error.value)


def test_recalculating_into_the_input_folder_is_refused(tmp_path: Path) -> None:
    workbook = build_workbook(tmp_path / "book.xlsx", Inputs())

    with pytest.raises(ValueError, match="overwrite"):
        recalculate(workbook, tmp_path)


def test_the_comparison_tolerates_float_noise_but_not_real_differences(tmp_path: Path) -> None:
    def book(name: str, results: list[Any]) -> Path:
        path = tmp_path / name
        workbook = xlsxwriter.Workbook(str(path))
        sheet = workbook.add_worksheet("S")
        for row, result in enumerate(results, start=1):
            sheet.write_formula(f"A{row}", "=1", None, result)
        workbook.close()
        return path

    stored = book("stored.xlsx", [100.0, 0.0, 100.0, True, "a", 0.0])
    fresh = book("fresh.xlsx", [100.0 * (1 + 1e-12), 1e-17, 100.0001, 1, "A", 1e-6])

    differences = compare_stored_with_recalculated(stored, fresh)

    assert [line.split(" ")[0] for line in differences] == ["S!A3", "S!A4", "S!A5", "S!A6"]
