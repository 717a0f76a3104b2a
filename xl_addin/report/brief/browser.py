"""The Chromium-family browser that prints the PDF brief: found on this machine, started once per process.

:func:`find_browser` looks for Chromium, Chrome or Edge where each platform installs them (or takes the
program ``IMGOUT_BROWSER`` names). :class:`BrowserPrinter` drives it through Playwright for Python with that
program (``executable_path``: Playwright's own browser download is never used), lazily: the browser starts
at the first PDF and prints every later one of the process, so a batch worker pays the start once.

Lifecycle, and why:

- Playwright's sync API is bound to the thread that started it, and a Dask worker runs tasks on threads of
  its own: one thread per browser (a :class:`_Session`) owns Playwright, the browser and its page, and
  every caller hands it work through a queue. Calls from several threads print one after another.
- The browser dies with the process that started it, however that process ends: Playwright's driver
  (a Node process, our child) reads its commands from a pipe; when our process exits (normally,
  ``os._exit`` in a multiprocessing worker, or ``kill -9``) the pipe closes, the driver closes the browser
  and exits. A clean exit also closes the browser explicitly (``atexit``).
- A crashed or hung browser (no PDF within :data:`PRINT_TIMEOUT` seconds) is killed with its processes and
  started again once; if the second browser fails too, :class:`BrowserPrinter` raises
  :class:`~xl_addin.errors.PdfEngineError` with a one-line reason, and the next PDF tries a fresh browser.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import PdfEngineError, SettingsError

BROWSER_SETTING = "IMGOUT_BROWSER"

#: Seconds a PDF may take before the browser is taken for hung (a brief takes a fraction of a second).
PRINT_TIMEOUT = 60.0
#: Seconds the browser may take to start (a cold start on a busy machine takes a few).
START_TIMEOUT = 60.0
#: Seconds a clean close may take before the browser is killed instead.
CLOSE_TIMEOUT = 10.0
#: After this many briefs in a row failed (each with its one restart), a printer gives up for
#: GIVE_UP_SECONDS: the next briefs fail at once with the same reason instead of costing a browser start and
#: a timeout each (a browser that starts but never prints would otherwise cost two minutes a pack).
GIVE_UP_AFTER = 2
GIVE_UP_SECONDS = 300.0

# The network is never needed (the brief's HTML is self-contained) and may be closed: without these the
# browser keeps trying to reach update, sync and safe-browsing servers. As root, Chromium also needs
# --no-sandbox, which Playwright adds itself (chromium_sandbox=False is its default).
LAUNCH_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
)

# Where each platform installs the browsers, most common first. The "old headless shell" (Debian's
# chromium-headless-shell, Google's chrome-headless-shell) prints the same PDF with a third less CPU than
# the full browser in headless mode (0.125 against 0.186 CPU-s a brief, measured): first where it is there.
# Debian's /usr/bin/chromium-headless-shell is a shell script that runs the program without exec (two
# processes for one browser), so the program itself is looked for where Debian installs it beside each
# PATH folder called bin: /usr/bin -> /usr/lib/chromium/chromium-headless-shell.
_LINUX_PROGRAM = ("lib", "chromium", "chromium-headless-shell")
_PATH_COMMANDS = (
    "chrome-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "microsoft-edge",
    "microsoft-edge-stable",
    "chrome",
    "msedge",
)
_WINDOWS_APPS = (
    ("Google", "Chrome", "Application", "chrome.exe"),
    ("Microsoft", "Edge", "Application", "msedge.exe"),
    ("Chromium", "Application", "chrome.exe"),
)
_WINDOWS_ROOTS = ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")
_MAC_APPS = (
    "Google Chrome.app/Contents/MacOS/Google Chrome",
    "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    "Chromium.app/Contents/MacOS/Chromium",
)


# ------------------------------------------------------------------------------------------ finding it


@dataclass(frozen=True)
class BrowserSearch:
    """Where a browser was found (``path``), or None and where it was looked for (``looked``)."""

    path: Path | None
    looked: str


def find_browser(environ: Mapping[str, str] | None = None, platform: str | None = None) -> BrowserSearch:
    """Find Chromium, Chrome or Edge: the program ``IMGOUT_BROWSER`` names, else where the platform installs it.

    Linux: the commands ``chromium``, ``google-chrome``, ``microsoft-edge`` ... on ``PATH``. Windows: Chrome,
    Edge or Chromium under Program Files or the user's AppData (every Windows 10/11 has Edge). macOS: the
    apps in /Applications or ~/Applications. ``IMGOUT_BROWSER`` (a path or a command on ``PATH``) that names
    no program is a :class:`~xl_addin.errors.SettingsError`, not a silent fallback.
    """
    env = os.environ if environ is None else environ
    platform = platform or sys.platform
    named = env.get(BROWSER_SETTING, "").strip()
    if named:
        found = _program(named, env)
        if found is None:
            raise SettingsError(
                f"{BROWSER_SETTING}={named!r} is not a program (no such file, or not executable); "
                "expected the path of Chromium, Chrome or Edge"
            )
        return BrowserSearch(found, BROWSER_SETTING)
    candidates = [c for c in _install_locations(env, platform) if c.is_file() and os.access(c, os.X_OK)]
    if candidates:
        return BrowserSearch(candidates[0], "")
    commands = [c for c in _PATH_COMMANDS if platform.startswith("linux") or c in ("chrome", "msedge")]
    for command in commands:
        found = _program(command, env)
        if found is not None:
            return BrowserSearch(found, "")
    where = "on PATH (" + ", ".join(commands) + ")"
    if platform == "win32":
        where = "under Program Files and AppData, and " + where
    elif platform == "darwin":
        where = "in /Applications and ~/Applications, and " + where
    return BrowserSearch(None, where)


def _program(name: str, env: Mapping[str, str]) -> Path | None:
    """A program given as a path or a command on the environment's PATH, if it exists and can run."""
    path = Path(name).expanduser()
    if path.is_absolute() or os.sep in name or (os.altsep and os.altsep in name):
        return path if path.is_file() and os.access(path, os.X_OK) else None
    found = shutil.which(name, path=env.get("PATH", ""))
    return Path(found) if found else None


