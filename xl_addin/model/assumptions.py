"""Assumption sets: the YAML files that feed the model, read, merged, validated and hashed.

An embedded default ships in the package (``default_assumptions.yaml``). A user's file is merged over it
key by key, or stands alone with ``replace: true``. Validation names the file, the key and what is allowed.
Per-call overrides (``"cagr=0.10; share.Asia-Pacific=0.25"``) give a new set with its own hash.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..common.yamlfile import describe, parse_yaml_mapping, read_yaml_mapping
from ..errors import AssumptionError, InvalidArgument

DEFAULT_ORIGIN = "embedded default"
KINDS = ("published", "derived", "assumed")
DIMENSIONS = ("region", "service", "modality", "end_user")
FACTORS = ("volume", "penetration", "price")
ANCHOR_KEYS = ("base_size", "next_size", "historic_growth", "horizon_size", "forecast_cagr")
TOP_LEVEL_KEYS = (
    "name",
    "description",
    "replace",
    "sources",
    "years",
    "anchors",
    "extension",
    "dimensions",
    "drivers",
    "scenarios",
    "uncertainty",
    "joint",
    "overrides",
)
SHARE_TOLERANCE = 1e-6
RESERVED_SCENARIO = "base"

# Words that name the whole market where a region or segment is asked for.
TOTAL_ALIASES = ("total", "global", "world", "worldwide", "all", "market")

DIMENSION_ALIASES: dict[str, tuple[str, ...]] = {
    "region": ("regions", "geography", "geo"),
    "service": ("services", "service type"),
    "modality": ("modalities", "imaging modality"),
    "end_user": ("end user", "end users", "end-user", "enduser", "end-users", "customer"),
}


def normalise(name: str) -> str:
    """The form in which member, dimension and scenario names are compared: case, spaces, dashes ignored."""
    return re.sub(r"[\s\-_./]+", "", name.casefold())


@dataclass(frozen=True)
class Source:
    """A publication an assumption comes from."""

    key: str
    title: str
    publisher: str
    date: str
    url: str

    def citation(self) -> str:
        """One line: publisher, title, date (and URL where known)."""
        text = f"{self.publisher}, {self.title}, {self.date}"
        return f"{text} ({self.url})" if self.url else text


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
class Dimension:
    """A way of splitting the market (region, service, modality, end user)."""

    key: str
    label: str
    members: tuple[Member, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Member names in the order of the assumption file."""
        return tuple(m.name for m in self.members)


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
class Entry:
    """One assumption as a row of the Inputs sheet: where it lives, its value and where it comes from."""

    key: str
    label: str
    value: float | None
    kind: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class AssumptionSet:
    """A validated assumption set; `hash` identifies its content, `origin` where it was read from."""

    name: str
    description: str
    origin: str
    hash: str
    first_year: int
    last_year: int
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

    def __hash__(self) -> int:
        return hash(self.hash)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssumptionSet) and other.hash == self.hash

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

    def with_overrides(self, overrides: str | Mapping[str, object] | None) -> AssumptionSet:
        """A new set with per-call overrides applied (see :func:`parse_overrides`)."""
        pairs = parse_overrides(overrides)
        if not pairs:
            return self
        raw = copy.deepcopy(dict(self.raw))
        for key, value in pairs.items():
            _apply_override(raw, self, key, value)
        return build(raw, f"{self.origin} with overrides {format_overrides(pairs)}")

    def entries(self) -> list[Entry]:
        """Every assumption as a flat list (Inputs sheet, `imgout assumptions show`)."""
        rows: list[Entry] = []
        for a in self.anchors.values():
            rows.append(Entry(f"anchors.{a.key}", a.label, a.value, a.kind, a.source))
        ext = self.raw.get("extension", {})
        for key in ("backcast_growth", "extrapolation_growth"):
            item = ext.get(key, {})
            rows.append(
                Entry(
                    f"extension.{key}",
                    key.replace("_", " "),
                    getattr(self, key),
                    str(item.get("kind", "derived")),
                    str(item.get("source", "")),
                    str(item.get("note", "")),
                )
            )
        for dim in self.dimensions.values():
            for m in dim.members:
                base = f"dimensions.{dim.key}.{m.name}"
                rows.append(
                    Entry(
                        f"{base}.share", f"{m.name} share {self.base_year}", m.share, m.kind, m.source, m.note
                    )
                )
                rows.append(Entry(f"{base}.growth", f"{m.name} relative growth", m.growth, m.kind, m.source))
        for seg_dim, table in self.joint.items():
            spec = self.raw.get("joint", {}).get(f"region/{seg_dim}", {})
            for region, shares in table.items():
                for member, share in shares.items():
                    rows.append(
                        Entry(
                            f"joint.region/{seg_dim}.{region}.{member}",
                            f"{member} share within {region} {self.base_year}",
                            share,
                            str(spec.get("kind", "assumed")),
                            str(spec.get("source", "")),
                        )
                    )
        for d in self.drivers.values():
            rows.append(Entry(f"drivers.{d.key}.growth", d.label, d.growth, d.kind, d.source, d.note))
        for s in self.scenarios.values():
            for dk, g in s.drivers.items():
                rows.append(
                    Entry(
                        f"scenarios.{s.key}.{dk}",
                        f"{s.label}: {self.drivers[dk].label}",
                        g,
                        "assumed",
                        "imgout",
                    )
                )
        return rows


