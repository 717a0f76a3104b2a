"""Per-call overrides: ``"cagr=0.10; share.Asia-Pacific=0.25"`` read, written canonically and applied.

:func:`with_overrides` gives a new, validated set (with its own hash) from an existing one: each override
changes the set's raw mapping, which is then checked again like a file.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...errors import InvalidArgument
from .rules import SHARE_OVERRIDE
from .schema import AssumptionSet, Member, Override, normalise
from .validate import build

OVERRIDE_HELP = (
    "cagr, backcast_growth, extrapolation_growth, long_run_growth, fade_years, share.<member>, "
    "growth.<member>, driver.<driver>, basis, consensus_max_age, paths, seed, volatility"
)
PAIRS = "key=value pairs separated by ';'"
#: Overrides whose value is a name, not a number.
TEXT_KEYS = frozenset({"basis"})


def parse_overrides(overrides: str | Mapping[str, object] | None) -> dict[str, float | str]:
    """'cagr=0.10; share.APAC=0.25' (or a mapping) -> {'cagr': 0.1, 'share.APAC': 0.25}.

    Pairs are separated by ';' or new lines; values must be numbers (``10%`` is 0.1), except ``basis``
    (``consensus`` or an estimate id).

    >>> parse_overrides("cagr=10%; share.APAC=0.25; basis=consensus")
    {'cagr': 0.1, 'share.APAC': 0.25, 'basis': 'consensus'}
    """
    if overrides is None:
        return {}
    items = _split(overrides) if isinstance(overrides, str) else list(overrides.items())
    pairs: dict[str, float | str] = {}
    for key, value in items:
        if not key:
            raise InvalidArgument("override", f"={value}", PAIRS)
        pairs[key] = _text(key, value) if normalise(key) in TEXT_KEYS else _number(key, value)
    return pairs


def _split(text: str) -> list[tuple[str, object]]:
    items: list[tuple[str, object]] = []
    for part in re.split(r"[;\n]", text):
        if not part.strip():
            continue
        if "=" not in part:
            raise InvalidArgument("override", part.strip(), PAIRS)
        key, _, value = part.partition("=")
        items.append((key.strip(), value.strip()))
    return items


def _text(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"override value for {key}", value, "a name such as consensus or techsci")
    return value.strip()


def _number(key: str, value: object) -> float:
    text = str(value).strip()
    try:
        if isinstance(value, bool):
            raise ValueError
        # A percentage is divided in decimal: 3.65% is 0.0365, not 0.036500000000000005.
        number = float(Decimal(text[:-1]) / 100) if text.endswith("%") else float(text)
    except (ValueError, ArithmeticError):
        raise InvalidArgument(f"override value for {key}", value, "a number such as 0.1 or 10%") from None
    if not math.isfinite(number):
        raise InvalidArgument(f"override value for {key}", value, "a finite number")
    return number


def format_overrides(pairs: Mapping[str, float | str]) -> str:
    """Canonical text of overrides, used in labels and cache keys: every number as written, to the last
    digit (``market_for`` reads the overrides back from it).

    >>> format_overrides({"share.APAC": 0.25, "cagr": 0.1, "basis": "consensus", "paths": 500.0})
    'basis=consensus; cagr=0.1; paths=500; share.APAC=0.25'
    >>> format_overrides({"cagr": 0.09094790122147489})
    'cagr=0.09094790122147489'
    """
    return "; ".join(
        f"{k}={v}" if isinstance(v, str) else f"{k}={_number_text(v)}" for k, v in sorted(pairs.items())
    )


def _number_text(value: float) -> str:
    """The shortest text that reads back as the same float (``repr``), whole numbers without ``.0``."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def with_overrides(
    assumptions: AssumptionSet,
    overrides: str | Mapping[str, object] | None,
    worked_out: Mapping[str, float] | None = None,
) -> AssumptionSet:
    """A new set with per-call overrides applied (see :func:`parse_overrides`); no overrides: the same set.

    The order of the pairs does not matter: several ``share.`` overrides of one dimension are applied
    together (:func:`_shares`). What each override moved is recorded in ``overrides.moved`` so that the
    statuses of the values it moved say ``(override)``. An override equal to the value it replaces (to 12
    significant digits, so ``3.65%`` is 0.0365) changes nothing and moves nothing; ``worked_out`` gives the
    values the set leaves to the model, as the model works them out (``forecast_growth``: the calibrated
    CAGR, ``backcast_growth``: the calibrated historic growth), so that ``cagr=`` or ``backcast_growth=``
    equal to them moves nothing either. A set no override changes is returned as it is.
    """
    pairs = parse_overrides(overrides)
    if not pairs:
        return assumptions
    before = Before(assumptions, worked_out or {})
    raw = copy.deepcopy(dict(assumptions.raw))
    shares: list[tuple[str, str, float]] = []
    moved: set[str] = set()
    for key, value in pairs.items():
        head, _, rest = key.strip().partition(".")
        if (normalise(head), bool(rest)) == ("share", True):
            shares.append((key, rest, _as_number(key, value)))
        else:
            _apply(raw, before, key, value, moved)
    if shares:
        _shares(raw, before, shares, moved)
    if raw == assumptions.raw:
        return assumptions
    section = raw.setdefault("overrides", {})
    section["moved"] = sorted(moved | set(section.get("moved", []) or []))
    settings = format_overrides(pairs)
    built = build(
        raw,
        f"{assumptions.origin} with overrides {settings}",
        f"{assumptions.label} with overrides {settings}",
    )
    original = assumptions.original or assumptions
    return dataclasses.replace(
        built, original=original, overridden=_record(assumptions, original, built, pairs, worked_out or {})
    )


