"""Publishers' estimates as calendar-year paths, and the consensus of them per year.

Each :class:`~xl_addin.model.assumptions.PublisherEstimate` (the ``estimates`` section) becomes one value
per model year, by these rules, first match wins (P_y is a published point, g a published CAGR):

1. a published year: P_y, ``published``;
2. inside a published CAGR's period that ends at a point T (and does not start at one): P_T / (1+g)^(T-y);
   one that starts at a point F (and does not end at one): P_F (1+g)^(y-F). The period stops at the
   nearest other point, and a period with no start runs back to the previous point (or for ever);
3. between two points: geometric, P_a (P_b/P_a)^((y-a)/(b-a));
4. before the first point F: P_F / (1+g)^(F-y), g the CAGR whose period holds F (else the earliest CAGR,
   else the growth between the first two points);
5. after the last point L: V(y) = V(y-1) (1 + g(y)) with g(y) = LR + (g0 - LR) w(y-L), where g0 is the
   CAGR whose period ends at or after L (else the growth between the last two points), LR the set's
   ``long_run_growth`` (0 when g0 has the other sign: :func:`fade_target`, a fade never reverses a
   published trend) and w the fade weight of :func:`fade_weight` (the same fade as the model's own path).

A year's word is the one the total takes when it follows the path: ``published``, ``interpolated`` (strictly
between the first and last points), ``back-cast`` (before the first) or ``extrapolated`` (after the last);
its status is :func:`~xl_addin.model.status.estimate_status` of that word: ``back-cast (publisher CAGR)``,
``extrapolated (publisher CAGR)``, ``extrapolated (publisher CAGR, fading)`` for a year of rule 5. The
consensus median's word is ``consensus median`` where the middle values are published or interpolated
(a median is published by nobody), else the furthest of theirs from published.

The **consensus** of a year is the count, minimum, median and maximum
of every estimate's value that year, with where the model's own total sits (its rank, 1 = largest, and its
ratio to the median).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .assumptions import PublishedCagr, PublisherEstimate, Source
from .status import (
    BACK_CAST,
    CONSENSUS_MEDIAN,
    EXTRAPOLATED,
    INTERPOLATED,
    PUBLISHED,
    estimate_status,
)


class Estimate(NamedTuple):
    """One publisher's value in one year, with what it is and where it comes from."""

    key: str
    publisher: str
    year: int
    value: float
    status: str
    source: Source


@dataclass(frozen=True)
class Consensus:
    """Every estimate of one year summarised, and where the model's own total sits among them.

    ``model_rank`` is 1 + the number of estimates above the model's total, not counting the estimate the
    model's path follows (the market's own publication by default: the model is that path, calibrated);
    values equal at two decimals (the precision shown) tie.
    ``model_ratio`` is the model's total over the median. ``in_span`` counts the estimates that are
    published or interpolated that year (the others are extrapolated from a publisher's CAGR).
    ``excluded`` counts the estimates left out as too old (``consensus_max_age``).
    """

    year: int
    count: int
    minimum: float
    median: float
    maximum: float
    model: float
    model_rank: int
    model_ratio: float
    in_span: int
    #: Estimates left out as older than ``consensus_max_age`` (they are still listed, not counted).
    excluded: int = 0


def fade_target(start: float, long_run_growth: float) -> float:
    """The growth a path fades to from its last growth ``start``: the long-run rate, or 0 (flat) when the
    two have opposite signs, so that a fade never reverses a published trend: a declining path levels off
    instead of turning into growth, a growing one instead of turning into decline.

    >>> fade_target(0.091, 0.045), fade_target(-0.027, 0.045), fade_target(0.0, 0.045)
    (0.045, 0.0, 0.045)
    """
    return 0.0 if start * long_run_growth < 0 else long_run_growth


def fade_weight(years_after: int, fade_years: int) -> float:
    """How much of a path's last growth is left ``years_after`` years after its last published year.

    w(k) = max(0, 1 - k / F): the growth moves to the long-run rate in F equal steps and stays there
    (F = 0: at once). A path's growth in year L + k is LR + (g0 - LR) w(k).

    >>> [fade_weight(k, 4) for k in (1, 2, 4, 6)]
    [0.75, 0.5, 0.0, 0.0]
    """
    if years_after <= 0:
        return 1.0
    if fade_years <= 0:
        return 0.0
    return max(0.0, 1.0 - years_after / fade_years)


