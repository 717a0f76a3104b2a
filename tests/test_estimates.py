"""Every publisher's estimate beside the model: paths, the consensus per year, and the total following it."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import statistics

import pytest

from xl_addin.model import (
    AssumptionError,
    Market,
    assumptions_from_text,
    default_market,
    headline_line,
    market_for,
    with_overrides,
)
from xl_addin.model.assumptions import DIMENSIONS
from xl_addin.model.status import ESTIMATE_STATUSES

LR, FADE = 0.045, 10  # the default long-run growth and fade years


def faded(value: float, start: float, years: int) -> float:
    """`value` carried `years` years past its last point, the growth fading from `start` to LR."""
    for k in range(1, years + 1):
        value *= 1 + LR + (start - LR) * max(0.0, 1 - k / FADE)
    return value


# What each page says, and each default estimate's value in a year, worked out by hand from the page's
# figures and the rules of xl_addin.model.estimates (not by the engine).
PUBLISHED = {
    "tbrc": {2025: "18.08", 2026: "19.68", 2030: "27.88"},
    "techsci": {2025: "12.91", 2031: "26.07"},
    "360iresearch": {2024: "7.61", 2025: "8.07", 2032: "12.21"},
    "marketus": {2023: "8.6", 2033: "13.1"},
    "gvr": {2027: "9.31"},
}
BY_HAND: dict[int, dict[str, float | None]] = {
    2025: {
        "tbrc": None,  # one path per publisher: TBRC's is the model's own (its calibrated path)
        "techsci": 12.91,
        "360iresearch": 8.07,
        "marketus": 13.1 / 1.043**8,  # within its CAGR period 2024-2033, back from 2033
        "gvr": 9.31 / 1.048**2,  # back from its only point at its CAGR
    },
    2027: {
        "tbrc": None,
        "techsci": 26.07 / 1.1243**4,
        "360iresearch": 12.21 / 1.0608**5,
        "marketus": 13.1 / 1.043**6,
        "gvr": 9.31,
    },
    2031: {
        "tbrc": None,
        "techsci": 26.07,
        "360iresearch": 12.21 / 1.0608,
        "marketus": 13.1 / 1.043**2,
        "gvr": faded(9.31, 0.048, 4),
    },
    2035: {
        "tbrc": None,
        "techsci": faded(26.07, 0.1243, 4),
        "360iresearch": faded(12.21, 0.0608, 3),
        "marketus": faded(13.1, 0.043, 2),
        "gvr": faded(9.31, 0.048, 8),
    },
}


@pytest.fixture(scope="module")
def market() -> Market:
    return default_market()


def test_each_publishers_published_points_are_reproduced_at_their_precision(market: Market) -> None:
    for key, points in PUBLISHED.items():
        estimate = market.assumptions.estimates[key]
        assert estimate.source in market.assumptions.sources and estimate.kind == "published"
        for year, printed in points.items():
            (row,) = [e for e in market.estimates(year) if e.key == key]
            assert row.status == "published"
            assert f"{row.value:.{estimate.decimals[year]}f}" == printed
            assert estimate.shown(year) == printed


def test_published_cagrs_hold_over_their_periods_where_the_path_follows_them(market: Market) -> None:
    def path_cagr(key: str, first: int, last: int) -> float:
        a, b = (market.estimate_series(key, y, y)[0].value for y in (first, last))
        return (b / a) ** (1 / (last - first)) - 1

    assert f"{path_cagr('techsci', 2026, 2031):.4f}" == "0.1243"
    assert f"{path_cagr('marketus', 2024, 2033):.3f}" == "0.043"
    assert f"{path_cagr('360iresearch', 2026, 2032):.4f}" == "0.0608"
    assert f"{path_cagr('gvr', 2020, 2027):.3f}" == "0.048"
    assert f"{path_cagr('tbrc', 2026, 2030):.3f}" == "0.091"


@pytest.mark.parametrize("year", sorted(BY_HAND))
def test_every_estimate_and_the_consensus_match_values_worked_out_by_hand(market: Market, year: int) -> None:
    expected = {k: market.forecast(year) if v is None else v for k, v in BY_HAND[year].items()}
    rows = {e.key: e for e in market.estimates(year)}
    assert list(rows) == list(expected)  # in the order of the assumption set
    for key, value in expected.items():
        assert rows[key].value == pytest.approx(value, rel=1e-12)
    c = market.consensus(year)
    values = list(expected.values())
    assert (c.year, c.count) == (year, 5)
    assert c.minimum == pytest.approx(min(values), rel=1e-12)
    assert c.median == pytest.approx(statistics.median(values), rel=1e-12)
    assert c.maximum == pytest.approx(max(values), rel=1e-12)
    assert c.model == market.forecast(year)
    assert c.model_ratio == pytest.approx(market.forecast(year) / statistics.median(values), rel=1e-12)


def test_the_default_consensus_in_figures(market: Market) -> None:
    c = market.consensus(2025)
    assert (c.count, round(c.minimum, 2), round(c.median, 2), round(c.maximum, 2)) == (5, 8.07, 9.35, 18.08)
    # The model follows TBRC: the largest estimate, about twice the median; TBRC is not ranked against itself.
    assert (c.model_rank, round(c.model_ratio, 2), c.in_span) == (1, 1.93, 4)
    c = market.consensus(2031)
    assert (c.count, c.model_rank, c.in_span) == (5, 1, 3)  # TechSci 26.07 in 2031 is below the model


def test_statuses_say_how_each_value_was_made(market: Market) -> None:
    status = {(e.key, e.year): e.status for y in (2020, 2025, 2028, 2034) for e in market.estimates(y)}
    assert status["marketus", 2028] == "interpolated"
    assert status["techsci", 2028] == "interpolated"
    assert status["gvr", 2025] == "back-cast (publisher CAGR)"  # from its 2027 figure at its CAGR
    assert status["tbrc", 2034] == "extrapolated (publisher CAGR, fading)"  # after its CAGR's period
    assert status["360iresearch", 2020] == "back-cast (publisher CAGR)"
    faded_set = market_for(None, "long_run_growth=0.03")
    assert [e.status for e in faded_set.estimates(2034) if e.key == "tbrc"] == [
        "extrapolated (publisher CAGR, fading, override)"
    ]


def test_every_estimate_status_is_one_of_the_estimate_statuses(market: Market) -> None:
    acme = Market(assumptions_from_text(ACME, "acme.yaml"))  # a CAGR from its only figure: 2031-2035
    seen = {e.status for m in (market, acme) for y in m.year_list for e in m.estimates(y)}
    assert seen == set(ESTIMATE_STATUSES)


ACME = """
sources:
  acme: {title: Imaging Outsourcing Outlook, publisher: Acme Research, date: "2026-01", url: https://acme.example/outlook}
estimates:
  acme:
    publisher: Acme Research
    source: acme
    points: {2030: 20.0}
    cagr: {from: 2030, to: 2035, value: 0.05}
"""


def test_an_estimate_added_by_a_user_file_changes_the_consensus_as_expected(market: Market) -> None:
    acme = Market(assumptions_from_text(ACME, "acme.yaml"))
    for year in (2025, 2030, 2033):
        before = [e.value for e in market.estimates(year)]
        # One point, a CAGR starting at it: Acme's value is 20.0 (1.05)^(year - 2030) up to 2035.
        mine = 20.0 * 1.05 ** (year - 2030)
        (row,) = [e for e in acme.estimates(year) if e.key == "acme"]
        assert row.value == pytest.approx(mine, rel=1e-12)
        assert row.source.publisher == "Acme Research"
        c = acme.consensus(year)
        assert c.count == 6
        assert c.median == pytest.approx(statistics.median([*before, mine]), rel=1e-12)
        assert c.maximum == pytest.approx(max([*before, mine]), rel=1e-12)
    assert [e.status for e in acme.estimates(2030) if e.key == "acme"] == ["published"]
    assert [e.status for e in acme.estimates(2033) if e.key == "acme"] == ["extrapolated (publisher CAGR)"]
    # After its CAGR period the path fades from 5 % like every other, and says so; a long-run override
    # moves only the fading years.
    assert [e.status for e in acme.estimates(2036) if e.key == "acme"] == [
        "extrapolated (publisher CAGR, fading)"
    ]
    moved = Market(with_overrides(acme.assumptions, "long_run_growth=0.03"))
    assert [e.status for e in moved.estimates(2033) if e.key == "acme"] == ["extrapolated (publisher CAGR)"]
    assert [e.status for e in moved.estimates(2036) if e.key == "acme"] == [
        "extrapolated (publisher CAGR, fading, override)"
    ]
    (after,) = [e.value for e in acme.estimates(2036) if e.key == "acme"]
    (before_fade,) = [e.value for e in acme.estimates(2035) if e.key == "acme"]
    assert after / before_fade - 1 == pytest.approx(LR + (0.05 - LR) * 0.4, rel=1e-12)


def test_a_single_point_with_a_cagr_period_ending_at_it_goes_back_at_that_rate() -> None:
    text = ACME.replace("cagr: {from: 2030, to: 2035, value: 0.05}", "cagr: {to: 2030, value: 0.05}")
    acme = Market(assumptions_from_text(text, "acme.yaml"))
    (row,) = [e for e in acme.estimates(2027) if e.key == "acme"]
    assert row.value == pytest.approx(20.0 / 1.05**3, rel=1e-12)
    assert row.status == "back-cast (publisher CAGR)"


def test_a_user_entry_replaces_the_default_entry_whole_and_null_removes_one(market: Market) -> None:
    mine = Market(
        assumptions_from_text(
            "estimates:\n  techsci: {publisher: TechSci Research, source: techsci, "
            "points: {2025: 13.0, 2030: 20.0}}\n  gvr: null\n",
            "mine.yaml",
        )
    )
    assert list(mine.assumptions.estimates) == ["tbrc", "techsci", "360iresearch", "marketus"]
    assert mine.assumptions.estimates["techsci"].cagrs == ()  # not merged with the default's 12.43 %
    assert mine.consensus(2025).count == 4


BAD_ESTIMATES = [
    (
        "estimates:\n  acme: {publisher: Acme, source: nowhere, points: {2030: 20.0}, cagr: {to: 2030, value: 0.05}}\n",
        "estimates.acme.source: unknown source 'nowhere' (defined: tbrc, techsci",
    ),
    (
        "estimates:\n  acme: {publisher: Acme, source: tbrc, points: {2025: 10.0, 2030: -20.0}}\n",
        "estimates.acme.points.2030: a market size must be positive, got -20",
    ),
    (
        "estimates:\n  acme: {publisher: Acme, source: tbrc, points: {}}\n",
        "estimates.acme.points: no published point",
    ),
    (
        "estimates:\n  acme: {publisher: Acme, source: tbrc}\n",
        "estimates.acme.points: no published point",
    ),
    (
        "estimates:\n  acme: {publisher: Acme, source: tbrc, points: {2025: 10.0, 2030: 20.0}, "
        "cagr: {from: 2026, to: 2029, value: 0.1}}\n",
        "estimates.acme.cagr: the period 2026-2029 touches none of the published years (2025, 2030)",
    ),
    (
        "estimates:\n  acme: {publisher: Acme, source: tbrc, points: {2030: 20.0}}\n",
        "estimates.acme.cagr: missing: one published point needs a CAGR",
    ),
    (
        "estimates:\n  acme: {publisher: A, source: tbrc, points: {2030: 2.0}, cagr: {to: 2030, value: 0.1}}\n"
        "  acme: {publisher: B, source: tbrc, points: {2030: 3.0}, cagr: {to: 2030, value: 0.1}}\n",
        "line 3: the key 'acme' is given twice (YAML would keep only the last)",
    ),
    (
        "estimates:\n  TechSci: {publisher: T, source: techsci, points: {2030: 2.0}, cagr: {to: 2030, value: 0.1}}\n",
        "estimates.TechSci: duplicate id: 'TechSci' and 'techsci' name the same estimate",
    ),
    (
        "estimates:\n  acme: {publisher: Acme, source: tbrc, points: {2060: 20.0}, cagr: {to: 2060, value: 0.1}}\n",
        "estimates.acme.points.2060: 2060 is outside the model's years 2010 to 2050",
    ),
    (
        "estimates:\n  consensus: {publisher: Me, source: tbrc, points: {2030: 2.0}, cagr: {to: 2030, value: 0.1}}\n",
        "'consensus' is reserved",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_ESTIMATES, ids=[e for _, e in BAD_ESTIMATES])
def test_a_malformed_estimate_gets_one_line_naming_the_file_and_key(text: str, expected: str) -> None:
    with pytest.raises(AssumptionError) as caught:
        assumptions_from_text(text, "estimates.yaml")
    message = str(caught.value)
    assert message.startswith("Invalid assumptions in estimates.yaml: ")
    assert expected in message
    assert "\n" not in message


# ------------------------------------------------------------------------------------------ basis


def test_basis_consensus_makes_the_total_the_consensus_median_in_every_year(market: Market) -> None:
    consensus = market_for(None, "basis=consensus")
    assert consensus.basis == "consensus"
    for year in range(2025, 2036):
        total = consensus.forecast(year)
        assert total == market.consensus(year).median  # the same number, not merely close
        assert consensus.consensus(year).model_ratio == 1.0
        for dim in DIMENSIONS:
            parts = math.fsum(r.value for r in consensus.breakdown(year, dim))
            assert abs(parts / total - 1) <= 1e-12
        assert consensus.status(year).endswith("(basis: consensus)")
        assert consensus.status(year, region="APAC").endswith("total, assumed split (basis: consensus)")
    # The median is Market.us's value (interpolated in 2025, published in 2023 and 2033): a median all the same.
    assert consensus.status(2025) == consensus.status(2033) == "consensus median (basis: consensus)"
    assert consensus.status(2035) == "extrapolated (basis: consensus)"
    assert consensus.status(2030, "bull") == "projected (bull, basis: consensus)"
    assert not any(s.startswith("published") for s in (consensus.status(y) for y in consensus.year_list))


def test_under_another_basis_splits_drivers_and_scenarios_are_unchanged(market: Market) -> None:
    techsci = market_for(None, "basis=TechSci")
    assert techsci.basis == "techsci"
    assert techsci.forecast(2025) == 12.91 and techsci.forecast(2031) == 26.07
    assert techsci.status(2025) == "published (basis: techsci)"
    assert techsci.status(2028) == "interpolated (basis: techsci)"
    assert techsci.status(2031, "bear") == "projected (bear, basis: techsci)"
    assert techsci.share(2030, "APAC") == market.share(2030, "APAC")
    assert techsci.scenario_growth == market.scenario_growth
    # The drivers are the model's; only the price-and-mix residual is re-solved, so the bridge multiplies
    # back to the growth of the path the total follows (the model's own keeps its calibrated residual).
    for s in ("bear", "base", "bull"):
        moved, own = techsci.bridge(s), market.bridge(s)
        assert moved[:2] == own[:2]
        assert math.prod(1 + f.growth for f in moved) - 1 == pytest.approx(
            techsci.cagr(2026, 2030, scenario=s)
        )
        assert moved[2].growth == techsci.bridge_residual(s) != market.bridge_residual(s)
    # Scenarios keep their growth difference to base in every forecast year.
    for year in range(2027, 2031):
        for s in ("bear", "bull"):
            growth = techsci.growth(year, scenario=s) - techsci.growth(year)
            assert growth == pytest.approx(market.scenario_growth[s] - market.forecast_growth, abs=1e-12)
            assert techsci.growth_difference(s) == market.scenario_growth[s] - market.forecast_growth
    # After the horizon the difference fades with the growth: b(t) + D w(t).
    for year in range(2031, 2045):
        w = techsci.fade_weight(year)
        assert techsci.growth(year, scenario="bull") - techsci.growth(year) == pytest.approx(
            techsci.growth_difference("bull") * w, abs=1e-12
        )
    for year in range(2010, 2027):
        assert techsci.forecast(year, scenario="bull") == techsci.forecast(year)


def test_the_default_basis_is_the_models_own_calibrated_path(market: Market) -> None:
    assert market.basis == "tbrc"
    named = market_for(None, "basis=tbrc")
    assert named.forecast(2030) == market.forecast(2030) and named.status(2030) == "published"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ("basis=mystery", "unknown basis 'mystery' (allowed: tbrc, consensus, techsci, 360iresearch"),
        ("basis=consensus; cagr=0.1", "with basis consensus the total follows that path"),
        ("basis=gvr; extrapolation_growth=0.05", "extension.extrapolation_growth set the model's own path"),
    ],
)
def test_a_basis_that_cannot_apply_is_refused_in_one_line(overrides: str, expected: str) -> None:
    with pytest.raises(AssumptionError, match=re.escape(expected)):
        market_for(None, overrides)


def test_consensus_lookups_are_cached(market: Market) -> None:
    assert market.consensus(2030) is market.consensus(2030) is market.consensus(2030.0)


@pytest.mark.parametrize("basis", ["tbrc", "techsci", "360iresearch", "marketus", "gvr", "acme"])
def test_a_publishers_value_has_the_same_word_in_forecast_and_in_estimates(basis: str) -> None:
    """One rule: the word the total takes following a publisher is the word of that publisher's status."""
    following = Market(with_overrides(assumptions_from_text(ACME, "acme.yaml"), f"basis={basis}"))
    for year in following.year_list:
        (estimate,) = [e for e in following.estimates(year) if e.key == basis]
        word = following.status(year).split(" (")[0]
        assert estimate.status.split(" (")[0] == word, year
        assert estimate.value == following.forecast(year)


def test_the_followed_publishers_row_is_the_models_path_in_every_year(market: Market) -> None:
    """One path per publisher: TBRC's row in the estimates table is the model's own, whatever the year; a
    cagr= what-if is the model's, not TBRC's, and leaves TBRC's row alone."""
    own = [e.value for y in market.year_list for e in market.estimates(y) if e.key == "tbrc"]
    assert own == [market.forecast(y) for y in market.year_list]
    assert [round(own[market.year_list.index(y)], 2) for y in (2025, 2026, 2030)] == [18.08, 19.68, 27.88]
    what_if = market_for(None, "cagr=0.05")
    assert [e.value for e in what_if.estimates(2035) if e.key == "tbrc"] == [market.forecast(2035)]
    assert what_if.forecast(2035) != market.forecast(2035)
    statuses = {y: e.status for y in (2020, 2028, 2030, 2035) for e in market.estimates(y) if e.key == "tbrc"}
    assert statuses == {
        2020: "back-cast (publisher CAGR)",
        2028: "interpolated",
        2030: "published",
        2035: "extrapolated (publisher CAGR, fading)",
    }
    moved = market_for(None, "backcast_growth=0.05")
    assert [e.status for e in moved.estimates(2020) if e.key == "tbrc"] == [
        "back-cast (publisher CAGR, override)"
    ]


SUSPECT = """
sources:
  reanin: {title: Medical Imaging Outsourcing Market, publisher: Reanin, date: "2024", url: https://reanin.example/mio}
estimates:
  reanin:
    publisher: Reanin
    source: reanin
    points: {2023: 8204.48, 2030: 12500.0}
  acme:
    publisher: Acme Research
    source: reanin
    points: {2025: 10.0, 2030: 20.0}
    cagr: {from: 2025, to: 2030, value: 0.03}
"""


def test_estimates_that_look_wrong_are_named_in_one_line_each_and_the_model_still_runs(
    market: Market,
) -> None:
    suspect = Market(assumptions_from_text(SUSPECT, "suspect.yaml"))
    assert suspect.warnings() == (
        "Acme Research: 10.0 (2025) -> 20.0 (2030) is 14.9 % a year; its CAGR 2025-2030 says 3 %",
        "Reanin: 8,204.48 (2023) is 910x the others' median: USD million?",
    )
    assert suspect.consensus(2030).count == 7  # a warning never stops a run
    assert market.warnings() == ()  # every default publisher agrees with its own CAGR, in USD bn


def test_a_cagr_is_checked_with_the_anchors_interval_rule() -> None:
    """18.08 -> 19.68 is 8.85 % a year, printed 8.9 %: inside the intervals the printed digits stand for,
    as the calibration takes them; 8.7 % is not."""

    def warned(cagr: str) -> tuple[str, ...]:
        text = SUSPECT.split("estimates:")[0] + (
            "estimates:\n  one:\n    publisher: One\n    source: reanin\n"
            f"    points: {{2025: 18.08, 2026: 19.68}}\n    cagr: {cagr}\n"
        )
        return Market(assumptions_from_text(text, "one.yaml")).warnings()

    assert warned("{from: 2025, to: 2026, value: 0.089}") == ()
    assert warned("{to: 2026, value: 0.089}") == ()  # no start: from the figure before, as the path runs
    assert warned("{from: 2025, to: 2026, value: 0.087}") == (
        "One: 18.08 (2025) -> 19.68 (2026) is 8.85 % a year; its CAGR 2025-2026 says 8.7 %",
    )


DECLINING = """
estimates:
  shrinking:
    publisher: Shrinking Research
    source: tbrc
    points: {2025: 18.5}
    cagr: {from: 2025, to: 2030, value: -0.027}
"""


def test_a_fade_never_reverses_a_published_trend() -> None:
    """A published -2.7 % a year levels off after its CAGR's period instead of fading up to +4.5 %; a
    growing path still fades to the long-run rate; the model's own path under a negative what-if too."""
    market = Market(assumptions_from_text(DECLINING, "declining.yaml"))
    path = [e.value for e in market.estimate_series("shrinking", 2030, 2050)]
    assert path[0] == pytest.approx(18.5 * 0.973**5, rel=1e-12)
    growth = [b / a - 1 for a, b in itertools.pairwise(path)]
    assert all(g <= 0 for g in growth) and growth[-1] == pytest.approx(0.0, abs=1e-15)
    assert growth[0] == pytest.approx(-0.027 * 0.4, rel=1e-12)  # six years of ten after its 2025 figure
    techsci = [e.value for e in market.estimate_series("techsci", 2041, 2042)]
    assert techsci[1] / techsci[0] - 1 == pytest.approx(LR, rel=1e-12)
    what_if = market_for(None, "cagr=-0.03")
    assert [what_if.growth(y) for y in (2031, 2040, 2050)] == pytest.approx([-0.027, 0.0, 0.0], abs=1e-12)


def test_every_source_carries_its_vintage_and_grand_views_says_2020(market: Market) -> None:
    sources = market.assumptions.sources
    for key, e in market.assumptions.estimates.items():
        source = sources[e.source]
        assert source.vintage is not None or source.date == "undated", key
    assert (sources["gvr"].vintage, sources["gvr"].base_year) == (2020, 2019)
    assert (sources["360iresearch"].vintage, sources["360iresearch"].base_year) == (None, 2024)
    assert sources["tbrc"].vintage == 2026 and sources["marketus"].vintage == 2025


@pytest.mark.parametrize(
    ("max_age", "left_out"), [(None, ()), (10, ()), (5, ("gvr",)), (1, ("gvr",)), (0, ("marketus", "gvr"))]
)
def test_consensus_max_age_leaves_out_estimates_older_than_the_newest_by_more_than_n_years(
    market: Market, max_age: int | None, left_out: tuple[str, ...]
) -> None:
    """Ages are counted from the newest vintage among the estimates' sources (TBRC's 2026), not from the
    clock; an undated page (TechSci, 360iResearch) has no known age and stays in."""
    aged = market_for(None, None if max_age is None else f"consensus_max_age={max_age}")
    assert aged.consensus_excluded() == left_out
    kept = [e.value for e in market.estimates(2030) if e.key not in left_out]
    c = aged.consensus(2030)
    assert (c.count, c.excluded) == (len(kept), len(left_out))
    assert c.median == statistics.median(kept)
    if left_out:
        following = market_for(None, f"consensus_max_age={max_age}; basis=consensus")
        assert following.forecast(2030) == c.median


def test_the_headline_line_names_figure_scenario_basis_and_the_consensus_of_that_year() -> None:
    """One line, built once, for every face: the figure in the pack's units, the scenario when it is not
    base, the basis the total follows, then the publishers' count, median and range of the same year."""
    m = market_for(None, "basis=TechSci")
    c = m.consensus(2028)
    line = headline_line(m, 2028, "bull", "mn")
    assert line.figure == f"USD {m.forecast(2028, scenario='bull') * 1000:,.0f} mn"
    assert (line.scenario, line.basis) == ("bull scenario", "basis: techsci")
    assert line.consensus == (
        f"5 publishers' median {c.median * 1000:,.0f}, range {c.minimum * 1000:,.0f}-{c.maximum * 1000:,.0f}"
    )
    assert str(line) == line.text == f"{line.figure} (bull scenario, basis: techsci); {line.consensus}"
    assert line.beside == f"basis: techsci; {line.consensus}"
    # A set without publishers' estimates: the figure and its basis alone.
    bare = Market(dataclasses.replace(m.assumptions, estimates={}, basis=None))
    assert headline_line(bare, 2030).text == "USD 27.88 bn (basis: tbrc)"
    assert headline_line(bare, 2030).beside == "basis: tbrc"
