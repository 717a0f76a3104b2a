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
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from markupsafe import Markup

from ...common.formats import UNIT_LABELS, money, percent
from ...common.resources import templates_dir
from ...errors import BriefTemplateError, InvalidArgument
from ...model.market import SEGMENT_DIMENSIONS
from ..context import FanRow, MemberRow, ReportContext
from .charts import CHART_CID, HEIGHT, WIDTH, chart_for, chart_svg

TEMPLATES = {"html": "brief.html.j2", "md": "brief.md.j2", "txt": "brief.txt.j2"}
STYLESHEET = "brief.css"
CHART_MODES = ("inline", "cid")


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


_WEB_ADDRESS = re.compile(r"https?://[^\s<>()\"']*[^\s<>()\"'.,;:!?]")


def _links(value: object) -> Markup:
    """Text for HTML with each web address in it a link (sources are clickable in the page and the PDF).

    >>> str(_links("NHS England (https://www.england.nhs.uk/stats/). <b>"))
    'NHS England (<a href="https://www.england.nhs.uk/stats/">https://www.england.nhs.uk/stats/</a>). &lt;b&gt;'
    """
    text = str(value)
    parts: list[Markup] = []
    last = 0
    for found in _WEB_ADDRESS.finditer(text):
        address = Markup.escape(found.group(0))
        parts += [Markup.escape(text[last : found.start()]), Markup(f'<a href="{address}">{address}</a>')]
        last = found.end()
    return Markup("").join([*parts, Markup.escape(text[last:])])


def _pad(value: object, width: int, align: str = "<") -> str:
    text = plain(value)
    return f"{text:{align}{width}}"


def _wrap(value: object, width: int = 78, indent: str = "") -> list[str]:
    lines = textwrap.wrap(
        " ".join(plain(value).split()),
        width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,  # URLs and year ranges stay whole
        break_long_words=True,  # a 300-character name without spaces still fits the page
    )
    return lines or [""]


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
    env.filters.update(money=_money, percent=_percent, pad=_pad, wrap=_wrap, links=_links)
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
    """A driver's growths per scenario with the figure it rests on and the citation of its source."""

    label: str
    factor: str
    growths: tuple[float, ...]
    evidence: str
    kind: str
    citation: str


def _view(context: ReportContext, fmt: str, chart: str) -> dict[str, Any]:
    """Everything the templates show beyond the context itself, shaped (never formatted) here."""
    market = context.market
    horizon = context.headline.horizon_year
    citations = {s.key: s.citation() for s in context.sources}
    scenarios = [
        ScenarioRow(
            s,
            market.assumptions.scenarios[s].label if s in market.assumptions.scenarios else s,
            market.assumptions.scenarios[s].description
            if s in market.assumptions.scenarios
            else "pinned to the published figures: the drivers multiply back to the published CAGR",
            market.scenario_growth[s],
            market.forecast(horizon, scenario=s),
            s == context.scenario,
        )
        for s in context.scenario_names
    ]
    drivers = [
        DriverView(
            d.label,
            d.factor,
            tuple(d.scenario_growth[s] for s in context.scenario_names),
            d.evidence or market.assumptions.drivers[d.key].note or "assumption",
            d.kind,
            citations.get(d.source, d.source),
        )
        for d in context.drivers
    ]
    fan = next((f for f in context.fan if f.year == horizon), None)
    if fan is None:
        fan = FanRow(horizon, market.fan(horizon, 10), market.fan(horizon, 50), market.fan(horizon, 90))
    dims = market.assumptions.dimensions
    segments: list[tuple[str, Sequence[MemberRow]]] = [
        (dims[d].label.capitalize(), context.segments[d]) for d in SEGMENT_DIMENSIONS
    ]
    paragraphs = [
        " ".join(p.split()) for p in re.split(r"\n\s*\n", context.client.notes.strip()) if p.strip()
    ]
    return {
        "c": context,
        "h": context.headline,
        "units": context.units,
        "unit_label": UNIT_LABELS[context.units],
        "brand": context.client.brand_colour,
        "brand_text": _text_on(context.client.brand_colour),
        "scenarios": scenarios,
        "drivers": drivers,
        "fan": fan,
        "segments": segments,
        "notes": paragraphs,
        "uncertainty": market.assumptions.uncertainty,
        "generated": generated_text(context),
        "chart": _chart_html(context, chart) if fmt == "html" else None,
        "chart_description": chart_for(context).description,
        "logo": _logo_uri(context.client.logo) if fmt == "html" and chart == "inline" else "",
        "css": _stylesheet() if fmt == "html" else "",
    }


def _text_on(colour: str) -> str:
    """Black or white, whichever reads better on the brand colour."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#111827" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.6 else "#FFFFFF"


def _chart_html(context: ReportContext, chart: str) -> Markup:
    if chart == "inline":
        return Markup(chart_svg(context))  # built from escaped parts in .charts
    alt = chart_for(context).description
    return Markup(
        f'<img src="cid:{CHART_CID}" width="{WIDTH}" height="{HEIGHT}" alt="{Markup.escape(alt)}"'
        f' style="display:block;width:100%;max-width:{WIDTH}px;height:auto;border:0">'
    )


def _logo_uri(path: Path | None) -> str:
    if path is None:
        return ""
    kind = "png" if path.suffix.lower() == ".png" else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.cache
def _stylesheet(templates: Path | None = None) -> str:
    return ((templates or templates_dir()) / STYLESHEET).read_text(encoding="utf-8")


@functools.cache
def _inliner() -> Any:
    import css_inline

    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


# ------------------------------------------------------------------------------------------ rendering


def render_brief(
    context: ReportContext, fmt: str, *, chart: str = "inline", templates: Path | None = None
) -> str:
    """The brief as text in one format: ``html``, ``md`` or ``txt``.

    For HTML, ``chart="inline"`` embeds the chart as SVG (a standalone file; also what the PDF prints) and
    ``chart="cid"`` refers to ``cid:imgout-chart`` (an email attaches
    :func:`~xl_addin.report.brief.charts.chart_png` under that Content-ID). Either way the CSS is inlined
    into ``style`` attributes: no stylesheet, no script.
    """
    if fmt not in TEMPLATES:
        raise InvalidArgument("brief format", fmt, tuple(TEMPLATES))
    if chart not in CHART_MODES:
        raise InvalidArgument("chart", chart, CHART_MODES)
    text = _render(context, fmt, chart, templates)
    if fmt == "html":
        return str(_inliner().inline(text))
    return re.sub(r"\n{3,}", "\n\n", text)  # blank lines left by skipped blocks


def print_html(context: ReportContext) -> str:
    """The HTML brief for printing: the chart inline as SVG and the CSS left in its ``<style>`` element.

    A printer (WeasyPrint, a browser) reads the stylesheet there, including the ``@media print`` rules
    that fit the brief on one page; inlining, which email needs, would drop them.
    """
    return _render(context, "html", "inline", None)


def _render(context: ReportContext, fmt: str, chart: str, templates: Path | None) -> str:
    """A brief template rendered; a broken template is an error naming its file and line."""
    name = TEMPLATES[fmt]
    try:
        return environment(fmt, templates).get_template(name).render(_view(context, fmt, chart))
    except (jinja2.TemplateError, BriefTemplateError) as exc:
        raise _template_error(exc, exc.__traceback__, name) from exc


def generated_text(context: ReportContext) -> str:
    """When the brief's numbers were computed, in UTC: ``2026-03-05 12:00 UTC``."""
    return context.generated.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