@dataclass(frozen=True)
class EstimatePath:
    """An estimate as one value per model year, with each year's status and the word the model's total
    takes when it follows this path (``published``, ``interpolated``, ``back-cast``, ``extrapolated``)."""

    estimate: PublisherEstimate
    values: tuple[float, ...]
    statuses: tuple[str, ...]
    words: tuple[str, ...]


def _implied(points: Mapping[int, float], a: int, b: int) -> float:
    return float((points[b] / points[a]) ** (1.0 / (b - a)) - 1.0)


def _within_cagr(e: PublisherEstimate, year: int) -> float | None:
    """Rule 2: the value from a CAGR whose period holds the year and touches exactly one point."""
    years = e.years
    for c in e.cagrs:
        starts, ends = c.from_year in e.points, c.to_year in e.points
        if ends and not starts:
            before = [p for p in years if p < c.to_year]
            low = max([*before[-1:], *([c.from_year] if c.from_year is not None else [])], default=None)
            if (low is None or low <= year) and year < c.to_year:
                return e.points[c.to_year] / (1 + c.value) ** (c.to_year - year)
        elif starts and not ends and c.from_year is not None:
            after = [p for p in years if p > c.from_year]
            high = min([c.to_year, *after[:1]])
            if c.from_year < year <= high:
                return e.points[c.from_year] * (1 + c.value) ** (year - c.from_year)
    return None


def _backward_growth(e: PublisherEstimate) -> float:
    """Rule 4's growth: the CAGR whose period holds the first point, else the earliest, else implied."""
    first = e.years[0]
    for c in e.cagrs:
        if (c.from_year is None or c.from_year <= first) and first <= c.to_year:
            return c.value
    if e.cagrs:
        return e.cagrs[0].value
    return _implied(e.points, e.years[0], e.years[1])


def _forward_growth(e: PublisherEstimate) -> float:
    """Rule 5's starting growth: the CAGR ending at or after the last point, else implied, else the CAGR."""
    last = e.years[-1]
    cagr = e.cagr
    if cagr is not None and cagr.to_year >= last:
        return cagr.value
    if len(e.years) >= 2:
        return _implied(e.points, e.years[-2], last)
    assert cagr is not None  # validation: a single point comes with a CAGR
    return cagr.value


def estimate_path(
    e: PublisherEstimate, years: Sequence[int], long_run_growth: float, fade_years: int
) -> EstimatePath:
    """An estimate's value and status in every model year (rules 1-5 of this module)."""
    first, last = e.years[0], e.years[-1]
    back, forward = _backward_growth(e), _forward_growth(e)
    values: dict[int, float] = {}
    statuses, words = [], []
    for y in years:
        if y in e.points:
            value, status, word = e.points[y], PUBLISHED, PUBLISHED
        else:
            inside = first < y < last
            found = _within_cagr(e, y)
            if found is None and inside:
                a = max(p for p in e.years if p < y)
                b = min(p for p in e.years if p > y)
                found = e.points[a] * (e.points[b] / e.points[a]) ** ((y - a) / (b - a))
            if found is None and y < first:
                found = e.points[first] / (1 + back) ** (first - y)
            fading = found is None
            if found is None:  # after the last point: the fade, year by year
                before = values.get(y - 1, e.points[last])
                weight = fade_weight(y - last, fade_years)
                target = fade_target(forward, long_run_growth)
                found = before * (1 + target + (forward - target) * weight)
            value = found
            word = INTERPOLATED if inside else (BACK_CAST if y < first else EXTRAPOLATED)
            status = estimate_status(word, fading=fading)
        values[y] = float(value)
        statuses.append(status)
        words.append(word)
    return EstimatePath(e, tuple(values[y] for y in years), tuple(statuses), tuple(words))


#: How far a word is from a published figure: the consensus takes the furthest of the values it uses.
_DISTANCE = {PUBLISHED: 0, INTERPOLATED: 1, BACK_CAST: 2, EXTRAPOLATED: 2}


def median_word(word: str) -> str:
    """The consensus median's word from the word of the estimate it is: ``consensus median`` for a
    published or interpolated one (nobody publishes a median), else that word (back-cast, extrapolated)."""
    return CONSENSUS_MEDIAN if word in (PUBLISHED, INTERPOLATED) else word


