"""Clear errors: whatever goes wrong, one line on stderr naming what and where, the exit code of the docs'
table (0 done, 1 environment or delivery, 2 bad input, 130 interrupted, 143 terminated), no traceback,
no half-written file and no temporary file the next run would not clean.

The full-disk stories write to a real small file system: a tmpfs mounted for the test (root can), else
an equivalent (the child's file-size limit, RLIMIT_FSIZE, makes every write beyond it fail the way a full
disk does). They are skipped only where neither is possible.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.delivery_support import (
    client_entries,
    delivery_env,
    imgout_command,
    process_env,
    run_imgout,
    write_clients_file,
)
from tests.support.smtp_server import LocalSMTPServer
from xl_addin import cli
from xl_addin.delivery.ledger import Ledger
from xl_addin.errors import DeliveryError, ImgoutError, InputError, OutputError, os_error

GETTING_STARTED = Path(__file__).resolve().parent.parent / "docs" / "getting-started.md"


# ------------------------------------------------------------------------------------------ a full disk


@dataclass
class FullDisk:
    """A folder on a file system with (almost) no space left, and how to run imgout against it."""

    folder: Path
    #: For a child process: the limit that makes its writes fail (the fallback), or nothing (tmpfs).
    preexec: Callable[[], None] | None
    how: str

    def run(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            imgout_command(*args),
            env=process_env(env or {}),
            capture_output=True,
            text=True,
            timeout=180,
            preexec_fn=self.preexec,
            cwd=cwd,
        )

    def files(self) -> list[str]:
        """What is in the folder now (hidden files too), apart from the filler."""
        return sorted(p.name for p in self.folder.rglob("*") if p.name != "filler")


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until about ``leave`` bytes are free."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(folder / "filler", "wb") as filler, contextlib.suppress(OSError):
        filler.write(b"\0" * max(free - leave, 0))


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Callable[[int], FullDisk]]:
    mounts: list[Path] = []

    def make(leave: int = 0) -> FullDisk:
        folder = tmp_path / f"disk{len(mounts)}"
        folder.mkdir()
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0777", "tmpfs", str(folder)], capture_output=True
        )
        if mounted.returncode == 0:
            mounts.append(folder)
            _fill(folder, leave)
            return FullDisk(folder, None, "tmpfs")
        if os.environ.get("CI") and not hasattr(resource, "RLIMIT_FSIZE"):
            pytest.skip(f"neither a tmpfs ({mounted.stderr.decode().strip()}) nor RLIMIT_FSIZE is available")

        def limit_file_size() -> None:  # the equivalent: writes beyond `leave` bytes fail with EFBIG
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (max(leave, 1), max(leave, 1)))

        return FullDisk(folder, limit_file_size, "RLIMIT_FSIZE")

    yield make
    for folder in mounts:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert done.returncode == code, (done.returncode, done.stderr[-3000:])
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("imgout: error: "), done.stderr[-3000:]
    for noise in ("Traceback", "internal error", "Exception ignored", "FileCreateError"):
        assert noise not in done.stderr, done.stderr
    return lines[0]


FULL = ("No space left on device", "File too large")  # tmpfs / the RLIMIT_FSIZE fallback


@pytest.mark.slow
@pytest.mark.parametrize("command", ["workbook", "demo", "excel"])
def test_a_full_disk_is_one_line_exit_1_and_leaves_nothing_behind(
    full_disk: Callable[[int], FullDisk], command: str
) -> None:
    disk = full_disk(0)
    args = {
        "workbook": ["workbook", "--client", "Acme", "--out", str(disk.folder / "acme.xlsx")],
        "demo": ["demo", "--out", str(disk.folder / "demo")],
        "excel": ["excel", "--out", str(disk.folder / "IMGOUT.xlsm")],
    }[command]
    line = _one_line(disk.run(*args), 1)
    assert any(reason in line for reason in FULL) and str(disk.folder) in line, line
    leftovers = [name for name in disk.files() if name not in ("demo",)]
    assert leftovers == [], leftovers


@pytest.mark.slow
def test_brief_format_all_writes_every_file_or_none(
    full_disk: Callable[[int], FullDisk], tmp_path: Path
) -> None:
    roomy = run_imgout(
        "brief", "--client", "Acme", "--format", "all", "--out", str(tmp_path / "roomy"), env={}
    )
    assert roomy.returncode == 0, roomy.stderr
    sizes = sorted(p.stat().st_size for p in (tmp_path / "roomy").iterdir())
    disk = full_disk(sum(sizes[:2]) + 8192)  # room for the two smallest formats, not for all four
    line = _one_line(
        disk.run("brief", "--client", "Acme", "--format", "all", "--out", str(disk.folder / "b")), 1
    )
    assert line.startswith(f"imgout: error: Cannot write the brief into {disk.folder / 'b'}: ")
    assert disk.files() in ([], ["b"]), disk.files()


@pytest.mark.slow
def test_the_delivery_log_on_a_full_disk_stops_the_run_cleanly_and_the_ledger_stays_right(
    full_disk: Callable[[int], FullDisk], make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    disk = full_disk(0)
    server = make_server("none")
    env = delivery_env(server, tmp_path, IMGOUT_LOG=str(disk.folder / "delivery.jsonl"))
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(3))
    if disk.preexec is not None:  # the fallback limits every file: keep the ledger small enough
        pytest.skip("the file-size limit would also stop the ledger; this story needs a real small disk")
    done = disk.run("batch", str(clients), "--no-pdf", env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    failures = done.stderr.splitlines()
    assert failures[-1] == "imgout: 2 of 3 clients not served"
    assert all(
        f"not attempted: Delivery log {disk.folder / 'delivery.jsonl'} cannot be written" in line
        for line in failures[:-1]
    )
    assert len(server.messages) == 1  # the first pack went; the run stopped before the others
    with Ledger(Path(env["IMGOUT_LEDGER"])) as ledger:
        assert [p.status for p in ledger.packs()] == ["sent"]  # recorded, not left "sending"
    os.unlink(disk.folder / "filler")
    again = disk.run("batch", str(clients), "--no-pdf", env=env)
    assert again.returncode == 0, again.stderr
    assert len(server.messages) == 3


@pytest.mark.slow
def test_a_ledger_on_a_full_disk_is_one_line_and_nothing_is_sent(
    full_disk: Callable[[int], FullDisk], make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    disk = full_disk(0)
    server = make_server("none")
    env = delivery_env(server, tmp_path, IMGOUT_LEDGER=str(disk.folder / "ledger.sqlite3"))
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(2))
    line = _one_line(disk.run("batch", str(clients), "--no-pdf", env=env), 1)
    assert f"Send ledger {disk.folder / 'ledger.sqlite3'} cannot be created" in line
    assert server.messages == [] and disk.files() == []


# ------------------------------------------------------------------------------------------ odd input


@pytest.mark.slow  # real imgout processes
@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["forecast", "²⁰³⁰"], 2, "Invalid year: '²⁰³⁰' (expected a year from 2010 to 2050)"),
        (["forecast", "٢٠٣٠"], 0, ""),  # Arabic-Indic digits are a year all the same
        (["excel", "--out", "/proc/x.xlsm"], 2, "Cannot write /proc/x.xlsm: No such file or directory"),
        (["workbook", "--client", "A", "--out", "/proc/x.xlsx"], 2, "Cannot write /proc/x.xlsx"),
        (
            ["batch", "nope.yaml", "--scheduler", "not a url!!"],
            2,
            "Invalid Dask scheduler address 'not a url!!'",
        ),
        (
            ["send", "--client", "A\x1bB", "--to", "a@x.example", "--dry-run", "eml"],
            2,
            "U+001B at position 2",
        ),
        (["ledger", "list"], 2, "no such file (nothing has been sent with it; see IMGOUT_LEDGER)"),
        (["ledger", "resolve", "Acme"], 2, "--delivered (it arrived) or --resend (it did not)"),
        (["batch", "c.yaml", "--edition", "x" * 41], 2, "Invalid edition"),
    ],
)
def test_odd_input_is_one_line_with_the_tables_exit_code(
    tmp_path: Path, args: list[str], code: int, said: str
) -> None:
    env = {"IMGOUT_LEDGER": str(tmp_path / "ledger.sqlite3"), "IMGOUT_LOG": str(tmp_path / "log.jsonl")}
    (tmp_path / "c.yaml").write_text("clients: [{name: A, to: [a@x.example]}]\n")
    done = run_imgout(*args, env=env, cwd=tmp_path, timeout=60)
    if code == 0:
        assert done.returncode == 0, done.stderr
        return
    assert said in _one_line(done, code)


@pytest.mark.slow  # real imgout processes
@pytest.mark.parametrize("command", ["workbook", "brief", "excel", "demo", "send"])
def test_a_300_character_file_name_is_one_line_exit_2(tmp_path: Path, command: str) -> None:
    name = "n" * 300
    args = {
        "workbook": ["workbook", "--client", "Acme", "--out", f"{name}.xlsx"],
        "brief": ["brief", "--client", "Acme", "--format", "txt", "--out", name],
        "excel": ["excel", "--out", f"{name}.xlsm"],
        "demo": ["demo", "--out", name],
        "send": ["send", "--client", "Acme", "--to", "a@x.example", "--no-pdf", "--dry-run", name],
    }[command]
    done = run_imgout(*args, env={"IMGOUT_LOG": str(tmp_path / "log")}, cwd=tmp_path)
    assert "File name too long" in _one_line(done, 2)
    assert os.listdir(tmp_path) in ([], ["log"])


@pytest.mark.slow  # real imgout processes
def test_a_5000_digit_number_in_any_yaml_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("uncertainty:\n  seed: " + "7" * 5000 + "\n")
    done = run_imgout("forecast", "2030", "--assumptions", "a.yaml", env={}, cwd=tmp_path)
    assert _one_line(done, 2) == (
        "imgout: error: Invalid assumptions in a.yaml: line 2: a number of more than 30 digits"
    )


# ------------------------------------------------------------------------------------------ nothing left behind


@pytest.mark.slow  # real imgout processes
def test_a_temporary_file_of_a_workbook_killed_with_kill_9_is_cleaned_by_the_next_run(tmp_path: Path) -> None:
    target = tmp_path / "acme.xlsx"
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys\n"
            "from xl_addin.common.atomic import atomic_path\n"
            "with atomic_path(sys.argv[1]) as temp:\n"
            "    temp.write_bytes(b'PK half a workbook')\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n",
            str(target),
        ],
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL
    [part] = [p.name for p in tmp_path.iterdir()]
    assert re.fullmatch(r"\.acme\.xlsx\.[0-9a-f]{8}-\d+-[0-9a-f]{12}\.part", part)

    done = run_imgout("workbook", "--client", "Acme", "--out", str(target), env={})
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["acme.xlsx"]


def test_a_temporary_file_of_a_live_writer_is_left_alone(tmp_path: Path) -> None:
    from xl_addin.common.atomic import atomic_path, remove_stale_parts

    target = tmp_path / "acme.xlsx"
    with atomic_path(target) as temp:
        remove_stale_parts(target)  # another writer of the same file starting now
        assert temp.exists()
        temp.write_bytes(b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["acme.xlsx"]


# ------------------------------------------------------------------------------------------ exit codes


def test_the_exit_codes_are_the_docs_table() -> None:
    text = GETTING_STARTED.read_text(encoding="utf-8")
    section = text[text.index("## Exit codes") :]
    table = dict(re.findall(r"^\| `(\d+)` \| ([^|]+) \|", section, re.MULTILINE))
    assert sorted(int(c) for c in table) == [0, 1, 2, 130, 143]
    assert cli.exit_code(InputError("x")) == 2
    assert cli.exit_code(OutputError("x")) == 1 and cli.exit_code(DeliveryError("x")) == 1
    assert cli.exit_code(ImgoutError("x")) == 1
    assert (cli.INTERRUPTED, cli.TERMINATED) == (130, 143)
    assert type(os_error("x", OSError(errno.ENAMETOOLONG, "File name too long"))) is InputError
    assert type(os_error("x", OSError(errno.ENOSPC, "No space left on device"))) is OutputError


# ------------------------------------------------------------------------------------------ what a reason says


def test_a_timeout_says_timed_out_and_an_in_doubt_reason_says_in_doubt_once(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    server = make_server("none", data_delay=3)
    env = delivery_env(server, tmp_path, IMGOUT_SMTP_TIMEOUT="1")
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(1))
    first = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert first.returncode == 1
    timed_out = "in doubt: timed out: no complete answer to the message (end of DATA) within 1 s (see IMGOUT_SMTP_TIMEOUT)"
    assert f"{timed_out} after the whole message was sent" in first.stderr
    second = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert second.returncode == 1
    assert timed_out in second.stderr
    for done in (first, second):
        assert "in doubt: in doubt" not in done.stderr and "connection lost" not in done.stderr
    log = [json.loads(line) for line in Path(env["IMGOUT_LOG"]).read_text().splitlines()]
    assert [line["event"] for line in log] == ["attempt", "in doubt"]
    assert len(server.messages) == 1
