"""The summary brief, read back the way a client reads it: every figure is the engine's figure, in
HTML, Markdown, plain text and PDF; hostile client names stay text; template typos are loud errors."""

from __future__ import annotations

import html
import io
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from markdown_it import MarkdownIt
from PIL import Image

from tests.support.another_publication import ANOTHER_PUBLICATION
from tests.support.look_at_briefs import write_logo
from xl_addin import __version__
from xl_addin.cli import main
from xl_addin.common.formats import money, percent, ratio
from xl_addin.common.resources import templates_dir
from xl_addin.errors import BriefTemplateError
from xl_addin.model import InvalidArgument, default_market, headline_with_consensus, market_for
from xl_addin.model.market import SEGMENT_DIMENSIONS
from xl_addin.report import build_context, load_profile
from xl_addin.report.brief import (
    CANVASES,
    chart_png,
    markdown_escape,
    pdf_bytes,
    render_brief,
    write_briefs,
    write_pdf,
)
from xl_addin.report.brief.charts import EXTRAPOLATED_FADE, SCENARIO_COLOURS, tint

HOSTILE_NAMES = {
    "markup": "<script>alert('x')</script> & \"Quoted\" O'Brien <b>Imaging</b> *Ltd* | #1",
    "long": " ".join(["Northern-Regional-Diagnostic-Imaging-Partners"] * 7)[:300],
    "unbroken": "X" * 300,
    "chinese": "中文医学影像集团",
    "arabic": "العربية للأشعة التشخيصية",
    "greek": "Ελληνικά Διαγνωστικά Κέντρα",
}
NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?%?$")
#: Both PDF engines print the same HTML; every PDF test reads back each one's PDF.
PDF_ENGINES = ("chromium", "weasyprint")
#: The engines as test parameters: printing a real PDF is slow (left to the full run, not the fast lane).
PDF_ENGINE_PARAMS = [pytest.param(engine, marks=pytest.mark.slow) for engine in PDF_ENGINES]
FORMATS_READ_BACK = [
    "html",
    "md",
    "txt",
    *(pytest.param(f"pdf-{engine}", marks=pytest.mark.slow) for engine in PDF_ENGINES),
]
BRAND = "#1F4E79"  # the default profile's brand colour


# ------------------------------------------------------------------------------------------ reading back


class _Rows(HTMLParser):
    """Table rows of an HTML page as lines of cell text, and the page's visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("svg", "title", "style", "script"):
            self._skip += 1
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("svg", "title", "style", "script"):
            self._skip -= 1
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def lines_of(fmt: str, document: str) -> list[str]:
    """The brief as lines of text: one line per table row, whatever the format."""
    if fmt == "html":
        parser = _Rows()
        parser.feed(document)
        return ["  ".join(cells) for cells in parser.rows if cells]
    if fmt == "md":
        return [
            re.sub(r"\\(.)", r"\1", line).replace("**", "").replace("|", "  ")
            for line in document.splitlines()
        ]
    return document.splitlines()


def flat_text(fmt: str, document: str) -> str:
    """The whole brief as one line of visible text (whitespace collapsed)."""
    if fmt == "html":
        parser = _Rows()
        parser.feed(document)
        document = "".join(parser.text)
    elif fmt == "md":
        document = re.sub(r"\\(.)", r"\1", document).replace("**", "")
    return " ".join(document.split())


def row(lines: Iterable[str], name: str, count: int) -> list[str]:
    """The first `count` figures of the table row whose label is `name` (a focus mark '*' is ignored).

    In a narrow PDF column a long name wraps: the row's line then holds the start of the name (and the
    next cells' words) and the next lines the rest of it.
    """
    lines = list(lines)
    for i, line in enumerate(lines):
        tokens = line.replace("*", " ").split()
        figures = [t for t in tokens if NUMBER.match(t)]
        label = " ".join(t for t in tokens if not NUMBER.match(t))
        words, wanted = label.split(), sorted(name.split())
        following = iter(lines[i + 1 :])
        while words and len(words) < len(wanted):  # a name wrapped in its cell: the rest on the next lines
            more = next(following, "").split()
            if not more or any(NUMBER.match(t) for t in more):
                break
            words += more
        if sorted(words) == wanted and len(figures) >= count:
            return figures[:count]  # a PDF column read alone can end in a stray figure of the next one
    raise AssertionError(f"no row {name!r} with {count} figures")


def pdf_text(data: bytes, tmp_path: Path, *, layout: bool = True, columns: bool = False) -> str:
    """The PDF's text; with `columns`, the whole page then each column of its layout one after the other.

    The PDF sets text side by side: read as a whole page, a line of one column and a line of the next come
    out as one line. Its columns read alone keep each table row on a line of its own: on page one the
    chart's column (124 mm from the page margin) and the column beside it, on page two its two columns.
    """
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(data)
    args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else [])]
    text = subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    if not columns:
        return text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    width, height = (float(v) for v in re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    mm = 72 / 25.4
    margin, gap = 7 * mm, 6 * mm  # brief/pdf.py's page margin, brief.css's column gap
    column = (width - 2 * margin - gap) / 2
    chart = margin + 126 * mm  # the chart's 124 mm and half the 4 mm beside it
    strips = [(0, round(chart)), (round(chart), round(width - chart))]
    strips += [(round(margin + i * (column + gap) - gap / 2), round(column + gap)) for i in range(2)]
    pieces = [
        subprocess.run(
            [*args, "-x", str(x), "-y", "0", "-W", str(w), "-H", str(round(height)), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for x, w in strips
    ]
    return "\n".join([text, *pieces])


def rounded_sums(m, scenario: str = "base") -> dict[tuple[str, str], str]:
    """What each table's rows add to once every figure is rounded as shown: {(dimension, year or 'share'): text}."""
    out = {}
    for dim in ("region", *SEGMENT_DIMENSIONS):
        members = [(r, None) if dim == "region" else (None, f"{dim}:{r}") for r in m.members(dim)]
        for year in (2025, 2026, 2030):
            total = sum(Decimal(money(m.forecast(year, r, seg, scenario))) for r, seg in members)
            out[(dim, str(year))] = f"{total:.2f}"
        share = sum(Decimal(percent(m.share(2030, seg or f"region:{r}"))[:-1]) for r, seg in members)
        out[(dim, "share")] = f"{share:.1f}%"
    return out


