"""`imgout excel --check` on Linux: every item named, problems reported as such, exit codes that say so.

Each run is a fresh `python -m xl_addin` process with HOME pointing at a temporary folder, so the xlwings
user config it reads is the one the story writes.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from xl_addin import __version__
from xl_addin.excel.functions import FUNCTIONS
from xl_addin.model import market_for

ITEMS = (
    "Python",
    "xlwings version",
    "imgout version",
    "xlwings user config",
    "interpreter Excel starts",
    "functions (xl_addin.udfs)",
    "assumption file",
    "Windows-only checks",
)


def check(
    home: Path, *, env: dict[str, str] | None = None, prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "IMGOUT_ASSUMPTIONS"}
    environment.update(HOME=str(home), **(env or {}))
    code = f"{prelude}\nfrom xl_addin.cli import main\nmain(['excel', '--check'])"
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def _assumptions(path: Path, growth: float) -> Path:
    path.write_text(
        f"extension:\n  extrapolation_growth:\n    value: {growth}\n    kind: assumed\n    source: imgout\n",
        encoding="utf-8",
    )
    return path


def test_the_report_names_every_item_and_what_this_machine_has(tmp_path: Path) -> None:
    assumptions = _assumptions(tmp_path / "mine.yaml", 0.05)
    config = tmp_path / ".xlwings" / "xlwings.conf"
    config.parent.mkdir()
    config.write_text(
        f'"INTERPRETER_WIN","{sys.executable}"\n"IMGOUT_ASSUMPTIONS","{assumptions}"\n', encoding="utf-8"
    )
    run = check(tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line[7:].split("  ")[0].strip() for line in lines] == list(ITEMS)
    out = run.stdout
    assert f"{sys.executable} ({struct.calcsize('P') * 8}-bit" in out
    assert "xlwings version            0.37.8" in out
    assert f"imgout version             {__version__}" in out
    assert str(config) in out
    assert f"INTERPRETER_WIN = {sys.executable}" in out
    assert f"import cleanly: {len(FUNCTIONS)} IMGOUT_* functions" in out
    assert str(assumptions) in out and f"IMGOUT_ASSUMPTIONS in {config}" in out
    assert f"assumption hash {market_for(assumptions).assumption_hash}" in out
    assert (
        "not run on linux: the xlwings DLL beside python.exe; the xlwings add-in (XLSTART); Excel's own bitness"
        in out
    )
    assert "[FAIL]" not in out


def test_without_a_user_config_it_says_what_excel_falls_back_to(tmp_path: Path) -> None:
    run = check(tmp_path)
    assert run.returncode == 0, run.stderr
    assert "none (run: xlwings config create --force)" in run.stdout
    assert "pythonw from the PATH" in run.stdout
    assert "embedded default (IMGOUT_ASSUMPTIONS not set)" in run.stdout


def test_a_broken_assumption_file_is_reported_and_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("extension: [1\n", encoding="utf-8")
    run = check(tmp_path, env={"IMGOUT_ASSUMPTIONS": str(broken)})
    assert run.returncode == 2
    assert (
        f"[FAIL] assumption file            {broken} (IMGOUT_ASSUMPTIONS environment variable): Invalid assumptions"
        in run.stdout
    )
    assert run.stderr.strip().startswith(f"imgout: error: Invalid assumptions in {broken}")
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_a_missing_xlwings_is_reported_and_exits_1(tmp_path: Path) -> None:
    run = check(tmp_path, prelude="import sys; sys.modules['xlwings'] = None  # as if not installed")
    assert run.returncode == 1
    assert "[FAIL] xlwings version            not installed in this Python" in run.stdout
    assert "[FAIL] functions (xl_addin.udfs)  do not import" in run.stdout
    assert run.stderr.strip() == (
        f"imgout: error: xlwings is not installed in {sys.executable} (import of xlwings halted; None in "
        "sys.modules); install imgout into this Python: python -m pip install <imgout folder>"
    )


@pytest.mark.parametrize("content", ['"INTERPRETER_WIN","python"\n\n\n', '\n"CONDA PATH","C:\\\\conda"\n'])
def test_empty_lines_in_the_user_config_are_a_problem(tmp_path: Path, content: str) -> None:
    """xlwings issue 1584: empty lines in the config make 'Could not activate Python COM server'."""
    config = tmp_path / ".xlwings" / "xlwings.conf"
    config.parent.mkdir()
    config.write_text(content, encoding="utf-8")
    run = check(tmp_path)
    assert run.returncode == 1
    assert "[FAIL] empty lines in it" in run.stdout
    assert "Could not activate Python COM server" in run.stderr
