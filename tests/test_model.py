"""The engine reproduces the published report and keeps its promises in every year and scenario."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from xl_addin.common.formats import money, percent
from xl_addin.model import (
    InvalidArgument,
    Market,
    default_market,
    market_for,
    parse_overrides,
    with_overrides,
)
from xl_addin.model import status as statuses
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


def test_back_cast_follows_the_calibrated_rate_and_growth_fades_to_the_long_run_rate(market: Market) -> None:
    hist = market.calibration.historic_growth
    assert market.forecast(2024) == pytest.approx(market.forecast(2025) / (1 + hist), rel=1e-12)
    g, lr, fade = market.forecast_growth, market.long_run_growth, market.fade_years
    assert (lr, fade) == (0.045, 10)
    # Year 2030 + k grows at LR + (g - LR) (1 - k / F), then at LR from 2040 on.
    for k in range(1, 21):
        expected = lr + (g - lr) * max(0.0, 1 - k / fade)
        assert market.growth(2030 + k) == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert market.post_horizon_growth(2030 + k) == pytest.approx(expected, rel=1e-15)
    # 2050 is a plausible market, not 2025 compounded at 9.1 % for ever (159 bn, 8.8x).
    assert market.forecast(2050) == pytest.approx(81.73, abs=0.01)
    assert market.forecast(2050) / market.forecast(2025) < 5


def test_extrapolation_growth_still_overrides_the_fade(market: Market) -> None:
    held = market_for(None, "extrapolation_growth=0.07")
    for year in (2031, 2035, 2050):
        assert held.growth(year) == pytest.approx(0.07, rel=1e-12)
    assert held.forecast(2030) == market.forecast(2030)
    assert held.status(2030) == "published" and held.status(2031) == "extrapolated (override)"
    assert held.status(2031, "bull") == "extrapolated (bull, override)"
    faded = market_for(None, "long_run_growth=0.03; fade_years=5")
    assert faded.growth(2035) == pytest.approx(0.03, rel=1e-12)
    assert faded.growth(2032) == pytest.approx(0.03 + (market.forecast_growth - 0.03) * 0.6, rel=1e-12)
    assert faded.status(2030) == "published" and faded.status(2032) == "extrapolated (override)"


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
        ("Americas North", "North America"),
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
            "no share for Image acquisition support, Archiving, IT management",
        ),
        (
            "joint:\n  region/service: {rows: {NA: {Reporting: 0.6, acquisition: 0.4, Archiving: 0, IT: 0}}}\n",
            "NA.Archiving: 0 is not allowed: every member needs a positive share",
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
        estimates_table,
        fan_table,
        scenarios_table,
        series_table,
    )

    series = series_table(market, 2024, 2031, region="APAC")
    assert list(series.index) == list(range(2024, 2032))
    assert series.loc[2030, "value"] == market.forecast(2030, "APAC")
    assert series.loc[2030, "status"] == "published total, assumed split"
    assert series.attrs["assumption_hash"] == market.assumption_hash
    regions = breakdown_table(market, 2030, "region")
    assert regions["value"].sum() == pytest.approx(market.forecast(2030), rel=1e-12)
    assert regions.loc["Asia-Pacific", "cagr"] == pytest.approx(market.cagr(2026, 2030, "APAC"), rel=1e-12)
    assert regions.loc["Asia-Pacific", "status"] == "published total, assumed split"
    estimates = estimates_table(market, 2030)
    assert estimates.loc["TechSci Research", "value"] == market.estimates(2030)[1].value
    assert estimates.attrs["consensus"]["median"] == market.consensus(2030).median
    scenarios = scenarios_table(market, 2025, 2035)
    assert list(scenarios.columns) == list(market.scenario_names)
    assert scenarios.loc[2030, "bull"] == market.forecast(2030, scenario="bull")
    fan = fan_table(market)
    assert fan.loc[2030, "P90"] == pytest.approx(market.fan(2030, 90), rel=1e-12)
    table = assumptions_table(market)
    assert table.loc["anchors.horizon_size", "value"] == 27.88
    assert table.loc["anchors.horizon_size", "kind"] == "published"


# ------------------------------------------------------------------------------ statuses say what moved


def test_a_region_or_segment_value_says_its_split_is_assumed(market: Market) -> None:
    assert market.point(2030, "APAC", "CT").status == "published total, assumed split"
    assert market.status(2028, "bull", "APAC") == "interpolated total, assumed split (bull)"
    assert market.status(2030) == "published"
    rows = market.breakdown(2035, "modality", "bear")
    assert {r.status for r in rows} == {"extrapolated total, assumed split (bear)"}


def test_every_status_is_one_of_the_status_words_with_its_qualifiers(market: Market) -> None:
    words = "|".join(re.escape(w) for w in statuses.WORDS)
    shape = re.compile(rf"({words})( {re.escape(statuses.ASSUMED_SPLIT)})?( \(.+\))?")
    for scenario in market.scenario_names:
        for year in market.year_list:
            for region, segment in ((None, None), ("APAC", None), (None, "CT"), ("NA", "Reporting")):
                text = market.status(year, scenario, region, segment)
                assert shape.fullmatch(text), text


def test_the_docs_say_what_each_status_means_in_the_engines_words() -> None:
    concepts = (Path(__file__).resolve().parent.parent / "docs" / "concepts.md").read_text(encoding="utf-8")
    section = concepts.split("## Statuses", 1)[1].split("\n\n")
    table = next(block for block in section if block.startswith("| status | means |"))
    rows = [re.fullmatch(r"\| `(.+)` \| (.+) \|", line) for line in table.splitlines()[2:]]
    assert [m.groups() if m else None for m in rows] == list(statuses.MEANINGS)


@pytest.mark.parametrize(
    ("overrides", "moved", "unmoved"),
    [
        # (override, a value it moves with the status it must show, a value it leaves alone)
        ("cagr=0.1", ((2030, None), "projected (override)"), ((2026, None), "published")),
        ("driver.telemedicine=0.05", ((2028, None), "interpolated (override)"), ((2026, None), "published")),
        ("backcast_growth=0.05", ((2020, None), "back-cast (override)"), ((2030, None), "published")),
        ("extrapolation_growth=0.05", ((2035, None), "extrapolated (override)"), ((2030, None), "published")),
        ("long_run_growth=0.03", ((2035, None), "extrapolated (override)"), ((2030, None), "published")),
        ("fade_years=3", ((2035, None), "extrapolated (override)"), ((2030, None), "published")),
        (
            "share.APAC=0.25",
            ((2030, "APAC"), "published total, assumed split (override)"),
            ((2030, None), "published"),
        ),
        (
            "growth.NA=0.01",
            ((2030, "Western Europe"), "published total, assumed split (override)"),
            ((2025, "NA"), "published total, assumed split"),
        ),
        (
            "paths=500; seed=3",
            ((2030, "APAC"), "published total, assumed split"),
            ((2030, None), "published"),
        ),
    ],
)
def test_every_override_kind_adds_override_to_every_value_it_moves(
    market: Market,
    overrides: str,
    moved: tuple[tuple[int, str | None], str],
    unmoved: tuple[tuple[int, str | None], str],
) -> None:
    changed = market_for(None, overrides)
    for (year, region), status in (moved, unmoved):
        assert changed.point(year, region).status == status
    (year, region), _ = moved
    if "override" in moved[1]:
        assert changed.forecast(year, region) != market.forecast(year, region)
    (year, region), _ = unmoved
    assert changed.forecast(year, region) == pytest.approx(market.forecast(year, region), rel=1e-15)


def _current_values(market: Market) -> dict[str, str]:
    """Every override kind at the value the default set already has (the calibrated CAGR and back-cast
    growth as the model works them out, 3.65 % as a percentage)."""
    return {
        "cagr": f"cagr={market.forecast_growth!r}",
        "driver": "driver.telemedicine=0%",
        "backcast": f"backcast_growth={market.backcast_growth!r}",
        "long run": "long_run_growth=0.045",
        "fade": "fade_years=10",
        "share": "share.APAC=0.205",
        "shares": "share.APAC=0.205; share.NA=0.4",
        "growth": "growth.NA=-0.0014",
        "basis": "basis=TBRC",
        "all": f"cagr={market.forecast_growth!r}; driver.telemedicine=0.0; share.CT=0.27; growth.MRI=0.015",
    }


@pytest.mark.parametrize("kind", list(_current_values(default_market())))
def test_an_override_that_changes_nothing_moves_nothing(market: Market, kind: str) -> None:
    """Issue 10: (override) only on the values an override moves; one equal to the current value moves none."""
    same = market_for(None, _current_values(market)[kind])
    assert same.assumptions.moved == frozenset()
    assert not same.overridden
    for scenario in market.scenario_names:
        for year in market.year_list:
            for region, segment in ((None, None), ("APAC", None), ("NA", "MRI"), (None, "CT")):
                assert same.point(year, region, segment, scenario) == market.point(
                    year, region, segment, scenario
                )
    for year in (2020, 2034):
        assert same.estimates(year) == market.estimates(year)
    assert same.status(2030) == "published" and same.forecast(2030) == market.forecast(2030)


def test_an_override_equal_to_a_value_the_file_gives_moves_nothing() -> None:
    from xl_addin.model import assumptions_from_text

    held = assumptions_from_text("extension:\n  extrapolation_growth: {value: 0.05}\n", "held.yaml")
    assert Market(with_overrides(held, "extrapolation_growth=0.05")).status(2035) == "extrapolated"
    assert Market(with_overrides(held, "extrapolation_growth=0.06")).status(2035) == "extrapolated (override)"
    consensus = with_overrides(default_market().assumptions, "basis=consensus")
    again = Market(with_overrides(consensus, "basis=consensus"))
    assert again.status(2030) == Market(consensus).status(2030) == "consensus median (basis: consensus)"
    moved = with_overrides(held, "driver.telemedicine=0.05")
    # The same what-if again: still moved (by the first), nothing added.
    assert with_overrides(moved, "driver.telemedicine=0.05").moved == moved.moved == frozenset({"drivers"})


def test_a_share_override_moves_segment_values_unless_a_joint_row_sets_that_mix() -> None:
    from xl_addin.model import assumptions_from_text

    joint = assumptions_from_text(JOINT, "joint.yaml")
    moved = Market(with_overrides(joint, "share.Reporting=0.6"))
    assert moved.status(2030, region="APAC", segment="Reporting").endswith("(override)")
    assert moved.status(2030, region="NA", segment="Reporting") == "published total, assumed split"
    assert moved.forecast(2030, "NA", "Reporting") == Market(joint).forecast(2030, "NA", "Reporting")


# ------------------------------------------------------------------------------ what-ifs


def test_a_faster_driver_raises_every_scenario_and_keeps_the_residual(market: Market) -> None:
    faster = market_for(None, "driver.telemedicine=0.05")
    # Issue 10: base stayed at 27.88 while bull fell from 31.62 to 30.03 and bear from 24.36 to 23.13.
    for scenario in ("bear", "base", "bull"):
        for year in range(2027, 2051):
            assert faster.forecast(year, scenario=scenario) > market.forecast(year, scenario=scenario)
        for year in range(2010, 2027):
            assert faster.forecast(year, scenario=scenario) == market.forecast(year, scenario=scenario)
    assert faster.residual_growth == market.residual_growth
    assert faster.base_driver_growth["price_mix"] == market.base_driver_growth["price_mix"]
    assert faster.status(2030) == "projected (override)"
    # Bull sets telemedicine itself: it moves by the same amount as base's (0.05 - 0.0).
    shift = 0.05 - 0.0
    assert faster.driver_growths("bull")["telemedicine"] == pytest.approx(0.02 + shift, rel=1e-15)
    assert faster.driver_growths("base")["telemedicine"] == 0.05
    bull = math.prod(1 + g for g in faster.driver_growths("bull").values()) - 1
    assert faster.scenario_growth["bull"] == pytest.approx(bull, rel=1e-15)
    assert faster.cagr(2026, 2030, scenario="bull") == pytest.approx(bull, rel=1e-12)
    slower = market_for(None, "driver.imaging_volume=0.01")
    assert all(
        slower.forecast(2030, scenario=s) < market.forecast(2030, scenario=s)
        for s in ("bear", "base", "bull")
    )


def test_an_override_is_applied_to_the_last_digit_given() -> None:
    # market_for keys its cache by the overrides' text: that text must not round what was typed.
    assert (
        market_for(None, "driver.telemedicine=0.0512345678").base_driver_growth["telemedicine"]
        == 0.0512345678
    )
    exact = market_for(None, "cagr=0.09094790122147489")
    assert exact.forecast_growth == 0.09094790122147489
    assert market_for(None, "paths=500").assumptions.uncertainty.paths == 500
    assert parse_overrides("driver.telemedicine=3.65%") == {"driver.telemedicine": 0.0365}


def test_the_residual_driver_cannot_be_overridden() -> None:
    with pytest.raises(InvalidArgument, match="a driver other than the residual"):
        market_for(None, "driver.price_mix=0.02")


def test_share_overrides_of_one_dimension_do_not_depend_on_their_order(market: Market) -> None:
    one = market_for(None, "share.APAC=0.25; share.NA=0.35")
    other = market_for(None, "share.North America=0.35; share.Asia-Pacific=0.25")
    for region in market.members("region"):
        assert one.share(2025, region) == pytest.approx(other.share(2025, region), rel=1e-15)
    assert one.share(2025, "APAC") == pytest.approx(0.25) and one.share(2025, "NA") == pytest.approx(0.35)
    rest = 1 - market.share(2025, "APAC") - market.share(2025, "NA")
    for region in ("Western Europe", "Africa"):  # the others keep their proportions of what is left
        assert one.share(2025, region) == pytest.approx(market.share(2025, region) * 0.40 / rest, rel=1e-12)
    assert sum(one.share(2025, r) for r in market.members("region")) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ("share.APAC=0.6; share.NA=0.4", "shares summing to below 1"),
        ("share.APAC=0.7; share.NA=0.5", "shares summing to below 1"),
        ("share.APAC=0", "a share above 0 and below 1"),
        ("share.APAC=0.2; share.Asia Pacific=0.3", "one share for Asia-Pacific"),
    ],
)
def test_share_overrides_that_cannot_hold_are_refused(overrides: str, expected: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(expected)):
        market_for(None, overrides)


def test_a_zero_share_is_refused_with_the_reason() -> None:
    from xl_addin.model import AssumptionError, assumptions_from_text

    text = "dimensions:\n  region:\n    members:\n      Africa: {share: 0.0}\n      APAC: {share: 0.225}\n"
    with pytest.raises(AssumptionError, match=r"members.Africa.share: 0 is not allowed: every member needs"):
        assumptions_from_text(text, "zero.yaml")


# ------------------------------------------------------------------------------ calibration


def test_the_report_property_testing_once_refused_calibrates_exactly() -> None:
    """22.85 / 28.01 / 22.5 % / 28.01 / 0 %: the path (22.854, 28.006, 0 %) reproduces all five."""
    from xl_addin.model import assumptions_from_text

    text = yaml.safe_dump(
        {
            "anchors": {
                "base_size": {"value": 22.85},
                "next_size": {"value": 28.01},
                "historic_growth": {"value": 0.225},
                "horizon_size": {"value": 28.01},
                "forecast_cagr": {"value": 0.0},
            }
        }
    )
    m = Market(assumptions_from_text(text, "edge.yaml"))
    assert all(r.reproduced for r in m.calibration.residuals)
    assert m.calibration.margin > 0
    assert money(m.forecast(2025)) == "22.85" and money(m.forecast(2030)) == "28.01"
    assert f"{m.cagr(2025, 2026):.3f}" == "0.225"


def test_the_default_calibration_is_centred_inside_every_interval(market: Market) -> None:
    # Every anchor keeps at least half of its half-interval on both sides.
    assert market.calibration.margin > 0.5
    for r in market.calibration.residuals:
        # (the margin is measured in logs: in value terms it differs in the fourth decimal)
        assert abs(r.in_last_digits) <= 0.5 * (1 - market.calibration.margin) + 1e-3


def test_inconsistent_anchors_name_the_ones_that_conflict() -> None:
    from xl_addin.model import CalibrationError, assumptions_from_text

    text = "anchors:\n  historic_growth: {value: 0.20}\n"  # 18.08 -> 19.68 is 8.85 %, not 20 %
    with pytest.raises(CalibrationError) as caught:
        assumptions_from_text(text, "bad.yaml") and Market(assumptions_from_text(text, "bad.yaml"))
    message = str(caught.value)
    assert message == (
        "The anchors in bad.yaml are inconsistent: no path reproduces market size 2025 (18.08), "
        "market size 2026 (19.68) and growth 2025-2026 (0.200) together at their published precision"
    )


def test_anchor_labels_follow_their_years_in_a_new_edition() -> None:
    from xl_addin.model import AssumptionError, assumptions_from_text

    text = yaml.safe_dump(
        {
            "anchors": {
                "base_size": {"year": 2026, "value": 19.68},
                "next_size": {"year": 2027, "value": 21.47},
                "historic_growth": {"from_year": 2026, "to_year": 2027, "value": 0.091},
                "horizon_size": {"year": 2031, "value": 30.42},
                "forecast_cagr": {"from_year": 2027, "to_year": 2031, "value": 0.091},
            }
        }
    )
    edition = assumptions_from_text(text, "2027.yaml")
    labels = [a.label for a in edition.anchors.values()]
    assert labels == [
        "market size 2026",
        "market size 2027",
        "growth 2026-2027",
        "market size 2031",
        "CAGR 2027-2031",
    ]
    stale = text.replace("value: 19.68", "value: 19.68\n    label: market size 2025")
    with pytest.raises(
        AssumptionError, match="'market size 2025' names 2025, but the anchor's years are 2026"
    ):
        assumptions_from_text(stale, "2027.yaml")


# ------------------------------------------------------------------------------ aliases


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("US", "Invalid region: 'US' is a country; the model's regions are North America, Western Europe"),
        ("US", "(did you mean 'North America'?)"),
        ("EU", "'EU' is a union of countries in Western and Eastern Europe"),
        ("EU", "(did you mean 'Western Europe' or 'Eastern Europe'?)"),
        ("uk", "'uk' is a country; the model's regions are"),
        ("China", "(did you mean 'Asia-Pacific'?)"),
        ("LATAM", "wider than South America"),
        # A name close to a region's is never answered by its neighbour in the alphabet.
        ("South Africa", "'South Africa' is a country; the model's regions are"),
        ("South Africa", "(did you mean 'Africa'?)"),
        ("Americas", "(did you mean 'North America' or 'South America'?)"),
        ("SA", "'SA' is ambiguous (South America, South Africa or Saudi Arabia)"),
        ("UAE", "(did you mean 'Middle East'?)"),
        ("Korea", "(did you mean 'Asia-Pacific'?)"),
        ("Oceania", "'Oceania' is part of Asia-Pacific"),
        ("region:US", "'US' is a country"),
        ("Region: EU", "(did you mean 'Western Europe' or 'Eastern Europe'?)"),
    ],
)
def test_a_country_or_union_never_answers_for_a_region(market: Market, name: str, expected: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        market.forecast(2030, name)
    assert expected in str(caught.value)
    with pytest.raises(InvalidArgument, match=re.escape(expected.split(";")[-1])):
        market.share(2030, name)


def test_a_region_may_be_named_with_its_dimension(market: Market) -> None:
    assert market.forecast(2030, "region:APAC") == market.forecast(2030, "Asia-Pacific")
    assert market.forecast(2030, "region: global") == market.forecast(2030)
    with pytest.raises(
        InvalidArgument, match=r"Invalid region: 'modality:CT' \(expected a region \(a service"
    ):
        market.forecast(2030, "modality:CT")


def test_a_part_of_a_segment_is_refused_with_the_member_it_belongs_to(market: Market) -> None:
    with pytest.raises(InvalidArgument, match=r"'teleradiology' is remote reading, part of Reporting"):
        market.forecast(2030, segment="teleradiology")
    with pytest.raises(
        InvalidArgument, match=r"'mammography' is part of Other modalities.*modalities are X-ray"
    ):
        market.forecast(2030, segment="mammography")
    with pytest.raises(InvalidArgument, match=r"Invalid member: 'US' is a country"):
        market_for(None, "share.US=0.3")


def test_a_refused_name_in_a_users_file_says_what_it_is() -> None:
    from xl_addin.model import AssumptionError, assumptions_from_text

    with pytest.raises(
        AssumptionError, match=r"members.US: 'US' is a country, not a member .*North America'\?"
    ):
        assumptions_from_text("dimensions:\n  region:\n    members:\n      US: {share: 0.4}\n", "us.yaml")


def test_north_americas_2019_share_is_grand_views_41_6_percent(market: Market) -> None:
    assert f"{market.share(2019, 'North America'):.1%}" == "41.6%"
    assert market.assumptions.dimensions["region"].members[0].source == "gvr"


def test_every_source_can_be_checked_and_every_proxy_says_it_is_assumed(market: Market) -> None:
    a = market.assumptions
    for source in a.sources.values():
        assert source.url.startswith("https://") or source.key == "imgout", source.key
    assert a.sources["aha"].publisher == "American Hospital Association"
    assert "American Health Care Association" in a.sources["aha"].title  # what TBRC's release says
    assert {a.drivers[k].kind for k in ("imaging_volume", "hospital_infrastructure", "telemedicine")} == {
        "assumed"
    }
    for name in ("CT", "MRI", "Ultrasound"):  # NHS test counts are volumes, not shares of value
        member = next(m for m in a.dimensions["modality"].members if m.name == name)
        assert member.source != "nhs" and member.kind == "assumed" and "not" in member.note
