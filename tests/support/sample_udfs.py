"""A tiny xlwings UDF module that proves tests/support/xlwings_harness.py (not part of the product).

It uses each xlwings feature the real UDF module (``xl_addin/udfs.py``) is expected to use: a custom
category, argument docs, optional arguments with defaults, a DataFrame returned as a spilled table
with a header row, a range argument read as 2-D, and arguments that show how Excel's values (numbers,
dates, empty and error cells) arrive. ``@xw.func`` is the *outermost* decorator on purpose: xlfunc
resets category/volatile each time it runs, and ``@xw.arg``/``@xw.ret`` run it too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import xlwings as xw


@xw.func(category="SAMPLE")
@xw.arg("x", doc="The number to scale.")
@xw.arg("factor", doc="The multiplier; 2 if omitted.")
def SAMPLE_SCALE(x, factor=2.0):
    """Multiplies a number by a factor."""
    # An omitted argument arrives as the default, an empty referenced cell as None.
    return x * (2.0 if factor is None else factor)


@xw.func(category="SAMPLE")
@xw.arg("first_year", doc="The first year of the table.")
@xw.arg("last_year", doc="The last year of the table.")
@xw.ret(index=False, header=True)
def SAMPLE_TABLE(first_year, last_year):
    """A table of years, values and growth with a header row."""
    years = list(range(int(first_year), int(last_year) + 1))
    table = pd.DataFrame({"year": years, "value": [1.5 * (y - 2000) for y in years]})
    table["growth"] = table["value"].pct_change()  # NaN in the first row: Excel gets ""
    return table


@xw.func(category="SAMPLE")
@xw.arg("options", ndim=2, doc="Key=Value pairs separated by ';', or a range of such cells.")
def SAMPLE_OPTIONS(options=None):
    """The options it understood, as 'Key=Value|Key=Value'."""
    pairs: list[str] = []
    for row in options or []:
        for cell in row:
            if isinstance(cell, str):
                pairs += [p.strip() for p in cell.split(";") if p.strip()]
    return "|".join(pairs)


@xw.func(category="SAMPLE")
@xw.arg("value", doc="Any value or cell; 'omitted' if omitted.")
def SAMPLE_DESCRIBE(value="omitted"):
    """The Python type and value an argument arrives as."""
    return f"{type(value).__name__}:{value!r}"


@xw.func(category="SAMPLE")
@xw.arg("value", err_to_str=True, doc="Any value or cell; error cells arrive as their text.")
def SAMPLE_DESCRIBE_ERRORS(value):
    """Like SAMPLE_DESCRIBE, with error cells read as '#DIV/0!' etc."""
    return f"{type(value).__name__}:{value!r}"


@xw.func(category="SAMPLE")
@xw.arg("when", doc="A date cell.")
def SAMPLE_NEXT_DAY(when):
    """The day after a date."""
    if not isinstance(when, dt.datetime):
        return f"#N/A Not a date: {when!r}"
    return when + dt.timedelta(days=1)


@xw.func(category="SAMPLE")
@xw.arg("n", doc="How many numbers.")
def SAMPLE_ROW(n):
    """1..n as a flat list (Excel gets one row)."""
    return list(range(1, int(n) + 1))


@xw.func(category="SAMPLE")
@xw.arg("n", doc="How many numbers.")
def SAMPLE_COLUMN(n):
    """1..n as a list of one-item rows (Excel gets one column)."""
    return [[i] for i in range(1, int(n) + 1)]


@xw.func(category="SAMPLE", volatile=True)
def SAMPLE_INFO() -> Any:
    """A function without arguments, recalculated on every change."""
    return None
