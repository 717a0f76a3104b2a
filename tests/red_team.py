"""Red team: hostile cases against every entry point of imgout, each with what must happen, as a table.

    python -m tests.red_team            # from the repository root; exit code 0 when every case held
    python -m tests.red_team --only smtp

Entry points: the command line (every command), the Excel functions (through xlwings' own conversion
layer, tests/support/xlwings_harness.py), every YAML file (assumptions, profile, clients, settings), the SMTP
path (a real aiosmtpd server on 127.0.0.1), crashes (``kill -9`` of real processes), concurrency (two
runs on one ledger), the send ledger itself, secrets, and files that cannot be written (a real full
tmpfs when it can be mounted). A case is a row: what was done, what must happen, what happened.

Most command-line cases run ``imgout``'s ``main`` in this process (fast); a case that could hang or eat
memory runs in a child process with a time limit and a memory limit (``RLIMIT_AS``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from PIL import Image  # noqa: E402

from tests.support import delivery_support as support  # noqa: E402
from tests.support import xlwings_harness as xh  # noqa: E402
from tests.support.smtp_server import LocalSMTPServer  # noqa: E402

PASSWORD = "Zebra-zq7x-secret!"
UNICODE_PASSWORD = "Pässwörd-ñ-秘密-zq7x"
USER = "mailer@imgout.example"
MEMORY_LIMIT = 1024 * 2**20


# ------------------------------------------------------------------------------------------ what a case is


@dataclass
class Observed:
    """What an entry point did: exit code (or None), what it printed, and any extra facts checked."""

    code: int | None
    out: str = ""
    err: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        head = f"exit {self.code}" if self.code is not None else "returned"
        text = (self.err.strip().splitlines() or self.out.strip().splitlines() or [""])[-1]
        extra = "; ".join(f"{k}={v}" for k, v in self.facts.items())
        return " ".join(x for x in (head, text[:110], extra) if x)


@dataclass
class Case:
    family: str
    name: str
    expected: str
    run: Callable[[], Observed]
    held: Callable[[Observed], bool]
    #: Whether the case starts real processes, servers or a browser (pytest marks it slow).
    slow: bool = False

    @property
    def label(self) -> str:
        """``[family] name``: how pytest and the table name the case."""
        return f"[{self.family}] {self.name}"


CASES: list[Case] = []
#: Families whose every case runs real processes, an SMTP server or a browser.
SLOW_FAMILIES = {
    "SMTP",
    "crashes and concurrency",
    "send ledger",
    "full disk",
    "secrets",
    "deadlines",
    "privacy",
}


def case(
    family: str, name: str, expected: str, held: Callable[[Observed], bool], *, slow: bool | None = None
) -> Callable[..., Any]:
    def register(run: Callable[[], Observed]) -> Callable[[], Observed]:
        CASES.append(
            Case(family, name, expected, run, held, family in SLOW_FAMILIES if slow is None else slow)
        )
        return run

    return register


def held_by(c: Case) -> tuple[Observed, bool]:
    """Run one case: what happened and whether it held (an exception in the case itself does not hold)."""
    try:
        observed = c.run()
        return observed, bool(c.held(observed))
    except Exception:
        return Observed(None, err=traceback.format_exc().splitlines()[-1]), False


def clean(o: Observed) -> bool:
    """No traceback, no internal error, no raw control character on the terminal."""
    text = o.out + o.err
    return (
        "Traceback" not in text
        and "internal error" not in text
        and "Exception ignored" not in text
        and not any(ch in text for ch in "\x1b\x00\x07\x9b\u202e")
    )


def one_line(o: Observed, code: int, *said: str) -> bool:
    lines = o.err.splitlines()
    return (
        o.code == code
        and len(lines) == 1
        and lines[0].startswith("imgout: error: ")
        and all(s in lines[0] for s in said)
        and clean(o)
    )


def exits(code: int, *said: str) -> Callable[[Observed], bool]:
    return lambda o: one_line(o, code, *said)


def ok(*said: str) -> Callable[[Observed], bool]:
    return lambda o: o.code == 0 and all(s in o.out + o.err for s in said) and clean(o)


# ------------------------------------------------------------------------------------------ running imgout


#: Where the cases write (a fresh temporary folder, made by ``main`` and removed at the end).
WORK = Path(tempfile.gettempdir()) / "imgout-red-team-not-started"


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith(("IMGOUT_", "XDG_STATE_HOME"))]:
        del os.environ[key]
    os.environ["XDG_STATE_HOME"] = str(WORK / "state")
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def imgout(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Observed:
    """``imgout ARGS`` in this process (``main`` as the console script calls it)."""
    from xl_addin import cli

    out, err = io.StringIO(), io.StringIO()
    code: int | None = 0
    with (
        environment(env or {}),
        contextlib.chdir(cwd or WORK),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            cli.main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:  # anything escaping main is a failure of the promise
            err.write(traceback.format_exc())
            code = None
    return Observed(code, out.getvalue(), err.getvalue())


def _limits(memory: int | None, limit: Callable[[], None] | None = None) -> Callable[[], None]:
    def apply() -> None:
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if limit is not None:
            limit()

    return apply


def child(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    memory: int | None = MEMORY_LIMIT,
    limit: Callable[[], None] | None = None,
) -> Observed:
    """``imgout ARGS`` as a real process, with a time and memory limit."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("IMGOUT_")}
    full.update({"XDG_STATE_HOME": str(WORK / "state"), "COLUMNS": "200"})
    full.update(env or {})
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "xl_addin", *args],
            env=full,
            cwd=WORK,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_limits(memory, limit),
        )
    except subprocess.TimeoutExpired:
        return Observed(None, err=f"still running after {timeout} s", facts={"hung": True})
    return Observed(
        done.returncode, done.stdout, done.stderr, {"seconds": round(time.monotonic() - started, 1)}
    )


def write(name: str, text: str | bytes) -> Path:
    path = WORK / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def clients_file(name: str, entries: list[dict[str, Any]]) -> Path:
    return write(name, yaml.safe_dump({"clients": entries}, allow_unicode=True, sort_keys=False))


def bomb(key: str) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
    return "\n".join(lines) + f"\n{key}: *l8\n"


def png(name: str) -> Path:
    path = WORK / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (10, 20, 30)).save(path, "PNG")
    return path


# ------------------------------------------------------------------------------------------ the command line


