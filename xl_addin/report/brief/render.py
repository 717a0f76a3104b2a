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
import html as html_lib
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
from ...model.estimates import Consensus
from ...model.market import SEGMENT_DIMENSIONS
from ..context import MemberRow, ReportContext
from .charts import ESTIMATES_PRINT, estimates_scene, figures
from .drawing import Scene, svg
from .takeaways import ScenarioRange, ordinal, publishers, takeaways

TEMPLATES = {"html": "brief.html.j2", "md": "brief.md.j2", "txt": "brief.txt.j2"}
STYLESHEET = "brief.css"
"""The brief's look; inlined into ``style`` attributes for email, read as a stylesheet for print."""
SCREEN_STYLESHEET = "brief.screen.css"
"""Phone and dark-mode rules (media queries): kept in a ``<style>`` element, since they cannot be inlined."""
CHART_MODES = ("inline", "cid")
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
    return money(value, ctx["units"], with_unit=unit)


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


_LINK = re.compile(r"https?://[^\s<>\"')]+")


def _linked(value: object) -> Markup:
    """User text for HTML with its http(s) URLs made links (so a PDF's sources are links too).

    Each link carries its host (``data-host``): the printed page shows the host as the link's text
    instead of the whole URL (brief.css), which keeps the sources of the PDF on its one page.
    """

    def link(m: re.Match[str]) -> str:
        host = urlsplit(html_lib.unescape(m.group(0))).hostname or ""
        host = host.removeprefix("www.")
        return f'<a href="{m.group(0)}" data-host="{Markup.escape(host)}"><span class="url">{m.group(0)}</span></a>'

    return Markup(_LINK.sub(link, str(Markup.escape(plain(value)))))


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
        if money(float(shown) / factor, units) != money(total, units):
            gaps.append(RoundingGap(str(year), money(float(shown) / factor, units), money(total, units)))
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


def _view(
    context: ReportContext, fmt: str, chart: str, content_ids: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Everything the templates show beyond the context itself, shaped (never formatted) here."""
    dims = context.market.assumptions.dimensions
    segments = [
        MemberTable(
            dims[d].label.capitalize(), context.segments[d], rounding_gaps(context, context.segments[d])
        )
        for d in SEGMENT_DIMENSIONS
    ]
    notes = context.client.notes.strip()
    key_points = takeaways(context)
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
        "notes": [" ".join(p.split()) for p in re.split(r"\n\s*\n", notes) if p.strip()],
        "uncertainty": context.market.assumptions.uncertainty,
        "generated": generated_text(context),
        "charts": _charts_html(context, chart, content_ids) if html else {},
        "logo": _logo_uri(context.client.logo) if html and chart == "inline" else "",
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
    ``{"market-wide": "market-wide.<32 hex digits>@imgout", ...}``, the digits from a random UUID."""
    token = uuid.uuid4().hex
    return {name: f"{name}.{token}@{domain}" for name in names}


def image_names(scenes: Mapping[str, Mapping[str, Scene]]) -> list[str]:
    """Each picture's name, chart and canvas: ``market-wide``, ``market-narrow``, ``estimates-wide`` ..."""
    return [f"{figure}-{canvas}" for figure, by_canvas in scenes.items() for canvas in by_canvas]


def _charts_html(
    context: ReportContext, chart: str, content_ids: Mapping[str, str] | None
) -> dict[str, dict[str, Markup]]:
    """Each chart on each canvas as HTML: inline SVG, or an image referring to its Content-ID."""
    scenes = figures(context)
    if chart == "inline":  # SVG built from escaped parts in .drawing
        out = {f: {c: Markup(svg(scene)) for c, scene in by.items()} for f, by in scenes.items()}
        if "estimates" in out:  # the compact publishers' chart that print sets under the market chart
            out["estimates"]["print"] = Markup(svg(estimates_scene(context, ESTIMATES_PRINT)))
        return out
    ids = content_ids or new_content_ids(image_names(scenes))
    return {f: {c: _image(scene, ids[f"{f}-{c}"]) for c, scene in by.items()} for f, by in scenes.items()}


def _image(scene: Scene, content_id: str) -> Markup:
    canvas = scene.canvas
    return Markup(
        f'<img src="cid:{Markup.escape(content_id)}" width="{canvas.width}" height="{canvas.height}"'
        f' alt="{Markup.escape(scene.description)}" class="chart-image"'
        f' style="display:block;width:100%;max-width:{canvas.max_width}px;height:auto">'
    )


def _logo_uri(path: Path | None) -> str:
    if path is None:
        return ""
    kind = "png" if path.suffix.lower() == ".png" else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.cache
def _stylesheet(name: str, templates: Path | None = None) -> str:
    text = ((templates or templates_dir()) / name).read_text(encoding="utf-8")
    if name == SCREEN_STYLESHEET:  # sent as is in every email: without comments, on as few lines as it takes
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return text


@functools.cache
def _inliner() -> Any:
    import css_inline

    # <style data-css-inline="keep"> (the phone and dark-mode rules) stays; brief.css is inlined and dropped.
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


# ------------------------------------------------------------------------------------------ rendering


def render_brief(
    context: ReportContext,
    fmt: str,
    *,
    chart: str = "inline",
    templates: Path | None = None,
    content_ids: Mapping[str, str] | None = None,
) -> str:
    """The brief as text in one format: ``html``, ``md`` or ``txt``.

    For HTML, ``chart="inline"`` embeds the chart as SVG (a standalone file; also what the PDF prints) and
    ``chart="cid"`` refers to images by Content-ID (``content_ids``: one per canvas, see
    :func:`new_content_ids`; :func:`~xl_addin.report.brief.mail.email_brief` gives the HTML with the PNGs
    to attach under them). Either way the CSS of ``brief.css`` is inlined into ``style`` attributes, and
    one ``<style>`` element stays: the phone and dark-mode rules of ``brief.screen.css``, for the clients
    that honour media queries. No script, no link.
    """
    if fmt not in TEMPLATES:
        raise InvalidArgument("brief format", fmt, tuple(TEMPLATES))
    if chart not in CHART_MODES:
        raise InvalidArgument("chart", chart, CHART_MODES)
    text = _render(context, fmt, chart, templates, content_ids)
    if fmt == "html":
        return str(_inliner().inline(text))
    return re.sub(r"\n{3,}", "\n\n", text)  # blank lines left by skipped blocks


def print_html(context: ReportContext) -> str:
    """The HTML brief for printing: the chart inline as SVG and the CSS left in its ``<style>`` element.

    A printer (WeasyPrint, a browser) reads the stylesheet there, including the ``@media print`` rules
    that fit the brief on one page; inlining, which email needs, would drop them.
    """
    return _render(context, "html", "inline", None, None)


def _render(
    context: ReportContext,
    fmt: str,
    chart: str,
    templates: Path | None,
    content_ids: Mapping[str, str] | None,
) -> str:
    """A brief template rendered; a broken template is an error naming its file and line."""
    return render_template(TEMPLATES[fmt], fmt, _view(context, fmt, chart, content_ids), templates)


def render_template(name: str, fmt: str, variables: Mapping[str, Any], templates: Path | None = None) -> str:
    """Any template of the brief's set, with the environment of `fmt` (its escaping and filters)."""
    try:
        return environment(fmt, templates).get_template(name).render(variables)
    except (jinja2.TemplateError, BriefTemplateError) as exc:
        raise _template_error(exc, exc.__traceback__, name) from exc


def generated_text(context: ReportContext) -> str:
    """When the brief's numbers were computed, in UTC: ``2026-03-05 12:00 UTC``."""
    return context.generated.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
