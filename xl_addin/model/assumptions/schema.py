"""What an assumption set is: the validated values the model reads, their names and how they are compared.

Everything here is a frozen value or a pure function of names; reading files lives in :mod:`.load`, checking
a raw mapping in :mod:`.validate`, per-call changes in :mod:`.overrides`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import AssumptionError, InputError, InvalidArgument

KINDS = ("published", "derived", "assumed")
DIMENSIONS = ("region", "service", "modality", "end_user")
FACTORS = ("volume", "penetration", "price")
ANCHOR_KEYS = ("base_size", "next_size", "historic_growth", "horizon_size", "forecast_cagr")
GROWTH_ANCHORS = ("historic_growth", "forecast_cagr")
EXTENSION_KEYS = ("backcast_growth", "extrapolation_growth")
#: The long-run fade: the growth every path fades to after its last published year, and over how many years.
FADE_KEYS = ("long_run_growth", "fade_years")
TOP_LEVEL_KEYS = (
    "name",
    "description",
    "replace",
    "market",
    "sources",
    "years",
    "anchors",
    "extension",
    "dimensions",
    "drivers",
    "scenarios",
    "uncertainty",
    "joint",
    "estimates",
    "overrides",
)
SHARE_TOLERANCE = 1e-6
RESERVED_SCENARIO = "base"
#: The basis that is the median of every publisher's estimate (the others: the market's source, an estimate id).
CONSENSUS = "consensus"

# Words that name the whole market where a region or segment is asked for.
TOTAL_ALIASES = ("total", "global", "world", "worldwide", "all", "market")

DIMENSION_ALIASES: dict[str, tuple[str, ...]] = {
    "region": ("regions", "geography", "geo"),
    "service": ("services", "service type"),
    "modality": ("modalities", "imaging modality"),
    "end_user": ("end user", "end users", "end-user", "enduser", "end-users", "customer"),
}


@functools.lru_cache(
    maxsize=4096
)  # a few hundred names, asked for thousands of times by a workbook or a sheet
def normalise(name: str) -> str:
    """The form in which member, dimension and scenario names are compared: case, spaces, dashes ignored.

    >>> normalise("Asia-Pacific") == normalise("asia pacific")
    True
    """
    return re.sub(r"[\s\-_./]+", "", name.casefold())


def resolve_dimension(name: str, where: str = "") -> str:
    """'end user', 'Regions', 'MODALITY' -> the dimension key; unknown names raise an error.

    With `where` (a file and key) the error is an :class:`AssumptionError`, else an :class:`InvalidArgument`.

    >>> resolve_dimension("End users")
    'end_user'
    """
    found = _DIMENSION_NAMES.get(normalise(name))
    if found is not None:
        return found
    if where:
        raise AssumptionError(where, name, f"unknown dimension (allowed: {', '.join(DIMENSIONS)})")
    raise InvalidArgument("dimension", name, DIMENSIONS)


_DIMENSION_NAMES = {
    normalise(word): key for key, aliases in DIMENSION_ALIASES.items() for word in (key, *aliases)
}


def member_lookup(members: Mapping[str, Any]) -> dict[str, str]:
    """{normalised name or alias: canonical name} for members given as ``{name: {aliases: [...]}}``.

    A member's own name wins over another member's alias.
    """
    lookup: dict[str, str] = {}
    for name, spec in members.items():
        lookup[normalise(name)] = name
        if isinstance(spec, Mapping):
            for alias in spec.get("aliases", []) or []:
                lookup.setdefault(normalise(str(alias)), name)
    return lookup


def content_hash(raw: Mapping[str, Any]) -> str:
    """A short, stable hash of the set's content (key order and formatting do not matter).

    >>> content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})
    True
    """
    try:
        text = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    except TypeError:  # keys of mixed types ({2025: ..., "2030": ...}) do not sort: as texts they do
        text = json.dumps(_text_keys(raw), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _text_keys(value: Any) -> Any:
    """``value`` with every mapping's keys as text (what JSON makes of them anyway)."""
    if isinstance(value, Mapping):
        return {str(k): _text_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_text_keys(v) for v in value]
    return value