def _cli_cases() -> None:
    years = [
        ("²⁰³⁰", "superscript digits"),
        ("2030.5", "a fraction"),
        ("-1", "a negative number"),
        ("1e309", "a float overflow"),
        ("9" * 5000, "5000 digits"),
        ("nan", "nan"),
        ("inf", "inf"),
        ("0x7EE", "hexadecimal"),
        ("2030\x00", "a NUL byte"),
        ("MMXXX", "roman numerals"),
        ("2009", "before the first year"),
        ("2051", "after the last year"),
        (" ", "blank"),
    ]
    for year, what in years:
        case(
            "command line",
            f"forecast year: {what}",
            "exit 2, one line naming the year",
            exits(2, "Invalid year"),
        )(lambda year=year: imgout("forecast", "--", year))
    case(
        "command line", "forecast year: Arabic-Indic digits ٢٠٣٠", "exit 0 (a year all the same)", ok("27.88")
    )(lambda: imgout("forecast", "٢٠٣٠"))
    for option, value, said in [
        ("--region", "Mars", "Invalid region"),
        ("--region", "x" * 10_000, "Invalid region"),
        ("--region", "APAC\x1b[2J", "Invalid region"),
        ("--region", "[/bold]", "Invalid region"),
        ("--segment", "CT\x00", "Invalid segment"),
        ("--segment", "modality:Mars", "Invalid "),
        ("--scenario", "bul", "did you mean 'bull'"),
        ("--scenario", "s" * 5000, "Invalid scenario"),
        ("--set", "cagr=abc", "cagr"),
        ("--set", "cagr=1e400", "cagr"),
        ("--set", "paths=2000000", "200000"),
        ("--set", "paths=-1", "paths"),
        ("--set", "seed=" + "9" * 400, "seed"),
        ("--set", "share.Mars=0.1", "Mars"),
        ("--set", "=", "Invalid"),
        ("--set", "k" * 5000 + "=1", "Invalid"),
        ("--assumptions", "/nonexistent/a.yaml", "not found"),
    ]:
        case(
            "command line",
            f"forecast {option} {value[:30]!r}{'…' if len(value) > 30 else ''}",
            "exit 2, one line",
            exits(2, said),
        )(lambda option=option, value=value: imgout("forecast", "2030", option, value))
    case("command line", "series with the years reversed", "exit 2, one line", exits(2))(
        lambda: imgout("series", "2030", "2020")
    )
    case("command line", "cagr over one year", "exit 2, one line", exits(2))(
        lambda: imgout("cagr", "2030", "2030")
    )
    case("command line", "breakdown of an unknown dimension", "exit 2, one line", exits(2, "dimension"))(
        lambda: imgout("breakdown", "2030", "planets")
    )
    case("command line", "an unknown command", "exit 2 (usage)", lambda o: o.code == 2 and clean(o))(
        lambda: imgout("explode")
    )
    case("command line", "--jobs 0", "exit 2 (usage)", lambda o: o.code == 2 and clean(o))(
        lambda: imgout("batch", "c.yaml", "--jobs", "0")
    )
    case("command line", "--jobs 100000", "exit 2 (usage)", lambda o: o.code == 2 and clean(o))(
        lambda: imgout("batch", "c.yaml", "--jobs", "100000")
    )
    case(
        "command line",
        "--scheduler 'not a url!!'",
        "exit 2 at once, one line",
        lambda o: one_line(o, 2, "Invalid Dask scheduler address") and o.facts["seconds"] < 15,
        slow=True,
    )(lambda: child("batch", "c.yaml", "--scheduler", "not a url!!"))
    case("command line", "--scheduler with --jobs 2", "exit 2, one line", exits(2, "not both"))(
        lambda: imgout("batch", "c.yaml", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:9")
    )
    case(
        "command line", "--edition with an escape character", "exit 2, one line", exits(2, "Invalid edition")
    )(lambda: imgout("send", "--client", "A", "--to", "a@x.example", "--edition", "x\x1b"))
    case("command line", "send without a client", "exit 2, one line", exits(2, "Missing --client"))(
        lambda: imgout("send", "--to", "a@x.example")
    )
    case("command line", "send --to with a header injection", "exit 2, nothing sent", exits(2, "line break"))(
        lambda: imgout("send", "--client", "A", "--to", "a@x.example\r\nBcc: all@evil.example", "--no-pdf")
    )
    case("command line", "send --client with an escape sequence", "exit 2, one line", exits(2, "U+001B"))(
        lambda: imgout("send", "--client", "A\x1b[31mB", "--to", "a@x.example", "--dry-run", "eml")
    )
    case("command line", "workbook --client of 5000 characters", "exit 2, one line", exits(2, "at most 300"))(
        lambda: imgout("workbook", "--client", "W" * 5000, "--out", "w.xlsx")
    )
    case("command line", "workbook --out without .xlsx", "exit 2, one line", exits(2, ".xlsx"))(
        lambda: imgout("workbook", "--client", "A", "--out", "w.txt")
    )
    case("command line", "brief --format exe", "exit 2, one line", exits(2, "Invalid format"))(
        lambda: imgout("brief", "--client", "A", "--format", "exe", "--out", "b")
    )
    case("command line", "brief --out onto a file", "exit 2, one line", exits(2))(
        lambda: (
            write("a-file", "x"),
            imgout("brief", "--client", "A", "--format", "txt", "--out", "a-file"),
        )[1]
    )
    name = "n" * 300
    for args in (
        ["workbook", "--client", "A", "--out", f"{name}.xlsx"],
        ["brief", "--client", "A", "--format", "txt", "--out", name],
        ["excel", "--out", f"{name}.xlsm"],
        ["demo", "--out", name],
        ["send", "--client", "A", "--to", "a@x.example", "--no-pdf", "--dry-run", name],
    ):
        case(
            "command line",
            f"{args[0]} with a 300-character file name",
            "exit 2, one line",
            exits(2, "File name too long"),
        )(lambda args=args: imgout(*args, env={"IMGOUT_LOG": str(WORK / "log.jsonl")}))
    case("command line", "excel --out /proc/x.xlsm", "one line, no traceback", exits(2, "/proc/x.xlsm"))(
        lambda: imgout("excel", "--out", "/proc/x.xlsm")
    )
    case("command line", "workbook --out /proc/x.xlsx", "one line, no traceback", exits(2, "/proc/x.xlsx"))(
        lambda: imgout("workbook", "--client", "A", "--out", "/proc/x.xlsx")
    )
    case(
        "command line",
        "workbook --out into a folder that cannot be written",
        "exit 1, one line",
        lambda o: one_line(o, 1, "Read-only file system") or one_line(o, 1, "Permission denied"),
    )(_read_only_folder)


def _read_only_folder() -> Observed:
    """A folder imgout may not write to: a read-only tmpfs (root writes through a folder's mode), or,
    for anyone else, a folder without write permission."""
    folder = WORK / "read-only"
    folder.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        folder.chmod(0o555)
    try:
        return imgout("workbook", "--client", "A", "--out", str(folder / "w.xlsx"))
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)
        else:
            folder.chmod(0o755)


# ------------------------------------------------------------------------------------------ YAML files


def _yaml_cases() -> None:
    hostile: list[tuple[str, Callable[[str], str | bytes], str]] = [
        ("an alias bomb", lambda key: bomb(key), "aliases expand"),
        ("a key given twice", lambda key: f"{key}: a\n{key}: b\n", "given twice"),
        ("a 5000-digit integer", lambda key: f"{key}: {'9' * 5000}\n", "more than 30 digits"),
        ("a 200,000-character text", lambda key: f"{key}: {'x' * 200_000}\n", "at most 100,000"),
        ("a recursive alias", lambda key: f"{key}: &a [*a]\n", "refers to the value that contains it"),
        ("nesting 80 deep", lambda key: f"{key}: {'[' * 80}{']' * 80}\n", "levels deep"),
        (
            "a python object tag",
            lambda key: f"{key}: !!python/object/apply:os.system [id]\n",
            "not valid YAML",
        ),
        ("bytes that are not UTF-8", lambda key: b"\xff\xfe\x00garbage", "not UTF-8"),
        ("a syntax error", lambda key: f"{key}: [unclosed\n", "not valid YAML"),
        ("a list at the top", lambda key: "- a\n- b\n", "expected a mapping"),
        ("a 2 MB file", lambda key: "# pad\n" * 350_000, "larger than 1,048,576 bytes"),
    ]
    kinds: dict[str, tuple[str, Callable[[Path], list[str]]]] = {
        "assumptions": ("note", lambda p: ["forecast", "2030", "--assumptions", str(p)]),
        "profile": ("units", lambda p: ["workbook", "--profile", str(p), "--client", "A", "--out", "w.xlsx"]),
        "clients": ("clients", lambda p: ["batch", str(p), "--no-pdf", "--dry-run", "eml"]),
        "settings": (
            "smtp_host",
            lambda p: ["batch", str(_good_clients()), "--settings", str(p), "--dry-run", "eml"],
        ),
    }
    for kind, (key, command) in kinds.items():
        for what, content, said in hostile:
            if kind == "assumptions" and what == "a list at the top":
                said = "expected a mapping"

            def run(
                kind: str = kind,
                key: str = key,
                content: Callable[[str], str | bytes] = content,
                what: str = what,
                command: Callable[[Path], list[str]] = command,
            ) -> Observed:
                path = write(f"yaml/{kind}-{what.replace(' ', '-')}.yaml", content(key))
                args = command(path)
                if what == "an alias bomb":
                    return child(*args)  # in a child process with a memory limit
                return imgout(*args)

            case(
                "YAML files",
                f"{kind} file: {what}",
                "exit 2, one line naming the file",
                exits(2, said),
                slow=what == "an alias bomb",
            )(run)
        for special, said in (("/dev/zero", "is not a regular file"), ("fifo", "is not a regular file")):

            def run_special(
                kind: str = kind, special: str = special, command: Callable[[Path], list[str]] = command
            ) -> Observed:
                path = Path(special)
                if special == "fifo":
                    path = WORK / f"yaml/{kind}.fifo"
                    if not path.exists():
                        os.mkfifo(path)
                return child(*command(path), timeout=60)

            case(
                "YAML files",
                f"{kind} file: {special}",
                "exit 2 at once (never read, never hangs)",
                exits(2, said),
                slow=True,
            )(run_special)


_GOOD: list[Path] = []


def _good_clients() -> Path:
    if not _GOOD:
        _GOOD.append(clients_file("good-clients.yaml", [{"name": "Acme", "to": ["cfo@acme.example"]}]))
    return _GOOD[0]


# ------------------------------------------------------------------------------------------ clients and profiles


def _profile_files() -> None:
    """The logos the profile cases name (written when a case runs: WORK is set by then)."""
    write("profiles/notes.png", "not an image")
    png("profiles/inside.png")
    if not (WORK / "outside.png").exists():
        png("outside.png")
    link = WORK / "profiles" / "link.png"
    if not link.is_symlink():
        link.symlink_to(WORK / "outside.png")