def _record(
    before: AssumptionSet,
    original: AssumptionSet,
    after: AssumptionSet,
    pairs: Mapping[str, float | str],
    worked_out: Mapping[str, float],
) -> tuple[Override, ...]:
    """What the overrides changed, each (key, value in the set as read, value in force), after those of
    earlier overrides (a key overridden again keeps its place and its value in the set); an override
    that gives back the set's value leaves the record."""
    record = {o.key: o for o in before.overridden}
    for key in pairs:
        name = canonical_key(original, key)
        in_set = record[name].in_set if name in record else override_value(original, name, worked_out)
        in_force = override_value(after, name, worked_out)
        unchanged = in_force == in_set or (
            isinstance(in_force, float) and isinstance(in_set, float) and _same(in_set, in_force)
        )
        if unchanged:
            record.pop(name, None)
        else:
            record[name] = Override(name, in_set, in_force)
    return tuple(record.values())


def canonical_key(assumptions: AssumptionSet, key: str) -> str:
    """An override's key as the record shows it: ``share.APAC`` -> ``share.Asia-Pacific``, ``forecast
    growth`` -> ``cagr``, ``driver.Telemedicine`` -> ``driver.telemedicine``.

    >>> from xl_addin.model.assumptions import default_assumptions
    >>> [canonical_key(default_assumptions(), k) for k in ("share.APAC", "Forecast_Growth", "growth.mri")]
    ['share.Asia-Pacific', 'cagr', 'growth.MRI']
    """
    head, _, rest = key.strip().partition(".")
    if not rest:
        return _CANONICAL[normalise(head)]
    if normalise(head) == "driver":
        return f"driver.{_driver_key(assumptions, rest)}"
    return f"{normalise(head)}.{_find_member(assumptions, rest)[1]}"


def override_value(
    assumptions: AssumptionSet, key: str, worked_out: Mapping[str, float] | None = None
) -> float | str | None:
    """The value a canonical override key (:func:`canonical_key`) has in a set: the set's, else the one
    the model works out (``worked_out``, as :func:`with_overrides` takes it), else None."""
    a = assumptions
    before = Before(a, worked_out or {})
    head, _, rest = key.partition(".")
    if rest:
        if head == "driver":
            return a.driver_overrides.get(rest, a.drivers[rest].growth)
        dim, member = _find_member(a, rest)
        return getattr(_member(a, dim, member), head)
    values: dict[str, Callable[[], float | str | None]] = {
        "cagr": lambda: before.value("forecast_growth", "forecast_growth_override"),
        "backcast_growth": lambda: before.value("backcast_growth"),
        "extrapolation_growth": lambda: a.extrapolation_growth,
        "long_run_growth": lambda: a.long_run_growth,
        "fade_years": lambda: float(a.fade_years),
        "basis": lambda: a.basis or a.market.source,
        "consensus_max_age": lambda: None if a.consensus_max_age is None else float(a.consensus_max_age),
        "paths": lambda: float(a.uncertainty.paths),
        "seed": lambda: float(a.uncertainty.seed),
        "volatility": lambda: a.uncertainty.annual_volatility,
    }
    return values[head]()


