"""Speed of the brief (run with --benchmark-enable): HTML at most 50 ms warm; a PDF at most 0.2 CPU-s with
Chromium (measured over the process tree, in extra_info; ``tests/benchmarks/bench_pdf.py`` prints it)."""

from __future__ import annotations

import statistics

import pytest

from tests.support.process_cpu import tree_cpu
from xl_addin.report import build_context, load_profile
from xl_addin.report.brief import email_brief, pdf_bytes, render_brief
from xl_addin.report.brief.charts import chart_png
from xl_addin.report.brief.drawing import png
from xl_addin.report.brief.pdf import ENGINES


@pytest.fixture(scope="module")
def context():
    return build_context(load_profile(None, name="Benchmark Imaging", focus_regions=["APAC"]))


def test_bench_html_brief_warm(benchmark, context):
    render_brief(context, "html")  # warm: templates compiled, stylesheet read
    page = benchmark(render_brief, context, "html")
    assert "<svg" in page


def test_bench_markdown_and_text_brief_warm(benchmark, context):
    render_brief(context, "md")
    render_brief(context, "txt")
    assert benchmark(lambda: render_brief(context, "md") + render_brief(context, "txt"))


def test_bench_email_brief_with_its_pngs(benchmark, context):
    # What a pack builds for the email: the short layer's HTML and its one chart PNG (cached by what it draws).
    email_brief(context, long_layer="brief.pdf")
    assert len(benchmark(lambda: email_brief(context, long_layer="brief.pdf")).images) == 1


def test_bench_email_chart_png(benchmark, context):
    # Uncached: a batch draws each scenario's chart once; this is the cost of that once.
    def draw() -> bytes:
        png.cache_clear()
        return chart_png(context)

    assert benchmark(draw).startswith(b"\x89PNG")


@pytest.mark.slow  # prints real PDFs with each engine
@pytest.mark.parametrize("engine", ENGINES)
def test_bench_pdf_brief(benchmark, context, engine):
    """Wall time per PDF in a warm process; the CPU over the process tree (the browser's helpers included)
    goes into the report's extra_info: pytest-benchmark's timer sees this process only."""
    pdf_bytes(context, engine)  # warm: the browser started, fonts loaded
    cpu = []

    def one_pdf() -> bytes:
        before = tree_cpu()
        data = pdf_bytes(context, engine)
        cpu.append(tree_cpu() - before)
        return data

    data = benchmark.pedantic(one_pdf, rounds=10, iterations=1)
    assert data.startswith(b"%PDF")
    benchmark.extra_info["cpu_s_per_pdf_min"] = round(min(cpu), 3)
    benchmark.extra_info["cpu_s_per_pdf_median"] = round(statistics.median(cpu), 3)
