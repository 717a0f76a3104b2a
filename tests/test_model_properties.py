"""The engine's invariants hold for any valid assumption set, not only the default (hypothesis).

Every property runs derandomized with no example database: the same examples on every machine and every
run, so CI cannot flake, and a failure found once is found again until it is fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from xl_addin.common.formats import money
from xl_addin.model import AssumptionError, Market, assumptions_from_text, default_assumptions, with_overrides

pytestmark = pytest.mark.slow  # hundreds of generated assumption sets (hypothesis)

DEFAULT = default_assumptions()
#: Derandomized, database-free: the examples are a function of the test alone.
CI = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
DRIVERS = [k for k, d in DEFAULT.drivers.items() if d.growth is not None]


@st.composite
def shares(draw: st.DrawFn, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    weights = [draw(st.floats(0.05, 10.0)) for _ in names]
    total = sum(weights)
    members = {}
    for name, w in zip(names, weights, strict=True):
        members[name] = {"share": w / total, "growth": draw(st.floats(-0.04, 0.06))}
    # Exact sum to one despite float rounding: give the remainder to the first member.
    first = names[0]
    members[first]["share"] = 1.0 - math.fsum(m["share"] for n, m in members.items() if n != first)
    return members


def published(value: float, decimals: int) -> float:
    """The value as a report prints it; the true value must lie strictly inside the printed interval."""
    shown = round(value, decimals)
    assume(0.5 * 10.0**-decimals - abs(value - shown) > 1e-9)
    return shown


@st.composite
def anchors(draw: st.DrawFn) -> dict[str, dict[str, float]]:
    """A true path (size, one-year growth, CAGR), published at the report's precision: always consistent."""
    size = draw(st.floats(1.0, 200.0))
    historic = draw(st.floats(0.0, 0.25))
    cagr = draw(st.floats(0.0, 0.25))
    nxt = size * (1 + historic)
    horizon = nxt * (1 + cagr) ** 4
    return {
        "base_size": {"value": published(size, 2)},
        "next_size": {"value": published(nxt, 2)},
        "historic_growth": {"value": published(historic, 3)},
        "horizon_size": {"value": published(horizon, 2)},
        "forecast_cagr": {"value": published(cagr, 3)},
    }


@st.composite
def assumption_texts(draw: st.DrawFn) -> str:
    """A random but consistent report with random splits, drivers and scenarios."""
    dims = {key: {"members": draw(shares(dim.names))} for key, dim in DEFAULT.dimensions.items()}
    drivers = {}
    bear, bull = {}, {}
    for key in DRIVERS:
        g = draw(st.floats(0.0, 0.05))
        drivers[key] = {"growth": g, "low": g - 0.01, "high": g + 0.01}
        bear[key] = g - draw(st.floats(0.001, 0.01))
        bull[key] = g + draw(st.floats(0.001, 0.01))
    doc = {
        "anchors": draw(anchors()),
        "dimensions": dims,
        "drivers": drivers,
        "scenarios": {"bear": {"drivers": bear}, "bull": {"drivers": bull}},
    }
    return yaml.safe_dump(doc)


@settings(CI, max_examples=400)
@given(anchors())
def test_calibration_never_refuses_a_consistent_report(given_anchors: dict[str, dict[str, float]]) -> None:
    market = Market(assumptions_from_text(yaml.safe_dump({"anchors": given_anchors}), "report.yaml"))
    assert market.calibration.margin >= 0
    for residual in market.calibration.residuals:
        assert residual.reproduced, residual


@settings(CI, max_examples=120)
@given(assumption_texts())
def test_any_valid_set_keeps_every_promise(text: str) -> None:
    market = Market(assumptions_from_text(text, "random.yaml"))
    anchors = market.assumptions.anchors
    # Every anchor reproduced at its published precision.
    assert money(market.forecast(2025)) == f"{anchors['base_size'].value:.2f}"
    assert money(market.forecast(2030)) == f"{anchors['horizon_size'].value:.2f}"
    for residual in market.calibration.residuals:
        assert residual.reproduced, residual
    assert abs(market.cagr(2026, 2030) - anchors["forecast_cagr"].value) < anchors["forecast_cagr"].half_width
    for year in (2010, 2025, 2027, 2030, 2040, 2050):
        for scenario in market.scenario_names:
            total = market.forecast(year, scenario=scenario)
            for dim in ("region", "service", "modality", "end_user"):
                parts = math.fsum(r.value for r in market.breakdown(year, dim, scenario))
                assert parts == np.float64(total) or abs(parts / total - 1) <= 1e-12
    for year in range(2027, 2051):
        assert (
            market.forecast(year, scenario="bear")
            < market.forecast(year)
            < market.forecast(year, scenario="bull")
        )
    product = math.prod(1 + f.growth for f in market.bridge()) - 1
    assert abs(product - market.forecast_growth) <= 1e-14
    fan = market.uncertainty(paths=500, seed=1)
    assert np.all(fan.p10 <= fan.p50) and np.all(fan.p50 <= fan.p90)


