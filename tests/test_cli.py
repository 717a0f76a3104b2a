"""The `imgout` command: the model's answers, JSON for scripts, and one clear line for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.rich_tables import header, rows
from xl_addin.cli import edition_labels, main
from xl_addin.common.formats import money
from xl_addin.model import default_market, headline_with_consensus, market_for
from xl_addin.model.assumptions import with_overrides

pytestmark = pytest.mark.tables  # the commands print rich tables: CI runs these again at COLUMNS=60


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


def test_forecast_of_the_total_has_the_consensus_beside_it(capsys: pytest.CaptureFixture[str]) -> None:
    """The headline line, as every face prints it: the figure, the basis it follows, the publishers'
    median and range of that year; under basis=consensus the same line names that basis."""
    code, out, _ = run(capsys, "forecast", "2030")
    assert code == 0
    assert out.splitlines() == [
        "2030 global (base): USD 27.88 bn [published]",
        "USD 27.88 bn (basis: tbrc); 5 publishers' median 11.55, range 10.70-27.88",
    ]
    _, out, _ = run(capsys, "forecast", "2030", "--scenario", "bull", "--set", "basis=consensus")
    m = market_for(None, "basis=consensus")
    c = m.consensus(2030)
    assert out.splitlines()[1] == (
        f"USD {money(m.forecast(2030, scenario='bull'))} bn (bull scenario, basis: consensus); 5 publishers' "
        f"median {money(c.median)}, range {money(c.minimum)}-{money(c.maximum)}"
    )
    _, out, _ = run(capsys, "forecast", "2030", "--set", "basis=consensus", "--json")
    payload = json.loads(out)
    assert payload["basis"] == "consensus"
    assert payload["headline"] == headline_with_consensus(m, 2030)
    assert payload["consensus"] == {
        "count": 5,
        "median": c.median,
        "minimum": c.minimum,
        "maximum": c.maximum,
    }
    assert payload["value"] == c.median  # the total is the median it is compared with


def test_forecast_of_a_region_or_segment_has_no_consensus_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Publishers estimate the whole market: a region's figure is not set beside their consensus."""
    _, out, _ = run(capsys, "forecast", "2030", "--region", "APAC")
    assert len(out.splitlines()) == 1 and "publishers" not in out
    _, out, _ = run(capsys, "forecast", "2030", "--segment", "CT", "--json")
    assert {"headline", "consensus", "basis"}.isdisjoint(json.loads(out))


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


