"""Build workers that never outlive the run that started them.

A batch run builds packs in worker processes (``--jobs N``). If the run is killed outright (``kill -9``,
the OOM killer), nothing in it can stop its workers, and they would wait for work for ever, holding
memory and keeping multiprocessing's resource tracker alive. So each worker watches its parent itself:
on Linux the kernel kills it the moment the parent dies (``PR_SET_PDEATHSIG``); everywhere, a watchdog
thread checks once a second that its parent is still the process that started it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading

#: prctl(2) option: the signal this process gets when its parent dies.
_PR_SET_PDEATHSIG = 1
WATCH_INTERVAL = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Make this process exit when process ``parent_pid`` (its parent) is gone; a worker initializer."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog below still works
            pass
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="imgout-parent-watch", daemon=True).start()


def _watch(parent_pid: int) -> None:
    event = threading.Event()
    while not event.wait(WATCH_INTERVAL):
        if os.getppid() != parent_pid:  # re-parented: the run is gone
            os._exit(1)
