"""Nothing private reaches a client, and no text can inject anything into a document it is written into.

An operator keeps assumption files in folders whose names are their own business
(``Clients - CONFIDENTIAL/Project Falcon/``). Every client-facing output names the set by its file name
and content hash, never its folder: the HTML, Markdown and text briefs, the PDF (text, metadata, every
stream), the workbook (every part of the zip) and the ``.eml`` a dry run writes, attachments included.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.delivery_support import client_entries, write_clients_file
from tests.support.readable import everything_readable
from xl_addin.cli import main

FOLDER_WORDS = ("CONFIDENTIAL", "Falcon")
FILE_NAME = "acme-discount-scenario.yaml"


@pytest.fixture
def confidential_assumptions(tmp_path: Path) -> Path:
    folder = tmp_path / "Clients - CONFIDENTIAL" / "Project Falcon"
    folder.mkdir(parents=True)
    path = folder / FILE_NAME
    path.write_text(yaml.safe_dump({"name": "discount scenario"}), encoding="utf-8")
    return path


def _run(*args: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
        raise SystemExit(0)
    assert stopped.value.code == 0


@pytest.mark.slow
def test_no_client_output_names_the_folder_of_the_assumption_set(
    confidential_assumptions: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assumptions = str(confidential_assumptions)
    _run("brief", "--client", "Acme", "--assumptions", assumptions, "--format", "all", "--out", str(out))
    _run("workbook", "--client", "Acme", "--assumptions", assumptions, "--out", str(out / "acme.xlsx"))
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(1))
    _run("batch", str(clients), "--assumptions", assumptions, "--dry-run", str(out / "eml"))

    files = sorted(p for p in out.rglob("*") if p.is_file())
    kinds = {p.suffix for p in files}
    assert kinds >= {".html", ".md", ".txt", ".pdf", ".xlsx", ".eml"}, kinds
    for file in files:
        text = everything_readable(file.name, file.read_bytes(), tmp_path)
        for word in FOLDER_WORDS:
            assert word not in text, f"{file.name} names the folder ({word!r})"
        if file.suffix in (".html", ".md", ".txt", ".xlsx", ".eml"):
            assert FILE_NAME in text, f"{file.name} does not name the assumption set"


# ------------------------------------------------------------------------------------------ injection

HOSTILE_TEXTS = {
    "CR then a rule": 'x"\r}html::after{content:url(file:canary)}',
    "quotes and a backslash": 'O\'Brien "Imaging" \\ end',
    "closing the style element": "</style><script>alert(1)</script>",
    "form feed and LF": "a\fb\nc",
    "bidi and escape controls": "\u202eevil\x1b[31m",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_TEXTS))
def test_a_css_string_holds_any_text_whole_and_nothing_more(kind: str) -> None:
    import tinycss2

    from xl_addin.report.brief.pdf import css_string

    text = HOSTILE_TEXTS[kind]
    literal = css_string(text)
    assert "<" not in literal and "\r" not in literal and "\n" not in literal
    tokens = [t for t in tinycss2.parse_component_value_list(literal) if t.type != "whitespace"]
    assert [(t.type, t.value) for t in tokens] == [("string", text)]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["chromium", "weasyprint"])
def test_an_assumption_file_named_to_inject_css_is_printed_as_text_in_the_pdf_footer(
    engine: str, tmp_path: Path
) -> None:
    from xl_addin.report import build_context, load_profile
    from xl_addin.report.brief import pdf_bytes

    name = 'x"\r}html::after{content:url(file:canary)} set.yaml'
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"name": "hostile"}), encoding="utf-8")
    data = pdf_bytes(build_context(load_profile(None, name="Acme"), path), engine)
    (tmp_path / "brief.pdf").write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(tmp_path / "brief.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(text.split())
    # The footer is still there, with the name as text (its CR shown as a space), and the page count.
    assert 'x" }html::after{content:url(file:canary)} set.yaml' in flat, flat[-600:]
    assert "page 1 of" in flat


@pytest.mark.parametrize(
    "url",
    [
        'https://example.com/report"',
        "https://example.com/<script>",
        "https://example.com/a report",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "https://example.com/'onmouseover=x",
    ],
)
def test_a_source_url_that_is_not_a_plain_web_address_is_refused_at_load_in_one_line(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sources.yaml"
    source = {"title": "A report", "publisher": "Someone", "date": "2026", "url": url}
    path.write_text(yaml.safe_dump({"sources": {"someone": source}}), encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main(["forecast", "2030", "--assumptions", str(path)])
    assert stopped.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "sources.someone.url" in line and "is not a web address" in line and str(path) in line


def test_only_a_sources_own_url_becomes_a_link_in_the_brief(tmp_path: Path) -> None:
    from html.parser import HTMLParser

    from xl_addin.report import build_context, load_profile
    from xl_addin.report.brief import render_brief

    path = tmp_path / "sources.yaml"
    source = {
        "title": "See https://evil.example/phish for the rest",
        "publisher": "Someone",
        "date": "2026",
        "url": "https://example.com/report?a=1&b=2",
    }
    path.write_text(yaml.safe_dump({"sources": {"someone": source}}), encoding="utf-8")
    html = render_brief(build_context(load_profile(None, name="Acme"), path), "html")

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.found.append(dict(attrs).get("href") or "")

    links = Links()
    links.feed(html)
    assert "https://example.com/report?a=1&b=2" in links.found
    assert not any("evil.example" in href for href in links.found), links.found
    assert "See https://evil.example/phish for the rest" in html  # the title is still there, as text
