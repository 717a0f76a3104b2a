"""The brief's chart: market size by year for every scenario, with the Monte Carlo P10-P90 band.

One geometry (:func:`chart_for`) is drawn two ways: as SVG for the standalone HTML and the PDF (crisp,
text stays text) and as PNG for email (Outlook and Gmail do not show SVG), referenced as ``cid:imgout-chart``.
Every label on the chart goes through the shared formatter, so it shows the brief's own numbers.
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

CHART_CID = "imgout-chart"
"""The Content-ID of the chart image in an email: the HTML refers to it as ``cid:imgout-chart``."""

WIDTH, HEIGHT = 640, 300
FONT = "Arial, Liberation Sans, Helvetica, Nimbus Sans, DejaVu Sans, sans-serif"  # as brief.css (PDF engines)
SCENARIO_COLOURS = {"bear": "#C2410C", "bull": "#047857", "base": "#4B5563"}
OTHER_COLOURS = ("#7C3AED", "#B45309", "#0E7490", "#BE185D")
GRID, AXIS_TEXT, ZONE = "#E5E7EB", "#4B5563", "#F3F4F6"

XY = tuple[float, float]
"""A point on the canvas in pixels: (x, y)."""


@dataclass(frozen=True)
class Line:
    """One scenario's path; the scenario the brief is about is drawn heavier."""

    scenario: str
    colour: str
    width: float
    dashed: bool
    points: tuple[XY, ...]
    end_label: str
    end_y: float


@dataclass(frozen=True)
class Marker:
    """A published figure on the chosen path, labelled with its value."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Zone:
    """A shaded span of years whose values are not published: back-cast or extrapolated."""

    x0: float
    x1: float
    label: str


@dataclass(frozen=True)
class Chart:
    """Everything to draw, in pixels of a WIDTH x HEIGHT canvas (y grows downwards)."""

    left: float
    top: float
    right: float
    bottom: float
    band: tuple[XY, ...]
    band_colour: str
    lines: tuple[Line, ...]
    markers: tuple[Marker, ...]
    zones: tuple[Zone, ...]
    y_ticks: tuple[tuple[float, str], ...]
    x_ticks: tuple[tuple[float, str], ...]
    y_title: str
    legend: tuple[tuple[str, str, str], ...]  # (label, colour, kind: line | dashed | band)
    description: str


def tint(colour: str, amount: float) -> str:
    """A colour mixed with white: amount 0 is the colour, 1 is white."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


@dataclass(frozen=True)
class _Scale:
    """Years across and values up, in pixels of the canvas; values in USD bn, ticks in the brief's units."""

    first: int
    last: int
    step: float
    top_value: float
    units: str
    left: float = 46.0
    top: float = 26.0
    right: float = WIDTH - 104.0
    bottom: float = HEIGHT - 50.0

    def x(self, year: int) -> float:
        """The x of a year."""
        return self.left + (year - self.first) / (self.last - self.first) * (self.right - self.left)

    def y(self, value_bn: float) -> float:
        """The y of a value in USD bn."""
        return self.bottom - in_units(value_bn, self.units) / self.top_value * (self.bottom - self.top)


def chart_for(context: ReportContext) -> Chart:
    """The chart's geometry for a report context: scenario paths, band, published markers, axes."""
    scale = _scale(context)
    lines = _lines(context, scale)
    return Chart(
        scale.left,
        scale.top,
        scale.right,
        scale.bottom,
        _band(context, scale),
        tint(context.client.brand_colour, 0.78),
        tuple(lines),
        tuple(
            Marker(scale.x(p.year), scale.y(p.value), money(p.value, context.units))
            for p in context.series
            if p.status == "published"
        ),
        _zones(context, scale),
        _y_ticks(scale),
        _x_ticks(context, scale),
        UNIT_LABELS[context.units],
        _legend(context, lines),
        _description(context),
    )


