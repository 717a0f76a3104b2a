"""Look at the briefs as a person would: the HTML brief in headless Chromium on a phone and a desktop, the
PDF pages as pictures (the email, the brief's short layer, is looked at by :mod:`tests.support.look_at_email`).

    python -m tests.support.look_at_briefs [OUT_DIR]      # default: a new temporary folder; prints what it found

For each client (an ordinary one, a bull-scenario client on Letter paper with a logo and a note, and one
with a 300-character unbroken name plus Chinese, Arabic and Greek notes) it writes the HTML and PDF brief
and weighs the email's HTML and chart PNG, then:

- HTML: Chromium (driven over the DevTools protocol, :mod:`tests.support.chromium`) emulates a 320 px
  and a 375 px phone and a 1280 px desktop. In each it measures, in the page itself: how wide the page is
  against the screen (no sideways scrolling), the size of the smallest chart text as shown (SVG text by
  its font size times the SVG's scale; the email's PNG by the canvas's type size times the image's shown
  width over the canvas width), whether a table's row name breaks inside a word, where the headline figure is (on the first screen of a phone), whether
  the headline tiles stack on a phone, and the smallest body text; then saves a full-page screenshot.
- PDF: ``pdftoppm`` renders every page; the chart's colours and the tables' header colour must be on the
  first page, and the strips inside the left and right page margins must be blank on every page.

Writes PNGs next to the briefs (for a person to look at; not committed) and returns what it found.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from tests.support.chromium import Browser
from xl_addin.common.formats import money
from xl_addin.report import build_context, load_profile
from xl_addin.report.brief import email_brief, write_briefs
from xl_addin.report.brief.charts import SCENARIO_COLOURS, figures
from xl_addin.report.brief.drawing import Canvas

BRAND = "#1F4E79"
SCREENS = {  # name: (width, height, phone)
    "phone-320": (320, 568, True),
    "phone-375": (375, 667, True),
    "desktop-1280": (1280, 800, False),
}
MIN_CHART_TEXT = 11.0  # CSS px, at 375 px wide and on the desktop
MIN_BODY_TEXT = 14.0  # CSS px, on a phone
PDF_DPI = 100
MARGIN_STRIP_MM = 5  # inside the 7 mm page margin

#: A JavaScript function: whether an element is shown (not hidden by itself or an ancestor, and not empty).
SHOWN = """  var shown = function (e) {
    for (var n = e; n && n.nodeType === 1; n = n.parentElement) {
      var s = getComputedStyle(n);
      if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
    }
    var r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
"""

MEASURE = (
    """(function () {
  var root = document.documentElement;
"""
    + SHOWN
    + """  var chartText = [];
  document.querySelectorAll('svg').forEach(function (svg) {
    if (!shown(svg)) return;
    var scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    svg.querySelectorAll('text').forEach(function (t) {
      chartText.push(parseFloat(getComputedStyle(t).fontSize) * scale);
    });
  });
  var images = [];
  document.querySelectorAll('img.chart-image').forEach(function (img) {
    if (shown(img)) images.push({src: img.getAttribute('src'), width: img.getBoundingClientRect().width});
  });
  var body = [];
  document.querySelectorAll('p, li, td, th.rowhead').forEach(function (e) {
    if (!shown(e) || e.closest('.preheader, .band, .kpis') || !e.textContent.trim()) return;
    if (e.children.length && !Array.prototype.some.call(e.childNodes, function (c) {
      return c.nodeType === 3 && c.textContent.trim();
    })) return;
    body.push([parseFloat(getComputedStyle(e).fontSize), e.tagName + '.' + e.className]);
  });
  var kpis = Array.prototype.map.call(document.querySelectorAll('.kpi'), function (e) {
    var r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom];
  });
  var headline = document.querySelector('.kpi-value');
  var h = headline.getBoundingClientRect();
  var brokenNames = [];  // a row name's word set on two lines (a hyphen or slash may end a line)
  document.querySelectorAll('th.rowhead, td.name').forEach(function (cell) {
    var text = cell.firstChild;
    if (!text || text.nodeType !== 3) return;
    var words = /[^\\s\\/-]+[\\/-]?/g, m;
    while ((m = words.exec(text.textContent))) {
      var range = document.createRange();
      range.setStart(text, m.index);
      range.setEnd(text, m.index + m[0].length);
      var tops = {};
      Array.prototype.forEach.call(range.getClientRects(), function (r) { tops[Math.round(r.top)] = 1; });
      if (Object.keys(tops).length > 1) brokenNames.push(m[0]);
    }
  });
  var wide = Array.prototype.filter.call(document.querySelectorAll('body *'), function (e) {
    return shown(e) && e.getBoundingClientRect().right > %(width)s + 0.5;
  }).map(function (e) { return e.tagName + '.' + e.className; });
  return {
    screen: %(width)s, innerWidth: window.innerWidth, innerHeight: window.innerHeight,
    scrollWidth: root.scrollWidth, height: root.scrollHeight,
    chartText: chartText, images: images, body: body, kpis: kpis,
    headline: {text: headline.textContent, top: h.top, bottom: h.bottom, shown: shown(headline)},
    brokenNames: brokenNames,
    tooWide: wide.slice(0, 8)
  };
})()"""
)


@dataclass
class Look:
    """What was looked at and what was wrong."""

    out_dir: Path
    pictures: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _count_near(image: Image.Image, colour: str, tolerance: int = 40) -> int:
    """Pixels within `tolerance` (per channel) of a colour: anti-aliasing makes exact matches rare."""
    target = _rgb(colour)
    return sum(
        n
        for n, px in image.convert("RGB").getcolors(1 << 24) or []
        if all(abs(a - b) <= tolerance for a, b in zip(px, target, strict=True))
    )


def _non_white(image: Image.Image) -> float:
    grey = image.convert("L")
    histogram = grey.histogram()
    return 1 - sum(histogram[245:]) / max(1, grey.width * grey.height)


def measure(
    browser: Browser, page_file: Path, screen: str, canvases: Mapping[str, Canvas]
) -> dict[str, object]:
    """Open a page on one screen of :data:`SCREENS` and measure it (see the module docstring);
    `canvases` are the charts' canvases by name (``market-wide`` ...)."""
    width, height, phone = SCREENS[screen]
    page = browser.open(page_file, width=width, height=height, mobile=phone)
    try:
        report: dict[str, object] = page.evaluate(MEASURE % {"width": width})
        shot = page_file.with_name(f"{page_file.stem}-{screen}.png")
        page.screenshot(shot)
        report["screenshot"] = str(shot)
    finally:
        page.close()
    for image in report["images"]:  # type: ignore[union-attr]
        stem = Path(str(image["src"])).stem  # type: ignore[index]
        canvas = next(c for name, c in canvases.items() if stem.endswith(name))
        report["chartText"] = [*report["chartText"], canvas.font * image["width"] / canvas.width]  # type: ignore[misc]
    return report


