"""Monte Carlo over driver growths: a fan of P10 / P50 / P90 per year, seeded and vectorised.

Each path draws every driver's growth once from a normal centred on its base growth whose 10th-to-90th
percentile width is the driver's `high - low` (so the median path is the base path), then adds an
independent annual shock
(`annual_volatility`) to every forecast year. Years up to the last published actual are not uncertain
here. No Python loop runs per path.
"""

from __future__ import annotations

import numpy as np

from .market import RESERVED_SCENARIO, Fan, Market

Z90 = 1.2815515655446004  # the standard normal's 90th percentile


def simulate(market: Market, paths: int, seed: int) -> Fan:
    """Simulate `paths` totals for every model year; percentiles per year across paths."""
    rng = np.random.default_rng(seed)
    drivers = list(market.assumptions.drivers.values())
    centre = np.array([market.base_driver_growth[d.key] for d in drivers])
    spread = np.array([d.high - d.low for d in drivers]) / (2 * Z90)
    growth = centre + spread * rng.standard_normal((paths, len(drivers)))
    log_growth = np.log1p(growth).sum(axis=1)

    years = np.array(market.year_list)
    forecast = years > market.next_year
    n_forecast = int(forecast.sum())
    shocks = rng.normal(0.0, market.assumptions.uncertainty.annual_volatility, (paths, n_forecast))
    # Beyond the horizon the path follows the extrapolation rule, as the deterministic path does.
    beyond = np.log((1 + market.extrapolation_growth) / (1 + market.forecast_growth))
    drift = np.where(years[forecast] > market.horizon_year, beyond, 0.0)
    steps = log_growth[:, None] + shocks + drift[None, :]
    values = np.empty((paths, len(years)))
    base_path = np.array([market.forecast(y, scenario=RESERVED_SCENARIO) for y in market.year_list])
    values[:, ~forecast] = base_path[~forecast]
    values[:, forecast] = market.calibration.next_size * np.exp(np.cumsum(steps, axis=1))
    values.sort(axis=0)
    p10, p50, p90 = (_percentile_sorted(values, p) for p in (10.0, 50.0, 90.0))
    return Fan(market.year_list, paths, seed, p10, p50, p90, values)


def _percentile_sorted(sorted_values: np.ndarray, percentile: float) -> np.ndarray:
    """Linear-interpolated percentile of columns already sorted (numpy's default method)."""
    position = (sorted_values.shape[0] - 1) * percentile / 100.0
    low = int(np.floor(position))
    high = min(low + 1, sorted_values.shape[0] - 1)
    weight = position - low
    # low + (high - low) * w keeps equal neighbours exact, so percentiles never cross by an ulp.
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * weight