def _install_locations(env: Mapping[str, str], platform: str) -> list[Path]:
    """Where Windows and macOS install the browsers; on Linux, the old headless shell outside PATH (the
    other browsers are commands on PATH)."""
    if platform == "win32":
        roots = [env[r] for r in _WINDOWS_ROOTS if env.get(r)]
        return [Path(root, *app) for root in roots for app in _WINDOWS_APPS]
    if platform == "darwin":
        home = Path(env.get("HOME", "~")).expanduser()
        return [base / app for base in (Path("/Applications"), home / "Applications") for app in _MAC_APPS]
    if platform.startswith("linux"):
        folders = [Path(f) for f in env.get("PATH", "").split(os.pathsep) if f]
        return [folder.parent.joinpath(*_LINUX_PROGRAM) for folder in folders if folder.name == "bin"]
    return []


# ------------------------------------------------------------------------------------------ one browser


class BrowserFailure(Exception):
    """The browser crashed, hung or could not start; ``str()`` is the one-line reason."""


@dataclass(frozen=True)
class PrintJob:
    """One document to print: the HTML (with its ``@page`` rules) and the print options."""

    html: str
    tagged: bool = True


class _Session:
    """One running browser and its Playwright driver, owned by a thread of its own for its whole life."""

    def __init__(self, executable: Path) -> None:
        self.executable = executable
        self.version = ""
        self.pids: tuple[int, ...] = ()  # the driver and the browser, for killing them
        self.profile: Path | None = None  # the browser's temporary profile folder (Playwright's)
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future[Any]] | None] = queue.Queue()
        self._started: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name="imgout-pdf-browser", daemon=True)
        self._thread.start()
        try:
            self._started.result(timeout=START_TIMEOUT + 5)
        except FutureTimeout:
            self.kill()
            raise BrowserFailure(f"did not start within {START_TIMEOUT:.0f} s") from None

    def _run(self) -> None:
        """The session's thread: start Playwright and the browser, then print what the queue brings."""
        try:
            from playwright.sync_api import sync_playwright

            playwright = sync_playwright().start()
        except Exception as exc:
            self._started.set_exception(BrowserFailure(f"Playwright did not start: {_reason(exc)}"))
            return
        try:
            browser = playwright.chromium.launch(
                executable_path=str(self.executable), args=list(LAUNCH_ARGS), timeout=START_TIMEOUT * 1000
            )
            self.version = browser.version
            self.pids = _driver_and_browser(browser)
            self.profile = _profile_folder(self.pids[-1])
            page = browser.new_context(offline=True).new_page()
        except Exception as exc:
            self._started.set_exception(BrowserFailure(f"it did not start: {_reason(exc)}"))
            _quietly(playwright.stop)
            return
        self._started.set_result(None)
        while (item := self._jobs.get()) is not None:
            work, done = item
            try:
                done.set_result(work(page))
            except Exception as exc:
                done.set_exception(exc)
        _quietly(browser.close)
        _quietly(playwright.stop)

    def call(self, work: Callable[[Any], Any], timeout: float) -> Any:
        """Run ``work(page)`` on the session's thread; BrowserFailure if it fails or takes over ``timeout``."""
        done: Future[Any] = Future()
        if not self._thread.is_alive():
            raise BrowserFailure("its thread has stopped")
        self._jobs.put((work, done))
        try:
            return done.result(timeout=timeout)
        except FutureTimeout:
            raise BrowserFailure(f"no answer within {timeout:.0f} s (hung)") from None
        except Exception as exc:
            raise BrowserFailure(_reason(exc)) from None

    def close(self) -> None:
        """Close the browser and the driver cleanly; kill them if that takes too long."""
        self._jobs.put(None)
        self._thread.join(CLOSE_TIMEOUT)
        if self._thread.is_alive():
            self.kill()

    def kill(self) -> None:
        """Kill the browser with every process it started; the driver too if it does not then stop."""
        *driver, browser = self.pids or (0,)
        _kill_tree(browser)
        self._jobs.put(None)  # the thread closes Playwright, whose driver then exits by itself
        self._thread.join(CLOSE_TIMEOUT / 2)
        if self._thread.is_alive() and driver:
            _kill_tree(driver[0])
        if (
            self.profile is not None
        ):  # Playwright removes it when it closes a browser, not always after a kill
            shutil.rmtree(self.profile, ignore_errors=True)


