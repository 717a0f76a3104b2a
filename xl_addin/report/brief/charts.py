"""The brief's chart: market size by year for every scenario, with the Monte Carlo P10-P90 band.

One geometry (:func:`chart_for`) is drawn two ways: as SVG for the standalone HTML and the PDF (crisp,
text stays text) and as PNG for email (Outlook and Gmail do not show SVG). It is laid out for a canvas
(:data:`WIDE` for a desktop window and the PDF, :data:`NARROW` for a phone), each the size it is shown at,
so its text is at least 11 CSS px where it is read: the brief carries both and a media query picks one.

What it labels is what the headline talks about: every scenario's value in the last published year (the
horizon) and the published figures, circled on the base path where they were published. Years after the
horizon are extrapolated: drawn fainter, in a shaded zone that says so. Every label goes through the
shared formatter, so the chart shows the brief's own numbers.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from ...common.formats import UNIT_LABELS, axis_tick, in_units, money
from ..context import ReportContext

if TYPE_CHECKING:  # Pillow is imported only when a PNG is drawn, to keep the HTML path fast
    from PIL import ImageFont

FONT = "Helvetica, Arial, Liberation Sans, DejaVu Sans, sans-serif"
SCENARIO_COLOURS = {"bear": "#C2410C", "bull": "#047857", "base": "#4B5563"}
OTHER_COLOURS = ("#7C3AED", "#B45309", "#0E7490", "#BE185D")
GRID, AXIS_TEXT, ZONE, INK, PAPER = "#E5E7EB", "#4B5563", "#F3F4F6", "#111827", "#FFFFFF"
EXTRAPOLATED_FADE = 0.55
"""How much lighter (mixed with white) a path is drawn after the horizon, where it is extrapolated."""
BLENDS = (0.0, 0.2, 0.4, 0.6, 0.8)
"""Steps from each colour of the chart towards each background it is drawn on: the email PNG's palette
(anti-aliased edges land between the two). A palette PNG is a quarter of a true-colour one."""
CHAR_WIDTH = 0.58
"""The width of an average character in ems (Helvetica/Arial digits are 0.556): room for labels."""

XY = tuple[float, float]
"""A point on the canvas in pixels: (x, y)."""


@dataclass(frozen=True)
class Canvas:
    """A box the chart is drawn for, in CSS px of where it is shown, with the type size that reads there."""

    name: str
    width: int
    height: int
    font: float
    """Every label's size, in px of the canvas."""
    left: float
    right: float
    top: float
    max_width: int
    """The widest the chart is shown: scaled up beyond it, its text would grow past what was designed."""

    @property
    def line(self) -> float:
        """The height of a line of chart text."""
        return round(self.font * 1.35, 1)


WIDE = Canvas("wide", 640, 320, 12.0, left=46, right=18, top=30, max_width=640)
"""For a desktop window (the brief's 596 px column: text 11.2 px) and the PDF (140 mm wide: 7.4 pt)."""
NARROW = Canvas("narrow", 360, 400, 13.0, left=38, right=18, top=30, max_width=480)
"""For a phone: at 375 px wide (351 px column) its text is 12.7 px; at 320 px, 10.7 px."""
CANVASES = (WIDE, NARROW)


@dataclass(frozen=True)
class Line:
    """One scenario's path: solid up to the horizon, fainter after it; the brief's scenario heavier."""

    scenario: str
    colour: str
    faint: str
    width: float
    dashed: bool
    solid: tuple[XY, ...]
    extrapolated: tuple[XY, ...]


@dataclass(frozen=True)
class Label:
    """A piece of text on the canvas; `anchor` is start, middle or end, `y` is the middle of the text."""

    x: float
    y: float
    text: str
    colour: str
    anchor: str = "start"
    bold: bool = False


@dataclass(frozen=True)
class Dot:
    """A point marked on a path: open circles for published figures, filled for the horizon values."""

    x: float
    y: float
    colour: str
    published: bool


@dataclass(frozen=True)
class Zone:
    """A shaded span of years whose values are not published: back-cast or extrapolated."""

    x0: float
    x1: float
    label: str


@dataclass(frozen=True)
class LegendItem:
    """One entry of the legend: a swatch (line, dashed, band or published) and its text, at (x, y)."""

    x: float
    y: float
    label: str
    colour: str
    kind: str


