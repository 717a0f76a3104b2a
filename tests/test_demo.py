"""The first of the two commands (README, docs/getting-started.md): `imgout demo` builds a whole client pack and says where it went."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.support.libreoffice import found_or_skip
from tests.test_email_look import DEMO_MESSAGE_BYTES
from xl_addin.model import default_market, headline_with_consensus


@pytest.mark.slow  # a real imgout process
def test_the_demo_builds_workbook_briefs_pdf_and_email_and_says_where(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    result = subprocess.run(
        [sys.executable, "-m", "xl_addin.cli", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert str(out.resolve()) in result.stdout
    # The headline with the publishers' consensus beside it, as every face prints it.
    assert f"market in 2030: {headline_with_consensus(default_market(), 2030)}; CAGR" in result.stdout
    suffixes = sorted(p.suffix for p in out.iterdir())
    assert suffixes == [".eml", ".html", ".md", ".pdf", ".txt", ".xlsx"]
    for path in out.iterdir():
        assert path.name in result.stdout
        assert path.stat().st_size > 1000

    eml = next(out.glob("*.eml"))
    # Workbook, two-page PDF and one chart PNG: issue 18's 350 KB, well under the 500 KB spam scanners
    # skip unscanned (tests/test_email_look.py).
    assert eml.stat().st_size <= DEMO_MESSAGE_BYTES
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert "Demo Radiology Partners" in message["Subject"] and len(message["Subject"]) <= 60
    # SpamAssassin's local rules (no network tests) find nothing to count against it: no hidden text, a
    # sender with a name, one image (apt package spamassassin, installed by .ci/run).
    spamassassin = found_or_skip(shutil.which("spamassassin"), "SpamAssassin is not installed")
    verdict = subprocess.run(
        [spamassassin, "-L", "-t"], input=eml.read_bytes(), capture_output=True, check=True, timeout=300
    ).stdout.decode("utf-8", "replace")
    score = re.search(r"Content analysis details:\s+\((-?[\d.]+) points", verdict)
    assert score is not None and float(score.group(1)) <= 0.0, verdict[verdict.find("Content analysis") :]
    attachments = sorted(part.get_filename() for part in message.iter_attachments())
    assert [Path(a).suffix for a in attachments] == [".pdf", ".xlsx"]
    body = message.get_body(("plain",))
    assert body is not None and "27.88" in body.get_content()

    book = openpyxl.load_workbook(next(out.glob("*.xlsx")), read_only=True)
    assert "Inputs" in book.sheetnames


@pytest.mark.slow  # a real imgout process
def test_the_demo_refuses_an_unwritable_folder_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "xl_addin.cli", "demo", "--out", str(blocker / "pack")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("imgout: error: Cannot write to --out")
    assert "Traceback" not in result.stderr