def _profile_cases() -> None:
    def batch_of(entries: list[dict[str, Any]], name: str = "c.yaml") -> Observed:
        _profile_files()
        path = clients_file(f"profiles/{name}", entries)
        return imgout(
            "batch",
            str(path),
            "--no-pdf",
            "--dry-run",
            str(WORK / "eml-profiles"),
            env={"IMGOUT_LOG": str(WORK / "log.jsonl")},
        )

    for name, said in [
        ("Acme\x1b[31mRed", "U+001B"),
        ("Acme\x00Null", "U+0000"),
        ("Acme\x7fDel", "U+007F"),
        ("Acme\x9bCSI", "U+009B"),
        ("Acme\u202eexe.pdf", "U+202E"),
        ("A" * 301, "at most 300"),
        ("", "a client name (text) is required"),
    ]:
        case(
            "clients and profiles",
            f"client name {name[:12]!r}",
            "exit 2, one line (nothing written)",
            exits(2, said),
        )(lambda name=name: batch_of([{"name": name, "to": ["a@x.example"]}]))
    for key, value, said in [
        ("brand_colour", ["a", "b"], "expected text, got a list"),
        ("brand_colour", "red", "is not a colour"),
        ("units", {"bn": 1}, "expected text, got a mapping"),
        ("paper", "A0", "is not allowed"),
        ("scenario", "bul", "Invalid scenario"),
        ("focus_regions", ["Mars"], "Invalid region"),
        ("focus_regions", ["APAC\x07"], "U+0007"),
        ("notes", "n" * 6000, "at most 5,000"),
        ("first_year", True, "expected a year"),
        ("to", "cfo@acme.example\r\nBcc: x@evil.example", None),
        ("to", [f"r{n}@x.example" for n in range(101)], "at most 100"),
        ("colour", "red", "unknown key"),
        ("logo", "../../../../usr/share/pixmaps/debian-logo.png", "is outside the folder"),
        ("logo", "/usr/share/pixmaps/debian-logo.png", "is outside the folder"),
        ("logo", "/dev/zero", "is outside the folder"),
        ("logo", "notes.png", "is not a PNG or JPEG image"),
    ]:
        if key == "to" and said is None:  # a header injection: the client is refused, the run goes on
            case(
                "clients and profiles",
                "to: with CR/LF and a Bcc header",
                "refused, nothing written",
                lambda o: o.code == 1 and "refused: Invalid To address" in o.err and clean(o),
            )(lambda value=value: batch_of([{"name": "A", "to": [value]}], "inject.yaml"))
            continue
        case("clients and profiles", f"{key}: {str(value)[:30]!r}", "exit 2, one line", exits(2, said or ""))(
            lambda key=key, value=value: batch_of([{"name": "A", "to": ["a@x.example"], key: value}])
        )
    case(
        "clients and profiles",
        "logo: a link inside the folder that leads out",
        "exit 2, one line",
        exits(2, "is outside the folder"),
    )(lambda: batch_of([{"name": "A", "to": ["a@x.example"], "logo": "link.png"}]))

    def relative_logo() -> Observed:
        _profile_files()
        clients_file("profiles/logo.yaml", [{"name": "Logo Co", "to": ["a@x.example"], "logo": "inside.png"}])
        return imgout(
            "batch",
            "profiles/logo.yaml",
            "--no-pdf",
            "--dry-run",
            "eml-logo",
            env={"IMGOUT_LOG": str(WORK / "log.jsonl")},
        )

    case(
        "clients and profiles",
        "logo: beside a clients file named relatively",
        "exit 0, the logo found once",
        ok("written"),
    )(relative_logo)
    case(
        "clients and profiles",
        "two names one file apart only in case",
        "exit 2, one line",
        exits(2, "letter case aside"),
    )(
        lambda: batch_of(
            [
                {"name": "Acme-Radiology", "to": ["a@x.example"]},
                {"name": "acme radiology", "to": ["b@x.example"]},
            ]
        )
    )
    case("clients and profiles", "the same client twice", "exit 2, one line", exits(2, "the same client as"))(
        lambda: batch_of([{"name": "Acme", "to": ["a@x.example"]}, {"name": "ACME", "to": ["b@x.example"]}])
    )
    for device in ("CON", "aux", "NUL", "COM1", "LPT9"):
        case(
            "clients and profiles",
            f"client named {device}",
            "written as a safe file name",
            lambda o, d=device: o.code == 0 and (WORK / "eml-dev" / f"{d}-client.eml").exists() and clean(o),
        )(
            lambda device=device: imgout(
                "batch",
                str(clients_file(f"profiles/{device}.yaml", [{"name": device, "to": ["a@x.example"]}])),
                "--no-pdf",
                "--dry-run",
                str(WORK / "eml-dev"),
                env={"IMGOUT_LOG": str(WORK / "log.jsonl")},
            )
        )
    case(
        "clients and profiles",
        "client named [/bold] (rich markup)",
        "exit 0, shown as written",
        ok("[/bold]"),
    )(lambda: batch_of([{"name": "[/bold]", "to": ["a@x.example"]}], "markup.yaml"))


# ------------------------------------------------------------------------------------------ settings


def _settings_cases() -> None:
    for variable, value, said in [
        ("IMGOUT_SMTP_TIMEOUT", "nan", "from 0.1 to 600"),
        ("IMGOUT_SMTP_TIMEOUT", "inf", "from 0.1 to 600"),
        ("IMGOUT_SMTP_TIMEOUT", "0", "from 0.1 to 600"),
        ("IMGOUT_SMTP_BACKOFF", "1e308", "from 0 to 60"),
        ("IMGOUT_SMTP_RETRIES", "1000000000", "from 0 to 10"),
        ("IMGOUT_SMTP_RETRIES", "-1", "from 0 to 10"),
        ("IMGOUT_SMTP_GIVE_UP_AFTER", "0", "from 1 to 100"),
        ("IMGOUT_SMTP_PORT", "70000", "from 1 to 65535"),
        ("IMGOUT_SMTP_PORT", "25.0", "whole number"),
        ("IMGOUT_SMTP_HELO", "mail.example\r\nRSET", "U+000D"),
        ("IMGOUT_SMTP_HOST", "smtp.example.com\nX", "U+000A"),
        ("IMGOUT_SMTP_SECURITY", "tls", "one of none, starttls, ssl"),
        ("IMGOUT_MAIL_FROM", "ops@x.example\r\nBcc: y@evil.example", "IMGOUT_MAIL_FROM"),
        ("IMGOUT_ALLOWED_DOMAINS", "acme example", "domains"),
        ("IMGOUT_SMTP_CAFILE", "/dev/zero", "a regular file"),
        ("IMGOUT_YAML_MAX_BYTES", "lots", "IMGOUT_YAML_MAX_BYTES"),
    ]:
        case(
            "settings",
            f"{variable}={value[:20]!r}",
            "exit 2, one line naming the setting",
            exits(2, variable if variable != "IMGOUT_SMTP_HOST" else "IMGOUT_SMTP_HOST", said),
        )(
            lambda variable=variable, value=value: imgout(
                "batch", str(_good_clients()), "--no-pdf", "--dry-run", "eml", env={variable: value}
            )
        )
    case(
        "settings",
        "IMGOUT_SMTP_CAFILE: a text file",
        "exit 2: a settings problem, not TLS",
        exits(2, "PEM file", "IMGOUT_SMTP_CAFILE"),
    )(
        lambda: imgout(
            "batch",
            str(_good_clients()),
            "--dry-run",
            "eml",
            env={"IMGOUT_SMTP_CAFILE": str(write("settings/ca.pem", "not a certificate\n"))},
        )
    )
    case(
        "settings",
        "a password in the settings file",
        "exit 2, the password not echoed",
        lambda o: one_line(o, 2, "read only from the environment") and PASSWORD not in o.err,
    )(
        lambda: imgout(
            "batch",
            str(_good_clients()),
            "--settings",
            str(write("settings/pw.yaml", f"smtp_password: {PASSWORD}\n")),
            "--dry-run",
            "eml",
        )
    )
    case("settings", "a password without a user", "exit 2, one line", exits(2, "IMGOUT_SMTP_USER is not"))(
        lambda: imgout(
            "batch", str(_good_clients()), "--dry-run", "eml", env={"IMGOUT_SMTP_PASSWORD": PASSWORD}
        )
    )
    case("settings", "a password to a remote host unencrypted", "exit 2, one line", exits(2, "unencrypted"))(
        lambda: imgout(
            "batch",
            str(_good_clients()),
            "--dry-run",
            "eml",
            env={
                "IMGOUT_SMTP_PASSWORD": PASSWORD,
                "IMGOUT_SMTP_USER": USER,
                "IMGOUT_SMTP_HOST": "mail.example.com",
            },
        )
    )
    case(
        "settings",
        "settings file: smtp_port as a list",
        "exit 2, one line",
        exits(2, "expected text or a number, got a list"),
    )(
        lambda: imgout(
            "batch",
            str(_good_clients()),
            "--settings",
            str(write("settings/list.yaml", "smtp_port: [25, 26]\n")),
            "--dry-run",
            "eml",
        )
    )


# ------------------------------------------------------------------------------------------ Excel functions


_UDFS: list[Any] = []


def excel(name: str, *args: Any) -> Observed:
    if not _UDFS:
        _UDFS.append(xh.load_udf_module("xl_addin.udfs", defined_in=["xl_addin.excel.functions"]))
    udfs = _UDFS[0]
    functions = sys.modules["xl_addin.excel.functions"]
    functions.USER_CONFIG = "/nonexistent/xlwings.conf"
    try:
        value = xh.call_like_excel(getattr(udfs, name), *args)
    except BaseException:
        return Observed(None, err=traceback.format_exc())
    return Observed(None, out=repr(value)[:300], facts={"value": value})


def cell_error(*said: str, limit: int = 1_005) -> Callable[[Observed], bool]:
    def held(o: Observed) -> bool:
        value = o.facts.get("value")
        return (
            isinstance(value, str)
            and value.startswith("#N/A ")
            and "\n" not in value
            and len(value) <= limit
            and all(s in value for s in said)
        )

    return held


def number(o: Observed) -> bool:
    return isinstance(o.facts.get("value"), float)


