"""Benchmark: CPU seconds per PDF brief for each engine, measured over the process tree (not run in CI).

One warm process per engine prints the same ordinary client's brief ``--count`` times after one PDF to
warm up (templates compiled, the browser started); each PDF's CPU is read over this process and every
process it started (the browser's helpers, Playwright's driver), with psutil. Also: what starting the
browser costs (once per process or batch worker), and what pikepdf's metadata stamp adds to a Chromium PDF.

    python tests/benchmarks/bench_pdf.py                  # both engines, 30 PDFs each
    python tests/benchmarks/bench_pdf.py --count 50 --engine chromium
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.process_cpu import tree_cpu
from xl_addin.report import ReportContext, build_context, load_profile
from xl_addin.report.brief.browser import PrintJob
from xl_addin.report.brief.pdf import (
    ENGINES,
    ChromiumEngine,
    _stamped,
    close_engines,
    pdf_engine,
    pdf_metadata,
    print_document,
    print_pdf,
)


def per_pdf(engine: str, count: int) -> None:
    """Print `count` warm PDFs with `engine`; report CPU (tree) and wall per PDF."""
    context = build_context(load_profile(None, name="Benchmark Imaging", focus_regions=["APAC"]))
    cpu0, wall0 = tree_cpu(), time.perf_counter()
    printed = print_pdf(context, engine)  # the first: the browser starts
    first_cpu, first_wall = tree_cpu() - cpu0, time.perf_counter() - wall0
    cpus, walls = [], []
    for _ in range(count):
        cpu0, wall0 = tree_cpu(), time.perf_counter()
        print_pdf(context, engine)
        cpus.append(tree_cpu() - cpu0)
        walls.append(time.perf_counter() - wall0)
    print(
        f"{engine:<10} CPU-s per PDF min {min(cpus):.3f} median {statistics.median(cpus):.3f}   "
        f"wall min {min(walls):.3f} median {statistics.median(walls):.3f} s   "
        f"first PDF (start included) {first_cpu:.2f} CPU-s, {first_wall:.2f} s   "
        f"{len(printed.data) // 1024} KB  ({printed.engine})"
    )
    if engine == "chromium":
        stamp_cost(context)


def stamp_cost(context: ReportContext) -> None:
    """CPU of pikepdf's metadata stamp on one Chromium PDF (included in the figures above)."""
    metadata = pdf_metadata(context)
    engine = pdf_engine("chromium")
    assert isinstance(engine, ChromiumEngine)
    raw = engine.printer.print_pdf(PrintJob(print_document(context, metadata)))
    costs = []
    for _ in range(20):
        start = time.process_time()
        _stamped(raw, metadata)
        costs.append(time.process_time() - start)
    print(f"{'':<10} of which the pikepdf metadata stamp: median {statistics.median(costs) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--engine", choices=ENGINES, action="append")
    options = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    for engine in options.engine or ENGINES:
        per_pdf(engine, options.count)
    close_engines()


if __name__ == "__main__":
    main()
