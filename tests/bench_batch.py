"""Benchmark: `imgout batch` for 200 client packs, emailed to a local SMTP server (not run in CI).

Three runs, each with a fresh ledger so every pack is built and sent:

1. ``--jobs 2``: workbook + HTML/text brief + chart, built in 2 local processes (target: <= 60 s on 2 cores);
2. the same with the PDF brief attached;
3. the same as 1 on a 2-worker Dask ``LocalCluster`` (``--scheduler``).

The command runs as a subprocess (the real console script, start-up included); the aiosmtpd server and the
Dask cluster run in this process. Every run checks that exactly N messages arrived.

    python tests/bench_batch.py                 # all three, 200 clients
    python tests/bench_batch.py --clients 20 --only jobs
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.delivery_support import client_entries, delivery_env, write_clients_file
from tests.smtp_server import LocalSMTPServer


def run(label: str, args: list[str], server: LocalSMTPServer, workdir: Path, clients: int) -> float:
    """Run `imgout batch ...` once with a fresh ledger; return the wall time in seconds."""
    state = workdir / label
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir()
    env = {**os.environ, **delivery_env(server, state)}
    before = len(server.messages)
    imgout = shutil.which("imgout") or "imgout"
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([imgout, "batch", *args], env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of imgout and its worker processes (not of Dask workers, which belong to this process's cluster):
    # a figure that other load on the machine does not inflate, unlike the wall time.
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    arrived = len(server.messages) - before
    if done.returncode != 0 or arrived != clients:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
        raise SystemExit(f"{label}: exit code {done.returncode}, {arrived} of {clients} messages arrived")
    load = os.getloadavg()[0]
    print(
        f"{label:<30} {elapsed:7.1f} s wall  {clients / elapsed:5.1f} packs/s  "
        f"{cpu:6.1f} s CPU (imgout + its processes)  load {load:.1f}  ({arrived} messages arrived)"
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--only", choices=["jobs", "pdf", "dask"], action="append")
    options = parser.parse_args()
    only = set(options.only or ["jobs", "pdf", "dask"])

    with tempfile.TemporaryDirectory(prefix="imgout-bench-") as folder, LocalSMTPServer("none") as server:
        workdir = Path(folder)
        clients = write_clients_file(workdir / "clients.yaml", client_entries(options.clients))
        print(f"{options.clients} clients, {os.cpu_count()} CPUs, SMTP on {server.host}:{server.port}")
        if "jobs" in only:
            run(
                "--jobs 2 (no PDF)",
                [str(clients), "--jobs", "2", "--no-pdf"],
                server,
                workdir,
                options.clients,
            )
        if "pdf" in only:
            run("--jobs 2 with PDF", [str(clients), "--jobs", "2"], server, workdir, options.clients)
        if "dask" in only:
            from distributed import LocalCluster

            with LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster:
                args = [str(clients), "--scheduler", cluster.scheduler_address, "--no-pdf"]
                run("Dask LocalCluster, 2 workers", args, server, workdir, options.clients)


if __name__ == "__main__":
    main()
