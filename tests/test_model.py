"""The engine reproduces the published report and keeps its promises in every year and scenario."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import yaml

from xl_addin.common.formats import money, percent
from xl_addin.model import InvalidArgument, Market, default_market, market_for
from xl_addin.model.assumptions import DIMENSIONS


@pytest.fixture(scope="module")
def market() -> Market:
    return default_market()


def test_every_published_anchor_is_reproduced_at_its_published_precision(market: Market) -> None:
    assert money(market.forecast(2025)) == "18.08"
    assert money(market.forecast(2026)) == "19.68"
    assert percent(market.cagr(2025, 2026)) == "8.9%"
    assert money(market.forecast(2030)) == "27.88"
    assert percent(market.cagr(2026, 2030)) == "9.1%"
    assert f"{market.cagr(2026, 2030):.3f}" == "0.091"


def test_calibration_reports_residuals_inside_every_published_interval(market: Market) -> None:
    residuals = market.calibration.residuals
    assert [r.anchor.key for r in residuals] == [
        "base_size",
        "next_size",
        "historic_growth",
        "horizon_size",
        "forecast_cagr",
    ]
    for r in residuals:
        assert r.reproduced
        assert abs(r.in_last_digits) < 0.5
    # The published 18.08 and 19.68 give 8.85 %, which rounds to 8.8 %: the 2025 value must be lower.
    assert market.calibration.base_size < 19.68 / 1.0885


def test_every_year_says_what_it_is(market: Market) -> None:
    assert market.status(2020) == "back-cast"
    assert market.status(2025) == "published"
    assert market.status(2026) == "published"
    assert [market.status(y) for y in (2027, 2028, 2029)] == ["interpolated"] * 3
    assert market.status(2030) == "published"
    assert market.status(2031) == "extrapolated"
    assert market.status(2030, "bull") == "projected (bull)"
    assert market.status(2028, "bear") == "interpolated (bear)"
    assert market.first_year <= 2020 and market.last_year >= 2040


def test_back_cast_and_extrapolation_follow_the_calibrated_rates(market: Market) -> None:
    hist = market.calibration.historic_growth
    assert market.forecast(2024) == pytest.approx(market.forecast(2025) / (1 + hist), rel=1e-12)
    assert market.forecast(2031) / market.forecast(2030) - 1 == pytest.approx(
        market.forecast_growth, rel=1e-12
    )


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_members_of_a_dimension_sum_to_the_total_in_every_year_and_scenario(
    market: Market, dimension: str
) -> None:
    for scenario in market.scenario_names:
        for year in market.year_list:
            rows = market.breakdown(year, dimension, scenario)
            total = market.forecast(year, scenario=scenario)
            assert math.fsum(r.value for r in rows) == pytest.approx(total, rel=1e-12)
            assert math.fsum(r.share for r in rows) == pytest.approx(1.0, rel=1e-12)


def test_north_america_is_largest_in_2025_and_asia_pacific_grows_fastest(market: Market) -> None:
    regions = market.breakdown(2025, "region")
    assert max(regions, key=lambda r: r.value).member == "North America"
    growth = {r: market.cagr(2026, 2030, region=r) for r in market.members("region")}
    assert max(growth, key=growth.__getitem__) == "Asia-Pacific"


def test_bear_below_base_below_bull_in_every_forecast_year(market: Market) -> None:
    for year in range(market.next_year + 1, market.last_year + 1):
        bear, base, bull = (market.forecast(year, scenario=s) for s in ("bear", "base", "bull"))
        assert bear < base < bull, year
    for year in range(market.first_year, market.next_year + 1):
        assert (
            market.forecast(year, scenario="bear")
            == market.forecast(year)
            == market.forecast(year, scenario="bull")
        )


def test_base_bridge_multiplies_back_to_the_calibrated_growth(market: Market) -> None:
    bridge = market.bridge()
    assert [f.factor for f in bridge] == ["volume", "penetration", "price"]
    product = math.prod(1 + f.growth for f in bridge) - 1
    assert product == pytest.approx(market.calibration.forecast_cagr, rel=1e-14, abs=1e-15)
    volume = dict(bridge[0].drivers)
    assert volume["imaging_volume"] == 0.022
    assert volume["hospital_infrastructure"] == 0.00591


def test_a_scenario_moves_only_its_drivers_and_the_forecast_years(market: Market) -> None:
    bull = market.bridge("bull")
    assert dict(bull[0].drivers)["imaging_volume"] == 0.032
    assert bull[2].growth == market.bridge()[2].growth  # the residual price factor is shared
    assert market.forecast(2030, scenario="bull") == pytest.approx(
        market.calibration.next_size * math.prod(1 + f.growth for f in bull) ** 4, rel=1e-12
    )


def test_a_region_and_a_segment_combine_as_a_product_of_shares(market: Market) -> None:
    value = market.forecast(2030, "APAC", "CT")
    expected = market.forecast(2030) * market.share(2030, "Asia-Pacific") * market.share(2030, "CT")
    assert value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("APAC", "Asia-Pacific"),
        ("na", "North America"),
        ("US", "North America"),
        ("asia pacific", "Asia-Pacific"),
    ],
)
def test_member_names_are_case_insensitive_with_aliases(market: Market, alias: str, canonical: str) -> None:
    assert market.region(alias) == canonical
    assert market.forecast(2030, alias) == market.forecast(2030, canonical)


def test_a_near_miss_gets_a_suggestion(market: Market) -> None:
    with pytest.raises(InvalidArgument, match=r"did you mean 'Asia-Pacific'\?"):
        market.forecast(2030, "Asia Pacfic")


def test_an_ambiguous_segment_asks_for_the_dimension() -> None:
    m = market_for(None)
    assert m.segment("modality:other") == ("modality", "Other modalities")
    assert m.segment("end_user:other end users") == ("end_user", "Other end users")


def test_overrides_give_a_new_set_with_its_own_hash(market: Market) -> None:
    faster = market_for(None, "cagr=0.10")
    assert faster.assumption_hash != market.assumption_hash
    assert faster.forecast(2030) == pytest.approx(market.forecast(2026) * 1.1**4, rel=1e-12)
    assert faster.status(2030) == "projected (override)"
    assert math.prod(1 + f.growth for f in faster.bridge()) - 1 == pytest.approx(0.10, rel=1e-12)
    bigger = market_for(None, "share.Asia-Pacific=0.25")
    assert bigger.share(2025, "APAC") == pytest.approx(0.25)
    assert sum(bigger.share(2025, r) for r in bigger.members("region")) == pytest.approx(1.0, rel=1e-12)
    # The other regions keep their proportions.
    ratio = bigger.share(2025, "NA") / bigger.share(2025, "Western Europe")
    assert ratio == pytest.approx(market.share(2025, "NA") / market.share(2025, "Western Europe"))


def test_excel_style_years_are_accepted(market: Market) -> None:
    assert market.forecast(2030.0) == market.forecast(2030)


def test_monte_carlo_is_reproducible_with_a_seed_and_ordered(market: Market) -> None:
    a = market.uncertainty(paths=2000, seed=7)
    b = default_market().uncertainty(paths=2000, seed=7)
    c = market.uncertainty(paths=2000, seed=8)
    assert np.array_equal(a.p50, b.p50)
    assert not np.array_equal(a.p50, c.p50)
    assert np.all(a.p10 <= a.p50) and np.all(a.p50 <= a.p90)
    forecast = np.array(market.year_list) > market.next_year
    assert np.all(a.p10[forecast] < a.p90[forecast])
    # Up to the last published actual there is no spread.
    assert a.p10[market.year_list.index(2025)] == pytest.approx(market.forecast(2025))


def test_the_fan_is_centred_on_the_base_path(market: Market) -> None:
    p50 = market.fan(2030, 50)
    assert p50 == pytest.approx(market.forecast(2030), rel=0.01)
    assert market.fan(2030, 10) < p50 < market.fan(2030, 90)
    assert market.fan(2030, 50, "APAC") == pytest.approx(p50 * market.share(2030, "APAC"), rel=1e-12)


def test_the_tornado_swings_each_driver_between_its_low_and_high(market: Market) -> None:
    bars = market.tornado()
    assert {b.driver for b in bars} == set(market.assumptions.drivers)
    assert [b.swing for b in bars] == sorted((b.swing for b in bars), reverse=True)
    for b in bars:
        assert b.low_value < market.forecast(2030) < b.high_value


JOINT = """
joint:
  region/service:
    kind: assumed
    source: imgout
    rows:
      NA: {Reporting: 0.6, acquisition: 0.1, Archiving: 0.15, IT: 0.15}
