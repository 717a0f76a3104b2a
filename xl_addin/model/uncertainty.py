"""Monte Carlo over driver growths: a fan of P10 / P50 / P90 per year, seeded and vectorised.

The band measures the drivers' uncertainty, not the level they are at: each driver's spread is a width in
growth factors, ln((1 + high) / (1 + low)) from the assumption file's low and high (its P10 and P90), and
a what-if (``cagr=``, ``driver.telemedicine=``, a basis) moves the centre it is drawn around, never that
width. So the fan's relative width (P90 / P10 in a year) is the same for every level what-if.

Each path draws every driver's growth factor once, (1 + g_k) = (1 + c_k) exp(s_k z_k) with c_k the
driver's current growth, s_k = ln((1 + high_k) / (1 + low_k)) / (2 z_90) and z_k standard normal (so the
median path is the base path); the drivers compounded give the path's growth factor relative to base,
X_p = ln((1 + g_p) / (1 + g_c)) = sum_k s_k z_k. A path follows the base path with X_p added to the log of
its growth in every year, weighted like a scenario's difference (w(t): 1 in the forecast years, fading
to 0 after the horizon), plus an independent annual shock (`annual_volatility`) in every forecast year:

    V_p(t) = V(t) prod_{u=N+1..t} exp(X_p w(u) + shock_u)

Years up to the next published year are not uncertain here. No Python loop runs per path.

This module knows nothing of the market: :meth:`Market.fan_inputs <xl_addin.model.market.Market.fan_inputs>`
gives it the numbers it needs as a :class:`FanInputs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

Z90 = 1.2815515655446004  # the standard normal's 90th percentile
#: The most paths a simulation may draw: 200,000 x 41 years is 66 MB kept per fan, and about a second.
MAX_PATHS = 200_000


@dataclass(frozen=True)
class FanInputs:
    """What the simulation starts from: the model's years and base path, and the drivers' spread."""

    years: tuple[int, ...]
    #: The base scenario's total in every year (the paths keep it up to `next_year`).
    base_path: np.ndarray
    #: w(t): how much of a growth difference applies in each year (0 up to `next_year`).
    weights: np.ndarray
    next_year: int
    #: Each driver's low (P10) and high (P90) as the assumption file gives them: only their width is used.
    driver_low: np.ndarray
    driver_high: np.ndarray
    annual_volatility: float

    @property
    def driver_spread(self) -> np.ndarray:
        """s_k: each driver's standard deviation in log growth factors, ln((1 + high) / (1 + low)) / (2 z_90)."""
        return np.asarray(np.log1p(self.driver_high) - np.log1p(self.driver_low)) / (2 * Z90)


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
    spread = inputs.driver_spread
    relative = (spread * rng.standard_normal((paths, len(spread)))).sum(axis=1)  # X_p

    years = np.array(inputs.years)
    forecast = years > inputs.next_year
    n_forecast = int(forecast.sum())
    shocks = rng.normal(0.0, inputs.annual_volatility, (paths, n_forecast))
    steps = relative[:, None] * inputs.weights[forecast][None, :] + shocks
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
