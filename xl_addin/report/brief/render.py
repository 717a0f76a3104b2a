"""The summary brief as text: HTML (CSS inlined, for email and as a file), Markdown and plain text.

One report context is rendered through Jinja templates under ``templates/`` (``brief.html.j2``,
``brief.md.j2``, ``brief.txt.j2`` and shared ``_*.j2`` partials). Every number goes through the shared
formatter (:mod:`xl_addin.common.formats`). User text (client names, notes, assumption texts) is escaped
for the format it lands in: HTML by autoescape, Markdown by escaping its specials, text by dropping control
characters. A template that names something undefined is an error naming the template and line, never
a blank. The PDF (:mod:`.pdf`) prints :func:`print_html`, the same page with its stylesheet kept.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from ...common.formats import UNIT_FACTORS, UNIT_LABELS, money, percent, ratio
from ...common.resources import templates_dir
from ...errors import BriefTemplateError, InvalidArgument
from ...model.assumptions import Source
from ...model.estimates import Consensus
from ...model.market import SEGMENT_DIMENSIONS
from ..context import MemberRow, ReportContext
from .charts import ESTIMATES_PRINT, estimates_scene, figures
from .drawing import svg
from .takeaways import ScenarioRange, ordinal, publishers, takeaways

TEMPLATES = {"html": "brief.html.j2", "md": "brief.md.j2", "txt": "brief.txt.j2"}
EMAIL_TEMPLATE = "email.html.j2"
"""The email body: the brief's short layer (the long layer is the PDF or HTML brief it names)."""
EMAIL_TEXT_TEMPLATE = "email.txt.j2"
"""The email's text part: the same short layer in plain text."""
EMAIL_STYLESHEET = "email.screen.css"
"""The email's only ``<style>``: dark-mode rules (everything else is inline, so nothing needs it)."""
EMAIL_COLUMN = 600
"""The email's widest column, px: Outlook for Windows lays the page out at this width."""
EMAIL_GUTTER = 16
"""The email's side padding, px: the chart's column is ``EMAIL_COLUMN - 2 * EMAIL_GUTTER`` at most."""
MAX_EMAIL_TAKEAWAYS = 3
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LOGO_HEIGHT = 40
"""The logo's height in the email, px (its width follows, at most :data:`LOGO_MAX_WIDTH`)."""
LOGO_MAX_WIDTH = 160
STYLESHEET = "brief.css"
"""The long layer's look: inlined into ``style`` attributes in the HTML brief, read as a stylesheet for print."""
SCREEN_STYLESHEET = "brief.screen.css"
"""Phone and dark-mode rules (media queries): kept in a ``<style>`` element, since they cannot be inlined."""
CONTENT_ID_DOMAIN = "imgout"


# ------------------------------------------------------------------------------------------ user text


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>|#~&!])")
_MARKDOWN_BULLET = re.compile(r"^(\s*)([-+=])(?=\s|[-=]*$)")  # a list item or a heading underline
_MARKDOWN_NUMBERED = re.compile(r"^(\s*\d+)([.)])(?=\s|$)")  # a numbered list item: escape its dot


def plain(value: object) -> str:
    """User text for plain text: control characters and bidi overrides dropped, lines kept."""
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\t", " ")
    return _CONTROL.sub("", text)


_SCRIPTS = (  # (language, the characters of its script): the script with the most letters decides
    ("ja", re.compile(r"[\u3040-\u30ff]")),  # kana: Japanese even where Han characters outnumber them
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("en", re.compile(r"[A-Za-z\u00c0-\u024f]")),
)


@dataclass(frozen=True)
class Note:
    """One paragraph of the analyst's note with the language it is written in (a BCP 47 tag)."""

    text: str
    lang: str


def note_language(text: str) -> str:
    """The language of a note's paragraph, from the script most of its letters are in: ``ja`` for kana
    (Japanese mixes kana with Han characters), ``ko``, ``zh``, ``ar``, ``he``, ``el``, ``ru``, else ``en``.

    A reader's screen reader and the PDF's tagging need it; the script is what can be known from the text
    alone, so a French note is marked ``en`` (the brief's language) rather than guessed.

    >>> note_language("医用画像のアウトソーシング市場"), note_language("医学影像"), note_language("Board pack")
    ('ja', 'zh', 'en')
    """
    counts = {lang: len(pattern.findall(text)) for lang, pattern in _SCRIPTS}
    if counts["ja"] and counts["ja"] + counts["zh"] >= max(counts.values()):
        return "ja"
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] else "en"


