"""Signals exit as documented: SIGINT 130, SIGTERM 143, at any moment, with every file left whole.

Real ``imgout`` processes (``brief --format all``, ``demo``, ``batch --dry-run``) are signalled at
seeded random moments: during the imports, the model, the workbook, while the browser prints the PDF,
in the teardown. Never -2, -15, 0 or a segmentation fault (-11).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.signal_moments import EXPECTED, moments


@pytest.mark.slow
def test_sigint_and_sigterm_at_random_moments_exit_130_and_143_and_leave_files_whole(tmp_path: Path) -> None:
    found = moments(tmp_path, count=16, within_run=True)
    signalled = [m for m in found if m.code is not None]
    assert len(signalled) >= 8, found  # most moments fall while the command runs
    wrong = [m for m in signalled if m.code != EXPECTED[m.signal]]
    assert not wrong, wrong
    assert not [m for m in found if m.broken], found


SWALLOWED = """
import os, signal, time
from xl_addin.signals import run_command

def run():
    try:  # a library that catches the signal's exception and carries on
        os.kill(os.getpid(), signal.{name})
        time.sleep(5)
    except BaseException:
        pass
    print("finished", flush=True)

run_command(run)
"""


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_whose_exception_a_library_swallows_still_sets_the_exit_code(name: str, code: int) -> None:
    """The command runs to its end (its files whole), and the process still answers the signal."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", SWALLOWED.replace("{name}", name)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == code, done
    assert done.stdout == "finished\n"
    assert done.stderr == ("imgout: terminated\n" if code == 143 else "imgout: interrupted\n")