@dataclass(frozen=True)
class Chart:
    """Everything to draw, in pixels of the canvas (y grows downwards)."""

    canvas: Canvas
    left: float
    top: float
    right: float
    bottom: float
    band: tuple[XY, ...]
    band_extrapolated: tuple[XY, ...]
    band_colour: str
    lines: tuple[Line, ...]
    dots: tuple[Dot, ...]
    labels: tuple[Label, ...]
    zones: tuple[Zone, ...]
    y_ticks: tuple[tuple[float, str], ...]
    x_ticks: tuple[tuple[float, str], ...]
    y_title: str
    legend: tuple[LegendItem, ...]
    description: str

    @property
    def smallest_text(self) -> float:
        """The size of the smallest text on the chart, in px of the canvas."""
        return self.canvas.font


def tint(colour: str, amount: float) -> str:
    """A colour mixed with white: amount 0 is the colour, 1 is white."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def text_width(text: str, canvas: Canvas) -> float:
    """About how wide a label is drawn, in px of the canvas."""
    return len(text) * canvas.font * CHAR_WIDTH


@dataclass(frozen=True)
class _Scale:
    """Years across and values up, in pixels of the canvas; values in USD bn, ticks in the brief's units."""

    first: int
    last: int
    step: float
    top_value: float
    units: str
    left: float
    top: float
    right: float
    bottom: float

    def x(self, year: int) -> float:
        """The x of a year."""
        return self.left + (year - self.first) / (self.last - self.first) * (self.right - self.left)

    def y(self, value_bn: float) -> float:
        """The y of a value in USD bn."""
        return self.bottom - in_units(value_bn, self.units) / self.top_value * (self.bottom - self.top)


def chart_for(context: ReportContext, canvas: Canvas = WIDE) -> Chart:
    """The chart's geometry for a report context on a canvas: paths, band, labels, axes and legend."""
    legend_rows = _legend_rows(_legend_entries(context), canvas)
    bottom = canvas.height - 8 - canvas.line * (len(legend_rows) + 1) - 4
    scale = _scale(context, canvas, bottom)
    lines = _lines(context, scale)
    band, band_extrapolated = _band(context, scale)
    dots, labels = _marks(context, scale, canvas)
    return Chart(
        canvas,
        scale.left,
        scale.top,
        scale.right,
        scale.bottom,
        band,
        band_extrapolated,
        tint(context.client.brand_colour, 0.78),
        tuple(lines),
        dots,
        labels,
        _zones(context, scale),
        _y_ticks(scale),
        _x_ticks(context, scale),
        UNIT_LABELS[context.units],
        _legend(legend_rows, canvas, bottom + canvas.line + 8),
        chart_description(context),
    )


def _scale(context: ReportContext, canvas: Canvas, bottom: float) -> _Scale:
    """A round top value above the highest scenario path and P90, and the tick step that reaches it."""
    units = context.units
    years = [y for y, _ in context.scenario_table]
    highest = max(
        max(in_units(v, units) for _, row in context.scenario_table for v in row.values()),
        max(in_units(f.p90, units) for f in context.fan),
    )
    step = nice_step(highest)
    top_value = step * math.ceil(highest / step)
    return _Scale(
        years[0],
        years[-1],
        step,
        top_value,
        units,
        canvas.left,
        canvas.top,
        canvas.width - canvas.right,
        bottom,
    )


def _split(points: Sequence[tuple[int, XY]], horizon: int) -> tuple[tuple[XY, ...], tuple[XY, ...]]:
    """Points up to the horizon, and from the horizon on (both hold the horizon, so the path is joined)."""
    return (
        tuple(p for yr, p in points if yr <= horizon),
        tuple(p for yr, p in points if yr >= horizon),
    )


def _band(context: ReportContext, scale: _Scale) -> tuple[tuple[XY, ...], tuple[XY, ...]]:
    """The P10-P90 band up to the horizon and after it: each along P90 left to right, back along P10."""
    horizon = context.headline.horizon_year
    fan = {f.year: f for f in context.fan}
    years = [yr for yr, _ in context.scenario_table if yr in fan]

    def polygon(span: list[int]) -> tuple[XY, ...]:
        return tuple((scale.x(yr), scale.y(fan[yr].p90)) for yr in span) + tuple(
            (scale.x(yr), scale.y(fan[yr].p10)) for yr in reversed(span)
        )

    return polygon([y for y in years if y <= horizon]), polygon([y for y in years if y >= horizon])