def test_assumptions_show_says_what_each_value_left_null_stands_for(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    market = default_market()
    code, out, _ = run(capsys, "assumptions", "show")
    assert code == 0
    # Null extrapolation growth is the long-run fade, not a calibrated value.
    cells = {row[0]: row[1:] for row in rows(out)}
    assert cells["extension.extrapolation_growth"][0] == "fade"
    assert cells["extension.backcast_growth"][0] == "calibrated"
    assert (
        "  extension.extrapolation_growth: after 2030 growth fades to extension.long_run_growth over "
        "extension.fade_years\n" in out
    )
    assert (
        f"  extension.backcast_growth: the calibrated historic growth 2025-2026 ({market.backcast_growth:.6g})"
        in out
    )
    assert "calibrated" not in next(line for line in out.splitlines() if "extrapolation_growth" in line)
    code, out, _ = run(capsys, "assumptions", "show", "--json")
    entries = {e["key"]: e for e in json.loads(out)["entries"]}
    assert entries["extension.extrapolation_growth"]["null_meaning"]["value"] is None
    assert entries["drivers.price_mix.growth"]["null_meaning"]["value"] == market.residual_growth
    assert "null_meaning" not in entries["extension.long_run_growth"]
    held = tmp_path / "held.yaml"
    held.write_text("extension:\n  extrapolation_growth: {value: 0.05}\n", encoding="utf-8")
    default = tmp_path / "default.yaml"
    default.write_text("{}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # short names: the diff's columns are named after the files
    code, out, _ = run(capsys, "assumptions", "diff", default.name, held.name)
    assert ["extension.extrapolation_growth", "fade", "0.05"] in rows(out)


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


def test_estimates_prints_every_publisher_then_the_consensus(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimates", "2030")
    assert code == 0
    for publisher in ("Business Research", "TechSci Research", "360iResearch", "Market.us", "Grand View"):
        assert publisher in out
    assert (
        "Consensus 2030: 5 publishers, 4 within their published years; min 10.70, median 11.55, max 27.88."
        in out
    )
    assert "The model (basis tbrc): 27.88, 2.41x the median, rank 1 of 5." in out
    assert "[gvr] Grand View Research, " in out and "https://www.asdreports.com/" in out
    code, out, _ = run(capsys, "estimates")  # no year: the last published year
    assert code == 0 and "Published estimates of the market, 2030" in out


def test_estimates_json_carries_values_statuses_sources_and_the_consensus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "estimates", "2025", "--json")
    payload = json.loads(out)
    market = default_market()
    assert (
        code == 0 and payload["year"] == 2025 and payload["units"] == "USD bn" and payload["basis"] == "tbrc"
    )
    assert [(e["key"], e["value"], e["status"]) for e in payload["estimates"]] == [
        (e.key, e.value, e.status) for e in market.estimates(2025)
    ]
    assert payload["estimates"][1]["source"]["url"].startswith("https://www.techsciresearch.com/")
    assert payload["estimates"][1]["scope"] == "not stated"
    c = market.consensus(2025)
    assert payload["consensus"] == {
        "year": 2025,
        "count": 5,
        "minimum": c.minimum,
        "median": c.median,
        "maximum": c.maximum,
        "model": c.model,
        "model_rank": 1,
        "model_ratio": c.model_ratio,
        "in_span": 4,
        "excluded": 0,
    }
    assert payload["model_version"] == "2.1" and payload["assumption_hash"] == market.assumption_hash


def test_estimates_follow_overrides_and_refuse_bad_years(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimates", "2030", "--set", "basis=consensus", "--json")
    payload = json.loads(out)
    assert payload["basis"] == "consensus" and payload["consensus"]["model_ratio"] == 1.0
    code, _, err = run(capsys, "estimates", "2070")
    assert code == 2 and err == "imgout: error: Invalid year: '2070' (expected a year from 2010 to 2050)\n"


EDITION_2027 = """\
# The same publisher a year on: base year 2026, horizon 2031.
anchors:
  base_size: {year: 2026, value: 19.68}
  next_size: {year: 2027, value: 21.47}
  historic_growth: {from_year: 2026, to_year: 2027, value: 0.091}
  horizon_size: {year: 2031, value: 30.42}
  forecast_cagr: {from_year: 2027, to_year: 2031, value: 0.091}
"""


def test_diff_aligns_two_editions_by_calendar_year(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "2026.yaml").write_text("{}\n", encoding="utf-8")
    (tmp_path / "2027.yaml").write_text(EDITION_2027, encoding="utf-8")
    code, out, _ = run(
        capsys, "assumptions", "diff", str(tmp_path / "2026.yaml"), str(tmp_path / "2027.yaml"), "--json"
    )
    payload = json.loads(out)
    assert code == 0
    changes = {c["key"]: (c["first"], c["second"]) for c in payload["changes"]}
    # 2026's size is in both editions and the same: not a change, though it moved from next to base year.
    assert "anchor: market size 2026" not in changes
    assert changes["anchor: market size 2025"] == (18.08, None)
    assert changes["anchor: market size 2031"] == (None, 30.42)
    assert changes["anchor: CAGR 2026-2030"] == (0.091, None) and changes["anchor: CAGR 2027-2031"] == (
        None,
        0.091,
    )
    # Shares compare in the later base year: the new edition's assumption against the old one's model.
    old_share = default_market().share(2026, "Asia-Pacific")
    assert changes["dimensions.region.Asia-Pacific.share 2026"] == (old_share, 0.205)
    years = {row["year"]: row for row in payload["years"]}
    assert list(years) == list(range(2025, 2032))
    new, old = market_for(tmp_path / "2027.yaml"), default_market()
    for year, row in years.items():
        assert (row["first"], row["second"]) == (old.forecast(year), new.forecast(year))
    assert (years[2026]["first_status"], years[2026]["second_status"]) == ("published", "published")
    assert (years[2030]["first_status"], years[2030]["second_status"]) == ("published", "interpolated")
    assert (years[2031]["first_status"], years[2031]["second_status"]) == ("extrapolated", "published")
    code, out, _ = run(
        capsys, "assumptions", "diff", str(tmp_path / "2026.yaml"), str(tmp_path / "2027.yaml")
    )
    assert "Market by calendar year, USD bn" in out
    assert header(out, 1) == ["year", "2026.yaml", "status", "2027.yaml", "status", "change"]
    assert ["2031", "30.29", "extrapolated", "30.42", "published", "0.4%"] in rows(out)


@pytest.mark.parametrize("width", ["60", "80", "200"])
def test_the_diffs_columns_are_named_after_the_files_whole_on_any_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: str
) -> None:
    """Headers were the whole paths, cut to their first characters; now the names, never cut to '…'."""
    deep = tmp_path.joinpath(*["a-long-folder-name"] * 6)
    deep.mkdir(parents=True)
    (deep / "2026.yaml").write_text("{}\n", encoding="utf-8")
    (deep / "2027.yaml").write_text(EDITION_2027, encoding="utf-8")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich treats the output as a terminal this wide
    monkeypatch.setenv("COLUMNS", width)
    code, out, _ = run(capsys, "assumptions", "diff", str(deep / "2026.yaml"), str(deep / "2027.yaml"))
    assert code == 0 and "…" not in out
    assert header(out, 0) == ["assumption", "2026.yaml", "2027.yaml"]
    assert header(out, 1) == ["year", "2026.yaml", "status", "2027.yaml", "status", "change"]


def test_two_files_of_one_name_are_told_apart_by_their_folders() -> None:
    assert edition_labels(Path("/x/2026/set.yaml"), Path("/x/2027/set.yaml")) == (
        "2026/set.yaml",
        "2027/set.yaml",
    )
    assert edition_labels(Path("set.yaml"), Path("old/set.yaml")) == ("set.yaml", "old/set.yaml")
    assert edition_labels(Path("/x/a.yaml"), Path("/y/b.yaml")) == ("a.yaml", "b.yaml")


def market_for_file(path: Path):  # type: ignore[no-untyped-def]
    from xl_addin.model import market_for

    return market_for(path)


def test_assumptions_show_lists_what_overrides_changed_against_the_set_as_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The engine's record of --set: each key, its value in the set and in force; none moved, none listed."""
    code, out, _ = run(
        capsys, "assumptions", "show", "--set", "cagr=0.10", "--set", "share.APAC=25%", "--json"
    )
    assert code == 0
    shown = json.loads(out)
    assert shown["set_hash"] == default_market().assumptions.hash != shown["assumption_hash"]
    assert shown["overrides"] == [
        {"key": "cagr", "in_set": default_market().calibrated_growth, "in_force": 0.1},
        {"key": "share.Asia-Pacific", "in_set": 0.205, "in_force": 0.25},
    ]
    code, out, _ = run(capsys, "assumptions", "show", "--set", "share.APAC=0.205", "--json")
    assert json.loads(out)["overrides"] == []  # the value already there changes nothing
    # Overriding again keeps the value in the set as read; giving it back leaves the record.
    again = with_overrides(market_for(None, "cagr=0.10").assumptions, "cagr=0.12; long_run_growth=0.03")
    assert [(o.key, o.in_force) for o in again.overridden] == [("cagr", 0.12), ("long_run_growth", 0.03)]
    assert again.overridden[0].in_set == default_market().calibrated_growth
    back = with_overrides(again, {"long_run_growth": 0.045})
    assert [o.key for o in back.overridden] == ["cagr"] and back.set_hash == again.set_hash


def test_a_back_cast_from_a_later_figure_has_one_word_on_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "forecast", "2020", "--set", "basis=gvr", "--json")
    forecast = json.loads(out)
    _, out, _ = run(capsys, "estimates", "2020", "--json")
    (gvr,) = [e for e in json.loads(out)["estimates"] if e["key"] == "gvr"]
    assert forecast["status"] == "back-cast (basis: gvr)" and gvr["status"] == "back-cast (publisher CAGR)"
    assert forecast["value"] == gvr["value"]
    _, out, _ = run(capsys, "series", "2023", "2033", "--set", "basis=consensus", "--json")
    assert {p["status"] for p in json.loads(out)} == {"consensus median (basis: consensus)"}


def test_warnings_reach_stderr_and_leave_json_and_the_exit_code_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    suspect = tmp_path / "suspect.yaml"
    suspect.write_text(
        textwrap.dedent(
            """\
            sources:
              reanin: {title: Market, publisher: Reanin, date: "2024", url: https://reanin.example/mio}
            estimates:
              reanin: {publisher: Reanin, source: reanin, points: {2023: 8204.48, 2030: 12500.0}}
            """
        ),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "estimates", "2030", "--assumptions", str(suspect), "--json")
    assert code == 0
    assert len(json.loads(out)["estimates"]) == 6
    assert err.splitlines() == [
        "imgout: warning: Reanin: 12,500.0 (2030) is 1,083x the others' median: USD million?"
    ]
    code, _, err = run(
        capsys, "workbook", "--client", "Acme", "--assumptions", str(suspect), "--out", str(tmp_path)
    )
    assert code == 0 and "Reanin: 12,500.0 (2030)" in err
    code, _, err = run(capsys, "forecast", "2030")
    assert (code, err) == (0, "")


def test_the_consensus_says_how_many_old_estimates_it_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "estimates", "2030", "--set", "consensus_max_age=5", "--json")
    payload = json.loads(out)
    assert (payload["consensus"]["count"], payload["consensus"]["excluded"]) == (4, 1)
    (gvr,) = [e for e in payload["estimates"] if e["key"] == "gvr"]  # still listed, with its vintage
    assert (gvr["source"]["date"], gvr["source"]["base_year"]) == ("2020", 2019)
    _, out, _ = run(capsys, "estimates", "2030", "--set", "consensus_max_age=5")
    assert "Consensus 2030: 4 publishers (1 older than 5 years left out)," in " ".join(out.split())
    _, out, _ = run(capsys, "estimates", "2030", "--json")
    assert json.loads(out)["consensus"]["excluded"] == 0


