"""The PDF brief from two engines: a reader gets the same page from Chromium and from WeasyPrint, with title,
author, subject, clickable sources and a structure for screen readers; an operator gets PDFs from a browser
that starts once per process, survives a crash or a hang, and never outlives the process that started it.

Checked against independent tools: poppler (pdfinfo for metadata, links and the structure tree, pdftoppm for
pictures), psutil for the processes, a real SMTP server for batches, ``kill -9`` for the parent's death.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pikepdf
import psutil
import pytest

from tests.support.compare_pdf_engines import compare_engines
from tests.support.delivery_support import (
    client_entries,
    received_by_client,
    settings_for,
    write_clients_file,
)
from tests.support.smtp_server import LocalSMTPServer
from xl_addin.cli import main
from xl_addin.delivery.batch import channel_for, load_clients, run_batch
from xl_addin.errors import InvalidArgument, PdfEngineError, SettingsError
from xl_addin.model import market_for
from xl_addin.report import build_context, load_profile
from xl_addin.report.brief import browser
from xl_addin.report.brief.browser import PrintJob, find_browser, printing_with
from xl_addin.report.brief.pdf import (
    ENGINES,
    close_engines,
    pdf_bytes,
    pdf_engine,
    pdf_metadata,
    print_document,
    requested_engine,
)

BROWSER = find_browser().path
pytestmark = [
    pytest.mark.skipif(BROWSER is None, reason="no Chromium-family browser on this machine"),
    pytest.mark.slow,
]  # Chromium and WeasyPrint print real PDFs
WEB_ADDRESS = re.compile(r"https?://[^\s()]+[^\s().,;]")


def pdfinfo(path: Path, *options: str) -> str:
    return subprocess.run(["pdfinfo", *options, str(path)], capture_output=True, text=True, check=True).stdout


def browsers_under(pid: int) -> set[int]:
    """The main browser processes among ``pid``'s descendants (their helpers carry ``--type=``)."""
    found = set()
    for process in psutil.Process(pid).children(recursive=True):
        try:
            name = process.name()
            if (name.startswith(("chromium", "chrome", "msedge")) or "headless" in name) and not any(
                a.startswith("--type=") for a in process.cmdline()
            ):
                found.add(process.pid)
        except psutil.Error:
            continue
    return found


