"""What each value of an assumption set accepts: one :class:`Bound` per kind of value.

The one source of truth for the bounds and type of every input. The validation (:mod:`.validate`) raises
its errors from these bounds, the per-call overrides (:mod:`.overrides`) check a share override with one,
and the client workbook generates from them its data validation, the limits on its Checks sheet and, by
formula, the engine's words for a refused value (:meth:`Bound.reason_parts`), so a value the engine
refuses fails a check wherever it is typed or pasted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...common.yamlfile import describe


@dataclass(frozen=True)
class Bound:
    """The numbers a kind of value accepts: from ``low`` to ``high`` (``low`` itself refused when
    ``above_low``, ``high`` when ``below_high``, with ``why``), whole numbers only when ``whole``.

    ``name`` names the workbook's limit cells (``GrowthLow``, ``GrowthHigh``); ``what`` says in the
    user's words what the value is.
    """

    name: str
    what: str
    low: float
    high: float
    whole: bool = False
    above_low: bool = False
    below_high: bool = False
    why: str = ""

    @property
    def allowed(self) -> str:
        """What is allowed, in words: ``a growth rate from -0.5 to 1``, ``a share above 0 and below 1``."""
        if self.above_low or self.below_high:
            lower = f"above {self.low:g}" if self.above_low else f"from {self.low:g}"
            upper = f"below {self.high:g}" if self.below_high else f"at most {self.high:g}"
            return f"{self.what} {lower} and {upper}"
        kind = f"a whole number of {self.what}" if self.whole else self.what
        return f"{kind} from {self.low:g} to {self.high:g}"

    def problem(self, value: Any) -> str | None:
        """What the engine says of ``value`` (None: accepted).

        >>> GROWTH.problem(1.5), GROWTH.problem(0.1)
        ('1.5 is above the allowed maximum 1', None)
        >>> FADE_YEARS.problem(2.5), SHARE.problem(0.0)
        ('expected a whole number, got 2.5', '0 is not allowed: every member needs a positive share')
        """
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if self.whole and not (number and float(value).is_integer()):
            return f"expected a whole number, got {describe(value)}"
        if not number:
            return f"expected a number, got {describe(value)}"
        if not math.isfinite(value):
            return f"expected a finite number, got {value!r}"
        shown = describe(int(value) if self.whole else value)
        if self.whole and not self.low <= value <= self.high:
            return f"{shown} is outside the allowed range {self.low:g} to {self.high:g}"
        if value < self.low:
            return f"{shown} is below the allowed minimum {self.low:g}"
        if value > self.high:
            return f"{shown} is above the allowed maximum {self.high:g}"
        if (self.above_low and value == self.low) or (self.below_high and value == self.high):
            return f"{value:g} is not allowed: {self.why}"
        return None

    def reason_parts(self) -> dict[str, tuple[str, str]]:
        """The engine's words around the value for each way a number can be refused, as (before, after)
        texts: what a spreadsheet formula puts on either side of the cell to say what the engine would.

        >>> GROWTH.reason_parts()["high"]
        ('', ' is above the allowed maximum 1')
        """
        parts = {
            "text": ("expected a number, got text ", ""),
            "low": ("", f" is below the allowed minimum {self.low:g}"),
            "high": ("", f" is above the allowed maximum {self.high:g}"),
            "at limit": ("", f" is not allowed: {self.why}"),
        }
        if self.whole:
            parts["text"] = ("expected a whole number, got text ", "")
            parts["fraction"] = ("expected a whole number, got ", "")
            outside = ("", f" is outside the allowed range {self.low:g} to {self.high:g}")
            parts["low"] = parts["high"] = outside
        return parts

    def refused(self) -> tuple[Any, ...]:
        """The nearest values this bound refuses, and text: the cases a test types into a workbook.

        >>> SHARE_OVERRIDE.refused()
        (-0.01, 1.01, 0.0, 1.0, '10 %')
        """
        step = 1.0 if self.whole else 0.01
        cases: list[Any] = [round(self.low - step, 6), round(self.high + step, 6)]
        if self.above_low:
            cases.append(self.low)
        if self.below_high:
            cases.append(self.high)
        if self.whole:
            cases.append(self.low + 0.5)
        return (*cases, "10 %")


GROWTH = Bound("Growth", "a growth rate", -0.5, 1.0)
"""Any growth rate per year a file or an override gives (a fraction)."""

LONG_RUN_GROWTH = Bound("LongRun", "a long-run growth rate", -0.2, 0.5)
"""The growth every path fades to after its last published year."""

FADE_YEARS = Bound("FadeYears", "years", 0, 100, whole=True)
"""The years the fade to the long-run growth takes (0: at once)."""

SHARE = Bound(
    "Share",
    "a share",
    0.0,
    1.0,
    above_low=True,
    why="every member needs a positive share",
)
"""A member's base-year share in a file (or a row of a joint table)."""

SHARE_OVERRIDE = Bound(
    "ShareOver",
    "a share",
    0.0,
    1.0,
    above_low=True,
    below_high=True,
    why="nothing is left for the others",
)
"""A per-call share override: the other members keep their proportions of what is left."""

VOLATILITY = Bound("Volatility", "an annual volatility", 0.0, 0.5)
"""The Monte Carlo's annual volatility of the growth."""

BOUNDS = (GROWTH, LONG_RUN_GROWTH, FADE_YEARS, SHARE, SHARE_OVERRIDE, VOLATILITY)
"""Every bound, in the order the workbook lists their limits."""
