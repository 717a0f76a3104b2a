"""What changed since the client's last edition: the headline figures each sent pack is recorded with, and
the one line the next edition to the same client says about them.

The send ledger keeps :class:`EditionFigures` (as JSON, :meth:`EditionFigures.to_json`) with every pack it
sends; a batch run hands the client's last sent figures to the pack it builds, and the email says what
moved and why: ``2030: 27.88 -> 30.21, +2.33, after the cagr update``. A first edition says nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from ...common.formats import UNIT_FACTORS, money
from ...model.assumptions.overrides import format_overrides, parse_overrides
from ..context import ReportContext
from .render import edition_label


@dataclass(frozen=True)
class EditionFigures:
    """The headline figures of one edition as sent, and what they rest on (so a change can say why)."""

    edition: str
    """The edition as a person says it: ``Mar 2026``."""
    horizon_year: int
    horizon_value: float
    """USD bn, unrounded."""
    cagr: float
    scenario: str
    assumption_hash: str
    model_version: str
    overrides: str
    """The per-call overrides in canonical text (``cagr=0.1``), '' when none."""

    def to_json(self) -> str:
        """The figures as the ledger stores them: one JSON object."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> EditionFigures | None:
        """The figures back from the ledger; None for text that is not a whole record (an older or damaged
        row is no reason to fail a pack: the edition then says nothing about changes)."""
        try:
            data = json.loads(text)
            return cls(**{f.name: data[f.name] for f in fields(cls)})
        except (ValueError, TypeError, KeyError):
            return None


def canonical_overrides(overrides: str | None) -> str:
    """Overrides as the ledger records them: ``cagr=0.11; share.APAC=0.3`` in a fixed order, '' for none."""
    return format_overrides(parse_overrides(overrides)) if overrides else ""


def edition_figures(context: ReportContext, overrides: str | None = None) -> EditionFigures:
    """The figures to record with the pack built from `context` (with the `overrides` it was built with)."""
    h = context.headline
    return EditionFigures(
        edition_label(context),
        h.horizon_year,
        h.horizon_value,
        h.cagr,
        context.scenario,
        context.assumption_hash,
        context.model_version,
        canonical_overrides(overrides),
    )


def what_changed(now: EditionFigures, before: EditionFigures | None, units: str = "bn") -> str:
    """One line on what moved since `before` (the client's last edition), or '' for a first edition.

    >>> a = EditionFigures("Mar 2026", 2030, 27.882, 0.091, "base", "6c31e80ece70", "1", "")
    >>> b = EditionFigures("Mar 2026", 2030, 30.214, 0.111, "base", "0a1b2c3d4e5f", "1", "cagr=0.111")
    >>> what_changed(b, a)
    '2030: 27.88 -> 30.21, +2.33, after the cagr update (edition of Mar 2026)'
    >>> what_changed(a, a)
    '2030: unchanged at 27.88 (edition of Mar 2026)'
    """
    if before is None:
        return ""
    year = now.horizon_year
    was, is_ = money(before.horizon_value, units), money(now.horizon_value, units)
    since = f"(edition of {before.edition})"
    if before.horizon_year != year:
        return f"the horizon moved from {before.horizon_year} ({was}) to {year} ({is_}) {since}"
    if was == is_:
        return f"{year}: unchanged at {is_} {since}"
    step = float(is_.replace(",", "")) - float(was.replace(",", ""))
    shown = money(abs(step) / UNIT_FACTORS[units], units)
    reason = _why(now, before)
    return f"{year}: {was} -> {is_}, {'+' if step > 0 else '-'}{shown}{f', after {reason}' if reason else ''} {since}"


def _why(now: EditionFigures, before: EditionFigures) -> str:
    """What differs between the two editions' grounds, in words: ``the cagr update``, ``the model update`` ..."""
    reasons = []
    if now.scenario != before.scenario:
        reasons.append(f"the move from the {before.scenario} to the {now.scenario} scenario")
    old, new = _pairs(before.overrides), _pairs(now.overrides)
    moved = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    if moved:
        reasons.append(f"the {' and '.join(moved)} update{'s' if len(moved) > 1 else ''}")
    elif now.assumption_hash != before.assumption_hash:
        reasons.append("the assumption set update")
    if now.model_version != before.model_version:
        reasons.append("the model update")
    return " and ".join(reasons)


def _pairs(overrides: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in overrides.split("; ") if "=" in p)
