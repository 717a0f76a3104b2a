"""How the ``imgout`` process answers SIGINT and SIGTERM: exit 130 and 143, from its first moment to its last.

Python's own answers depend on the moment: during the imports a Ctrl-C ends the process with -2 and a
SIGTERM with -15 (no handler yet), and once a command has finished, a signal in the interpreter's teardown
ends it with -2, -15 or 0. :func:`run_command` installs the handlers before anything is imported; while
the command runs a signal unwinds it (``KeyboardInterrupt``, :class:`Terminated`), so every file being
written is finished or removed; once it has finished, a signal ends the process at once with its code.

This module imports nothing of imgout: it must be in place before the (slow) rest is imported.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

INTERRUPTED = 130
TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM (a service manager or cron stopping the run): unwinds like Ctrl-C, exits 143."""


# Every signal received while the command runs, in order. The exception a handler raises can be swallowed
# where Python cannot raise it (a finaliser, a weakref callback: "exception ignored"), so the command may
# finish as if nothing happened; the exit code is decided by this record, not by whether the exception
# reached the top.
received: list[int] = []


def raise_interrupted(signum: int, frame: FrameType | None) -> None:
    """The SIGINT handler while a command runs: note it and unwind (``KeyboardInterrupt``)."""
    received.append(signum)
    raise KeyboardInterrupt()


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    """The SIGTERM handler while a command runs: note it and unwind as Ctrl-C does."""
    received.append(signum)
    raise Terminated()


def stopped(code: int) -> str:
    """The one line a run stopped by a signal ends with, by its exit code (143 or 130)."""
    return "imgout: terminated" if code == TERMINATED else "imgout: interrupted"


def signalled_code() -> int | None:
    """The exit code the first signal received asks for (130 or 143), or None if none came."""
    if not received:
        return None
    return TERMINATED if received[0] == signal.SIGTERM else INTERRUPTED


def _exit_now(signum: int, frame: FrameType | None) -> None:
    """The handler once the command has finished: nothing is left to unwind, so exit with the signal's code."""
    _flush()
    os._exit(TERMINATED if signum == signal.SIGTERM else INTERRUPTED)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def run_command(run: Callable[[], None]) -> None:
    """Run ``run`` (which imports and runs the command) and exit with its code; SIGINT exits 130 and
    SIGTERM 143 whenever they come, during the imports or the teardown too."""
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:
        signal.signal(signal.SIGINT, raise_interrupted)
        signal.signal(signal.SIGTERM, raise_terminated)
    code: int | str | None = 0
    try:
        run()
    except SystemExit as exc:
        code = exc.code
    except Terminated:  # before the command could answer it (during the imports)
        code = TERMINATED
        print(stopped(code), file=sys.stderr)
    except KeyboardInterrupt:
        code = INTERRUPTED
        print(stopped(code), file=sys.stderr)
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, _exit_now)
            signal.signal(signal.SIGTERM, _exit_now)
    signalled = signalled_code()
    if signalled is not None and code != signalled:
        # The signal's exception was swallowed on the way (see ``received``): the command ran to its end,
        # its files are whole, and the process still answers the signal.
        code = signalled
        print(stopped(code), file=sys.stderr)
    # Everything has unwound: files are finished or removed. What is left is the interpreter's teardown,
    # which puts back the default handlers (a signal then ends the process with -2 or -15) and, with the
    # PDF browser's connection cut in the middle of a call, can crash (-11). So the exit handlers (the
    # browser's close among them) run here, under the handlers above, and the process ends itself.
    if not main_thread:
        sys.exit(code)
    if code is None or isinstance(code, str):
        if code:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    atexit._run_exitfuncs()
    _flush()
    os._exit(code)