def check(
    report: dict[str, object], label: str, expected_headline: str, look: Look, *, first_screen: bool = True
) -> None:
    """The problems a measured page shows on its screen (`first_screen`: the headline figure must be on
    a phone's first screen; not for a 300-character client name, which fills it)."""
    width = report["screen"]
    phone = width < 640  # type: ignore[operator]
    if report["scrollWidth"] > width or report["innerWidth"] != width:  # type: ignore[operator]
        look.problems.append(
            f"{label}: the page is {report['scrollWidth']} px wide on a {width} px screen ({report['tooWide']})"
        )
    if report["brokenNames"]:
        look.problems.append(f"{label}: row names break inside a word: {report['brokenNames']}")
    chart = report["chartText"]
    if not chart:
        look.problems.append(f"{label}: no chart shown")
    elif width >= 375 and min(chart) < MIN_CHART_TEXT:  # type: ignore[type-var, operator]
        look.problems.append(f"{label}: chart text {min(chart):.1f} px, under {MIN_CHART_TEXT} px")  # type: ignore[type-var]
    headline = report["headline"]
    if headline["text"] != expected_headline or not headline["shown"]:  # type: ignore[index]
        look.problems.append(f"{label}: the first tile shows {headline['text']!r}, not {expected_headline!r}")  # type: ignore[index]
    if first_screen and phone and not 0 <= headline["top"] < headline["bottom"] <= report["innerHeight"]:  # type: ignore[index, operator]
        look.problems.append(f"{label}: the headline figure is not on the first screen ({headline})")
    kpis = report["kpis"]
    stacked = all(b[1] >= a[3] for a, b in itertools.pairwise(kpis))  # type: ignore[index, arg-type]
    if phone != stacked:
        look.problems.append(f"{label}: headline tiles {'do not stack' if phone else 'stack'}: {kpis}")
    if phone:
        small = sorted({(size, where) for size, where in report["body"] if size < MIN_BODY_TEXT})  # type: ignore[union-attr]
        if small:
            look.problems.append(f"{label}: body text under {MIN_BODY_TEXT} px: {small[:5]}")


def look_at_pages(
    pages: dict[str, Path],
    canvases: Mapping[str, Canvas],
    expected_headline: str,
    look: Look,
    label: str,
    *,
    first_screen: bool = True,
) -> None:
    """Measure and check each page (HTML file, email) on every screen; keep the screenshots."""
    with Browser() as browser:
        for kind, page_file in pages.items():
            for screen in SCREENS:
                report = measure(browser, page_file, screen, canvases)
                name = f"{label} {kind} {screen}"
                look.facts[name] = {
                    k: report[k] for k in ("scrollWidth", "height", "tooWide") if k in report
                } | {"smallest chart text": round(min(report["chartText"] or [0]), 1)}  # type: ignore[type-var]
                look.pictures.append(Path(str(report["screenshot"])))
                check(report, name, expected_headline, look, first_screen=first_screen)
                _check_screenshot(Path(str(report["screenshot"])), name, look)
            look.pictures.append(dark_screenshot(browser, page_file))


