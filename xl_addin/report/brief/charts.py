"""The brief's charts, as scenes (:mod:`.drawing`) drawn as SVG for the HTML file and the PDF and as PNG
for email:

- **market**: market size by year for every scenario, with the driver Monte Carlo's P10-P90 band. It labels
  what the headline talks about: every scenario's value in the last published year (the horizon) and the
  published figures, circled where they were published. Years after the horizon are extrapolated: drawn
  fainter, in a shaded zone that says so.
- **estimates**: every publisher's estimate of the market in the base year and the horizon year, the path
  the model follows highlighted, the consensus medians marked: how the model compares with the others.

Each is laid out for a canvas the size it is shown at, so its text is at least 11 CSS px where it is
read: :data:`WIDE` for a desktop window and the PDF, :data:`NARROW` for a phone. The brief carries both
and a media query picks one. Every label goes through the shared formatter, so the charts show the
brief's own numbers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...common.formats import UNIT_LABELS, axis_tick, in_units
from ..context import ReportContext
from .drawing import Area, Box, Canvas, Circle, Scene, Shape, Stroke, Text, png, svg

SCENARIO_COLOURS = {"bear": "#C2410C", "bull": "#047857", "base": "#4B5563"}
OTHER_COLOURS = ("#7C3AED", "#B45309", "#0E7490", "#BE185D")
GRID, AXIS, AXIS_TEXT, ZONE, INK = "#E5E7EB", "#9CA3AF", "#4B5563", "#F3F4F6", "#111827"
PUBLISHER = "#374151"
PUBLISHERS_FILL, PUBLISHERS_EDGE = "#F6F1E7", "#A8A29E"
"""The publishers' spread: a pale sand fill with thin stone-grey edges, apart from the Monte Carlo band and
from the scenarios' coloured lines. The edges are solid: dashed, they cost the PDF 7 KB (every dash a path)."""
EXTRAPOLATED_FADE = 0.55
"""How much lighter (mixed with white) a value is drawn where it is extrapolated."""
SWATCH = 18.0

WIDE = Canvas("wide", 640, 290, 13.0, left=46, right=18, top=30, max_width=640)
"""For a desktop window (the brief's 596 px column: text 12.1 px) and the PDF (108 mm wide: 6.2 pt)."""
NARROW = Canvas("narrow", 360, 400, 13.0, left=38, right=18, top=30, max_width=480)
"""For a phone: at 375 px wide (351 px column) its text is 12.7 px; at 320 px, 10.7 px."""
CANVASES = (WIDE, NARROW)

ESTIMATES_WIDE = Canvas("wide", 640, 0, 15.5, left=10, right=64, top=8, max_width=640)
"""The publishers' chart on a desktop (text 14.4 px) and in the PDF's 96 mm column (6.6 pt); its height
follows the number of publishers."""
ESTIMATES_NARROW = Canvas("narrow", 360, 0, 13.0, left=10, right=50, top=8, max_width=480)
"""The publishers' chart on a phone: each publisher's name above its row."""
ESTIMATES_PRINT = Canvas("print", 640, 0, 13.0, left=4, right=40, top=4, max_width=640)
"""The publishers' chart in the PDF, under the market chart (108 mm wide: 6.2 pt): one line a publisher,
its legend beside the axis, so it takes no more height than the column beside it leaves free."""
ESTIMATE_CANVASES = (ESTIMATES_WIDE, ESTIMATES_NARROW)


