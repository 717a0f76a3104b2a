"""The brief as PDF: the printable HTML brief (:func:`~.render.print_html`) on the profile's paper.

Two engines print the same HTML (:func:`print_document`: the brief with its stylesheet, the ``@page`` rules
for paper, margins and footer, and the document's metadata):

- ``chromium``: a Chromium-family browser (Chromium, Chrome or Edge, found by
  :func:`~.browser.find_browser`), one per process, started at the first PDF and kept for the next
  (:mod:`.browser`). The PDF is tagged (a structure tree for screen readers); Author, Subject and
  Keywords, which Chromium does not write, are added with pikepdf, which keeps the tagging.
- ``weasyprint``: WeasyPrint, tagged too (its structure tree marks the layout tables as tables), which
  needs Pango from the system (not found on a stock Windows).

``auto`` (the default; ``IMGOUT_PDF_ENGINE`` or an ``engine`` argument choose otherwise) takes Chromium
when a browser is found, else WeasyPrint, with a one-line :attr:`PdfEngine.notice` saying why.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from markupsafe import escape

from ... import __version__
from ...common.atomic import write_atomic
from ...common.formats import UNIT_LABELS, percent
from ...errors import ImgoutError, InvalidArgument, PdfEngineError
from ..context import ReportContext
from .browser import BrowserPrinter, PrintJob, find_browser
from .render import client_notes, generated_text, print_html

ENGINE_SETTING = "IMGOUT_PDF_ENGINE"
ENGINES = ("chromium", "weasyprint")
CHOICES = ("auto", *ENGINES)
"""What ``IMGOUT_PDF_ENGINE`` (or an ``engine`` argument) may say; ``auto`` is Chromium when found."""

PAGE_MARGIN = "7mm"
AUTHOR = "imgout"
# The footer is drawn in the page margin, outside the stylesheet's reach: the same fonts as brief.css names.
FOOTER_FONT = "7pt Arial, Liberation Sans, Helvetica, Nimbus Sans, sans-serif"


# ------------------------------------------------------------------------------------------ the document


@dataclass(frozen=True)
class PdfMetadata:
    """What the PDF says about itself beside its title (which is the HTML's ``<title>``)."""

    author: str
    subject: str
    keywords: tuple[str, ...]
    creator: str
    note_languages: tuple[str, ...] = ()
    """The language of each paragraph of the analyst's note, in order: each BlockQuote of the tagged PDF."""


def pdf_metadata(context: ReportContext) -> PdfMetadata:
    """Author, subject (the headline in one sentence), keywords and creator (imgout, model, assumptions)."""
    h = context.headline
    subject = (
        f"{context.title_name} {context.period} for {context.client.name}: "
        f"{context.money(h.horizon_value, with_unit=True)} in {h.horizon_year}, "
        f"{percent(h.cagr)} a year ({context.scenario} scenario)"
    )
    keywords = (context.market_name, "market forecast", f"{context.scenario} scenario", context.period)
    languages = tuple(n.lang for n in client_notes(context))
    return PdfMetadata(AUTHOR, " ".join(subject.split()), keywords, context.provenance, languages)


def print_document(context: ReportContext, metadata: PdfMetadata | None = None) -> str:
    """The HTML both engines print: :func:`~.render.print_html` with the page and the metadata in its head.

    The ``@page`` rules set the profile's paper, the margins, and a footer on every page with the provenance
    line and "page N of M" (CSS page-margin boxes, which WeasyPrint and Chromium 131+ draw alike). The
    ``<meta>`` elements carry author, subject and keywords (WeasyPrint writes them into the PDF; for
    Chromium :func:`_stamped` does).
    """
    metadata = metadata or pdf_metadata(context)
    footer = css_string(
        f"{context.provenance} ({context.assumption_origin}) · generated {generated_text(context)}"
        f" · figures in {UNIT_LABELS[context.units]}, growth a year"
    )
    margin_box = f"font: {FOOTER_FONT}; color: #6B7280;"
    page = (
        f"@page {{ size: {context.client.paper}; margin: {PAGE_MARGIN} {PAGE_MARGIN} 10mm;"
        f" @bottom-left {{ content: {footer}; {margin_box} }}"
        f" @bottom-right {{ content: 'page ' counter(page) ' of ' counter(pages); {margin_box} }} }}"
    )
    head = "".join(
        f'<meta name="{name}" content="{escape(value)}">\n'
        for name, value in (
            ("author", metadata.author),
            ("description", metadata.subject),
            ("keywords", ", ".join(metadata.keywords)),
            ("generator", metadata.creator),
        )
    )
    return print_html(context).replace("</head>", f"{head}<style>{page}</style>\n</head>", 1)


#: Characters a CSS string may hold as they are; every other one is written as a CSS escape.
_CSS_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_()%+#@=/")


def css_string(text: str) -> str:
    """Text as a CSS string literal that nothing in it can end: quotes, backslashes, CR/LF/FF (which end a
    CSS string), ``<`` (``</style>``), braces and every control or non-ASCII character are written as
    hex escapes (``\\d ``), so ``"\\r html::after{content:url(file:...)}`` stays text in the footer."""
    return '"' + "".join(ch if ch in _CSS_PLAIN else f"\\{ord(ch):x} " for ch in text) + '"'


# ------------------------------------------------------------------------------------------ the engines


class PdfEngine(Protocol):
    """A way of printing the document: Chromium or WeasyPrint."""

    #: ``chromium`` or ``weasyprint``.
    name: str
    #: Why this engine prints rather than the one ``auto`` prefers, in one line; '' when nothing to say.
    notice: str

    @property
    def description(self) -> str:
        """The engine as a user knows it: ``Chromium 156.0.8078.108 at /usr/bin/chromium``."""
        ...

    def print_pdf(self, document: str, metadata: PdfMetadata) -> bytes:
        """The PDF of the document."""
        ...

    def close(self) -> None:
        """Release what the engine holds (its browser)."""
        ...


class ChromiumEngine:
    """Chromium, Chrome or Edge through Playwright: tagged PDF, metadata stamped with pikepdf."""

    name = "chromium"

    def __init__(self, executable: Path, notice: str = "") -> None:
        self.printer = BrowserPrinter(executable)
        self.notice = notice

    @property
    def description(self) -> str:
        """Product, version (once started) and program: ``Chromium 156.0.8078.108 at /usr/bin/chromium``."""
        version = f" {self.printer.version}" if self.printer.version else ""
        return f"{browser_product(self.printer.executable)}{version} at {self.printer.executable}"

    def print_pdf(self, document: str, metadata: PdfMetadata) -> bytes:
        """Print in the process's browser, then add the metadata Chromium leaves out."""
        return _stamped(self.printer.print_pdf(PrintJob(document, tagged=True)), metadata)

    def close(self) -> None:
        """Close the browser."""
        self.printer.close()


class WeasyPrintEngine:
    """WeasyPrint, with one font configuration for every PDF of the process."""

    name = "weasyprint"

    def __init__(self, notice: str = "") -> None:
        self.notice = notice
        try:
            import weasyprint
            from weasyprint.text.fonts import FontConfiguration
        except (ImportError, OSError) as exc:  # OSError: Pango is not installed (stock Windows)
            raise PdfEngineError(f"WeasyPrint cannot run here: {_first_line(exc)}") from None
        self._weasyprint: Any = weasyprint
        self._fonts = FontConfiguration()
        self._lock = threading.Lock()  # WeasyPrint's font configuration is not made for several threads

    @property
    def description(self) -> str:
        """``WeasyPrint 70.0``."""
        return f"WeasyPrint {self._weasyprint.__version__}"

    def print_pdf(self, document: str, metadata: PdfMetadata) -> bytes:
        """Lay out and write the PDF, tagged; WeasyPrint reads title and metadata from the document's head."""
        with self._lock:
            html = self._weasyprint.HTML(string=document)
            data = bytes(html.render(font_config=self._fonts, pdf_tags=True).write_pdf(pdf_tags=True))
        if not metadata.note_languages:  # only standard tags, and no note to mark with its language
            return data
        import pikepdf

        with pikepdf.open(io.BytesIO(data)) as pdf:
            _mark_structure(pdf, metadata.note_languages)
            out = io.BytesIO()
            pdf.save(out)
        return out.getvalue()

    def close(self) -> None:
        """Nothing to release."""


def browser_product(executable: Path) -> str:
    """Chrome, Edge or Chromium, from the program's name."""
    name = executable.name.lower()
    if "edge" in name:
        return "Edge"
    if "chrome" in name and "chromium" not in name:
        return "Chrome"
    return "Chromium"


def _stamped(data: bytes, metadata: PdfMetadata) -> bytes:
    """The PDF with author, subject, keywords and creator (document info and XMP) and the title shown.

    pikepdf rewrites the file object by object: the structure tree (tagging) and the links stay as they are.
    """
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        title = str(pdf.docinfo.get("/Title", ""))
        with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:  # the document info follows the XMP
            xmp["dc:title"] = title
            xmp["dc:creator"] = [metadata.author]
            xmp["dc:description"] = metadata.subject
            xmp["pdf:Keywords"] = ", ".join(metadata.keywords)
            xmp["xmp:CreatorTool"] = metadata.creator
        # Viewers show the title rather than the file name (an accessibility requirement of tagged PDF).
        pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
        if "/StructTreeRoot" in pdf.Root:
            _mark_structure(pdf, metadata.note_languages)
        _unhint_fonts(pdf)
        out = io.BytesIO()
        # Object streams pack the structure tree's ~600 small objects: 168 KB becomes 90 KB.
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


#: The TrueType tables that only hint (the bytecode that snaps outlines to a screen's pixel grid).
HINTING_TABLES = ("fpgm", "prep", "cvt ", "hdmx", "LTSH", "VDMX")


def _unhint_fonts(pdf: Any) -> None:
    """Every embedded TrueType font without its hinting: the same outlines and widths, 60 % smaller.

    Chromium embeds Liberation Sans subsets with their hinting tables and per-glyph instructions (33 of
    the demo PDF's 89 KB, 28 KB of its email as base64). Without it the fonts take 13 KB and the pages
    look the same (poppler's two renderers, pdftoppm and pdftocairo, draw them pixel for pixel alike at
    80 and 150 dpi). The outlines, advance widths and bounding boxes are untouched.
    """
    import zlib

    import pikepdf
    from fontTools.ttLib import TTFont

    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/FontDescriptor":
            continue
        stream = obj.get("/FontFile2")
        if stream is None:
            continue
        font = TTFont(io.BytesIO(stream.read_bytes()), recalcBBoxes=False, recalcTimestamp=False)
        for tag in HINTING_TABLES:
            if tag in font:
                del font[tag]
        glyphs = font["glyf"]
        for name in font.getGlyphOrder():
            glyphs[name].removeHinting()
        limits = font["maxp"]
        limits.maxZones = 1
        for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs"):
            setattr(limits, field, 0)
        limits.maxStackElements = limits.maxSizeOfInstructions = 0
        data = io.BytesIO()
        font.save(data)
        unhinted = data.getvalue()
        stream.write(zlib.compress(unhinted, 9), filter=pikepdf.Name.FlateDecode)
        stream.Length1 = len(unhinted)


#: The structure types of PDF 1.7 (ISO 32000-1, 14.8.4): any other tag needs a RoleMap entry, or
#: assistive technology and PDF/UA checkers do not know what it is.
STANDARD_TAGS = frozenset(
    [
        "Document",
        "Part",
        "Art",
        "Sect",
        "Div",
        "BlockQuote",
        "Caption",
        "TOC",
        "TOCI",
        "Index",
        "NonStruct",
        "Private",
        "P",
        "H",
        "H1",
        "H2",
        "H3",
        "H4",
        "H5",
        "H6",
        "L",
        "LI",
        "Lbl",
        "LBody",
        "Table",
        "TR",
        "TH",
        "TD",
        "THead",
        "TBody",
        "TFoot",
        "Span",
        "Quote",
        "Note",
        "Reference",
        "BibEntry",
        "Code",
        "Link",
        "Annot",
        "Ruby",
        "RB",
        "RT",
        "RP",
        "Warichu",
        "WT",
        "WP",
        "Figure",
        "Formula",
        "Form",
    ]
)
#: What the non-standard tags browsers write stand for (PDF 2.0 tags among them); others are a Span.
ROLES = {
    "Strong": "Span",
    "Em": "Span",
    "Mark": "Span",
    "Sub": "Span",
    "Sup": "Span",
    "Title": "H1",
    "FENote": "Note",
    "Aside": "Div",
    "DocumentFragment": "Div",
}


def _mark_structure(pdf: Any, note_languages: Sequence[str]) -> None:
    """A RoleMap entry for every non-standard tag of the structure tree, and each note paragraph's
    language on its BlockQuote (Chromium writes the document's language only)."""
    import pikepdf

    tags: set[str] = set()
    quotes: list[Any] = []
    pending = [pdf.Root.StructTreeRoot]
    while pending:  # document order does not matter for tags; BlockQuotes are collected in order below
        node = pending.pop()
        kids = node.get("/K")
        if "/S" in node:
            tags.add(str(node.S)[1:])
        children = list(kids) if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
        pending.extend(reversed([k for k in children if isinstance(k, pikepdf.Dictionary)]))
        if node.get("/S") == "/BlockQuote":
            quotes.append(node)
    extra = sorted(tags - STANDARD_TAGS)
    if extra:
        role_map = pdf.Root.StructTreeRoot.get("/RoleMap") or pikepdf.Dictionary()
        for tag in extra:
            role_map[f"/{tag}"] = pikepdf.Name(f"/{ROLES.get(tag, 'Span')}")
        pdf.Root.StructTreeRoot.RoleMap = role_map
    for quote, lang in zip(quotes, note_languages, strict=False):
        quote.Lang = pikepdf.String(lang)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# ------------------------------------------------------------------------------------------ choosing one


_engines: dict[str, PdfEngine] = {}
_engines_lock = threading.Lock()


def requested_engine(engine: str | None = None) -> str:
    """The engine asked for: ``engine`` if given, else ``IMGOUT_PDF_ENGINE``, else ``auto``; checked."""
    given = engine if engine is not None else os.environ.get(ENGINE_SETTING, "")
    choice = given.strip().lower() or "auto"
    if choice not in CHOICES:
        what = "PDF engine" if engine is not None else ENGINE_SETTING
        raise InvalidArgument(what, given, CHOICES)
    return choice


def pdf_engine(engine: str | None = None) -> PdfEngine:
    """The engine this process prints with for ``engine`` (see :func:`requested_engine`), made once.

    ``auto`` is Chromium when a browser is found, else WeasyPrint with a :attr:`~PdfEngine.notice`.
    :class:`~xl_addin.errors.PdfEngineError` when the engine asked for cannot run here.
    """
    choice = requested_engine(engine)
    with _engines_lock:
        if choice not in _engines:
            _engines[choice] = _make_engine(choice)
        return _engines[choice]


def _make_engine(choice: str) -> PdfEngine:
    if choice == "weasyprint":
        return WeasyPrintEngine()
    search = find_browser()
    missing = "" if search.path else f"no Chromium, Chrome or Edge found {search.looked}"
    if not missing and not _has_playwright():
        missing = (
            "Playwright for Python is not installed (pip install playwright; no browser download needed)"
        )
    if not missing:
        assert search.path is not None
        # auto and chromium share one engine, so that a process never runs two browsers
        return _engines.setdefault("chromium", ChromiumEngine(search.path))
    if choice == "chromium":
        raise PdfEngineError(f"PDF engine chromium: {missing}; set IMGOUT_BROWSER to the browser's path")
    notice = f"PDF by WeasyPrint: {missing}; IMGOUT_BROWSER can name one"
    try:
        return WeasyPrintEngine(notice)
    except PdfEngineError as exc:
        raise PdfEngineError(f"No PDF engine on this machine: {missing}, and {exc}") from None


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def close_engines() -> None:
    """Close every engine this process made (their browsers); the next PDF makes a new one."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        with contextlib.suppress(Exception):
            engine.close()


def _forget_engines_in_child() -> None:
    """A forked child does not own its parent's browsers (their threads stay in the parent): forget them."""
    global _engines_lock
    _engines.clear()
    _engines_lock = threading.Lock()


atexit.register(close_engines)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_engines_in_child)