def _int(value: int | None) -> int:
    assert value is not None  # validated on build
    return value


# --------------------------------------------------------------------------------------------- reading


def default_text() -> str:
    """The embedded default assumption file, as text."""
    return resources.files("xl_addin.model").joinpath("default_assumptions.yaml").read_text(encoding="utf-8")


_default_cache: list[AssumptionSet] = []


def default_assumptions() -> AssumptionSet:
    """The embedded default set (read once)."""
    if not _default_cache:
        _default_cache.append(build(_parse_yaml(default_text(), DEFAULT_ORIGIN), DEFAULT_ORIGIN))
    return _default_cache[0]


def load_assumptions(path: str | Path | None = None) -> AssumptionSet:
    """Read an assumption file (merged over the default unless it says ``replace: true``).

    ``load_assumptions()`` gives the embedded default.
    """
    if path is None or str(path) == "":
        return default_assumptions()
    where = str(path)
    user = read_yaml_mapping(path, lambda key, problem: AssumptionError(where, key, problem))
    return _from_mapping(user, where)


def assumptions_from_text(text: str, where: str = "<text>") -> AssumptionSet:
    """Build a set from YAML text; `where` names it in errors."""
    return _from_mapping(_parse_yaml(text, where), where)


def _from_mapping(user: dict[str, Any], where: str) -> AssumptionSet:
    if user.get("replace") is True:
        merged = user
    else:
        merged = merge(copy.deepcopy(dict(default_assumptions().raw)), user, where)
    return build(merged, where)


def _parse_yaml(text: str, where: str) -> dict[str, Any]:
    return parse_yaml_mapping(text, lambda key, problem: AssumptionError(where, key, problem))


