"""Reading assumption sets: the embedded default, a user's file merged over it, or YAML text.

A user's file is merged over the default key by key (member names resolved through their aliases, so
``APAC: {share: ..}`` changes Asia-Pacific), or stands alone with ``replace: true``. The merged mapping is
then checked by :func:`.validate.build`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ...common.yamlfile import describe, parse_yaml_mapping, read_yaml_mapping
from ...errors import AssumptionError
from .schema import TOP_LEVEL_KEYS, AssumptionSet, member_lookup, normalise, resolve_dimension
from .validate import build

DEFAULT_ORIGIN = "embedded default"
DEFAULT_FILE = "default.yaml"


def default_text() -> str:
    """The embedded default assumption file, as text."""
    return resources.files("xl_addin.model.assumptions").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")


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
    # A client reads the file's name, never the folder it sits in (a folder name can be confidential).
    return _from_mapping(user, where, Path(path).name)


def assumptions_from_text(text: str, where: str = "<text>") -> AssumptionSet:
    """Build a set from YAML text; `where` names it in errors.

    >>> assumptions_from_text("anchors: {horizon_size: {value: 27.88}}").horizon_year
    2030
    """
    return _from_mapping(_parse_yaml(text, where), where)


def _from_mapping(user: dict[str, Any], where: str, label: str | None = None) -> AssumptionSet:
    if user.get("replace") is True:
        merged = user
    else:
        merged = merge(copy.deepcopy(dict(default_assumptions().raw)), user, where)
    return build(merged, where, label)


def _parse_yaml(text: str, where: str) -> dict[str, Any]:
    return parse_yaml_mapping(text, lambda key, problem: AssumptionError(where, key, problem))


def merge(base: dict[str, Any], user: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Merge a user's file over the base: mappings key by key, member names resolved through aliases,
    estimates entry by entry (a user's entry replaces the default's whole; null removes it)."""
    for key in user:
        if key not in TOP_LEVEL_KEYS:
            raise AssumptionError(where, str(key), f"unknown key (allowed: {', '.join(TOP_LEVEL_KEYS)})")
    dims = user.get("dimensions")
    if isinstance(dims, Mapping):
        user = dict(user)
        user["dimensions"] = _canonical_dimensions(base, dims, where)
    estimates = user.get("estimates")
    if isinstance(estimates, Mapping) and isinstance(base.get("estimates"), dict):
        # An estimate is one publication's figures: a user's entry replaces the default's whole (mixing
        # two editions' points would be neither), and null removes it.
        for ident, entry in estimates.items():
            if entry is None:
                base["estimates"].pop(ident, None)
            else:
                base["estimates"][ident] = copy.deepcopy(entry)
        user = {k: v for k, v in user.items() if k != "estimates"}
    return _deep_merge(base, user)


def _canonical_dimensions(base: Mapping[str, Any], dims: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Rename aliases to canonical names so that 'APAC: {share: ..}' merges into 'Asia-Pacific'."""
    out: dict[str, Any] = {}
    for dim_name, dim in dims.items():
        dim_key = resolve_dimension(str(dim_name), where=f"{where}: dimensions")
        if not isinstance(dim, Mapping):
            raise AssumptionError(where, f"dimensions.{dim_name}", f"expected a mapping, got {describe(dim)}")
        new_dim = dict(dim)
        members = dim.get("members")
        if isinstance(members, Mapping):
            new_dim["members"] = _canonical_members(base["dimensions"][dim_key], members, dim_key, where)
        out[dim_key] = new_dim
    return out


def _canonical_members(
    base_dimension: Mapping[str, Any], members: Mapping[str, Any], dim_key: str, where: str
) -> dict[str, Any]:
    base = base_dimension["members"]
    lookup = member_lookup(base)
    refused = {normalise(str(k)): v for k, v in (base_dimension.get("refused") or {}).items()}
    renamed: dict[str, Any] = {}
    for name, spec in members.items():
        canonical = lookup.get(normalise(str(name)))
        if canonical is None:
            allowed = ", ".join(base)
            problem = f"unknown member (allowed: {allowed})"
            refusal = refused.get(normalise(str(name)))
            if isinstance(refusal, Mapping):
                suggest = " or ".join(repr(s) for s in refusal.get("suggest", []))
                problem = f"{str(name)!r} is {refusal.get('what')}, not a member (allowed: {allowed}"
                problem += f"; did you mean {suggest}?)" if suggest else ")"
            raise AssumptionError(where, f"dimensions.{dim_key}.members.{name}", problem)
        renamed[canonical] = spec
    return renamed


def _deep_merge(base: dict[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in user.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base
