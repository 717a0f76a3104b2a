"""Benchmark: `imgout batch` for 200 client packs (not run in CI).

Runs, each with a fresh ledger so every pack is built:

1. ``jobs``: workbook + HTML/text brief + chart, built in 2 local processes and emailed to a local SMTP
   server (target: <= 60 s on 2 cores);
2. ``pdf``: the same with the PDF brief, ``--jobs 2``, as a dry run (``.eml`` files, nothing sent; target:
   <= 30 s on 2 cores);
3. ``dask``: the same as 1 on a 2-worker Dask ``LocalCluster`` (``--scheduler``);
4. ``dask-pdf``: the same as 2 on that cluster.

The command runs as a subprocess (the real console script, start-up included); the aiosmtpd server and the
Dask cluster run in this process. CPU is summed over this process and every process below it (imgout, its
workers or the cluster's, their browsers), sampled with psutil: ``RUSAGE_CHILDREN`` would miss processes
whose parents did not wait for them. Every run checks that exactly N messages arrived or N files were
written. ``--pdf-engine`` picks the PDF engine (default: imgout's own choice, auto).

    python tests/benchmarks/bench_batch.py                 # all four, 200 clients
    python tests/benchmarks/bench_batch.py --clients 20 --only pdf --pdf-engine weasyprint
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.delivery_support import client_entries, delivery_env, write_clients_file
from tests.support.process_cpu import TreeCPU, machine_cpu
from tests.support.smtp_server import LocalSMTPServer

RUNS = ("jobs", "pdf", "dask", "dask-pdf")


def run(
    label: str, args: list[str], server: LocalSMTPServer, workdir: Path, clients: int, dry_run: bool = False
) -> float:
    """Run `imgout batch ...` once with a fresh ledger (or as a dry run); return the wall time in seconds."""
    state = workdir / label.replace(" ", "-")
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir()
    folder = state / "eml"
    if dry_run:
        args = [*args, "--dry-run", str(folder)]
    env = {**os.environ, **delivery_env(server, state)}
    before = len(server.messages)
    imgout = shutil.which("imgout") or "imgout"
    rusage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_before = machine_cpu()
    with TreeCPU() as cpu:
        start = time.perf_counter()
        done = subprocess.run([imgout, "batch", *args], env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
    rusage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine = machine_cpu() - machine_before
    waited_for = sum(getattr(rusage_after, f) - getattr(rusage_before, f) for f in ("ru_utime", "ru_stime"))
    arrived = len(server.messages) - before
    if dry_run:
        arrived = len(list(folder.glob("*.eml")))
    if done.returncode != 0 or arrived != clients:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
        raise SystemExit(f"{label}: exit code {done.returncode}, {arrived} of {clients} packs delivered")
    engine = next((line for line in done.stdout.splitlines() if line.startswith("PDFs printed")), "")
    print(
        f"{label:<30} {elapsed:6.1f} s wall  {clients / elapsed:5.1f} packs/s  {cpu.seconds:6.1f} CPU-s "
        f"(process tree, {cpu.processes} processes; imgout and what it waited for: {waited_for:.1f}; "
        f"the whole machine: {machine:.1f})  "
        f"load {os.getloadavg()[0]:.1f}  {arrived} {'files' if dry_run else 'messages'}"
        + (f"  [{engine}]" if engine else "")
    )
    return elapsed


@contextmanager
def dask_cluster() -> Iterator[str]:
    """A 2-worker LocalCluster of processes (as a real cluster: packs travel by pickle); its address."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--only", choices=RUNS, action="append")
    parser.add_argument("--pdf-engine", default=None, help="auto, chromium or weasyprint")
    options = parser.parse_args()
    only = set(options.only or RUNS)
    engine = ["--pdf-engine", options.pdf_engine] if options.pdf_engine else []

    with tempfile.TemporaryDirectory(prefix="imgout-bench-") as folder, LocalSMTPServer("none") as server:
        workdir = Path(folder)
        clients = write_clients_file(workdir / "clients.yaml", client_entries(options.clients))
        n = options.clients
        print(f"{n} clients, {os.cpu_count()} CPUs, SMTP on {server.host}:{server.port}")
        if "jobs" in only:
            run("--jobs 2 (no PDF)", [str(clients), "--jobs", "2", "--no-pdf"], server, workdir, n)
        if "pdf" in only:
            args = [str(clients), "--jobs", "2", *engine]
            run("--jobs 2 with PDF, dry run", args, server, workdir, n, dry_run=True)
        if only & {"dask", "dask-pdf"}:
            with dask_cluster() as address:
                if "dask" in only:
                    args = [str(clients), "--scheduler", address, "--no-pdf"]
                    run("Dask LocalCluster, 2 workers", args, server, workdir, n)
                if "dask-pdf" in only:
                    args = [str(clients), "--scheduler", address, *engine]
                    run("Dask, 2 workers, PDF, dry run", args, server, workdir, n, dry_run=True)


if __name__ == "__main__":
    main()