def _excel_cases() -> None:
    big = "x" * 32_767
    functions = [
        ("IMGOUT_FORECAST", (big,)),
        ("IMGOUT_FORECAST", (2030.0, big)),
        ("IMGOUT_FORECAST", (2030.0, None, big)),
        ("IMGOUT_FORECAST", (2030.0, None, None, big)),
        ("IMGOUT_FORECAST", (2030.0, None, None, None, "k=" + big)),
        ("IMGOUT_SERIES", (2020.0, big)),
        ("IMGOUT_CAGR", (big, 2030.0)),
        ("IMGOUT_SHARE", (2030.0, big)),
        ("IMGOUT_BREAKDOWN", (2030.0, big)),
        ("IMGOUT_SCENARIOS", (2020.0, 2030.0, big)),
        ("IMGOUT_FAN", (2030.0, big)),
        ("IMGOUT_ASSUMPTION", (big,)),
        ("IMGOUT_SOURCE", (big,)),
        ("IMGOUT_LIST", (big,)),
        ("IMGOUT_INFO", (big,)),
    ]
    for name, args in functions:
        case(
            "Excel functions",
            f"{name} with a 32,767-character argument",
            "#N/A one line that fits a cell",
            cell_error(),
        )(lambda name=name, args=args: excel(name, *args))
    for name, args, said in [
        ("IMGOUT_FAN", (2030.0, 90.0, None, None, "paths=2000000;seed=7"), "200000"),
        ("IMGOUT_FAN", (2030.0, True), "Invalid percentile: True"),
        ("IMGOUT_FAN", (2030.0, 150.0), "percentile"),
        ("IMGOUT_FAN", (2030.0, -5.0), "percentile"),
        ("IMGOUT_FORECAST", (2030.0, 0.0), "Invalid region"),
        ("IMGOUT_FORECAST", (2030.0, False), "Invalid region"),
        ("IMGOUT_FORECAST", (2030.0, None, 0.0), "Invalid segment"),
        ("IMGOUT_FORECAST", (2030.0, None, False), "Invalid segment"),
        ("IMGOUT_FORECAST", (True,), "Invalid year"),
        ("IMGOUT_FORECAST", (float("nan"),), "Invalid year"),
        ("IMGOUT_FORECAST", (float("inf"),), "Invalid year"),
        ("IMGOUT_FORECAST", (xh.excel_error("#DIV/0!"),), "#DIV/0!"),
        ("IMGOUT_FORECAST", ("²⁰³⁰",), "Invalid year"),
        (
            "IMGOUT_FORECAST",
            (((2030.0, 2031.0),), (("North America", "Asia-Pacific", "Africa"),)),
            "does not pair",
        ),
        ("IMGOUT_FORECAST", (2030.0, "APAC\x00"), "Invalid region"),
        ("IMGOUT_FORECAST", (2030.0, None, None, None, "cagr=1e400"), "cagr"),
        ("IMGOUT_SERIES", (2030.0, 2020.0), "last_year"),
        ("IMGOUT_LIST", ("planets",), "Invalid dimension"),
        ("IMGOUT_INFO", ("secrets",), "Invalid field"),
    ]:
        case(
            "Excel functions",
            f"{name}{tuple(a if not isinstance(a, str) or len(a) < 25 else a[:22] + '…' for a in args)}",
            "#N/A one line",
            cell_error(said),
        )(lambda name=name, args=args: excel(name, *args))
    case(
        "Excel functions",
        "=IMGOUT_FAN(2030, 1) after =IMGOUT_FAN(2030, TRUE)",
        "P1, not TRUE's cached error",
        number,
    )(lambda: (excel("IMGOUT_FAN", 2030.0, True), excel("IMGOUT_FAN", 2030.0, 1.0))[1])
    case(
        "Excel functions",
        '=IMGOUT_FAN(2030,90,,,"paths=200000") x 12 seeds',
        "the market cache stays within its memory bound",
        lambda o: o.facts.get("held_mb", 1e9) <= o.facts.get("bound_mb", 0),
    )(_cache_bound)
    for label, path, said in [
        ("IMGOUT_ASSUMPTIONS=/dev/zero", "/dev/zero", "is not a regular file"),
        ("IMGOUT_ASSUMPTIONS=an alias bomb", "bomb", "aliases expand"),
        ("IMGOUT_ASSUMPTIONS=a missing file", "/nonexistent/a.yaml", "not found"),
    ]:

        def run(path: str = path) -> Observed:
            if path == "bomb":
                path = str(write("yaml/excel-bomb.yaml", bomb("note")))
            excel("IMGOUT_INFO")  # loads the functions
            functions = sys.modules["xl_addin.excel.functions"]
            with environment({"IMGOUT_ASSUMPTIONS": path}):
                functions.clear_cache()
                try:
                    return excel("IMGOUT_FORECAST", 2030.0)
                finally:
                    functions.clear_cache()  # the next case answers from the default again

        case("Excel functions", label, "#N/A one line, at once", cell_error(said))(run)


def _cache_bound() -> Observed:
    from xl_addin.model import market as market_module

    for seed in range(12):
        excel("IMGOUT_FAN", 2030.0, 90.0, None, None, f"paths=200000;seed={seed}")
    held = sum(m.footprint() for m in market_module._markets.values())
    fan = 200_000 * 41 * 8
    return Observed(
        None,
        facts={"held_mb": round(held / 2**20), "bound_mb": round((market_module.CACHE_BYTES + fan) / 2**20)},
    )


# ------------------------------------------------------------------------------------------ SMTP, crashes, concurrency


@contextlib.contextmanager
def smtp(**options: Any) -> Iterator[LocalSMTPServer]:
    server = LocalSMTPServer(options.pop("security", "none"), **options)
    server.start()
    try:
        yield server
    finally:
        server.close()


def delivery_env(server: LocalSMTPServer, folder: Path, **extra: str) -> dict[str, str]:
    """The tests' delivery settings for ``server``, with the ledger and log in ``folder``."""
    files = {"IMGOUT_LEDGER": str(folder / "ledger.sqlite3"), "IMGOUT_LOG": str(folder / "delivery.jsonl")}
    return support.delivery_env(server, folder, **{**files, **extra})


def fresh(name: str) -> Path:
    folder = WORK / "smtp" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def per_client(server: LocalSMTPServer) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in server.messages:
        name = str(m.message["X-Imgout-Client"])
        counts[name] = counts.get(name, 0) + 1
    return counts


def _smtp_scenario(
    name: str,
    server_options: dict[str, Any],
    env_extra: dict[str, str],
    runs: list[list[str]],
    count: int = 3,
) -> Observed:
    folder = fresh(name)
    clients = clients_file(f"smtp/{name}/clients.yaml", support.client_entries(count))
    down = server_options.pop("down", False)
    with smtp(**server_options) as server:
        env = delivery_env(server, folder, **env_extra)
        if down:
            server.stop()
        results = [imgout("batch", str(clients), "--no-pdf", *extra, env=env) for extra in runs]
        facts = {
            "codes": [r.code for r in results],
            "per_client": sorted(per_client(server).values()),
            "messages": len(server.messages),
        }
        log = folder / "delivery.jsonl"
        facts["attempts"] = log.read_text().count('"event": "attempt"') if log.exists() else 0
        facts["auths"] = len(server.auth_attempts)
    last = results[-1]
    return Observed(last.code, "\n".join(r.out for r in results), "\n".join(r.err for r in results), facts)


def _smtp_cases() -> None:
    case(
        "SMTP",
        "451 once per message",
        "each sent once, two attempts each",
        lambda o: o.facts["codes"] == [0] and o.facts["per_client"] == [1, 1, 1] and o.facts["attempts"] == 6,
    )(lambda: _smtp_scenario("451", {"fail_transiently_once_per_message": True}, {}, [[]]))
    case(
        "SMTP",
        "550 for a To",
        "failed, exit 1, the others sent",
        lambda o: o.facts["codes"] == [1] and "every recipient refused" in o.err and o.facts["messages"] == 2,
    )(lambda: _smtp_scenario("550-to", {"reject_permanently": ["cfo2@acme.example"]}, {}, [[]]))
    case("SMTP", "550 for a Cc, then fixed", "partly sent; the rerun sends to the Cc only", _cc_fixed)(
        _cc_scenario
    )
    case(
        "SMTP",
        "server down, 30 clients",
        "3 connection attempts in all, exit 1",
        lambda o: (
            o.facts["codes"] == [1]
            and o.facts["attempts"] == 3
            and o.err.count("not attempted: server unreachable") == 29
        ),
    )(lambda: _smtp_scenario("down", {"down": True}, {}, [[]], count=30))
    case(
        "SMTP",
        "a server slower than IMGOUT_SMTP_TIMEOUT",
        "in doubt, says 'timed out', never 'in doubt: in doubt'",
        lambda o: (
            "in doubt: timed out: no complete answer to the message (end of DATA) within 1 s "
            "(see IMGOUT_SMTP_TIMEOUT)"
            in o.err
            and "in doubt: in doubt" not in o.err
            and o.facts["messages"] == 1
        ),
    )(lambda: _smtp_scenario("timeout", {"data_delay": 2.5}, {"IMGOUT_SMTP_TIMEOUT": "1"}, [[], []], count=1))
    case(
        "SMTP",
        "a wrong password, 5 clients",
        "one AUTH for the batch, exit 1, never shown",
        lambda o: (
            o.facts["auths"] == 1
            and o.facts["codes"] == [1]
            and "login refused" in o.err
            and UNICODE_PASSWORD not in o.err + o.out
        ),
    )(
        lambda: _smtp_scenario(
            "wrong-password",
            {"security": "starttls", "username": USER, "password": PASSWORD, "auth_mechanisms": ["PLAIN"]},
            {"IMGOUT_SMTP_PASSWORD": UNICODE_PASSWORD, "IMGOUT_SMTP_USER": USER},
            [[]],
            count=5,
        )
    )
    for mechanism in ("PLAIN", "LOGIN"):
        case(
            "SMTP",
            f"a non-ASCII password over AUTH {mechanism}",
            "accepted, every message sent",
            lambda o: o.facts["codes"] == [0] and o.facts["messages"] == 3,
        )(
            lambda mechanism=mechanism: _smtp_scenario(
                f"utf8-{mechanism}",
                {
                    "security": "starttls",
                    "username": USER,
                    "password": UNICODE_PASSWORD,
                    "auth_mechanisms": [mechanism],
                },
                {"IMGOUT_SMTP_USER": USER, "IMGOUT_SMTP_PASSWORD": UNICODE_PASSWORD},
                [[]],
            )
        )
    case(
        "SMTP",
        "STARTTLS with an untrusted certificate",
        "stops at the first client, says IMGOUT_SMTP_CAFILE",
        lambda o: (
            o.facts["codes"] == [1]
            and "IMGOUT_SMTP_CAFILE" in o.err
            and o.facts["messages"] == 0
            and o.err.count("not attempted: the run stopped after Client 01") == 2
        ),
    )(lambda: _untrusted())
    case(
        "SMTP",
        "AUTH required, no user configured",
        "530 once, the rest not attempted",
        lambda o: (
            o.facts["codes"] == [1]
            and "530" in o.err
            and o.err.count("not attempted: the run stopped after Client 01") == 2
        ),
    )(
        lambda: _smtp_scenario(
            "530",
            {"security": "none", "username": USER, "password": PASSWORD},
            {"IMGOUT_SMTP_USER": "", "IMGOUT_SMTP_PASSWORD": ""},
            [[]],
        )
    )
    case(
        "SMTP",
        "recipients outside IMGOUT_ALLOWED_DOMAINS",
        "refused, nothing sent to them",
        lambda o: (
            o.facts["messages"] == 0 and o.err.count("refused: Recipient outside the allowed domains") == 3
        ),
    )(lambda: _smtp_scenario("domains", {}, {"IMGOUT_ALLOWED_DOMAINS": "beta.example"}, [[]]))
    case(
        "SMTP",
        "a rerun after everything was sent",
        "exit 0, nothing sent again",
        lambda o: o.facts["codes"] == [0, 0] and o.facts["per_client"] == [1, 1, 1],
    )(lambda: _smtp_scenario("rerun", {}, {}, [[], []]))
    case(
        "SMTP",
        "a new --edition",
        "every client gets the new edition once",
        lambda o: o.facts["codes"] == [0, 0, 0] and o.facts["per_client"] == [2, 2, 2],
    )(lambda: _smtp_scenario("edition", {}, {}, [[], ["--edition", "2026-03"], ["--edition", "2026-03"]]))