"""


def test_a_joint_table_gives_the_segment_mix_within_a_region(market: Market) -> None:
    from xl_addin.model import assumptions_from_text

    joint = Market(assumptions_from_text(JOINT, "joint.yaml"))
    na_reporting = joint.forecast(2025, "NA", "Reporting")
    assert na_reporting == pytest.approx(joint.forecast(2025, "NA") * 0.6, rel=1e-12)
    # The mix within North America still sums to North America in every year.
    for year in (2020, 2030, 2045):
        parts = math.fsum(r.value for r in joint.breakdown(year, "service", region="NA"))
        assert parts == pytest.approx(joint.forecast(year, "NA"), rel=1e-12)
    # Regions without a row, and other dimensions, keep the product of shares.
    assert joint.forecast(2030, "APAC", "Reporting") == market.forecast(2030, "APAC", "Reporting")
    assert joint.forecast(2030, "NA", "CT") == market.forecast(2030, "NA", "CT")
    assert any(e.key == "joint.region/service.North America.Reporting" for e in joint.assumptions.entries())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("joint:\n  service/region: {rows: {}}\n", "unknown joint table (allowed: region/service"),
        (
            "joint:\n  region/service: {rows: {Mars: {Reporting: 1}}}\n",
            "joint.region/service.rows.Mars: unknown region",
        ),
        (
            "joint:\n  region/service: {rows: {NA: {Reporting: 0.6}}}\n",
            "shares sum to 0.6, they must sum to 1",
        ),
        ("joint:\n  region/service: {rows: {NA: {Dancing: 1}}}\n", "unknown member"),
    ],
)
def test_a_bad_joint_table_is_refused_naming_the_key(text: str, expected: str) -> None:
    from xl_addin.model import AssumptionError, assumptions_from_text

    with pytest.raises(AssumptionError, match=re.escape(expected)):
        assumptions_from_text(text, "joint.yaml")


def test_the_default_set_names_the_market_and_credits_its_publication(market: Market) -> None:
    definition = market.assumptions.market
    assert definition.name == "medical imaging outsourcing market"
    assert definition.source == "tbrc"
    publication = market.assumptions.publication
    assert publication.publisher == "The Business Research Company"
    # The publication credited is the one the published anchors cite.
    assert {a.source for a in market.assumptions.anchors.values() if a.kind == "published"} == {"tbrc"}
    assert definition.trends[0] == "global teleradiology reporting networks"
    assert [len(definition.trends), len(definition.forecast_factors), len(definition.historic_factors)] == [
        5
    ] * 3
    assert "shortage of radiologists" in definition.historic_factors
    # Overrides change numbers, not what the market is.
    assert market_for(None, "cagr=0.10").assumptions.market == definition


def test_a_user_file_can_describe_another_publication() -> None:
    from xl_addin.model import assumptions_from_text

    text = """
