"""A trivial UDF registered exactly like IMGOUT_FORECAST: the baseline for tests/test_bench_udfs.py.

Same argument count, same per-argument options (``err_to_str``), same category, same return kind (one
float), so calling it through xlwings' conversion layer costs what that path costs and nothing more.
"""

from __future__ import annotations

import xlwings as xw


@xw.func(category="IMGOUT_BENCH")
@xw.arg("year", doc="Any value.", err_to_str=True)
@xw.arg("region", doc="Any value.", err_to_str=True)
@xw.arg("segment", doc="Any value.", err_to_str=True)
@xw.arg("scenario", doc="Any value.", err_to_str=True)
@xw.arg("options", doc="Any value.", err_to_str=True)
def BASELINE(year, region=None, segment=None, scenario="base", options=None):
    """Returns a constant: the cost of the Excel call path alone."""
    return 27.88