def _scale(context: ReportContext) -> _Scale:
    """A round top value above the highest scenario path and P90, and the tick step that reaches it."""
    units = context.units
    years = [y for y, _ in context.scenario_table]
    highest = max(
        max(in_units(v, units) for _, row in context.scenario_table for v in row.values()),
        max(in_units(f.p90, units) for f in context.fan),
    )
    step = nice_step(highest)
    return _Scale(years[0], years[-1], step, step * math.ceil(highest / step), units)


def _band(context: ReportContext, scale: _Scale) -> tuple[XY, ...]:
    """The P10-P90 band: along P90 left to right, back along P10."""
    fan = {f.year: f for f in context.fan}
    years = [yr for yr, _ in context.scenario_table if yr in fan]
    return tuple((scale.x(yr), scale.y(fan[yr].p90)) for yr in years) + tuple(
        (scale.x(yr), scale.y(fan[yr].p10)) for yr in reversed(years)
    )


def _lines(context: ReportContext, scale: _Scale) -> list[Line]:
    """One line per scenario; the chosen one in the brand colour, solid, heavier and drawn last."""
    others = iter(OTHER_COLOURS)
    lines = []
    for s in context.scenario_names:
        chosen = s == context.scenario
        colour = context.client.brand_colour if chosen else SCENARIO_COLOURS.get(s) or next(others, "#6B7280")
        end_value = context.scenario_table[-1][1][s]
        lines.append(
            Line(
                scenario=s,
                colour=colour,
                width=2.6 if chosen else 1.6,
                dashed=not chosen,
                points=tuple((scale.x(yr), scale.y(row[s])) for yr, row in context.scenario_table),
                end_label=f"{s} {money(end_value, context.units)}",
                end_y=scale.y(end_value),
            )
        )
    lines.sort(key=lambda line: line.scenario == context.scenario)  # the chosen path is drawn last, on top
    return lines


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


def _legend(context: ReportContext, lines: Sequence[Line]) -> tuple[tuple[str, str, str], ...]:
    """The chosen scenario first, the others, then the band."""
    chosen_first = sorted(lines, key=lambda line: line.scenario != context.scenario)
    return (
        *(
            (f"{line.scenario} scenario", line.colour, "dashed" if line.dashed else "line")
            for line in chosen_first
        ),
        ("P10-P90 range (Monte Carlo)", tint(context.client.brand_colour, 0.78), "band"),
    )


def _description(context: ReportContext) -> str:
    """The chart in words (its alt text and title): span, units and every scenario at the horizon."""
    units = context.units
    first, last = context.scenario_table[0][0], context.scenario_table[-1][0]
    horizon = context.headline.horizon_year
    horizon_values = dict(context.scenario_table).get(horizon, context.scenario_table[-1][1])
    described = "; ".join(f"{s} {money(horizon_values[s], units)}" for s in context.scenario_names)
    return f"Market size by year, {UNIT_LABELS[units]}, {first}-{last}, by scenario. {horizon}: {described}."


