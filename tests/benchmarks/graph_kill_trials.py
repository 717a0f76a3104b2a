"""Measurement, not a test: Graph's exactly-once under kill -9 at seeded points, over several seeds.

Each seed runs 8 clients through the Graph stand-in (tests/support/cloud_server.py) five times, each run killed with
SIGKILL at a seeded point (while Graph holds its answer back, or between packs), then one plain run and one
with --resend-in-doubt; it prints per seed the kills, the lookups by Message-ID, and the most messages any
client got. Usage: PYTHONPATH=. python tests/benchmarks/graph_kill_trials.py SEEDS   (about 50 s a seed)
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.support.cloud_server import CloudServer, graph_env
from tests.support.delivery_support import client_entries, run_imgout, start_imgout, write_clients_file


def main(seeds: int) -> None:
    """Run ``seeds`` trials and print one JSON line each, then the duplicates and losses over all."""
    results = []
    for seed in range(1, seeds + 1):
        tmp = Path(tempfile.mkdtemp(prefix="i21kill"))
        with CloudServer() as cloud:
            rng = random.Random(seed)
            clients = write_clients_file(tmp / "clients.yaml", client_entries(8))
            env = graph_env(cloud, tmp)
            kills = 0
            for _ in range(5):
                cloud.script = ["hold:0.4"] * 20
                before = len(cloud.messages)
                target, extra = rng.randint(0, 2), rng.uniform(0.0, 0.6)
                run = start_imgout("batch", str(clients), "--no-pdf", env=env)
                deadline = time.monotonic() + 60
                while (
                    len(cloud.messages) < before + target
                    and run.poll() is None
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.01)
                time.sleep(extra)
                if run.poll() is None:
                    kills += 1
                run.kill()
                run.communicate(timeout=30)
            cloud.script = []
            a = run_imgout("batch", str(clients), "--no-pdf", env=env)
            b = run_imgout("batch", str(clients), "--no-pdf", "--resend-in-doubt", env=env)
            got = Counter(str(m.message["X-Imgout-Client"]) for m in cloud.messages)
            held = a.stderr.count(": in doubt:")
            results.append(
                {
                    "seed": seed,
                    "kills": kills,
                    "lookups": len(cloud.lookups),
                    "held_after_lookup": held,
                    "messages": len(cloud.messages),
                    "clients": len(got),
                    "max_per_client": max(got.values()),
                    "final_rc": b.returncode,
                }
            )
            print(json.dumps(results[-1]), flush=True)
    print(
        "duplicates:",
        sum(r["max_per_client"] > 1 for r in results),
        "lost:",
        sum(r["clients"] < 8 for r in results),
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