def merge(base: dict[str, Any], user: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Merge a user's file over the base: mappings key by key, member names resolved through aliases."""
    for key in user:
        if key not in TOP_LEVEL_KEYS:
            raise AssumptionError(where, str(key), f"unknown key (allowed: {', '.join(TOP_LEVEL_KEYS)})")
    dims = user.get("dimensions")
    if isinstance(dims, Mapping):
        user = dict(user)
        user["dimensions"] = _canonical_dimensions(base, dims, where)
    return _deep_merge(base, user)


def _canonical_dimensions(base: Mapping[str, Any], dims: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Rename aliases to canonical names so that 'APAC: {share: ..}' merges into 'Asia-Pacific'."""
    out: dict[str, Any] = {}
    for dim_name, dim in dims.items():
        dim_key = resolve_dimension(str(dim_name), where=f"{where}: dimensions")
        if not isinstance(dim, Mapping):
            raise AssumptionError(where, f"dimensions.{dim_name}", f"expected a mapping, got {describe(dim)}")
        members = dim.get("members")
        new_dim = dict(dim)
        if isinstance(members, Mapping):
            lookup = _member_lookup(base["dimensions"][dim_key]["members"])
            renamed: dict[str, Any] = {}
            for name, spec in members.items():
                canonical = lookup.get(normalise(str(name)))
                if canonical is None:
                    allowed = ", ".join(base["dimensions"][dim_key]["members"])
                    raise AssumptionError(
                        where, f"dimensions.{dim_key}.members.{name}", f"unknown member (allowed: {allowed})"
                    )
                renamed[canonical] = spec
            new_dim["members"] = renamed
        out[dim_key] = new_dim
    return out


def _member_lookup(members: Mapping[str, Any]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for name, spec in members.items():
        lookup[normalise(name)] = name
        if isinstance(spec, Mapping):
            for alias in spec.get("aliases", []) or []:
                lookup.setdefault(normalise(str(alias)), name)
    return lookup


def _deep_merge(base: dict[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in user.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def resolve_dimension(name: str, where: str = "") -> str:
    """'end user', 'Regions', 'MODALITY' -> the dimension key; unknown names raise an error."""
    wanted = normalise(name)
    for key, aliases in DIMENSION_ALIASES.items():
        if wanted == normalise(key) or wanted in {normalise(a) for a in aliases}:
            return key
    if where:
        raise AssumptionError(where, name, f"unknown dimension (allowed: {', '.join(DIMENSIONS)})")
    raise InvalidArgument("dimension", name, DIMENSIONS)


# ------------------------------------------------------------------------------------------ validating


def content_hash(raw: Mapping[str, Any]) -> str:
    """A short, stable hash of the set's content (key order and formatting do not matter)."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class _Checker:
    """Reads typed values out of the raw mapping, raising errors that name the file and key."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, problem: str) -> AssumptionError:
        return AssumptionError(self.where, key, problem)

    def mapping(self, node: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(node, Mapping):
            raise self.fail(key, f"expected a mapping, got {describe(node)}")
        return node

    def section(self, node: Mapping[str, Any], name: str, key: str) -> Mapping[str, Any]:
        if name not in node:
            raise self.fail(f"{key}.{name}" if key else name, "missing")
        return self.mapping(node[name], f"{key}.{name}" if key else name)

    def number(
        self,
        node: Mapping[str, Any],
        name: str,
        key: str,
        *,
        low: float | None = None,
        high: float | None = None,
        allow_null: bool = False,
        default: Any = ...,
    ) -> float | None:
        full = f"{key}.{name}"
        if name not in node:
            if default is not ...:
                return float(default) if default is not None else None
            raise self.fail(full, "missing")
        value = node[name]
        if value is None and allow_null:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(full, f"expected a number, got {describe(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise self.fail(full, f"expected a finite number, got {value!r}")
        if low is not None and number < low:
            raise self.fail(full, f"{value!r} is below the allowed minimum {low:g}")
        if high is not None and number > high:
            raise self.fail(full, f"{value!r} is above the allowed maximum {high:g}")
        return number

    def required_number(self, node: Mapping[str, Any], name: str, key: str, **kw: Any) -> float:
        value = self.number(node, name, key, **kw)
        assert value is not None
        return value

    def integer(
        self, node: Mapping[str, Any], name: str, key: str, low: int, high: int, default: Any = ...
    ) -> int:
        full = f"{key}.{name}"
        if name not in node:
            if default is not ...:
                return int(default)
            raise self.fail(full, "missing")
        value = node[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(full, f"expected a whole number, got {describe(value)}")
        if not low <= value <= high:
            raise self.fail(full, f"{value} is outside the allowed range {low} to {high}")
        return value

    def text(self, node: Mapping[str, Any], name: str, key: str, default: str | None = None) -> str:
        if name not in node or node[name] is None:
            if default is not None:
                return default
            raise self.fail(f"{key}.{name}", "missing")
        value = node[name]
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(f"{key}.{name}", f"expected text, got {describe(value)}")
        return str(value)

    def choice(
        self, node: Mapping[str, Any], name: str, key: str, allowed: Iterable[str], default: str
    ) -> str:
        allowed = tuple(allowed)
        value = self.text(node, name, key, default)
        if value not in allowed:
            raise self.fail(
                f"{key}.{name}", f"{value!r} is not allowed (expected one of {', '.join(allowed)})"
            )
        return value

    def only_keys(self, node: Mapping[str, Any], key: str, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for name in node:
            if name not in allowed:
                where = f"{key}.{name}" if key else str(name)
                raise self.fail(where, f"unknown key (allowed: {', '.join(allowed)})")


SOURCED = ("kind", "source", "note")


def build(raw: Mapping[str, Any], where: str) -> AssumptionSet:
    """Validate a merged raw mapping and turn it into an :class:`AssumptionSet`."""
    c = _Checker(where)
    c.only_keys(raw, "", TOP_LEVEL_KEYS)

    sources: dict[str, Source] = {}
    for skey, spec in c.section(raw, "sources", "").items():
        node = c.mapping(spec, f"sources.{skey}")
        c.only_keys(node, f"sources.{skey}", ("title", "publisher", "date", "url"))
        sources[str(skey)] = Source(
            str(skey),
            c.text(node, "title", f"sources.{skey}"),
            c.text(node, "publisher", f"sources.{skey}", ""),
            c.text(node, "date", f"sources.{skey}", ""),
            c.text(node, "url", f"sources.{skey}", ""),
        )

    def kind_and_source(node: Mapping[str, Any], key: str, default_kind: str = "assumed") -> tuple[str, str]:
        kind = c.choice(node, "kind", key, KINDS, default_kind)
        source = c.text(node, "source", key, "")
        if source and source not in sources:
            raise c.fail(f"{key}.source", f"unknown source {source!r} (defined: {', '.join(sources)})")
        return kind, source

    years = c.section(raw, "years", "")
    c.only_keys(years, "years", ("first", "last"))
    first_year = c.integer(years, "first", "years", 1900, 2200)
    last_year = c.integer(years, "last", "years", 1900, 2200)

    anchors_node = c.section(raw, "anchors", "")
    c.only_keys(anchors_node, "anchors", ANCHOR_KEYS)
    anchors: dict[str, Anchor] = {}
    for akey in ANCHOR_KEYS:
        key = f"anchors.{akey}"
        node = c.section(anchors_node, akey, "anchors")
        is_growth = akey in ("historic_growth", "forecast_cagr")
        year_keys = ("from_year", "to_year") if is_growth else ("year",)
        c.only_keys(node, key, ("label", "value", "decimals", "units", *year_keys, *SOURCED))
        kind, source = kind_and_source(node, key, "published")
        value = c.required_number(
            node, "value", key, low=-0.99 if is_growth else 0.0, high=10.0 if is_growth else 1e6
        )
        if not is_growth and value <= 0:
            raise c.fail(f"{key}.value", f"a market size must be positive, got {value:g}")
        yr = {yk: c.integer(node, yk, key, first_year, last_year) for yk in year_keys}
        anchors[akey] = Anchor(
            akey,
            c.text(node, "label", key, akey.replace("_", " ")),
            value,
            c.integer(node, "decimals", key, 0, 6),
            c.text(node, "units", key, "fraction" if is_growth else "USD bn"),
            kind,
            source,
            **yr,
        )
    base, nxt, hor = (anchors[k].year or 0 for k in ("base_size", "next_size", "horizon_size"))
    if nxt != base + 1:
        raise c.fail("anchors.next_size.year", f"must be the year after base_size ({base + 1}), got {nxt}")
    if hor <= nxt:
        raise c.fail("anchors.horizon_size.year", f"must be after next_size ({nxt}), got {hor}")
    hg, fc = anchors["historic_growth"], anchors["forecast_cagr"]
    if (hg.from_year, hg.to_year) != (base, nxt):
        raise c.fail("anchors.historic_growth", f"must run from {base} to {nxt}")
    if (fc.from_year, fc.to_year) != (nxt, hor):
        raise c.fail("anchors.forecast_cagr", f"must run from {nxt} to {hor}")
    if last_year < hor or first_year >= base:
        raise c.fail("years", f"must start before {base} and end at or after {hor}")

    ext = c.mapping(raw.get("extension", {}), "extension")
    c.only_keys(ext, "extension", ("backcast_growth", "extrapolation_growth"))
    ext_values: dict[str, float | None] = {}
    for ekey in ("backcast_growth", "extrapolation_growth"):
        node = c.mapping(ext.get(ekey, {"value": None}), f"extension.{ekey}")
        c.only_keys(node, f"extension.{ekey}", ("value", *SOURCED))
        kind_and_source(node, f"extension.{ekey}", "derived")
        ext_values[ekey] = c.number(
            node, "value", f"extension.{ekey}", low=-0.5, high=1.0, allow_null=True, default=None
        )

    dims_node = c.section(raw, "dimensions", "")
    dimensions: dict[str, Dimension] = {}
    for dkey in dims_node:
        if dkey not in DIMENSIONS:
            raise c.fail(f"dimensions.{dkey}", f"unknown dimension (allowed: {', '.join(DIMENSIONS)})")
    for dkey in DIMENSIONS:
        key = f"dimensions.{dkey}"
        node = c.section(dims_node, dkey, "dimensions")
        c.only_keys(node, key, ("label", "members"))
        members_node = c.section(node, "members", key)
        if len(members_node) < 2:
            raise c.fail(f"{key}.members", "needs at least two members")
        members = []
        seen: dict[str, str] = {}
        for name, spec in members_node.items():
            mkey = f"{key}.members.{name}"
            m = c.mapping(spec, mkey)
            c.only_keys(m, mkey, ("aliases", "share", "growth", *SOURCED))
            aliases = m.get("aliases", []) or []
            if not isinstance(aliases, list) or not all(isinstance(a, str | int) for a in aliases):
                raise c.fail(f"{mkey}.aliases", f"expected a list of names, got {describe(aliases)}")
            for label in [name, *aliases]:
                norm = normalise(str(label))
                if norm in seen and seen[norm] != name:
                    raise c.fail(f"{mkey}.aliases", f"{label!r} already names {seen[norm]!r}")
                seen[norm] = str(name)
            kind, source = kind_and_source(m, mkey)
            members.append(
                Member(
                    str(name),
                    tuple(str(a) for a in aliases),
                    c.required_number(m, "share", mkey, low=0.0, high=1.0),
                    c.required_number(m, "growth", mkey, low=-0.5, high=1.0),
                    kind,
                    source,
                    c.text(m, "note", mkey, ""),
                )
            )
        total = sum(m.share for m in members)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise c.fail(f"{key}.members", f"shares sum to {total:.6g}, they must sum to 1")
        if all(m.share == 0 for m in members):
            raise c.fail(f"{key}.members", "at least one share must be positive")
        dimensions[dkey] = Dimension(dkey, c.text(node, "label", key, dkey.replace("_", " ")), tuple(members))

    drivers_node = c.section(raw, "drivers", "")
    drivers: dict[str, Driver] = {}
    residuals = []
    for dkey, spec in drivers_node.items():
        key = f"drivers.{dkey}"
        node = c.mapping(spec, key)
        c.only_keys(node, key, ("label", "factor", "growth", "low", "high", "evidence", *SOURCED))
        kind, source = kind_and_source(node, key, "assumed")
        growth = c.number(node, "growth", key, low=-0.5, high=1.0, allow_null=True)
        low = c.required_number(node, "low", key, low=-0.5, high=1.0)
        high = c.required_number(node, "high", key, low=-0.5, high=1.0)
        if low > high:
            raise c.fail(f"{key}.low", f"low ({low:g}) must not exceed high ({high:g})")
        if growth is None:
            residuals.append(str(dkey))
        elif not low <= growth <= high:
            raise c.fail(f"{key}.growth", f"{growth:g} must lie between low ({low:g}) and high ({high:g})")
        drivers[str(dkey)] = Driver(
            str(dkey),
            c.text(node, "label", key, str(dkey).replace("_", " ")),
            c.choice(node, "factor", key, FACTORS, "volume"),
            growth,
            low,
            high,
            kind,
            source,
            c.text(node, "evidence", key, ""),
            c.text(node, "note", key, ""),
        )
    if len(residuals) != 1:
        raise c.fail(
            "drivers",
            f"exactly one driver must have growth null (the residual that closes the bridge), found {len(residuals)}",
        )

    scenarios: dict[str, Scenario] = {}
    scen_node = c.mapping(raw.get("scenarios", {}), "scenarios")
    for skey, spec in scen_node.items():
        key = f"scenarios.{skey}"
        if normalise(str(skey)) == RESERVED_SCENARIO:
            raise c.fail(key, "'base' is reserved: it is the calibrated path and cannot be redefined")
        node = c.mapping(spec, key)
        c.only_keys(node, key, ("label", "description", "drivers"))
        overrides = c.mapping(node.get("drivers", {}), f"{key}.drivers")
        values: dict[str, float] = {}
        for dk in overrides:
            if dk not in drivers:
                raise c.fail(f"{key}.drivers.{dk}", f"unknown driver (allowed: {', '.join(drivers)})")
            if dk in residuals:
                raise c.fail(f"{key}.drivers.{dk}", "the residual driver cannot be set by a scenario")
            values[str(dk)] = c.required_number(overrides, dk, f"{key}.drivers", low=-0.5, high=1.0)
        scenarios[str(skey)] = Scenario(
            str(skey), c.text(node, "label", key, str(skey)), c.text(node, "description", key, ""), values
        )

    unc = c.mapping(raw.get("uncertainty", {}), "uncertainty")
    c.only_keys(unc, "uncertainty", ("paths", "seed", "annual_volatility", "note"))
    uncertainty = Uncertainty(
        c.integer(unc, "paths", "uncertainty", 100, 2_000_000, default=10_000),
        c.integer(unc, "seed", "uncertainty", 0, 2**63 - 1, default=20260303),
        c.required_number(unc, "annual_volatility", "uncertainty", low=0.0, high=0.5, default=0.008),
        c.text(unc, "note", "uncertainty", ""),
    )

    joint = _joint_tables(c, raw.get("joint", {}), dimensions, kind_and_source)

    ovr = c.mapping(raw.get("overrides", {}), "overrides")
    c.only_keys(ovr, "overrides", ("forecast_growth",))
    forecast_override = c.number(
        ovr, "forecast_growth", "overrides", low=-0.5, high=1.0, allow_null=True, default=None
    )

    canonical = {k: v for k, v in raw.items() if k != "replace"}
    return AssumptionSet(
        name=c.text(raw, "name", "", "unnamed"),
        description=c.text(raw, "description", "", ""),
        origin=where,
        hash=content_hash(canonical),
        first_year=first_year,
        last_year=last_year,
        sources=sources,
        anchors=anchors,
        backcast_growth=ext_values["backcast_growth"],
        extrapolation_growth=ext_values["extrapolation_growth"],
        forecast_growth_override=forecast_override,
        dimensions=dimensions,
        drivers=drivers,
        scenarios=scenarios,
        uncertainty=uncertainty,
        joint=joint,
        raw=canonical,
    )


def _joint_tables(
    c: _Checker,
    node: Any,
    dimensions: Mapping[str, Dimension],
    kind_and_source: Callable[[Mapping[str, Any], str], tuple[str, str]],
) -> dict[str, dict[str, dict[str, float]]]:
    """`joint: {region/service: {kind, source, rows: {North America: {Reporting: 0.6, ...}}}}`.

    The segment mix within regions.

    Each row gives base-year shares of a segment dimension's members within one region and must sum to 1;
    they shift over time with the members' relative growth, as the global split does. Regions without a
    row use the global split (a product of shares).
    """
    tables: dict[str, dict[str, dict[str, float]]] = {}
    for name, table in c.mapping(node, "joint").items():
        key = f"joint.{name}"
        first, _, second = str(name).partition("/")
        allowed = [f"region/{d}" for d in DIMENSIONS if d != "region"]
        if first.strip() != "region" or second.strip() not in DIMENSIONS or second.strip() == "region":
            raise c.fail(key, f"unknown joint table (allowed: {', '.join(allowed)})")
        seg_dim = dimensions[second.strip()]
        regions = _member_lookup({m.name: {"aliases": list(m.aliases)} for m in dimensions["region"].members})
        segments = _member_lookup({m.name: {"aliases": list(m.aliases)} for m in seg_dim.members})
        spec = c.mapping(table, key)
        c.only_keys(spec, key, ("rows", *SOURCED))
        kind_and_source(spec, key)
        rows: dict[str, dict[str, float]] = {}
        for region_name, row in c.mapping(spec.get("rows", {}), f"{key}.rows").items():
            region = regions.get(normalise(str(region_name)))
            if region is None:
                raise c.fail(
                    f"{key}.rows.{region_name}",
                    f"unknown region (allowed: {', '.join(dimensions['region'].names)})",
                )
            row_key = f"{key}.rows.{region_name}"
            shares: dict[str, float] = {m: 0.0 for m in seg_dim.names}
            for member_name in c.mapping(row, row_key):
                member = segments.get(normalise(str(member_name)))
                if member is None:
                    raise c.fail(
                        f"{row_key}.{member_name}", f"unknown member (allowed: {', '.join(seg_dim.names)})"
                    )
                shares[member] = c.required_number(row, member_name, row_key, low=0.0, high=1.0)
            total = sum(shares.values())
            if abs(total - 1.0) > SHARE_TOLERANCE:
                raise c.fail(row_key, f"shares sum to {total:.6g}, they must sum to 1")
            rows[region] = shares
        tables[seg_dim.key] = rows
    return tables


# ------------------------------------------------------------------------------------------ overrides

OVERRIDE_HELP = (
    "cagr, backcast_growth, extrapolation_growth, share.<member>, growth.<member>, driver.<driver>, "
    "paths, seed, volatility"
)


def parse_overrides(overrides: str | Mapping[str, object] | None) -> dict[str, float]:
    """'cagr=0.10; share.APAC=0.25' (or a mapping) -> {'cagr': 0.1, 'share.APAC': 0.25}.

    Pairs are separated by ';' or new lines; values must be numbers.
    """
    if overrides is None:
        return {}
    items: list[tuple[str, object]]
    if isinstance(overrides, str):
        items = []
        for part in re.split(r"[;\n]", overrides):
            if not part.strip():
                continue
            if "=" not in part:
                raise InvalidArgument("override", part.strip(), "key=value pairs separated by ';'")
            key, _, value = part.partition("=")
            items.append((key.strip(), value.strip()))
    else:
        items = list(overrides.items())
    pairs: dict[str, float] = {}
    for key, value in items:
        if not key:
            raise InvalidArgument("override", f"={value}", "key=value pairs separated by ';'")
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(str(value).strip().rstrip("%")) / (100 if str(value).strip().endswith("%") else 1)
        except ValueError:
            raise InvalidArgument(f"override value for {key}", value, "a number such as 0.1 or 10%") from None
        if not math.isfinite(number):
            raise InvalidArgument(f"override value for {key}", value, "a finite number")
        pairs[key] = number
    return pairs


def format_overrides(pairs: Mapping[str, float]) -> str:
    """Canonical text of overrides, used in labels and cache keys."""
    return "; ".join(f"{k}={v:g}" for k, v in sorted(pairs.items()))


def _apply_override(raw: dict[str, Any], current: AssumptionSet, key: str, value: float) -> None:
    head, _, rest = key.strip().partition(".")
    head_n = normalise(head)
    if head_n in ("cagr", "forecastgrowth", "forecastcagr", "growthrate") and not rest:
        raw.setdefault("overrides", {})["forecast_growth"] = value
    elif head_n in ("backcastgrowth", "extrapolationgrowth") and not rest:
        name = "backcast_growth" if head_n.startswith("back") else "extrapolation_growth"
        node = raw.setdefault("extension", {}).setdefault(name, {})
        node.update({"value": value, "kind": "assumed", "source": node.get("source") or "imgout"})
        node["note"] = "per-call override"
    elif head_n in ("share", "growth") and rest:
        dim, member = _find_member(current, rest)
        members = raw["dimensions"][dim]["members"]
        if head_n == "growth":
            members[member]["growth"] = value
        else:
            if not 0.0 <= value < 1.0:
                raise InvalidArgument(f"override {key}", value, "a share from 0 to below 1")
            others = sum(float(m["share"]) for n, m in members.items() if n != member)
            # The other members keep their proportions so that the dimension still sums to 1.
            for n, m in members.items():
                m["share"] = value if n == member else float(m["share"]) * (1 - value) / others
    elif head_n == "driver" and rest:
        wanted = normalise(rest)
        match = [
            d
            for d in current.drivers
            if normalise(d) == wanted or normalise(current.drivers[d].label) == wanted
        ]
        if not match:
            raise InvalidArgument("driver", rest, list(current.drivers))
        driver = raw["drivers"][match[0]]
        if driver.get("growth") is None:
            raise InvalidArgument(f"override {key}", rest, "a driver other than the residual")
        driver["growth"] = value
        driver["low"] = min(float(driver["low"]), value)
        driver["high"] = max(float(driver["high"]), value)
    elif head_n in ("paths", "seed", "volatility", "annualvolatility") and not rest:
        node = raw.setdefault("uncertainty", {})
        if head_n in ("paths", "seed"):
            if not value.is_integer():
                raise InvalidArgument(f"override {key}", value, "a whole number")
            node[head_n] = int(value)
        else:
            node["annual_volatility"] = value
    else:
        raise InvalidArgument("override", key, OVERRIDE_HELP)


def _find_member(current: AssumptionSet, name: str) -> tuple[str, str]:
    wanted = normalise(name)
    for dim in current.dimensions.values():
        for m in dim.members:
            if wanted == normalise(m.name) or wanted in {normalise(a) for a in m.aliases}:
                return dim.key, m.name
    allowed = [m.name for d in current.dimensions.values() for m in d.members]
    raise InvalidArgument("member", name, allowed)
