"""Key takeaways: the three to five things a reader should remember, chosen and computed from the model.

Each takeaway is a small record of engine numbers for the brief's scenario and the client's focus; the
words around them are in the templates (``_takeaway.j2``), so no sentence carries a number typed by hand.
Which takeaways a brief gets, in order of priority, at most five:

1. each focus member of the client (at most two): its size, share, growth and growth rank;
2. the range of the horizon year across scenarios, and the driver Monte Carlo's P10-P90 around base;
3. where the model stands among the publishers' estimates of the base year (when the set has estimates);
4. the largest and the fastest-growing region, and the same for the focus segment's dimension (else the
   first segment dimension); the segment's first when the client follows a segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ...model.estimates import Consensus
from ...model.market import SEGMENT_DIMENSIONS
from ..context import MemberRow, ReportContext

MAX_TAKEAWAYS = 5
MAX_FOCUS = 2


@dataclass(frozen=True)
class Focus:
    """A member the client follows: its horizon value and share, its growth and how that growth ranks."""

    kind: ClassVar[str] = "focus"
    member: str
    dimension: str
    value: float
    share: float
    growth: float
    rank: int
    """1 for the fastest-growing member of its dimension."""
    count: int
    market_growth: float


@dataclass(frozen=True)
class ScenarioRange:
    """The horizon year across scenarios (lowest and highest) and the Monte Carlo range around base."""

    kind: ClassVar[str] = "range"
    year: int
    low_scenario: str
    low: float
    high_scenario: str
    high: float
    p10: float
    p90: float
    scenario: str
    """The brief's own scenario."""


@dataclass(frozen=True)
class Leaders:
    """The largest member of a dimension in the horizon year and the fastest-growing one."""

    kind: ClassVar[str] = "leaders"
    dimension: str
    largest: str
    largest_value: float
    largest_share: float
    largest_growth: float
    fastest: str
    fastest_growth: float
    market_growth: float
    largest_said: bool
    """The largest member is a focus member whose takeaway already gives its size."""
    fastest_said: bool
    """The fastest member is a focus member whose takeaway already says it grows fastest."""


@dataclass(frozen=True)
class Publishers:
    """The publishers' estimates of one year (the engine's consensus: count, minimum, median, maximum) and
    where the model's total sits among them (its rank, 1 = highest, and its ratio to the median)."""

    kind: ClassVar[str] = "publishers"
    consensus: Consensus
    ranked: int
    """How many totals the model's rank is among: the publishers it does not follow, and itself."""


Takeaway = Focus | ScenarioRange | Leaders | Publishers


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def takeaways(context: ReportContext) -> tuple[Takeaway, ...]:
    """The brief's key takeaways, most important first (see the module docstring)."""
    h = context.headline
    dims = context.market.assumptions.dimensions
    tables: list[tuple[str, str, Sequence[MemberRow]]] = [("region", dims["region"].label, context.regions)]
    tables += [(d, dims[d].label, context.segments[d]) for d in SEGMENT_DIMENSIONS]
    focus: list[Takeaway] = []
    for _, label, rows in tables:
        by_growth = sorted(rows, key=lambda r: -r.cagr)
        focus += [
            Focus(r.member, label, r.values[-1], r.share, r.cagr, by_growth.index(r) + 1, len(rows), h.cagr)
            for r in rows
            if r.focus
        ]
    segment_dimension = next(
        (key for key, _, rows in tables[1:] if any(r.focus for r in rows)), SEGMENT_DIMENSIONS[0]
    )
    shown = [t for t in focus[:MAX_FOCUS] if isinstance(t, Focus)]
    chosen: list[Takeaway] = [*shown, _range(context)]
    if context.market.assumptions.estimates:
        chosen.append(publishers(context, context.headline.base_year))
    leaders = [
        _leaders(context, "region", tables, shown),
        _leaders(context, segment_dimension, tables, shown),
    ]
    if any(r.focus for _, _, rows in tables[1:] for r in rows):
        leaders.reverse()  # a client who follows a segment hears about its dimension first
    return tuple([*chosen, *leaders][:MAX_TAKEAWAYS])


def publishers(context: ReportContext, year: int) -> Publishers:
    """The engine's consensus of the publishers' estimates in `year`, with the model's place in it."""
    followed = sum(1 for key in context.market.assumptions.estimates if context.follows(key))
    c = context.market.consensus(year)
    return Publishers(c, c.count - followed + 1)


def _range(context: ReportContext) -> ScenarioRange:
    h = context.headline
    values = {s: context.market.forecast(h.horizon_year, scenario=s) for s in context.scenario_names}
    low, high = min(values, key=values.__getitem__), max(values, key=values.__getitem__)
    fan = context.fan_at(h.horizon_year)
    return ScenarioRange(
        h.horizon_year, low, values[low], high, values[high], fan.p10, fan.p90, context.scenario
    )


def _leaders(
    context: ReportContext,
    dimension: str,
    tables: Sequence[tuple[str, str, Sequence[MemberRow]]],
    shown: Sequence[Focus],
) -> Leaders:
    _, label, rows = next(t for t in tables if t[0] == dimension)
    shown = [f for f in shown if f.dimension == label]
    largest = max(rows, key=lambda r: r.values[-1])
    fastest = max(rows, key=lambda r: r.cagr)
    return Leaders(
        label,
        largest.member,
        largest.values[-1],
        largest.share,
        largest.cagr,
        fastest.member,
        fastest.cagr,
        context.headline.cagr,
        any(f.member == largest.member for f in shown),
        any(f.member == fastest.member and f.rank == 1 for f in shown) and fastest is not largest,
    )