def _colours(context: ReportContext) -> dict[str, str]:
    """Each scenario's colour: the brief's scenario in the brand colour, the others in their own."""
    others = iter(OTHER_COLOURS)
    return {
        s: context.client.brand_colour
        if s == context.scenario
        else SCENARIO_COLOURS.get(s) or next(others, "#6B7280")
        for s in context.scenario_names
    }


def _lines(context: ReportContext, scale: _Scale) -> list[Line]:
    """One line per scenario; the chosen one in the brand colour, solid, heavier and drawn last."""
    horizon = context.headline.horizon_year
    colours = _colours(context)
    lines = []
    for s in context.scenario_names:
        chosen = s == context.scenario
        points = [(yr, (scale.x(yr), scale.y(row[s]))) for yr, row in context.scenario_table]
        solid, extrapolated = _split(points, horizon)
        lines.append(
            Line(
                scenario=s,
                colour=colours[s],
                faint=tint(colours[s], EXTRAPOLATED_FADE),
                width=2.6 if chosen else 1.6,
                dashed=not chosen,
                solid=solid,
                extrapolated=extrapolated,
            )
        )
    lines.sort(key=lambda line: line.scenario == context.scenario)  # the chosen path is drawn last, on top
    return lines


def _marks(
    context: ReportContext, scale: _Scale, canvas: Canvas
) -> tuple[tuple[Dot, ...], tuple[Label, ...]]:
    """Dots and labels: every scenario's horizon value, right of the horizon, and the published figures.

    The horizon labels are spread so that none overlaps; a published figure at the horizon is the base
    scenario's horizon label. Other published figures are labelled above their circle, the first to its
    left (the path rises to the right), any that would touch the one before below it.
    """
    horizon = context.headline.horizon_year
    horizon_row = dict(context.scenario_table).get(horizon)
    colours = _colours(context)
    dots: list[Dot] = []
    labels: list[Label] = []
    if horizon_row is not None and scale.first <= horizon <= scale.last:
        order = sorted(context.scenario_names, key=lambda s: horizon_row[s])
        wanted = [scale.y(horizon_row[s]) for s in order]
        placed = _spread(wanted, canvas.line, scale.top + canvas.line, scale.bottom - canvas.line / 2)
        for s, y in zip(order, placed, strict=True):
            dots.append(Dot(scale.x(horizon), scale.y(horizon_row[s]), colours[s], published=False))
            labels.append(
                Label(
                    scale.x(horizon) + 7,
                    y,
                    f"{s} {money(horizon_row[s], context.units)}",
                    colours[s],
                    bold=True,
                )
            )
    taken: list[tuple[float, float, float, float]] = []  # boxes of the published labels placed so far
    for year, value in context.published_sizes:
        if not scale.first <= year <= scale.last:
            continue
        x, y = scale.x(year), scale.y(value)
        dots.append(Dot(x, y, INK, published=True))
        if year == horizon:
            continue  # labelled with the scenarios' horizon values
        text = money(value, context.units)
        width = text_width(text, canvas)
        if not taken:
            label = Label(x - 6, y - canvas.font * 0.7, text, INK, "end", bold=True)
            box = (x - 6 - width, label.y - canvas.font / 2, x - 6, label.y + canvas.font / 2)
        else:
            label = Label(x, y - canvas.font * 1.1, text, INK, "middle", bold=True)
            box = (x - width / 2, label.y - canvas.font / 2, x + width / 2, label.y + canvas.font / 2)
            if any(_overlap(box, other) for other in taken):
                label = Label(x, y + canvas.font * 1.2, text, INK, "middle", bold=True)
                box = (box[0], label.y - canvas.font / 2, box[2], label.y + canvas.font / 2)
        taken.append(box)
        labels.append(label)
    return tuple(dots), tuple(labels)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _spread(positions: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """Positions (ascending values, so descending y) moved apart by at least `gap`, kept within low..high."""
    placed = list(positions)
    for i in range(1, len(placed)):  # each higher value at least a gap above the one below it
        placed[i] = min(placed[i], placed[i - 1] - gap)
    overflow = low - placed[-1] if placed else 0.0
    if overflow > 0:
        placed = [p + overflow for p in placed]
    return [min(p, high) for p in placed]


def _zones(context: ReportContext, scale: _Scale) -> tuple[Zone, ...]:
    """The shaded spans before the first and after the last published year."""
    base, horizon = context.headline.base_year, context.headline.horizon_year
    zones = []
    if scale.first < base:
        zones.append(Zone(scale.x(scale.first), scale.x(base), "back-cast"))
    if scale.last > horizon:
        zones.append(Zone(scale.x(horizon), scale.x(scale.last), "extrapolated"))
    return tuple(zones)


def _x_ticks(context: ReportContext, scale: _Scale) -> tuple[tuple[float, str], ...]:
    """Year labels every 1, 2 or 5 years (by the span shown), and the first and last year."""
    first, last = scale.first, scale.last
    year_step = 5 if last - first > 12 else (2 if last - first > 6 else 1)
    return tuple(
        (scale.x(yr), str(yr))
        for yr, _ in context.scenario_table
        if yr % year_step == 0 or yr in (first, last)
    )


def _y_ticks(scale: _Scale) -> tuple[tuple[float, str], ...]:
    """Value labels at every step from zero to the top value."""
    return tuple(
        (
            scale.bottom - i * scale.step / scale.top_value * (scale.bottom - scale.top),
            axis_tick(i * scale.step, scale.step),
        )
        for i in range(round(scale.top_value / scale.step) + 1)
    )


def _legend_entries(context: ReportContext) -> list[tuple[str, str, str]]:
    """(label, colour, kind): the chosen scenario, the others, the published figures, the band."""
    colours = _colours(context)
    ordered = sorted(context.scenario_names, key=lambda s: s != context.scenario)
    return [
        *((f"{s} scenario", colours[s], "line" if s == context.scenario else "dashed") for s in ordered),
        ("published figure", INK, "published"),
        ("P10-P90, Monte Carlo", tint(context.client.brand_colour, 0.78), "band"),
    ]


SWATCH = 18.0


def _legend_rows(entries: Sequence[tuple[str, str, str]], canvas: Canvas) -> list[list[tuple[str, str, str]]]:
    """Legend entries flowed into rows that fit the canvas."""
    rows: list[list[tuple[str, str, str]]] = [[]]
    x, room = 0.0, canvas.width - canvas.left - canvas.right
    for entry in entries:
        width = SWATCH + 5 + text_width(entry[0], canvas) + 14
        if rows[-1] and x + width > room:
            rows.append([])
            x = 0.0
        rows[-1].append(entry)
        x += width
    return rows


def _legend(
    rows: Sequence[Sequence[tuple[str, str, str]]], canvas: Canvas, top: float
) -> tuple[LegendItem, ...]:
    items = []
    for r, row in enumerate(rows):
        x = float(canvas.left)
        for label, colour, kind in row:
            items.append(LegendItem(x, top + r * canvas.line + canvas.line / 2, label, colour, kind))
            x += SWATCH + 5 + text_width(label, canvas) + 14
    return tuple(items)


def chart_description(context: ReportContext) -> str:
    """The chart in words (its alt text and title): span, units, every scenario at the horizon, the
    published figures and which years are extrapolated."""
    units = context.units
    first, last = context.scenario_table[0][0], context.scenario_table[-1][0]
    horizon = context.headline.horizon_year
    horizon_values = dict(context.scenario_table).get(horizon, context.scenario_table[-1][1])
    described = "; ".join(f"{s} {money(horizon_values[s], units)}" for s in context.scenario_names)
    published = ", ".join(f"{y} {money(v, units)}" for y, v in context.published_sizes if first <= y <= last)
    text = f"Market size by year, {UNIT_LABELS[units]}, {first}-{last}, by scenario. {horizon}: {described}."
    if published:
        text += f" Published: {published}."
    if last > horizon:
        text += f" Years after {horizon} are extrapolated."
    return text


# ------------------------------------------------------------------------------------------ SVG


def chart_svg(context: ReportContext, canvas: Canvas = WIDE) -> str:
    """The chart as an inline SVG element, drawn for `canvas` (scales down with its container)."""
    c = chart_for(context, canvas)
    w, h, f = canvas.width, canvas.height, canvas.font
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}"'
        f' role="img" aria-label={quoteattr(c.description)} class="chart-{canvas.name}"'
        f' style="display:block;width:100%;height:auto;max-width:{canvas.max_width}px" font-family="{FONT}"'
        f' font-size="{f:g}">',
        f"<title>{escape(c.description)}</title>",
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="{PAPER}"/>',
    ]
    for z in c.zones:
        out.append(
            f'<rect x="{z.x0:.1f}" y="{c.top:.1f}" width="{z.x1 - z.x0:.1f}" height="{c.bottom - c.top:.1f}"'
            f' fill="{ZONE}"/>'
        )
        out.append(_svg_text(Label((z.x0 + z.x1) / 2, c.top + f * 0.9, z.label, AXIS_TEXT, "middle")))
    for ty, tick in c.y_ticks:
        out.append(
            f'<line x1="{c.left:.1f}" y1="{ty:.1f}" x2="{c.right:.1f}" y2="{ty:.1f}" stroke="{GRID}"'
            ' stroke-width="1"/>'
        )
        out.append(_svg_text(Label(c.left - 5, ty, tick, AXIS_TEXT, "end")))
    out.append(_svg_text(Label(c.left - 5, c.top - f, c.y_title, AXIS_TEXT, "start")))
    for tx, year in c.x_ticks:
        out.append(_svg_text(Label(tx, c.bottom + f, year, AXIS_TEXT, "middle")))
    for polygon, colour in ((c.band, c.band_colour), (c.band_extrapolated, tint(c.band_colour, 0.45))):
        if polygon:
            out.append(f'<polygon points="{_points(polygon)}" fill="{colour}" stroke="none"/>')
    for line in c.lines:
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        for points, colour, width in (
            (line.extrapolated, line.faint, line.width * 0.8),
            (line.solid, line.colour, line.width),
        ):
            if len(points) > 1:
                out.append(
                    f'<polyline points="{_points(points)}" fill="none" stroke="{colour}"'
                    f' stroke-width="{width:g}" stroke-linejoin="round"{dash}/>'
                )
    out.append(
        f'<line x1="{c.left:.1f}" y1="{c.bottom:.1f}" x2="{c.right:.1f}" y2="{c.bottom:.1f}"'
        ' stroke="#9CA3AF" stroke-width="1"/>'
    )
    for d in c.dots:
        if d.published:
            out.append(
                f'<circle cx="{d.x:.1f}" cy="{d.y:.1f}" r="3.6" fill="{PAPER}" stroke="{INK}" stroke-width="1.5"/>'
            )
        else:
            out.append(f'<circle cx="{d.x:.1f}" cy="{d.y:.1f}" r="2.6" fill="{d.colour}"/>')
    for label in c.labels:
        out.append(_svg_text(label, halo=True))
    for item in c.legend:
        out.append(_svg_swatch(item))
        out.append(_svg_text(Label(item.x + SWATCH + 5, item.y, item.label, AXIS_TEXT)))
    out.append("</svg>")
    return "".join(out)