@dataclass(frozen=True)
class Source:
    """A publication an assumption comes from, with its vintage: the year its figures were published
    (``date``'s year; None when the page is undated) and their base year where the page says it."""

    key: str
    title: str
    publisher: str
    date: str
    url: str
    base_year: int | None = None

    @property
    def vintage(self) -> int | None:
        """The year the figures were published: ``date``'s first four digits, None for an undated page.

        >>> Source("gvr", "Report", "Grand View Research", "2020", "", 2019).vintage
        2020
        """
        head = self.date.strip()[:4]
        return int(head) if len(head) == 4 and head.isdigit() else None

    def citation(self) -> str:
        """One line: publisher, title, date, base year where known (and URL where known).

        >>> Source("gvr", "Report", "Grand View Research", "2020", "", 2019).citation()
        'Grand View Research, Report, 2020 (base year 2019)'
        """
        text = f"{self.publisher}, {self.title}, {self.date}"
        if self.base_year is not None:
            text += f" (base year {self.base_year})"
        return f"{text} ({self.url})" if self.url else text


@dataclass(frozen=True)
class MarketDefinition:
    """The market the set describes: its name in outputs, the publication its anchors come from, and the
    trends and growth factors that publication names (briefs and workbooks quote them)."""

    name: str
    source: str
    trends: tuple[str, ...]
    forecast_factors: tuple[str, ...]
    historic_factors: tuple[str, ...]


@dataclass(frozen=True)
class Anchor:
    """A published figure, stored as the interval its printed digits stand for."""

    key: str
    label: str
    value: float
    decimals: int
    units: str
    kind: str
    source: str
    year: int | None = None
    from_year: int | None = None
    to_year: int | None = None

    @property
    def half_width(self) -> float:
        """Half a unit of the last published digit."""
        return 0.5 * 10.0**-self.decimals

    def reproduces(self, modelled: float) -> bool:
        """True when the modelled value, shown at the published precision, is the published figure."""
        return abs(modelled - self.value) < self.half_width * (1 - 1e-9)


@dataclass(frozen=True)
class Member:
    """One member of a dimension with its base-year share and relative growth."""

    name: str
    aliases: tuple[str, ...]
    share: float
    growth: float
    kind: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class Refusal:
    """A name that sounds like a member but is not one (a country, a union spanning two regions): asked
    for, it gets an error that says what it is and which members come closest, never a silent answer
    for another geography or scope."""

    name: str
    what: str
    suggest: tuple[str, ...]


@dataclass(frozen=True)
class Dimension:
    """A way of splitting the market (region, service, modality, end user)."""

    key: str
    label: str
    members: tuple[Member, ...]
    #: Names refused with an explanation, by their normalised form (see :class:`Refusal`).
    refused: Mapping[str, Refusal] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Member names in the order of the assumption file."""
        return tuple(m.name for m in self.members)

    @property
    def plural(self) -> str:
        """The dimension's label in the plural: regions, services, modalities, end users."""
        return self.label[:-1] + "ies" if self.label.endswith("y") else self.label + "s"

    def refusal_error(self, name: str, argument: str = "") -> InvalidArgument | None:
        """The error for a refused name (``'US' is a country; the model's regions are ...``), or None.

        >>> na = Member("North America", (), 0.6, 0.0, "assumed", "")
        >>> rest = Member("Rest of world", (), 0.4, 0.0, "assumed", "")
        >>> d = Dimension("region", "region", (na, rest), {"us": Refusal("US", "a country", ("North America",))})
        >>> print(d.refusal_error("us"))
        Invalid region: 'us' is a country; the model's regions are North America, Rest of world (did you mean 'North America'?)
        """
        refusal = self.refused.get(normalise(name))
        if refusal is None:
            return None
        return NotAMember(
            argument or self.label, name, refusal.what, self.plural, self.names, refusal.suggest
        )


class NotAMember(InvalidArgument):
    """A name that is not a member and must not silently stand for one (see :class:`Refusal`)."""

    def __init__(
        self,
        argument: str,
        given: str,
        what: str,
        plural: str,
        members: tuple[str, ...],
        suggest: tuple[str, ...],
    ) -> None:
        InputError.__init__(self, "")  # the message is set below; InvalidArgument's format does not fit
        self.argument, self.given, self.allowed = argument, given, "one of " + ", ".join(members)
        options = " or ".join(repr(s) for s in suggest)
        suggestion = f" (did you mean {options}?)" if suggest else ""
        self.args = (
            f"Invalid {argument}: {given!r} is {what}; the model's {plural} are {', '.join(members)}{suggestion}",
        )


@dataclass(frozen=True)
class Driver:
    """A growth driver feeding one factor of the growth bridge; growth None marks the residual."""

    key: str
    label: str
    factor: str
    growth: float | None
    low: float
    high: float
    kind: str
    source: str
    evidence: str = ""
    note: str = ""


