"""The email as its reader gets it: the brief's short layer, laid out by headless Chromium at 320, 375, 600 and
1024 px, with its ``<style>`` element and without it (Gmail's apps with a non-Google account strip it); and the
message as it travels (subject, size, the HTML part's encoded size with a long Japanese note, the text part's
widths).

Screenshots go to ``$IMGOUT_LOOK_DIR`` when set (kept), otherwise to pytest's temporary folder.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
from pathlib import Path

import pytest
from markupsafe import escape

from tests.support.chromium import chromium_path
from tests.support.look_at_briefs import clients
from tests.support.look_at_email import MAX_HEIGHT_375, WIDTHS, look_at_emails
from xl_addin.common.formats import money
from xl_addin.delivery.message import build_message
from xl_addin.delivery.pack import build_pack
from xl_addin.model import market_for
from xl_addin.report import build_context, load_profile
from xl_addin.report.brief import email_brief

SENDER = "briefs@imgout.example"
JAPANESE_NOTE = ("医用画像のアウトソーシング市場について、取締役会向けの要約をお送りします。" * 140)[:5000]


@pytest.fixture(scope="module")
def looked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    if chromium_path() is None:
        pytest.skip("Chromium is not installed")
    folder = Path(os.environ.get("IMGOUT_LOOK_DIR") or tmp_path_factory.mktemp("email"))
    profiles = clients(folder)
    emails = {
        label: email_brief(build_context(profile), long_layer=f"{label}.pdf", workbook=f"{label}.xlsx")  # type: ignore[arg-type]
        for label, profile in profiles.items()
    }
    return look_at_emails(emails, folder)


@pytest.mark.slow
def test_at_every_width_with_and_without_style_nothing_scrolls_sideways_and_text_reads(looked) -> None:
    assert len(looked) == 3 * 2 * len(WIDTHS)  # three clients, with and without <style>
    for key, report in looked.items():
        width = report["screen"]
        assert report["scrollWidth"] == width and report["tooWide"] == [], (key, report["tooWide"])
        assert report["smallestText"] >= 13, key  # the footer; body text 16 px
        for image in report["images"]:  # type: ignore[attr-defined]
            # Outlook for Windows draws an image at its width attribute: never wider than its column
            assert 0 < image["attr"] <= 568 and image["width"] <= image["column"] + 0.5, (key, image)
        if width >= 375:
            assert min(report["chartText"]) >= 12, key  # type: ignore[type-var]


@pytest.mark.slow
def test_the_short_layer_is_about_three_phone_screens_and_the_figure_is_on_the_first(looked) -> None:
    for label in ("ordinary", "letter"):
        for styles in ("", " nostyle"):
            report = looked[f"{label} 375{styles}"]
            assert report["height"] <= MAX_HEIGHT_375, (label, styles, report["height"])
            assert report["figureBottom"] <= 667  # the bottom line on the first screen
    # a 300-character unbroken client name and notes in four scripts: still within three screens
    assert looked["hostile 375"]["height"] <= MAX_HEIGHT_375
    # Stripping <style> changes nothing: every style the layout needs is inline.
    for key in looked:
        if key.endswith("nostyle"):
            assert looked[key]["height"] == looked[key.removesuffix(" nostyle")]["height"], key


def test_the_email_says_who_it_is_for_and_the_call_first_and_names_the_long_layer() -> None:
    context = build_context(
        load_profile(None, name="Acme Health", focus_regions=["APAC"], notes="For the board.")
    )
    html = email_brief(context, long_layer="acme.pdf", workbook="acme.xlsx").html
    m = market_for()
    c = m.consensus(2030)
    order = [
        html.index("Acme Health</h1>"),
        html.index("Your focus: Asia-Pacific"),
        html.index(f"USD {money(m.forecast(2030))} bn</p>"),
        html.index(  # after the figure (the hidden preheader carries it first), as Jinja escapes it
            str(
                escape(
                    f"{c.count} publishers' median {money(c.median)}, range {money(c.minimum)}-{money(c.maximum)}"
                )
            ),
            html.index("Your focus: Asia-Pacific"),
        ),
        html.index("For the board."),
        html.index("<strong"),
    ]
    assert order == sorted(order)
    assert "acme.pdf" in html and "acme.xlsx" in html
    assert html.count("<li") == 3  # at most three takeaways
    assert html.count("<img") == 1  # one chart
    # Not the long layer: no tables, no method, no sources list.
    assert '<table class="data' not in html and "Method" not in html and "<ol" not in html
    # Fonts on a few wrappers, not on every cell.
    assert 3 <= html.count("font-family") <= 10


def test_the_preheader_is_in_the_body_text_colour() -> None:
    html = email_brief(build_context(load_profile(None, name="Acme")), long_layer="a.pdf").html
    preheader = re.search(r'<div class="preheader" style="([^"]*)"', html)
    body = re.search(r'<body style="[^"]*;color:(#[0-9A-Fa-f]{6})', html)
    assert preheader and body
    assert f"color:{body.group(1)}" in preheader.group(1) and "#FFFFFF" not in preheader.group(1)


def test_the_logo_travels_inline_with_a_width_no_wider_than_the_column(tmp_path: Path) -> None:
    from tests.support.look_at_briefs import write_logo

    profile = load_profile(None, name="Logo Co", logo=str(write_logo(tmp_path / "logo.png")))
    mail = email_brief(build_context(profile), long_layer="a.pdf")
    logo = next(i for i in mail.images if i.filename == "logo.png")
    tag = re.search(rf'<img class="logo" src="cid:{re.escape(logo.content_id)}" width="(\d+)"', mail.html)
    assert tag and int(tag.group(1)) == 160  # 320 x 80 px shown 40 px high


def test_a_5000_character_japanese_note_keeps_the_html_part_under_gmails_clip(tmp_path: Path) -> None:
    """Quoted-printable would write each of the note's 15,000 UTF-8 bytes as three; base64 writes 4 for 3."""
    profile = load_profile(None, name="Tokyo Imaging", notes=JAPANESE_NOTE, to=["cfo@tokyo.example"])
    pack = build_pack(profile, tmp_path, with_pdf=False)
    raw = build_message(pack, ["cfo@tokyo.example"], sender=SENDER).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    html = parsed.get_body(("html",))
    assert html is not None and html["Content-Transfer-Encoding"] == "base64"
    assert 'lang="ja"' in html.get_content()
    encoded = html.get_payload(decode=False)
    assert len(encoded.encode("ascii")) < 102_000