def _svg_text(label: Label, *, halo: bool = False) -> str:
    """A label; with `halo`, a white outline drawn first so it reads over lines (paint-order is not
    understood by every renderer). ``dy`` centres the text on `y`."""
    attributes = f'x="{label.x:.1f}" y="{label.y:.1f}" dy="0.35em" text-anchor="{label.anchor}"' + (
        ' font-weight="bold"' if label.bold else ""
    )
    text = escape(label.text)
    under = (
        f'<text {attributes} fill="{PAPER}" stroke="{PAPER}" stroke-width="3.5" stroke-linejoin="round">{text}</text>'
        if halo
        else ""
    )
    return f'{under}<text {attributes} fill="{label.colour}">{text}</text>'


def _svg_swatch(item: LegendItem) -> str:
    x, y = item.x, item.y
    if item.kind == "band":
        return f'<rect x="{x:.1f}" y="{y - 5:.1f}" width="{SWATCH:g}" height="10" fill="{item.colour}"/>'
    if item.kind == "published":
        return (
            f'<circle cx="{x + SWATCH / 2:.1f}" cy="{y:.1f}" r="3.6" fill="{PAPER}" stroke="{item.colour}"'
            ' stroke-width="1.5"/>'
        )
    dash = ' stroke-dasharray="5 3"' if item.kind == "dashed" else ""
    return (
        f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + SWATCH:.1f}" y2="{y:.1f}" stroke="{item.colour}"'
        f' stroke-width="2.2"{dash}/>'
    )