def _spread(positions: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """Move end labels apart so none overlaps: keep order, at least `gap` pixels between neighbours."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [positions[i] for i in order]
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap)
    overflow = placed[-1] - high if placed else 0.0
    if overflow > 0:
        placed = [p - overflow for p in placed]
    placed = [max(p, low) for p in placed]
    out = [0.0] * len(positions)
    for rank, i in enumerate(order):
        out[i] = placed[rank]
    return out


def _legend_layout(c: Chart) -> list[tuple[float, str, str, str]]:
    """Legend items left to right under the axis: (x of the swatch, label, colour, kind)."""
    out, x = [], c.left
    for label, colour, kind in c.legend:
        out.append((x, label, colour, kind))
        x += 18 + 5 + len(label) * 5.6 + 16  # swatch, gap, text at about 5.6 px a character, gap
    return out


LEGEND_Y = HEIGHT - 12


# ------------------------------------------------------------------------------------------ SVG


def chart_svg(context: ReportContext) -> str:
    """The chart as an inline SVG element (scales to the width of its container)."""
    c = chart_for(context)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        f' role="img" aria-label={quoteattr(c.description)} style="display:block;width:100%;height:auto;'
        f'max-width:{WIDTH}px" font-family="{FONT}">',
        f"<title>{escape(c.description)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#FFFFFF"/>',
    ]
    for z in c.zones:
        out.append(
            f'<rect x="{z.x0:.1f}" y="{c.top:.1f}" width="{z.x1 - z.x0:.1f}" height="{c.bottom - c.top:.1f}"'
            f' fill="{ZONE}"/>'
        )
        out.append(
            f'<text x="{(z.x0 + z.x1) / 2:.1f}" y="{c.top + 11:.1f}" font-size="10" fill="{AXIS_TEXT}"'
            f' text-anchor="middle">{escape(z.label)}</text>'
        )
    for ty, label in c.y_ticks:
        out.append(
            f'<line x1="{c.left:.1f}" y1="{ty:.1f}" x2="{c.right:.1f}" y2="{ty:.1f}" stroke="{GRID}"'
            ' stroke-width="1"/>'
        )
        out.append(
            f'<text x="{c.left - 6:.1f}" y="{ty + 3.5:.1f}" font-size="10" fill="{AXIS_TEXT}"'
            f' text-anchor="end">{escape(label)}</text>'
        )
    out.append(
        f'<text x="{c.left - 6:.1f}" y="{c.top - 12:.1f}" font-size="10" fill="{AXIS_TEXT}"'
        f' text-anchor="start">{escape(c.y_title)}</text>'
    )
    for tx, label in c.x_ticks:
        out.append(
            f'<text x="{tx:.1f}" y="{c.bottom + 16:.1f}" font-size="10" fill="{AXIS_TEXT}"'
            f' text-anchor="middle">{escape(label)}</text>'
        )
    out.append(f'<polygon points="{_points(c.band)}" fill="{c.band_colour}" stroke="none"/>')
    for line in c.lines:
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        out.append(
            f'<polyline points="{_points(line.points)}" fill="none" stroke="{line.colour}"'
            f' stroke-width="{line.width}" stroke-linejoin="round"{dash}/>'
        )
    out.append(
        f'<line x1="{c.left:.1f}" y1="{c.bottom:.1f}" x2="{c.right:.1f}" y2="{c.bottom:.1f}"'
        ' stroke="#9CA3AF" stroke-width="1"/>'
    )
    for m in c.markers:
        out.append(
            f'<circle cx="{m.x:.1f}" cy="{m.y:.1f}" r="3.2" fill="#FFFFFF" stroke="#111827" stroke-width="1.4"/>'
        )
        label = f'x="{m.x:.1f}" y="{m.y - 8:.1f}" font-size="10" font-weight="bold" text-anchor="middle"'
        # A white halo drawn first, then the text: paint-order is not understood by every renderer.
        out.append(f'<text {label} fill="#FFFFFF" stroke="#FFFFFF" stroke-width="3">{escape(m.label)}</text>')
        out.append(f'<text {label} fill="#111827">{escape(m.label)}</text>')
    ends = _spread([line.end_y for line in c.lines], 13, c.top, c.bottom)
    for line, ey in zip(c.lines, ends, strict=True):
        out.append(
            f'<text x="{c.right + 6:.1f}" y="{ey + 3.5:.1f}" font-size="10" fill="{line.colour}"'
            f' font-weight="bold">{escape(line.end_label)}</text>'
        )
    for lx, label, colour, kind in _legend_layout(c):
        if kind == "band":
            out.append(f'<rect x="{lx:.1f}" y="{LEGEND_Y - 5}" width="18" height="10" fill="{colour}"/>')
        else:
            dash = ' stroke-dasharray="5 3"' if kind == "dashed" else ""
            out.append(
                f'<line x1="{lx:.1f}" y1="{LEGEND_Y}" x2="{lx + 18:.1f}" y2="{LEGEND_Y}" stroke="{colour}"'
                f' stroke-width="2.2"{dash}/>'
            )
        out.append(
            f'<text x="{lx + 23:.1f}" y="{LEGEND_Y + 3.5}" font-size="10" fill="{AXIS_TEXT}">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _points(points: Sequence[XY]) -> str:
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in points)


# ------------------------------------------------------------------------------------------ PNG


def chart_png(context: ReportContext, scale: int = 2) -> bytes:
    """The chart as a PNG (for email: ``cid:imgout-chart``), `scale` times WIDTH x HEIGHT for sharp screens.

    Drawn with Pillow (already present as WeasyPrint's image library) at twice the target size and
    reduced, which smooths the lines.
    """
    return _png(chart_for(context), scale)


@functools.lru_cache(maxsize=16)
def _png(c: Chart, scale: int) -> bytes:
    """Draw a chart; cached by what is drawn, so a batch of clients on one scenario draws it once."""
    from PIL import Image, ImageDraw

    k = scale * 2
    image = Image.new("RGB", (WIDTH * k, HEIGHT * k), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    font, bold = _font(10 * k, bold=False), _font(10 * k, bold=True)

    def at(px: float, py: float) -> tuple[float, float]:
        return px * k, py * k

    for z in c.zones:
        draw.rectangle([at(z.x0, c.top), at(z.x1, c.bottom)], fill=ZONE)
        draw.text(at((z.x0 + z.x1) / 2, c.top + 7), z.label, fill=AXIS_TEXT, font=font, anchor="mm")
    for ty, label in c.y_ticks:
        draw.line([at(c.left, ty), at(c.right, ty)], fill=GRID, width=k)
        draw.text(at(c.left - 6, ty), label, fill=AXIS_TEXT, font=font, anchor="rm")
    draw.text(at(c.left - 6, c.top - 16), c.y_title, fill=AXIS_TEXT, font=font, anchor="lm")
    for tx, label in c.x_ticks:
        draw.text(at(tx, c.bottom + 12), label, fill=AXIS_TEXT, font=font, anchor="mm")
    draw.polygon([at(px, py) for px, py in c.band], fill=c.band_colour)
    for line in c.lines:
        points = [at(px, py) for px, py in line.points]
        width = max(1, round(line.width * k))
        if line.dashed:
            for segment in _dashes(points, 5 * k, 3 * k):
                draw.line(segment, fill=line.colour, width=width)
        else:
            draw.line(points, fill=line.colour, width=width, joint="curve")
    draw.line([at(c.left, c.bottom), at(c.right, c.bottom)], fill="#9CA3AF", width=k)
    for m in c.markers:
        r = 3.2 * k
        cx, cy = at(m.x, m.y)
        draw.ellipse(
            [cx - r, cy - r, cx + r, cy + r], fill="#FFFFFF", outline="#111827", width=max(1, round(1.4 * k))
        )
        draw.text(
            at(m.x, m.y - 11),
            m.label,
            fill="#111827",
            font=bold,
            anchor="mm",
            stroke_width=k,
            stroke_fill="#FFFFFF",
        )
    ends = _spread([line.end_y for line in c.lines], 13, c.top, c.bottom)
    for line, ey in zip(c.lines, ends, strict=True):
        draw.text(at(c.right + 6, ey), line.end_label, fill=line.colour, font=bold, anchor="lm")
    for lx, label, colour, kind in _legend_layout(c):
        if kind == "band":
            draw.rectangle([at(lx, LEGEND_Y - 5), at(lx + 18, LEGEND_Y + 5)], fill=colour)
        elif kind == "dashed":
            for segment in _dashes([at(lx, LEGEND_Y), at(lx + 18, LEGEND_Y)], 5 * k, 3 * k):
                draw.line(segment, fill=colour, width=round(2.2 * k))
        else:
            draw.line([at(lx, LEGEND_Y), at(lx + 18, LEGEND_Y)], fill=colour, width=round(2.2 * k))
        draw.text(at(lx + 23, LEGEND_Y), label, fill=AXIS_TEXT, font=font, anchor="lm")
    image = image.resize((WIDTH * scale, HEIGHT * scale), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _font(size: int, *, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (installed with the fonts the PDF uses) or Pillow's own font where it is missing."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)
    except OSError:
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