@pytest.fixture(scope="module")
def context():
    return build_context(load_profile(None, name="Acme Imaging", focus_regions=["APAC"]))


@pytest.fixture(scope="module")
def briefs(context, tmp_path_factory) -> dict[str, str]:
    """The brief in every format, the PDF as its extracted text (each PDF printed when first asked for)."""

    class Briefs(dict[str, str]):
        def __missing__(self, fmt: str) -> str:
            engine = fmt.removeprefix("pdf-")
            self[fmt] = pdf_text(pdf_bytes(context, engine), tmp_path_factory.mktemp(engine), columns=True)
            return self[fmt]

    return Briefs({fmt: render_brief(context, fmt) for fmt in ("html", "md", "txt")})


# ------------------------------------------------------------------------------------------ the numbers


@pytest.mark.parametrize("fmt", FORMATS_READ_BACK)
def test_every_table_figure_is_the_engines_figure(briefs, fmt):
    m = default_market()  # the engine itself, not the context the brief was built from
    lines = lines_of(fmt, briefs[fmt])
    for region in m.members("region"):
        expected = [money(m.forecast(y, region)) for y in (2025, 2026, 2030)]
        expected += [percent(m.share(2030, f"region:{region}")), percent(m.cagr(2026, 2030, region))]
        assert row(lines, region, 5) == expected, region
    for dim in SEGMENT_DIMENSIONS:
        for member in m.members(dim):
            segment = f"{dim}:{member}"
            expected = [money(m.forecast(y, segment=segment)) for y in (2025, 2026, 2030)]
            expected += [percent(m.share(2030, segment)), percent(m.cagr(2026, 2030, segment=segment))]
            assert row(lines, member, 5) == expected, member
    total = [money(m.forecast(y)) for y in (2025, 2026, 2030)] + [percent(1.0), percent(m.cagr(2026, 2030))]
    assert row(lines, "Total", 5) == total
    for key, driver in m.assumptions.drivers.items():
        expected = [percent(m.driver_growths(s)[key]) for s in m.scenario_names]
        assert row(lines, f"{driver.label} {driver.factor}", 3) == expected, key


@pytest.mark.parametrize("fmt", FORMATS_READ_BACK)
def test_headline_scenarios_and_range_are_the_engines(briefs, fmt):
    m = default_market()
    text = flat_text(fmt, briefs[fmt])
    c = m.consensus(2030)
    beside = f"basis: tbrc; {c.count} publishers' median {money(c.median)}, range {money(c.minimum)}-{money(c.maximum)}"
    assert (
        f"market is USD {money(m.forecast(2030))} bn in 2030 ({beside}), growing {percent(m.cagr(2026, 2030))} a "
        f"year from 2026 to 2030 (base scenario), from USD {money(m.forecast(2025))} bn in the base year 2025."
    ) in text
    assert f"P10 {money(m.fan(2030, 10))}, P50 {money(m.fan(2030, 50))}, P90 {money(m.fan(2030, 90))}" in text
    assert f"imgout {__version__} (model {m.version}), assumptions {m.assumption_hash}" in text
    lines = lines_of(fmt, briefs[fmt])
    rows = [line.replace("*", " ").split() for line in lines]
    for s in m.scenario_names:
        # The scenarios table's row (in the PDF, a chart label "base 27.88" can start a line too).
        expected = [percent(m.cagr(2026, 2030, scenario=s)), money(m.forecast(2030, scenario=s))]
        candidates = [[t for t in r if NUMBER.match(t)] for r in rows if r[:1] == [s]]
        assert expected in [f[-2:] for f in candidates], (s, candidates)


@pytest.mark.parametrize("fmt", ["md", "txt"])
def test_text_formats_carry_the_chart_as_a_table_of_the_engines_values(briefs, fmt):
    m = default_market()
    for year in range(2020, 2036):
        expected = [money(m.forecast(year, scenario=s)) for s in m.scenario_names]
        expected += [money(m.fan(year, 10)), money(m.fan(year, 90))]
        line = next(
            line
            for line in lines_of(fmt, briefs[fmt])
            if line.split()[:1] == [str(year)] and len(line.split()) > 5 and NUMBER.match(line.split()[1])
        )  # a row of the table, not a wrapped sentence that starts with the year
        assert [t for t in line.split() if NUMBER.match(t)][1:6] == expected, year
        assert m.status(year) in line


