"""Number formatting, in one place for workbook, brief, email, command line and Excel functions.

Money is USD bn with 2 decimals by default (the published precision); shares and growth are fractions
shown as percentages with 1 decimal. Excel number formats are derived from the same rules, so a cell
and a brief show the same digits.
"""

from __future__ import annotations

UNIT_FACTORS: dict[str, float] = {"bn": 1.0, "mn": 1000.0}
UNIT_LABELS: dict[str, str] = {"bn": "USD bn", "mn": "USD mn"}
MONEY_DECIMALS: dict[str, int] = {"bn": 2, "mn": 0}
PERCENT_DECIMALS = 1


def in_units(value_bn: float, units: str = "bn") -> float:
    """Convert a value in USD bn to the given units (bn or mn)."""
    return value_bn * UNIT_FACTORS[units]


def money(value_bn: float, units: str = "bn", *, with_unit: bool = False) -> str:
    """Format USD bn as text at the published precision: ``money(27.882) == '27.88'``."""
    decimals = MONEY_DECIMALS[units]
    text = f"{_no_negative_zero(in_units(value_bn, units), decimals):,.{decimals}f}"
    return f"USD {text} {units}" if with_unit else text


def percent(fraction: float, decimals: int = PERCENT_DECIMALS) -> str:
    """Format a fraction as a percentage: ``percent(0.091) == '9.1%'``."""
    return f"{_no_negative_zero(fraction * 100, decimals):.{decimals}f}%"


def ratio(value: float) -> str:
    """Format how many times one figure is another, with 2 decimals: ``ratio(1.9326) == '1.93x'``."""
    return f"{_no_negative_zero(value, 2):.2f}x"


def _no_negative_zero(value: float, decimals: int) -> float:
    """-0.001 shown at 2 decimals is 0.00, not -0.00."""
    return round(value, decimals) + 0.0


def excel_money_format(units: str = "bn") -> str:
    """The Excel number format that shows money as :func:`money` does."""
    decimals = MONEY_DECIMALS[units]
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def excel_percent_format(decimals: int = PERCENT_DECIMALS) -> str:
    """The Excel number format that shows a fraction as :func:`percent` does."""
    return "0." + "0" * decimals + "%" if decimals else "0%"


def axis_tick(value: float, step: float) -> str:
    """A chart axis label in display units, with only the decimals the tick step needs.

    ``axis_tick(10.0, 5.0) == '10'``, ``axis_tick(2.5, 2.5) == '2.5'``, ``axis_tick(20000, 10000) == '20,000'``.
    """
    decimals = 0
    while decimals < 3 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-9:
        decimals += 1
    return f"{value:,.{decimals}f}"
