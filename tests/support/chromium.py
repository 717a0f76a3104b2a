"""Headless Chromium driven over the DevTools protocol, for tests that look at pages as a phone would.

The protocol runs over a pair of pipes (``--remote-debugging-pipe``: Chromium reads commands on its file
descriptor 3 and writes answers on 4, each message JSON ended by a NUL byte), so no port, no websocket
library and nothing left listening. Device emulation (``Emulation.setDeviceMetricsOverride``) gives a
viewport of any width, 320 px included, which ``--window-size`` cannot.

    with Browser() as browser:
        page = browser.open(Path("brief.html"), width=375, height=667, mobile=True)
        page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(Path("brief-375.png"))
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
)
TIMEOUT = 60.0


class BrowserError(RuntimeError):
    """Chromium did not start, went away, or answered a command with an error."""


def chromium_path() -> str | None:
    """The Chromium (or Chrome) executable on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _high_fd(fd: int) -> int:
    """A copy of `fd` numbered 10 or more, so the shell can put the pair on 3 and 4 without clobbering."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return copy


class Browser:
    """One headless Chromium process and its DevTools pipe; a context manager that stops it."""

    def __init__(self, executable: str | None = None) -> None:
        self.executable = executable or chromium_path()
        if self.executable is None:
            raise BrowserError(
                "Chromium is not installed (looked for chromium, chromium-browser, google-chrome)"
            )
        self._ids = itertools.count(1)
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._profile = tempfile.TemporaryDirectory(prefix="imgout-chromium-")
        commands_read, commands_write = (_high_fd(fd) for fd in os.pipe())
        answers_read, answers_write = (_high_fd(fd) for fd in os.pipe())
        # Bash moves (dash takes one-digit descriptors only) the two pipe ends to descriptors 3 and 4, where Chromium expects them.
        script = f'exec "$0" "$@" 3<&{commands_read} 4>&{answers_write} {commands_read}<&- {answers_write}>&-'
        self._process = subprocess.Popen(
            ["/bin/bash", "-c", script, self.executable, *ARGS, f"--user-data-dir={self._profile.name}"],
            pass_fds=(commands_read, answers_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(answers_write)
        self._out = os.fdopen(commands_write, "wb", buffering=0)
        self._in = answers_read

    @property
    def pid(self) -> int:
        """The browser's process id (its renderers are its children)."""
        return self._process.pid

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Ask Chromium to quit, then make sure it has."""
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._out.close()
        os.close(self._in)
        self._profile.cleanup()

    # -------------------------------------------------------------------------------------- protocol

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        """Send one command and return its result (events that arrive meanwhile are kept for `wait_for`)."""
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode("utf-8") + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == number:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error'].get('message')}")
                return answer.get("result", {})
            if "method" in answer:
                self._events.append(answer)

    def wait_for(self, method: str, session: str | None = None) -> dict[str, Any]:
        """The next event called `method` (for the session, when given)."""
        while True:
            for i, event in enumerate(self._events):
                if event["method"] == method and (session is None or event.get("sessionId") == session):
                    return self._events.pop(i)
            self._events.append(self._read())

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise BrowserError(f"Chromium did not answer within {TIMEOUT:.0f} s")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise BrowserError(f"Chromium closed its DevTools pipe (exit code {self._process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    # -------------------------------------------------------------------------------------- pages

    def open(self, path: Path, *, width: int, height: int, mobile: bool, scale: float = 1.0) -> Page:
        """A new tab showing the file at `path`, laid out in a viewport `width` x `height` CSS px.

        ``mobile`` emulates a phone: the page's ``<meta name="viewport">`` applies and text is not
        inflated beyond what the page asks for.
        """
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        page.send("Page.enable")
        page.resize(width, height, mobile=mobile, scale=scale)
        page.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_for("Page.loadEventFired", session)
        return page


class Page:
    """One tab of a :class:`Browser`."""

    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser, self.target, self.session = browser, target, session
        self.width = self.height = 0
        self.mobile = False
        self.scale = 1.0

    def send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """A DevTools command for this tab."""
        return self.browser.send(method, params, self.session)

    def resize(self, width: int, height: int, *, mobile: bool, scale: float = 1.0) -> None:
        """Emulate a screen of `width` x `height` CSS px (a phone when `mobile`)."""
        self.width, self.height, self.mobile, self.scale = width, height, mobile, scale
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-like values only)."""
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise BrowserError(
                f"JavaScript error: {result['exceptionDetails'].get('text')} in {expression[:80]}"
            )
        return result["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """Save a PNG of the viewport, or of the whole page's height when `full_page`."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)"))
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        """Close the tab."""
        self.browser.send("Target.closeTarget", {"targetId": self.target})