@pytest.mark.parametrize("fmt", FORMATS_READ_BACK)
def test_no_figure_in_the_brief_is_made_up(briefs, fmt):
    """Every money figure (2 dp) and every percentage in the brief is one the engine gives."""
    m = default_market()
    segments = [None] + [f"{d}:{x}" for d in SEGMENT_DIMENSIONS for x in m.members(d)]
    allowed_money = {
        money(m.forecast(y, r, seg, s))
        for y in m.year_list
        for s in m.scenario_names
        for r, seg in [(None, x) for x in segments] + [(r, None) for r in m.members("region")]
    }
    allowed_money |= {money(m.fan(y, p)) for y in m.year_list for p in (10, 50, 90)}
    allowed_percent = {percent(1.0), percent(m.calibration.historic_growth)}
    for r in [*m.members("region"), *segments[1:]]:
        region, segment = (r, None) if r in m.members("region") else (None, r)
        allowed_percent |= {percent(m.share(2030, r if segment else f"region:{r}"))}
        allowed_percent |= {percent(m.cagr(2026, 2030, region, segment))}
    for s in m.scenario_names:
        allowed_percent |= {percent(m.cagr(2026, 2030, scenario=s))}
        allowed_percent |= {percent(g) for g in m.driver_growths(s).values()}
        allowed_percent |= {percent(b.growth) for b in m.bridge(s)}
    for year in (2025, 2030):  # the publishers' estimates, their consensus and the model's ratio to it
        c = m.consensus(year)
        allowed_money |= {money(e.value) for e in m.estimates(year)} | {money(c.median)}
        allowed_money |= {ratio(c.model_ratio)[:-1]}
    shown_sums = rounded_sums(m)  # the rounding notes: what the rounded rows of a table add to
    allowed_money |= {v for (_, column), v in shown_sums.items() if column != "share"}
    allowed_percent |= {v for (_, column), v in shown_sums.items() if column == "share"}
    text = flat_text(fmt, briefs[fmt])
    monies = re.findall(r"(?<![\d.,])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d%])", text)
    percents = re.findall(r"(?<![\d.])\d+\.\d%", text)
    assert len(monies) > 60 and len(percents) > 40
    assert set(monies) <= allowed_money, set(monies) - allowed_money
    assert set(percents) <= allowed_percent, set(percents) - allowed_percent


def test_the_profiles_units_change_every_money_figure_through_the_shared_formatter():
    m = default_market()
    context = build_context(load_profile(None, name="Units Co", units="mn"))
    text = render_brief(context, "txt")
    assert money(m.forecast(2030), "mn") == "27,880"
    assert "USD 27,880 mn in 2030" in text
    assert row(text.splitlines(), "North America", 5)[:3] == [
        money(m.forecast(y, "North America"), "mn") for y in (2025, 2026, 2030)
    ]


# ------------------------------------------------------------------------------------------ user text


@pytest.mark.parametrize("kind", sorted(HOSTILE_NAMES))
def test_hostile_client_names_stay_text_in_html_markdown_and_text(kind):
    name = HOSTILE_NAMES[kind]
    context = build_context(load_profile(None, name=name, notes=f"Prepared for {name}\n\n- not a list"))
    page = render_brief(context, "html")
    assert "<script" not in page.lower()
    parser = _Rows()
    parser.feed(page)
    assert name in "".join(parser.text)  # shown to the reader exactly as typed

    markdown = render_brief(context, "md")
    rendered = MarkdownIt("commonmark").render(markdown)  # what a Markdown viewer makes of it
    assert "<script" not in rendered.lower() and "<b>" not in rendered
    first_heading = re.search(r"<h1>(.*?)</h1>", rendered, re.S)
    assert (
        first_heading
        and html.unescape(first_heading.group(1)) == f"Medical imaging outsourcing market: brief for {name}"
    )
    assert "<li>not a list</li>" not in rendered

    text = render_brief(context, "txt")
    assert name.replace(" ", "") in text.replace("\n", "").replace(" ", "")
    assert all(len(line) <= 80 or "://" in line for line in text.splitlines())
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)


def _fonts(pdf: Path) -> list[str]:
    """The fonts a PDF draws with (pdffonts), one line each."""
    listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    return listing.splitlines()[2:]


@pytest.mark.parametrize("engine", PDF_ENGINE_PARAMS)
@pytest.mark.parametrize("kind", ["markup", "chinese", "arabic", "greek", "unbroken"])
def test_hostile_client_names_render_in_the_pdf(kind, engine, tmp_path):
    name = HOSTILE_NAMES[kind]
    data = pdf_bytes(build_context(load_profile(None, name=name)), engine)
    text = pdf_text(data, tmp_path, layout=False)
    # Chromium sets a long name's first line beside the floated kicker: read the name without the kicker.
    compact = "".join(text.split()).replace("MEDICALIMAGINGOUTSOURCINGMARKET·BRIEF", "")
    if kind == "arabic":  # right-to-left text comes back in visual order with presentation forms
        import unicodedata

        letters = {c for c in unicodedata.normalize("NFKC", compact) if "\u0600" <= c <= "\u06ff"}
        assert letters >= {c for c in name if "\u0600" <= c <= "\u06ff"}
    else:
        assert "".join(name.split()) in compact
    if kind == "chinese":  # drawn with a CJK font embedded as a CID font (Type 0), never as Type 3 glyphs
        fonts = _fonts(tmp_path / "brief.pdf")
        assert any("CJK" in font or "DroidSansFallback" in font.replace("-", "") for font in fonts), fonts
        assert not any("Type 3" in font for font in fonts), fonts


