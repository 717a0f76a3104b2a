"""CPU time of a process and everything it starts (a browser, its helpers, worker processes), with psutil.

A browser does its work in child processes (Chromium even starts a short-lived print compositor process for
every PDF), and a batch in worker processes that start browsers of their own: timing the parent alone
(``time``, ``resource.getrusage``, pytest-benchmark around a call) undercounts. These helpers read the
whole tree: for each live process its own CPU plus the CPU of the children it has waited for (``cutime``,
``cstime``), so a process that ended inside the block is counted through its parent, exactly.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

import psutil

Key = tuple[int, float]  # pid and start time: a pid may be reused


def _tree(root: int) -> list[psutil.Process]:
    try:
        parent = psutil.Process(root)
        return [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return []


def _readings(root: int) -> dict[Key, tuple[float, int]]:
    """Each live process of the tree: its CPU with its waited-for children's, and its parent's pid."""
    readings = {}
    for process in _tree(root):
        try:
            with process.oneshot():
                t = process.cpu_times()
                readings[(process.pid, process.create_time())] = (
                    t.user + t.system + t.children_user + t.children_system,
                    process.ppid(),
                )
        except psutil.Error:
            continue
    return readings


def _proc_stat() -> list[int]:
    """The machine's CPU ticks since boot: user, nice, system, idle, iowait, irq, softirq, steal."""
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]


def machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat): on a quiet machine, the delta
    over a run is the run's CPU, whichever process spent it (a browser's helpers reaped outside the tree
    included, which the tree's count can miss). Steal time is counted as busy: the run waited for it."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = _proc_stat()
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def machine_steal() -> float:
    """CPU seconds since boot that the hypervisor gave to others while this machine wanted them."""
    return _proc_stat()[7] / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int | None = None) -> float:
    """CPU seconds used so far by ``root`` (default: this process), its live descendants and every
    descendant that has ended and was waited for by its parent."""
    return sum(cpu for cpu, _ in _readings(root or os.getpid()).values())


class TreeCPU:
    """CPU seconds of a process tree over a block, processes that start and end inside it included.

    The tree's total (:func:`tree_cpu`) at the end minus at the start, plus the CPU of processes that left
    the tree alive (orphans: their parent ended without waiting for them, so the system's init reaps them
    and nothing in the tree counts them). A sampler (every ``interval`` s) finds them and follows them, and
    their descendants, to their end: ``lost`` is their part. ``processes`` is how many processes it saw.

        with TreeCPU() as cpu:
            subprocess.run([...])
        print(cpu.seconds)
    """

    def __init__(self, root: int | None = None, interval: float = 0.05) -> None:
        self.root = root or os.getpid()
        self.interval = interval
        self._start = 0.0
        self._end = 0.0
        self._seen: set[Key] = set()
        self._outside: dict[Key, float] = {}  # orphans: their last reading
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def _sample(self) -> float:
        now = _readings(self.root)
        for key in self._seen - set(now) - set(self._outside):
            self._follow_if_alive(key)
        for key in list(self._outside):
            self._follow_if_alive(key)
        self._seen |= set(now)
        return sum(cpu for cpu, _ in now.values())

    def _follow_if_alive(self, key: Key) -> None:
        """A process gone from the tree: if it still runs, count it (and what it starts) from outside."""
        try:
            process = psutil.Process(key[0])
            if process.create_time() != key[1] or process.status() == psutil.STATUS_ZOMBIE:
                return
            for one in [process, *process.children(recursive=True)]:
                with one.oneshot():
                    t = one.cpu_times()
                    self._outside[(one.pid, one.create_time())] = (
                        t.user + t.system + t.children_user + t.children_system
                    )
        except psutil.Error:
            return

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> TreeCPU:
        self._start = self._sample()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._end = self._sample()

    @property
    def lost(self) -> float:
        """CPU seconds of the processes that left the tree alive (included in :attr:`seconds`)."""
        return sum(self._outside.values())

    @property
    def seconds(self) -> float:
        """CPU seconds used inside the block by every process of the tree."""
        return self._end - self._start + self.lost

    @property
    def processes(self) -> int:
        """How many processes of the tree the sampler saw."""
        return len(self._seen | set(self._outside))
