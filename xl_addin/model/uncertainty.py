"""Monte Carlo over driver growths: a fan of P10 / P50 / P90 per year, seeded and vectorised.

Each path draws every driver's growth once from a normal centred on its base growth whose 10th-to-90th
percentile width is the driver's `high - low` (so the median path is the base path); the drivers
compounded give the path's growth g_p. A path follows the base path with the difference g_p - g_c (g_c
the base scenario's growth) added to the base path's own growth b(t), weighted like a scenario's
difference (w(t): 1 in the forecast years, fading to 0 after the horizon), plus an independent annual
shock (`annual_volatility`) in every forecast year:

    V_p(t) = V(t) prod_{u=N+1..t} (1 + b(u) + (g_p - g_c) w(u)) / (1 + b(u)) exp(shock_u)

Years up to the next published year are not uncertain here. No Python loop runs per path.

This module knows nothing of the market: :meth:`Market.fan_inputs <xl_addin.model.market.Market.fan_inputs>`
gives it the numbers it needs as a :class:`FanInputs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

Z90 = 1.2815515655446004  # the standard normal's 90th percentile


@dataclass(frozen=True)
class FanInputs:
    """What the simulation starts from: the model's years and base path, and the drivers' spread."""

    years: tuple[int, ...]
    #: The base scenario's total in every year (the paths keep it up to `next_year`).
    base_path: np.ndarray
    #: b(t): the base path's growth over the year before (0 in the first year).
    base_growth: np.ndarray
    #: w(t): how much of a growth difference applies in each year (0 up to `next_year`).
    weights: np.ndarray
    next_year: int
    #: g_c: the base scenario's forecast growth, the centre of the drawn growths.
    centre_growth: float
    #: Each driver's base growth per year (the centre of its draws), low (P10) and high (P90).
    driver_growth: np.ndarray
    driver_low: np.ndarray
    driver_high: np.ndarray
    annual_volatility: float


class Fan(NamedTuple):
    """Monte Carlo results: simulated totals (paths x years) and their percentiles."""

    years: tuple[int, ...]
    paths: int
    seed: int
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    sorted_values: np.ndarray

    def percentile(self, year: int, percentile: float) -> float:
        """Any percentile of the simulated total in a year."""
        return float(percentile_sorted(self.sorted_values[:, self.years.index(year)], percentile))


def simulate(inputs: FanInputs, paths: int, seed: int) -> Fan:
    """Simulate `paths` totals for every model year; percentiles per year across paths."""
    rng = np.random.default_rng(seed)
    spread = (inputs.driver_high - inputs.driver_low) / (2 * Z90)
    growth = inputs.driver_growth + spread * rng.standard_normal((paths, len(inputs.driver_growth)))
    path_growth = np.expm1(np.log1p(growth).sum(axis=1))

    years = np.array(inputs.years)
    forecast = years > inputs.next_year
    n_forecast = int(forecast.sum())
    shocks = rng.normal(0.0, inputs.annual_volatility, (paths, n_forecast))
    b, w = inputs.base_growth[forecast], inputs.weights[forecast]
    difference = (path_growth - inputs.centre_growth)[:, None] * w[None, :]
    steps = np.log1p(b[None, :] + difference) - np.log1p(b)[None, :] + shocks
    values = np.empty((paths, len(years)))
    values[:, ~forecast] = inputs.base_path[~forecast]
    values[:, forecast] = inputs.base_path[forecast][None, :] * np.exp(np.cumsum(steps, axis=1))
    values.sort(axis=0)
    p10, p50, p90 = (percentile_sorted(values, p) for p in (10.0, 50.0, 90.0))
    return Fan(inputs.years, paths, seed, p10, p50, p90, values)


def percentile_sorted(sorted_values: np.ndarray, percentile: float) -> np.ndarray:
    """Linear-interpolated percentile of columns already sorted (numpy's default method).

    >>> float(percentile_sorted(np.array([1.0, 2.0, 3.0, 4.0]), 50))
    2.5
    """
    position = (sorted_values.shape[0] - 1) * percentile / 100.0
    low = int(np.floor(position))
    high = min(low + 1, sorted_values.shape[0] - 1)
    weight = position - low
    # low + (high - low) * w keeps equal neighbours exact, so percentiles never cross by an ulp.
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * weight
