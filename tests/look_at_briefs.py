"""Look at the briefs as a person would: the HTML in headless Chromium, the PDF pages as pictures.

    python tests/look_at_briefs.py [OUT_DIR]      # default: a new temporary folder; prints what it found

For each client (an ordinary one, and one with a 300-character unbroken name plus Chinese, Arabic and Greek
notes) it writes the HTML and PDF brief, then:

- HTML: Chromium lays the page out at a desktop and a phone width; a probe script (added to a copy of the
  file, never to the brief) reports the chart's and tables' boxes and whether anything is wider than the
  window; a screenshot is taken and the chart's box is checked for drawn (non-white) pixels.
- PDF: ``pdftoppm`` renders every page; the chart's colours and the tables' header colour must be on the
  first pages, and the strips inside the left and right page margins must be blank on every page
  (content that overflows the page shows up there).

Writes PNGs next to the briefs and returns a list of problems (empty when the briefs look right).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from xl_addin.report import ClientProfile, build_context, load_profile
from xl_addin.report.brief import write_briefs
from xl_addin.report.brief.charts import SCENARIO_COLOURS

BRAND = "#1F4E79"
WIDTHS = {"desktop": 1024, "phone": 480}
PDF_DPI = 60
MARGIN_STRIP_MM = 5  # inside the 7 mm page margin
CHROMIUM = [
    "chromium",
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
PROBE = """<script>
(function () {
  var root = document.documentElement;
  var box = function (e) { var r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  var wide = Array.prototype.filter.call(document.querySelectorAll('body *'), function (e) {
    return e.getBoundingClientRect().right > root.clientWidth + 0.5;
  }).map(function (e) { return e.tagName + '.' + (e.className && e.className.baseVal === undefined ? e.className : ''); });
  var svg = document.querySelector('svg');
  var report = {
    viewport: root.clientWidth, scrollWidth: root.scrollWidth, height: root.scrollHeight,
    chart: svg ? box(svg) : null,
    tables: Array.prototype.map.call(document.querySelectorAll('table.data'), box),
    tooWide: wide.slice(0, 10)
  };
  var pre = document.createElement('pre'); pre.id = 'imgout-probe'; pre.textContent = JSON.stringify(report);
  document.body.appendChild(pre);
})();
</script>"""


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


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHROMIUM, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def look_at_html(html: Path, look: Look, label: str, work: Path) -> None:
    """Lay the HTML out in Chromium at each width; check sizes, overflow and the drawn chart."""
    probe = work / f"{html.stem}.probe.html"
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    for name, width in WIDTHS.items():
        dumped = _chromium([f"--window-size={width},1200", "--dump-dom", probe.as_uri()], work / "chromium")
        found = re.search(r'<pre id="imgout-probe">(.*?)</pre>', dumped.stdout, re.S)
        if not found:
            look.problems.append(f"{label} {name}: Chromium gave no layout report ({dumped.stderr[-300:]!r})")
            continue
        report = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        look.facts[f"{label} {name}"] = report
        if report["scrollWidth"] > report["viewport"]:
            look.problems.append(
                f"{label} {name}: page is {report['scrollWidth']} px wide in a {report['viewport']} px window"
                f" ({report['tooWide']})"
            )
        chart = report["chart"]
        if not chart or chart[2] - chart[0] < 300 or chart[3] - chart[1] < 120:
            look.problems.append(f"{label} {name}: chart missing or too small: {chart}")
        if len(report["tables"]) < 6 or any(t[2] - t[0] < 300 for t in report["tables"]):
            look.problems.append(f"{label} {name}: tables missing or squeezed: {report['tables']}")
        shot = look.out_dir / f"{label}-html-{name}.png"
        height = min(int(report["height"]) + 20, 8000)
        _chromium(
            [f"--window-size={width},{height}", f"--screenshot={shot}", html.as_uri()], work / "chromium"
        )
        if not shot.exists():
            look.problems.append(f"{label} {name}: no screenshot")
            continue
        look.pictures.append(shot)
        with Image.open(shot) as image:
            if chart:
                left, top, right, bottom = (round(v) for v in chart)
                drawn = _non_white(image.crop((left, top, right, bottom)))
                look.facts[f"{label} {name} chart ink"] = round(drawn, 3)
                if drawn < 0.05:
                    look.problems.append(f"{label} {name}: the chart area is blank ({drawn:.1%} drawn)")
                if _count_near(image.crop((left, top, right, bottom)), SCENARIO_COLOURS["bull"]) < 50:
                    look.problems.append(f"{label} {name}: the bull scenario line is not visible")
            if _count_near(image, BRAND, 8) < 5000:
                look.problems.append(f"{label} {name}: the table headers (brand colour) are not visible")


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
                if (
                    _count_near(image, SCENARIO_COLOURS["bull"]) < 20
                    or _count_near(image, SCENARIO_COLOURS["bear"]) < 20
                ):
                    look.problems.append(f"{label} PDF page 1: the chart's scenario lines are not visible")
                if _count_near(image, BRAND, 8) < 2000:
                    look.problems.append(f"{label} PDF page 1: the header and table headers are not visible")


def clients_to_look_at() -> dict[str, ClientProfile]:
    """An ordinary client, and one with a 300-character unbroken name and notes in four scripts."""
    return {
        "ordinary": load_profile(None, name="Acme Imaging Partners", focus_regions=["APAC"]),
        "hostile": load_profile(
            None,
            name="W" * 300,
            notes="中文医学影像集团 · العربية للأشعة التشخيصية · Ελληνικά Διαγνωστικά Κέντρα <script>x</script> "
            + "Z" * 200,
        ),
    }


def look_at_briefs(out_dir: Path) -> Look:
    """Write the briefs for two clients into `out_dir` and look at them; returns what was found."""
    out_dir.mkdir(parents=True, exist_ok=True)
    look = Look(out_dir)
    with tempfile.TemporaryDirectory(prefix="imgout-look-") as temp:
        work = Path(temp)
        for label, profile in clients_to_look_at().items():
            context = build_context(profile)
            folder = out_dir / label
            written = write_briefs(context, folder, ["html", "pdf"])
            look_at_html(written["html"], look, label, work)
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
