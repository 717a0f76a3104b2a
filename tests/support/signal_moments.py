"""SIGINT and SIGTERM at random moments of a real ``imgout`` process: the exit code and the files left.

Shared by tests/test_signals.py and the red team. A moment is drawn from a seeded generator (the same
moments every run); a process that has finished before its moment is counted, not signalled.
"""

from __future__ import annotations

import email
import email.policy
import os
import random
import shutil
import signal
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.delivery_support import client_entries, imgout_command, process_env, write_clients_file

EXPECTED = {signal.SIGINT: 130, signal.SIGTERM: 143}


@dataclass(frozen=True)
class Moment:
    command: str
    signal: signal.Signals
    after: float
    code: int | None  # None: the command had finished before the moment
    broken: tuple[str, ...]  # files left that are not whole


def commands(folder: Path) -> dict[str, list[str]]:
    clients = write_clients_file(folder / "clients.yaml", client_entries(3))
    return {
        "brief --format all": ["brief", "--client", "A", "--format", "all", "--out", str(folder / "out")],
        "demo": ["demo", "--out", str(folder / "out")],
        "batch --dry-run": ["batch", str(clients), "--dry-run", str(folder / "out")],
    }


def whole(path: Path) -> bool:
    """Whether a file imgout wrote is complete: a PDF to its %%EOF, a zip readable, a text to its end."""
    data = path.read_bytes()
    if path.suffix == ".pdf":
        return data.startswith(b"%PDF") and b"%%EOF" in data[-1024:]
    if path.suffix in (".xlsx", ".xlsm"):
        try:
            with zipfile.ZipFile(path) as book:
                return book.testzip() is None
        except zipfile.BadZipFile:
            return False
    if path.suffix == ".html":
        return data.rstrip().endswith(b"</html>")
    if path.suffix == ".eml":
        message = email.message_from_bytes(data, policy=email.policy.default)
        return message.get_body(("plain",)) is not None and data.rstrip().endswith(b"--")
    return bool(data.strip())


def has_exited(pid: int) -> bool:
    """Whether a child has already ended (a zombie not yet reaped, or ending): a signal sent now cannot
    change its exit code, so the moment counts as after the run. ``poll()`` alone misses the last moments:
    measured on 269f791, 10 of 84 signals sent to ``imgout forecast`` in its last 15 % "exited 0", every
    one of them to a process already ending (with this check: 0 of 417)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _start(which: str, work: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        imgout_command(*commands(work)[which]),
        env=process_env({"IMGOUT_LOG": str(work / "log.jsonl")}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        cwd=work,
    )


def durations(folder: Path) -> dict[str, float]:
    """How long each command takes here, run once unsignalled: the moments are drawn within it, so a fast
    machine does not see most of them fall after the command has ended."""
    taken = {}
    (folder / "timing").mkdir(parents=True, exist_ok=True)
    for which in sorted(commands(folder / "timing")):
        work = folder / "timing" / which.replace(" ", "_")
        work.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        _start(which, work).wait(timeout=120)
        taken[which] = time.monotonic() - started
    return taken


def moments(
    folder: Path, count: int, seed: int = 20, latest: float = 8.0, within_run: bool = False
) -> list[Moment]:
    """``count`` runs, each of a command and a signal drawn at random, signalled ``after`` seconds, at most
    ``latest``; ``within_run``: within the command's own duration here too (see :func:`durations`)."""
    draw = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    taken = durations(folder) if within_run else dict.fromkeys(commands(folder), latest / 0.95)
    found = []
    for number in range(count):
        work = folder / f"run-{number}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        which = draw.choice(sorted(commands(work)))
        signum = draw.choice(sorted(EXPECTED))
        after = draw.uniform(0.0, 1.0) * min(latest, 0.95 * taken[which])
        process = _start(which, work)
        time.sleep(after)
        finished = process.poll() is not None or has_exited(process.pid)
        if not finished:
            os.kill(process.pid, signum)
        code = process.wait(timeout=120)
        out = work / "out"
        broken = (
            tuple(p.name for p in sorted(out.rglob("*")) if p.is_file() and not whole(p))
            if out.exists()
            else ()
        )
        found.append(Moment(which, signum, round(after, 2), None if finished else code, broken))
    return found