def gone(pids: set[int], timeout: float = 20) -> set[int]:
    """The processes among ``pids`` still alive after waiting up to ``timeout`` s (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = set()
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.add(pid)
            except psutil.NoSuchProcess:
                continue
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


@pytest.fixture
def fresh_engines() -> Iterator[None]:
    """Engines made for this test only (it changes the environment they are found from)."""
    close_engines()
    yield
    close_engines()


@pytest.fixture(scope="module")
def context():
    return build_context(load_profile(None, name="Acme Imaging", focus_regions=["APAC"]))


# ------------------------------------------------------------------------------------------ what a reader gets


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_give_title_author_subject_and_clickable_sources(engine, context, tmp_path):
    path = tmp_path / "brief.pdf"
    path.write_bytes(pdf_bytes(context, engine))
    info = pdfinfo(path)
    metadata = pdf_metadata(context)
    assert re.search(r"^Title:\s+Medical imaging outsourcing market: brief for Acme Imaging$", info, re.M)
    assert re.search(rf"^Author:\s+{re.escape(metadata.author)}$", info, re.M)
    assert re.search(
        r"^Subject:\s+Medical imaging outsourcing market 2026-2030 for Acme Imaging: USD 27\.88 bn in 2030, "
        r"9\.1% a year \(base scenario\)$",
        info,
        re.M,
    )
    assert re.search(rf"^Creator:\s+{re.escape(context.provenance)}$", info, re.M)
    assert "base scenario" in re.search(r"^Keywords:\s+(.*)$", info, re.M).group(1)
    links = {line.split()[-1] for line in pdfinfo(path, "-url").splitlines()[1:]}
    addresses = {a for s in context.sources for a in WEB_ADDRESS.findall(s.citation())}
    assert addresses and links == addresses


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_tag_the_pdf_with_headings_tables_the_chart_and_links(engine, context, tmp_path):
    path = tmp_path / "brief.pdf"
    path.write_bytes(pdf_bytes(context, engine))
    assert re.search(r"^Tagged:\s+yes$", pdfinfo(path), re.M)  # after pikepdf stamped Chromium's metadata
    elements = [line.split()[0] for line in pdfinfo(path, "-struct").splitlines() if line.strip()]
    assert elements.count("H1") == 1 and elements.count("H2") >= 8
    assert elements.count("Table") >= 6 and elements.count("TH") >= 30
    assert any(e.startswith("Figure") for e in elements)  # the chart, with its description
    assert elements.count("Link") >= 3


def test_the_document_both_engines_print_carries_page_footer_and_metadata_safely(tmp_path):
    context = build_context(load_profile(None, name="</style><script>x</script>", paper="letter"))
    document = print_document(context)
    head = document.split("</head>")[0]
    assert "@page { size: Letter" in head or "@page { size: letter" in head
    assert "<script>" not in document  # the name is escaped in the meta tags and the page
    # The brief's stylesheet, its screen media queries and the page's: nothing closed early by the name.
    assert head.count("</style>") == 3
    assert '<meta name="author" content="imgout">' in head


def _type_sizes(data: bytes) -> tuple[int, list[float], list[float]]:
    """The PDF's page count, the size of every character drawn (pt), and those at body size (8.5pt or more)."""
    import io

    with pdfplumber.open(io.BytesIO(data)) as document:
        chars = [c for page in document.pages for c in page.chars if c["text"].strip()]
        sizes = [round(c["size"], 2) for c in chars]
        return len(document.pages), sizes, [s for s in sizes if s >= 8.5]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_the_pdf_is_two_pages_with_nothing_under_7pt_and_most_text_at_body_size(paper, engine, tmp_path):
    """A client with a logo, a focus and a note, on A4 and on Letter: every character's size read back."""
    from tests.support.look_at_briefs import write_logo

    profile = load_profile(
        None,
        name="Bull Radiology Group",
        scenario="bull",
        paper=paper,
        logo=str(write_logo(tmp_path / "logo.png")),
        notes="Prepared for the board meeting of 12 March.",
        focus_segments=["CT"],
    )
    pages, sizes, body = _type_sizes(pdf_bytes(build_context(profile), engine))
    assert pages == 2
    assert min(sizes) >= 7.0  # chart labels 7.1pt, the page footer 7pt
    # Paragraphs, lists and table figures at 8.5pt or more: 57 % of all characters (6 % in the one-page
    # PDF); under it only table headers, notes under charts and tables, sources and the charts' labels.
    assert len(body) / len(sizes) >= 0.55


@pytest.mark.parametrize("engine", ENGINES)
def test_the_tagged_pdf_maps_every_tag_and_marks_each_notes_language(engine, tmp_path):
    """A Japanese note and an English one: the structure tree's BlockQuotes carry ja and en, every
    non-standard tag (Chromium's Strong) has a RoleMap entry, and the CJK text is in a CID font, not Type 3."""
    from xl_addin.report.brief.pdf import STANDARD_TAGS

    note = "医用画像のアウトソーシング市場について、取締役会向けの要約です。" * 20
    profile = load_profile(None, name="東京画像センター", notes=f"{note}\n\nThe board meets on 12 March.")
    path = tmp_path / "brief.pdf"
    path.write_bytes(pdf_bytes(build_context(profile), engine))
    with pikepdf.open(path) as pdf:
        tree = pdf.Root.StructTreeRoot
        tags, languages, pending = set(), [], [tree]
        while pending:
            node = pending.pop()
            if "/S" in node:
                tags.add(str(node.S)[1:])
                if node.S == "/BlockQuote":
                    languages.append(str(node.get("/Lang", "")))
            kids = node.get("/K")
            children = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
            pending.extend(reversed([k for k in children if isinstance(k, pikepdf.Dictionary)]))
        role_map = {str(k)[1:] for k in tree.get("/RoleMap", {})}
        assert str(pdf.Root.Lang) == "en"
    assert languages == ["ja", "en"]
    assert tags - STANDARD_TAGS <= role_map and ("Strong" in tags or engine == "weasyprint")
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Type 3" not in fonts and "DroidSansFallback" in fonts.replace("-", "")


def test_the_pages_of_both_engines_look_alike(tmp_path):
    """Both engines' pages as PNGs (for a person to compare), checked: same page count, chart and tables."""
    comparison = compare_engines(tmp_path)
    assert comparison.problems == []
    for client in ("ordinary", "hostile"):
        pages = {engine: comparison.look.facts[f"{client}-{engine} PDF pages"] for engine in ENGINES}
        assert len(set(pages.values())) == 1, (client, pages)
    assert comparison.look.facts["ordinary-chromium PDF pages"] == 2
    assert len(list(tmp_path.glob("*.png"))) >= 4


