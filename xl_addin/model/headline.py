"""The headline figure with the publishers' consensus beside it: one line, built here once, that every
face prints where the model's headline figure stands (the brief's first paragraph and preheader, the
workbook's Cover, ``imgout forecast`` for the total, the Start here sheet of IMGOUT.xlsm)::

    USD 27.88 bn (basis: tbrc); 5 publishers' median 11.55, range 10.70-27.88

The figure first, then in parentheses the scenario when it is not base and the basis the total follows
(the words of the engine's statuses, :func:`.status.basis_label`), then the consensus of that year: how
many publishers, their median and their range. Short enough for a phone's first screen.

>>> from xl_addin.model import default_market
>>> headline_with_consensus(default_market(), 2030)
"USD 27.88 bn (basis: tbrc); 5 publishers' median 11.55, range 10.70-27.88"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ..common.formats import money
from .assumptions import RESERVED_SCENARIO
from .status import basis_label

if TYPE_CHECKING:
    from .market import Market


class HeadlineLine(NamedTuple):
    """The line in its parts, for a face that sets them apart (a tile's figure, then what stands beside
    it); ``text`` (and ``str()``) is the whole line."""

    figure: str
    """``USD 27.88 bn``"""
    scenario: str
    """``bull scenario``; empty for base."""
    basis: str
    """``basis: tbrc``, ``basis: consensus`` (the engine's status words)."""
    consensus: str
    """``5 publishers' median 11.55, range 10.70-27.88``; empty when the set has no estimates."""

    @property
    def beside(self) -> str:
        """What stands beside the figure when the scenario is said elsewhere: ``basis: tbrc; 5 publishers'
        median 11.55, range 10.70-27.88``."""
        return f"{self.basis}; {self.consensus}" if self.consensus else self.basis

    @property
    def text(self) -> str:
        """The whole line."""
        named = ", ".join(x for x in (self.scenario, self.basis) if x)
        line = f"{self.figure} ({named})"
        return f"{line}; {self.consensus}" if self.consensus else line

    def __str__(self) -> str:
        return self.text


def money_as_published(market: Market, value_bn: float, units: str = "bn", *, with_unit: bool = False) -> str:
    """``value_bn`` as text in ``units``, a published figure as printed (:meth:`.Market.as_published`):
    the text every face writes for an amount.

    >>> from xl_addin.model import default_market
    >>> m = default_market()
    >>> money_as_published(m, m.forecast(2025), "mn"), money_as_published(m, m.forecast(2024), "mn")
    ('18,080', '16,604')
    """
    return money(market.as_published(value_bn, units), units, with_unit=with_unit)


def headline_line(
    market: Market, year: object, scenario: object = RESERVED_SCENARIO, units: str = "bn"
) -> HeadlineLine:
    """The total in `year` (in `units`, ``bn`` or ``mn``), the basis it follows and the publishers'
    consensus of that year beside it."""
    y, s = market.year(year), market.scenario(scenario)
    named = f"{s} scenario" if s != RESERVED_SCENARIO else ""
    figure = money_as_published(market, market.forecast(y, scenario=s), units, with_unit=True)
    basis = basis_label(market.basis)
    if not market.assumptions.estimates:
        return HeadlineLine(figure, named, basis, "")
    c = market.consensus(y)
    low, median, high = (money_as_published(market, v, units) for v in (c.minimum, c.median, c.maximum))
    return HeadlineLine(figure, named, basis, f"{c.count} publishers' median {median}, range {low}-{high}")


def headline_with_consensus(
    market: Market, year: object, scenario: object = RESERVED_SCENARIO, units: str = "bn"
) -> str:
    """The line itself (:func:`headline_line`'s text): the figure and basis alone when the set has no
    estimates."""
    return headline_line(market, year, scenario, units).text