def _kill_tree(pid: int) -> None:
    """Kill a process and every process it started; wait (5 s at most) until they are gone."""
    if not pid or pid == os.getpid():
        return
    try:
        import psutil

        process = psutil.Process(pid)
        victims = [*process.children(recursive=True), process]
    except Exception:  # psutil missing or the process already gone
        return
    for victim in victims:
        with contextlib.suppress(psutil.Error):
            victim.kill()
    deadline = time.monotonic() + 5
    while any(_alive(v) for v in victims) and time.monotonic() < deadline:
        time.sleep(0.05)


def _alive(process: Any) -> bool:
    """Whether a process still runs (a zombie, killed but not yet reaped by its parent, does not)."""
    import psutil

    try:
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _driver_and_browser(browser: Any) -> tuple[int, ...]:
    """The process ids of Playwright's driver and of the browser (the browser reports its own)."""
    session = browser.new_browser_cdp_session()
    try:
        processes = session.send("SystemInfo.getProcessInfo")["processInfo"]
    finally:
        session.detach()
    pid = next(int(p["id"]) for p in processes if p["type"] == "browser")
    try:
        import psutil

        return (psutil.Process(pid).ppid(), pid)
    except Exception:  # psutil missing or the process gone: killing falls back to what Playwright does
        return (pid,)