@dataclass(frozen=True)
class Before:
    """The set an override applies to, and the values it leaves to the model (see :func:`with_overrides`)."""

    assumptions: AssumptionSet
    worked_out: Mapping[str, float]

    def value(self, name: str, attribute: str = "") -> float | None:
        """The value ``name`` has now: the set's (its ``attribute`` of :class:`AssumptionSet`, by default
        ``name``), else the one the model works out for it, else None (``extrapolation_growth`` null: the
        fade, no single value)."""
        given = getattr(self.assumptions, attribute or name)
        return self.worked_out.get(name) if given is None else float(given)


def _same(now: float | None, value: float) -> bool:
    """True when an override gives the value already there: it changes nothing, so it moves nothing."""
    return now is not None and math.isclose(now, value, rel_tol=1e-12, abs_tol=1e-15)


# ------------------------------------------------------------------------------ one function per key

#: Changes the raw mapping for one override: (raw, the set before, the whole key, what follows the
#: first dot, the value); returns what it moved (an entry of ``overrides.moved``) or "" (nothing: an
#: override equal to the value there changes nothing).
Apply = Callable[[dict[str, Any], Before, str, str, Any], str]


def _apply(raw: dict[str, Any], before: Before, key: str, value: float | str, moved: set[str]) -> None:
    head, _, rest = key.strip().partition(".")
    apply = _BY_HEAD.get((normalise(head), bool(rest)))
    if apply is None:
        raise InvalidArgument("override", key, OVERRIDE_HELP)
    if normalise(head) not in TEXT_KEYS:
        value = _as_number(key, value)
    what = apply(raw, before, key, rest, value)
    if what:
        moved.add(what)


def _as_number(key: str, value: float | str) -> float:
    return _number(key, value) if isinstance(value, str) else value


def _forecast_growth(raw: dict[str, Any], before: Before, key: str, rest: str, value: float) -> str:
    if _same(before.value("forecast_growth", "forecast_growth_override"), value):
        return ""
    raw.setdefault("overrides", {})["forecast_growth"] = value
    return "forecast"


def _extension(name: str, moves: str, whole: bool = False) -> Apply:
    def apply(raw: dict[str, Any], before: Before, key: str, rest: str, value: float) -> str:
        if whole and not float(value).is_integer():
            raise InvalidArgument(f"override {key}", value, "a whole number")
        if _same(before.value(name), value):
            return ""
        node = raw.setdefault("extension", {}).setdefault(name, {})
        node.update(
            {
                "value": int(value) if whole else value,
                "kind": "assumed",
                "source": node.get("source") or "imgout",
            }
        )
        node["note"] = "per-call override"
        return moves

    return apply


def _member_growth(raw: dict[str, Any], before: Before, key: str, rest: str, value: float) -> str:
    dim, member = _find_member(before.assumptions, rest)
    if _same(_member(before.assumptions, dim, member).growth, value):
        return ""
    raw["dimensions"][dim]["members"][member]["growth"] = value
    return f"growth.{dim}"


def _shares(
    raw: dict[str, Any], before: Before, requests: list[tuple[str, str, float]], moved: set[str]
) -> None:
    """Every ``share.`` override at once: overridden members take their values, the others keep their
    proportions of what is left, so the order of the pairs does not matter.

    Given overrides o_m for the members M of one dimension (each above 0 and below 1, their sum S below 1),
    every other member k gets s_k (1 - S) / sum of the other members' s_j. A dimension whose overrides all
    give the shares already there is left as it is.
    """
    current = before.assumptions
    by_dimension: dict[str, dict[str, tuple[str, float]]] = {}
    for key, rest, value in requests:
        if SHARE_OVERRIDE.problem(value) is not None:
            raise InvalidArgument(f"override {key}", value, SHARE_OVERRIDE.allowed)
        dim, member = _find_member(current, rest)
        given = by_dimension.setdefault(dim, {})
        if member in given and given[member][1] != value:
            raise InvalidArgument(
                f"override {key}", value, f"one share for {member} (also set by {given[member][0]})"
            )
        given[member] = (key, value)
    for dim, given in by_dimension.items():
        if all(_same(_member(current, dim, m).share, v) for m, (_, v) in given.items()):
            continue
        members = raw["dimensions"][dim]["members"]
        rest_names = [n for n in members if n not in given]
        total = math.fsum(v for _, v in given.values())
        keys = " + ".join(k for k, _ in given.values())
        if not rest_names or total >= 1.0:
            raise InvalidArgument(
                f"override {keys}",
                round(total, 6),
                f"shares summing to below 1, leaving a share for the other {current.dimensions[dim].plural}",
            )
        others = math.fsum(float(members[n]["share"]) for n in rest_names)
        for n, m in members.items():
            m["share"] = given[n][1] if n in given else float(m["share"]) * (1 - total) / others
        moved.add(f"share.{dim}")