def test_markdown_escape_leaves_figures_alone_and_disarms_markup():
    assert markdown_escape("27.88") == "27.88" and markdown_escape("9.1%") == "9.1%"
    assert markdown_escape("1. first") == "1\\. first"
    assert markdown_escape("[link](javascript:x)") == "\\[link\\](javascript:x)"


# ------------------------------------------------------------------------------------------ templates


def _copy_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(templates_dir(), folder)
    return folder


def test_a_typo_in_a_template_is_an_error_naming_the_template_and_line(context, tmp_path):
    folder = _copy_templates(tmp_path)
    template = folder / "brief.html.j2"
    lines = template.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, 1) if "h.cagr|percent" in line)
    lines[number - 1] = lines[number - 1].replace("h.cagr|percent", "h.cgar|percent", 1)
    template.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(BriefTemplateError) as caught:
        render_brief(context, "html", templates=folder)
    assert f"brief.html.j2:{number}" in str(caught.value)
    assert "cgar" in str(caught.value)


def test_a_typo_in_a_shared_partial_names_the_partial(context, tmp_path):
    folder = _copy_templates(tmp_path)
    partial = folder / "_headline.j2"
    partial.write_text(
        partial.read_text(encoding="utf-8").replace("h.base_year", "h.base_yaer"), encoding="utf-8"
    )
    for fmt in ("md", "txt"):
        with pytest.raises(BriefTemplateError, match=r"_headline\.j2:3: .*base_yaer"):
            render_brief(context, fmt, templates=folder)


def test_a_template_syntax_error_names_the_template_and_line(context, tmp_path):
    folder = _copy_templates(tmp_path)
    template = folder / "brief.md.j2"
    template.write_text("# Brief\n\n{% for x in c.regions %}\n", encoding="utf-8")
    with pytest.raises(BriefTemplateError, match=r"brief\.md\.j2:\d+"):
        render_brief(context, "md", templates=folder)


# ------------------------------------------------------------------------------------------ HTML for email


def test_html_has_its_css_inlined_and_keeps_only_the_media_queries(context):
    for page in (render_brief(context, "html"),):
        assert "<link" not in page and "<script" not in page
        assert 'class="page"' in page and "style=" in page
        assert "display:flex" not in page.replace(" ", "") and "display:grid" not in page.replace(" ", "")
        # One <style> element stays: phone and dark-mode rules only, every rule inside an @media block.
        styles = re.findall(r"<style[^>]*>(.*?)</style>", page, re.S)
        assert len(styles) == 1
        outside = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", styles[0])
        assert (
            outside.strip() == ""
            and "max-width: 639px" in styles[0]
            and "prefers-color-scheme: dark" in styles[0]
        )
        assert '<meta name="color-scheme" content="light dark">' in page
    inline = render_brief(context, "html")
    # The market and the publishers' charts for desktop and phone, and the publishers' chart for print.
    assert inline.count("<svg") == 2 * len(CANVASES) + 1 and "cid:" not in inline


def test_every_header_cell_has_a_scope(context):
    page = render_brief(context, "html")
    cells = re.findall(r"<th\b[^>]*>", page)
    assert len(cells) > 60
    assert all(re.search(r'scope="(col|row)"', cell) for cell in cells), [
        c for c in cells if "scope" not in c
    ]


@pytest.mark.parametrize("scenario", ["bear", "base", "bull"])
def test_the_email_charts_are_small_pngs_in_the_brand_colour(scenario):
    context = build_context(load_profile(None, name="Acme", scenario=scenario))
    for canvas in CANVASES:
        data = chart_png(context, canvas)
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and image.size == (2 * canvas.width, 2 * canvas.height)
        assert len(data) <= 40_000, (canvas.name, len(data))
        colours = {c for _, c in image.convert("RGB").getcolors(1 << 20) or []}
        assert (0x1F, 0x4E, 0x79) in colours  # the brief's scenario in the client's brand colour
        assert (0xC2, 0x41, 0x0C) in colours or scenario == "bear"  # bear in its own orange, exactly


def test_an_unknown_format_is_refused(context):
    with pytest.raises(InvalidArgument, match="docx"):
        render_brief(context, "docx")


# ------------------------------------------------------------------------------------------ files


def test_write_briefs_names_files_from_the_client_and_leaves_no_temporary_files(tmp_path):
    context = build_context(load_profile(None, name="../Acme / Imaging"))
    written = write_briefs(context, tmp_path / "out", ["md", "txt", "html"])
    assert {p.name for p in written.values()} == {
        "Acme-Imaging-brief.md",
        "Acme-Imaging-brief.txt",
        "Acme-Imaging-brief.html",
    }
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written.values())
    assert written["md"].read_text(encoding="utf-8") == render_brief(context, "md")


