"""Per-call overrides: ``"cagr=0.10; share.Asia-Pacific=0.25"`` read, written canonically and applied.

:func:`with_overrides` gives a new, validated set (with its own hash) from an existing one: each override
changes the set's raw mapping, which is then checked again like a file.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import InvalidArgument
from .schema import AssumptionSet, normalise
from .validate import build

OVERRIDE_HELP = (
    "cagr, backcast_growth, extrapolation_growth, share.<member>, growth.<member>, driver.<driver>, "
    "paths, seed, volatility"
)
PAIRS = "key=value pairs separated by ';'"


def parse_overrides(overrides: str | Mapping[str, object] | None) -> dict[str, float]:
    """'cagr=0.10; share.APAC=0.25' (or a mapping) -> {'cagr': 0.1, 'share.APAC': 0.25}.

    Pairs are separated by ';' or new lines; values must be numbers (``10%`` is 0.1).

    >>> parse_overrides("cagr=10%; share.APAC=0.25")
    {'cagr': 0.1, 'share.APAC': 0.25}
    """
    if overrides is None:
        return {}
    items = _split(overrides) if isinstance(overrides, str) else list(overrides.items())
    pairs: dict[str, float] = {}
    for key, value in items:
        if not key:
            raise InvalidArgument("override", f"={value}", PAIRS)
        pairs[key] = _number(key, value)
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


def _number(key: str, value: object) -> float:
    text = str(value).strip()
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise InvalidArgument(f"override value for {key}", value, "a number such as 0.1 or 10%") from None
    if not math.isfinite(number):
        raise InvalidArgument(f"override value for {key}", value, "a finite number")
    return number


def format_overrides(pairs: Mapping[str, float]) -> str:
    """Canonical text of overrides, used in labels and cache keys.

    >>> format_overrides({"share.APAC": 0.25, "cagr": 0.1})
    'cagr=0.1; share.APAC=0.25'
    """
    return "; ".join(f"{k}={v:g}" for k, v in sorted(pairs.items()))


def with_overrides(assumptions: AssumptionSet, overrides: str | Mapping[str, object] | None) -> AssumptionSet:
    """A new set with per-call overrides applied (see :func:`parse_overrides`); no overrides: the same set."""
    pairs = parse_overrides(overrides)
    if not pairs:
        return assumptions
    raw = copy.deepcopy(dict(assumptions.raw))
    for key, value in pairs.items():
        _apply(raw, assumptions, key, value)
    return build(raw, f"{assumptions.origin} with overrides {format_overrides(pairs)}")


# ------------------------------------------------------------------------------ one function per key

#: Changes the raw mapping for one override: (raw, the set before, the whole key, what follows the
#: first dot, the value).
Apply = Callable[[dict[str, Any], AssumptionSet, str, str, float], None]


def _apply(raw: dict[str, Any], current: AssumptionSet, key: str, value: float) -> None:
    head, _, rest = key.strip().partition(".")
    apply = _BY_HEAD.get((normalise(head), bool(rest)))
    if apply is None:
        raise InvalidArgument("override", key, OVERRIDE_HELP)
    apply(raw, current, key, rest, value)


def _forecast_growth(raw: dict[str, Any], current: AssumptionSet, key: str, rest: str, value: float) -> None:
    raw.setdefault("overrides", {})["forecast_growth"] = value


def _extension(name: str) -> Apply:
    def apply(raw: dict[str, Any], current: AssumptionSet, key: str, rest: str, value: float) -> None:
        node = raw.setdefault("extension", {}).setdefault(name, {})
        node.update({"value": value, "kind": "assumed", "source": node.get("source") or "imgout"})
        node["note"] = "per-call override"

    return apply


def _member_growth(raw: dict[str, Any], current: AssumptionSet, key: str, rest: str, value: float) -> None:
    dim, member = _find_member(current, rest)
    raw["dimensions"][dim]["members"][member]["growth"] = value


def _member_share(raw: dict[str, Any], current: AssumptionSet, key: str, rest: str, value: float) -> None:
    dim, member = _find_member(current, rest)
    if not 0.0 <= value < 1.0:
        raise InvalidArgument(f"override {key}", value, "a share from 0 to below 1")
    members = raw["dimensions"][dim]["members"]
    others = sum(float(m["share"]) for n, m in members.items() if n != member)
    # The other members keep their proportions so that the dimension still sums to 1.
    for n, m in members.items():
        m["share"] = value if n == member else float(m["share"]) * (1 - value) / others


def _driver_growth(raw: dict[str, Any], current: AssumptionSet, key: str, rest: str, value: float) -> None:
    wanted = normalise(rest)
    match = [
        d for d in current.drivers if normalise(d) == wanted or normalise(current.drivers[d].label) == wanted
    ]
    if not match:
        raise InvalidArgument("driver", rest, list(current.drivers))
    driver = raw["drivers"][match[0]]
    if driver.get("growth") is None:
        raise InvalidArgument(f"override {key}", rest, "a driver other than the residual")
    driver["growth"] = value
    driver["low"] = min(float(driver["low"]), value)
    driver["high"] = max(float(driver["high"]), value)


def _whole_number(name: str) -> Apply:
    def apply(raw: dict[str, Any], current: AssumptionSet, key: str, rest: str, value: float) -> None:
        if not value.is_integer():
            raise InvalidArgument(f"override {key}", value, "a whole number")
        raw.setdefault("uncertainty", {})[name] = int(value)

    return apply


def _volatility(raw: dict[str, Any], current: AssumptionSet, key: str, rest: str, value: float) -> None:
    raw.setdefault("uncertainty", {})["annual_volatility"] = value


def _find_member(current: AssumptionSet, name: str) -> tuple[str, str]:
    wanted = normalise(name)
    for dim in current.dimensions.values():
        for m in dim.members:
            if wanted == normalise(m.name) or wanted in {normalise(a) for a in m.aliases}:
                return dim.key, m.name
    allowed = [m.name for d in current.dimensions.values() for m in d.members]
    raise InvalidArgument("member", name, allowed)


#: (normalised key before the first dot, whether a name follows the dot) -> how to apply it.
_BY_HEAD: dict[tuple[str, bool], Apply] = {
    **dict.fromkeys(
        [("cagr", False), ("forecastgrowth", False), ("forecastcagr", False), ("growthrate", False)],
        _forecast_growth,
    ),
    ("backcastgrowth", False): _extension("backcast_growth"),
    ("extrapolationgrowth", False): _extension("extrapolation_growth"),
    ("share", True): _member_share,
    ("growth", True): _member_growth,
    ("driver", True): _driver_growth,
    ("paths", False): _whole_number("paths"),
    ("seed", False): _whole_number("seed"),
    ("volatility", False): _volatility,
    ("annualvolatility", False): _volatility,
}
