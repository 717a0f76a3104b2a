"""Benchmark: where one client pack's CPU goes, stage by stage (not run in CI).

Builds ``--packs`` packs in this process after one warm-up pack (the browser started, the charts drawn), and
times each stage of :func:`~xl_addin.delivery.pack.build_pack` and of the message the sending process
builds from it. Three clocks per stage: this process's CPU, CPU over the process tree (this process and
every process below it: the browser's renderer is where a PDF's work happens) and the whole machine's
(``/proc/stat``: meaningful on a quiet machine). Run two at once to see what sharing two cores costs.

    python tests/benchmarks/bench_pack_stages.py --packs 40
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.process_cpu import machine_cpu, tree_cpu
from xl_addin.delivery.message import build_message
from xl_addin.delivery.pack import build_detached_pack
from xl_addin.report import build_context, load_profile
from xl_addin.report.brief import email_brief, email_subject, render_brief, write_pdf
from xl_addin.report.workbook import write_workbook


class Stages:
    """Accumulates the three clocks per stage."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}

    def time(self, name: str, work: Callable[..., Any], *args: Any) -> Any:
        """``work(*args)``, its CPU added to ``name``'s."""
        own, tree, machine = time.process_time(), tree_cpu(), machine_cpu()
        result = work(*args)
        spent = (time.process_time() - own, tree_cpu() - tree, machine_cpu() - machine)
        totals = self.totals.setdefault(name, [0.0, 0.0, 0.0])
        for i, value in enumerate(spent):
            totals[i] += value
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packs", type=int, default=40)
    n = parser.parse_args().packs
    profiles = [load_profile(None, name=f"Client {i:03d} Radiology") for i in range(n + 1)]
    build_detached_pack(profiles[0])  # the browser started, the charts drawn and cached
    stages = Stages()
    with tempfile.TemporaryDirectory(prefix="imgout-stages-") as folder:
        out = Path(folder)
        for i, profile in enumerate(profiles[1:]):
            context = stages.time("report context", build_context, profile)
            stages.time("workbook (.xlsx)", write_workbook, context, out / f"{i}.xlsx")
            stages.time("PDF brief", write_pdf, context, out / f"{i}.pdf")
            stages.time("email HTML + chart", lambda c: email_brief(c, long_layer="brief.pdf"), context)
            stages.time("text brief", render_brief, context, "txt")
            stages.time("subject", email_subject, context)
        for profile in profiles[1:]:
            pack = stages.time("whole pack", build_detached_pack, profile)
            message = stages.time("message built (sender)", build_message, pack, ["cfo@acme.example"])
            stages.time("message as bytes (sender)", message.as_bytes)
    print(f"{n} packs, ms per pack: own process / process tree / whole machine")
    for name, (own, tree, machine) in stages.totals.items():
        print(f"  {name:28s} {own / n * 1000:7.1f} {tree / n * 1000:7.1f} {machine / n * 1000:7.1f}")


if __name__ == "__main__":
    main()