def _untrusted() -> Observed:
    folder = fresh("untrusted")
    clients = clients_file("smtp/untrusted/clients.yaml", support.client_entries(3))
    with smtp(security="starttls") as server:
        env = delivery_env(server, folder)
        other = LocalSMTPServer("starttls")  # another throwaway CA: not the one that signed the server
        env["IMGOUT_SMTP_CAFILE"] = str(other.cafile)
        done = imgout("batch", str(clients), "--no-pdf", env=env)
        other.close()
        done.facts = {"codes": [done.code], "messages": len(server.messages)}
    return done


def _cc_scenario() -> Observed:
    folder = fresh("cc")
    clients = clients_file("smtp/cc/clients.yaml", support.client_entries(3))
    with smtp(reject_permanently=["strategy3@acme.example"]) as server:
        env = delivery_env(server, folder)
        first = imgout("batch", str(clients), "--no-pdf", env=env)
        again = imgout("batch", str(clients), "--no-pdf", env=env)
        server.reject_permanently.clear()
        fixed = imgout("batch", str(clients), "--no-pdf", env=env)
        third = [
            m.rcpt_tos for m in server.messages if str(m.message["X-Imgout-Client"]) == "Client 03 Radiology"
        ]
    return Observed(
        fixed.code,
        first.out + again.out + fixed.out,
        first.err + again.err + fixed.err,
        {"codes": [first.code, again.code, fixed.code], "third": third},
    )


def _cc_fixed(o: Observed) -> bool:
    return (
        o.facts["codes"] == [1, 1, 0]
        and o.facts["third"] == [["cfo3@acme.example"], ["strategy3@acme.example"]]
        and o.err.count("partly sent") == 2
    )


def _wait(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition never came")
        time.sleep(0.05)


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return support.start_imgout(*args, env=env, cwd=WORK)


def _crash_cases() -> None:
    case(
        "crashes and concurrency",
        "kill -9 while the server holds DATA",
        "in doubt, not resent; resolve --delivered settles it",
        lambda o: o.facts.get("ok") is True,
    )(_kill_while_sending)
    case(
        "crashes and concurrency",
        "--resend-in-doubt after a kill -9",
        "sent again with the same Message-ID",
        lambda o: o.facts.get("same_id") is True and o.code == 0,
    )(_resend_dead_claim)
    case(
        "crashes and concurrency",
        "--resend-in-doubt while a live run sends",
        "in progress, not resent",
        lambda o: o.facts.get("copies") == 1 and "in progress: run" in o.err,
    )(_live_claim)
    case(
        "crashes and concurrency",
        "two runs at once (one with --resend-in-doubt), 12 clients",
        "every client exactly once, no 'in doubt'",
        lambda o: o.facts.get("copies") == [1] * 12 and "in doubt" not in o.err,
    )(_two_runs)
    case(
        "crashes and concurrency",
        "kill -9 of a --jobs 2 parent",
        "no worker nor resource tracker left",
        lambda o: o.facts.get("left") == [],
    )(_kill_jobs_parent)
    case(
        "crashes and concurrency",
        "Ctrl-C while sending",
        "exit 130, the pack recorded in doubt",
        lambda o: o.code == 130 and o.facts.get("status") == "in doubt",
    )(lambda: _interrupt(signal.SIGINT))
    case(
        "crashes and concurrency",
        "SIGTERM while sending",
        "exit 143, the pack recorded in doubt",
        lambda o: o.code == 143 and o.facts.get("status") == "in doubt",
    )(lambda: _interrupt(signal.SIGTERM))
    case(
        "crashes and concurrency",
        "kill -9 during a workbook write, then a rerun",
        "the hidden .part is cleaned",
        lambda o: o.code == 0 and o.facts.get("files") == ["w.xlsx"],
    )(_part_left)


def _kill_while_sending() -> Observed:
    folder = fresh("kill")
    clients = clients_file("smtp/kill/clients.yaml", support.client_entries(1))
    with smtp(data_delay=30) as server:
        env = delivery_env(server, folder)
        run = _spawn(["batch", str(clients), "--no-pdf"], env)
        _wait(lambda: len(server.messages) == 1)
        run.kill()
        run.communicate()
        server.data_delay = 0
        rerun = imgout("batch", str(clients), "--no-pdf", env=env)
        resolved = imgout("ledger", "resolve", "Client 01 Radiology", "--delivered", env=env)
        final = imgout("batch", str(clients), "--no-pdf", env=env)
        copies = len(server.messages)
    good = (
        rerun.code == 1
        and "in doubt: run " in rerun.err
        and resolved.code == 0
        and final.code == 0
        and copies == 1
    )
    return Observed(
        final.code,
        rerun.out + final.out,
        rerun.err + resolved.err + final.err,
        {"ok": good, "copies": copies},
    )


def _resend_dead_claim() -> Observed:
    folder = fresh("resend")
    clients = clients_file("smtp/resend/clients.yaml", support.client_entries(1))
    with smtp(data_delay=30) as server:
        env = delivery_env(server, folder)
        run = _spawn(["batch", str(clients), "--no-pdf"], env)
        _wait(lambda: len(server.messages) == 1)
        run.kill()
        run.communicate()
        server.data_delay = 0
        again = imgout("batch", str(clients), "--no-pdf", "--resend-in-doubt", env=env)
        ids = {m.message_id for m in server.messages}
    again.facts = {"same_id": len(ids) == 1 and len(server.messages) == 2}
    return again


def _live_claim() -> Observed:
    folder = fresh("live")
    clients = clients_file("smtp/live/clients.yaml", support.client_entries(1))
    with smtp(data_delay=4) as server:
        env = delivery_env(server, folder)
        run = _spawn(["batch", str(clients), "--no-pdf"], env)
        _wait(lambda: len(server.messages) == 1)
        second = imgout("batch", str(clients), "--no-pdf", "--resend-in-doubt", env=env)
        run.communicate(timeout=60)
        second.facts = {"copies": len(server.messages)}
    return second


def _two_runs() -> Observed:
    folder = fresh("two")
    clients = clients_file("smtp/two/clients.yaml", support.client_entries(12))
    with smtp(data_delay=0.1) as server:
        env = delivery_env(server, folder)
        runs = [
            _spawn(["batch", str(clients), "--no-pdf"], env),
            _spawn(["batch", str(clients), "--no-pdf", "--resend-in-doubt"], env),
        ]
        outputs = [r.communicate(timeout=300) for r in runs]
        copies = sorted(per_client(server).values())
    return Observed(
        max(r.returncode for r in runs),
        "".join(o for o, _ in outputs),
        "".join(e for _, e in outputs),
        {"copies": copies},
    )


def _kill_jobs_parent() -> Observed:
    import psutil

    folder = fresh("jobs")
    clients = clients_file("smtp/jobs/clients.yaml", support.client_entries(30))
    env = {"IMGOUT_LEDGER": str(folder / "l.sqlite3"), "IMGOUT_LOG": str(folder / "l.jsonl")}
    run = _spawn(["batch", str(clients), "--no-pdf", "--jobs", "2", "--dry-run", str(folder / "eml")], env)
    parent = psutil.Process(run.pid)
    _wait(lambda: any((folder / "eml").glob("*.eml")))
    family = parent.children(recursive=True)
    run.kill()
    run.communicate()
    _, alive = psutil.wait_procs(family, timeout=10)
    return Observed(None, facts={"family": len(family), "left": [p.pid for p in alive]})


def _interrupt(signum: int) -> Observed:
    from xl_addin.delivery.ledger import Ledger

    folder = fresh(f"signal-{signum}")
    clients = clients_file(f"smtp/signal-{signum}/clients.yaml", support.client_entries(2))
    with smtp(data_delay=30) as server:
        env = delivery_env(server, folder)
        run = _spawn(["batch", str(clients), "--no-pdf"], env)
        _wait(lambda: len(server.messages) == 1)
        run.send_signal(signum)
        out, err = run.communicate(timeout=60)
    with Ledger(folder / "ledger.sqlite3") as ledger:
        status = ledger.packs()[0].status
    return Observed(run.returncode, out, err, {"status": status})


def _part_left() -> Observed:
    folder = WORK / "part"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys\nfrom xl_addin.common.atomic import atomic_path\nwith atomic_path(sys.argv[1]) as t:\n    os.kill(os.getpid(), signal.SIGKILL)\n",
            str(folder / "w.xlsx"),
        ],
        timeout=60,
        cwd=ROOT,
    )
    before = sorted(p.name for p in folder.iterdir())
    done = imgout("workbook", "--client", "A", "--out", str(folder / "w.xlsx"))
    done.facts = {"before": len(before), "files": sorted(p.name for p in folder.iterdir())}
    return done