def _points(points: Sequence[XY]) -> str:
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in points)


# ------------------------------------------------------------------------------------------ PNG


def chart_png(context: ReportContext, canvas: Canvas = WIDE, scale: int = 2) -> bytes:
    """The chart as a PNG for email, `scale` times the canvas for sharp screens, in a 64-colour palette.

    Drawn with Pillow (already present as WeasyPrint's image library) at twice the target size and
    reduced, which smooths the lines; the palette keeps it under 40 KB.
    """
    return _png(chart_for(context, canvas), scale)


@functools.lru_cache(maxsize=16)
def _png(c: Chart, scale: int) -> bytes:
    """Draw a chart; cached by what is drawn, so a batch of clients on one scenario draws it once."""
    from PIL import Image

    painter = _Painter(c, scale * 2)  # drawn at twice the size and reduced: smooth lines
    painter.axes()
    painter.paths()
    painter.marks()
    painter.legend()
    image = painter.image.resize((c.canvas.width * scale, c.canvas.height * scale), Image.Resampling.LANCZOS)
    palette = Image.new("P", (1, 1))
    palette.putpalette([channel for colour in _palette(c) for channel in colour])
    image = image.quantize(palette=palette, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


class _Painter:
    """Draws a :class:`Chart` with Pillow, `k` image pixels to a canvas pixel."""

    def __init__(self, c: Chart, k: int) -> None:
        from PIL import Image, ImageDraw

        self.c, self.k = c, k
        self.image = Image.new("RGB", (c.canvas.width * k, c.canvas.height * k), PAPER)
        self.draw = ImageDraw.Draw(self.image)
        size = round(c.canvas.font * k)
        self.font, self.bold = _font(size, bold=False), _font(size, bold=True)

    def at(self, px: float, py: float) -> tuple[float, float]:
        """A canvas point in image pixels."""
        return px * self.k, py * self.k

    def text(self, label: Label, *, halo: bool = False) -> None:
        """A label, centred on its y; with `halo`, outlined in white so it reads over lines."""
        self.draw.text(
            self.at(label.x, label.y),
            label.text,
            fill=label.colour,
            font=self.bold if label.bold else self.font,
            anchor={"start": "lm", "middle": "mm", "end": "rm"}[label.anchor],
            stroke_width=round(1.6 * self.k) if halo else 0,
            stroke_fill=PAPER,
        )

    def circle(self, x: float, y: float, r: float, fill: str, outline: str | None = None) -> None:
        """A circle of radius `r` canvas pixels, open (white with an outline) when `outline` is given."""
        cx, cy = self.at(x, y)
        r *= self.k
        width = round(1.5 * self.k) if outline else 0
        self.draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill, outline=outline, width=width)

    def polyline(self, points: Sequence[XY], colour: str, weight: float, *, dashed: bool) -> None:
        """A path, dashed 5-on 3-off (Pillow draws no dashes) or solid with rounded joints."""
        pixels = [self.at(px, py) for px, py in points]
        width = max(1, round(weight * self.k))
        if dashed:
            for segment in _dashes(pixels, 5 * self.k, 3 * self.k):
                self.draw.line(segment, fill=colour, width=width)
        else:
            self.draw.line(pixels, fill=colour, width=width, joint="curve")

    def axes(self) -> None:
        """Shaded zones with their labels, grid lines and value ticks, the unit, the years."""
        c, font = self.c, self.c.canvas.font
        for z in c.zones:
            self.draw.rectangle([self.at(z.x0, c.top), self.at(z.x1, c.bottom)], fill=ZONE)
            self.text(Label((z.x0 + z.x1) / 2, c.top + font * 0.9, z.label, AXIS_TEXT, "middle"))
        for ty, tick in c.y_ticks:
            self.draw.line([self.at(c.left, ty), self.at(c.right, ty)], fill=GRID, width=self.k)
            self.text(Label(c.left - 5, ty, tick, AXIS_TEXT, "end"))
        self.text(Label(c.left - 5, c.top - font, c.y_title, AXIS_TEXT))
        for tx, year in c.x_ticks:
            self.text(Label(tx, c.bottom + font, year, AXIS_TEXT, "middle"))

    def paths(self) -> None:
        """The band, then each scenario: its extrapolated part fainter, its solid part on top."""
        c = self.c
        for polygon, colour in ((c.band, c.band_colour), (c.band_extrapolated, tint(c.band_colour, 0.45))):
            if polygon:
                self.draw.polygon([self.at(px, py) for px, py in polygon], fill=colour)
        for line in c.lines:
            if len(line.extrapolated) > 1:
                self.polyline(line.extrapolated, line.faint, line.width * 0.8, dashed=line.dashed)
            if len(line.solid) > 1:
                self.polyline(line.solid, line.colour, line.width, dashed=line.dashed)
        self.draw.line([self.at(c.left, c.bottom), self.at(c.right, c.bottom)], fill="#9CA3AF", width=self.k)

    def marks(self) -> None:
        """Published figures (open circles), horizon values (dots) and their labels."""
        for d in self.c.dots:
            if d.published:
                self.circle(d.x, d.y, 3.6, PAPER, INK)
            else:
                self.circle(d.x, d.y, 2.6, d.colour)
        for label in self.c.labels:
            self.text(label, halo=True)

    def legend(self) -> None:
        """Each legend entry: its swatch and its text."""
        for item in self.c.legend:
            x, y = item.x, item.y
            if item.kind == "band":
                self.draw.rectangle([self.at(x, y - 5), self.at(x + SWATCH, y + 5)], fill=item.colour)
            elif item.kind == "published":
                self.circle(x + SWATCH / 2, y, 3.6, PAPER, item.colour)
            else:
                self.polyline([(x, y), (x + SWATCH, y)], item.colour, 2.2, dashed=item.kind == "dashed")
            self.text(Label(x + SWATCH + 5, y, item.label, AXIS_TEXT))