# ------------------------------------------------------------------------------------------ choosing an engine


def test_the_engine_comes_from_the_argument_the_environment_or_auto(monkeypatch):
    monkeypatch.delenv("IMGOUT_PDF_ENGINE", raising=False)
    assert requested_engine() == "auto"
    monkeypatch.setenv("IMGOUT_PDF_ENGINE", " WeasyPrint ")
    assert requested_engine() == "weasyprint"
    assert requested_engine("chromium") == "chromium"
    monkeypatch.setenv("IMGOUT_PDF_ENGINE", "pdfkit")
    with pytest.raises(InvalidArgument, match=r"Invalid IMGOUT_PDF_ENGINE: 'pdfkit' \(expected one of auto"):
        requested_engine()
    monkeypatch.delenv("IMGOUT_PDF_ENGINE")
    assert pdf_engine("auto") is pdf_engine("chromium")  # one browser per process, whatever it is called


def _cli(*args: str) -> int:
    """Run the command in this process; its exit code."""
    try:
        main(list(args))
    except SystemExit as stopped:
        return int(stopped.code or 0)
    return 0


def _brief_pdf(out: Path, *options: str) -> int:
    return _cli("brief", "--client", "Acme", "--format", "pdf", "--out", str(out), *options)


def test_imgout_brief_and_demo_say_which_engine_printed_the_pdf(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("IMGOUT_PDF_ENGINE", raising=False)
    assert _brief_pdf(tmp_path / "b") == 0
    out = capsys.readouterr().out
    assert re.search(r"^PDF printed by Chromium [\d.]+ at \S+$", out, re.M), out
    assert _brief_pdf(tmp_path / "w", "--pdf-engine", "weasyprint") == 0
    assert "PDF printed by WeasyPrint " in capsys.readouterr().out
    assert "Producer:        WeasyPrint" in pdfinfo(tmp_path / "w" / "Acme-brief.pdf")
    assert _cli("demo", "--out", str(tmp_path / "demo")) == 0
    assert re.search(r"^PDF printed by Chromium [\d.]+ at \S+$", capsys.readouterr().out, re.M)


def test_an_unknown_engine_is_refused_before_anything_is_written(tmp_path, capsys):
    assert _brief_pdf(tmp_path / "o", "--pdf-engine", "pdfkit") == 2
    assert capsys.readouterr().err.strip() == (
        "imgout: error: Invalid PDF engine: 'pdfkit' (expected one of auto, chromium, weasyprint)"
    )
    assert not (tmp_path / "o").exists()


def test_imgout_doctor_tells_which_engines_work_here(capsys):
    assert _cli("doctor") == 0
    out = capsys.readouterr().out
    assert re.search(r"^  chromium    works: Chromium [\d.]+ at \S+$", out, re.M), out
    assert re.search(r"^  weasyprint  works: WeasyPrint [\d.]+$", out, re.M), out


def _imgout(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, with ``env`` over this environment."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IMGOUT_")}
    return subprocess.run(
        [sys.executable, "-m", "xl_addin", *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_without_a_browser_the_pdf_comes_from_weasyprint_with_a_one_line_notice(tmp_path):
    done = _imgout(
        ["brief", "--client", "Acme", "--format", "pdf", "--out", str(tmp_path)], PATH=str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "imgout: PDF by WeasyPrint: no Chromium, Chrome or Edge found on PATH (chrome-headless-shell, chromium, "
        "chromium-browser, google-chrome, google-chrome-stable, microsoft-edge, microsoft-edge-stable, chrome, "
        "msedge); "
        "IMGOUT_BROWSER can name one"
    ]
    assert re.search(r"^PDF printed by WeasyPrint [\d.]+$", done.stdout, re.M)
    assert "Producer:        WeasyPrint" in pdfinfo(tmp_path / "Acme-brief.pdf")


def test_asking_for_chromium_without_a_browser_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    args = ["brief", "--client", "Acme", "--format", "pdf", "--out", str(out), "--pdf-engine", "chromium"]
    done = _imgout(args, PATH=str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "imgout: error: PDF engine chromium: no Chromium, Chrome or Edge found on PATH (chrome-headless-shell, "
        "chromium, chromium-browser, google-chrome, google-chrome-stable, microsoft-edge, microsoft-edge-stable, chrome, "
        "msedge); set IMGOUT_BROWSER to the browser's path"
    ]
    assert not out.exists()
    done = _imgout(
        ["brief", "--client", "Acme", "--format", "pdf", "--out", str(out)], IMGOUT_BROWSER="/no/chrome"
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "imgout: error: IMGOUT_BROWSER='/no/chrome' is not a program (no such file, or not executable); "
        "expected the path of Chromium, Chrome or Edge"
    ]


def _program(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_the_browser_is_found_where_windows_and_macos_install_it(tmp_path):
    edge = _program(tmp_path / "Program Files (x86)" / "Microsoft" / "Edge" / "Application" / "msedge.exe")
    windows = {"PROGRAMFILES": str(tmp_path / "Program Files"), "PROGRAMFILES(X86)": str(edge.parents[3])}
    assert find_browser(windows, "win32").path == edge
    chrome = _program(tmp_path / "AppData" / "Local" / "Google" / "Chrome" / "Application" / "chrome.exe")
    assert find_browser({**windows, "LOCALAPPDATA": str(chrome.parents[3])}, "win32").path == edge
    assert find_browser({"LOCALAPPDATA": str(chrome.parents[3])}, "win32").path == chrome
    mac = _program(tmp_path / "Applications" / "Chromium.app" / "Contents" / "MacOS" / "Chromium")
    assert find_browser({"HOME": str(tmp_path), "PATH": ""}, "darwin").path == mac
    nothing = find_browser({"PATH": ""}, "win32")
    assert nothing.path is None and nothing.looked.startswith("under Program Files and AppData")
    named = _program(tmp_path / "bin" / "my-chrome")
    assert find_browser({"IMGOUT_BROWSER": str(named)}, "linux").path == named
    assert find_browser({"IMGOUT_BROWSER": "my-chrome", "PATH": str(named.parent)}, "linux").path == named
    with pytest.raises(SettingsError, match="IMGOUT_BROWSER='nope'"):
        find_browser({"IMGOUT_BROWSER": "nope", "PATH": str(named.parent)}, "linux")


def test_on_linux_the_old_headless_shell_is_preferred_and_found_as_the_program_itself(tmp_path):
    """Debian's chromium-headless-shell prints with a third less CPU than the full browser; its command on
    PATH is a wrapper script, so the program beside the PATH folder (../lib/chromium/) is what is found."""
    full = _program(tmp_path / "bin" / "chromium")
    assert find_browser({"PATH": str(full.parent)}, "linux").path == full
    shell = _program(tmp_path / "lib" / "chromium" / "chromium-headless-shell")
    assert find_browser({"PATH": str(full.parent)}, "linux").path == shell
    google = _program(tmp_path / "elsewhere" / "chrome-headless-shell")
    assert find_browser({"PATH": f"{google.parent}{os.pathsep}{full.parent}"}, "linux").path == shell
    # Only beside a folder called bin: PATH=/nonexistent does not send the search to /lib/chromium.
    assert find_browser({"PATH": str(tmp_path / "elsewhere")}, "linux").path == google


# ------------------------------------------------------------------------------------------ the browser's life


def _job(context) -> PrintJob:
    return PrintJob(print_document(context))


def test_a_crashed_browser_is_started_again_and_the_pdf_is_printed(context):
    with printing_with(BROWSER) as printer:
        assert printer.print_pdf(_job(context)).startswith(b"%PDF")
        first = printer.pids[-1]
        psutil.Process(first).kill()
        assert gone({first}) == set()
        assert printer.print_pdf(_job(context)).startswith(b"%PDF")
        assert printer.starts == 2 and printer.pids[-1] != first


def test_a_hung_browser_is_killed_and_started_again(context, monkeypatch):
    monkeypatch.setattr(browser, "PRINT_TIMEOUT", 4.0)
    with printing_with(BROWSER) as printer:
        printer.print_pdf(_job(context))
        hung = printer.pids[-1]
        [profile] = [
            a.split("=", 1)[1] for a in psutil.Process(hung).cmdline() if a.startswith("--user-data-dir=")
        ]
        os.kill(hung, signal.SIGSTOP)  # alive but answering nothing
        started = time.monotonic()
        assert printer.print_pdf(_job(context)).startswith(b"%PDF")
        assert time.monotonic() - started >= 4.0
        assert gone({hung}) == set() and printer.starts == 2
        assert not Path(profile).exists()  # its temporary profile is not left behind


def _flaky_browser(tmp_path: Path) -> tuple[Path, Path]:
    """A browser program that refuses to start while a flag file exists (a broken install, a full disk)."""
    flag = tmp_path / "broken"
    script = tmp_path / "flaky-chromium"
    script.write_text(
        f'#!/bin/sh\nif [ -e "{flag}" ]; then echo "cannot start" >&2; exit 3; fi\nexec "{BROWSER}" "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script, flag


def test_a_browser_that_fails_again_after_a_restart_is_one_line_and_the_next_pdf_tries_again(
    context, tmp_path
):
    script, flag = _flaky_browser(tmp_path)
    with printing_with(script) as printer:
        printer.print_pdf(_job(context))
        flag.touch()
        psutil.Process(printer.pids[-1]).kill()
        with pytest.raises(PdfEngineError) as failed:
            printer.print_pdf(_job(context))
        message = str(failed.value)
        assert "\n" not in message and len(message) < 800
        assert message.startswith(f"The browser {script} could not print the PDF brief, twice: ")
        assert "; after a restart: it did not start: " in message
        flag.unlink()
        assert printer.print_pdf(_job(context)).startswith(b"%PDF")
        assert printer.starts == 3


def test_after_two_briefs_failed_in_a_row_the_printer_gives_up_for_a_while_then_tries_again(
    context, tmp_path, monkeypatch
):
    """A browser that keeps failing costs each brief a start and a timeout (two minutes for one that starts
    but never prints): after two failed briefs in a row the next ones fail at once, until the pause ends."""
    from xl_addin.report.brief import browser

    monkeypatch.setattr(browser, "GIVE_UP_SECONDS", 2.0)
    script, flag = _flaky_browser(tmp_path)
    flag.touch()
    with printing_with(script) as printer:
        for _ in range(2):
            with pytest.raises(PdfEngineError, match="could not print the PDF brief, twice"):
                printer.print_pdf(_job(context))
        started = printer.starts
        with pytest.raises(PdfEngineError) as given_up:
            printer.print_pdf(_job(context))
        assert str(given_up.value).startswith(
            f"Not tried: the browser {script} failed on the last 2 PDF briefs"
        )
        assert printer.starts == started  # no browser was started for it
        flag.unlink()
        time.sleep(2.1)
        assert printer.print_pdf(_job(context)).startswith(b"%PDF")


def test_calls_from_several_threads_share_one_browser(context):
    from concurrent.futures import ThreadPoolExecutor

    with printing_with(BROWSER) as printer, ThreadPoolExecutor(4) as pool:
        pdfs = list(pool.map(lambda _: printer.print_pdf(_job(context)), range(6)))
    assert all(p.startswith(b"%PDF") for p in pdfs) and printer.starts == 1 and printer.printed == 6


_PARENT = """
import sys, time
from xl_addin.report import build_context, load_profile
from xl_addin.report.brief.pdf import pdf_bytes, pdf_engine
pdf_bytes(build_context(load_profile(None, name="Acme")), "chromium")
print(*pdf_engine("chromium").printer.pids, flush=True)
time.sleep(600)
"""


def test_no_browser_outlives_a_parent_killed_with_kill_9():
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True)
    try:
        driver, main_browser = (int(p) for p in parent.stdout.readline().split())
        processes = {driver, main_browser} | {
            p.pid for p in psutil.Process(main_browser).children(recursive=True)
        }
        assert len(processes) >= 3
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    assert gone(processes) == set()


def _print_and_exit_hard(report) -> None:
    """A multiprocessing worker's end: os._exit, no atexit."""
    pdf_bytes(build_context(load_profile(None, name="Acme")), "chromium")
    report.put(sorted(browsers_under(os.getpid())))
    report.close()
    report.join_thread()
    os._exit(0)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_a_workers_browser_dies_with_the_worker_even_through_os_exit(start, context):
    if start == "fork":
        pdf_bytes(context, "chromium")  # the parent has a browser of its own when it forks
    mp = multiprocessing.get_context(start)
    report = mp.Queue()
    worker = mp.Process(target=_print_and_exit_hard, args=(report,))
    worker.start()
    pids = set(report.get(timeout=120))
    worker.join(60)
    assert len(pids) == 1 and worker.exitcode == 0
    assert gone(pids) == set()
    if start == "fork":
        assert pdf_engine("chromium").printer.pids[-1] in browsers_under(os.getpid())  # the parent's lives on


# ------------------------------------------------------------------------------------------ batches


def _clients(tmp_path: Path, count: int) -> list:
    return load_clients(write_clients_file(tmp_path / "clients.yaml", client_entries(count)), market_for())


def _pdf_names(message) -> list[str]:
    return [a.get_filename() for a in message.iter_attachments() if a.get_filename().endswith(".pdf")]


@pytest.mark.slow
def test_a_browser_killed_mid_batch_is_restarted_and_every_pack_arrives_once(tmp_path):
    """--jobs 2: each worker keeps one browser; both are killed after the second pack; all 10 still arrive."""
    entries = _clients(tmp_path, 10)
    ours = browsers_under(os.getpid())  # this process's own browser (earlier tests) is not the workers'
    seen: list[set[int]] = []
    killed: set[int] = set()

    def kill_after_the_second(client: str, done: int) -> None:
        seen.append(browsers_under(os.getpid()) - ours)
        if done == 2:
            for pid in seen[-1]:
                psutil.Process(pid).kill()
                killed.add(pid)

    with LocalSMTPServer("none") as server:
        settings = settings_for(server, tmp_path)
        report = run_batch(
            entries, settings, channel_for(settings), jobs=2, with_pdf=True, progress=kill_after_the_second
        )
        by_client = received_by_client(server)
    assert [r.status for r in report.results] == ["sent"] * 10, report.failures
    assert sorted(by_client) == sorted(e.profile.name for e in entries)
    for entry in entries:
        [received] = by_client[entry.profile.name]
        [pdf] = _pdf_names(received.message)
        assert pdf.startswith(entry.profile.slug)
    browsers = set().union(*seen)
    assert killed and len(killed) <= 2 and 3 <= len(browsers) <= 4, seen  # the two, and one or two restarts
    assert gone(browsers) == set()  # the workers have exited; so have their browsers


@pytest.mark.slow
def test_a_browser_that_cannot_restart_fails_one_pack_with_its_reason_and_the_batch_goes_on(
    tmp_path, monkeypatch, fresh_engines
):
    script, flag = _flaky_browser(tmp_path)
    monkeypatch.setenv("IMGOUT_BROWSER", str(script))
    monkeypatch.setenv("IMGOUT_PDF_ENGINE", "chromium")
    entries = _clients(tmp_path, 4)

    def break_then_mend(client: str, done: int) -> None:
        if done == 1:  # the browser crashes, and cannot start again for the second pack
            flag.touch()
            psutil.Process(pdf_engine().printer.pids[-1]).kill()
        if done == 2:
            flag.unlink()

    with LocalSMTPServer("none") as server:
        settings = settings_for(server, tmp_path)
        report = run_batch(entries, settings, channel_for(settings), with_pdf=True, progress=break_then_mend)
        assert [r.status for r in report.results] == ["sent", "failed", "sent", "sent"]
        reason = report.results[1].reason
        assert reason.startswith(f"pack not built: The browser {script} could not print the PDF brief, twice")
        assert "\n" not in reason
        assert len(server.messages) == 3
        rerun = run_batch(entries, settings, channel_for(settings), with_pdf=True)
        assert [r.status for r in rerun.results] == ["already sent", "sent", "already sent", "already sent"]
        assert sorted(received_by_client(server)) == sorted(e.profile.name for e in entries)
        assert all(len(messages) == 1 for messages in received_by_client(server).values())


@pytest.mark.slow
def test_each_dask_worker_starts_one_browser_and_keeps_it_for_every_pack(tmp_path):
    from distributed import Client, LocalCluster

    entries = _clients(tmp_path, 6)
    with (
        LocalSMTPServer("none") as server,
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        workers = client.run(os.getpid).values()
        settings = settings_for(server, tmp_path)
        browsers = []
        for run in ("first", "second"):
            channel = channel_for(settings, dry_run=tmp_path / run)
            report = run_batch(entries, settings, channel, scheduler=cluster.scheduler_address, with_pdf=True)
            assert [r.status for r in report.results] == ["written"] * 6, report.failures
            browsers.append({pid: browsers_under(pid) for pid in workers})
        assert all(len(b) <= 1 for b in browsers[0].values()) and sum(map(len, browsers[0].values())) >= 1
        assert browsers[1] == browsers[0]  # the same browsers for the second run's packs, not new ones
    assert gone(set().union(*browsers[0].values())) == set()