def test_an_unknown_format_writes_nothing(tmp_path):
    context = build_context(load_profile(None, name="Acme"))
    with pytest.raises(
        InvalidArgument, match=r"Invalid format: 'docx' \(expected one of html, md, pdf, txt, all\)"
    ):
        write_briefs(context, tmp_path / "out", ["html", "docx"])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("engine", PDF_ENGINE_PARAMS)
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_the_pdf_brief_is_two_pages_that_still_say_everything_the_html_brief_says(paper, engine, tmp_path):
    """An ordinary client with a logo and a short note, on A4 and on Letter (the shorter page)."""
    logo = write_logo(tmp_path / "logo.png")
    context = build_context(
        load_profile(
            None,
            name="Acme Imaging",
            focus_regions=["APAC"],
            paper=paper,
            logo=str(logo),
            notes="Prepared for the board meeting of 12 March.",
        )
    )
    pdf_text(pdf_bytes(context, engine), tmp_path)
    pdf = str(tmp_path / "brief.pdf")
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+2$", info, re.M), info
    # -raw: the text in drawing order, line-end hyphens kept (the default mode drops them)
    text = subprocess.run(["pdftotext", "-raw", pdf, "-"], capture_output=True, text=True, check=True).stdout
    # Lines wrap anywhere in a narrow column (URLs too), so compare without any whitespace.
    squeezed = "".join(text.split())
    html_text = flat_text("html", render_brief(context, "html"))
    m = default_market()
    # Sources print with the link's host as its text; the link itself holds the whole URL.
    expected = [
        *(f"{s.publisher}, {s.title}, {s.date}" for s in context.sources),
        *(f"({urlsplit(s.url).hostname.removeprefix('www.')})" for s in context.sources if s.url),
        *context.trends,
        *(d.evidence for d in context.drivers if d.evidence),
        *(m.assumptions.scenarios[s].description for s in m.assumptions.scenarios),
        re.search(r"The model is calibrated .*? not the spread between publishers\.", html_text).group(0),
        f"imgout {__version__} (model {m.version}), assumptions {m.assumption_hash}",
    ]
    missing = [e for e in expected if "".join(e.split()) not in squeezed]
    assert missing == []
    links = subprocess.run(["pdfinfo", "-url", pdf], capture_output=True, text=True, check=True).stdout
    assert {s.url for s in context.sources if s.url} <= set(links.split())


@pytest.mark.parametrize("engine", PDF_ENGINE_PARAMS)
def test_the_pdf_is_on_the_profiles_paper(engine, tmp_path):
    context = build_context(load_profile(None, name="Letter Co", paper="letter"))
    path = write_pdf(context, tmp_path / "letter.pdf", engine)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792 pts (letter)" in info
    assert [p.name for p in tmp_path.iterdir()] == ["letter.pdf"]


# ------------------------------------------------------------------------------------------ the command


@pytest.mark.slow  # --format all prints the PDF with a real browser
def test_imgout_brief_writes_every_format(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(
            [
                "brief",
                "--client",
                "Acme & Co",
                "--scenario",
                "bull",
                "--format",
                "all",
                "--out",
                str(tmp_path),
            ]
        )
        raise SystemExit(0)
    assert stopped.value.code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["Acme-Co-brief.html", "Acme-Co-brief.md", "Acme-Co-brief.pdf", "Acme-Co-brief.txt"]
    out = capsys.readouterr().out
    assert "bull scenario" in out and "Acme-Co-brief.pdf" in out
    m = default_market()
    assert (
        f"USD {money(m.forecast(2030, scenario='bull'))} bn in 2030"
        in (tmp_path / "Acme-Co-brief.txt").read_text()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "docx"], "Invalid format: 'docx' (expected one of html, md, pdf, txt, all)"),
        (
            ["--format", "html", "--scenario", "sideways"],
            "Invalid scenario: 'sideways' (expected one of bear, base, bull)",
        ),
    ],
)
def test_imgout_brief_refuses_an_unknown_format_or_scenario_and_writes_nothing(
    tmp_path, capsys, args, message
):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stopped:
        main(["brief", "--client", "Acme", *args, "--out", str(out)])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip() == f"imgout: error: {message}"
    assert not out.exists()


# ------------------------------------------------------------------------------------------ another publication


def test_a_set_from_another_publication_is_credited_to_it_in_every_format(tmp_path):
    """An assumption file that takes its anchors from Acme Research: the brief names Acme, its market and its
    trends, and no longer credits the publisher of the default set."""
    path = tmp_path / "acme.yaml"
    path.write_text(ANOTHER_PUBLICATION, encoding="utf-8")
    context = build_context(load_profile(None, name="Client"), assumptions=path)
    citation = "Acme Research, Imaging Outsourcing Outlook 2026, 2026-01"
    for fmt in ("html", "md", "txt"):
        text = flat_text(fmt, render_brief(context, fmt))
        assert "calibrated to the five figures published by Acme Research" in text, fmt
        assert f"{citation}." in text, fmt  # the footer
        assert "The imaging services outsourcing market is" in text, fmt
        assert "AI triage of routine studies" in text and "radiologist shortages" in text, fmt
        assert "teleradiology adoption" in text and "shortage of radiologists" not in text, fmt
        assert "published by The Business Research Company" not in text, fmt
    html = render_brief(context, "html")
    assert "<title>Imaging services outsourcing market: brief for Client</title>" in html
    assert render_brief(context, "txt").startswith("IMAGING SERVICES OUTSOURCING MARKET: BRIEF\n")


# ------------------------------------------------------------------------------------------ so what


def _sentences(fmt: str, document: str) -> str:
    return flat_text(fmt, document)


@pytest.fixture(scope="module")
def bull_ct_context():
    """A client who reads the bull scenario and follows CT and Asia-Pacific."""
    return build_context(
        load_profile(None, name="Bull Co", scenario="bull", focus_segments=["CT"], focus_regions=["APAC"])
    )


