"""The `imgout` command: the model's answers, JSON for scripts, and one clear line for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from xl_addin.cli import main
from xl_addin.model import default_market


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command in-process as a user would; return exit code, stdout, stderr."""
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_forecast_prints_the_published_figure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "forecast", "2030")
    assert code == 0
    assert "USD 27.88 bn" in out and "published" in out


def test_forecast_json_carries_value_units_status_scenario_and_provenance(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "forecast", "2030", "--region", "APAC", "--segment", "CT", "--json")
    payload = json.loads(out)
    market = default_market()
    assert code == 0
    assert payload["value"] == market.forecast(2030, "Asia-Pacific", "CT")
    assert payload["units"] == "USD bn"
    assert payload["status"] == "published total, assumed split"
    assert payload["scenario"] == "base"
    assert payload["region"] == "Asia-Pacific" and payload["segment"] == "CT"
    assert payload["assumption_hash"] == market.assumption_hash


def test_series_cagr_and_breakdown_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    market = default_market()
    _, out, _ = run(capsys, "series", "2024", "2031", "--scenario", "bull", "--json")
    rows = json.loads(out)
    assert [r["year"] for r in rows] == list(range(2024, 2032))
    assert rows[-1]["value"] == market.forecast(2031, scenario="bull")
    _, out, _ = run(capsys, "cagr", "2026", "2030", "--json")
    assert json.loads(out)["value"] == pytest.approx(0.091, abs=0.0005)
    _, out, _ = run(capsys, "breakdown", "2030", "end user", "--json")
    rows = json.loads(out)
    assert [r["member"] for r in rows] == list(market.members("end_user"))
    assert sum(r["value"] for r in rows) == pytest.approx(market.forecast(2030), rel=1e-12)
    assert all({"member", "value", "share"} <= set(r) for r in rows)


def test_breakdown_table_shows_shares_and_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "breakdown", "2025", "region")
    assert code == 0
    assert "North America" in out and "18.08" in out and "40.0%" in out


def test_assumptions_show_lists_sources_and_calibration_residuals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "assumptions", "show", "--json")
    payload = json.loads(out)
    assert code == 0
    assert [r["reproduced"] for r in payload["calibration"]] == [True] * 5
    assert {e["kind"] for e in payload["entries"]} <= {"published", "derived", "assumed"}
    code, out, _ = run(capsys, "assumptions", "show")
    assert "Calibration" in out and "The Business Research Company" in out


def test_a_user_file_extends_the_default_and_diff_shows_the_effect(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("dimensions:\n  region:\n    members:\n      APAC: {growth: 0.05}\n", encoding="utf-8")
    code, out, _ = run(capsys, "assumptions", "validate", str(mine))
    assert code == 0 and "valid" in out
    default = tmp_path / "default.yaml"
    default.write_text("{}\n", encoding="utf-8")
    code, out, _ = run(capsys, "assumptions", "diff", str(default), str(mine), "--json")
    payload = json.loads(out)
    assert [c["key"] for c in payload["changes"]] == ["dimensions.region.Asia-Pacific.growth"]
    code, out, _ = run(capsys, "forecast", "2030", "--region", "APAC", "--assumptions", str(mine), "--json")
    assert json.loads(out)["value"] > default_market().forecast(2030, "APAC")


BAD_FILES = {
    "malformed.yaml": ("anchors: [1, 2\n", "not valid YAML"),
    "list.yaml": ("- 1\n- 2\n", "expected a mapping"),
    "unknown_key.yaml": ("forecasts: 1\n", "forecasts: unknown key"),
    "unknown_member.yaml": (
        "dimensions:\n  region:\n    members:\n      Mars: {share: 0.1}\n",
        "unknown member",
    ),
    "unknown_dimension.yaml": ("dimensions:\n  planet:\n    members: {}\n", "unknown dimension"),
    "shares.yaml": ("dimensions:\n  region:\n    members:\n      NA: {share: 0.5}\n", "shares sum to 1.1"),
    "negative.yaml": ("anchors:\n  base_size: {value: -18.08}\n", "below the allowed minimum"),
    "wrong_type.yaml": ("anchors:\n  horizon_size: {value: lots}\n", "expected a number, got text 'lots'"),
    "bad_kind.yaml": ("anchors:\n  horizon_size: {kind: rumour}\n", "'rumour' is not allowed"),
    "bad_source.yaml": ("drivers:\n  telemedicine: {source: blog}\n", "unknown source 'blog'"),
    "year_range.yaml": ("anchors:\n  horizon_size: {year: 2999}\n", "outside the allowed range"),
    "inconsistent.yaml": ("anchors:\n  horizon_size: {value: 40.0}\n", "inconsistent"),
    "base_scenario.yaml": ("scenarios:\n  base: {drivers: {}}\n", "'base' is reserved"),
    "unknown_driver.yaml": ("scenarios:\n  bear: {drivers: {weather: 0.1}}\n", "unknown driver"),
    "low_high.yaml": ("drivers:\n  telemedicine: {low: 0.09, high: 0.01}\n", "must not exceed high"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_assumption_file_is_refused_with_file_key_and_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    text, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "assumptions", "validate", str(path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("imgout: error: ")
    assert name in err and expected in err
    assert "Traceback" not in err


BAD_CALLS = [
    (("forecast", "2099"), "Invalid year: '2099' (expected a year from 2010 to 2050)"),
    (("forecast", "next year"), "Invalid year: 'next year'"),
    (("forecast", "2030.5"), "Invalid year"),
    (("forecast", "2030", "--region", "Mars"), "Invalid region: 'Mars' (expected one of North America"),
    (("forecast", "2030", "--region", "Asia Pacfic"), "did you mean 'Asia-Pacific'?"),
    (("forecast", "2030", "--segment", "telepathy"), "Invalid segment: 'telepathy'"),
    (
        ("forecast", "2030", "--scenario", "doom"),
        "Invalid scenario: 'doom' (expected one of bear, base, bull)",
    ),
    (("forecast", "2030", "--set", "cagr=fast"), "Invalid override value for cagr: 'fast'"),
    (("forecast", "2030", "--set", "weather=1"), "Invalid override: 'weather'"),
    (("forecast", "2030", "--set", "share.APAC=1.5"), "a share above 0 and below 1"),
    (("forecast", "2030", "--assumptions", "/no/such/file.yaml"), "file not found"),
    (("cagr", "2030", "2026"), "Invalid last year: 2026 (expected a year after the first year 2030)"),
    (("cagr", "2030", "2030"), "Invalid last year"),
    (("series", "2030", "2020"), "Invalid last year"),
    (("breakdown", "2030", "planet"), "Invalid dimension: 'planet'"),
    (("breakdown", "2030", "region", "--region", "APAC"), "no region filter"),
    (("forecast",), "Missing argument 'YEAR'"),
    (("forecast", "2030", "--colour", "red"), "No such option '--colour'"),
    (("teleport",), "No such command 'teleport'"),
]


@pytest.mark.parametrize(("argv", "expected"), BAD_CALLS, ids=[" ".join(a) for a, _ in BAD_CALLS])
def test_bad_input_gives_exit_code_2_and_one_clear_line(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expected: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err + out


def test_a_real_process_never_shows_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent("anchors:\n  next_size: {value: [1]}\n"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "xl_addin.cli", "forecast", "2030", "--assumptions", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"imgout: error: Invalid assumptions in {bad}: anchors.next_size.value: expected a number, got a list"
    ]
