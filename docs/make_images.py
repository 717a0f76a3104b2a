"""Make the screenshots of the three faces in docs/images/: a cell, a client workbook, a brief.

    python docs/make_images.py [OUT_DIR]     (default: docs/images)

Excel itself does not run here, so each picture is the artefact as a real renderer shows it:

- ``cell.png``: the IMGOUT sheet of ``workbooks/IMGOUT.xlsm`` printed by headless LibreOffice told never to
  recalculate on load, so the cells show the answers the functions stored (LibreOffice cannot run them);
- ``workbook.png``: a client workbook written by ``imgout workbook`` and printed by LibreOffice (which
  recalculates every formula): its Cover beside the Forecast sheet's chart;
- ``brief.png``: the top of the PDF brief written by ``imgout brief`` (printed by headless Chromium),
  rendered by poppler's ``pdftoppm``;
- ``email.png``: the email's body (the brief's short layer) on a 375 px phone, laid out by headless Chromium
  (``tests/support/chromium.py``).

Needs ``soffice`` and ``pdftoppm`` (Debian ``libreoffice-calc-nogui``, ``poppler-utils``: ``.ci/run``
installs both) and a Chromium-family browser or WeasyPrint for the PDF.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
NEVER_RECALCULATE = (
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>'
)


def to_pdf(source: Path, work: Path, recalculate: bool) -> Path:
    """``source`` printed to PDF by headless LibreOffice, in a profile of its own."""
    profile = work / f"profile-{source.stem}"
    user = profile / "user"
    user.mkdir(parents=True)
    if not recalculate:
        (user / "registrymodifications.xcu").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' + NEVER_RECALCULATE + "</oor:items>\n",
            encoding="utf-8",
        )
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "pdf",
         "--outdir", str(work), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return work / f"{source.stem}.pdf"


def page_png(pdf: Path, page: int, dpi: int, work: Path) -> Image.Image:
    """One page of ``pdf`` as an image, by poppler."""
    stem = work / f"{pdf.stem}-{page}"
    subprocess.run(
        [
            "pdftoppm",
            "-f",
            str(page),
            "-l",
            str(page),
            "-r",
            str(dpi),
            "-singlefile",
            "-png",
            str(pdf),
            str(stem),
        ],
        check=True,
        timeout=120,
    )
    return Image.open(f"{stem}.png").convert("RGB")


def page_with(pdf: Path, text: str) -> int:
    """The first page of ``pdf`` whose text holds ``text``."""
    pages = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    )
    for number, content in enumerate(pages.stdout.split("\f"), 1):
        if text in content:
            return number
    raise SystemExit(f"no page of {pdf} says {text!r}")


def cell_box(pdf: Path, page: int, dpi: int) -> tuple[int, int, int, int]:
    """Where the IMGOUT sheet's title, inputs and first two formulas with their answers are on ``page``, in
    pixels at ``dpi``: from the words' boxes (poppler's ``pdftotext -bbox``), so a changed layout is followed."""
    listing = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    words = [
        (float(x0), float(y0), float(x1), float(y1), html.unescape(text))
        for x0, y0, x1, y1, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', listing
        )
    ]
    top = min(y0 for _, y0, _, _, text in words if text == "imgout:")
    third_row = min(y0 for x0, y0, _, _, text in words if text == "CT" and x0 < 60)  # the third formula
    shown = [w for w in words if top <= w[1] < third_row]
    left, right = min(w[0] for w in shown), max(w[2] for w in shown)
    scale = dpi / 72  # points to pixels
    return (
        int((left - 6) * scale),
        int((top - 2) * scale),
        int((right + 6) * scale),
        int((third_row - 1) * scale),
    )


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    """Two images on white with a thin grey rule between them."""
    out = Image.new("RGB", (left.width + right.width + 20, max(left.height, right.height)), "white")
    out.paste(left, (0, 0))
    out.paste(right, (left.width + 20, 0))
    ImageDraw.Draw(out).line(
        [(left.width + 10, 0), (left.width + 10, out.height)], fill=(200, 200, 200), width=2
    )
    return out


def imgout(*args: str, cwd: Path) -> None:
    """Run the ``imgout`` command of this Python."""
    subprocess.run([sys.executable, "-m", "xl_addin", *args], check=True, cwd=cwd, timeout=300)


def email_picture(path: Path, work: Path) -> None:
    """The email's body on a 375 px phone, the whole page, as its reader scrolls through it."""
    sys.path.insert(0, str(ROOT))
    from tests.support.chromium import Browser
    from tests.support.look_at_email import email_file
    from xl_addin.report import build_context, load_profile
    from xl_addin.report.brief import email_brief

    profile = load_profile(
        None, name="Acme Imaging", focus_regions=["APAC"], notes="Prepared for the March board meeting."
    )
    stem = "Acme-Imaging-imaging-outsourcing-2026-2030"
    mail = email_brief(build_context(profile), long_layer=f"{stem}.pdf", workbook=f"{stem}.xlsx")
    with Browser() as browser:
        page = browser.open(email_file(mail, work, "email"), width=375, height=667, mobile=True)
        try:
            page.screenshot(path)
        finally:
            page.close()


def main(out: Path) -> None:
    """Write cell.png, workbook.png, brief.png and email.png into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        front = work / "IMGOUT.xlsm"
        front.write_bytes((ROOT / "workbooks" / "IMGOUT.xlsm").read_bytes())
        pdf = to_pdf(front, work, recalculate=False)
        page = page_with(pdf, "Market size 2030, USD bn")
        sheet = page_png(pdf, page, 300, work)
        sheet.crop(cell_box(pdf, page, 300)).save(out / "cell.png")

        imgout("workbook", "--client", "Acme Imaging", "--out", str(work), cwd=work)
        pdf = to_pdf(work / "Acme-Imaging.xlsx", work, recalculate=True)
        cover = page_png(pdf, 1, 90, work)
        forecast = page_png(pdf, page_with(pdf, "Market size, USD bn: base scenario"), 90, work)
        left = cover.crop((30, 40, int(cover.width * 0.72), int(cover.height * 0.70)))
        right = forecast.crop((30, 40, int(forecast.width * 0.82), int(forecast.height * 0.66)))
        side_by_side(left, right).save(out / "workbook.png")

        imgout("brief", "--client", "Acme Imaging", "--format", "pdf", "--out", str(work), cwd=work)
        brief = page_png(work / "Acme-Imaging-brief.pdf", 1, 110, work)
        brief.crop((0, 0, brief.width, int(brief.height * 0.405))).save(out / "brief.png")
        email_picture(out / "email.png", work)
    for name in ("cell.png", "workbook.png", "brief.png", "email.png"):
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images")
