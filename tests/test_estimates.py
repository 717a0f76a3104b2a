"""Every publisher's estimate beside the model: paths, the consensus per year, and the total following it."""

from __future__ import annotations

import dataclasses
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
BY_HAND = {
    2025: {
        "tbrc": 18.08,
        "techsci": 12.91,
        "360iresearch": 8.07,
        "marketus": 13.1 / 1.043**8,  # within its CAGR period 2024-2033, back from 2033
        "gvr": 9.31 / 1.048**2,  # back from its only point at its CAGR
    },
    2027: {
        "tbrc": 19.68 * (27.88 / 19.68) ** 0.25,
        "techsci": 26.07 / 1.1243**4,
        "360iresearch": 12.21 / 1.0608**5,
        "marketus": 13.1 / 1.043**6,
        "gvr": 9.31,
    },
    2031: {
        "tbrc": faded(27.88, 0.091, 1),
        "techsci": 26.07,
        "360iresearch": 12.21 / 1.0608,
        "marketus": 13.1 / 1.043**2,
        "gvr": faded(9.31, 0.048, 4),
    },
    2035: {
        "tbrc": faded(27.88, 0.091, 5),
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
    expected = BY_HAND[year]
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
    assert status["gvr", 2025] == "extrapolated (publisher CAGR)"
    assert status["tbrc", 2034] == "extrapolated (publisher CAGR, fading)"  # after its CAGR's period
    assert status["360iresearch", 2020] == "extrapolated (publisher CAGR)"
    faded_set = market_for(None, "long_run_growth=0.03")
    assert [e.status for e in faded_set.estimates(2034) if e.key == "tbrc"] == [
        "extrapolated (publisher CAGR, fading, override)"
    ]


def test_every_estimate_status_is_one_of_the_estimate_statuses(market: Market) -> None:
    seen = {e.status for y in market.year_list for e in market.estimates(y)}
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
    assert row.status == "extrapolated (publisher CAGR)"


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
    assert (
        consensus.status(2025) == "interpolated (basis: consensus)"
    )  # the median is Market.us, interpolated
    assert consensus.status(2035) == "extrapolated (basis: consensus)"
    assert consensus.status(2030, "bull") == "interpolated (bull, basis: consensus)"


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
