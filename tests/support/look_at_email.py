"""Look at the email's body as a reader's mail app shows it: headless Chromium at 320, 375, 600 and 1024 px,
with the ``<style>`` element and without it (Gmail's apps with a non-Google account drop it).

    python -m tests.support.look_at_email [OUT_DIR]      # writes the emails and their screenshots; prints what it found

In each view it measures, in the page itself: the page's height, how wide it is against the screen (no
sideways scrolling), the smallest text shown (every element with text of its own, the chart's labels by the
canvas's type size times the image's shown width over the canvas width), and where the figure is.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tests.support.chromium import Browser
from tests.support.look_at_briefs import SHOWN
from xl_addin.report.brief.mail import CHART_CANVAS, EmailBrief

WIDTHS = (320, 375, 600, 1024)
PHONE_HEIGHT = 667
MAX_HEIGHT_375 = 2600
"""The short layer at 375 px: at most about three phone screens."""

MEASURE = (
    """(function () {
  var root = document.documentElement;
"""
    + SHOWN
    + """  var text = [];
  document.querySelectorAll('body *').forEach(function (e) {
    if (!shown(e)) return;
    var own = Array.prototype.some.call(e.childNodes, function (c) {
      return c.nodeType === 3 && c.textContent.trim();
    });
    if (own) text.push([parseFloat(getComputedStyle(e).fontSize), e.tagName + '.' + e.className]);
  });
  var images = Array.prototype.filter.call(document.querySelectorAll('img'), shown).map(function (img) {
    var r = img.getBoundingClientRect();
    return {cls: img.className, width: r.width, attr: parseInt(img.getAttribute('width') || '0', 10),
            column: img.parentElement.getBoundingClientRect().width};
  });
  var wide = Array.prototype.filter.call(document.querySelectorAll('body *'), function (e) {
    return shown(e) && e.getBoundingClientRect().right > %(width)s + 0.5;
  }).map(function (e) { return e.tagName + '.' + e.className; });
  var figure = document.querySelector('.figure').getBoundingClientRect();
  return {screen: %(width)s, scrollWidth: root.scrollWidth, height: root.scrollHeight, text: text,
          images: images, tooWide: wide.slice(0, 8), figureTop: figure.top, figureBottom: figure.bottom};
})()"""
)


def email_file(mail: EmailBrief, folder: Path, stem: str, *, styles: bool = True) -> Path:
    """The email's HTML as a file Chromium can open, each ``cid:`` image written beside it; without its
    ``<style>`` elements when `styles` is False."""
    html = mail.html
    for image in mail.images:
        name = f"{stem}-{image.filename}"
        (folder / name).write_bytes(image.png)
        html = html.replace(f"cid:{image.content_id}", name)
    if not styles:
        html = re.sub(r"<style\b.*?</style>", "", html, flags=re.S | re.I)
    path = folder / f"{stem}{'' if styles else '-nostyle'}.html"
    path.write_text(html, encoding="utf-8")
    return path


def measure(browser: Browser, page_file: Path, width: int) -> dict[str, object]:
    """The page at `width` px (a phone below 600): height, overflow, smallest text, images; a screenshot."""
    page = browser.open(page_file, width=width, height=PHONE_HEIGHT, mobile=width < 600)
    try:
        report: dict[str, object] = page.evaluate(MEASURE % {"width": width})
        shot = page_file.with_name(f"{page_file.stem}-{width}.png")
        page.screenshot(shot)
        report["screenshot"] = str(shot)
    finally:
        page.close()
    chart = [i for i in report["images"] if i["cls"] == "chart-image"]  # type: ignore[union-attr, index]
    report["chartText"] = [CHART_CANVAS.font * i["width"] / CHART_CANVAS.width for i in chart]  # type: ignore[index]
    report["smallestText"] = min(size for size, _ in report["text"])  # type: ignore[union-attr, misc]
    return report


def look_at_emails(emails: Mapping[str, EmailBrief], folder: Path) -> dict[str, dict[str, object]]:
    """Every email at every width of :data:`WIDTHS`, with and without ``<style>``: ``{"label 375": report}``
    (``label 375 nostyle`` for the stripped one)."""
    found: dict[str, dict[str, object]] = {}
    with Browser() as browser:
        for label, mail in emails.items():
            for styles in (True, False):
                page = email_file(mail, folder, label, styles=styles)
                for width in WIDTHS:
                    found[f"{label} {width}{'' if styles else ' nostyle'}"] = measure(browser, page, width)
    return found


def main(argv: list[str]) -> int:
    from tests.support.look_at_briefs import clients
    from xl_addin.report import build_context
    from xl_addin.report.brief import email_brief

    out = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="imgout-email-"))
    out.mkdir(parents=True, exist_ok=True)
    emails = {
        label: email_brief(build_context(profile), long_layer=f"{label}.pdf", workbook=f"{label}.xlsx")  # type: ignore[arg-type]
        for label, profile in clients(out).items()
    }
    for key, report in look_at_emails(emails, out).items():
        facts = {k: report[k] for k in ("height", "scrollWidth", "smallestText", "chartText", "tooWide")}
        print(key, facts)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