@pytest.mark.parametrize("fmt", ["html", "md", "txt"])
def test_the_key_takeaways_say_the_engines_numbers_for_the_clients_scenario_and_focus(bull_ct_context, fmt):
    m = default_market()
    text = _sentences(fmt, render_brief(bull_ct_context, fmt))

    def member(dim: str, name: str) -> tuple[float, float, float]:
        region, segment = (name, None) if dim == "region" else (None, f"{dim}:{name}")
        share = m.share(2030, segment or f"region:{name}")
        return m.forecast(2030, region, segment, "bull"), share, m.cagr(2026, 2030, region, segment, "bull")

    market_growth = percent(m.cagr(2026, 2030, scenario="bull"))
    # The focus members, with their growth rank among their dimension's members.
    for dim, name, label in (("region", "Asia-Pacific", "region"), ("modality", "CT", "modality")):
        value, share, growth = member(dim, name)
        rank = sorted((member(dim, x)[2] for x in m.members(dim)), reverse=True).index(growth) + 1
        place = (
            "the fastest"
            if rank == 1
            else f"the {rank}{'nd' if rank == 2 else 'rd' if rank == 3 else 'th'} fastest"
        )
        assert (
            f"{name}, a {label} you follow, is USD {money(value)} bn in 2030 ({percent(share)} of the market) and "
            f"grows {percent(growth)} a year 2026-2030, {place} of {len(m.members(dim))} (market {market_growth})."
        ) in text, (name, text[:2000])
    # The range across scenarios and the Monte Carlo range.
    values = {s: m.forecast(2030, scenario=s) for s in m.scenario_names}
    low, high = min(values, key=values.get), max(values, key=values.get)
    assert (
        f"Across scenarios 2030 ranges from USD {money(values[low])} bn ({low}) to USD {money(values[high])} bn "
        f"({high}); the driver Monte Carlo's P10-P90 range around base is {money(m.fan(2030, 10))} to {money(m.fan(2030, 90))}."
    ) in text
    # Where the model stands among the publishers in 2025, by the engine's consensus.
    c = m.consensus(2025)
    assert (
        f"The {c.count} publishers' estimates for 2025 run from USD {money(c.minimum)} bn to USD "
        f"{money(c.maximum)} bn (median {money(c.median)}); this model's {money(c.model)} is the highest of "
        f"{c.count}, {c.model_ratio:.2f}x the median."
    ) in text
    assert c.model_rank == 1
    # Which modality is largest and fastest (CT is followed, so its size is not repeated).
    modalities = m.breakdown(2030, "modality", "bull")
    biggest, fastest = max(modalities, key=lambda b: b.value), max(modalities, key=lambda b: b.cagr)
    assert f"{biggest.member} is also the largest modality; {fastest.member} grows fastest: " in text
    assert f"{percent(fastest.cagr)} a year 2026-2030, against {market_growth} for the market." in text


def test_a_brief_has_three_to_five_takeaways_whatever_the_focus():
    for focus in (
        {},
        {"focus_regions": ["APAC"]},
        {"focus_regions": ["APAC", "NA"], "focus_segments": ["CT", "MRI"]},
    ):
        context = build_context(load_profile(None, name="Acme", **focus))
        markdown = render_brief(context, "md")
        section = markdown.split("## Key takeaways", 1)[1].split("\n## ", 1)[0]
        bullets = [line for line in section.splitlines() if line.startswith("- ")]
        assert 3 <= len(bullets) <= 5, (focus, bullets)
        assert all(re.search(r"\d", b) for b in bullets)  # every takeaway carries its number


@pytest.mark.parametrize("fmt", ["html", "md", "txt"])
def test_a_rounding_note_says_what_the_rounded_rows_add_to_where_they_miss_the_total(context, fmt):
    m = default_market()
    sums = rounded_sums(m)
    text = _sentences(fmt, render_brief(context, fmt))
    notes = re.findall(r"Rounded rows add to (.*?); see Method\.", text)
    expected = []
    for dim in ("region", *SEGMENT_DIMENSIONS):
        gaps = [
            f"{sums[(dim, str(y))]} ({y})"
            for y in (2025, 2026, 2030)
            if sums[(dim, str(y))] != money(m.forecast(y))
        ]
        if sums[(dim, "share")] != "100.0%":
            gaps.append(f"{sums[(dim, 'share')]} (share 2030)")
        if gaps:
            expected.append(", ".join(gaps[:-1]) + (" and " if len(gaps) > 1 else "") + gaps[-1])
    assert notes == expected
    assert "18.07 (2025)" in notes[0]  # the regions: 18.07 shown against a total of 18.08
    assert "rounded rows can differ from the rounded total in the last digit" in text  # the method says why


