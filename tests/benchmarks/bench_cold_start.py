"""Cold start: `imgout forecast 2030` and `imgout estimates 2030 --json` against `python -c "import pandas"`
(the yardstick), in fresh processes.

Run: python tests/benchmarks/bench_cold_start.py [--runs 15]
Prints the median wall time of each and their ratio to the yardstick (target: at most 2; the estimates
command in the same ballpark as the forecast).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def median_seconds(command: list[str], runs: int) -> float:
    """Median wall time of a command over `runs` fresh processes (after one warm-up for the disk cache)."""
    subprocess.run(command, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    imgout = shutil.which("imgout")
    command = [imgout] if imgout else [sys.executable, "-m", "xl_addin.cli"]
    pandas = [sys.executable, "-c", "import pandas"]
    yardstick = median_seconds(pandas, args.runs)
    print(f"python -c 'import pandas': {yardstick * 1000:.0f} ms (median of {args.runs})")
    for argv in (["forecast", "2030"], ["estimates", "2030", "--json"]):
        seconds = median_seconds([*command, *argv], args.runs)
        print(
            f"imgout {' '.join(argv)}: {seconds * 1000:.0f} ms (median of {args.runs}), "
            f"ratio {seconds / yardstick:.2f} (target <= 2)"
        )


if __name__ == "__main__":
    main()