# ------------------------------------------------------------------------------------------ printing


@dataclass(frozen=True)
class PrintedPdf:
    """A printed PDF and the engine that printed it."""

    data: bytes
    engine: str
    """The engine's description, e.g. ``Chromium 156.0.8078.108 at /usr/bin/chromium``."""
    notice: str = ""
    """Why not the preferred engine, when that is the case (one line)."""


def print_pdf(context: ReportContext, engine: str | None = None) -> PrintedPdf:
    """The brief as PDF, with the engine that printed it: two pages of A4 or Letter (the profile's paper).

    The same page as the HTML brief, laid out on two pages by the ``@media print`` rules of ``brief.css``;
    title, author, subject and keywords set, source URLs clickable, tagged (each note paragraph with its
    language).
    """
    chosen = pdf_engine(engine)
    metadata = pdf_metadata(context)
    data = chosen.print_pdf(print_document(context, metadata), metadata)
    return PrintedPdf(data, chosen.description, chosen.notice)


def pdf_bytes(context: ReportContext, engine: str | None = None) -> bytes:
    """The brief as PDF bytes (see :func:`print_pdf`)."""
    return print_pdf(context, engine).data


def write_pdf(context: ReportContext, path: Path, engine: str | None = None) -> Path:
    """Write the PDF brief to `path` (atomically) and return it."""
    return write_atomic(Path(path), pdf_bytes(context, engine))


# ------------------------------------------------------------------------------------------ what works here


@dataclass(frozen=True)
class EngineCheck:
    """Whether one engine prints on this machine: what it is, or why not."""

    name: str
    works: bool
    detail: str


def check_engines(names: Sequence[str] = ENGINES) -> list[EngineCheck]:
    """Try each engine on a small page (starting the browser): which work on this machine, and why not."""
    probe = (
        "<!DOCTYPE html><html lang='en'><head><title>imgout</title></head><body><p>imgout</p></body></html>"
    )
    metadata = PdfMetadata(AUTHOR, "engine check", (), f"imgout {__version__}")
    checks = []
    for name in names:
        try:
            engine = pdf_engine(name)
            engine.print_pdf(probe, metadata)
        except ImgoutError as exc:  # PdfEngineError, or IMGOUT_BROWSER naming no program
            checks.append(EngineCheck(name, False, str(exc)))
        else:
            checks.append(EngineCheck(name, True, engine.description))
    return checks
