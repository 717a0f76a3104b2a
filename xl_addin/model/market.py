"""The market: totals by year and scenario, splits by dimension, the growth bridge, tornado and fan, and
every publisher's estimate beside them.

A :class:`Market` is built once from an :class:`AssumptionSet` in named steps (calibration, growth
rates, the basis path, scenario paths, statuses, name resolution tables, share tables, joint tables), all
computed up front as arrays; every question after that is an index into them. Scalar answers are
cached, so recalculating thousands of cells costs a dictionary lookup each. The Monte Carlo fan is
simulated by :mod:`.uncertainty` from the numbers :meth:`Market.fan_inputs` gives it; publishers'
estimates are made paths by :mod:`.estimates`. :func:`market_for` keeps one market per assumption file
and overrides.

The equations (B base year, N next year, H horizon, g_F the forecast growth, LR ``long_run_growth``,
F ``fade_years``):

- **The model's own path** (basis = the market's source, the default): V(t) = V_B / (1 + g_back)^(B - t)
  before B; V_B at B; V_N (1 + g_F)^(t - N) from N to H; after H, V(t) = V(t-1) (1 + g(t)) with
  g(t) = LR + (g_F - LR) w(t) and w(t) = max(0, 1 - (t - H) / F) (:meth:`Market.fade_weight`), or
  g(t) = ``extrapolation_growth`` in every year after H when the set gives one. LR is 0 when g_F has the
  other sign (:func:`~.estimates.fade_target`): a fade never turns a decline into growth.
- **Another basis** (``basis=consensus`` or an estimate id): the base total B(t) is that path in every
  year (:mod:`.estimates`: the consensus median, or the publisher's path).
- **Scenarios** keep their growth difference to base: with D_s = g_s - g_F (g_s the scenario's drivers
  compounded, :meth:`Market.driver_growths`), V_s(t) = B(t) for t <= N and
  V_s(t) = V_s(t-1) (1 + b(t) + D_s w(t)) after, where b(t) = B(t) / B(t-1) - 1 is the base path's own
  growth and w(t) = 1 up to H, then the fade weight. Base with a driver what-if is such a scenario too.
- **Driver what-ifs** (``driver.telemedicine=0.05``) change the driver in base and, by the same amount,
  in every scenario that sets it; the price-and-mix residual keeps its calibrated value, so every
  scenario's growth moves in the driver's direction.
- **The growth bridge**: (1 + g) = prod(1 + driver growth) over the factors volume, penetration and price,
  g the CAGR N-H of the scenario's path. On the model's own path the price-and-mix residual is calibrated
  (it closes the base bridge to g_F); under another basis it is re-solved per scenario,
  r_s = (1 + CAGR_s) / prod(1 + other drivers) - 1, so the bridge describes the path followed.
- **Splits**: a member's value is the total times its share, share_m(t) = s_m (1+d_m)^(t-B) / sum_k
  s_k (1+d_k)^(t-B).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError, InvalidArgument
from .assumptions import (
    CONSENSUS,
    DIMENSIONS,
    RESERVED_SCENARIO,
    TOTAL_ALIASES,
    AssumptionSet,
    PublisherEstimate,
    format_overrides,
    load_assumptions,
    member_lookup,
    normalise,
    parse_overrides,
    resolve_dimension,
    with_overrides,
)
from .calibration import Calibration, calibrate
from .estimates import (
    Consensus,
    Estimate,
    EstimatePath,
    cagr_warnings,
    consensus_of,
    estimate_path,
    fade_target,
    fade_weight,
    median_path,
    units_warnings,
)
from .status import (
    BACK_CAST,
    CONSENSUS_MEDIAN,
    ESTIMATE_FADING,
    EXTRAPOLATED,
    INTERPOLATED,
    OVERRIDE,
    PROJECTED,
    PUBLISHED,
    basis_label,
    estimate_status,
    status_text,
)
from .uncertainty import MAX_PATHS, Fan, FanInputs, simulate

#: The version of the engine's equations (calibration, paths, splits, bridge, scenarios, Monte Carlo):
#: raised when a formula changes what a number is, not with every release of the package. Every output
#: carries it with the assumption set's hash, so a figure can be traced to the equations that made it.
#: 2.0: exact calibration, the long-run fade, bases, driver what-ifs that keep the residual.
#: 2.1: the Monte Carlo band's width from each driver's file width (a what-if moves its centre only), a fade
#: that never reverses a published trend, the market's own publication as the model's path.
MODEL_VERSION = "2.1"
UNITS = "USD bn"
SEGMENT_DIMENSIONS = ("service", "modality", "end_user")


class Point(NamedTuple):
    """One value with what it is and where it stands."""

    year: int
    value: float
    status: str
    scenario: str
    region: str | None
    segment: str | None


class BreakdownRow(NamedTuple):
    """One member of a dimension in one year (``status`` says the split is assumed)."""

    member: str
    value: float
    share: float
    cagr: float
    status: str = ""


class BridgeFactor(NamedTuple):
    """One factor of the growth bridge with the drivers that feed it."""

    factor: str
    growth: float
    drivers: tuple[tuple[str, float], ...]


class TornadoBar(NamedTuple):
    """The horizon-year value with one driver at its low and its high."""

    driver: str
    label: str
    low_growth: float
    high_growth: float
    low_value: float
    high_value: float

    @property
    def swing(self) -> float:
        """High minus low value, USD bn."""
        return self.high_value - self.low_value


class NullMeaning(NamedTuple):
    """What an assumption the set leaves null (``value: null``) stands for."""

    value: float | None
    """The value the model works out for it; None where no single value stands for it (the fade)."""
    word: str
    """A word for a table cell: ``calibrated``, ``residual``, ``fade``."""
    meaning: str
    """What it means, naming the keys it depends on: ``the calibrated historic growth 2025-2026``."""


class Market:
    """The calibrated market for one assumption set."""

    def __init__(self, assumptions: AssumptionSet) -> None:
        a = assumptions
        self.assumptions = a
        self.version = MODEL_VERSION
        self.assumption_hash = a.hash
        self.calibration: Calibration = calibrate(a)
        self.first_year, self.last_year = a.first_year, a.last_year
        self.base_year, self.next_year, self.horizon_year = a.base_year, a.next_year, a.horizon_year
        self.years = np.arange(self.first_year, self.last_year + 1)
        self.year_list: tuple[int, ...] = tuple(int(y) for y in self.years)
        self._year_index = {y: i for i, y in enumerate(self.year_list)}
        self._estimate_paths: dict[str, EstimatePath] | None = None
        self._publications: dict[str, bool] = {}
        self._warnings: tuple[str, ...] | None = None
        self._build_growth()
        self._build_basis()
        self._build_printed()
        self._build_scenario_paths()
        self._build_resolution_tables()
        self._build_share_tables()
        self._build_joint_tables()
        self._cache: dict[tuple[object, ...], float] = {}
        self._status_cache: dict[tuple[object, ...], str] = {}
        self._consensus_cache: dict[int, Consensus] = {}
        self._uncertainty_cache: dict[tuple[int, int, float], Fan] = {}

    # ------------------------------------------------------------------ building

    def _build_growth(self) -> None:
        """Growth per year before, within and after the published span, and each driver's base growth."""
        a, cal = self.assumptions, self.calibration
        #: The calibrated forecast CAGR; ``forecast_growth`` is it unless ``cagr=`` overrides it.
        self.calibrated_growth = cal.forecast_cagr
        self.forecast_growth = _given_or(a.forecast_growth_override, cal.forecast_cagr)
        self.backcast_growth = _given_or(a.backcast_growth, cal.historic_growth)
        #: The growth held after the horizon when the set gives one; None: the long-run fade.
        self.extrapolation_growth: float | None = a.extrapolation_growth
        self.long_run_growth, self.fade_years = a.long_run_growth, a.fade_years
        given = {k: d.growth for k, d in a.drivers.items() if d.growth is not None}
        #: The driver the file leaves null: the price-and-mix residual that closes the growth bridge.
        self.residual_driver = next(k for k, d in a.drivers.items() if d.growth is None)
        # The residual makes the bridge of the file's drivers multiply back to the forecast growth; a
        # driver what-if leaves it there, so the what-if moves the forecast.
        self.residual_growth = (1 + self.forecast_growth) / math.prod(1 + g for g in given.values()) - 1
        #: How far each driver what-if moves its driver (the what-if minus the file's growth).
        self.driver_shift = {k: g - given[k] for k, g in a.driver_overrides.items()}
        self.base_driver_growth: dict[str, float] = {
            k: a.driver_overrides.get(k, _given_or(d.growth, self.residual_growth))
            for k, d in a.drivers.items()
        }
        #: True when the base scenario's forecast growth is not the calibrated one (``cagr=``, ``driver.``).
        self.overridden = a.forecast_growth_override is not None or bool(a.driver_overrides)
        self.default_basis = a.market.source
        #: What the total follows: the market's source (the model's own path), ``consensus`` or an estimate.
        self.basis = a.basis or self.default_basis

    def _build_basis(self) -> None:
        """The base total in every year: the model's own path, or the basis path; and each year's word."""
        path: Sequence[float]
        if self.basis == self.default_basis:
            path, words = list(self.own_path()), self.own_words()
            self.fade_start = self.horizon_year
        elif self.basis == CONSENSUS:
            excluded = self.consensus_excluded()
            paths = [p for k, p in self.estimate_paths().items() if k not in excluded]
            path, words = median_path(paths, len(self.year_list))
            self.fade_start = min(p.estimate.years[-1] for p in paths)
        else:
            chosen = self.estimate_paths()[self.basis]
            path, words = chosen.values, chosen.words
            self.fade_start = chosen.estimate.years[-1]
        #: The base total in every model year (USD bn) and each year's word: the path the total follows.
        self.basis_path: tuple[float, ...] = tuple(float(v) for v in path)
        self.basis_words: tuple[str, ...] = tuple(words)
        self._basis_path = np.array(path, dtype=float)
        self._weights = np.array([self.fade_weight(y) if y > self.next_year else 0.0 for y in self.year_list])

    def _build_printed(self) -> None:
        """The sizes the market's own publication printed, by year, where the model's own path reproduces
        them (to within half their last digit: calibration makes it so, a what-if such as ``cagr=`` moves
        the years after the next one away)."""
        own = self.own_path()
        printed: dict[int, tuple[float, float]] = {}
        for anchor in self.assumptions.anchors.values():
            y = anchor.year
            if anchor.kind != "published" or y is None or y not in self._year_index or anchor.units != UNITS:
                continue
            value = float(own[self._year_index[y]])
            if abs(value - anchor.value) < 0.5 * 10.0**-anchor.decimals:
                printed[y] = (value, anchor.value)
        #: Year -> (the model's value, the figure as printed), USD bn: see :meth:`as_published`.
        self.printed: Mapping[int, tuple[float, float]] = printed

    def as_published(self, value: float, units: str = "bn") -> float:
        """``value`` (USD bn) as a reader should see it in ``units``, still in USD bn: the figure as printed
        where ``value`` is the model's own path in a year whose size the market's publication printed, and
        ``units`` is finer than the publication's. The model reproduces 18.08 bn as 18.077659 (18.08 at the
        publication's precision), so in USD mn it shows as 18,080, not 18,078. Every other value (other
        years, a region or segment, another publisher's path, a Monte Carlo band with any width, growth) is
        the model's own. In USD bn, the publication's unit, the model's value itself is returned: it shows
        as printed at the two decimals money is shown with, and growth worked out from it stays the model's.

        >>> m = default_market()
        >>> m.as_published(m.forecast(2025), "mn"), m.as_published(m.forecast(2025), "bn") == m.forecast(2025)
        (18.08, True)
        """
        if units == "bn":
            return value
        for model, figure in self.printed.values():
            if math.isclose(value, model, rel_tol=1e-12):
                return figure
        return value

    def own_path(self, growth: float | None = None) -> np.ndarray:
        """The model's own path in every model year, USD bn (the first equation of this module's docstring):
        what the total is under the default basis, whatever basis this market follows. ``growth``: the
        forecast growth to use (default: this market's, a ``cagr=`` what-if included)."""
        cal, g = self.calibration, self.forecast_growth if growth is None else growth
        values = np.empty(len(self.year_list))
        for i, y in enumerate(self.year_list):
            if y < self.base_year:
                values[i] = cal.base_size / (1 + self.backcast_growth) ** (self.base_year - y)
            elif y == self.base_year:
                values[i] = cal.base_size
            elif y <= self.horizon_year:
                values[i] = cal.next_size * (1 + g) ** (y - self.next_year)
            else:
                values[i] = values[i - 1] * (1 + self.post_horizon_growth(y, g))
        return values

    def own_words(self) -> tuple[str, ...]:
        """The word of each model year on the model's own path: back-cast, published, interpolated,
        extrapolated."""
        words = []
        for y in self.year_list:
            if y < self.base_year:
                words.append(BACK_CAST)
            elif y in (self.base_year, self.next_year, self.horizon_year):
                words.append(PUBLISHED)
            elif y < self.horizon_year:
                words.append(INTERPOLATED)
            else:
                words.append(EXTRAPOLATED)
        return tuple(words)

    def fade_weight(self, year: int) -> float:
        """w(t): 1 up to the horizon, then max(0, 1 - (t - H) / fade_years) (0 from H + fade_years on).

        How much of the forecast growth (and of a scenario's difference to base) is left in year t.
        """
        return fade_weight(year - self.horizon_year, self.fade_years)

    def post_horizon_growth(self, year: int, growth: float | None = None) -> float:
        """The model's own growth in a year after the horizon, base scenario:
        ``extrapolation_growth`` if the set gives one, else LR + (g_F - LR) w(t) (``growth``: g_F, default
        this market's forecast growth)."""
        if self.extrapolation_growth is not None:
            return self.extrapolation_growth
        g = self.forecast_growth if growth is None else growth
        target = fade_target(g, self.long_run_growth)
        return target + (g - target) * self.fade_weight(year)

    def _build_scenario_paths(self) -> None:
        """Each scenario's growth, total in every year and the status of every year."""
        self.scenario_names: tuple[str, ...] = self._scenario_order()
        self._scenario_lookup = {normalise(s): s for s in self.scenario_names}
        for s in self.scenario_names:
            spec = self.assumptions.scenarios.get(s)
            if spec is not None:
                self._scenario_lookup.setdefault(normalise(spec.label), s)
        self.scenario_growth = {s: self._growth_for(s) for s in self.scenario_names}
        self._totals = {s: self._scenario_path(s) for s in self.scenario_names}
        self._status = {s: self._statuses(s) for s in self.scenario_names}
        # Plain Python rows for scalar questions: indexing a list is several times cheaper than numpy.
        self._total_rows = {s: [float(v) for v in path] for s, path in self._totals.items()}

    def growth_difference(self, scenario: object = RESERVED_SCENARIO) -> float:
        """D_s = g_s - g_F: how much faster a scenario grows than the path the total is built on, in the
        forecast years (0 for base unless a driver what-if moved it). After the horizon it fades with
        :meth:`fade_weight`: the scenario's growth in year t is b(t) + D_s w(t)."""
        return self.scenario_growth[self.scenario(scenario)] - self.forecast_growth

    def _scenario_path(self, scenario: str) -> np.ndarray:
        """B(t) up to N, then V_s(t) = V_s(t-1) (1 + b(t) + D_s w(t)), kept as B(t) times a ratio so that a
        scenario with no difference is the basis path exactly."""
        difference = self.growth_difference(scenario)
        path = self._basis_path
        if difference == 0.0 and scenario == RESERVED_SCENARIO:
            return path.copy()
        base_growth = path[1:] / path[:-1] - 1
        steps = (1 + base_growth + difference * self._weights[1:]) / (1 + base_growth)
        ratio = np.concatenate(([1.0], np.cumprod(steps)))
        return path * ratio

    def _build_resolution_tables(self) -> None:
        """Names and aliases -> canonical members, per dimension; the words for the whole market."""
        self._member_index: dict[str, dict[str, int]] = {}
        self._lookup: dict[str, dict[str, str]] = {}
        for key, dim in self.assumptions.dimensions.items():
            self._member_index[key] = {m.name: i for i, m in enumerate(dim.members)}
            self._lookup[key] = member_lookup({m.name: {"aliases": m.aliases} for m in dim.members})
        self._totals_lookup = {normalise(t) for t in TOTAL_ALIASES}
        self._resolved: dict[tuple[str, object], object] = {}

    def _build_share_tables(self) -> None:
        """Every member's share of the market in every year (members x years, per dimension)."""
        offsets = self.years - self.base_year
        self._shares: dict[str, np.ndarray] = {
            key: _mix([m.share for m in dim.members], [m.growth for m in dim.members], offsets)
            for key, dim in self.assumptions.dimensions.items()
        }
        self._share_rows = {
            key: {name: [float(v) for v in table[i]] for name, i in self._member_index[key].items()}
            for key, table in self._shares.items()
        }

    def _build_joint_tables(self) -> None:
        """The segment mix within a region, where a joint table gives one, shifting with relative growth."""
        a, offsets = self.assumptions, self.years - self.base_year
        self._joint_rows: dict[str, dict[str, dict[str, list[float]]]] = {}
        for seg_dim, rows in a.joint.items():
            growth = {m.name: m.growth for m in a.dimensions[seg_dim].members}
            for region, shares in rows.items():
                mix = _mix(list(shares.values()), [growth[n] for n in shares], offsets)
                self._joint_rows.setdefault(seg_dim, {})[region] = {
                    n: [float(v) for v in mix[j]] for j, n in enumerate(shares)
                }

    def _scenario_order(self) -> tuple[str, ...]:
        custom = [s for s in self.assumptions.scenarios if s not in ("bear", "bull")]
        order = [s for s in ("bear",) if s in self.assumptions.scenarios]
        order.append(RESERVED_SCENARIO)
        order += [s for s in ("bull",) if s in self.assumptions.scenarios]
        return tuple(order + custom)

    def driver_growths(self, scenario: str) -> dict[str, float]:
        """Each driver's growth per year in a scenario's forecast years.

        Base: the file's growths, what-ifs in their place, the residual at its calibrated value. A scenario
        sets its own drivers; a what-if on a driver it sets moves it by the same amount as base's.
        """
        growth = dict(self.base_driver_growth)
        if scenario != RESERVED_SCENARIO:
            for key, value in self.assumptions.scenarios[scenario].drivers.items():
                growth[key] = value + self.driver_shift.get(key, 0.0)
        return growth

    def _growth_for(self, scenario: str) -> float:
        if scenario == RESERVED_SCENARIO and not self.assumptions.driver_overrides:
            return self.forecast_growth  # pinned to the calibration, not a product that could drift an ulp
        return math.prod(1 + g for g in self.driver_growths(scenario).values()) - 1

    # ------------------------------------------------------------------ statuses

    def _moves(self, scenario: str) -> bool:
        """True when the scenario's path is not the basis path as published (a scenario, a growth what-if)."""
        return scenario != RESERVED_SCENARIO or self.overridden

    def _statuses(self, scenario: str) -> tuple[str, ...]:
        """The total's status in every year (see :mod:`.status`)."""
        return tuple(
            status_text(self._word(i, scenario), qualifiers=self._qualifiers(i, scenario, False))
            for i in range(len(self.year_list))
        )

    def _word(self, i: int, scenario: str) -> str:
        word = self.basis_words[i]
        if (
            word in (PUBLISHED, CONSENSUS_MEDIAN)
            and self.year_list[i] > self.next_year
            and self._moves(scenario)
        ):
            return PROJECTED
        return word

    def _qualifiers(self, i: int, scenario: str, split_moved: bool) -> list[str]:
        y, moved = self.year_list[i], self.assumptions.moved
        qualifiers = [scenario] if scenario != RESERVED_SCENARIO and y > self.next_year else []
        fade_from = (
            self.fade_start if scenario == RESERVED_SCENARIO else min(self.fade_start, self.horizon_year)
        )
        if (
            split_moved
            or (y > self.next_year and moved & {"forecast", "drivers"})
            or (y < self.base_year and "backcast" in moved)
            or (y > self.horizon_year and "extrapolation" in moved)
            or (y > fade_from and "fade" in moved)
        ):
            qualifiers.append(OVERRIDE)
        if self.basis != self.default_basis:
            qualifiers.append(basis_label(self.basis))
        return qualifiers

    def _split_status(self, i: int, scenario: str, region: str | None, seg_dim: str | None) -> str:
        """The status of a region or segment value: the total's word, the split assumed, what moved it."""
        key = (i, scenario, region, seg_dim)
        found = self._status_cache.get(key)
        if found is not None:
            return found
        moved, y = self.assumptions.moved, self.year_list[i]
        split_moved = False
        if region is not None:
            split_moved = "share.region" in moved or ("growth.region" in moved and y != self.base_year)
        if seg_dim is not None:
            joint = region is not None and region in self._joint_rows.get(seg_dim, {})
            split_moved = (
                split_moved
                or (f"share.{seg_dim}" in moved and not joint)
                or (f"growth.{seg_dim}" in moved and y != self.base_year)
            )
        text = status_text(
            self._word(i, scenario), split=True, qualifiers=self._qualifiers(i, scenario, split_moved)
        )
        self._status_cache[key] = text
        return text

    def _status_of(self, i: int, scenario: str, region: str | None, seg_dim: str | None) -> str:
        if region is None and seg_dim is None:
            return self._status[scenario][i]
        return self._split_status(i, scenario, region, seg_dim)

    # ------------------------------------------------------------------ resolving names

    def year(self, year: object, argument: str = "year") -> int:
        """A year as a whole number inside the model's range; Excel-style floats like 2030.0 are fine."""
        if isinstance(year, bool):
            value = None
        elif isinstance(year, int):
            value = year
        elif isinstance(year, float) and year.is_integer():
            value = int(year)
        elif isinstance(year, _dt.date):
            value = year.year
        # isdecimal, not isdigit: "²⁰³⁰" is digits int() refuses; a year has at most a few of them.
        elif isinstance(year, str) and year.strip().isdecimal() and len(year.strip()) <= 6:
            value = int(year.strip())
        else:
            value = None
        if value is None or value not in self._year_index:
            raise InvalidArgument(argument, year, f"a year from {self.first_year} to {self.last_year}")
        return value

    def scenario(self, name: object) -> str:
        """A scenario name (any case, or its label) -> its key; None or '' is base."""
        if name is None or (isinstance(name, str) and not name.strip()):
            return RESERVED_SCENARIO
        if isinstance(name, str):
            found = self._scenario_lookup.get(normalise(name))
            if found is not None:
                return found
        raise InvalidArgument("scenario", name, self.scenario_names)

    def dimension(self, name: object) -> str:
        """A dimension name ('end user', 'Regions') -> its key."""
        if not isinstance(name, str):
            raise InvalidArgument("dimension", name, DIMENSIONS)
        return resolve_dimension(name)

    def member(self, dimension: str, name: object) -> str:
        """A member name or alias within one dimension -> its canonical name.

        A name that is not a member (a country, a union spanning two regions) is refused with what it is
        and the closest members, never answered with another geography's figure.
        """
        dim = self.assumptions.dimensions[dimension]
        if isinstance(name, str):
            found = self._lookup[dimension].get(normalise(name))
            if found is not None:
                return found
            refusal = dim.refusal_error(name)
            if refusal is not None:
                raise refusal
        raise InvalidArgument(dim.label, name, dim.names)

    def region(self, name: object) -> str | None:
        """A region name or alias -> canonical name; None, '' or 'Global' is the whole market.
        ``region:`` before the name is allowed, as ``modality:`` is before a segment."""
        if isinstance(name, str) and ":" in name:
            dim_text, _, rest = name.partition(":")
            if self.dimension(dim_text.strip()) != "region":
                raise InvalidArgument(
                    "region", name, "a region (a service, modality or end user is a segment)"
                )
            name = rest.strip()
        if self._is_total(name):
            return None
        return self.member("region", name)

    def segment(self, name: object) -> tuple[str | None, str | None]:
        """A service, modality or end-user member -> (dimension, member); 'modality:Other' is explicit."""
        if self._is_total(name):
            return None, None
        if not isinstance(name, str):
            raise InvalidArgument("segment", name, self.segment_names())
        if ":" in name:
            dim_text, _, member = name.partition(":")
            dim = self.dimension(dim_text.strip())
            if dim not in SEGMENT_DIMENSIONS:
                raise InvalidArgument("segment dimension", dim_text.strip(), SEGMENT_DIMENSIONS)
            return dim, self.member(dim, member.strip())
        wanted = normalise(name)
        hits = [(d, self._lookup[d][wanted]) for d in SEGMENT_DIMENSIONS if wanted in self._lookup[d]]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            options = ", ".join(f"{d}:{m}" for d, m in hits)
            raise InvalidArgument("segment", name, f"one segment; it is ambiguous, write one of {options}")
        self._refuse(name, SEGMENT_DIMENSIONS, "segment")
        raise InvalidArgument("segment", name, self.segment_names())

    def _refuse(self, name: str, dimensions: tuple[str, ...], argument: str) -> None:
        """Raise the explanation for a refused name (a country, a part of a member) of any of the dimensions."""
        for d in dimensions:
            refusal = self.assumptions.dimensions[d].refusal_error(name, argument)
            if refusal is not None:
                raise refusal

    def segment_names(self) -> list[str]:
        """Every service, modality and end-user member name."""
        return [n for d in SEGMENT_DIMENSIONS for n in self.assumptions.dimensions[d].names]

    def _is_total(self, name: object) -> bool:
        return name is None or (
            isinstance(name, str) and (not name.strip() or normalise(name) in self._totals_lookup)
        )

    def members(self, dimension: str) -> tuple[str, ...]:
        """The members of a dimension, in order."""
        return self.assumptions.dimensions[self.dimension(dimension)].names

    def null_meaning(self, key: str) -> NullMeaning | None:
        """What an assumption key (as :meth:`AssumptionSet.entries` names it) stands for when the set leaves
        it null, or None when it has a value: ``extension.backcast_growth`` is the calibrated historic
        growth, ``extension.extrapolation_growth`` the long-run fade, a driver's growth the bridge's
        residual. The command line and ``IMGOUT_ASSUMPTION`` say it in these words."""
        a, parts = self.assumptions, key.split(".")
        if key == "extension.backcast_growth" and a.backcast_growth is None:
            years = f"{self.base_year}-{self.next_year}"
            return NullMeaning(self.backcast_growth, "calibrated", f"the calibrated historic growth {years}")
        if key == "extension.extrapolation_growth" and a.extrapolation_growth is None:
            return NullMeaning(
                None,
                "fade",
                f"after {self.horizon_year} growth fades to extension.long_run_growth over extension.fade_years",
            )
        driver = a.drivers.get(parts[1]) if len(parts) == 3 and parts[0] == "drivers" else None
        if driver is not None and driver.growth is None:
            return NullMeaning(
                self.base_driver_growth[driver.key],
                "residual",
                "the residual that makes the growth bridge multiply back to the forecast growth",
            )
        return None

    # ------------------------------------------------------------------ the questions

    def forecast(
        self,
        year: object,
        region: object = None,
        segment: object = None,
        scenario: object = RESERVED_SCENARIO,
    ) -> float:
        """The market size in USD bn for a year, optionally one region and one segment, in a scenario."""
        key = (year, region, segment, scenario)
        try:
            return self._cache[key]
        except (KeyError, TypeError):
            pass
        seg_dim, seg = self._memo("segment", segment, self.segment)
        value = self._value(
            self._memo("year", year, self.year),
            self._memo("region", region, self.region),
            seg_dim,
            seg,
            self._memo("scenario", scenario, self.scenario),
        )
        with contextlib.suppress(TypeError):  # unhashable input (a list from a range) is answered, not cached
            self._cache[key] = value
        return value

    def growth(
        self,
        year: object,
        region: object = None,
        segment: object = None,
        scenario: object = RESERVED_SCENARIO,
    ) -> float | None:
        """Growth over the year before, as a fraction; None for the model's first year."""
        y = self.year(year)
        if y == self.first_year:
            return None
        return (
            self.forecast(y, region, segment, scenario) / self.forecast(y - 1, region, segment, scenario) - 1
        )

    def _memo(self, kind: str, given: object, resolve: Callable[[Any], Any]) -> Any:
        """Resolve a name once: thousands of cells repeat the same few regions, segments and scenarios."""
        key = (kind, given)
        try:
            return self._resolved[key]
        except KeyError:
            found = self._resolved[key] = resolve(given)
            return found
        except TypeError:  # unhashable (a list from a range): resolve, and let resolve explain
            return resolve(given)

    def _value(
        self, year: int, region: str | None, seg_dim: str | None, segment: str | None, scenario: str
    ) -> float:
        i = self._year_index[year]
        value = self._total_rows[scenario][i]
        if region is not None:
            value *= self._share_rows["region"][region][i]
        if seg_dim is not None and segment is not None:
            within = self._joint_rows.get(seg_dim, {}).get(region) if region is not None else None
            value *= (within or self._share_rows[seg_dim])[segment][i]
        return value

    def point(
        self,
        year: object,
        region: object = None,
        segment: object = None,
        scenario: object = RESERVED_SCENARIO,
    ) -> Point:
        """The value with its status (see :mod:`.status`: ``published``, ``interpolated total, assumed
        split``, ``projected (bull)`` ...)."""
        y, r, (sd, sm), s = (
            self.year(year),
            self.region(region),
            self.segment(segment),
            self.scenario(scenario),
        )
        i = self._year_index[y]
        return Point(y, self._value(y, r, sd, sm, s), self._status_of(i, s, r, sd), s, r, sm)

    def status(
        self,
        year: object,
        scenario: object = RESERVED_SCENARIO,
        region: object = None,
        segment: object = None,
    ) -> str:
        """What a value is, in the words of :mod:`.status`: the year's word (back-cast, published,
        interpolated, projected, extrapolated), ``total, assumed split`` for a region or segment, and in
        parentheses the scenario, ``override`` and ``basis: ...`` where they apply."""
        y, s = self.year(year), self.scenario(scenario)
        r, (sd, _) = self.region(region), self.segment(segment)
        return self._status_of(self._year_index[y], s, r, sd)

    def series(
        self,
        first_year: object,
        last_year: object,
        region: object = None,
        segment: object = None,
        scenario: object = RESERVED_SCENARIO,
    ) -> list[Point]:
        """Values for every year from first to last inclusive."""
        first, last = self._span(first_year, last_year, allow_equal=True)
        r, (sd, sm), s = self.region(region), self.segment(segment), self.scenario(scenario)
        return [
            Point(y, self._value(y, r, sd, sm, s), self._status_of(self._year_index[y], s, r, sd), s, r, sm)
            for y in range(first, last + 1)
        ]

    def _span(self, first_year: object, last_year: object, *, allow_equal: bool) -> tuple[int, int]:
        first = self.year(first_year, "first year")
        last = self.year(last_year, "last year")
        if last < first or (last == first and not allow_equal):
            relation = "at or after" if allow_equal else "after"
            raise InvalidArgument("last year", last, f"a year {relation} the first year {first}")
        return first, last

    def cagr(
        self,
        from_year: object,
        to_year: object,
        region: object = None,
        segment: object = None,
        scenario: object = RESERVED_SCENARIO,
    ) -> float:
        """Compound annual growth from one year to a later one, as a fraction (0.091 is 9.1 %)."""
        first, last = self._span(from_year, to_year, allow_equal=False)
        start = self.forecast(first, region, segment, scenario)
        end = self.forecast(last, region, segment, scenario)
        return float((end / start) ** (1.0 / (last - first)) - 1.0)

    def share(self, year: object, member: object, scenario: object = RESERVED_SCENARIO) -> float:
        """A member's share of the market in a year, as a fraction; the member may be of any dimension."""
        self.scenario(scenario)  # validated; shares do not depend on the scenario's totals
        y = self.year(year)
        dim, name = self.find_member(member)
        return float(self._shares[dim][self._member_index[dim][name], self._year_index[y]])

    def find_member(self, name: object) -> tuple[str, str]:
        """Any member of any dimension -> (dimension, member); 'region:NA' is explicit."""
        if isinstance(name, str) and ":" in name:
            dim_text, _, member = name.partition(":")
            dim = self.dimension(dim_text.strip())
            return dim, self.member(dim, member.strip())
        if isinstance(name, str):
            wanted = normalise(name)
            hits = [(d, self._lookup[d][wanted]) for d in DIMENSIONS if wanted in self._lookup[d]]
            if len(hits) == 1:
                return hits[0]
            if hits:
                options = ", ".join(f"{d}:{m}" for d, m in hits)
                raise InvalidArgument("member", name, f"one member; it is ambiguous, write one of {options}")
            self._refuse(name, DIMENSIONS, "member")
        everything = [n for d in DIMENSIONS for n in self.assumptions.dimensions[d].names]
        raise InvalidArgument("member", name, everything)

    def breakdown(
        self, year: object, dimension: object, scenario: object = RESERVED_SCENARIO, region: object = None
    ) -> list[BreakdownRow]:
        """Every member of a dimension in a year: value, share, CAGR over the forecast period and status.

        With a region, a segment dimension is split within that region. Every share is positive (the
        assumption set refuses a zero share), so every CAGR is defined.
        """
        y, s = self.year(year), self.scenario(scenario)
        dim = self.dimension(dimension)
        r = self.region(region)
        if dim == "region" and r is not None:
            raise InvalidArgument("region", region, "no region filter when breaking down by region")
        rows = []
        total = self._value(y, r if dim != "region" else None, None, None, s)
        for name in self.assumptions.dimensions[dim].names:
            reg, seg = (name, None) if dim == "region" else (r, name)
            sd = None if dim == "region" else dim
            value = self._value(y, reg, sd, seg, s)
            start = self._value(self.next_year, reg, sd, seg, s)
            end = self._value(self.horizon_year, reg, sd, seg, s)
            growth = (end / start) ** (1 / (self.horizon_year - self.next_year)) - 1
            status = self._split_status(self._year_index[y], s, reg, sd)
            rows.append(BreakdownRow(name, value, value / total, float(growth), status))
        return rows

    def scenarios(
        self, first_year: object, last_year: object, region: object = None, segment: object = None
    ) -> list[tuple[int, dict[str, float]]]:
        """Years x scenarios: for each year, every scenario's value."""
        first, last = self._span(first_year, last_year, allow_equal=True)
        r, (sd, sm) = self.region(region), self.segment(segment)
        return [
            (y, {s: self._value(y, r, sd, sm, s) for s in self.scenario_names})
            for y in range(first, last + 1)
        ]

    def bridge(self, scenario: object = RESERVED_SCENARIO) -> list[BridgeFactor]:
        """The growth bridge: (1+g) = (1+volume)(1+penetration)(1+price), each from its drivers, where g is
        the growth of the path the scenario's total follows over the forecast period.

        On the model's own path the price-and-mix residual keeps its calibrated value (the drivers
        multiply back to the forecast growth, or to a scenario's); under another basis it is re-solved,
        :meth:`bridge_residual`, so the bridge multiplies back to the CAGR of the path actually followed.
        """
        s = self.scenario(scenario)
        growths = self.driver_growths(s)
        growths[self.residual_driver] = self.bridge_residual(s)
        factors = []
        for factor in ("volume", "penetration", "price"):
            members = tuple(
                (k, growths[k]) for k, d in self.assumptions.drivers.items() if d.factor == factor
            )
            factors.append(BridgeFactor(factor, math.prod(1 + g for _, g in members) - 1, members))
        return factors

    def bridge_residual(self, scenario: object = RESERVED_SCENARIO) -> float:
        """The price-and-mix residual of a scenario's growth bridge: its calibrated value on the model's own
        path; under another basis, (1 + CAGR N-H of the scenario's path) / the other drivers compounded - 1,
        so that the bridge describes the path the total follows."""
        s = self.scenario(scenario)
        growths = self.driver_growths(s)
        if self.basis == self.default_basis:
            return growths[self.residual_driver]
        others = math.prod(1 + g for k, g in growths.items() if k != self.residual_driver)
        return (1 + self.cagr(self.next_year, self.horizon_year, scenario=s)) / others - 1

    def tornado(self) -> list[TornadoBar]:
        """The horizon-year base value with each driver at its low and its high, widest swing first.

        A bar is V(H) ((1 + end) / (1 + the driver's base growth))^(H - N): the base total with that one
        driver's growth replaced over the forecast years.
        """
        n = self.horizon_year - self.next_year
        base = self.base_driver_growth
        horizon = self._totals[RESERVED_SCENARIO][self._year_index[self.horizon_year]]
        bars = []
        for key, driver in self.assumptions.drivers.items():
            low, high = self._driver_range(key)
            low_value = horizon * ((1 + low) / (1 + base[key])) ** n
            high_value = horizon * ((1 + high) / (1 + base[key])) ** n
            bars.append(TornadoBar(key, driver.label, low, high, low_value, high_value))
        return sorted(bars, key=lambda b: b.swing, reverse=True)

    def _driver_range(self, key: str) -> tuple[float, float]:
        """A driver's low and high (P10, P90), widened to hold a what-if that lies outside them."""
        d, g = self.assumptions.drivers[key], self.base_driver_growth[key]
        return min(d.low, g), max(d.high, g)

    def fan_inputs(self) -> FanInputs:
        """What the Monte Carlo simulates from: the base path, the fade weights and every driver's spread as
        the assumption file gives it (its low-high width; a what-if moves the centre, not the width: see
        :mod:`.uncertainty`)."""
        drivers = list(self.assumptions.drivers.values())
        return FanInputs(
            years=self.year_list,
            base_path=self._totals[RESERVED_SCENARIO],
            weights=self._weights,
            next_year=self.next_year,
            driver_low=np.array([d.low for d in drivers]),
            driver_high=np.array([d.high for d in drivers]),
            annual_volatility=self.assumptions.uncertainty.annual_volatility,
        )

    def uncertainty(self, paths: int | None = None, seed: int | None = None) -> Fan:
        """The Monte Carlo fan (cached per paths and seed)."""
        u = self.assumptions.uncertainty
        key = (paths or u.paths, u.seed if seed is None else seed, u.annual_volatility)
        if not 0 < key[0] <= MAX_PATHS:
            raise InvalidArgument("paths", key[0], f"a whole number from 1 to {MAX_PATHS:,}")
        fan = self._uncertainty_cache.get(key)
        if fan is None:
            fan = self._uncertainty_cache[key] = simulate(self.fan_inputs(), key[0], key[1])
            _trim_markets()
        return fan

    def footprint(self) -> int:
        """About how many bytes this market holds: its tables, answers and Monte Carlo fans."""
        fans = sum(f.sorted_values.nbytes + 3 * f.p50.nbytes for f in self._uncertainty_cache.values())
        return _MARKET_BYTES + 200 * len(self._cache) + fans

    def fan(
        self, year: object, percentile: object = 50, region: object = None, segment: object = None
    ) -> float:
        """A Monte Carlo percentile of the base-scenario value in a year (P10, P50, P90 ...)."""
        if (
            isinstance(percentile, bool)
            or not isinstance(percentile, int | float)
            or not 0 < percentile < 100
        ):
            raise InvalidArgument("percentile", percentile, "a number between 0 and 100 such as 10, 50 or 90")
        y, r, (sd, sm) = self.year(year), self.region(region), self.segment(segment)
        share = self._value(y, r, sd, sm, RESERVED_SCENARIO) / self._value(
            y, None, None, None, RESERVED_SCENARIO
        )
        return self.uncertainty().percentile(y, float(percentile)) * share

    # ------------------------------------------------------------------ publishers' estimates

    def estimate_paths(self) -> dict[str, EstimatePath]:
        """Every publisher's estimate as a path over the model's years (computed once, on first use).

        One path per publisher: the market's own publication (an estimate of ``market.source`` whose every
        figure the model's path reproduces at its precision) *is* the model's own calibrated path, in every
        year (a ``cagr=`` what-if is the model's, not the publisher's: it does not move it); the others
        follow the rules of :mod:`.estimates`.
        """
        if self._estimate_paths is None:
            a = self.assumptions
            self._estimate_paths = {
                k: self._publication_path(e)
                if self.is_publication(k)
                else estimate_path(e, self.year_list, a.long_run_growth, a.fade_years)
                for k, e in a.estimates.items()
            }
        return self._estimate_paths

    def is_publication(self, key: str) -> bool:
        """True for an estimate that is the market's own publication: its source is ``market.source`` and
        the model's calibrated path reproduces every one of its figures at its precision."""
        found = self._publications.get(key)
        if found is None:
            e = self.assumptions.estimates[key]
            own = self.own_path(self.calibrated_growth)
            found = self._publications[key] = e.source == self.assumptions.market.source and all(
                y in self._year_index
                and round(own[self._year_index[y]], e.decimals[y]) == round(v, e.decimals[y])
                for y, v in e.points.items()
            )
        return found

    def _publication_path(self, e: PublisherEstimate) -> EstimatePath:
        """The market's own publication as a path: the model's calibrated path, its words and statuses."""
        values = tuple(float(v) for v in self.own_path(self.calibrated_growth))
        words = self.own_words()
        statuses = tuple(
            estimate_status(w, fading=y > self.horizon_year and self.extrapolation_growth is None)
            for y, w in zip(self.year_list, words, strict=True)
        )
        return EstimatePath(e, values, statuses, words)

    def warnings(self) -> tuple[str, ...]:
        """What looks wrong in the set without stopping the model, one line each (the command line prints
        them on stderr; errors, not warnings, stop a run): a publisher whose figures contradict its own
        CAGR by the anchors' interval rule, a publisher more than 10x from the median of the others (a
        figure in USD million?)."""
        if self._warnings is None:
            paths = self.estimate_paths()
            found = [w for e in self.assumptions.estimates.values() for w in cagr_warnings(e)]
            self._warnings = (*found, *units_warnings(paths, self.year_list))
        return self._warnings

    def estimate_id(self, key: object) -> str:
        """An estimate id, any case ('TechSci') -> the id in the assumption set ('techsci')."""
        ids = {normalise(k): k for k in self.assumptions.estimates}
        if isinstance(key, str) and normalise(key) in ids:
            return ids[normalise(key)]
        raise InvalidArgument(
            "estimate", key, list(self.assumptions.estimates) or "an id of the set's estimates"
        )

    def _estimate_at(self, key: str, i: int) -> Estimate:
        path = self.estimate_paths()[key]
        e, y, moved = path.estimate, self.year_list[i], self.assumptions.moved
        status = path.statuses[i]
        publication = self.is_publication(key)
        if (
            ("fade" in moved and status == ESTIMATE_FADING)
            or (publication and y < self.base_year and "backcast" in moved)
            or (publication and y > self.horizon_year and "extrapolation" in moved)
        ):
            status = estimate_status(path.words[i], fading=status == ESTIMATE_FADING, moved=True)
        return Estimate(key, e.publisher, y, path.values[i], status, self.assumptions.sources[e.source])

    def estimates(self, year: object) -> list[Estimate]:
        """Every publisher's value in a year, in the order of the assumption set, each with its status
        (one of ``status.ESTIMATE_STATUSES``, ``(override)`` added to a fading one that a long-run or fade
        override moved) and source."""
        i = self._year_index[self.year(year)]
        return [self._estimate_at(k, i) for k in self.estimate_paths()]

    def estimate_series(self, key: object, first_year: object, last_year: object) -> list[Estimate]:
        """One publisher's values for every year from first to last inclusive."""
        ident = self.estimate_id(key)
        first, last = self._span(first_year, last_year, allow_equal=True)
        return [self._estimate_at(ident, self._year_index[y]) for y in range(first, last + 1)]

    def consensus(self, year: object) -> Consensus:
        """The publishers' consensus in a year: count, minimum, median, maximum, and the model's base total
        with its rank among the other publishers (1 = largest, equal at two decimals ties; the estimate the
        model follows is not ranked against itself) and its ratio to the median.

        Cached per year: a sheet of consensus cells costs a dictionary lookup each.
        """
        try:
            return self._consensus_cache[year]  # type: ignore[index]
        except (KeyError, TypeError):
            pass
        y = self.year(year)
        found = self._consensus_cache.get(y)
        if found is None:
            if not self.assumptions.estimates:
                raise InputError(f"The assumption set {self.assumptions.origin} has no estimates to compare")
            excluded = self.consensus_excluded()
            rows = [r for r in self.estimates(y) if r.key not in excluded]
            model = self._total_rows[RESERVED_SCENARIO][self._year_index[y]]
            others = [r.value for r in rows if not self.follows(r.key)]
            values, statuses = [r.value for r in rows], [r.status for r in rows]
            found = consensus_of(y, values, statuses, model, others, len(excluded))
            self._consensus_cache[y] = found
        with contextlib.suppress(TypeError):
            self._consensus_cache[year] = found  # type: ignore[index]
        return found

    def consensus_excluded(self) -> tuple[str, ...]:
        """The estimates the consensus leaves out: with ``consensus_max_age`` N, those whose source's vintage
        (the year its figures were published) is more than N years before the newest vintage among the
        estimates' sources. An undated source's age is unknown: it stays in. Off (nothing left out) by
        default."""
        a, limit = self.assumptions, self.assumptions.consensus_max_age
        if limit is None:
            return ()
        vintages = {k: a.sources[e.source].vintage for k, e in a.estimates.items()}
        newest = max((v for v in vintages.values() if v is not None), default=None)
        if newest is None:
            return ()
        return tuple(k for k, v in vintages.items() if v is not None and newest - v > limit)

    def follows(self, key: str) -> bool:
        """True for the estimate the model's total follows: the basis, or by default every estimate of the
        market's own publication (the model's path is that publication's, calibrated)."""
        if self.basis == self.default_basis:
            return self.assumptions.estimates[key].source == self.assumptions.market.source
        return key == self.basis


