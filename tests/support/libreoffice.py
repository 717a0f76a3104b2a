"""Recalculate .xlsx workbooks with headless LibreOffice Calc and compare the results.

Our workbooks store a computed result next to every formula (so viewers and ``pandas.read_excel`` show
numbers). Those stored results are only trustworthy if an independent spreadsheet engine, recalculating
the formulas from scratch, gets the same numbers back. This module is that check:

    recalculated = recalculate(workbook, tmp_path / "lo")
    assert compare_stored_with_recalculated(workbook, recalculated) == []

LibreOffice normally *keeps* the cached results of an .xlsx on load, so a plain ``--convert-to`` would
just echo our stored values back. ``recalculate`` therefore runs LibreOffice with a private user profile
whose configuration says "always recalculate on load".
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.datetime import to_excel

if sys.platform != "win32":
    import fcntl

__all__ = [
    "DEFAULT_TIMEOUT",
    "CellKey",
    "LibreOfficeError",
    "cell_values",
    "compare_stored_with_recalculated",
    "find_soffice",
    "formula_cells",
    "print_to_pdf",
    "recalculate",
    "require_soffice",
    "shared_profile_dir",
    "write_recalc_profile",
]

CellKey = tuple[str, str]
"""(sheet title, cell coordinate such as "B7")."""

DEFAULT_TIMEOUT = 120.0
"""Seconds one conversion may take; a cold start takes about 2 s, so this only catches a hung soffice."""

_FALLBACK_SOFFICE = Path("/usr/lib/libreoffice/program/soffice")
_CALC_XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"
_CALC_PDF_FILTER = "pdf:calc_pdf_Export"
_OOR_NS = "http://openoffice.org/2001/registry"
_RECALC_ITEM_PATH = "/org.openoffice.Office.Calc/Formula/Load"
# 0 = always recalculate, 1 = never, 2 = ask (headless: never). Both formats, so the harness also works
# if someone feeds it an .ods.
_RECALC_PROPS = ("OOXMLRecalcMode", "ODFRecalcMode")
_RECALC_ITEMS = "".join(
    f'<item oor:path="{_RECALC_ITEM_PATH}">'
    f'<prop oor:name="{name}" oor:op="fuse"><value>0</value></prop></item>\n'
    for name in _RECALC_PROPS
)
_REGISTRY_XCU = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<oor:items xmlns:oor="{_OOR_NS}" xmlns:xs="http://www.w3.org/2001/XMLSchema"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    f"{_RECALC_ITEMS}</oor:items>\n"
)


class LibreOfficeError(RuntimeError):
    """LibreOffice failed to recalculate a workbook (not found, crashed, timed out or wrote nothing)."""


def find_soffice() -> str | None:
    """Return the path of the LibreOffice executable, or None if LibreOffice is not installed.

    Looks for ``soffice`` then ``libreoffice`` on PATH, then the Debian/Ubuntu install location.
    """
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    if _FALLBACK_SOFFICE.is_file() and os.access(_FALLBACK_SOFFICE, os.X_OK):
        return str(_FALLBACK_SOFFICE)
    return None


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def found_or_skip(found: str | None, message: str) -> str:
    """A program a test needs (``found``: its path, or None): a skip with ``message`` for a developer who
    lacks it, a failure under CI (env var ``CI`` set), because a silently skipped check would let wrong
    results ship and ``.ci/run`` installs every program the tests need."""
    import pytest  # Only tests call this; keeps the rest of the module usable outside pytest.

    if found is not None:
        return found
    if _running_in_ci():
        pytest.fail(message + " (required under CI)", pytrace=False)
    pytest.skip(message)


def require_soffice() -> str:
    """Return the LibreOffice executable for a test, or skip/fail the test if it is missing
    (:func:`found_or_skip`)."""
    return found_or_skip(
        find_soffice(),
        "LibreOffice (soffice) not found: install libreoffice-calc-nogui to run recalculation checks",
    )


def _recalc_settings_present(xcu: Path) -> bool:
    """True if the profile's registrymodifications.xcu already forces recalculation on load."""
    try:
        root = ET.parse(xcu).getroot()
    except (OSError, ET.ParseError):
        return False
    path_attr, name_attr = f"{{{_OOR_NS}}}path", f"{{{_OOR_NS}}}name"
    found = {
        prop.get(name_attr)
        for item in root.iter("item")
        if item.get(path_attr) == _RECALC_ITEM_PATH
        for prop in item.iter("prop")
        if (prop.findtext("value") or "").strip() == "0"
    }
    return all(name in found for name in _RECALC_PROPS)