def test_tbrcs_row_is_the_models_path_and_a_decline_levels_off(capsys: pytest.CaptureFixture[str]) -> None:
    """One path per publisher (TBRC's row is the forecast, 2020 included) and a fade that never turns a
    decline into growth, as the command line shows them."""
    _, out, _ = run(capsys, "estimates", "2020", "--json")
    (tbrc,) = [e for e in json.loads(out)["estimates"] if e["key"] == "tbrc"]
    _, out, _ = run(capsys, "forecast", "2020", "--json")
    assert tbrc["value"] == json.loads(out)["value"]
    _, out, _ = run(capsys, "series", "2031", "2050", "--set", "cagr=-0.03", "--json")
    growth = [p["growth"] for p in json.loads(out)]
    assert all(g <= 1e-12 for g in growth) and abs(growth[-1]) < 1e-12


def test_every_override_key_has_a_place_in_the_record() -> None:
    """Each key --set takes (without a member name) has a canonical name and a value in the set, so the
    record of overrides can list it (consensus_max_age once had neither and ended in an internal error)."""
    from xl_addin.model.assumptions import overrides

    heads = {head for head, named in overrides._BY_HEAD if not named}
    assert heads == set(overrides._CANONICAL)
    for head in heads:
        overrides.override_value(default_market().assumptions, overrides._CANONICAL[head])