def median_path(paths: Sequence[EstimatePath], count: int) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """The median of the paths in each of ``count`` years, and its word (:func:`median_word` of the
    estimate the median is; for an even number, of the furthest from published of the two it averages)."""
    values, words = [], []
    for i in range(count):
        ranked = sorted((p.values[i], _DISTANCE[p.words[i]], p.words[i]) for p in paths)
        n = len(ranked)
        middle = ranked[(n - 1) // 2 : n // 2 + 1]
        values.append(statistics.median(v for v, _, _ in ranked))
        words.append(median_word(max(middle, key=lambda r: r[1])[2]))
    return tuple(values), tuple(words)


def consensus_of(
    year: int,
    values: Sequence[float],
    statuses: Sequence[str],
    model: float,
    others: Sequence[float],
    excluded: int = 0,
) -> Consensus:
    """The consensus of one year's estimates, and where the model's total sits among them: its rank
    among ``others`` (the estimates other than the one the model's path follows), 1 = largest, values
    equal at two decimals tied."""
    median = statistics.median(values)
    shown = round(model, 2)
    rank = 1 + sum(round(v, 2) > shown for v in others)
    in_span = sum(s in (PUBLISHED, INTERPOLATED) for s in statuses)
    ratio = model / median if median else math.nan
    return Consensus(
        year, len(values), min(values), median, max(values), model, rank, ratio, in_span, excluded
    )


#: A publisher this many times above (or below one over it) the median of the others is flagged for units.
UNITS_RATIO = 10.0


def _period_points(e: PublisherEstimate, c: PublishedCagr) -> tuple[int, int] | None:
    """The two published years a CAGR's period runs between, where both are points: its start (or, with no
    start, the point before its end, as the path takes it) and its end. None when it does not touch two."""
    if c.to_year not in e.points:
        return None
    if c.from_year is None:
        before = [p for p in e.years if p < c.to_year]
        return (before[-1], c.to_year) if before else None
    return (c.from_year, c.to_year) if c.from_year in e.points else None


def cagr_warnings(e: PublisherEstimate) -> list[str]:
    """One line for each published CAGR its own figures contradict, by the anchors' interval rule: every
    printed number stands for its value +- half a unit of its last digit, and they agree when some values
    inside those intervals hold together (the growth between the two figures is inside the CAGR's)."""
    out = []
    for c in e.cagrs:
        found = _period_points(e, c)
        if found is None:
            continue
        a, b = found
        n = b - a
        ha, hb = 0.5 * 10.0 ** -e.decimals[a], 0.5 * 10.0 ** -e.decimals[b]
        hg = 0.5 * 10.0**-c.decimals
        low = ((e.points[b] - hb) / (e.points[a] + ha)) ** (1 / n) - 1
        high = ((e.points[b] + hb) / max(e.points[a] - ha, 1e-12)) ** (1 / n) - 1
        if low <= c.value + hg and high >= c.value - hg:
            continue
        implied = _implied(e.points, a, b)
        shown = max(c.decimals - 2, 0)
        out.append(
            f"{e.publisher}: {e.shown(a)} ({a}) -> {e.shown(b)} ({b}) is {implied * 100:.{shown + 1}f} % a year;"
            f" its CAGR {c.period} says {c.value * 100:.{shown}f} %"
        )
    return out


def units_warnings(paths: Mapping[str, EstimatePath], years: Sequence[int]) -> list[str]:
    """One line for each publisher whose figures are more than :data:`UNITS_RATIO` times from the median of
    the others' values the same year (its furthest figure): a figure typed in another unit than USD bn."""
    index = {y: i for i, y in enumerate(years)}
    out = []
    for key, path in paths.items():
        e, worst = path.estimate, None
        for y in e.years:
            others = [p.values[index[y]] for k, p in paths.items() if k != key]
            if len(others) < 2:
                continue
            ratio = e.points[y] / statistics.median(others)
            if worst is None or abs(math.log(ratio)) > abs(math.log(worst[1])):
                worst = (y, ratio)
        if worst is None or 1 / UNITS_RATIO <= worst[1] <= UNITS_RATIO:
            continue
        y, ratio = worst
        shown = f"{e.points[y]:,.{e.decimals[y]}f}"
        if ratio > UNITS_RATIO:
            out.append(f"{e.publisher}: {shown} ({y}) is {ratio:,.0f}x the others' median: USD million?")
        else:
            out.append(
                f"{e.publisher}: {shown} ({y}) is 1/{1 / ratio:,.0f} of the others' median: USD trillion?"
            )
    return out
