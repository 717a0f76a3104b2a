"""The red-team script (tests/red_team.py) runs every hostile case and every one holds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_every_hostile_case_of_the_red_team_holds() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.red_team"], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    summary = re.search(r"red team: (\d+) of (\d+) cases held", done.stdout)
    assert summary is not None, done.stdout[-3000:] + done.stderr[-3000:]
    held, total = int(summary[1]), int(summary[2])
    assert total >= 150
    assert held == total and done.returncode == 0, done.stdout[-6000:]