def test_the_chart_labels_the_horizon_values_and_the_published_figures(bull_ct_context):
    """In the bull brief the published 27.88 is still circled and labelled; the 2030 values of every
    scenario are the bold labels; after 2030 the paths are fainter, in a zone labelled extrapolated."""
    m = default_market()
    for canvas in CANVASES:
        from xl_addin.report.brief.charts import chart_svg

        svg = ET.fromstring(chart_svg(bull_ct_context, canvas))
        ns = "{http://www.w3.org/2000/svg}"
        texts = [t.text for t in svg.iter(f"{ns}text")]
        bold = {t.text for t in svg.iter(f"{ns}text") if t.get("font-weight") == "bold"}
        for s in m.scenario_names:
            assert f"{s} {money(m.forecast(2030, scenario=s))}" in bold, (canvas.name, s)
        assert {money(m.forecast(2025)), money(m.forecast(2026))} <= bold  # published, labelled
        assert not any(money(m.forecast(2035, scenario=s)) in " ".join(texts) for s in m.scenario_names)
        assert "extrapolated" in texts and "published (tbrc)" in texts
        assert "publishers, lowest-highest" in texts and "P10-P90, driver Monte Carlo" in texts
        circles = [c for c in svg.iter(f"{ns}circle") if c.get("fill") == "#FFFFFF" and c.get("r") == "3.6"]
        assert len(circles) == 4  # 2025, 2026 and 2030 on the base path, and the legend's swatch
        strokes = {line.get("stroke") for line in svg.iter(f"{ns}polyline")}
        colours = {"bull": BRAND, "base": SCENARIO_COLOURS["base"], "bear": SCENARIO_COLOURS["bear"]}
        assert set(colours.values()) <= strokes  # up to 2030, each scenario in its colour
        assert {tint(c, EXTRAPOLATED_FADE) for c in colours.values()} <= strokes  # after 2030, fainter


def test_urls_in_the_text_brief_are_never_broken_across_lines(context):
    text = render_brief(context, "txt")
    urls = [s.url for s in context.sources if s.url]
    assert urls
    for url in urls:
        assert any(url in line for line in text.splitlines()), url


def test_the_html_starts_with_a_preheader_of_the_headline_numbers(context):
    m = default_market()
    page = render_brief(context, "html")
    parser = _Rows()
    parser.feed("<body" + page.split("<body", 1)[1])
    first = "".join(parser.text).strip()
    assert first.startswith(
        f"2030: {headline_with_consensus(m, 2030)}. {percent(m.cagr(2026, 2030))} a year 2026-2030 (base scenario); "
        f"across scenarios {money(m.forecast(2030, scenario='bear'))} to {money(m.forecast(2030, scenario='bull'))}."
    ), first[:200]
    assert re.search(r'<div class="preheader" style="[^"]*display: ?none', page)


# ------------------------------------------------------------------------------------------ publishers


@pytest.mark.parametrize("fmt", FORMATS_READ_BACK)
def test_the_publishers_paragraph_and_chart_say_the_engines_estimates_and_consensus(briefs, fmt):
    m = default_market()
    text = flat_text(fmt, briefs[fmt])
    c25, c30 = m.consensus(2025), m.consensus(2030)
    assert (
        f"For 2025 the estimates of {c25.count} publishers run from USD {money(c25.minimum)} bn to USD "
        f"{money(c25.maximum)} bn (median {money(c25.median)}); this model, calibrated to The Business "
        f"Research Company, gives {money(c25.model)}, the highest of {c25.count} and "
        f"{c25.model_ratio:.2f}x the median."
    ) in text
    assert (
        f"For 2030 they run from {money(c30.minimum)} to {money(c30.maximum)} (median {money(c30.median)}; "
        f"{c30.in_span} within their publishers' published years, {c30.count - c30.in_span} extrapolated at "
        f"its publisher's CAGR) against {money(c30.model)} here, {c30.model_ratio:.2f}x the median."
    ) in text
    # Every publisher's two values: in the tables of Markdown and text, on the chart of HTML (its title,
    # the words a screen reader says) and of the PDF (its labels).
    if fmt == "html":
        parsed = ET.fromstring(
            re.search(
                r'<svg[^>]*class="chart-wide".*?</svg>', briefs[fmt].split("Other publishers")[1], re.S
            ).group(0)
        )
        shown = parsed.find("{http://www.w3.org/2000/svg}title").text
    else:
        shown = text
    for first, second in zip(m.estimates(2025), m.estimates(2030), strict=True):
        assert first.publisher in shown
        assert f"{money(first.value)}" in shown and f"{money(second.value)}" in shown
        if fmt in ("md", "txt"):
            assert first.status in text and second.status in text


def test_a_model_set_to_the_consensus_says_so_and_ranks_among_every_publisher():
    m = market_for(None, "basis=consensus")
    context = build_context(load_profile(None, name="Acme"), overrides="basis=consensus")
    text = flat_text("txt", render_brief(context, "txt"))
    c = m.consensus(2025)
    above = sum(1 for e in m.estimates(2025) if round(e.value, 2) > round(c.model, 2))  # equal at 2 dp tie
    assert c.model_rank == above + 1
    assert (
        f"this model, set to the consensus median, gives {money(c.model)}, the {c.model_rank}rd highest of "
        f"{c.count + 1} and 1.00x the median"
    ) in text
    assert "(basis: consensus)" in text  # the engine's status words