def client_notes(context: ReportContext) -> list[Note]:
    """The analyst's note to the client as paragraphs (split at blank lines, each on one line), each with
    its language."""
    notes = context.client.notes.strip()
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", notes) if p.strip()]
    return [Note(p, note_language(p)) for p in paragraphs]


def markdown_escape(value: object) -> str:
    """User text for Markdown: one line, every character Markdown would act on escaped with a backslash.

    >>> markdown_escape("<script>alert('x')</script> & *Co* | #1")
    "\\\\<script\\\\>alert('x')\\\\</script\\\\> \\\\& \\\\*Co\\\\* \\\\| \\\\#1"
    """
    text = " ".join(plain(value).split())
    text = _MARKDOWN_SPECIALS.sub(r"\\\1", text)
    text = _MARKDOWN_BULLET.sub(r"\1\\\2", text)
    return _MARKDOWN_NUMBERED.sub(r"\1\\\2", text)


def _finalize_for(fmt: str) -> Callable[[object], object]:
    """What every ``{{ expression }}`` passes through: None is a template bug, not an empty cell."""

    def finalize(value: object) -> object:
        if value is None:
            raise BriefTemplateError("a template expression gave None (nothing to show)")
        if isinstance(value, Markup) or fmt == "html":
            return value  # HTML is escaped by autoescape; Markup is text the renderer built itself
        return markdown_escape(value) if fmt == "md" else plain(value)

    return finalize


# ------------------------------------------------------------------------------------------ Jinja


@jinja2.pass_context
def _money(ctx: jinja2.runtime.Context, value: float, *, unit: bool = False) -> str:
    return ctx["c"].money(value, with_unit=unit)


def _percent(value: float) -> str:
    return percent(value)


def _ratio(value: float) -> str:
    return ratio(value)


def _and_join(values: Sequence[object]) -> str:
    """``a, b and c``."""
    items = [str(v) for v in values]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}" if items else ""


def _pad(value: object, width: int, align: str = "<") -> str:
    text = plain(value)
    return f"{text:{align}{width}}"


def _wrap(value: object, width: int = 78, indent: str = "") -> list[str]:
    """Text in lines of at most `width` characters, broken between words.

    A word longer than a line is cut into pieces (a 300-character name without spaces still fits the
    page), except a URL: a broken URL no longer works when clicked or copied, so it keeps a line of its
    own, however long. Hyphens are never break points (URLs and year ranges stay whole).
    """
    room = max(1, width - len(indent))
    lines: list[str] = []
    current = ""
    for word in " ".join(plain(value).split()).split(" "):
        if not word:
            continue
        pieces = (
            [word]
            if "://" in word or len(word) <= room
            else [word[i : i + room] for i in range(0, len(word), room)]
        )
        for piece in pieces:
            if current and len(current) + 1 + len(piece) > room:
                lines.append(indent + current)
                current = piece
            else:
                current = f"{current} {piece}" if current else piece
    if current or not lines:
        lines.append(indent + current)
    return lines


def _linked(value: object) -> Markup:
    """A source's citation for HTML with its own URL as the only link (so a PDF's sources are links too);
    any other value is escaped text, never a link (a URL in a title or a note stays text).

    The URL was checked when the assumptions were read (http/https, nothing that ends an attribute) and is
    escaped for the attribute all the same. The link carries its host (``data-host``): the printed page
    shows the host as the link's text instead of the whole URL (brief.css), which keeps the sources of the
    PDF short.
    """
    if not isinstance(value, Source):
        return Markup.escape(plain(value))
    text = Markup.escape(plain(f"{value.publisher}, {value.title}, {value.date}"))
    if not value.url.startswith(("https://", "http://")):
        return text
    url = Markup.escape(value.url)
    host = (urlsplit(value.url).hostname or "").removeprefix("www.")
    link = f'<a href="{url}" data-host="{Markup.escape(host)}"><span class="url">{url}</span></a>'
    return Markup(f"{text} ({link})")