# ------------------------------------------------------------------------------------------ the ledger


def _ledger_cases() -> None:
    def damaged(kind: str) -> Observed:
        folder = fresh(f"ledger-{kind}")
        clients = clients_file(f"smtp/ledger-{kind}/clients.yaml", support.client_entries(2))
        with smtp() as server:
            env = delivery_env(server, folder)
            first = imgout("batch", str(clients), "--no-pdf", env=env)
            support.damage_ledger(folder / "ledger.sqlite3", kind)
            rerun = imgout("batch", str(clients), "--no-pdf", env=env)
            rerun.facts = {"first": first.code, "messages": len(server.messages)}
        return rerun

    for kind, said in support.LEDGER_DAMAGE.items():
        case(
            "send ledger",
            f"ledger {kind}",
            "exit 2, one line, nothing resent",
            lambda o, said=said: one_line(o, 2, said) and o.facts["messages"] == 2,
        )(lambda kind=kind: damaged(kind))
    case(
        "send ledger",
        "ledger locked longer than the timeout",
        "one line per client, nothing sent",
        lambda o: o.facts.get("messages") == 0 and "is locked" in o.err and clean(o),
    )(_locked)
    case(
        "send ledger",
        "ledger on a folder that cannot be created",
        "exit 1 or 2, one line",
        lambda o: o.code in (1, 2) and len(o.err.splitlines()) == 1 and clean(o),
    )(
        lambda: imgout(
            "batch",
            str(_good_clients()),
            "--no-pdf",
            env={"IMGOUT_LEDGER": str(write("ledger-blocker", "x") / "ledger.sqlite3")},
        )
    )
    case("send ledger", "ledger list with no ledger", "exit 2, one line", exits(2, "no such file"))(
        lambda: imgout("ledger", "list", env={"IMGOUT_LEDGER": str(WORK / "none.sqlite3")})
    )
    case("send ledger", "ledger show an unknown client", "exit 2, one line", exits(2, "no pack for client"))(
        lambda: imgout("ledger", "show", "Nobody", env={"IMGOUT_LEDGER": str(_sent_ledger())})
    )
    case(
        "send ledger",
        "ledger resolve without --delivered or --resend",
        "exit 2, one line",
        exits(2, "--delivered"),
    )(lambda: imgout("ledger", "resolve", "Client 01 Radiology", env={"IMGOUT_LEDGER": str(_sent_ledger())}))
    case("send ledger", "ledger resolve with both", "exit 2, one line", exits(2, "one of them"))(
        lambda: imgout(
            "ledger",
            "resolve",
            "Client 01 Radiology",
            "--delivered",
            "--resend",
            env={"IMGOUT_LEDGER": str(_sent_ledger())},
        )
    )
    case(
        "send ledger",
        "ledger resolve a pack that was sent",
        "exit 2, one line",
        exits(2, "nothing to resolve"),
    )(
        lambda: imgout(
            "ledger",
            "resolve",
            "Client 01 Radiology",
            "--resend",
            env={"IMGOUT_LEDGER": str(_sent_ledger())},
        )
    )
    case("send ledger", "ledger resolve a note with an escape", "exit 2, one line", exits(2, "--note"))(
        lambda: imgout(
            "ledger",
            "resolve",
            "Client 01 Radiology",
            "--resend",
            "--note",
            "x\x1b[2J",
            env={"IMGOUT_LEDGER": str(_sent_ledger())},
        )
    )
    case("send ledger", "ledger list --status bogus", "exit 2 (usage)", lambda o: o.code == 2 and clean(o))(
        lambda: imgout("ledger", "list", "--status", "bogus")
    )


def _sent_ledger() -> Path:
    """A ledger in which every pack of three clients was sent (made once, by a real run)."""
    path = WORK / "smtp" / "sent-ledger" / "ledger.sqlite3"
    if not path.exists():
        _smtp_scenario("sent-ledger", {}, {}, [[]])
    return path


def _locked() -> Observed:
    from xl_addin.delivery import ledger as ledger_module

    folder = fresh("locked")
    clients = clients_file("smtp/locked/clients.yaml", support.client_entries(2))
    with smtp() as server:
        env = delivery_env(server, folder)
        imgout("ledger", "list", env=env)  # nothing yet
        ledger_module.Ledger(folder / "ledger.sqlite3").close()
        holder = sqlite3.connect(folder / "ledger.sqlite3", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        saved, ledger_module.LOCK_TIMEOUT = ledger_module.LOCK_TIMEOUT, 0.5
        try:
            done = imgout("batch", str(clients), "--no-pdf", env=env)
        finally:
            ledger_module.LOCK_TIMEOUT = saved
            holder.execute("ROLLBACK")
            holder.close()
        done.facts = {"messages": len(server.messages)}
    return done


# ------------------------------------------------------------------------------------------ secrets


def _secret_cases() -> None:
    case(
        "secrets",
        "the password marker in every output of batch, dry run and the ledger commands",
        "absent everywhere",
        lambda o: o.facts.get("places", 0) > 10 and o.facts.get("leaks") == [],
    )(_marker)


def _marker() -> Observed:
    folder = fresh("marker")
    clients = clients_file("smtp/marker/clients.yaml", support.client_entries(3))
    with smtp(
        security="starttls", username=USER, password=PASSWORD, reject_permanently=["strategy3@acme.example"]
    ) as server:
        env = delivery_env(server, folder)
        outputs = [
            imgout("batch", str(clients), "--no-pdf", env=env),
            imgout("batch", str(clients), "--no-pdf", "--dry-run", str(folder / "eml"), env=env),
            imgout("ledger", "list", env=env),
            imgout("ledger", "list", "--json", env=env),
            imgout("ledger", "show", "Client 03 Radiology", env=env),
            imgout("ledger", "show", "Client 03 Radiology", "--json", env=env),
            imgout("ledger", "resolve", "Client 03 Radiology", "--resend", env=env),
        ]
        messages = [m.raw.decode("latin-1") for m in server.messages]
    db = sqlite3.connect(folder / "ledger.sqlite3")
    rows = [
        repr(db.execute(f"SELECT * FROM {t}").fetchall())
        for t in ("ledger_info", "runs", "packs", "deliveries", "history")
    ]
    db.close()
    places = [o.out + o.err for o in outputs] + messages + rows
    places += [p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file()]
    forms = {PASSWORD, base64.b64encode(PASSWORD.encode()).decode()}
    leaks = [i for i, text in enumerate(places) if any(f in text for f in forms)]
    return Observed(None, facts={"places": len(places), "leaks": leaks})


# ------------------------------------------------------------------------------------------ files that cannot be written


def _disk_cases() -> None:
    for command in ("workbook", "demo", "excel", "brief"):
        case(
            "full disk",
            f"{command} onto a full disk",
            "exit 1, one line, nothing left behind",
            lambda o: (
                (one_line(o, 1, "No space left on device") or one_line(o, 1, "File too large"))
                and o.facts.get("left") == []
            ),
        )(lambda command=command: _full_disk(command))


@contextlib.contextmanager
def full_disk(name: str) -> Iterator[tuple[Path, Callable[[], None] | None]]:
    """A folder on a full 1 MB tmpfs; where none can be mounted (not root), an ordinary folder and a child
    file-size limit (RLIMIT_FSIZE: writes fail with "File too large", as on a full disk)."""
    folder = WORK / "disks" / name
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:

        def limit() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))

        yield folder, limit
        return
    try:
        with open(folder / "filler", "wb") as filler, contextlib.suppress(OSError):
            filler.write(b"\0" * (2 * 2**20))
        yield folder, None
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _full_disk(command: str) -> Observed:
    with full_disk(command) as (folder, limit):
        args = {
            "workbook": ["workbook", "--client", "A", "--out", str(folder / "w.xlsx")],
            "demo": ["demo", "--out", str(folder / "demo")],
            "excel": ["excel", "--out", str(folder / "x.xlsm")],
            "brief": ["brief", "--client", "A", "--format", "all", "--out", str(folder / "b")],
        }[command]
        # No address-space limit here: the PDF's browser reserves far more virtual memory than it uses.
        done = child(*args, limit=limit, memory=None if command in ("demo", "brief") else MEMORY_LIMIT)
        done.facts["left"] = sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name != "filler")
    return done


# ------------------------------------------------------------------------------------------ round three: issue 20


def _cron(name: str, runs: list[tuple[str, tuple[str, ...]]]) -> Observed:
    """Overlapping cron runs against a server that confirms each message after 2 s: the first run waits 1 s
    (so its packs end in doubt while it is alive), the later ones 10 s; each starts once the one before
    it is sending. Messages per client, whatever each run was told."""
    folder = fresh(name)
    clients = clients_file(f"smtp/{name}/clients.yaml", support.client_entries(6))
    with smtp(data_delay=2) as server:
        started = []
        for number, (host, options) in enumerate(runs):
            env = delivery_env(server, folder, IMGOUT_SMTP_TIMEOUT="10" if number else "1")
            args = ("batch", str(clients), "--no-pdf", *options)
            started.append(
                support.start_imgout_on_host(host, *args, env=env, cwd=WORK)
                if host
                else _spawn(list(args), env)
            )
            _wait(lambda n=number: len(server.messages) > n)
        outputs = [run.communicate(timeout=300) for run in started]
        copies = sorted(per_client(server).values())
    return Observed(
        max(r.returncode for r in started),
        "".join(o for o, _ in outputs),
        "".join(e for _, e in outputs),
        {"copies": copies},
    )