def write_recalc_profile(profile_dir: str | os.PathLike[str]) -> Path:
    """Make ``profile_dir`` a LibreOffice user profile that recalculates every formula on load.

    Returns the profile directory. An existing profile is left alone if it already has the settings
    (LibreOffice rewrites registrymodifications.xcu on exit but keeps them); otherwise the file is
    replaced, discarding any other settings stored there.
    """
    profile = Path(profile_dir).resolve()
    xcu = profile / "user" / "registrymodifications.xcu"
    if not _recalc_settings_present(xcu):
        xcu.parent.mkdir(parents=True, exist_ok=True)
        xcu.write_text(_REGISTRY_XCU, encoding="utf-8")
    return profile


@functools.cache
def shared_profile_dir() -> Path:
    """A recalculating profile directory reused for the life of this process, removed at exit.

    Reusing a profile skips LibreOffice's first-start setup (about 0.2 s of a 1.6 s conversion).
    ``recalculate`` locks the profile, so concurrent calls that share it run one after another.
    """
    profile = Path(tempfile.mkdtemp(prefix="imgout-lo-profile-"))
    atexit.register(shutil.rmtree, profile, ignore_errors=True)
    return write_recalc_profile(profile)


@contextmanager
def _locked(profile: Path) -> Iterator[None]:
    """Hold an exclusive lock on a reused profile.

    Two soffice processes on one profile do not run side by side: the second hands its job to the
    first over a pipe and exits, or trips over the profile's lock file. flock also serialises threads,
    because each call opens its own file description.
    """
    if sys.platform == "win32":
        yield
        return
    with open(profile / ".imgout-recalc.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_soffice(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    # soffice is a shell script that starts oosplash, which starts soffice.bin: run them in their own
    # process group so a timeout kills the whole tree, not just the wrapper.
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            raise LibreOfficeError(
                f"LibreOffice did not finish within {timeout:g} s: {' '.join(command)}\n"
                f"stdout:\n{stdout}\nstderr:\n{stderr}"
            ) from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def recalculate(
    xlsx_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    profile_dir: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    soffice: str | None = None,
) -> Path:
    """Open ``xlsx_path`` in headless LibreOffice Calc, recalculate every formula and save it as .xlsx.

    Returns the path of the recalculated copy, ``out_dir/<stem>.xlsx``; the input is never modified and
    must not be the output file (use a separate ``out_dir``). By default each call uses its own throwaway
    user profile, so calls may run concurrently (threads, processes, pytest-xdist). Pass ``profile_dir``
    (for example ``shared_profile_dir()``) to reuse a profile: slightly faster, and calls sharing it are
    serialised by a lock. Raises ``LibreOfficeError`` with LibreOffice's output if the conversion fails
    or exceeds ``timeout`` seconds, ``FileNotFoundError`` if the input does not exist.
    """
    return _convert(xlsx_path, out_dir, _CALC_XLSX_FILTER, ".xlsx", profile_dir, timeout, soffice)


def print_to_pdf(
    xlsx_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    profile_dir: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    soffice: str | None = None,
) -> Path:
    """Print a workbook to PDF with headless LibreOffice Calc (recalculated first), as File > Export as
    PDF does: every sheet with its print areas, scale, repeated rows and page breaks. Returns
    ``out_dir/<stem>.pdf``; arguments and errors as :func:`recalculate`."""
    return _convert(xlsx_path, out_dir, _CALC_PDF_FILTER, ".pdf", profile_dir, timeout, soffice)


def source_and_target(
    xlsx_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], suffix: str
) -> tuple[Path, Path]:
    """The workbook to convert (it must exist) and ``out_dir/<stem><suffix>``, which must not be the
    workbook itself; the folder is made and any old output removed, so success is judged by a fresh
    output file (soffice exits 0 even when it cannot load the input)."""
    source = Path(xlsx_path).resolve()
    if not source.is_file():
        raise FileNotFoundError(f"workbook to recalculate not found: {source}")
    target = Path(out_dir).resolve() / f"{source.stem}{suffix}"
    if target == source:
        raise ValueError(
            f"recalculating {source} would overwrite it: choose an out_dir other than its folder"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    return source, target


def _convert(
    xlsx_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    filter_name: str,
    suffix: str,
    profile_dir: str | os.PathLike[str] | None,
    timeout: float,
    soffice: str | None,
) -> Path:
    source, target = source_and_target(xlsx_path, out_dir, suffix)
    target_dir = target.parent
    executable = soffice or find_soffice()
    if executable is None:
        raise LibreOfficeError("LibreOffice (soffice) not found on PATH or in /usr/lib/libreoffice/program")

    def convert(profile: Path) -> None:
        command = [
            executable,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            filter_name,
            "--outdir",
            str(target_dir),
            str(source),
        ]
        result = _run_soffice(command, timeout)
        if result.returncode != 0 or not target.is_file():
            raise LibreOfficeError(
                f"LibreOffice could not {'print' if suffix == '.pdf' else 'recalculate'} {source}"
                f" (exit code {result.returncode}): "
                f"{' '.join(command)}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )

    if profile_dir is None:
        with tempfile.TemporaryDirectory(prefix="imgout-lo-profile-") as throwaway:
            convert(write_recalc_profile(throwaway))
    else:
        profile = Path(profile_dir).resolve()
        profile.mkdir(parents=True, exist_ok=True)
        with _locked(profile):
            convert(write_recalc_profile(profile))
    return target


def _worksheets(xlsx_path: str | os.PathLike[str], *, data_only: bool) -> Iterator[Any]:
    workbook = openpyxl.load_workbook(xlsx_path, data_only=data_only)
    try:
        # .worksheets leaves out chartsheets, which hold no cells.
        yield from workbook.worksheets
    finally:
        workbook.close()


def cell_values(xlsx_path: str | os.PathLike[str]) -> dict[CellKey, Any]:
    """Every non-empty cell's value as a viewer sees it: for formulas, the stored (cached) result.

    Keys are ``(sheet title, coordinate)``. Read with openpyxl ``data_only=True``, so dates come back
    as datetimes and error results as strings such as ``"#N/A"``. A formula saved without a cached result
    (openpyxl itself saves formulas that way) has no entry.
    """
    return {
        (sheet.title, cell.coordinate): cell.value
        for sheet in _worksheets(xlsx_path, data_only=True)
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }


def formula_cells(xlsx_path: str | os.PathLike[str]) -> dict[CellKey, str]:
    """Every formula cell's formula text (``"=SUM(B2:B4)"``), keyed by ``(sheet title, coordinate)``.

    Array and dynamic-array formulas are included, keyed by their anchor cell.
    """
    formulas: dict[CellKey, str] = {}
    for sheet in _worksheets(xlsx_path, data_only=False):
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                value = cell.value
                # ArrayFormula keeps its text in .text; a data-table formula has none, so describe it.
                text = value if isinstance(value, str) else getattr(value, "text", None)
                formulas[(sheet.title, cell.coordinate)] = text if text else repr(dict(value))
    return formulas


def _normalise(value: Any) -> Any:
    # A formula returning "" and one with no cached result read back alike (None) from LibreOffice.
    if value == "":
        return None
    # Dates are numbers with a date format: compare serials, not whatever type each format produced.
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        return to_excel(value)
    return value


def _same(stored: Any, recalculated: Any, rel: float, abs_tol: float) -> bool:
    stored, recalculated = _normalise(stored), _normalise(recalculated)
    # bool is an int subclass: TRUE stored where LibreOffice computes 1 (or the reverse) is a real difference.
    if isinstance(stored, bool) or isinstance(recalculated, bool):
        return type(stored) is type(recalculated) and stored == recalculated
    if isinstance(stored, int | float) and isinstance(recalculated, int | float):
        return math.isclose(stored, recalculated, rel_tol=rel, abs_tol=abs_tol)
    return type(stored) is type(recalculated) and stored == recalculated


def compare_stored_with_recalculated(
    original: str | os.PathLike[str],
    recalculated: str | os.PathLike[str],
    rel: float = 1e-9,
    abs_tol: float = 1e-12,
    engine: str = "LibreOffice",
) -> list[str]:
    """List every formula cell of ``original`` whose stored result differs from the recalculating engine's.

    ``recalculated`` is the output of ``recalculate(original, ...)`` (or of another engine, named by
    ``engine`` in the lines: :func:`tests.support.gnumeric.recalculate`). Numbers match within relative
    tolerance ``rel`` (``abs_tol`` stops results that should be 0 failing on float noise such as 1e-17);
    text, booleans and error values must match exactly. A formula stored without any result is reported
    too. Returns human-readable lines like ``"Forecast!B4 =B1*B3: stored 999, LibreOffice 324.0"``;
    an empty list means every stored result is what LibreOffice computes.
    """
    stored = cell_values(original)
    fresh = cell_values(recalculated)
    differences = []
    for key, formula in formula_cells(original).items():
        before, after = stored.get(key), fresh.get(key)
        if not _same(before, after, rel, abs_tol):
            sheet, coordinate = key
            differences.append(f"{sheet}!{coordinate} {formula}: stored {before!r}, {engine} {after!r}")
    return differences
