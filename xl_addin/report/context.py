"""One report context built from the model: what a client pack shows, gathered once for every output.

The context holds the headline, the series and scenario table over the profile's years, the member rows
of every dimension, drivers, bridge, tornado, Monte Carlo fan and sources, each computed once, with the
model version and assumption hash, and what the assumption set says the market is (its name, the
publication its anchors come from, the trends and growth factors that publication names). It also carries ``market``, the engine for the same assumption set and
overrides, and the outputs read it where a summary is not enough: the brief for scenario labels,
descriptions and horizon values and the assumptions' notes, dimension labels and Monte Carlo settings;
the workbook for every year, member and scenario behind its live formulas (the inputs it shows, and in
:mod:`xl_addin.report.workbook.formulas` the result stored with each formula). Either way the number is
the engine's, for the same assumptions. Nothing here formats or writes files.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..errors import InvalidArgument
from ..model import HeadlineLine, Market, headline_line, market_for
from ..model.assumptions import CONSENSUS, Source
from ..model.headline import money_as_published
from ..model.market import SEGMENT_DIMENSIONS, BridgeFactor, Point, TornadoBar
from .profile import ClientProfile, printable


@dataclass(frozen=True)
class Headline:
    """The numbers a reader sees first."""

    base_year: int
    base_value: float
    next_year: int
    next_value: float
    horizon_year: int
    horizon_value: float
    historic_growth: float
    #: CAGR of the shown path over the published forecast period (under a basis, the path it follows).
    cagr: float
    #: What the growth bridge multiplies to a year: `cagr`, whatever the basis (``Market.bridge``).
    bridge_growth: float
    #: The horizon figure with its basis and the publishers' consensus beside it, the one line every face
    #: prints where the headline stands (``model.headline``).
    line: HeadlineLine


@dataclass(frozen=True)
class BasisStory:
    """What the total follows, told the same way by every text and chart: the method, the bridge, the
    scenarios' descriptions and the chart's marked points describe this path."""

    kind: str
    """``calibrated`` (the model's own path, calibrated to its publication), ``publisher`` (another
    publisher's path) or ``consensus`` (the median of every publisher's path)."""
    key: str
    """The basis id, as ``basis=`` takes it: ``tbrc``, ``techsci``, ``consensus``."""
    publisher: str
    """Whose figures the path goes through (empty for the consensus: a median is no one's figure)."""
    followed: str
    """How the total is set, in a clause: ``calibrated to The Business Research Company``."""
    points: tuple[tuple[int, float], ...]
    """The published figures the path goes through, (year, USD bn): what the chart circles."""
    count: int
    """How many publishers' paths the consensus is the median of (0 when the set has none)."""
    cagrs: tuple[tuple[int | None, int, float], ...]
    """A followed publisher's published CAGRs, (from, to, value)."""
    residual: float
    """The price-and-mix residual of the shown scenario's bridge (re-solved under another basis)."""
    calibrated_residual: float
    """The residual on the model's own path: what it is when the total is calibrated."""
    base_description: str
    """What the base scenario assumes, in the words of the scenario table."""

    @property
    def resolved(self) -> bool:
        """Whether the bridge's residual was re-solved for another path than the model's own."""
        return self.kind != "calibrated"


@dataclass(frozen=True)
class MemberRow:
    """One member of a dimension: values at the base, next and horizon years, horizon share, CAGR."""

    member: str
    values: tuple[float, ...]
    share: float
    cagr: float
    focus: bool


@dataclass(frozen=True)
class DriverRow:
    """A driver with its base and scenario growths and the figure it rests on."""

    key: str
    label: str
    factor: str
    growth: float
    low: float
    high: float
    scenario_growth: Mapping[str, float]
    evidence: str
    kind: str
    source: str


@dataclass(frozen=True)
class FanRow:
    """Monte Carlo percentiles of the total in one year."""

    year: int
    p10: float
    p50: float
    p90: float


@dataclass(frozen=True)
class ReportContext:
    """What a client pack shows, computed once from the model, with the engine (``market``) it came from."""

    client: ClientProfile
    market: Market = field(repr=False)
    generated: dt.datetime
    scenario: str
    units: str
    headline: Headline
    series: tuple[Point, ...]
    scenario_table: tuple[tuple[int, Mapping[str, float]], ...]
    table_years: tuple[int, ...]
    regions: tuple[MemberRow, ...]
    segments: Mapping[str, tuple[MemberRow, ...]]
    drivers: tuple[DriverRow, ...]
    bridge: tuple[BridgeFactor, ...]
    fan: tuple[FanRow, ...]
    tornado: tuple[TornadoBar, ...]
    sources: tuple[Source, ...]
    market_name: str
    """What the market is called in outputs: ``medical imaging outsourcing market``."""
    publication: Source
    """The publication the published anchors come from: whom titles, methods and footers credit."""
    trends: tuple[str, ...]
    forecast_factors: tuple[str, ...]
    historic_factors: tuple[str, ...]
    basis: BasisStory
    """What the total follows, for every text and chart that describes the path."""
    publishers_range: tuple[tuple[int, float, float], ...] = ()
    """The publishers' minimum and maximum, (year, USD bn, USD bn), over the shown years (the consensus'
    spread: a band of its own in the chart, apart from the Monte Carlo's)."""

    @property
    def published_sizes(self) -> tuple[tuple[int, float], ...]:
        """The published figures the followed path goes through, (year, USD bn): what charts circle."""
        return self.basis.points

    @property
    def model_version(self) -> str:
        """The engine's version."""
        return self.market.version

    @property
    def assumption_hash(self) -> str:
        """The content hash of the assumption set."""
        return self.market.assumption_hash

    @property
    def assumption_origin(self) -> str:
        """The assumption set as a client's outputs name it: its file name, never its folder (the full
        path stays in the operator's CLI output and logs), with control characters shown as escapes;
        the content hash beside it (:attr:`provenance`) says which version of that file."""
        return printable(" ".join(self.market.assumptions.label.split()))[:200]

    @property
    def scenario_names(self) -> tuple[str, ...]:
        """bear, base, bull and any custom scenario."""
        return self.market.scenario_names

    @property
    def provenance(self) -> str:
        """One line carried by every output: the package, the engine's version and the assumption hash."""
        return f"imgout {__version__} (model {self.model_version}), assumptions {self.assumption_hash}"

    @property
    def title_name(self) -> str:
        """The market's name as a title starts: ``Medical imaging outsourcing market``."""
        return self.market_name[:1].upper() + self.market_name[1:]

    @property
    def edition(self) -> str:
        """Which edition of the numbers this is: the publication's date and the assumption hash,
        ``2026-03-03 8d16e52452c4`` (the hash alone when the publication has no date)."""
        date = self.publication.date.strip()
        return f"{date} {self.assumption_hash}" if date else self.assumption_hash

    def money(self, value_bn: float, *, with_unit: bool = False) -> str:
        """An amount as the pack writes it: in the pack's units, a size the publication printed as
        printed (:meth:`.Market.as_published`)."""
        return money_as_published(self.market, value_bn, self.units, with_unit=with_unit)

    def follows(self, estimate: str) -> bool:
        """Whether the model's total follows this publisher's estimate: the basis, or by default every
        estimate of the market's own publication (the rule the engine's consensus ranks by)."""
        return self.market.follows(estimate)

    def fan_at(self, year: int) -> FanRow:
        """The Monte Carlo percentiles of the total in `year` (from the engine if outside the shown years)."""
        found = next((f for f in self.fan if f.year == year), None)
        if found is None:
            m = self.market
            found = FanRow(year, m.fan(year, 10), m.fan(year, 50), m.fan(year, 90))
        return found

    @property
    def period(self) -> str:
        """The published forecast period, e.g. '2026-2030'."""
        return f"{self.headline.next_year}-{self.headline.horizon_year}"


def build_context(
    profile: ClientProfile,
    assumptions: str | Path | None = None,
    overrides: str | None = None,
    *,
    scenario: str | None = None,
    generated: dt.datetime | None = None,
) -> ReportContext:
    """Gather every number a pack shows from the model, for one client profile."""
    market = market_for(assumptions, overrides)
    chosen = market.scenario(scenario if scenario is not None else profile.scenario)
    focus_segments = {market.segment(s)[1] for s in profile.focus_segments}
    focus_regions = {market.region(r) for r in profile.focus_regions}
    first = market.year(profile.first_year, "first_year")
    last = market.year(profile.last_year, "last_year")
    if last <= first:
        raise InvalidArgument("last_year", last, f"a year after first_year {first}")
    years = (market.base_year, market.next_year, market.horizon_year)

    def rows(dimension: str, focus: set[str | None]) -> tuple[MemberRow, ...]:
        out = []
        for b in market.breakdown(market.horizon_year, dimension, chosen):
            region, segment = (b.member, None) if dimension == "region" else (None, f"{dimension}:{b.member}")
            values = tuple(market.forecast(y, region, segment, chosen) for y in years)
            out.append(MemberRow(b.member, values, b.share, b.cagr, b.member in focus))
        return tuple(out)

    fan = market.uncertainty()
    definition = market.assumptions.market
    h = market.calibration
    bridge = tuple(market.bridge(chosen))
    headline = Headline(
        market.base_year,
        market.forecast(market.base_year, scenario=chosen),
        market.next_year,
        market.forecast(market.next_year, scenario=chosen),
        market.horizon_year,
        market.forecast(market.horizon_year, scenario=chosen),
        h.historic_growth,
        market.cagr(market.next_year, market.horizon_year, scenario=chosen),
        math.prod(1 + b.growth for b in bridge) - 1,
        headline_line(market, market.horizon_year, chosen, profile.units),
    )
    drivers = tuple(
        DriverRow(
            d.key,
            d.label,
            d.factor,
            market.base_driver_growth[d.key],
            d.low,
            d.high,
            {s: market.driver_growths(s)[d.key] for s in market.scenario_names},
            d.evidence,
            d.kind,
            d.source,
        )
        for d in market.assumptions.drivers.values()
    )
    return ReportContext(
        client=profile,
        market=market,
        generated=generated or dt.datetime.now(dt.UTC).replace(microsecond=0),
        scenario=chosen,
        units=profile.units,
        headline=headline,
        series=tuple(market.series(first, last, scenario=chosen)),
        scenario_table=tuple(market.scenarios(first, last)),
        table_years=years,
        regions=rows("region", focus_regions),
        segments={d: rows(d, focus_segments) for d in SEGMENT_DIMENSIONS},
        drivers=drivers,
        bridge=bridge,
        fan=tuple(
            FanRow(y, float(fan.p10[i]), float(fan.p50[i]), float(fan.p90[i]))
            for i, y in enumerate(market.year_list)
            if first <= y <= last
        ),
        tornado=tuple(market.tornado()),
        sources=tuple(market.assumptions.sources.values()),
        market_name=definition.name,
        publication=market.assumptions.publication,
        trends=definition.trends,
        forecast_factors=definition.forecast_factors,
        historic_factors=definition.historic_factors,
        basis=basis_story(market, chosen),
        publishers_range=tuple(
            (y, market.consensus(y).minimum, market.consensus(y).maximum) for y in range(first, last + 1)
        )
        if market.assumptions.estimates
        else (),
    )


def basis_story(market: Market, scenario: str) -> BasisStory:
    """What the total follows under the market's basis, and what the texts that describe it need."""
    a = market.assumptions
    count, residual = len(a.estimates), market.bridge_residual(scenario)
    calibrated = market.driver_growths(scenario)[market.residual_driver]
    resolved = "the price-and-mix residual closes the bridge to that path's growth"
    if market.basis == market.default_basis:
        publisher = a.publication.publisher
        return BasisStory(
            kind="calibrated",
            key=market.basis,
            publisher=publisher,
            followed=f"calibrated to {publisher}",
            points=tuple(
                (x.year, x.value)
                for x in a.anchors.values()
                if x.year is not None and x.kind == "published" and x.units == "USD bn"
            ),
            cagrs=(),
            base_description="pinned to the published figures: the drivers multiply back to the published CAGR"
            if not market.overridden
            else "the calibrated path with this run's what-if: the drivers multiply back to its growth",
            count=count,
            residual=residual,
            calibrated_residual=calibrated,
        )
    if market.basis == CONSENSUS:
        return BasisStory(
            kind="consensus",
            key=CONSENSUS,
            publisher="",
            followed="set to the consensus median",
            points=(),
            cagrs=(),
            base_description=f"follows the median of the {count} publishers' paths; {resolved}",
            count=count,
            residual=residual,
            calibrated_residual=calibrated,
        )
    e = a.estimates[market.basis]
    return BasisStory(
        kind="publisher",
        key=market.basis,
        publisher=e.publisher,
        followed=f"set to follow {e.publisher}",
        points=tuple(
            (y, v) for y, v in sorted(e.points.items()) if market.first_year <= y <= market.last_year
        ),
        cagrs=tuple((c.from_year, c.to_year, c.value) for c in e.cagrs),
        base_description=f"follows {e.publisher}'s published figures; {resolved}",
        count=count,
        residual=residual,
        calibrated_residual=calibrated,
    )


def scenario_labels(context: ReportContext) -> Sequence[str]:
    """Scenario names as shown to readers."""
    return [
        context.market.assumptions.scenarios[s].label if s != "base" else "base"
        for s in context.scenario_names
    ]