@functools.cache
def environment(fmt: str, templates: Path | None = None) -> jinja2.Environment:
    """The Jinja environment for one output format: autoescape for HTML, StrictUndefined everywhere."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates or templates_dir())),
        autoescape=fmt == "html",
        undefined=jinja2.StrictUndefined,
        finalize=_finalize_for(fmt),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(
        money=_money,
        percent=_percent,
        ratio=_ratio,
        pad=_pad,
        wrap=_wrap,
        linked=_linked,
        and_join=_and_join,
    )
    env.globals.update(zip=zip)
    return env


def _template_error(exc: Exception, tb: TracebackType | None, name: str) -> BriefTemplateError:
    """The error for a broken template, naming the template file and line Jinja was rendering."""
    where = name
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = f"{exc.filename or exc.name or name}:{exc.lineno}"
    else:
        while tb is not None:  # Jinja rewrites frames of template code to the template's own file and line
            filename = tb.tb_frame.f_code.co_filename
            if filename.endswith(".j2"):
                where = f"{filename}:{tb.tb_lineno}"
            tb = tb.tb_next
    message = getattr(exc, "message", None) or str(exc)
    return BriefTemplateError(f"Template error in {where}: {message}")


# ------------------------------------------------------------------------------------------ view


@dataclass(frozen=True)
class ScenarioRow:
    """One scenario as the brief shows it."""

    key: str
    label: str
    description: str
    growth: float
    horizon_value: float
    chosen: bool


@dataclass(frozen=True)
class DriverView:
    """A driver's growths per scenario with the figure it rests on and its source, as the number of the
    source in the brief's list of sources and its publisher (``2, NHS England``): the full citation is
    in that list, once."""

    label: str
    factor: str
    growths: tuple[float, ...]
    evidence: str
    kind: str
    citation: str


@dataclass(frozen=True)
class RoundingGap:
    """A column whose rounded members do not add up to the rounded total shown under them."""

    column: str
    shown_sum: str
    total: str


@dataclass(frozen=True)
class MemberTable:
    """One table of members (regions, services ...) with its total row and where rounding shows."""

    title: str
    rows: Sequence[MemberRow]
    rounding: tuple[RoundingGap, ...]


@dataclass(frozen=True)
class EstimatesView:
    """The publishers' estimates as the brief's paragraph tells them: the consensus of the base and the
    horizon year (the engine's), what the model follows, and which publishers state their scope."""

    base: Consensus
    horizon: Consensus
    ranked: int
    """How many totals the model's rank is among: the publishers it does not follow, and itself."""
    followed: str
    """How the model's total is set: ``calibrated to <publisher>``, ``set to the consensus median`` ..."""
    scopes: tuple[tuple[str, str], ...]
    """(publisher, scope) for every publisher that states what it counts."""
    silent: tuple[str, ...]
    """Publishers that do not state their scope."""
    widest: tuple[float, float]
    """The lowest and highest of every estimate in the horizon year (the publishers' spread)."""


def estimates_view(context: ReportContext) -> EstimatesView | None:
    """The estimates paragraph's numbers and names, or None when the set has no publishers' estimates."""
    m = context.market
    if not m.assumptions.estimates:
        return None
    h = context.headline
    base, horizon = m.consensus(h.base_year), m.consensus(h.horizon_year)
    ranked = publishers(context, h.base_year).ranked
    followed = context.basis.followed
    stated = [(e.publisher, e.scope) for e in m.assumptions.estimates.values() if e.scope != "not stated"]
    silent = tuple(e.publisher for e in m.assumptions.estimates.values() if e.scope == "not stated")
    return EstimatesView(
        base,
        horizon,
        ranked,
        followed,
        tuple(stated),
        silent,
        (horizon.minimum, horizon.maximum),
    )


def rank_words(rank: int, count: int) -> str:
    """Where a figure ranks among `count` (1 = highest): ``the highest of 5``, ``the 2nd highest of 5``."""
    if rank == 1:
        return f"the highest of {count}"
    if rank == count:
        return f"the lowest of {count}"
    return f"the {ordinal(rank)} highest of {count}"


def status_groups(context: ReportContext) -> tuple[tuple[tuple[int, ...], str], ...]:
    """The status of a region's or segment's value in each table year, years with the same status
    together: ``(((2025, 2026, 2030), "published total, assumed split"),)`` (the engine's words)."""
    region = context.regions[0].member
    groups: list[tuple[list[int], str]] = []
    for year in context.table_years:
        status = context.market.status(year, context.scenario, region=region)
        if groups and groups[-1][1] == status:
            groups[-1][0].append(year)
        else:
            groups.append(([year], status))
    return tuple((tuple(years), status) for years, status in groups)


def rounding_gaps(context: ReportContext, rows: Sequence[MemberRow]) -> tuple[RoundingGap, ...]:
    """The columns where the members, each rounded as shown, add to something else than the total shown.

    Each figure is rounded on its own (to the published precision), so eight regions can show 18.07
    where the total shows 18.08; the brief then says so rather than let the reader find it.
    """
    h, units = context.headline, context.units
    factor = UNIT_FACTORS[units]
    gaps = []
    totals = (h.base_value, h.next_value, h.horizon_value)
    for i, (year, total) in enumerate(zip(context.table_years, totals, strict=True)):
        shown = sum(Decimal(money(r.values[i], units).replace(",", "")) for r in rows)
        total_shown = context.money(total)
        if money(float(shown) / factor, units) != total_shown:
            gaps.append(RoundingGap(str(year), money(float(shown) / factor, units), total_shown))
    shown_share = sum(Decimal(percent(r.share).rstrip("%")) for r in rows)
    if percent(float(shown_share) / 100) != percent(1.0):
        gaps.append(RoundingGap(f"share {h.horizon_year}", percent(float(shown_share) / 100), percent(1.0)))
    return tuple(gaps)


def scenario_rows(context: ReportContext) -> list[ScenarioRow]:
    """Every scenario with its label, what it assumes, its growth and its horizon value."""
    market, horizon = context.market, context.headline.horizon_year
    defined = market.assumptions.scenarios
    return [
        ScenarioRow(
            s,
            defined[s].label if s in defined else s,
            defined[s].description if s in defined else context.basis.base_description,
            market.cagr(market.next_year, horizon, scenario=s),
            market.forecast(horizon, scenario=s),
            s == context.scenario,
        )
        for s in context.scenario_names
    ]


def driver_views(context: ReportContext) -> list[DriverView]:
    """Every driver with its growth per scenario, its figure and the number of its source."""
    m = context.market
    citations = {s.key: f"{n}, {s.publisher}" for n, s in enumerate(context.sources, 1)}
    notes = {k: d.note for k, d in m.assumptions.drivers.items()}
    if context.basis.resolved:  # the residual the bridge uses is re-solved for the path followed
        notes[m.residual_driver] = (
            f"residual, re-solved so that the bridge multiplies back to the growth of the path the total "
            f"follows ({context.basis.followed}); {percent(context.basis.calibrated_residual)} calibrated to "
            f"{context.publication.publisher}"
        )
    return [
        DriverView(
            d.label,
            d.factor,
            tuple(
                m.bridge_residual(s) if d.key == m.residual_driver else d.scenario_growth[s]
                for s in context.scenario_names
            ),
            d.evidence or notes[d.key] or "assumption",
            d.kind,
            citations.get(d.source, d.source),
        )
        for d in context.drivers
    ]


def _view(context: ReportContext, fmt: str) -> dict[str, Any]:
    """Everything the templates show beyond the context itself, shaped (never formatted) here."""
    dims = context.market.assumptions.dimensions
    segments = [
        MemberTable(
            dims[d].label.capitalize(), context.segments[d], rounding_gaps(context, context.segments[d])
        )
        for d in SEGMENT_DIMENSIONS
    ]
    key_points = takeaways(context)
    notes = client_notes(context)
    html = fmt == "html"
    return {
        "c": context,
        "h": context.headline,
        "units": context.units,
        "unit_label": UNIT_LABELS[context.units],
        "brand": context.client.brand_colour,
        "brand_text": _text_on(context.client.brand_colour),
        "scenarios": scenario_rows(context),
        "drivers": driver_views(context),
        "fan": context.fan_at(context.headline.horizon_year),
        "scenario_range": next(t for t in key_points if isinstance(t, ScenarioRange)),
        "takeaways": key_points,
        "ordinal": ordinal,
        "rank_words": rank_words,
        # The forecast period for a narrow column header: 2026-30.
        "short_period": f"{context.headline.next_year}-{context.headline.horizon_year % 100:02d}",
        "estimates": estimates_view(context),
        "statuses": status_groups(context),
        # Drivers whose figure is a proxy (a national figure for the world): the method names them.
        "proxies": [d.label for d in context.drivers if d.kind == "assumed" and d.evidence],
        "regions": MemberTable("Region", context.regions, rounding_gaps(context, context.regions)),
        "segments": segments,
        "notes": [n.text for n in notes],
        "marked_notes": notes,
        "uncertainty": context.market.assumptions.uncertainty,
        "generated": generated_text(context),
        "charts": _charts_html(context) if html else {},
        "logo": logo_view(context.client.logo, _logo_uri(context.client.logo))
        if html and context.client.logo
        else None,
        # The project's own stylesheets, not user text: Markup, so that quotes and ">" stay CSS.
        "css": Markup(_stylesheet(STYLESHEET)) if html else "",
        "screen_css": Markup(_stylesheet(SCREEN_STYLESHEET)) if html else "",
    }


def _text_on(colour: str) -> str:
    """Black or white, whichever reads better on the brand colour."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#111827" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.6 else "#FFFFFF"


def new_content_ids(names: Sequence[str], domain: str = CONTENT_ID_DOMAIN) -> dict[str, str]:
    """Fresh Content-IDs for the images of one email (RFC 2045 wants them unique in the world):
    ``{"market": "market.<32 hex digits>@imgout", "logo": ...}``, the digits from a random UUID."""
    token = uuid.uuid4().hex
    return {name: f"{name}.{token}@{domain}" for name in names}


def _charts_html(context: ReportContext) -> dict[str, dict[str, Markup]]:
    """Each chart on each canvas as inline SVG (built from escaped parts in .drawing), and the compact
    publishers' chart that print sets under the market chart."""
    out = {f: {c: Markup(svg(scene)) for c, scene in by.items()} for f, by in figures(context).items()}
    if "estimates" in out:
        out["estimates"]["print"] = Markup(svg(estimates_scene(context, ESTIMATES_PRINT)))
    return out


@dataclass(frozen=True)
class Logo:
    """The client's logo as an ``<img>`` shows it: where it is (a data URI or ``cid:``) and its size in px."""

    src: str
    width: int
    height: int


def logo_view(path: Path, src: str) -> Logo:
    """The logo at :data:`LOGO_HEIGHT` px high (its width in proportion, at most :data:`LOGO_MAX_WIDTH`)."""
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
    scale = min(LOGO_HEIGHT / max(1, height), LOGO_MAX_WIDTH / max(1, width))
    return Logo(src, max(1, round(width * scale)), max(1, round(height * scale)))


def focus_names(context: ReportContext) -> list[str]:
    """The members the client follows, as the engine names them: regions first, then segments."""
    rows = [*context.regions, *(r for d in SEGMENT_DIMENSIONS for r in context.segments[d])]
    return [r.member for r in rows if r.focus]


def edition_label(context: ReportContext) -> str:
    """The edition as a person says it: the publication's month, ``Mar 2026`` (its date as given when that
    is not a date; the assumption hash when there is none)."""
    date = context.publication.date.strip()
    if not date:
        return context.assumption_hash
    try:
        day = dt.date.fromisoformat(date[:10])
    except ValueError:
        return date
    return f"{MONTHS[day.month - 1]} {day.year}"  # not strftime("%b"): that follows the process's locale


def render_email(
    context: ReportContext,
    chart: Markup,
    *,
    logo: Logo | None = None,
    changed: str = "",
    long_layer: str,
    workbook: str = "",
) -> str:
    """The email body: the short layer of ``templates/email.html.j2``, every style inline.

    `chart` is the one chart's ``<img>``, `logo` the client's logo (by ``cid:``), `changed` the line of
    what moved since the client's last edition ('' for a first edition), `long_layer` and `workbook` the
    attachments' file names the email points to for everything else.
    """
    view = _email_view(context, "email", changed, long_layer, workbook)
    view.update(
        chart=chart,
        logo=logo,
        column=EMAIL_COLUMN,
        gutter=EMAIL_GUTTER,
        screen_css=Markup(_stylesheet(EMAIL_STYLESHEET)),
    )
    return render_template(EMAIL_TEMPLATE, "html", view)


def render_email_text(
    context: ReportContext, *, changed: str = "", long_layer: str, workbook: str = ""
) -> str:
    """The email's text part: the short layer of ``templates/email.txt.j2`` in 76 columns (see
    :func:`render_email` for the arguments)."""
    view = _email_view(context, "txt", changed, long_layer, workbook)
    return re.sub(r"\n{3,}", "\n\n", render_template(EMAIL_TEXT_TEMPLATE, "txt", view))


def _email_view(
    context: ReportContext, fmt: str, changed: str, long_layer: str, workbook: str
) -> dict[str, Any]:
    view = _view(context, fmt)
    view.update(
        changed=changed,
        long_layer=long_layer,
        workbook=workbook,
        focus=focus_names(context),
        edition_label=edition_label(context),
        short_takeaways=view["takeaways"][:MAX_EMAIL_TAKEAWAYS],
        notes=view["marked_notes"],
    )
    return view


def _logo_uri(path: Path | None) -> str:
    if path is None:
        return ""
    kind = "png" if path.suffix.lower() == ".png" else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.cache
def _stylesheet(name: str, templates: Path | None = None) -> str:
    text = ((templates or templates_dir()) / name).read_text(encoding="utf-8")
    if name in (
        SCREEN_STYLESHEET,
        EMAIL_STYLESHEET,
    ):  # sent as is in every email: without comments, on as few lines as it takes
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return text


@functools.cache
def _inliner() -> Any:
    import css_inline

    # <style data-css-inline="keep"> (the phone and dark-mode rules) stays; brief.css is inlined and dropped.
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


# ------------------------------------------------------------------------------------------ rendering


def render_brief(context: ReportContext, fmt: str, *, templates: Path | None = None) -> str:
    """The brief as text in one format: ``html``, ``md`` or ``txt`` (the long layer, in full).

    The HTML is the standalone brief: its charts inline as SVG, the CSS of ``brief.css`` inlined into
    ``style`` attributes, and one ``<style>`` element with the phone and dark-mode rules of
    ``brief.screen.css``; no script, no link. The email's body is the short layer
    (:func:`render_email`).
    """
    if fmt not in TEMPLATES:
        raise InvalidArgument("brief format", fmt, tuple(TEMPLATES))
    text = _render(context, fmt, templates)
    if fmt == "html":
        return str(_inliner().inline(text))
    return re.sub(r"\n{3,}", "\n\n", text)  # blank lines left by skipped blocks


def print_html(context: ReportContext) -> str:
    """The HTML brief for printing: the chart inline as SVG and the CSS left in its ``<style>`` element.

    A printer (WeasyPrint, a browser) reads the stylesheet there, including the ``@media print`` rules
    that set the brief on two pages; inlining would drop them.
    """
    return _render(context, "html", None)


def _render(context: ReportContext, fmt: str, templates: Path | None) -> str:
    """A brief template rendered; a broken template is an error naming its file and line."""
    return render_template(TEMPLATES[fmt], fmt, _view(context, fmt), templates)


def render_template(name: str, fmt: str, variables: Mapping[str, Any], templates: Path | None = None) -> str:
    """Any template of the brief's set, with the environment of `fmt` (its escaping and filters)."""
    try:
        return environment(fmt, templates).get_template(name).render(variables)
    except (jinja2.TemplateError, BriefTemplateError) as exc:
        raise _template_error(exc, exc.__traceback__, name) from exc


def generated_text(context: ReportContext) -> str:
    """When the brief's numbers were computed, in UTC: ``2026-03-05 12:00 UTC``."""
    return context.generated.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