def _profile_folder(pid: int) -> Path | None:
    """The ``--user-data-dir`` the browser runs with, if it can be read."""
    try:
        import psutil

        arguments = psutil.Process(pid).cmdline()
    except Exception:
        return None
    found = [a.split("=", 1)[1] for a in arguments if a.startswith("--user-data-dir=")]
    return Path(found[0]) if found else None


def _reason(exc: BaseException) -> str:
    """An exception as one short line (Playwright's messages carry a call log on further lines)."""
    text = " ".join(str(exc).split("\n")[0].split()) or type(exc).__name__
    return text[:300]


def _quietly(action: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):
        action()


# ------------------------------------------------------------------------------------------ the printer


class BrowserPrinter:
    """Prints HTML to PDF with one browser, started at the first PDF and restarted once if it fails.

    Thread-safe: callers from several threads print one after another on the one browser.
    """

    def __init__(self, executable: Path) -> None:
        self.executable = Path(executable)
        self.starts = 0  # browsers started by this printer (a batch worker should start one)
        self.printed = 0
        self._session: _Session | None = None
        self._lock = threading.Lock()
        self._failed_in_a_row = 0
        self._given_up: tuple[float, str] | None = None  # (until, why) while this printer has given up

    @property
    def version(self) -> str:
        """The browser's version once it has started (``156.0.8078.108``), else ''."""
        return self._session.version if self._session is not None else ""

    @property
    def pids(self) -> tuple[int, ...]:
        """Process ids of the driver and the browser while it runs."""
        return self._session.pids if self._session is not None else ()

    def print_pdf(self, job: PrintJob) -> bytes:
        """The PDF of ``job.html`` (page size and margins from its ``@page`` rules, backgrounds printed).

        A browser that crashes, hangs or does not start is killed and started once more; if that fails too,
        :class:`~xl_addin.errors.PdfEngineError` says why in one line.
        """
        with self._lock:
            if self._given_up is not None:
                until, why = self._given_up
                if time.monotonic() < until:
                    raise PdfEngineError(why)
                self._given_up = None
            failures: list[str] = []
            for _attempt in range(2):
                try:
                    data: bytes = self._running().call(lambda page: _print(page, job), PRINT_TIMEOUT)
                except BrowserFailure as exc:
                    failures.append(str(exc))
                    self._discard()
                    continue
                self.printed += 1
                self._failed_in_a_row = 0
                return data
            message = (
                f"The browser {self.executable} could not print the PDF brief, twice: "
                f"{failures[0]}; after a restart: {failures[1]}"
            )
            self._failed_in_a_row += 1
            if self._failed_in_a_row >= GIVE_UP_AFTER:
                self._given_up = (
                    time.monotonic() + GIVE_UP_SECONDS,
                    f"Not tried: the browser {self.executable} failed on the last {self._failed_in_a_row} "
                    f"PDF briefs ({failures[-1]}); it is tried again after {GIVE_UP_SECONDS:.0f} s",
                )
            raise PdfEngineError(message)

    def _running(self) -> _Session:
        if self._session is None:
            self.starts += 1
            self._session = _Session(self.executable)
        return self._session

    def _discard(self) -> None:
        """Kill the current browser (crashed or hung): the next PDF starts a new one."""
        if self._session is not None:
            self._session.kill()
            self._session = None

    def close(self) -> None:
        """Close the browser (the next PDF starts a new one)."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None


def _print(page: Any, job: PrintJob) -> bytes:
    """Runs on the session's thread: load the document and print it."""
    page.set_content(job.html, wait_until="load", timeout=PRINT_TIMEOUT * 1000)
    return bytes(page.pdf(prefer_css_page_size=True, print_background=True, tagged=job.tagged))


@contextlib.contextmanager
def printing_with(executable: Path) -> Iterator[BrowserPrinter]:
    """A printer for the block, its browser closed at the end (for scripts and tests)."""
    printer = BrowserPrinter(executable)
    try:
        yield printer
    finally:
        printer.close()
