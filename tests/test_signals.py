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
