"""Calibration: the path through every published anchor at its published precision.

Unknowns, in logs: a = ln V(base), b = ln V(next), c = ln(1 + forecast CAGR). Every anchor is linear in
them (sizes, the one-year growth b - a, the horizon size b + n c, the CAGR c), so a weighted least-squares
fit is exact and deterministic. Each anchor is weighted by the half-width of its published interval;
an anchor left outside its interval has its weight raised until the path lies inside all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import CalibrationError
from .assumptions import Anchor, AssumptionSet

MAX_REWEIGHTS = 60


@dataclass(frozen=True)
class Residual:
    """How far the calibrated path is from one published figure."""

    anchor: Anchor
    modelled: float

    @property
    def difference(self) -> float:
        """Modelled minus published, in the anchor's units."""
        return self.modelled - self.anchor.value

    @property
    def in_last_digits(self) -> float:
        """The difference in units of the last published digit (inside the interval: below 0.5)."""
        return self.difference / (2 * self.anchor.half_width)

    @property
    def reproduced(self) -> bool:
        """True when the modelled value rounds to the published figure."""
        return self.anchor.reproduces(self.modelled)


@dataclass(frozen=True)
class Calibration:
    """The calibrated path's three numbers and its residuals against each anchor."""

    base_size: float
    next_size: float
    historic_growth: float
    forecast_cagr: float
    horizon_size: float
    residuals: tuple[Residual, ...]


def _modelled(x: np.ndarray, n: int) -> dict[str, float]:
    a, b, c = (float(v) for v in x)
    return {
        "base_size": math.exp(a),
        "next_size": math.exp(b),
        "historic_growth": math.exp(b - a) - 1,
        "horizon_size": math.exp(b + n * c),
        "forecast_cagr": math.exp(c) - 1,
    }


def calibrate(assumptions: AssumptionSet) -> Calibration:
    """Find the path inside every published interval; raise :class:`CalibrationError` if none is found."""
    anchors = assumptions.anchors
    n = assumptions.horizon_year - assumptions.next_year
    keys = ("base_size", "next_size", "historic_growth", "horizon_size", "forecast_cagr")
    design = np.array([[1, 0, 0], [0, 1, 0], [-1, 1, 0], [0, 1, n], [0, 0, 1]], dtype=float)
    target = np.empty(5)
    sigma = np.empty(5)
    for i, key in enumerate(keys):
        anchor = anchors[key]
        level = anchor.value if key.endswith("size") else 1 + anchor.value
        target[i] = math.log(level)
        sigma[i] = anchor.half_width / level
    weights = np.ones(5)
    modelled: dict[str, float] = {}
    for _ in range(MAX_REWEIGHTS):
        scale = weights / sigma
        x, *_ = np.linalg.lstsq(design * scale[:, None], target * scale, rcond=None)
        modelled = _modelled(x, n)
        outside = [i for i, key in enumerate(keys) if not anchors[key].reproduces(modelled[key])]
        if not outside:
            break
        for i in outside:
            weights[i] *= 2.0
    residuals = tuple(Residual(anchors[k], modelled[k]) for k in keys)
    missed = [r for r in residuals if not r.reproduced]
    if missed:
        listed = "; ".join(
            f"{r.anchor.label} published {r.anchor.value:g}, best path gives {r.modelled:.{r.anchor.decimals + 2}f}"
            for r in missed
        )
        raise CalibrationError(
            f"The anchors in {assumptions.origin} are inconsistent: no path reproduces them all ({listed})"
        )
    return Calibration(
        base_size=modelled["base_size"],
        next_size=modelled["next_size"],
        historic_growth=modelled["historic_growth"],
        forecast_cagr=modelled["forecast_cagr"],
        horizon_size=modelled["horizon_size"],
        residuals=residuals,
    )
