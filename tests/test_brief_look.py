"""The briefs looked at as a person would: headless Chromium lays out the HTML brief and the email on a
320 px and a 375 px phone and a 1280 px desktop, pdftoppm draws the PDF pages.

Screenshots are written for a person to look at: into ``$IMGOUT_LOOK_DIR`` when set (kept), otherwise into
pytest's temporary folder (the last few runs are kept by pytest). They are not committed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.chromium import chromium_path
from tests.support.look_at_briefs import MIN_CHART_TEXT, SCREENS, look_at_briefs

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed")


@pytest.fixture(scope="module")
def look(tmp_path_factory: pytest.TempPathFactory):
    folder = Path(os.environ.get("IMGOUT_LOOK_DIR") or tmp_path_factory.mktemp("look"))
    return look_at_briefs(folder)


@pytest.mark.slow
def test_on_phones_and_desktop_nothing_scrolls_sideways_the_chart_reads_and_the_headline_comes_first(look):
    # Every check of tests/support/look_at_briefs.py: no horizontal overflow at 320, 375 and 1280 px; chart text at
    # least 11 CSS px at 375 and 1280; the headline figure on a phone's first screen; tiles stacked on a
    # phone and side by side on a desktop; body text at least 14 px on a phone; chart and tables drawn.
    assert look.problems == []
    pages = [key for key in look.facts if any(key.endswith(screen) for screen in SCREENS)]
    assert len(pages) == 3 * len(SCREENS)  # three clients' HTML brief, three screens
    for key in pages:
        assert look.facts[key]["tooWide"] == []  # type: ignore[index]
        if not key.endswith("phone-320"):
            assert look.facts[key]["smallest chart text"] >= MIN_CHART_TEXT  # type: ignore[index]


@pytest.mark.slow
def test_the_pdf_is_two_pages_on_a4_and_on_letter_with_a_logo_and_for_a_hostile_client(look):
    assert look.facts["ordinary PDF pages"] == 2
    assert look.facts["letter PDF pages"] == 2  # Letter paper, a logo and a note
    assert look.facts["hostile PDF pages"] == 2  # a 300-character name and notes in four scripts


@pytest.mark.slow
def test_the_email_charts_weigh_at_most_40_kb_and_screenshots_are_written(look):
    for client in ("ordinary", "letter", "hostile"):
        assert all(size <= 40_000 for size in look.facts[f"{client} email PNG bytes"])  # type: ignore[attr-defined]
        assert look.facts[f"{client} email HTML bytes"] < 20_000  # the short layer (Gmail clips over 102 KB)
    assert len(look.pictures) >= 3 * (len(SCREENS) + 1) + 3  # and a dark phone view of each page
    assert all(picture.stat().st_size > 10_000 for picture in look.pictures)
