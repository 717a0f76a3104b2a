"""Assumption sets: the YAML files that feed the model, in the stages they pass through.

- :mod:`.schema`: what a validated set is (sources, anchors, dimensions, drivers, scenarios, the market
  and its publication), how names are compared, the content hash;
- :mod:`.load`: the embedded default (``default.yaml`` in this package), a user's file merged over it
  (or standing alone with ``replace: true``), YAML text;
- :mod:`.rules`: what each value accepts (one :class:`~.rules.Bound` per kind), read by the validation,
  the overrides and the workbook's checks;
- :mod:`.validate`: one checker per top-level key; errors name the file, the key and what is allowed;
- :mod:`.overrides`: per-call overrides (``"cagr=0.10; share.Asia-Pacific=0.25"``) giving a new set with
  its own hash.
"""

from .load import (
    DEFAULT_ORIGIN,
    assumptions_from_text,
    default_assumptions,
    default_text,
    load_assumptions,
    merge,
)
from .overrides import (
    OVERRIDE_HELP,
    canonical_key,
    format_overrides,
    override_value,
    parse_overrides,
    with_overrides,
)
from .rules import BOUNDS, FADE_YEARS, GROWTH, LONG_RUN_GROWTH, SHARE, SHARE_OVERRIDE, Bound
from .schema import (
    ANCHOR_KEYS,
    CONSENSUS,
    DIMENSION_ALIASES,
    DIMENSIONS,
    FACTORS,
    FADE_KEYS,
    KINDS,
    RESERVED_SCENARIO,
    SHARE_TOLERANCE,
    TOP_LEVEL_KEYS,
    TOTAL_ALIASES,
    Anchor,
    AssumptionSet,
    Dimension,
    Driver,
    Entry,
    MarketDefinition,
    Member,
    NotAMember,
    Override,
    PublishedCagr,
    PublisherEstimate,
    Refusal,
    Scenario,
    Source,
    Uncertainty,
    content_hash,
    member_lookup,
    normalise,
    resolve_dimension,
)
from .validate import build

__all__ = [
    "ANCHOR_KEYS",
    "BOUNDS",
    "CONSENSUS",
    "DEFAULT_ORIGIN",
    "DIMENSIONS",
    "DIMENSION_ALIASES",
    "FACTORS",
    "FADE_KEYS",
    "FADE_YEARS",
    "GROWTH",
    "KINDS",
    "LONG_RUN_GROWTH",
    "OVERRIDE_HELP",
    "RESERVED_SCENARIO",
    "SHARE",
    "SHARE_OVERRIDE",
    "SHARE_TOLERANCE",
    "TOP_LEVEL_KEYS",
    "TOTAL_ALIASES",
    "Anchor",
    "AssumptionSet",
    "Bound",
    "Dimension",
    "Driver",
    "Entry",
    "MarketDefinition",
    "Member",
    "NotAMember",
    "Override",
    "PublishedCagr",
    "PublisherEstimate",
    "Refusal",
    "Scenario",
    "Source",
    "Uncertainty",
    "assumptions_from_text",
    "build",
    "canonical_key",
    "content_hash",
    "default_assumptions",
    "default_text",
    "format_overrides",
    "load_assumptions",
    "member_lookup",
    "merge",
    "normalise",
    "override_value",
    "parse_overrides",
    "resolve_dimension",
    "with_overrides",
]
