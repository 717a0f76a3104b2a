"""Workbook speed (pytest-benchmark). CI runs these once as plain tests (--benchmark-disable); measure with

    python -m pytest tests/test_bench_workbook.py --benchmark-enable

Targets: one client workbook in at most 0.3 s in-process; 100 in at most 20 s on 2 cores
(`python tests/benchmarks/bench_workbooks.py`).
"""

from __future__ import annotations

import pytest

from tests.benchmarks.bench_workbooks import build_many
from xl_addin.report import build_context, load_profile
from xl_addin.report.workbook import write_workbook


def test_one_workbook_written(benchmark, tmp_path):
    context = build_context(load_profile(None, name="Acme Imaging"))
    path = benchmark(write_workbook, context, tmp_path / "acme.xlsx")
    assert path.stat().st_size > 10_000


def test_one_client_pack_context_and_workbook(benchmark, tmp_path):
    def one() -> int:
        context = build_context(load_profile(None, name="Acme Imaging", focus_regions=["APAC"]))
        return write_workbook(context, tmp_path / "acme.xlsx").stat().st_size

    assert benchmark(one) > 10_000


@pytest.mark.slow  # starts worker processes
def test_a_few_workbooks_on_two_processes(tmp_path):
    """The 100-workbook script, kept small for CI: every workbook is written."""
    assert build_many(4, 2, str(tmp_path)) > 0
