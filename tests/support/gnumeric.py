"""Recalculate .xlsx workbooks with Gnumeric (``ssconvert --recalc``), a second independent engine.

LibreOffice and Excel accept some forms that Gnumeric does not (``INDEX`` of a one-row range with a single
index gives ``#REF!`` in Gnumeric), so a workbook whose formulas both engines recompute to the stored
results is one that Excel, LibreOffice and Gnumeric users all see alike:

    recalculated = recalculate(workbook, tmp_path / "gnumeric")
    assert compare_stored_with_recalculated(workbook, recalculated, engine="Gnumeric") == []

Comparison and reading cells are shared with :mod:`tests.support.libreoffice`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.libreoffice import DEFAULT_TIMEOUT, found_or_skip, source_and_target

__all__ = ["GnumericError", "find_ssconvert", "recalculate", "require_ssconvert"]


class GnumericError(RuntimeError):
    """Gnumeric failed to recalculate a workbook (not found, failed, timed out or wrote nothing)."""


def find_ssconvert() -> str | None:
    """The path of Gnumeric's ``ssconvert``, or None if Gnumeric is not installed."""
    return shutil.which("ssconvert")


def require_ssconvert() -> str:
    """``ssconvert`` for a test: a skip for a developer without Gnumeric, a failure under CI (``.ci/run``
    installs the Debian package ``gnumeric``)."""
    return found_or_skip(
        find_ssconvert(),
        "Gnumeric (ssconvert) not found: install the Debian package gnumeric to run this check",
    )


def recalculate(
    xlsx_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT
) -> Path:
    """Load ``xlsx_path`` in Gnumeric, recalculate every formula and save ``out_dir/<stem>.xlsx``.

    The input is never modified. Raises ``GnumericError`` with ssconvert's output if it fails, times out
    or writes nothing.
    """
    source, target = source_and_target(xlsx_path, out_dir, ".xlsx")
    executable = find_ssconvert()
    if executable is None:
        raise GnumericError("Gnumeric (ssconvert) not found on PATH")
    command = [executable, "--recalc", "--export-type=Gnumeric_Excel:xlsx2", str(source), str(target)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GnumericError(f"Gnumeric did not finish within {timeout:g} s: {' '.join(command)}") from None
    if result.returncode != 0 or not target.is_file():
        raise GnumericError(
            f"Gnumeric could not recalculate {source} (exit code {result.returncode}): {' '.join(command)}\n"
            f"stderr:\n{result.stderr[-2000:]}"
        )
    return target