sources:
  acme: {title: Imaging Outsourcing Outlook 2026, publisher: Acme Research, date: "2026-01"}
market:
  name: imaging outsourcing market
  source: acme
  trends: [AI triage]
anchors:
  base_size: {source: acme}
"""
    mine = assumptions_from_text(text, "acme.yaml")
    assert mine.market.name == "imaging outsourcing market"
    assert mine.publication.citation() == "Acme Research, Imaging Outsourcing Outlook 2026, 2026-01"
    assert mine.market.trends == ("AI triage",)
    # Keys the file does not give come from the default.
    assert mine.market.forecast_factors == default_market().assumptions.market.forecast_factors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("market: {publisher: x}\n", "market.publisher: unknown key (allowed: name, source, trends"),
        ("market: {source: blog}\n", "market.source: unknown source 'blog' (defined: tbrc"),
        ("market: {source: ''}\n", "market.source: missing (expected one of tbrc"),
        (
            "market: {source: nhs}\n",
            "market.source: 'nhs' publishes none of the anchors (published anchors cite tbrc)",
        ),
        ("market: {name: ''}\n", "market.name: must not be empty"),
        ("market: {name: [a, b]}\n", "market.name: expected text, got a list"),
        ("market: {trends: growing}\n", "market.trends: expected a list of texts, got text 'growing'"),
        ("market: {forecast_factors: [1, 2]}\n", "market.forecast_factors: expected a list of texts"),
        ("market: [1]\n", "market: expected a mapping, got a list"),
    ],
)
def test_a_bad_market_section_is_refused_naming_the_key(text: str, expected: str) -> None:
    from xl_addin.model import AssumptionError, assumptions_from_text

    with pytest.raises(AssumptionError, match=re.escape(f"Invalid assumptions in market.yaml: {expected}")):
        assumptions_from_text(text, "market.yaml")


def test_a_wrong_top_level_value_names_its_key_as_written() -> None:
    from xl_addin.model import AssumptionError, assumptions_from_text

    with pytest.raises(AssumptionError, match=re.escape("in top.yaml: name: expected text, got a list")):
        assumptions_from_text("name: [1]\n", "top.yaml")


def test_a_standalone_file_must_say_what_market_it_describes() -> None:
    from xl_addin.model import AssumptionError, assumptions_from_text, default_assumptions

    raw = {k: v for k, v in default_assumptions().raw.items() if k != "market"}
    text = yaml.safe_dump({"replace": True, **raw})
    with pytest.raises(AssumptionError, match=re.escape("standalone.yaml: market: missing")):
        assumptions_from_text(text, "standalone.yaml")
    whole = assumptions_from_text(
        yaml.safe_dump({"replace": True, **default_assumptions().raw}), "whole.yaml"
    )
    assert whole.hash == default_assumptions().hash


def test_pandas_tables_carry_the_engines_numbers_and_provenance(market: Market) -> None:
    from xl_addin.model.tables import (
        assumptions_table,
        breakdown_table,
        fan_table,
        scenarios_table,
        series_table,
    )

    series = series_table(market, 2024, 2031, region="APAC")
    assert list(series.index) == list(range(2024, 2032))
    assert series.loc[2030, "value"] == market.forecast(2030, "APAC")
    assert series.loc[2030, "status"] == "published"
    assert series.attrs["assumption_hash"] == market.assumption_hash
    regions = breakdown_table(market, 2030, "region")
    assert regions["value"].sum() == pytest.approx(market.forecast(2030), rel=1e-12)
    assert regions.loc["Asia-Pacific", "cagr"] == pytest.approx(market.cagr(2026, 2030, "APAC"), rel=1e-12)
    scenarios = scenarios_table(market, 2025, 2035)
    assert list(scenarios.columns) == list(market.scenario_names)
    assert scenarios.loc[2030, "bull"] == market.forecast(2030, scenario="bull")
    fan = fan_table(market)
    assert fan.loc[2030, "P90"] == pytest.approx(market.fan(2030, 90), rel=1e-12)
    table = assumptions_table(market)
    assert table.loc["anchors.horizon_size", "value"] == 27.88
    assert table.loc["anchors.horizon_size", "kind"] == "published"
