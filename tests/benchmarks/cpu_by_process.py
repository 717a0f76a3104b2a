"""Where a command's CPU goes, by kind of process (not run in CI).

Runs the command, samples its process tree every 0.1 s with psutil, and prints each kind of process's CPU
at its last sample (Python workers, the browser's renderers, Playwright's drivers ...) beside the wall time
and the whole machine's busy CPU over the run (``/proc/stat``, steal time shown apart). A process that
lives less than 0.1 s may be missed: the machine's total is the reference.

    python tests/benchmarks/cpu_by_process.py imgout batch clients.yaml --jobs 2 --dry-run eml
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.process_cpu import machine_cpu, machine_steal


def kind(cmdline: list[str]) -> str:
    """A short name for a process: a browser's by its --type, Python by its module, else the program."""
    text = " ".join(cmdline)
    for part in cmdline:
        if part.startswith("--type="):
            return f"browser {part[7:]}"
    if "chrom" in text:
        return "browser main"
    if "playwright" in text and "driver" in text:
        return "Playwright driver"
    if cmdline and "python" in Path(cmdline[0]).name:
        if "-c" in cmdline:
            return "python, started by multiprocessing (workers, resource tracker)"
        if "-m" in cmdline:
            return "python -m " + cmdline[cmdline.index("-m") + 1]
        return "python " + " ".join(Path(part).name for part in cmdline[1:3])  # a script: imgout batch
    return Path(cmdline[0]).name if cmdline else "?"


def main(command: list[str]) -> None:
    busy0, steal0 = machine_cpu() - machine_steal(), machine_steal()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = psutil.Process(process.pid)
    last: dict[tuple[int, float], tuple[str, float]] = {}
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        for p in tree:
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    key = (p.pid, p.create_time())
                    name = kind(p.cmdline())  # "?" once a process has ended: keep its earlier name
                    last[key] = (last[key][0] if name == "?" and key in last else name, t.user + t.system)
            except psutil.Error:
                continue
        time.sleep(0.1)
    wall = time.perf_counter() - start
    busy1, steal1 = machine_cpu() - machine_steal(), machine_steal()
    by_kind: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for name, cpu in last.values():
        by_kind[name][0] += 1
        by_kind[name][1] += cpu
    sampled = sum(cpu for _, cpu in by_kind.values())
    print(
        f"exit {process.returncode}, wall {wall:.1f} s; the machine busy {busy1 - busy0:.1f} CPU-s "
        f"(steal {steal1 - steal0:.1f}); sampled {sampled:.1f} CPU-s"
    )
    for name, (count, cpu) in sorted(by_kind.items(), key=lambda item: -item[1][1]):
        print(f"  {cpu:7.1f} CPU-s  {int(count):3d} x  {name}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1:])
