"""``imgout excel --check``: what Excel will use on this machine, item by item, before anyone opens Excel.

Each :class:`Finding` is one line: what was looked at, what was found, and whether it is fine. The checks
follow xlwings 0.37.8's own lookup (its VBA ``GetConfig`` and ``XLPyLoadDLL``): the interpreter comes from
the workbook's ``xlwings.conf`` sheet, a ``xlwings.conf`` beside the workbook, or the user config
``~/.xlwings/xlwings.conf`` (``INTERPRETER_WIN``, else ``CONDA PATH``/``CONDA ENV``, else a bare
``pythonw`` from the PATH); with a full path, the VBA loads ``xlwings64-<version>.dll`` (32 for 32-bit
Python) from beside ``python.exe`` or from the folder above it (a virtual environment). The DLL, the add-in
and Excel's bitness exist only on Windows: elsewhere the report says so rather than guessing.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import os
import stat
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..common.yamlfile import read_user_file
from ..errors import ImgoutError, InputError

PINNED_XLWINGS = "0.37.8"
ENV_VAR = "IMGOUT_ASSUMPTIONS"
WINDOWS_ONLY = (
    "the xlwings DLL beside python.exe",
    "the xlwings add-in (XLSTART)",
    "Excel's own bitness (File > Account > About Excel)",
)


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``ok`` is True (fine), False (a problem) or None (for information)."""

    item: str
    found: str
    ok: bool | None = True
    problem: ImgoutError | None = None

    def line(self, width: int) -> str:
        """``[ok] item ....... found``."""
        mark = {True: "ok  ", False: "FAIL", None: "note"}[self.ok]
        return f"[{mark}] {self.item.ljust(width)}  {self.found}"


def user_config_path() -> Path:
    """xlwings' user config file (``%USERPROFILE%\\.xlwings\\xlwings.conf`` on Windows)."""
    if sys.platform == "darwin":
        return Path.home() / "Library/Containers/com.microsoft.Excel/Data/xlwings.conf"
    return Path.home() / ".xlwings" / "xlwings.conf"


#: The largest xlwings config file read (a real one is a few hundred bytes).
MAX_CONFIG_BYTES = 1 << 20


def read_config(path: Path) -> tuple[dict[str, str], int]:
    """The ``"KEY","VALUE"`` lines of an xlwings config file (keys upper-cased) and its count of empty lines.

    Only a regular file is read, without ever blocking (a FIFO or a device there is an ImgoutError that
    says so), and at most :data:`MAX_CONFIG_BYTES` of it.
    """
    data = read_user_file(
        path,
        lambda key, problem: ImgoutError(f"The xlwings config file {path} {problem}"),
        MAX_CONFIG_BYTES,
        "an xlwings config file",
    )
    settings: dict[str, str] = {}
    empty = 0
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            empty += 1
            continue
        key, _, value = line.partition(",")
        settings[key.strip().strip('"').upper()] = value.strip().strip('"')
    return settings, empty


def run() -> list[Finding]:
    """Every check, in the order a user would fix them."""
    config = _user_config()
    if _unreadable_config():
        # xlwings reads its user config when imported: with a FIFO there, importing it waits for ever.
        why = "not imported: xlwings reads its user config on import and would wait on it"
        findings = [_python(), Finding("xlwings version", why, None), Finding("imgout version", __version__)]
        findings += config
        findings.append(Finding("functions (xl_addin.udfs)", f"{why} (they import xlwings)", None))
    else:
        findings = [_python(), _xlwings(), Finding("imgout version", __version__), *config, _functions()]
    findings.append(_assumptions())
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        findings += [_dll(), _addin()]
    else:
        findings.append(
            Finding("Windows-only checks", f"not run on {sys.platform}: " + "; ".join(WINDOWS_ONLY), None)
        )
    return findings


def report(findings: list[Finding]) -> str:
    """The findings as aligned lines."""
    width = max(len(f.item) for f in findings)
    return "\n".join(f.line(width) for f in findings)


def _python() -> Finding:
    bits = struct.calcsize("P") * 8
    return Finding("Python", f"{sys.executable} ({bits}-bit, Python {sys.version.split()[0]})")


def _xlwings() -> Finding:
    try:
        version = importlib.metadata.version("xlwings")
        importlib.import_module("xlwings")
    except (importlib.metadata.PackageNotFoundError, ImportError) as exc:
        problem = ImgoutError(
            f"xlwings is not installed in {sys.executable} ({exc}); install imgout into this Python: "
            "python -m pip install <imgout folder>"
        )
        return Finding("xlwings version", "not installed in this Python", False, problem)
    if version != PINNED_XLWINGS:
        problem = ImgoutError(
            f"xlwings {version} is installed; imgout is tested with xlwings {PINNED_XLWINGS}"
        )
        return Finding("xlwings version", f"{version} (imgout expects {PINNED_XLWINGS})", False, problem)
    return Finding("xlwings version", version)


