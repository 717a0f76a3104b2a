"""Calibration: the path through every published anchor at its published precision, found exactly.

Unknowns, in logs: a = ln V(base), b = ln V(next), c = ln(1 + forecast CAGR). Every anchor is linear in
them: the sizes a and b, the one-year growth b - a, the horizon size b + n c, the CAGR c. A published figure
stands for an interval (the value +- half a unit of its last digit), which in logs is [L_i, U_i] with
half-width h_i; so the anchors hold together exactly when a point lies inside five slabs
L_i <= d_i . x <= U_i, a linear feasibility problem in three unknowns.

The method is exact and deterministic (no iteration, no tolerance to tune): it maximises the smallest
margin t, as a fraction of each anchor's half-width, over the polytope

    d_i . x + h_i t <= U_i,   -d_i . x + h_i t <= -L_i   (each anchor, both sides)

by enumerating its vertices (every choice of four of the constraints as equalities, solved and checked
against all the others). t* >= 0 means a path exists; the path used is the centre of the optimal face
(the mean of its vertices), so every anchor keeps at least t* of its half-width on both sides. t* < 0
means no path exists: the smallest set of anchors that cannot hold together is named in the error.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import CalibrationError
from .assumptions import Anchor, AssumptionSet

KEYS = ("base_size", "next_size", "historic_growth", "horizon_size", "forecast_cagr")
#: Intervals are shrunk by this fraction of their half-width so that a path on the solver's boundary
#: still rounds to the published figure (:meth:`Anchor.reproduces` keeps 1e-9 of it).
SHRINK = 2e-9
#: Loose bounds on every log unknown so that a subset of anchors (naming a conflict) is a bounded polytope.
BOX = 40.0


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
    """The calibrated path's numbers, its residuals against each anchor and its margin.

    ``margin`` is the smallest distance from a published interval's edge, as a fraction of its
    half-width (1 would be every figure hit at its centre; 0 a path on an edge).
    """

    base_size: float
    next_size: float
    historic_growth: float
    forecast_cagr: float
    horizon_size: float
    residuals: tuple[Residual, ...]
    margin: float = 0.0


def _design(n: int) -> np.ndarray:
    """d_i for each anchor in :data:`KEYS` order, over (a, b, c)."""
    return np.array([[1, 0, 0], [0, 1, 0], [-1, 1, 0], [0, 1, n], [0, 0, 1]], dtype=float)


def _log_interval(key: str, anchor: Anchor) -> tuple[float, float]:
    """The anchor's interval in logs, shrunk by :data:`SHRINK` of its half-width."""
    level = anchor.value if key.endswith("size") else 1 + anchor.value
    half = anchor.half_width * (1 - SHRINK)
    low = max(level - half, level * 1e-3)  # a size printed to fewer digits than it has: keep the log finite
    return math.log(low), math.log(level + half)


def _constraints(
    design: np.ndarray, intervals: Sequence[tuple[float, float]], rows: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """A z <= b over z = (a, b, c, t) for the anchors in `rows`, plus the box when some are left out (all
    five bound every unknown on their own)."""
    a_rows, b_rows = [], []
    for i in rows:
        low, high = intervals[i]
        h = (high - low) / 2
        a_rows.append([*design[i], h])
        b_rows.append(high)
        a_rows.append([*(-design[i]), h])
        b_rows.append(-low)
    for j in range(3 if len(rows) < len(KEYS) else 0):
        unit = [0.0, 0.0, 0.0, 0.0]
        unit[j] = 1.0
        a_rows.append(unit)
        b_rows.append(BOX)
        a_rows.append([-u for u in unit])
        b_rows.append(BOX)
    return np.array(a_rows), np.array(b_rows)


def _best(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    """max t over {z : A z <= b} by vertex enumeration: (t*, the mean of the optimal vertices' x)."""
    combos = np.array(list(itertools.combinations(range(len(b)), 4)))
    systems, rhs = a[combos], b[combos]
    solvable = np.abs(np.linalg.det(systems)) > 1e-12
    vertices = np.linalg.solve(systems[solvable], rhs[solvable][..., None])[..., 0]
    scale = 1e-12 * np.maximum(1.0, np.abs(b))
    feasible = np.all(vertices @ a.T <= b + scale, axis=1)
    vertices = vertices[feasible]
    best = float(vertices[:, 3].max())
    optimal = vertices[vertices[:, 3] >= best - 1e-12]
    distinct = np.unique(np.round(optimal[:, :3], 12), axis=0)
    return best, distinct.mean(axis=0)


def _modelled(x: np.ndarray, n: int) -> dict[str, float]:
    a, b, c = (float(v) for v in x)
    return {
        "base_size": math.exp(a),
        "next_size": math.exp(b),
        "historic_growth": math.exp(b - a) - 1,
        "horizon_size": math.exp(b + n * c),
        "forecast_cagr": math.exp(c) - 1,
    }


def _conflict(design: np.ndarray, intervals: Sequence[tuple[float, float]]) -> tuple[int, ...]:
    """The smallest set of anchors (by position in :data:`KEYS`) that no path satisfies together."""
    for size in range(2, len(KEYS) + 1):
        for rows in itertools.combinations(range(len(KEYS)), size):
            if _best(*_constraints(design, intervals, rows))[0] < 0:
                return rows
    return tuple(range(len(KEYS)))


def calibrate(assumptions: AssumptionSet) -> Calibration:
    """The most central path inside every published interval; :class:`CalibrationError` if none exists."""
    anchors = assumptions.anchors
    n = assumptions.horizon_year - assumptions.next_year
    design = _design(n)
    intervals = [_log_interval(k, anchors[k]) for k in KEYS]
    margin, x = _best(*_constraints(design, intervals, range(len(KEYS))))
    modelled = _modelled(x, n)
    residuals = tuple(Residual(anchors[k], modelled[k]) for k in KEYS)
    if margin < 0:
        conflicting = [anchors[KEYS[i]] for i in _conflict(design, intervals)]
        listed = ", ".join(f"{a.label} ({a.value:.{a.decimals}f})" for a in conflicting[:-1])
        last = conflicting[-1]
        raise CalibrationError(
            f"The anchors in {assumptions.origin} are inconsistent: no path reproduces {listed} and "
            f"{last.label} ({last.value:.{last.decimals}f}) together at their published precision"
        )
    return Calibration(
        base_size=modelled["base_size"],
        next_size=modelled["next_size"],
        historic_growth=modelled["historic_growth"],
        forecast_cagr=modelled["forecast_cagr"],
        horizon_size=modelled["horizon_size"],
        residuals=residuals,
        margin=margin,
    )