@settings(CI, max_examples=150)
@given(
    assumption_texts(),
    st.sampled_from(DRIVERS),
    st.floats(0.0005, 0.04),
    st.sampled_from(["", "basis=consensus"]),
)
def test_raising_a_driver_never_lowers_a_forecast_and_lowering_never_raises_one(
    text: str, driver: str, step: float, basis: str
) -> None:
    base_set = with_overrides(assumptions_from_text(text, "random.yaml"), basis or None)
    market = Market(base_set)
    growth = market.base_driver_growth[driver]
    up = Market(with_overrides(base_set, f"driver.{driver}={growth + step!r}"))
    down = Market(with_overrides(base_set, f"driver.{driver}={growth - step!r}"))
    for scenario in market.scenario_names:
        for year in market.year_list:
            was = market.forecast(year, scenario=scenario)
            high, low = up.forecast(year, scenario=scenario), down.forecast(year, scenario=scenario)
            assert low <= was <= high
            if year > market.next_year:  # every forecast year moves, in the driver's direction
                assert low < was < high


#: The Monte Carlo band's relative width may move by at most this much under any level what-if (README,
#: Uncertainty): a what-if moves each driver's centre, never its width.
FAN_BAND = 0.005
DEFAULT_FAN_RATIO = Market(DEFAULT).fan(2030, 90) / Market(DEFAULT).fan(2030, 10)


BASES = ["", *[f"basis={k}" for k in ("consensus", *DEFAULT.estimates)]]


@settings(CI, max_examples=40)
@given(
    st.one_of(
        st.floats(-0.10, 0.30).map(lambda g: f"cagr={g!r}"),  # the model's own path only: a basis refuses it
        st.tuples(st.sampled_from(DRIVERS), st.floats(-0.10, 0.20), st.sampled_from(BASES)).map(
            lambda d: ";".join(s for s in (f"driver.{d[0]}={d[1]!r}", d[2]) if s)
        ),
    )
)
def test_the_monte_carlo_band_measures_uncertainty_not_the_level(what_if: str) -> None:
    market = Market(with_overrides(DEFAULT, what_if))
    ratio = market.fan(2030, 90) / market.fan(2030, 10)
    assert abs(ratio / DEFAULT_FAN_RATIO - 1) <= FAN_BAND
    assert round(DEFAULT_FAN_RATIO, 2) == 1.42


BASIS_KEYS = ("consensus", *DEFAULT.estimates)


@settings(CI, max_examples=120)
@given(
    st.sampled_from(BASIS_KEYS),
    st.one_of(
        st.floats(-0.08, 0.25).map(lambda g: f"cagr={g:.4f}"),
        st.tuples(st.sampled_from(DRIVERS), st.floats(-0.05, 0.12)).map(
            lambda d: f"driver.{d[0]}={d[1]:.4f}"
        ),
        st.just(""),
    ),
    st.sampled_from(["bear", "base", "bull"]),
)
def test_under_any_basis_and_level_what_if_the_bridge_multiplies_back_to_the_followed_paths_growth(
    basis: str, what_if: str, scenario: str
) -> None:
    """Whatever the total follows and whatever level what-if moves it, the growth bridge of every scenario
    multiplies back to the CAGR of that scenario's path over the forecast period: the drivers are the
    model's (a driver what-if among them), and only the price-and-mix residual is re-solved."""
    overrides = ";".join(x for x in (f"basis={basis}", what_if) if x)
    if what_if.startswith("cagr=") and basis != DEFAULT.market.source:
        with pytest.raises(AssumptionError, match="cannot apply"):  # cagr= sets only the model's own path
            with_overrides(DEFAULT, overrides)
        return
    market = Market(with_overrides(DEFAULT, overrides))
    own = Market(with_overrides(DEFAULT, what_if or None))
    bridge = market.bridge(scenario)
    product = math.prod(1 + f.growth for f in bridge) - 1
    assert abs(product - market.cagr(2026, 2030, scenario=scenario)) <= 1e-12
    assert [f.drivers for f in bridge[:2]] == [f.drivers for f in own.bridge(scenario)[:2]]
    if basis == DEFAULT.market.source:  # the model's own path keeps its calibrated residual
        assert market.bridge_residual(scenario) == own.bridge_residual(scenario)