def _unreadable_config() -> bool:
    """Whether the user config exists but is not a regular file (a FIFO, a device, a folder)."""
    try:
        return not stat.S_ISREG(os.stat(user_config_path()).st_mode)
    except OSError:
        return False


def _user_config() -> list[Finding]:
    path = user_config_path()
    if not path.exists():
        return [
            Finding("xlwings user config", f"{path}: none (run: xlwings config create --force)", None),
            Finding("interpreter Excel starts", "pythonw from the PATH (no user config)", None),
        ]
    try:
        settings, empty = read_config(path)
    except ImgoutError as unreadable:
        found = str(unreadable).removeprefix("The xlwings config file ")
        return [Finding("xlwings user config", found, False, unreadable)]
    findings = [Finding("xlwings user config", str(path))]
    if empty:
        problem = ImgoutError(
            f"{path} has {empty} empty line(s): xlwings then fails with 'Could not activate Python COM server'"
        )
        findings.append(Finding("empty lines in it", f"{empty} (remove them)", False, problem))
    findings.append(_interpreter(settings))
    return findings


def _interpreter(settings: dict[str, str]) -> Finding:
    item = "interpreter Excel starts"
    interpreter = settings.get("INTERPRETER_WIN") or settings.get("INTERPRETER")
    conda_path, conda_env = settings.get("CONDA PATH"), settings.get("CONDA ENV")
    if interpreter and interpreter not in ("python", "pythonw"):
        same = os.path.normcase(os.path.abspath(interpreter)) == os.path.normcase(sys.executable)
        if same or sys.platform != "win32":
            return Finding(item, f"INTERPRETER_WIN = {interpreter}", True if same else None)
        problem = ImgoutError(f"Excel starts {interpreter}, not this Python ({sys.executable})")
        return Finding(item, f"INTERPRETER_WIN = {interpreter} (not this Python)", False, problem)
    if conda_path and conda_env:
        return Finding(item, f"conda: CONDA PATH = {conda_path}, CONDA ENV = {conda_env}", None)
    return Finding(
        item, f"{interpreter or 'pythonw'} from the PATH (run: xlwings config create --force)", None
    )


def _functions() -> Finding:
    try:
        udfs = importlib.import_module("xl_addin.udfs")
        count = len(udfs.FUNCTIONS)
    except Exception as exc:  # any failure here is what Excel would meet on "Import Python UDFs"
        detail = " ".join(str(exc).split())[:200]
        problem = ImgoutError(
            f"The Excel functions (xl_addin.udfs) do not import: {type(exc).__name__}: {detail}"
        )
        return Finding("functions (xl_addin.udfs)", f"do not import: {detail}", False, problem)
    return Finding("functions (xl_addin.udfs)", f"import cleanly: {count} IMGOUT_* functions")


def _assumption_path() -> tuple[str | None, str]:
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR], f"{ENV_VAR} environment variable"
    path = user_config_path()
    if path.exists():
        try:
            value = read_config(path)[0].get(ENV_VAR)
        except ImgoutError:  # said once, by the user config's own check
            value = None
        if value:
            return os.path.expandvars(value), f"{ENV_VAR} in {path}"
    return None, f"{ENV_VAR} not set"


def _assumptions() -> Finding:
    from ..model import market_for

    path, where = _assumption_path()
    try:
        market = market_for(path)
    except ImgoutError as exc:
        return Finding("assumption file", f"{path} ({where}): {exc}", False, exc)
    except OSError as exc:  # pragma: no cover - market_for reports files as ImgoutError
        problem = InputError(f"Cannot read the assumption file {path}: {exc.strerror or exc}")
        return Finding("assumption file", f"{path}: {exc}", False, problem)
    shown = path or "embedded default"
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12] if path else ""
    file_hash = f", file sha256 {digest}" if digest else ""
    return Finding(
        "assumption file", f"{shown} ({where}); assumption hash {market.assumption_hash}{file_hash}"
    )


def _dll() -> Finding:  # pragma: no cover - Windows only
    bits = struct.calcsize("P") * 8
    name = f"xlwings{bits}-{PINNED_XLWINGS}.dll"
    folders = [Path(sys.executable).parent, Path(sys.executable).parent.parent]
    found = next((f / name for f in folders if (f / name).is_file()), None)
    if found is None:
        problem = ImgoutError(f"{name} is not beside {sys.executable}: reinstall xlwings into this Python")
        return Finding("xlwings DLL", f"{name} not found in {' or '.join(map(str, folders))}", False, problem)
    return Finding("xlwings DLL", str(found))


def _addin() -> Finding:  # pragma: no cover - Windows only
    appdata = os.environ.get("APPDATA", "")
    addin = Path(appdata) / "Microsoft" / "Excel" / "XLSTART" / "xlwings.xlam"
    if addin.is_file():
        return Finding("xlwings add-in", f"installed: {addin}")
    return Finding("xlwings add-in", f"not installed at {addin} (only needed for the add-in route)", None)