def _palette(c: Chart) -> list[tuple[int, int, int]]:
    """The chart's own colours and their blends with every background (at most 256 colours).

    A palette computed from the picture (median cut) spends its colours on the large light areas and
    greys out the thin scenario lines; this one keeps every colour exact.
    """

    def rgb(colour: str) -> tuple[int, int, int]:
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)

    band_faint = tint(c.band_colour, 0.45)
    backgrounds = [PAPER, ZONE, c.band_colour, band_faint]
    inks = {INK, AXIS_TEXT, GRID, "#9CA3AF", *backgrounds}
    inks |= {line.colour for line in c.lines} | {line.faint for line in c.lines}
    inks |= {item.colour for item in c.legend} | {label.colour for label in c.labels}
    for blends in (BLENDS, BLENDS[::2], (0.0,)):  # coarser steps when many scenarios bring many colours
        colours = {
            (round(r * (1 - t) + pr * t), round(g * (1 - t) + pg * t), round(b * (1 - t) + pb * t))
            for r, g, b in map(rgb, inks)
            for pr, pg, pb in map(rgb, backgrounds)
            for t in blends
        }
        if len(colours) <= 256:
            break
    return sorted(colours)[:256]


def _font(size: int, *, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Liberation Sans (Arial's metrics, as the HTML and PDF), else DejaVu Sans, else Pillow's own font."""
    from PIL import ImageFont

    names = (
        ("LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf")
        if bold
        else ("LiberationSans-Regular.ttf", "DejaVuSans.ttf")
    )
    for name in names:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _dashes(points: Sequence[tuple[float, float]], on: float, off: float) -> list[list[tuple[float, float]]]:
    """Split a polyline into dash segments (Pillow draws no dashed lines)."""
    segments: list[list[tuple[float, float]]] = []
    drawing, left, current = True, on, [points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = math.hypot(x1 - x0, y1 - y0)
        pos = 0.0
        while length - pos > left:
            pos += left
            t = pos / length
            p = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
            if drawing:
                current.append(p)
                segments.append(current)
            current = [p]
            drawing, left = not drawing, on if not drawing else off
        left -= length - pos
        if drawing:
            current.append((x1, y1))
        else:
            current = [(x1, y1)]
    if drawing and len(current) > 1:
        segments.append(current)
    return segments