def _lease_cases() -> None:
    for name, runs in [
        ("batch, then batch --resend-in-doubt, one host", [("", ()), ("", ("--resend-in-doubt",))]),
        (
            "three runs with --jobs 2 (one with --resend-in-doubt), one host",
            [("", ()), ("", ("--resend-in-doubt", "--jobs", "2")), ("", ("--jobs", "2"))],
        ),
        (
            "two hosts sharing the ledger, the second with --resend-in-doubt",
            [
                ("mail-1", ()),
                ("mail-2", ("--resend-in-doubt",)),
                ("mail-2", ("--resend-in-doubt", "--jobs", "2")),
            ],
        ),
    ]:
        case(
            "crashes and concurrency",
            f"cron overlap against a slow server: {name}",
            "every client exactly one message; a live run's packs in doubt left to it",
            lambda o: o.facts.get("copies") == [1] * 6 and "Traceback" not in o.err,
        )(lambda name=name, runs=runs: _cron(f"cron-{len(runs)}-{runs[-1][0] or 'here'}", runs))
    case(
        "send ledger",
        "resolve --delivered on a pack the server refused with 550",
        "exit 2, one line: only a recipient in doubt can be resolved as delivered",
        exits(2, "only a recipient in doubt can be resolved as delivered"),
    )(_resolve_refused)


def _resolve_refused() -> Observed:
    folder = fresh("resolve-refused")
    clients = clients_file("smtp/resolve-refused/clients.yaml", support.client_entries(1))
    with smtp(reject_permanently=["cfo1@acme.example"]) as server:
        env = delivery_env(server, folder)
        imgout("batch", str(clients), "--no-pdf", env=env)
        return imgout("ledger", "resolve", "Client 01 Radiology", "--delivered", env=env)


def _deadline_cases() -> None:
    from tests.support.hostile_smtp import HostileSMTPServer, Trick

    tricks: list[tuple[Trick, str]] = [
        ("tarpit greeting", "no complete answer to the greeting within 2 s"),
        ("endless continuation", "the server's answer to EHLO went beyond 64 KiB"),
        ("trickling reply", "no complete answer to the message (end of DATA) within 2 s"),
    ]
    for trick, said in tricks:

        def run(trick: Trick = trick) -> Observed:
            from xl_addin.delivery.ledger import Ledger

            folder = fresh(f"hostile-{trick.replace(' ', '-')}")
            clients = clients_file(f"smtp/hostile-{trick}/clients.yaml", support.client_entries(2))
            with HostileSMTPServer(trick) as server:
                env = {
                    "IMGOUT_SMTP_HOST": "127.0.0.1",
                    "IMGOUT_SMTP_PORT": str(server.port),
                    "IMGOUT_SMTP_HELO": "localhost",
                    "IMGOUT_MAIL_FROM": support.SENDER,
                    "IMGOUT_SMTP_TIMEOUT": "2",
                    "IMGOUT_SMTP_RETRIES": "0",
                    "IMGOUT_LEDGER": str(folder / "ledger.sqlite3"),
                    "IMGOUT_LOG": str(folder / "delivery.jsonl"),
                }
                done = child("batch", str(clients), "--no-pdf", env=env, timeout=120)
            with Ledger(folder / "ledger.sqlite3") as ledger:
                done.facts["statuses"] = [p.status for p in ledger.packs()]
            return done

        case(
            "deadlines",
            f"IMGOUT_SMTP_TIMEOUT=2 against a {trick}",
            "ends within 30 s under 1 GiB, one line a client, failed or in doubt (never in progress)",
            lambda o, said=said: (
                o.code == 1
                and o.facts.get("seconds", 1e9) < 30
                and said in o.err
                and len(o.err.splitlines()) == 3
                and "in progress" not in o.facts.get("statuses", ["in progress"])
                and clean(o)
            ),
        )(run)


FOLDER_WORDS = ("CONFIDENTIAL", "Falcon")


def _private_folder() -> Observed:
    from tests.support.readable import everything_readable

    folder = WORK / "privacy" / "Clients - CONFIDENTIAL" / "Project Falcon"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "acme-discount-scenario.yaml"
    path.write_text("name: discount scenario\n", encoding="utf-8")
    out = WORK / "privacy" / "out"
    shutil.rmtree(out, ignore_errors=True)
    runs = [
        imgout("brief", "--client", "Acme", "--assumptions", str(path), "--format", "all", "--out", str(out)),
        imgout("workbook", "--client", "Acme", "--assumptions", str(path), "--out", str(out / "acme.xlsx")),
        imgout("batch", str(_good_clients()), "--assumptions", str(path), "--dry-run", str(out / "eml")),
    ]
    files = sorted(p for p in out.rglob("*") if p.is_file())
    leaks = [
        f.name
        for f in files
        if any(w in everything_readable(f.name, f.read_bytes(), WORK / "privacy") for w in FOLDER_WORDS)
    ]
    return Observed(
        max(r.code or 0 for r in runs),
        "".join(r.out for r in runs),
        "".join(r.err for r in runs),
        {"kinds": sorted({f.suffix for f in files}), "leaks": leaks},
    )