def dark_screenshot(browser: Browser, page_file: Path) -> Path:
    """A 375 px phone in dark mode (what Apple Mail shows with the system set to dark), for a person."""
    width, height, phone = SCREENS["phone-375"]
    page = browser.open(page_file, width=width, height=height, mobile=phone)
    try:
        dark = {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
        page.send("Emulation.setEmulatedMedia", dark)
        return page.screenshot(page_file.with_name(f"{page_file.stem}-phone-375-dark.png"))
    finally:
        page.close()


def _check_screenshot(shot: Path, label: str, look: Look) -> None:
    with Image.open(shot) as image:
        if _count_near(image, SCENARIO_COLOURS["bear"]) < 30:
            look.problems.append(f"{label}: the bear scenario line is not visible in the screenshot")
        if _count_near(image, BRAND, 8) < 3000:
            look.problems.append(f"{label}: the table headers (brand colour) are not visible")


def look_at_pdf(pdf: Path, look: Look, label: str, work: Path) -> None:
    """Render every page; check the chart and tables are drawn and nothing reaches into the side margins."""
    prefix = work / pdf.stem
    subprocess.run(["pdftoppm", "-png", "-r", str(PDF_DPI), str(pdf), str(prefix)], check=True, timeout=120)
    pages = sorted(work.glob(f"{pdf.stem}-*.png"))
    if not pages:
        look.problems.append(f"{label} PDF: no pages rendered")
        return
    look.facts[f"{label} PDF pages"] = len(pages)
    strip = round(MARGIN_STRIP_MM / 25.4 * PDF_DPI)
    for number, page in enumerate(pages, 1):
        target = look.out_dir / f"{label}-pdf-page-{number}.png"
        page.replace(target)
        look.pictures.append(target)
        with Image.open(target) as image:
            for side, box in (
                ("left", (0, 0, strip, image.height)),
                ("right", (image.width - strip, 0, image.width, image.height)),
            ):
                ink = _non_white(image.crop(box))
                if ink > 0:
                    look.problems.append(
                        f"{label} PDF page {number}: content in the {side} margin ({ink:.2%} of it)"
                    )
            if number == 1:
                if _count_near(image, SCENARIO_COLOURS["bear"]) < 20:
                    look.problems.append(f"{label} PDF page 1: the chart's scenario lines are not visible")
                if _count_near(image, BRAND, 8) < 2000:
                    look.problems.append(f"{label} PDF page 1: the header and table headers are not visible")


def write_logo(path: Path) -> Path:
    """A 320 x 80 px logo (a wordmark-sized PNG, as a client would give)."""
    image = Image.new("RGB", (320, 80), "#FFFFFF")
    ImageDraw.Draw(image).rectangle([8, 8, 72, 72], fill="#0E7490")
    ImageDraw.Draw(image).text((90, 28), "BULL RADIOLOGY", fill="#111827", font_size=22)
    image.save(path)
    return path


def clients(folder: Path) -> dict[str, object]:
    """The clients looked at: ordinary, bull on Letter with a logo and a note, and a hostile one."""
    logo = write_logo(folder / "logo.png")
    return {
        "ordinary": load_profile(None, name="Acme Imaging Partners", focus_regions=["APAC"]),
        "letter": load_profile(
            None,
            name="Bull Radiology Group",
            scenario="bull",
            paper="letter",
            logo=str(logo),
            notes="Prepared for the board meeting of 12 March.",
            focus_segments=["CT"],
        ),
        "hostile": load_profile(
            None,
            name="W" * 300,
            notes="中文医学影像集团 · العربية للأشعة التشخيصية · Ελληνικά Διαγνωστικά Κέντρα <script>x</script> "
            + "Z" * 200,
        ),
    }


def look_at_briefs(out_dir: Path) -> Look:
    """Write the briefs and emails for the clients into `out_dir` and look at them; returns what was found."""
    out_dir.mkdir(parents=True, exist_ok=True)
    look = Look(out_dir)
    with tempfile.TemporaryDirectory(prefix="imgout-look-") as temp:
        work = Path(temp)
        for label, profile in clients(out_dir).items():
            context = build_context(profile)  # type: ignore[arg-type]
            folder = out_dir / label
            written = write_briefs(context, folder, ["html", "pdf"])
            mail = email_brief(context, long_layer=written["pdf"].name)
            pages = {"html": written["html"]}  # the email (the short layer): tests/support/look_at_email.py
            look.facts[f"{label} email PNG bytes"] = [len(i.png) for i in mail.images]
            look.facts[f"{label} email HTML bytes"] = len(mail.html.encode("utf-8"))
            headline = money(context.headline.horizon_value, context.units, with_unit=True)
            canvases = {
                f"{f}-{c}": scene.canvas for f, by in figures(context).items() for c, scene in by.items()
            }
            look_at_pages(pages, canvases, headline, look, label, first_screen=label != "hostile")
            look_at_pdf(written["pdf"], look, label, work)
    return look


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="imgout-briefs-"))
    look = look_at_briefs(out_dir)
    for key, value in look.facts.items():
        print(f"{key}: {value}")
    print(f"{len(look.pictures)} pictures in {out_dir}")
    for problem in look.problems:
        print(f"PROBLEM: {problem}")
    return 1 if look.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