def _driver_growth(raw: dict[str, Any], before: Before, key: str, rest: str, value: float) -> str:
    current = before.assumptions
    driver = _driver_key(current, rest)
    if current.drivers[driver].growth is None:
        raise InvalidArgument(
            f"override {key}", rest, "a driver other than the residual (it keeps its calibrated value)"
        )
    if _same(current.driver_overrides.get(driver, current.drivers[driver].growth), value):
        return ""
    raw.setdefault("overrides", {}).setdefault("drivers", {})[driver] = value
    return "drivers"


def _driver_key(current: AssumptionSet, name: str) -> str:
    """A driver's key from its key or label, any case."""
    wanted = normalise(name)
    match = [
        d for d in current.drivers if normalise(d) == wanted or normalise(current.drivers[d].label) == wanted
    ]
    if not match:
        raise InvalidArgument("driver", name, list(current.drivers))
    return match[0]


def _basis(raw: dict[str, Any], before: Before, key: str, rest: str, value: str) -> str:
    current = before.assumptions
    if normalise(value) == normalise(current.basis or current.market.source):
        return ""
    raw.setdefault("overrides", {})["basis"] = value
    return ""


def _consensus_max_age(raw: dict[str, Any], before: Before, key: str, rest: str, value: float) -> str:
    if not value.is_integer() or value < 0:
        raise InvalidArgument(f"override {key}", value, "a whole number of years, 0 or more")
    raw.setdefault("overrides", {})["consensus_max_age"] = int(value)
    return ""


def _whole_number(name: str) -> Apply:
    def apply(raw: dict[str, Any], before: Before, key: str, rest: str, value: float) -> str:
        if not value.is_integer():
            raise InvalidArgument(f"override {key}", value, "a whole number")
        raw.setdefault("uncertainty", {})[name] = int(value)
        return ""

    return apply


def _volatility(raw: dict[str, Any], before: Before, key: str, rest: str, value: float) -> str:
    raw.setdefault("uncertainty", {})["annual_volatility"] = value
    return ""


def _member(current: AssumptionSet, dim: str, name: str) -> Member:
    return next(m for m in current.dimensions[dim].members if m.name == name)


def _find_member(current: AssumptionSet, name: str) -> tuple[str, str]:
    wanted = normalise(name)
    for dim in current.dimensions.values():
        for m in dim.members:
            if wanted == normalise(m.name) or wanted in {normalise(a) for a in m.aliases}:
                return dim.key, m.name
    for dim in current.dimensions.values():
        refusal = dim.refusal_error(name, "member")
        if refusal is not None:
            raise refusal
    allowed = [m.name for d in current.dimensions.values() for m in d.members]
    raise InvalidArgument("member", name, allowed)


#: Each override with no name after a dot: its spellings (normalised), the key the record of overrides
#: shows for it (the first spelling), and how to apply it.
_PLAIN: tuple[tuple[tuple[str, ...], Apply], ...] = (
    (("cagr", "forecastgrowth", "forecastcagr", "growthrate"), _forecast_growth),
    (("backcast_growth",), _extension("backcast_growth", "backcast")),
    (("extrapolation_growth",), _extension("extrapolation_growth", "extrapolation")),
    (("long_run_growth",), _extension("long_run_growth", "fade")),
    (("fade_years",), _extension("fade_years", "fade", whole=True)),
    (("basis",), _basis),
    (("consensus_max_age",), _consensus_max_age),
    (("paths",), _whole_number("paths")),
    (("seed",), _whole_number("seed")),
    (("volatility", "annualvolatility"), _volatility),
)

#: The canonical key of each plain override, by normalised spelling.
_CANONICAL = {normalise(spelling): spellings[0] for spellings, _ in _PLAIN for spelling in spellings}

#: (normalised key before the first dot, whether a name follows the dot) -> how to apply it.
_BY_HEAD: dict[tuple[str, bool], Apply] = {
    **{(normalise(spelling), False): apply for spellings, apply in _PLAIN for spelling in spellings},
    ("growth", True): _member_growth,
    ("driver", True): _driver_growth,
}