def _css_footer(engine: str) -> Observed:
    name = 'x"\r}html::after{content:url(file:canary)} set.yaml'
    path = write(f"privacy/{engine}/{name}", "name: hostile\n")
    out = WORK / "privacy" / engine / "out"
    done = imgout(
        "brief",
        "--client",
        "Acme",
        "--assumptions",
        str(path),
        "--format",
        "pdf",
        "--pdf-engine",
        engine,
        "--out",
        str(out),
    )
    pdf = next(out.glob("*.pdf"), None)
    text = ""
    if pdf is not None:
        text = subprocess.run(
            ["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=False
        ).stdout
    flat = " ".join(text.split())
    done.facts = {
        "footer": 'x" }html::after{content:url(file:canary)} set.yaml' in flat and "page 1 of" in flat
    }
    return done


def _source_url(url: str, title: str = "A report") -> Path:
    source = {"title": title, "publisher": "Someone", "date": "2026", "url": url}
    return write(
        f"injection/{abs(hash((url, title)))}.yaml", yaml.safe_dump({"sources": {"someone": source}})
    )


def _title_link() -> Observed:
    path = _source_url("https://example.com/report", "See https://evil.example/phish")
    out = WORK / "injection" / "title-link"
    done = imgout(
        "brief", "--client", "Acme", "--assumptions", str(path), "--format", "html", "--out", str(out)
    )
    html = "".join(p.read_text(encoding="utf-8") for p in out.glob("*.html"))
    done.facts = {
        "own link": 'href="https://example.com/report"' in html,
        "title link": 'href="https://evil.example' in html,
    }
    return done


def _privacy_cases() -> None:
    case(
        "privacy",
        "assumption file under 'Clients - CONFIDENTIAL/Project Falcon/': brief, workbook, .eml",
        "no folder name in HTML, Markdown, text, PDF, workbook or .eml",
        lambda o: (
            o.code == 0
            and o.facts.get("leaks") == []
            and set(o.facts.get("kinds", [])) >= {".html", ".md", ".txt", ".pdf", ".xlsx", ".eml"}
        ),
    )(_private_folder)
    for engine in ("chromium", "weasyprint"):
        case(
            "privacy",
            f"assumption file named with CR, a quote and url(file:...): {engine} PDF footer",
            "the name printed as text in the footer, the footer whole",
            lambda o: o.code == 0 and o.facts.get("footer") is True,
        )(lambda engine=engine: _css_footer(engine))
    for url in ('https://example.com/report"', "https://example.com/<script>", "https://example.com/a b"):
        case(
            "injection",
            f"source url {url!r}",
            "exit 2 at load, one line naming the key",
            exits(2, "sources.someone.url", "is not a web address"),
        )(lambda url=url: imgout("forecast", "2030", "--assumptions", str(_source_url(url))))
    case(
        "injection",
        "a URL in a source's title",
        "text in the brief; only the source's own URL is a link",
        lambda o: o.code == 0 and o.facts == {"own link": True, "title link": False},
    )(_title_link)


def _estimates_file(name: str, points: str, ident: str = "acme") -> Path:
    return write(
        f"small/{name}.yaml",
        f"estimates:\n  {ident}:\n    publisher: Acme\n    source: tbrc\n    points: {{{points}}}\n",
    )


def _many_publishers() -> Path:
    lines = ["estimates:"]
    for i in range(10_000):
        lines += [f"  p{i}:", "    publisher: P", "    source: tbrc", "    points: {2025: 10.0, 2030: 20.0}"]
    return write("small/many.yaml", "\n".join(lines) + "\n")


def _cell_cases() -> None:
    case("Excel functions", "IMGOUT_FORECAST(a date cell)", "the year's figure", number)(
        lambda: excel("IMGOUT_FORECAST", xh.excel_date(2030, 6, 30))
    )
    for label, value, said in [
        ("a dict", {"a": 1}, "a dict"),
        ("an object", object(), "Invalid region"),
        ("a 3-D list", [[["Asia-Pacific"]]], "more than two dimensions"),
        ("a set", {"APAC"}, "a set"),
    ]:

        def call(value: Any = value) -> Observed:
            from xl_addin import udfs

            sys.modules["xl_addin.excel.functions"].USER_CONFIG = "/nonexistent/xlwings.conf"
            return Observed(None, facts={"value": udfs.IMGOUT_FORECAST(2030.0, value)})

        case(
            "Excel functions",
            f"IMGOUT_FORECAST(2030, {label}) from Python",
            "#N/A one line",
            cell_error(said),
        )(call)
    case(
        "Excel functions",
        "five grid calls of 100,000 distinct bad region names",
        "the process grows less than 60 MB",
        lambda o: o.code == 0 and float(o.out.split()[0]) < 60,
        slow=True,
    )(_bad_names)
    case(
        "Excel functions",
        "a FIFO as the xlwings user config, then =IMGOUT_FORECAST(2030)",
        "the figure at once (the FIFO is not read)",
        number,
    )(_fifo_config)
    case(
        "Excel functions",
        "imgout excel --check with a FIFO as the xlwings user config",
        "ends at once, says 'a FIFO'",
        lambda o: o.code == 1 and "(a FIFO)" in o.out + o.err and o.facts.get("seconds", 1e9) < 30,
        slow=True,
    )(_fifo_check)


def _bad_names() -> Observed:
    script = (
        "import gc, logging, psutil\n"
        "logging.disable(logging.CRITICAL)\n"
        "from xl_addin.excel import functions\n"
        "functions.USER_CONFIG = '/nonexistent/xlwings.conf'\n"
        "import xl_addin.udfs as udfs\n"
        "udfs.IMGOUT_FORECAST(2030.0, [['North America'], ['Mars']])\n"
        "gc.collect(); before = psutil.Process().memory_info().rss\n"
        "for call in range(5):\n"
        "    udfs.IMGOUT_FORECAST(2030.0, [[f'bad-{call}-{i}'] for i in range(100_000)]); gc.collect()\n"
        "print((psutil.Process().memory_info().rss - before) / 2**20)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=900, cwd=ROOT
    )
    return Observed(done.returncode, done.stdout or "1e9", done.stderr)


def _fifo_config() -> Observed:
    fifo = WORK / "excel-fifo" / "xlwings.conf"
    fifo.parent.mkdir(parents=True, exist_ok=True)
    if not fifo.exists():
        os.mkfifo(fifo)
    excel("IMGOUT_INFO")  # loads the functions
    functions = sys.modules["xl_addin.excel.functions"]
    functions.clear_cache()
    functions.USER_CONFIG = str(fifo)
    try:
        value = functions.IMGOUT_FORECAST(2030.0)
    finally:
        functions.USER_CONFIG = "/nonexistent/xlwings.conf"
        functions.clear_cache()
    return Observed(None, out=repr(value), facts={"value": value})


def _fifo_check() -> Observed:
    home = WORK / "excel-fifo-home"
    (home / ".xlwings").mkdir(parents=True, exist_ok=True)
    if not (home / ".xlwings" / "xlwings.conf").exists():
        os.mkfifo(home / ".xlwings" / "xlwings.conf")
    return child("excel", "--check", env={"HOME": str(home)}, timeout=60)


def _small_cases() -> None:
    for label, points, expected, held in [
        (
            "superscript digits as a year",
            "2025: 10.0, '²⁰³⁰': 20.0",
            "exit 2, one line",
            exits(2, "expected a year"),
        ),
        ("fullwidth digits as a year", "2025: 10.0, '２０３０': 20.0", "read as 2030", ok("Acme")),
        (
            "a point of 1e308",
            "2025: 10.0, 2030: 1.0e+308",
            "exit 2, one line, no RuntimeWarning",
            lambda o: one_line(o, 2, "beyond any market size") and "Warning" not in o.err,
        ),
    ]:
        case("YAML files", f"estimates: {label}", expected, held)(
            lambda label=label, points=points: imgout(
                "estimates", "--assumptions", str(_estimates_file(label.replace(" ", "-"), points))
            )
        )
    body = "{publisher: Acme, source: tbrc, points: {2025: 10.0, 2030: 20.0}}"
    for label, key in [
        ("10,000 characters", f"? {'a' * 10_000}\n  : {body}"),  # an explicit key: YAML limits plain ones
        ("ESC and bidi controls", f'"ac\\e[31mme\\u202e": {body}'),
    ]:
        case(
            "YAML files",
            f"estimates: a publisher id of {label}",
            "exit 2, one line, escaped",
            exits(2, "at most 64"),
        )(
            lambda label=label, key=key: imgout(
                "estimates",
                "--assumptions",
                str(write(f"small/id-{len(label)}.yaml", f"estimates:\n  {key}\n")),
            )
        )
    case("YAML files", "10,000 publishers", "exit 2 at once, one line", exits(2, "at most 100"))(
        lambda: imgout("estimates", "--assumptions", str(_many_publishers()))
    )
    case(
        "settings",
        "the SMTP password pasted into IMGOUT_SMTP_PORT",
        "exit 2, one line, the password not shown",
        lambda o: one_line(o, 2, "IMGOUT_SMTP_PORT", "not shown") and PASSWORD not in o.out + o.err,
    )(lambda: imgout("batch", str(_good_clients()), "--no-pdf", env={"IMGOUT_SMTP_PORT": PASSWORD}))
    case(
        "command line",
        "imgout doctor with a browser that cannot start",
        "exit 1: says PDF briefs fail, never that the browser prints them",
        lambda o: o.code == 1 and "PDF briefs fail" in o.out and "printed by Chromium" not in o.out,
        slow=True,
    )(_doctor_broken_browser)


def _doctor_broken_browser() -> Observed:
    browser = write("doctor/chromium", "#!/bin/sh\nexit 1\n")
    browser.chmod(0o755)
    return child("doctor", env={"IMGOUT_BROWSER": str(browser)}, timeout=120, memory=None)


def _signal_cases() -> None:
    def run() -> Observed:
        from tests.support.signal_moments import EXPECTED, moments

        found = moments(WORK / "signals", count=12, seed=7, latest=4.0)
        wrong = [
            f"{m.command} {m.signal.name} at {m.after} s: {m.code}"
            for m in found
            if m.code not in (None, EXPECTED[m.signal])
        ]
        broken = [f"{m.command}: {', '.join(m.broken)}" for m in found if m.broken]
        signalled = sum(m.code is not None for m in found)
        return Observed(
            None,
            err="; ".join(wrong + broken),
            facts={"signalled": signalled, "wrong": len(wrong) + len(broken)},
        )

    case(
        "crashes and concurrency",
        "SIGINT/SIGTERM at 12 random moments of brief --format all, demo, batch --dry-run",
        "130 / 143 every time (never -2, -15, -11 or 0), files whole or absent",
        lambda o: o.facts.get("wrong") == 0 and o.facts.get("signalled", 0) >= 6,
    )(run)


# ------------------------------------------------------------------------------------------ the run


FAMILIES = {
    "cli": _cli_cases,
    "yaml": _yaml_cases,
    "profiles": _profile_cases,
    "settings": _settings_cases,
    "excel": _excel_cases,
    "smtp": _smtp_cases,
    "crash": _crash_cases,
    "ledger": _ledger_cases,
    "secrets": _secret_cases,
    "disk": _disk_cases,
    "leases": _lease_cases,
    "deadlines": _deadline_cases,
    "privacy": _privacy_cases,
    "cells": _cell_cases,
    "small": _small_cases,
    "signals": _signal_cases,
}


def register(only: list[str] | None = None) -> list[Case]:
    """Register the cases of every family (or of ``only``), once; the list of cases, in order."""
    if not CASES:
        for key, add in FAMILIES.items():
            if not only or key in only:
                add()
    return CASES


def begin(work: Path | None = None) -> Path:
    """Where the cases write from now on (``work``, or a fresh temporary folder); quiets the server's log."""
    import logging

    logging.getLogger("mail.log").setLevel(logging.CRITICAL)  # the server's own log of refused TLS
    global WORK
    WORK = work or Path(tempfile.mkdtemp(prefix="imgout-red-team-"))
    WORK.mkdir(parents=True, exist_ok=True)
    return WORK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(FAMILIES), action="append", help="run only these families")
    parser.add_argument("--json", type=Path, help="also write every row as JSON to this file")
    options = parser.parse_args(argv)
    begin()
    register(options.only)
    rows = []
    started = time.monotonic()
    try:
        for number, c in enumerate(CASES, start=1):
            observed, held = held_by(c)
            rows.append((number, c, observed, held))
            mark = "held" if held else "FAILED"
            print(
                f"{number:3d} {mark:6s} [{c.family}] {c.name} -> {c.expected} -> {observed.summary()}",
                flush=True,
            )
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    held_count = sum(held for *_, held in rows)
    print()
    print(f"{'#':>3}  {'family':22} {'case':58} {'expected':50} {'observed'}")
    for number, c, observed, held in rows:
        print(
            f"{number:3d}  {c.family:22.22} {c.name:58.58} {c.expected:50.50} {'' if held else 'NOT HELD: '}{observed.summary()[:100]}"
        )
    print()
    families: dict[str, list[bool]] = {}
    for _, c, _, held in rows:
        families.setdefault(c.family, []).append(held)
    print("; ".join(f"{family}: {sum(h)} of {len(h)}" for family, h in families.items()))
    failed = [f"{n} {c.name}" for n, c, _, held in rows if not held]
    print(f"red team: {held_count} of {len(rows)} cases held in {time.monotonic() - started:.0f} s")
    if failed:
        print("not held: " + "; ".join(failed))
    if options.json:
        options.json.write_text(
            json.dumps(
                [
                    {
                        "case": c.name,
                        "family": c.family,
                        "expected": c.expected,
                        "observed": o.summary(),
                        "held": h,
                    }
                    for _, c, o, h in rows
                ],
                indent=1,
                ensure_ascii=False,
            )
        )
    return 0 if held_count == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