#: The demo pack's message as transmitted, at most (see the test).
DEMO_MESSAGE_BYTES = 350_000


@pytest.mark.slow  # prints the PDF with a real browser
def test_the_demo_message_weighs_at_most_350_kb_and_its_text_part_fits_76_columns(tmp_path: Path) -> None:
    """The demo's pack (workbook, two-page PDF, one chart PNG): its message as transmitted."""
    from xl_addin.report.brief.pdf import find_browser

    if find_browser().path is None:
        pytest.skip("no browser for the PDF")
    profile = load_profile(
        None,
        name="Demo Radiology Partners",
        focus_regions=["APAC"],
        notes="Prepared for the March board meeting.",
        to=["cfo@demo.example"],
    )
    pack = build_pack(profile, tmp_path)
    raw = build_message(pack, ["cfo@demo.example"], sender=SENDER).as_bytes()
    # Issue 18's 350 KB, well under the 500 KB spam scanners skip unscanned: 340-341 KB since the PDF's
    # fonts lost their hinting (369-371 KB before; the workbook, 142 KB, is 192 KB of it as base64).
    assert len(raw) <= DEMO_MESSAGE_BYTES, len(raw)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    text = parsed.get_body(("plain",))
    assert text is not None
    long_lines = [line for line in text.get_content().splitlines() if len(line) > 76]
    assert all(re.search(r"https?://\S{40,}", line) for line in long_lines), long_lines