def tint(colour: str, amount: float) -> str:
    """A colour mixed with white: amount 0 is the colour, 1 is white."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def figures(context: ReportContext) -> dict[str, dict[str, Scene]]:
    """Every chart of the brief on each of its canvases: ``{"market": {"wide": ..., "narrow": ...},
    "estimates": {...}}`` (no estimates chart when the assumption set has no publishers' estimates)."""
    out = {"market": {c.name: market_scene(context, c) for c in CANVASES}}
    if context.market.assumptions.estimates:
        out["estimates"] = {c.name: estimates_scene(context, c) for c in ESTIMATE_CANVASES}
    return out


def chart_svg(context: ReportContext, canvas: Canvas = WIDE) -> str:
    """The market chart as an inline SVG element, drawn for `canvas`."""
    return svg(market_scene(context, canvas))


def chart_png(context: ReportContext, canvas: Canvas = WIDE) -> bytes:
    """The market chart as a PNG for email, twice the canvas for sharp screens, in a palette of its own
    colours (about 28 KB)."""
    return png(market_scene(context, canvas))


# ------------------------------------------------------------------------------------------ market


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


def market_scene(context: ReportContext, canvas: Canvas = WIDE) -> Scene:
    """The market chart on a canvas: zones, axes, band, scenario paths, marks, labels, legend."""
    entries = _legend_entries(context)
    rows = _legend_rows(entries, canvas)
    bottom = canvas.height - 8 - canvas.line * (len(rows) + 1) - 4
    scale = _scale(context, canvas, bottom)
    shapes: list[Shape] = [*_axes(context, scale, canvas)]
    shapes += _paths(context, scale)
    shapes += _marks(context, scale, canvas)
    shapes += _legend(rows, canvas, bottom + canvas.line + 8)
    return Scene(canvas, tuple(shapes), chart_description(context), f"chart-{canvas.name}")


def _scale(context: ReportContext, canvas: Canvas, bottom: float) -> _Scale:
    """A round top value above the highest scenario path and P90, and the tick step that reaches it."""
    units = context.units
    years = [y for y, _ in context.scenario_table]
    highest = max(
        max(in_units(v, units) for _, row in context.scenario_table for v in row.values()),
        max(in_units(f.p90, units) for f in context.fan),
        max((in_units(high, units) for _, _, high in context.publishers_range), default=0.0),
    )
    step = nice_step(highest)
    return _Scale(
        first=years[0],
        last=years[-1],
        step=step,
        top_value=step * math.ceil(highest / step),
        units=units,
        left=canvas.left,
        top=canvas.top,
        right=canvas.width - canvas.right,
        bottom=bottom,
    )


def _axes(context: ReportContext, scale: _Scale, canvas: Canvas) -> list[Shape]:
    """The shaded back-cast and extrapolated zones, grid lines with value ticks, the unit, the years."""
    base, horizon = context.headline.base_year, context.headline.horizon_year
    zones = []
    if scale.first < base:
        zones.append((scale.x(scale.first), scale.x(base), "back-cast"))
    if scale.last > horizon:
        zones.append((scale.x(horizon), scale.x(scale.last), "extrapolated"))
    out: list[Shape] = []
    for x0, x1, label in zones:
        out.append(Box(x0, scale.top, x1, scale.bottom, ZONE))
        out.append(Text((x0 + x1) / 2, scale.top + canvas.font * 0.9, label, AXIS_TEXT, "middle"))
    for i in range(round(scale.top_value / scale.step) + 1):
        y = scale.bottom - i * scale.step / scale.top_value * (scale.bottom - scale.top)
        out.append(Stroke(((scale.left, y), (scale.right, y)), GRID, 1))
        out.append(Text(scale.left - 5, y, axis_tick(i * scale.step, scale.step), AXIS_TEXT, "end"))
    out.append(Text(scale.left - 5, scale.top - canvas.font, UNIT_LABELS[context.units], AXIS_TEXT))
    span = scale.last - scale.first
    year_step = 5 if span > 12 else (2 if span > 6 else 1)
    for yr, _ in context.scenario_table:
        if yr % year_step == 0 or yr in (scale.first, scale.last):
            out.append(Text(scale.x(yr), scale.bottom + canvas.font, str(yr), AXIS_TEXT, "middle"))
    return out


def _colours(context: ReportContext) -> dict[str, str]:
    """Each scenario's colour: the brief's scenario in the brand colour, the others in their own."""
    others = iter(OTHER_COLOURS)
    return {
        s: context.client.brand_colour
        if s == context.scenario
        else SCENARIO_COLOURS.get(s) or next(others, "#6B7280")
        for s in context.scenario_names
    }


def _band_colour(context: ReportContext) -> str:
    return tint(context.client.brand_colour, 0.78)


def _paths(context: ReportContext, scale: _Scale) -> list[Shape]:
    """The P10-P90 band and every scenario's path, each fainter after the horizon; the brief's scenario
    solid, heavier and drawn last."""
    horizon = context.headline.horizon_year
    fan = {f.year: f for f in context.fan}
    years = [yr for yr, _ in context.scenario_table if yr in fan]
    band = _band_colour(context)
    spread = _publishers_band(context, scale)
    out: list[Shape] = spread[:1]
    out += [
        Area(
            (
                *((scale.x(yr), scale.y(fan[yr].p90)) for yr in span),
                *((scale.x(yr), scale.y(fan[yr].p10)) for yr in reversed(span)),
            ),
            colour,
        )
        for span, colour in (
            ([y for y in years if y <= horizon], band),
            ([y for y in years if y >= horizon], tint(band, 0.45)),
        )
        if len(span) > 1
    ]
    out += spread[1:]  # the spread's edges over the Monte Carlo band, so both read where they overlap
    colours = _colours(context)
    for s in sorted(context.scenario_names, key=lambda s: s == context.scenario):
        out += _scenario_path(context, scale, s, colours[s])
    out.append(Stroke(((scale.left, scale.bottom), (scale.right, scale.bottom)), AXIS, 1))
    return out


def _publishers_band(context: ReportContext, scale: _Scale) -> list[Shape]:
    """The publishers' lowest to highest estimate in every shown year: a pale fill (drawn under the Monte
    Carlo band) and its thin grey edges (drawn over it), so the two bands read apart; the legend names both."""
    spread = [r for r in context.publishers_range if scale.first <= r[0] <= scale.last]
    if len(spread) < 2:
        return []
    low = tuple((scale.x(y), scale.y(lo)) for y, lo, _ in spread)
    high = tuple((scale.x(y), scale.y(hi)) for y, _, hi in spread)
    return [
        Area((*high, *reversed(low)), PUBLISHERS_FILL),
        Stroke(high, PUBLISHERS_EDGE, 1.0),
        Stroke(low, PUBLISHERS_EDGE, 1.0),
    ]


def _scenario_path(context: ReportContext, scale: _Scale, scenario: str, colour: str) -> list[Shape]:
    """One scenario's path: extrapolated years fainter and thinner, then the years up to the horizon."""
    horizon = context.headline.horizon_year
    chosen = scenario == context.scenario
    width = 2.6 if chosen else 1.6
    points = [(yr, (scale.x(yr), scale.y(row[scenario]))) for yr, row in context.scenario_table]
    extrapolated = tuple(p for yr, p in points if yr >= horizon)
    solid = tuple(p for yr, p in points if yr <= horizon)
    return [
        stroke
        for stroke in (
            Stroke(extrapolated, tint(colour, EXTRAPOLATED_FADE), width * 0.8, not chosen),
            Stroke(solid, colour, width, not chosen),
        )
        if len(stroke.points) > 1
    ]


def _marks(context: ReportContext, scale: _Scale, canvas: Canvas) -> list[Shape]:
    """Every scenario's horizon value (a dot, labelled right of the horizon) and the published figures
    (open circles, labelled above; the first to its left, as the path rises to the right; one that would
    touch the label before it, below). A published figure at the horizon is the base scenario's label."""
    horizon = context.headline.horizon_year
    horizon_row = dict(context.scenario_table).get(horizon)
    colours = _colours(context)
    dots: list[Shape] = []
    labels: list[Shape] = []
    if horizon_row is not None and scale.first <= horizon <= scale.last:
        order = sorted(context.scenario_names, key=lambda s: horizon_row[s])
        wanted = [scale.y(horizon_row[s]) for s in order]
        placed = _spread(wanted, canvas.line, scale.top + canvas.line, scale.bottom - canvas.line / 2)
        for s, y in zip(order, placed, strict=True):
            dots.append(Circle(scale.x(horizon), scale.y(horizon_row[s]), 2.6, colours[s]))
            text = f"{s} {context.money(horizon_row[s])}"
            labels.append(Text(scale.x(horizon) + 7, y, text, colours[s], bold=True, halo=True))
    # Boxes of the labels placed so far: the scenarios' at the horizon, then each published figure's.
    taken = [_box(label, canvas) for label in labels if isinstance(label, Text)]
    published_labels = 0
    for year, value in context.published_sizes:
        if not scale.first <= year <= scale.last:
            continue
        x, y = scale.x(year), scale.y(value)
        dots.append(Circle(x, y, 3.6, INK, open=True))
        if year == horizon:
            continue
        text = context.money(value)
        if not published_labels:
            tries = [Text(x - 6, y - canvas.font * 0.7, text, INK, "end", bold=True, halo=True)]
        else:
            tries = [Text(x, y - canvas.font * 1.1, text, INK, "middle", bold=True, halo=True)]
        tries += [
            dataclasses.replace(tries[0], y=y + canvas.font * 1.2),
            Text(x - 6, y, text, INK, "end", bold=True, halo=True),
            Text(x + 6, y, text, INK, "start", bold=True, halo=True),
            *(dataclasses.replace(tries[0], y=y - canvas.font * k) for k in (2.3, 3.5)),
        ]
        label = next((t for t in tries if not any(_overlap(_box(t, canvas), o) for o in taken)), tries[0])
        taken.append(_box(label, canvas))
        labels.append(label)
        published_labels += 1
    return dots + labels


def _box(label: Text, canvas: Canvas) -> tuple[float, float, float, float]:
    """Where a label's text lies, with a little room around it: (left, top, right, bottom)."""
    width, half = canvas.text_width(label.text) + 4, canvas.font / 2 + 3
    left = {"start": label.x, "middle": label.x - width / 2, "end": label.x - width}[label.anchor]
    return (left - 2, label.y - half, left + width - 2, label.y + half)


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


def _legend_entries(context: ReportContext) -> list[tuple[str, str, str]]:
    """(label, colour, kind): the chosen scenario, the others, the published figures of the path the total
    follows (none under the consensus: a median is no one's figure), the two bands."""
    colours = _colours(context)
    ordered = sorted(context.scenario_names, key=lambda s: s != context.scenario)
    published = [(f"published ({context.basis.key})", INK, "open")] if context.basis.points else []
    spread = [("publishers, lowest-highest", PUBLISHERS_EDGE, "range")] if context.publishers_range else []
    return [
        *((s, colours[s], "line" if s == context.scenario else "dashed") for s in ordered),
        *published,
        ("P10-P90, driver Monte Carlo", _band_colour(context), "band"),
        *spread,
    ]


def _legend_rows(entries: Sequence[tuple[str, str, str]], canvas: Canvas) -> list[list[tuple[str, str, str]]]:
    """Legend entries flowed into rows that fit the canvas."""
    rows: list[list[tuple[str, str, str]]] = [[]]
    x, room = 0.0, canvas.width - canvas.left - canvas.right
    for entry in entries:
        width = SWATCH + 5 + canvas.text_width(entry[0]) + 14
        if rows[-1] and x + width > room:
            rows.append([])
            x = 0.0
        rows[-1].append(entry)
        x += width
    return rows


def _legend(
    rows: Sequence[Sequence[tuple[str, str, str]]], canvas: Canvas, top: float, left: float | None = None
) -> list[Shape]:
    """Each entry's swatch (a line, a dashed line, a band, an open or a filled circle) and its text."""
    out: list[Shape] = []
    for r, row in enumerate(rows):
        x = float(canvas.left if left is None else left)
        y = top + r * canvas.line + canvas.line / 2
        for label, colour, kind in row:
            if kind == "band":
                out.append(Box(x, y - 5, x + SWATCH, y + 5, colour))
            elif kind == "range":
                out.append(Box(x, y - 5, x + SWATCH, y + 5, PUBLISHERS_FILL))
                out.append(Stroke(((x, y - 5), (x + SWATCH, y - 5)), colour, 1.0))
                out.append(Stroke(((x, y + 5), (x + SWATCH, y + 5)), colour, 1.0))
            elif kind in ("open", "dot"):
                out.append(Circle(x + SWATCH / 2, y, 3.6, colour, open=kind == "open"))
            else:
                out.append(Stroke(((x, y), (x + SWATCH, y)), colour, 2.2, kind == "dashed"))
            out.append(Text(x + SWATCH + 5, y, label, AXIS_TEXT))
            x += SWATCH + 5 + canvas.text_width(label) + 14
    return out


def chart_description(context: ReportContext) -> str:
    """The market chart in words (its alt text and title): span, units, every scenario at the horizon,
    the published figures and which years are extrapolated."""
    units = context.units
    first, last = context.scenario_table[0][0], context.scenario_table[-1][0]
    horizon = context.headline.horizon_year
    horizon_values = dict(context.scenario_table).get(horizon, context.scenario_table[-1][1])
    described = "; ".join(f"{s} {context.money(horizon_values[s])}" for s in context.scenario_names)
    published = ", ".join(f"{y} {context.money(v)}" for y, v in context.published_sizes if first <= y <= last)
    text = f"Market size by year, {UNIT_LABELS[units]}, {first}-{last}, by scenario. {horizon}: {described}."
    if published:
        text += f" Published by {context.basis.publisher}, the path the total follows: {published}."
    elif context.basis.kind == "consensus":
        text += " The total follows the median of the publishers' paths, which no one publishes."
    if context.publishers_range:
        y, low, high = next(
            (r for r in context.publishers_range if r[0] == horizon), context.publishers_range[-1]
        )
        text += f" Publishers' spread in {y}: {context.money(low)} to {context.money(high)}."
    if last > horizon:
        text += f" Years after {horizon} are extrapolated."
    return text


# ------------------------------------------------------------------------------------------ estimates


@dataclass(frozen=True)
class _Row:
    """One publisher in the estimates chart: its values in the two years and whether each is extrapolated."""

    name: str
    first: float
    second: float
    first_faint: bool
    second_faint: bool
    followed: bool


def _estimate_rows(context: ReportContext) -> list[_Row]:
    """Every publisher, largest horizon value first; the path the model follows is named as such."""
    m, h = context.market, context.headline
    first = {e.key: e for e in m.estimates(h.base_year)}
    second = {e.key: e for e in m.estimates(h.horizon_year)}
    rows = [
        _Row(
            f"{e.publisher} (this model)" if context.follows(key) else e.publisher,
            first[key].value,
            e.value,
            first[key].status.startswith("extrapolated"),
            e.status.startswith("extrapolated"),
            context.follows(key),
        )
        for key, e in second.items()
    ]
    return sorted(rows, key=lambda r: -r.second)


def _wrapped(text: str, width: float, canvas: Canvas) -> list[str]:
    """A name in lines no wider than `width` canvas pixels (broken between words)."""
    lines: list[str] = []
    for word in text.split():
        if lines and canvas.text_width(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines or [""]


@dataclass(frozen=True)
class _EstimatesLayout:
    """Where the publishers' chart puts things on a canvas: names, rows, plot, axis, legend."""

    canvas: Canvas
    compact: bool
    beside: bool
    names: tuple[tuple[str, ...], ...]
    heights: tuple[float, ...]
    top: float
    bottom: float
    left: float
    right: float
    step: float
    top_value: float
    units: str
    legend: tuple[tuple[str, str, str], ...]
    legend_rows: tuple[tuple[tuple[str, str, str], ...], ...]

    def x(self, value_bn: float) -> float:
        """The x of a value in USD bn."""
        return self.left + in_units(value_bn, self.units) / self.top_value * (self.right - self.left)


def _estimates_layout(context: ReportContext, rows: Sequence[_Row], canvas: Canvas) -> _EstimatesLayout:
    """Names beside the rows (wide, print) or above them (narrow); the canvas's height from the rows."""
    h = context.headline
    compact = canvas.name == "print"
    beside = canvas.name in ("wide", "print")
    room = canvas.width * (0.4 if compact else 0.3) if beside else canvas.width - canvas.left - canvas.right
    names = [(r.name,) if compact else tuple(_wrapped(r.name, room, canvas)) for r in rows]
    if beside:
        heights = [canvas.line * max(1.15 if compact else 1.3, len(n) + 0.3) for n in names]
        name_width = max(canvas.text_width(line) for n in names for line in n) + 10
    else:
        heights = [canvas.line * (len(n) + 1.2) for n in names]
        name_width = 0.0
    legend = [
        (str(h.base_year), PUBLISHER, "open"),
        (str(h.horizon_year), PUBLISHER, "dot"),
        ("median", AXIS, "dashed"),
    ]
    if not compact:
        legend.append(("extrapolated", tint(PUBLISHER, EXTRAPOLATED_FADE), "dot"))
    legend_rows = [] if compact else _legend_rows(legend, canvas)
    top = canvas.top + canvas.line  # the medians' labels above the rows
    bottom = top + sum(heights)
    extra = 1.2 if compact else 2 + len(legend_rows)
    canvas = dataclasses.replace(canvas, height=math.ceil(bottom + canvas.line * extra + 6))
    highest = in_units(max(max(r.first, r.second) for r in rows), context.units)
    step = nice_step(highest, 4)
    return _EstimatesLayout(
        canvas=canvas,
        compact=compact,
        beside=beside,
        names=tuple(names),
        heights=tuple(heights),
        top=top,
        bottom=bottom,
        left=canvas.left + name_width + canvas.text_width("00.00") + 8,
        right=canvas.width - canvas.right,
        step=step,
        top_value=step * math.ceil(highest / step),
        units=context.units,
        legend=tuple(legend),
        legend_rows=tuple(tuple(r) for r in legend_rows),
    )


def estimates_scene(context: ReportContext, canvas: Canvas = ESTIMATES_WIDE) -> Scene:
    """The publishers' chart: per publisher a line from its base-year value (open circle) to its horizon
    value (dot), both labelled, values extrapolated from the publisher's figures fainter, the path the model
    follows in the brand colour and bold; the consensus median of each year as a dashed line. On the wide
    canvas the names stand left of their rows (wrapped), on the narrow one above them; the print canvas
    is the compact one: names on one line, a caption, its legend beside the axis.
    """
    rows = _estimate_rows(context)
    layout = _estimates_layout(context, rows, canvas)
    canvas = layout.canvas
    shapes = _estimates_axes(context, layout)
    y0 = layout.top
    for row, name, height in zip(rows, layout.names, layout.heights, strict=True):
        shapes += _estimate_row(context, layout, row, name, y0, height)
        y0 += height
    if layout.compact:  # the caption over the names, the legend under them, beside the axis
        caption = Text(
            canvas.left, layout.top - canvas.line * 0.6, "Publishers' estimates", AXIS_TEXT, bold=True
        )
        shapes.append(caption)
        shapes += _legend([layout.legend], canvas, layout.bottom + canvas.font * 0.5 - canvas.line / 2)
    else:
        shapes += _legend(layout.legend_rows, canvas, layout.bottom + canvas.line * 1.5)
    return Scene(canvas, tuple(shapes), estimates_description(context), f"chart-{canvas.name}")


def _estimates_axes(context: ReportContext, layout: _EstimatesLayout) -> list[Shape]:
    """Grid lines with value ticks, the unit, and the median of each year, dashed and labelled above."""
    canvas, h, units = layout.canvas, context.headline, layout.units
    shapes: list[Shape] = []
    for i in range(round(layout.top_value / layout.step) + 1):
        gx = layout.left + i * layout.step / layout.top_value * (layout.right - layout.left)
        shapes.append(Stroke(((gx, layout.top), (gx, layout.bottom)), GRID, 1))
        tick = axis_tick(i * layout.step, layout.step)
        shapes.append(Text(gx, layout.bottom + canvas.font, tick, AXIS_TEXT, "middle"))
    label_y = layout.top - canvas.line * 0.6
    shapes.append(Text(canvas.width - 4, label_y, UNIT_LABELS[units], AXIS_TEXT, "end"))
    for n, year in enumerate((h.base_year, h.horizon_year)):
        x = layout.x(context.market.consensus(year).median)
        shapes.append(Stroke(((x, layout.top - canvas.line * 0.4), (x, layout.bottom)), AXIS, 1.2, True))
        label = f"median {year} {context.money(context.market.consensus(year).median)}"
        shapes.append(Text(x + (4 if n else -4), label_y, label, AXIS_TEXT, "start" if n else "end"))
    return shapes


def _estimate_row(
    context: ReportContext, layout: _EstimatesLayout, row: _Row, name: Sequence[str], y0: float, height: float
) -> list[Shape]:
    """One publisher: its name, the line between its two values, their circles and labels."""
    canvas = layout.canvas
    colour = context.client.brand_colour if row.followed else PUBLISHER
    faint = tint(colour, EXTRAPOLATED_FADE)
    if layout.beside:
        y = y0 + height / 2
        first_line = y - canvas.line * (len(name) - 1) / 2
    else:
        y = y0 + canvas.line * (len(name) + 0.6)
        first_line = y0 + canvas.line * 0.6
    shapes: list[Shape] = [
        Text(canvas.left, first_line + k * canvas.line, line, colour, bold=row.followed, halo=True)
        for k, line in enumerate(name)
    ]
    x0, x1 = layout.x(row.first), layout.x(row.second)
    shapes.append(Stroke(((x0, y), (x1, y)), faint if row.second_faint else colour, 2))
    shapes.append(Circle(x0, y, 3.6, faint if row.first_faint else colour, open=True))
    shapes.append(Circle(x1, y, 3.6, faint if row.second_faint else colour))
    rising = x0 <= x1  # each label on the outer side of its circle
    for value, px, is_faint, outer in (
        (row.first, x0, row.first_faint, -1),
        (row.second, x1, row.second_faint, 1),
    ):
        side = outer if rising else -outer
        shapes.append(
            Text(
                px + 7 * side,
                y,
                context.money(value),
                faint if is_faint else colour,
                "start" if side > 0 else "end",
                bold=row.followed,
                halo=True,
            )
        )
    return shapes


def estimates_description(context: ReportContext) -> str:
    """The publishers' chart in words: every publisher's values in the two years and the medians."""
    h, units = context.headline, context.units
    rows = _estimate_rows(context)
    listed = "; ".join(f"{r.name} {context.money(r.first)} and {context.money(r.second)}" for r in rows)
    medians: Mapping[int, float] = {
        y: context.market.consensus(y).median for y in (h.base_year, h.horizon_year)
    }
    return (
        f"Publishers' estimates of the market, {UNIT_LABELS[units]}, {h.base_year} and {h.horizon_year}: {listed}. "
        f"Medians: {h.base_year} {context.money(medians[h.base_year])}, "
        f"{h.horizon_year} {context.money(medians[h.horizon_year])}."
    )