# --------------------------------------------------------------------------------- one market per file

_markets: dict[tuple[str, int, int, str], Market] = {}
#: The markets kept for reuse (one per assumption file and overrides) hold at most about this much memory:
#: bounded by memory, not count, since one Monte Carlo fan can outweigh a thousand markets.
CACHE_BYTES = 256 * 2**20
_MARKET_BYTES = 200_000  # a market without fans: its tables (measured with tracemalloc: about 100 kB)


def _trim_markets() -> None:
    """Forget the least recently used markets until the rest fit :data:`CACHE_BYTES` (the newest stays)."""
    total = sum(m.footprint() for m in _markets.values())
    while total > CACHE_BYTES and len(_markets) > 1:
        oldest = next(iter(_markets))
        total -= _markets.pop(oldest).footprint()


def market_for(path: str | Path | None = None, overrides: str | Mapping[str, object] | None = None) -> Market:
    """The market for an assumption file (None: the embedded default), with optional overrides.

    Cached by file, modification time and size, so a changed file is picked up and an unchanged one
    costs a stat.
    """
    if path is None or str(path) == "":
        stamp = ("", 0, 0)
    else:
        file = Path(path)
        try:
            st = file.stat()
            stamp = (str(file.resolve()), st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = (str(file), -1, -1)  # load_assumptions gives the user's error
    text = format_overrides(parse_overrides(overrides)) if overrides else ""
    key = (*stamp, text)
    market = _markets.pop(key, None)  # re-inserted below: the dict's order is least recently used first
    if market is None:
        assumptions = with_overrides(
            load_assumptions(path), text or None, _worked_out(path) if text else None
        )
        market = Market(assumptions)
        _markets[key] = market
        _trim_markets()
    else:
        _markets[key] = market
    return market


def _worked_out(path: str | Path | None) -> dict[str, float]:
    """The values an assumption file leaves to the model, as the model works them out: an override equal
    to one of them moves nothing (:func:`with_overrides`)."""
    market = market_for(path)
    return {"forecast_growth": market.calibrated_growth, "backcast_growth": market.backcast_growth}


def default_market() -> Market:
    """The market for the embedded default assumption set."""
    return market_for(None)


def _given_or(given: float | None, otherwise: float) -> float:
    """A value the assumption set gives, or (null) the one the model works out."""
    return otherwise if given is None else given


def _mix(shares: list[float], growth: list[float], offsets: np.ndarray) -> np.ndarray:
    """Members' shares in every year: s_m (1+d_m)^offset normalised to sum to 1 (members x years)."""
    raw = np.array(shares)[:, None] * (1 + np.array(growth)[:, None]) ** offsets[None, :]
    return raw / raw.sum(axis=0, keepdims=True)
