"""The briefs looked at as a person would: Chromium lays out the HTML, pdftoppm draws the PDF pages."""

from __future__ import annotations

import pytest

from tests.look_at_briefs import look_at_briefs


@pytest.mark.slow
def test_chart_and_tables_are_visible_and_nothing_overflows_the_window_or_the_page(tmp_path):
    look = look_at_briefs(tmp_path)
    assert look.problems == []
    assert len(look.pictures) >= 6  # two widths of HTML and at least one PDF page for each client
    assert look.facts["ordinary PDF pages"] == 1