@dataclass(frozen=True)
class Scenario:
    """A named set of driver growths for the forecast years."""

    key: str
    label: str
    description: str
    drivers: Mapping[str, float]


@dataclass(frozen=True)
class Uncertainty:
    """Monte Carlo settings."""

    paths: int
    seed: int
    annual_volatility: float
    note: str = ""


@dataclass(frozen=True)
class PublishedCagr:
    """A growth rate a publisher prints, with its period (``from_year`` None: the page does not say)."""

    from_year: int | None
    to_year: int
    value: float
    decimals: int

    @property
    def period(self) -> str:
        """'2026-2031', or 'to 2027' when the page gives no start."""
        return f"to {self.to_year}" if self.from_year is None else f"{self.from_year}-{self.to_year}"


@dataclass(frozen=True)
class PublisherEstimate:
    """One publisher's published figures for the market (the ``estimates`` section of a set).

    ``points`` are USD bn by calendar year as the page prints them; ``decimals`` the precision of each
    (inferred from the number as written unless the file gives it). ``cagrs`` are the growth rates the
    page prints, each touching one of the points. ``scope`` is what the page says the market covers
    ("not stated" when it says nothing). :mod:`xl_addin.model.estimates` turns it into a calendar-year path.
    """

    key: str
    publisher: str
    source: str
    points: Mapping[int, float]
    decimals: Mapping[int, int]
    cagrs: tuple[PublishedCagr, ...]
    scope: str
    kind: str
    note: str = ""

    @property
    def years(self) -> tuple[int, ...]:
        """The published years, in order."""
        return tuple(sorted(self.points))

    @property
    def cagr(self) -> PublishedCagr | None:
        """The published CAGR whose period ends last (the one the path continues at), or None."""
        return max(self.cagrs, key=lambda c: c.to_year, default=None)

    def shown(self, year: int) -> str:
        """A published point as printed: ``12.91``."""
        return f"{self.points[year]:.{self.decimals[year]}f}"


@dataclass(frozen=True)
class Entry:
    """One assumption as a row of the Inputs sheet: where it lives, its value and where it comes from."""

    key: str
    label: str
    value: float | None
    kind: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class Override:
    """One per-call override as applied: its key (``cagr``, ``share.Asia-Pacific``, ``driver.telemedicine``
    ...), the value in the set it was applied to and the value in force (None: none, e.g. no growth held
    after the horizon)."""

    key: str
    in_set: float | str | None
    in_force: float | str | None