def test_under_another_basis_the_headline_growth_is_the_path_shown_and_the_bridge_multiplies_back_to_it():
    """basis=consensus: the total follows the consensus median, so the headline's growth is that path's
    CAGR, and the growth bridge multiplies back to it: the drivers are the model's, the price-and-mix
    residual is re-solved, and the sentence says so."""
    m = market_for(None, "basis=consensus")
    context = build_context(load_profile(None, name="Acme"), overrides="basis=consensus")
    shown = m.cagr(2026, 2030)
    assert context.headline.cagr == shown
    assert context.headline.bridge_growth == pytest.approx(shown, rel=1e-12)
    assert percent(shown) != percent(m.scenario_growth["base"])
    factors = " x ".join(f"{b.factor} {percent(b.growth)}" for b in m.bridge())
    text = flat_text("txt", render_brief(context, "txt"))
    assert f"{percent(shown)} a year, 2026-2030" in text
    assert (
        f"Growth bridge (base): {factors} gives {percent(shown)} a year, the growth of the path the total "
        "follows (set to the consensus median) 2026-2030: the price-and-mix residual is re-solved to close the "
        f"bridge ({percent(default_market().bridge()[2].growth)} calibrated to The Business Research Company)."
    ) in text


# ------------------------------------------------------------------------------------------ one story per basis

BASES = ("consensus", *default_market().assumptions.estimates)


@pytest.fixture(scope="module", params=BASES)
def basis_brief(request):
    """A brief whose total follows one basis: the market, the context and the brief in each format."""
    basis = request.param
    context = build_context(load_profile(None, name="Acme"), overrides=f"basis={basis}")
    texts = {fmt: flat_text(fmt, render_brief(context, fmt)) for fmt in ("html", "md", "txt")}
    return basis, market_for(None, f"basis={basis}"), context, texts


def test_under_every_basis_the_headline_has_the_consensus_beside_it_naming_that_basis(basis_brief):
    basis, m, context, texts = basis_brief
    c = m.consensus(2030)
    beside = f"basis: {basis}; {c.count} publishers' median {money(c.median)}, range {money(c.minimum)}-{money(c.maximum)}"
    assert context.headline.line.beside == beside
    for fmt, text in texts.items():
        # The first paragraph, then the tile (its label, then what stands beside the figure).
        assert f"is USD {money(m.forecast(2030))} bn in 2030 ({beside}), growing" in text, fmt
        assert re.search(r"market in 2030, base scenario\W*" + re.escape(beside), text), fmt
    html = render_brief(context, "html")
    assert f"2030: {headline_with_consensus(m, 2030)}." in html.split("<body", 1)[1][:2000]  # the preheader


def test_under_every_basis_the_method_bridge_and_scenarios_describe_the_path_followed(basis_brief):
    basis, m, _, texts = basis_brief
    own = default_market()
    shown = m.cagr(2026, 2030)
    bridge = m.bridge()
    assert math.prod(1 + b.growth for b in bridge) - 1 == pytest.approx(shown, rel=1e-12)
    factors = " x ".join(f"{b.factor} {percent(b.growth)}" for b in bridge)
    for fmt, text in texts.items():
        text = text.replace("×", "x")
        if basis == "tbrc":
            assert "The model is calibrated to the five figures published by The Business Research" in text
            assert f"Growth bridge (base): {factors} gives {percent(shown)} a year." in text
            assert "pinned to the published figures" in text
            continue
        assert "The model is calibrated" not in text and "pinned to the published figures" not in text, fmt
        assert (
            f"Growth bridge (base): {factors} gives {percent(shown)} a year, the growth of the path" in text
        )
        assert f"re-solved to close the bridge ({percent(own.bridge()[2].growth)} calibrated to The" in text
        if basis == "consensus":
            assert (
                "The total follows the consensus: in every year the median of the 5 publishers' paths" in text
            )
            assert "follows the median of the 5 publishers' paths; the price-and-mix residual closes" in text
        else:
            e = m.assumptions.estimates[basis]
            points = ", ".join(f"{y}: USD {e.shown(y)} bn" for y in e.years)
            assert f"The total follows {e.publisher}'s published figures ({points}" in text, fmt
            assert f"follows {e.publisher}'s published figures; the price-and-mix residual closes" in text


def test_under_every_basis_the_chart_circles_the_followed_paths_figures_and_draws_the_publishers_band(
    basis_brief,
):
    """Circled and labelled: the published figures of the path followed (none for the consensus median);
    the publishers' lowest-highest is a band of its own beside the Monte Carlo's, and the legend names both."""
    from xl_addin.report.brief.charts import PUBLISHERS_FILL, chart_svg

    basis, m, context, _ = basis_brief
    points = [] if basis == "consensus" else list(m.assumptions.estimates[basis].points.items())
    for canvas in CANVASES:
        svg = ET.fromstring(chart_svg(context, canvas))
        ns = "{http://www.w3.org/2000/svg}"
        texts = [t.text for t in svg.iter(f"{ns}text")]
        bold = {t.text for t in svg.iter(f"{ns}text") if t.get("font-weight") == "bold"}
        circles = [c for c in svg.iter(f"{ns}circle") if c.get("fill") == "#FFFFFF" and c.get("r") == "3.6"]
        shown = [(y, v) for y, v in points if 2020 <= y <= 2035]
        assert len(circles) == len(shown) + (1 if shown else 0), canvas.name  # and the legend's swatch
        assert {money(v) for y, v in shown if y != 2030} <= bold
        if basis != "tbrc":
            assert not {"18.08", "19.68"} & bold  # the default publisher's points are not this path's
        assert "P10-P90, driver Monte Carlo" in texts and "publishers, lowest-highest" in texts
        assert any(p.get("fill") == PUBLISHERS_FILL for p in svg.iter(f"{ns}polygon"))
        published = [t for t in texts if t and t.startswith("published")]
        assert published == ([f"published ({basis})"] if shown else [])
