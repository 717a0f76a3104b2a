"""Checking a merged raw mapping and turning it into an :class:`AssumptionSet`, one checker per top-level key.

:func:`build` runs the checkers in a fixed order (sources first: every other section cites them). Each
checker reads its section through :class:`_Checker`, whose errors name the file, the key and what is
allowed, and returns the section's validated values.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from ...common.yamlfile import describe
from ...errors import AssumptionError
from ..uncertainty import MAX_PATHS
from .rules import FADE_YEARS, GROWTH, LONG_RUN_GROWTH, SHARE, VOLATILITY, Bound
from .schema import (
    ANCHOR_KEYS,
    CONSENSUS,
    DIMENSIONS,
    EXTENSION_KEYS,
    FACTORS,
    FADE_KEYS,
    GROWTH_ANCHORS,
    KINDS,
    RESERVED_SCENARIO,
    SHARE_TOLERANCE,
    TOP_LEVEL_KEYS,
    Anchor,
    AssumptionSet,
    Dimension,
    Driver,
    MarketDefinition,
    Member,
    PublishedCagr,
    PublisherEstimate,
    Refusal,
    Scenario,
    Source,
    Uncertainty,
    content_hash,
    member_lookup,
    normalise,
)

#: Keys every sourced value may carry besides its own.
SOURCED = ("kind", "source", "note")
MARKET_LISTS = ("trends", "forecast_factors", "historic_factors")


def _join(key: str, name: str) -> str:
    """The dotted key of `name` inside `key` ('' is the top of the file)."""
    return f"{key}.{name}" if key else name


class _Checker:
    """Reads typed values out of the raw mapping, raising errors that name the file and key."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.sources: Mapping[str, Source] = {}

    def fail(self, key: str, problem: str) -> AssumptionError:
        return AssumptionError(self.where, key, problem)

    def mapping(self, node: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(node, Mapping):
            raise self.fail(key, f"expected a mapping, got {describe(node)}")
        return node

    def section(self, node: Mapping[str, Any], name: str, key: str) -> Mapping[str, Any]:
        if name not in node:
            raise self.fail(_join(key, name), "missing")
        return self.mapping(node[name], _join(key, name))

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
        full = _join(key, name)
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

    def bounded(
        self, node: Mapping[str, Any], name: Any, key: str, bound: Bound, default: Any = ...
    ) -> float:
        """A number the rule ``bound`` accepts (see :mod:`.rules`); its refusal is the engine's error."""
        full = _join(key, str(name))
        if name not in node:
            if default is not ...:
                return float(default)
            raise self.fail(full, "missing")
        value = node[name]
        problem = bound.problem(value)
        if problem is not None:
            raise self.fail(full, problem)
        return float(value)

    def required_number(self, node: Mapping[str, Any], name: str, key: str, **kw: Any) -> float:
        value = self.number(node, name, key, **kw)
        assert value is not None
        return value

    def growth(
        self, node: Mapping[str, Any], name: str, key: str, *, allow_null: bool = False, default: Any = ...
    ) -> float | None:
        """A growth rate per year, as a fraction the rule :data:`.rules.GROWTH` accepts (or null)."""
        if allow_null and (node.get(name) is None if name in node else default is None):
            return None
        return self.bounded(node, name, key, GROWTH, default)

    def required_growth(self, node: Mapping[str, Any], name: Any, key: str) -> float:
        return self.bounded(node, name, key, GROWTH)

    def integer(
        self, node: Mapping[str, Any], name: str, key: str, low: int, high: int, default: Any = ...
    ) -> int:
        full = _join(key, name)
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
            raise self.fail(_join(key, name), "missing")
        value = node[name]
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(_join(key, name), f"expected text, got {describe(value)}")
        return str(value)

    def texts(self, node: Mapping[str, Any], name: str, key: str) -> tuple[str, ...]:
        """A list of non-empty texts (an absent key is an empty list)."""
        value = node.get(name, [])
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(_join(key, name), f"expected a list of texts, got {describe(value)}")
        return tuple(value)

    def choice(
        self, node: Mapping[str, Any], name: str, key: str, allowed: Iterable[str], default: str
    ) -> str:
        allowed = tuple(allowed)
        value = self.text(node, name, key, default)
        if value not in allowed:
            raise self.fail(
                _join(key, name), f"{value!r} is not allowed (expected one of {', '.join(allowed)})"
            )
        return value

    def only_keys(self, node: Mapping[str, Any], key: str, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for name in node:
            if name not in allowed:
                raise self.fail(_join(key, str(name)), f"unknown key (allowed: {', '.join(allowed)})")

    def source(self, node: Mapping[str, Any], key: str) -> str:
        """The `source` key of a node: empty, or a key of the set's sources."""
        source = self.text(node, "source", key, "")
        if source and source not in self.sources:
            raise self.fail(
                f"{key}.source", f"unknown source {source!r} (defined: {', '.join(self.sources)})"
            )
        return source

    def kind_and_source(
        self, node: Mapping[str, Any], key: str, default_kind: str = "assumed"
    ) -> tuple[str, str]:
        """A sourced value's `kind` (published, derived, assumed) and `source`."""
        kind = self.choice(node, "kind", key, KINDS, default_kind)
        return kind, self.source(node, key)


def build(raw: Mapping[str, Any], where: str, label: str | None = None) -> AssumptionSet:
    """Validate a merged raw mapping and turn it into an :class:`AssumptionSet`.

    ``where`` names it in errors and local output (a file's full path); ``label`` is what a client may
    read (a file's name, never its folder; default ``where``)."""
    c = _Checker(where)
    c.only_keys(raw, "", TOP_LEVEL_KEYS)
    c.sources = check_sources(c, raw)
    first_year, last_year = check_years(c, raw)
    anchors = check_anchors(c, raw, first_year, last_year)
    extension = check_extension(c, raw)
    dimensions = check_dimensions(c, raw)
    drivers = check_drivers(c, raw)
    scenarios = check_scenarios(c, raw, drivers)
    uncertainty = check_uncertainty(c, raw)
    joint = check_joint(c, raw, dimensions)
    long_run_growth, fade_years = check_fade(c, raw)
    estimates = check_estimates(c, raw, first_year, last_year)
    market = check_market(c, raw, anchors)
    overrides = check_overrides(c, raw, drivers, estimates, market)
    canonical = {k: v for k, v in raw.items() if k != "replace"}
    return AssumptionSet(
        name=c.text(raw, "name", "", "unnamed"),
        description=c.text(raw, "description", "", ""),
        origin=where,
        label=where if label is None else label,
        hash=content_hash(canonical),
        first_year=first_year,
        last_year=last_year,
        market=market,
        sources=c.sources,
        anchors=anchors,
        backcast_growth=extension["backcast_growth"],
        extrapolation_growth=extension["extrapolation_growth"],
        forecast_growth_override=overrides.forecast_growth,
        dimensions=dimensions,
        drivers=drivers,
        scenarios=scenarios,
        uncertainty=uncertainty,
        joint=joint,
        raw=canonical,
        estimates=estimates,
        long_run_growth=long_run_growth,
        fade_years=fade_years,
        driver_overrides=overrides.drivers,
        basis=overrides.basis,
        moved=overrides.moved,
        consensus_max_age=overrides.consensus_max_age,
    )


# ------------------------------------------------------------------------------------- one per key


def check_sources(c: _Checker, raw: Mapping[str, Any]) -> dict[str, Source]:
    """`sources: {tbrc: {title, publisher, date, url, base_year}}`: the publications values cite; `date`
    (its year is the figures' vintage) and `base_year` (where the page says it) date them."""
    sources: dict[str, Source] = {}
    for skey, spec in c.section(raw, "sources", "").items():
        key = f"sources.{skey}"
        node = c.mapping(spec, key)
        c.only_keys(node, key, ("title", "publisher", "date", "url", "base_year"))
        base_year = None
        if node.get("base_year") is not None:
            base_year = c.integer(node, "base_year", key, 1900, 2200)
        url = c.text(node, "url", key, "").strip()
        if url and (len(url) > 2000 or not _WEB_ADDRESS.fullmatch(url)):
            raise c.fail(
                f"{key}.url",
                f"{url[:80]!r} is not a web address (expected http:// or https:// and a host, "
                "without spaces, quotes or angle brackets)",
            )
        sources[str(skey)] = Source(
            str(skey),
            c.text(node, "title", key),
            c.text(node, "publisher", key, ""),
            c.text(node, "date", key, ""),
            url,
            base_year,
        )
    return sources


#: A source's web address: http(s), a host, then only the characters RFC 3986 allows in a URL, less the
#: quote (it becomes a link in the brief and the workbook: nothing in it may end an attribute or a tag).
_WEB_ADDRESS = re.compile(
    r"https?://[A-Za-z0-9][A-Za-z0-9.\-]*(?::\d{1,5})?(?:[/?#][A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]*)?"
)


def check_market(c: _Checker, raw: Mapping[str, Any], anchors: Mapping[str, Anchor]) -> MarketDefinition:
    """`market: {name, source, trends, forecast_factors, historic_factors}`: the market and its publication.

    The source must be a key of `sources` and, when anchors are published, the source of at least one of
    them: outputs credit it for the published figures.
    """
    node = c.section(raw, "market", "")
    c.only_keys(node, "market", ("name", "source", *MARKET_LISTS))
    name = c.text(node, "name", "market")
    if not name.strip():
        raise c.fail("market.name", "must not be empty")
    source = c.source(node, "market")
    if not source:
        raise c.fail("market.source", f"missing (expected one of {', '.join(c.sources)})")
    published = sorted({a.source for a in anchors.values() if a.kind == "published" and a.source})
    if published and source not in published:
        raise c.fail(
            "market.source",
            f"{source!r} publishes none of the anchors (published anchors cite {', '.join(published)})",
        )
    trends, forecast_factors, historic_factors = (c.texts(node, k, "market") for k in MARKET_LISTS)
    return MarketDefinition(name, source, trends, forecast_factors, historic_factors)


def check_years(c: _Checker, raw: Mapping[str, Any]) -> tuple[int, int]:
    """`years: {first, last}`: the model's span."""
    years = c.section(raw, "years", "")
    c.only_keys(years, "years", ("first", "last"))
    return c.integer(years, "first", "years", 1900, 2200), c.integer(years, "last", "years", 1900, 2200)


def check_anchors(c: _Checker, raw: Mapping[str, Any], first_year: int, last_year: int) -> dict[str, Anchor]:
    """`anchors`: the five published figures, each inside the years and in the order base, next, horizon."""
    node = c.section(raw, "anchors", "")
    c.only_keys(node, "anchors", ANCHOR_KEYS)
    anchors = {key: _anchor(c, node, key, first_year, last_year) for key in ANCHOR_KEYS}
    _check_anchor_years(c, anchors, first_year, last_year)
    return anchors


def _anchor(c: _Checker, anchors: Mapping[str, Any], akey: str, first_year: int, last_year: int) -> Anchor:
    key = f"anchors.{akey}"
    node = c.section(anchors, akey, "anchors")
    is_growth = akey in GROWTH_ANCHORS
    year_keys = ("from_year", "to_year") if is_growth else ("year",)
    c.only_keys(node, key, ("label", "value", "decimals", "units", *year_keys, *SOURCED))
    kind, source = c.kind_and_source(node, key, "published")
    low, high = (-0.99, 10.0) if is_growth else (0.0, 1e6)
    value = c.required_number(node, "value", key, low=low, high=high)
    if not is_growth and value <= 0:
        raise c.fail(f"{key}.value", f"a market size must be positive, got {value:g}")
    years = {yk: c.integer(node, yk, key, first_year, last_year) for yk in year_keys}
    return Anchor(
        akey,
        _anchor_label(c, node, key, akey, years),
        value,
        c.integer(node, "decimals", key, 0, 6),
        c.text(node, "units", key, "fraction" if is_growth else "USD bn"),
        kind,
        source,
        **years,
    )


#: How an anchor is named in outputs, from its years (so a new edition's labels follow its years).
ANCHOR_LABELS = {
    "base_size": "market size {year}",
    "next_size": "market size {year}",
    "historic_growth": "growth {from_year}-{to_year}",
    "horizon_size": "market size {year}",
    "forecast_cagr": "CAGR {from_year}-{to_year}",
}


def _anchor_label(c: _Checker, node: Mapping[str, Any], key: str, akey: str, years: Mapping[str, int]) -> str:
    """The anchor's label from its years; a label given in the file must not name another year."""
    generated = ANCHOR_LABELS[akey].format(**years)
    given = c.text(node, "label", key, "")
    if not given:
        return generated
    stale = sorted({int(y) for y in re.findall(r"\b(?:19|20|21)\d\d\b", given)} - set(years.values()))
    if stale:
        raise c.fail(
            f"{key}.label", f"{given!r} names {stale[0]}, but the anchor's years are {generated.split()[-1]}"
        )
    return given


def _check_anchor_years(c: _Checker, anchors: Mapping[str, Anchor], first_year: int, last_year: int) -> None:
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


def check_extension(c: _Checker, raw: Mapping[str, Any]) -> dict[str, float | None]:
    """`extension: {backcast_growth, extrapolation_growth}`: growth outside the published span (null:
    the calibrated rate)."""
    ext = c.mapping(raw.get("extension", {}), "extension")
    c.only_keys(ext, "extension", (*EXTENSION_KEYS, *FADE_KEYS))
    values: dict[str, float | None] = {}
    for ekey in EXTENSION_KEYS:
        key = f"extension.{ekey}"
        node = c.mapping(ext.get(ekey, {"value": None}), key)
        c.only_keys(node, key, ("value", *SOURCED))
        c.kind_and_source(node, key, "derived")
        values[ekey] = c.growth(node, "value", key, allow_null=True, default=None)
    return values


def check_fade(c: _Checker, raw: Mapping[str, Any]) -> tuple[float, int]:
    """`extension: {long_run_growth, fade_years}`: the growth every path fades to after its last published
    year, and the number of years the fade takes (0: at once)."""
    ext = c.mapping(raw.get("extension", {}), "extension")
    values: list[float] = []
    for fkey, bound in (("long_run_growth", LONG_RUN_GROWTH), ("fade_years", FADE_YEARS)):
        key = f"extension.{fkey}"
        if fkey not in ext:
            raise c.fail(key, "missing (the long-run fade needs long_run_growth and fade_years)")
        node = c.mapping(ext[fkey], key)
        c.only_keys(node, key, ("value", *SOURCED))
        c.kind_and_source(node, key, "assumed")
        values.append(c.bounded(node, "value", key, bound))
    return values[0], int(values[1])


def check_dimensions(c: _Checker, raw: Mapping[str, Any]) -> dict[str, Dimension]:
    """`dimensions`: all four, each with at least two members whose base-year shares sum to 1."""
    node = c.section(raw, "dimensions", "")
    for dkey in node:
        if dkey not in DIMENSIONS:
            raise c.fail(f"dimensions.{dkey}", f"unknown dimension (allowed: {', '.join(DIMENSIONS)})")
    return {dkey: _dimension(c, node, dkey) for dkey in DIMENSIONS}


def _dimension(c: _Checker, dimensions: Mapping[str, Any], dkey: str) -> Dimension:
    key = f"dimensions.{dkey}"
    node = c.section(dimensions, dkey, "dimensions")
    c.only_keys(node, key, ("label", "members", "refused"))
    members_node = c.section(node, "members", key)
    if len(members_node) < 2:
        raise c.fail(f"{key}.members", "needs at least two members")
    seen: dict[str, str] = {}  # every normalised name and alias -> the member it names
    members = [_member(c, name, spec, f"{key}.members.{name}", seen) for name, spec in members_node.items()]
    total = sum(m.share for m in members)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise c.fail(f"{key}.members", f"shares sum to {total:.6g}, they must sum to 1")
    refused = _refused(c, node, key, {m.name for m in members}, seen)
    return Dimension(dkey, c.text(node, "label", key, dkey.replace("_", " ")), tuple(members), refused)


def _refused(
    c: _Checker, dimension: Mapping[str, Any], key: str, members: set[str], seen: Mapping[str, str]
) -> dict[str, Refusal]:
    """`refused: {US: {what: a country, suggest: [North America]}}`: names answered with an explanation."""
    refused: dict[str, Refusal] = {}
    for name, spec in c.mapping(dimension.get("refused", {}), f"{key}.refused").items():
        rkey = f"{key}.refused.{name}"
        node = c.mapping(spec, rkey)
        c.only_keys(node, rkey, ("what", "suggest"))
        norm = normalise(str(name))
        if norm in seen:
            raise c.fail(rkey, f"{name!r} already names the member {seen[norm]!r}")
        suggest = c.texts(node, "suggest", rkey)
        for s in suggest:
            if s not in members:
                raise c.fail(
                    f"{rkey}.suggest", f"unknown member {s!r} (allowed: {', '.join(sorted(members))})"
                )
        refused[norm] = Refusal(str(name), c.text(node, "what", rkey), suggest)
    return refused


def _member(c: _Checker, name: Any, spec: Any, key: str, seen: dict[str, str]) -> Member:
    node = c.mapping(spec, key)
    c.only_keys(node, key, ("aliases", "share", "growth", *SOURCED))
    aliases = node.get("aliases", []) or []
    if not isinstance(aliases, list) or not all(isinstance(a, str | int) for a in aliases):
        raise c.fail(f"{key}.aliases", f"expected a list of names, got {describe(aliases)}")
    for label in [name, *aliases]:
        norm = normalise(str(label))
        if norm in seen and seen[norm] != name:
            raise c.fail(f"{key}.aliases", f"{label!r} already names {seen[norm]!r}")
        seen[norm] = str(name)
    kind, source = c.kind_and_source(node, key)
    return Member(
        str(name),
        tuple(str(a) for a in aliases),
        _positive_share(c, node, "share", key),
        c.required_growth(node, "growth", key),
        kind,
        source,
        c.text(node, "note", key, ""),
    )


def _positive_share(c: _Checker, node: Mapping[str, Any], name: Any, key: str) -> float:
    """A share above 0 and at most 1 (:data:`.rules.SHARE`): a member with no market has no growth to show
    (its CAGR is 0/0)."""
    return c.bounded(node, name, key, SHARE)


def check_drivers(c: _Checker, raw: Mapping[str, Any]) -> dict[str, Driver]:
    """`drivers`: each feeds one factor of the bridge; exactly one (growth null) is the residual."""
    drivers = {str(dkey): _driver(c, str(dkey), spec) for dkey, spec in c.section(raw, "drivers", "").items()}
    residuals = [d for d in drivers.values() if d.growth is None]
    if len(residuals) != 1:
        raise c.fail(
            "drivers",
            f"exactly one driver must have growth null (the residual that closes the bridge), found {len(residuals)}",
        )
    return drivers


def _driver(c: _Checker, dkey: str, spec: Any) -> Driver:
    key = f"drivers.{dkey}"
    node = c.mapping(spec, key)
    c.only_keys(node, key, ("label", "factor", "growth", "low", "high", "evidence", *SOURCED))
    kind, source = c.kind_and_source(node, key, "assumed")
    growth = c.growth(node, "growth", key, allow_null=True)
    low = c.required_growth(node, "low", key)
    high = c.required_growth(node, "high", key)
    if low > high:
        raise c.fail(f"{key}.low", f"low ({low:g}) must not exceed high ({high:g})")
    if growth is not None and not low <= growth <= high:
        raise c.fail(f"{key}.growth", f"{growth:g} must lie between low ({low:g}) and high ({high:g})")
    return Driver(
        dkey,
        c.text(node, "label", key, dkey.replace("_", " ")),
        c.choice(node, "factor", key, FACTORS, "volume"),
        growth,
        low,
        high,
        kind,
        source,
        c.text(node, "evidence", key, ""),
        c.text(node, "note", key, ""),
    )


def check_scenarios(
    c: _Checker, raw: Mapping[str, Any], drivers: Mapping[str, Driver]
) -> dict[str, Scenario]:
    """`scenarios`: named driver growths for the forecast years; 'base' and the residual are not theirs."""
    scenarios: dict[str, Scenario] = {}
    for skey, spec in c.mapping(raw.get("scenarios", {}), "scenarios").items():
        key = f"scenarios.{skey}"
        if normalise(str(skey)) == RESERVED_SCENARIO:
            raise c.fail(key, "'base' is reserved: it is the calibrated path and cannot be redefined")
        node = c.mapping(spec, key)
        c.only_keys(node, key, ("label", "description", "drivers"))
        values = _scenario_drivers(c, node, key, drivers)
        label, description = c.text(node, "label", key, str(skey)), c.text(node, "description", key, "")
        scenarios[str(skey)] = Scenario(str(skey), label, description, values)
    return scenarios


def _scenario_drivers(
    c: _Checker, scenario: Mapping[str, Any], key: str, drivers: Mapping[str, Driver]
) -> dict[str, float]:
    given = c.mapping(scenario.get("drivers", {}), f"{key}.drivers")
    values: dict[str, float] = {}
    for dk in given:
        if dk not in drivers:
            raise c.fail(f"{key}.drivers.{dk}", f"unknown driver (allowed: {', '.join(drivers)})")
        if drivers[dk].growth is None:
            raise c.fail(f"{key}.drivers.{dk}", "the residual driver cannot be set by a scenario")
        values[str(dk)] = c.required_growth(given, dk, f"{key}.drivers")
    return values


def check_uncertainty(c: _Checker, raw: Mapping[str, Any]) -> Uncertainty:
    """`uncertainty: {paths, seed, annual_volatility, note}`: the Monte Carlo settings."""
    node = c.mapping(raw.get("uncertainty", {}), "uncertainty")
    c.only_keys(node, "uncertainty", ("paths", "seed", "annual_volatility", "note"))
    return Uncertainty(
        c.integer(node, "paths", "uncertainty", 100, MAX_PATHS, default=10_000),
        c.integer(node, "seed", "uncertainty", 0, 2**63 - 1, default=20260303),
        c.bounded(node, "annual_volatility", "uncertainty", VOLATILITY, default=0.008),
        c.text(node, "note", "uncertainty", ""),
    )


def check_joint(
    c: _Checker, raw: Mapping[str, Any], dimensions: Mapping[str, Dimension]
) -> dict[str, dict[str, dict[str, float]]]:
    """`joint: {region/service: {kind, source, rows: {North America: {Reporting: 0.6, ...}}}}`.

    The segment mix within regions.

    Each row gives base-year shares of a segment dimension's members within one region and must sum to 1;
    they shift over time with the members' relative growth, as the global split does. Regions without a
    row use the global split (a product of shares).
    """
    tables: dict[str, dict[str, dict[str, float]]] = {}
    regions = _lookup(dimensions["region"])
    for name, table in c.mapping(raw.get("joint", {}), "joint").items():
        key = f"joint.{name}"
        seg_dim = dimensions[_joint_dimension(c, str(name), key)]
        spec = c.mapping(table, key)
        c.only_keys(spec, key, ("rows", *SOURCED))
        c.kind_and_source(spec, key)
        rows: dict[str, dict[str, float]] = {}
        for region_name, row in c.mapping(spec.get("rows", {}), f"{key}.rows").items():
            region = regions.get(normalise(str(region_name)))
            if region is None:
                allowed = ", ".join(dimensions["region"].names)
                raise c.fail(f"{key}.rows.{region_name}", f"unknown region (allowed: {allowed})")
            rows[region] = _joint_row(c, row, f"{key}.rows.{region_name}", seg_dim)
        tables[seg_dim.key] = rows
    return tables


def _joint_dimension(c: _Checker, name: str, key: str) -> str:
    """'region/service' -> 'service'."""
    first, _, second = (part.strip() for part in name.partition("/"))
    if first != "region" or second not in DIMENSIONS or second == "region":
        allowed = [f"region/{d}" for d in DIMENSIONS if d != "region"]
        raise c.fail(key, f"unknown joint table (allowed: {', '.join(allowed)})")
    return second


def _joint_row(c: _Checker, row: Any, key: str, seg_dim: Dimension) -> dict[str, float]:
    segments = _lookup(seg_dim)
    shares: dict[str, float] = {}
    for member_name in c.mapping(row, key):
        member = segments.get(normalise(str(member_name)))
        if member is None:
            raise c.fail(f"{key}.{member_name}", f"unknown member (allowed: {', '.join(seg_dim.names)})")
        shares[member] = _positive_share(c, row, member_name, key)
    missing = [m for m in seg_dim.names if m not in shares]
    if missing:
        raise c.fail(key, f"no share for {', '.join(missing)} (every member needs a positive share)")
    shares = {m: shares[m] for m in seg_dim.names}
    total = sum(shares.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise c.fail(key, f"shares sum to {total:.6g}, they must sum to 1")
    return shares


def _lookup(dimension: Dimension) -> dict[str, str]:
    return member_lookup({m.name: {"aliases": list(m.aliases)} for m in dimension.members})


ESTIMATE_KEYS = ("publisher", "source", "points", "cagr", "scope", "decimals", "kind", "note")
ESTIMATE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")
#: The most publishers one set may carry (every one is a path, a table row and a chart line in a brief).
MAX_ESTIMATES = 100
#: The largest market size a point may give, USD bn (world GDP is about 110,000).
MAX_MARKET_SIZE = 1_000_000.0


def check_estimates(
    c: _Checker, raw: Mapping[str, Any], first_year: int, last_year: int
) -> dict[str, PublisherEstimate]:
    """`estimates: {techsci: {publisher, source, points, cagr, scope}}`: every publisher's published figures.

    Points are USD bn by year, as published (their precision is the number as written unless `decimals`
    says otherwise); `cagr` is one `{from, to, value}` or a list of them, each period starting or ending
    at a published year (`from` may be left out where the page does not say it); one point needs a CAGR.
    """
    estimates: dict[str, PublisherEstimate] = {}
    seen: dict[str, str] = {}
    given = c.mapping(raw.get("estimates", {}) or {}, "estimates")
    if len(given) > MAX_ESTIMATES:
        raise c.fail(
            "estimates", f"{len(given):,} publishers (at most {MAX_ESTIMATES} in one assumption set)"
        )
    for ekey, spec in given.items():
        ident = str(ekey)
        if not ESTIMATE_ID.fullmatch(ident):
            # Quoted with escapes and cut: the id may hold terminal controls or run to thousands of characters.
            shown = repr(ident[:40]) + ("..." if len(ident) > 40 else "")
            raise c.fail(
                f"estimates.{shown}",
                "an estimate id is at most 64 letters, digits, '-' and '_' (e.g. techsci)",
            )
        key = f"estimates.{ident}"
        norm = normalise(ident)
        if norm == CONSENSUS:
            raise c.fail(key, f"{CONSENSUS!r} is reserved: it is the median of the estimates")
        if norm in seen:
            raise c.fail(key, f"duplicate id: {ident!r} and {seen[norm]!r} name the same estimate")
        seen[norm] = ident
        estimates[ident] = _estimate(c, ident, spec, key, first_year, last_year)
    return estimates


def _estimate(
    c: _Checker, ident: str, spec: Any, key: str, first_year: int, last_year: int
) -> PublisherEstimate:
    node = c.mapping(spec, key)
    c.only_keys(node, key, ESTIMATE_KEYS)
    kind, source = c.kind_and_source(node, key, "published")
    if not source:
        raise c.fail(f"{key}.source", f"missing (expected one of {', '.join(c.sources)})")
    points = _estimate_points(c, node, key, first_year, last_year)
    decimals = _estimate_decimals(c, node, key, points)
    cagrs = _estimate_cagrs(c, node, key, tuple(sorted(points)), first_year, last_year)
    if len(points) == 1 and not cagrs:
        raise c.fail(f"{key}.cagr", "missing: one published point needs a CAGR to make a path")
    return PublisherEstimate(
        ident,
        c.text(node, "publisher", key),
        source,
        points,
        decimals,
        cagrs,
        c.text(node, "scope", key, "not stated") or "not stated",
        kind,
        c.text(node, "note", key, ""),
    )


def _year_key(c: _Checker, year: Any, key: str, first_year: int, last_year: int) -> int:
    # Decimal digits of any script are a year ("２０３０" is 2030); superscripts ("²⁰³⁰") are not digits
    # int() reads, so they fall through to the error below.
    if isinstance(year, str) and year.strip().isdecimal() and len(year.strip()) <= 6:
        year = int(year)
    if isinstance(year, bool) or not isinstance(year, int):
        raise c.fail(key, f"expected a year, got {describe(year)}")
    if not first_year <= year <= last_year:
        raise c.fail(key, f"{year} is outside the model's years {first_year} to {last_year}")
    return year


def _estimate_points(
    c: _Checker, node: Mapping[str, Any], key: str, first_year: int, last_year: int
) -> dict[int, float]:
    given = c.mapping(node.get("points", {}) or {}, f"{key}.points")
    if not given:
        raise c.fail(f"{key}.points", "no published point (give at least one, e.g. {2025: 12.91})")
    points: dict[int, float] = {}
    for year, _ in given.items():
        pkey = f"{key}.points.{year}"
        y = _year_key(c, year, pkey, first_year, last_year)
        value = c.required_number(given, year, f"{key}.points")
        if value <= 0:
            raise c.fail(pkey, f"a market size must be positive, got {value:g}")
        if value > MAX_MARKET_SIZE:
            raise c.fail(
                pkey, f"{value:g} USD bn is beyond any market size (at most {MAX_MARKET_SIZE:,.0f} USD bn)"
            )
        if y in points:
            raise c.fail(pkey, f"{y} is given twice")
        points[y] = value
    return dict(sorted(points.items()))


def published_decimals(value: float) -> int:
    """The decimals of a number as written (its shortest form): 18.08 -> 2, 8.6 -> 1, 13 -> 0.

    >>> [published_decimals(v) for v in (18.08, 8.6, 13, 0.1243)]
    [2, 1, 0, 4]
    """
    exponent = decimal.Decimal(repr(value)).as_tuple().exponent
    return max(0, -int(exponent)) if isinstance(exponent, int) else 0


def _estimate_decimals(
    c: _Checker, node: Mapping[str, Any], key: str, points: Mapping[int, float]
) -> dict[int, int]:
    """`decimals: 2` (every point) or `{2025: 2}`; else each point's decimals as written."""
    given = node.get("decimals")
    inferred = {y: published_decimals(v) for y, v in points.items()}
    if given is None:
        return inferred
    if isinstance(given, int) and not isinstance(given, bool):
        return {y: c.integer(node, "decimals", key, 0, 6) for y in points}
    per_year = c.mapping(given, f"{key}.decimals")
    out = dict(inferred)
    for year in per_year:
        y = _year_key(c, year, f"{key}.decimals.{year}", min(points), max(points))
        if y not in points:
            raise c.fail(f"{key}.decimals.{year}", f"not a published year ({', '.join(map(str, points))})")
        out[y] = c.integer(per_year, year, f"{key}.decimals", 0, 6)
    return out


def _estimate_cagrs(
    c: _Checker, node: Mapping[str, Any], key: str, years: tuple[int, ...], first_year: int, last_year: int
) -> tuple[PublishedCagr, ...]:
    given = node.get("cagr")
    if given is None:
        return ()
    items = given if isinstance(given, list) else [given]
    cagrs = []
    for i, item in enumerate(items):
        ckey = f"{key}.cagr" if not isinstance(given, list) else f"{key}.cagr[{i}]"
        spec = c.mapping(item, ckey)
        c.only_keys(spec, ckey, ("from", "to", "value", "decimals"))
        to_year = _year_key(c, spec.get("to"), f"{ckey}.to", first_year, last_year)
        from_year = None
        if spec.get("from") is not None:
            from_year = _year_key(c, spec.get("from"), f"{ckey}.from", first_year, last_year)
            if from_year >= to_year:
                raise c.fail(f"{ckey}.from", f"{from_year} must be before to ({to_year})")
        value = c.required_growth(spec, "value", ckey)
        if to_year not in years and from_year not in years:
            period = f"to {to_year}" if from_year is None else f"{from_year}-{to_year}"
            published = ", ".join(map(str, years))
            raise c.fail(ckey, f"the period {period} touches none of the published years ({published})")
        decimals = spec.get("decimals")
        cagrs.append(
            PublishedCagr(
                from_year,
                to_year,
                value,
                published_decimals(value) if decimals is None else c.integer(spec, "decimals", ckey, 0, 8),
            )
        )
    return tuple(sorted(cagrs, key=lambda g: g.to_year))


#: What per-call overrides may record as moved (see :attr:`AssumptionSet.moved`).
MOVED_KINDS = ("forecast", "drivers", "backcast", "extrapolation", "fade")


class Overrides(NamedTuple):
    """The `overrides` section: what-ifs that are not values of the file's own sections."""

    forecast_growth: float | None
    drivers: dict[str, float]
    basis: str
    moved: frozenset[str]
    consensus_max_age: int | None = None


def check_overrides(
    c: _Checker,
    raw: Mapping[str, Any],
    drivers: Mapping[str, Driver],
    estimates: Mapping[str, PublisherEstimate],
    market: MarketDefinition,
) -> Overrides:
    """`overrides: {forecast_growth, drivers, basis, moved, consensus_max_age}`: a forecast growth in place
    of the calibrated CAGR (null: none), driver growths in place of the file's (the residual keeps its
    calibrated value), what the total follows (the market's source, `consensus` or an estimate id), what
    per-call overrides moved (written by :func:`.overrides.with_overrides`), and the oldest estimate the
    consensus takes, in years behind the newest (null: every one)."""
    node = c.mapping(raw.get("overrides", {}) or {}, "overrides")
    c.only_keys(node, "overrides", ("forecast_growth", "drivers", "basis", "moved", "consensus_max_age"))
    max_age = None
    if node.get("consensus_max_age") is not None:
        max_age = c.integer(node, "consensus_max_age", "overrides", 0, 200)
    forecast = c.growth(node, "forecast_growth", "overrides", allow_null=True, default=None)
    what_ifs: dict[str, float] = {}
    for dk in c.mapping(node.get("drivers", {}) or {}, "overrides.drivers"):
        if dk not in drivers:
            raise c.fail(f"overrides.drivers.{dk}", f"unknown driver (allowed: {', '.join(drivers)})")
        if drivers[dk].growth is None:
            raise c.fail(
                f"overrides.drivers.{dk}", "the residual keeps its calibrated value; set another driver"
            )
        what_ifs[str(dk)] = c.required_growth(node["drivers"], dk, "overrides.drivers")
    basis = _basis(c, node, estimates, market)
    if basis != market.source:
        _check_basis_alone(c, raw, forecast, basis)
    moved = node.get("moved", []) or []
    allowed = (*MOVED_KINDS, *(f"{k}.{d}" for k in ("share", "growth") for d in DIMENSIONS))
    if not isinstance(moved, list) or any(m not in allowed for m in moved):
        raise c.fail("overrides.moved", f"expected a list of {', '.join(allowed)}")
    return Overrides(forecast, what_ifs, basis, frozenset(moved), max_age)


def _basis(
    c: _Checker, node: Mapping[str, Any], estimates: Mapping[str, PublisherEstimate], market: MarketDefinition
) -> str:
    given = c.text(node, "basis", "overrides", "") or market.source
    allowed = {normalise(market.source): market.source, normalise(CONSENSUS): CONSENSUS}
    for ident in estimates:
        allowed.setdefault(normalise(ident), ident)
    basis = allowed.get(normalise(given))
    if basis is None:
        raise c.fail("overrides.basis", f"unknown basis {given!r} (allowed: {', '.join(allowed.values())})")
    if basis == CONSENSUS and not estimates:
        raise c.fail("overrides.basis", "consensus needs at least one entry in estimates")
    return basis


def _check_basis_alone(c: _Checker, raw: Mapping[str, Any], forecast: float | None, basis: str) -> None:
    """The model's own path settings mean nothing once the total follows another path: refuse, not ignore."""
    extension = raw.get("extension", {}) or {}
    given = [f"extension.{k}" for k in EXTENSION_KEYS if (extension.get(k) or {}).get("value") is not None]
    if forecast is not None:
        given.insert(0, "overrides.forecast_growth (cagr)")
    if given:
        raise c.fail(
            "overrides.basis",
            f"with basis {basis} the total follows that path; {', '.join(given)} set the model's own path "
            "and cannot apply (remove one or the other)",
        )