@dataclass(frozen=True)
class AssumptionSet:
    """A validated assumption set; `hash` identifies its content, `origin` where it was read from
    (a full path: for the operator), `label` how a client's outputs name it (the file name alone)."""

    name: str
    description: str
    origin: str
    label: str
    hash: str
    first_year: int
    last_year: int
    market: MarketDefinition
    sources: Mapping[str, Source]
    anchors: Mapping[str, Anchor]
    backcast_growth: float | None
    extrapolation_growth: float | None
    forecast_growth_override: float | None
    dimensions: Mapping[str, Dimension]
    drivers: Mapping[str, Driver]
    scenarios: Mapping[str, Scenario]
    uncertainty: Uncertainty
    #: Segment mix within regions: {segment dimension: {region: {segment member: base-year share}}}.
    joint: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: Every publisher's published figures, by estimate id (``estimates``).
    estimates: Mapping[str, PublisherEstimate] = field(default_factory=dict)
    #: The growth every path fades to after its last published year, and the years the fade takes.
    long_run_growth: float = 0.045
    fade_years: int = 10
    #: Per-call driver what-ifs: {driver: growth}; the file's driver growths stay in ``drivers``.
    driver_overrides: Mapping[str, float] = field(default_factory=dict)
    #: What the total follows: the market's source (the model's own calibrated path), ``consensus``
    #: or an estimate id.
    basis: str = ""
    #: Estimates whose source is more than this many years older than the newest source of the set's
    #: estimates are left out of the consensus (``consensus_max_age``); None: every estimate counts.
    consensus_max_age: int | None = None
    #: What per-call overrides moved (``forecast``, ``drivers``, ``backcast``, ``extrapolation``,
    #: ``fade``, ``share.<dimension>``, ``growth.<dimension>``): the statuses of those values say so.
    moved: frozenset[str] = frozenset()
    #: The set the per-call overrides were applied to (None: no override, this is the set itself).
    original: AssumptionSet | None = field(default=None, repr=False, compare=False)
    #: What the per-call overrides changed, in the order given (see :func:`.overrides.with_overrides`).
    overridden: tuple[Override, ...] = field(default=(), compare=False)

    def __hash__(self) -> int:
        return hash(self.hash)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssumptionSet) and other.hash == self.hash

    @property
    def set_hash(self) -> str:
        """The hash of the set as read, before any per-call override: what outputs say they differ from."""
        return (self.original or self).hash

    @property
    def base_year(self) -> int:
        """The first published year (2025 in the default)."""
        return _int(self.anchors["base_size"].year)

    @property
    def next_year(self) -> int:
        """The second published year, start of the forecast CAGR (2026)."""
        return _int(self.anchors["next_size"].year)

    @property
    def horizon_year(self) -> int:
        """The last published year (2030)."""
        return _int(self.anchors["horizon_size"].year)

    @property
    def publication(self) -> Source:
        """The publication the market's anchors come from (``market.source``): whom outputs credit."""
        return self.sources[self.market.source]

    def entries(self) -> list[Entry]:
        """Every assumption as a flat list (Inputs sheet, `imgout assumptions show`)."""
        return [
            *self._anchor_entries(),
            *self._extension_entries(),
            *self._member_entries(),
            *self._joint_entries(),
            *self._driver_entries(),
            *self._scenario_entries(),
            *self._estimate_entries(),
        ]

    def _anchor_entries(self) -> Iterator[Entry]:
        for a in self.anchors.values():
            yield Entry(f"anchors.{a.key}", a.label, a.value, a.kind, a.source)

    def _extension_entries(self) -> Iterator[Entry]:
        extension = self.raw.get("extension", {})
        for key in (*EXTENSION_KEYS, *FADE_KEYS):
            item = extension.get(key, {})
            value = getattr(self, key)
            yield Entry(
                f"extension.{key}",
                key.replace("_", " "),
                None if value is None else float(value),
                str(item.get("kind", "derived" if key in EXTENSION_KEYS else "assumed")),
                str(item.get("source", "")),
                str(item.get("note", "")),
            )

    def _member_entries(self) -> Iterator[Entry]:
        for dim in self.dimensions.values():
            for m in dim.members:
                base = f"dimensions.{dim.key}.{m.name}"
                label = f"{m.name} share {self.base_year}"
                yield Entry(f"{base}.share", label, m.share, m.kind, m.source, m.note)
                yield Entry(f"{base}.growth", f"{m.name} relative growth", m.growth, m.kind, m.source)

    def _joint_entries(self) -> Iterator[Entry]:
        for seg_dim, table in self.joint.items():
            spec = self.raw.get("joint", {}).get(f"region/{seg_dim}", {})
            kind, source = str(spec.get("kind", "assumed")), str(spec.get("source", ""))
            for region, shares in table.items():
                for member, share in shares.items():
                    key = f"joint.region/{seg_dim}.{region}.{member}"
                    label = f"{member} share within {region} {self.base_year}"
                    yield Entry(key, label, share, kind, source)

    def _driver_entries(self) -> Iterator[Entry]:
        for d in self.drivers.values():
            if d.key in self.driver_overrides:
                growth = self.driver_overrides[d.key]
                yield Entry(
                    f"drivers.{d.key}.growth", d.label, growth, "assumed", d.source, "per-call override"
                )
            else:  # the evidence first: its figures with their periods, wherever the driver is listed
                note = "; ".join(t for t in (d.evidence, d.note) if t)
                yield Entry(f"drivers.{d.key}.growth", d.label, d.growth, d.kind, d.source, note)

    def _estimate_entries(self) -> Iterator[Entry]:
        for e in self.estimates.values():
            for year in e.years:
                label = f"{e.publisher} {year} (USD bn)"
                yield Entry(f"estimates.{e.key}.{year}", label, e.points[year], e.kind, e.source, e.scope)
            for c in e.cagrs:
                label = f"{e.publisher} CAGR {c.period}"
                yield Entry(f"estimates.{e.key}.cagr.{c.to_year}", label, c.value, e.kind, e.source, e.scope)

    def _scenario_entries(self) -> Iterator[Entry]:
        for s in self.scenarios.values():
            for dk, g in s.drivers.items():
                label = f"{s.label}: {self.drivers[dk].label}"
                yield Entry(f"scenarios.{s.key}.{dk}", label, g, "assumed", "imgout")


def _int(value: int | None) -> int:
    assert value is not None  # validated on build
    return value
