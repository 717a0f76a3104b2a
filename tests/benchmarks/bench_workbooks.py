"""How long 100 client workbooks take on 2 cores: `python tests/benchmarks/bench_workbooks.py [--count N] [--jobs J]`.

Each worker process builds its share of the workbooks (context and .xlsx, a different client each time)
into a throwaway folder; the wall time includes starting the processes and importing imgout, as a batch
run would.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def build(names: list[str], folder: str) -> int:
    """Build one workbook per client name into folder; returns how many were written."""
    from xl_addin.report import build_context, load_profile
    from xl_addin.report.workbook import workbook_path, write_workbook

    for name in names:
        context = build_context(load_profile(None, name=name))
        write_workbook(context, workbook_path(context, Path(folder)))
    return len(names)


def build_many(count: int, jobs: int, folder: str) -> float:
    """Build `count` workbooks in `jobs` processes; returns the wall time in seconds."""
    names = [f"Client {i:03d}" for i in range(count)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        written = sum(pool.map(build, [names[j::jobs] for j in range(jobs)], [folder] * jobs))
    elapsed = time.perf_counter() - start
    assert written == count == len(list(Path(folder).glob("*.xlsx")))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        elapsed = build_many(args.count, args.jobs, folder)
    print(
        f"{args.count} workbooks on {args.jobs} processes: {elapsed:.2f} s ({elapsed / args.count * 1000:.0f} ms each)"
    )


if __name__ == "__main__":
    main()
