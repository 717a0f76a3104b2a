"""Pictures as a list of shapes, drawn two ways: SVG (HTML file and PDF: crisp, text stays text) and PNG
(email: Outlook and Gmail show no SVG).

A chart module computes a :class:`Scene` (a canvas and its shapes, in canvas pixels, y growing downwards);
:func:`svg` and :func:`png` draw any scene the same way, so the two can never disagree. The PNG is drawn at
twice its size and reduced (smooth lines), then stored in a palette of the scene's own colours and their
blends with its backgrounds: a palette computed from the picture (median cut) spends its colours on the
large light areas and greys out thin coloured lines; this one keeps every colour exact, at a quarter of
the bytes of a true-colour PNG.
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

if TYPE_CHECKING:  # Pillow is imported only when a PNG is drawn, to keep the HTML path fast
    from PIL import Image, ImageFont

FONT = "Arial, Liberation Sans, Helvetica, Nimbus Sans, DejaVu Sans, sans-serif"  # as brief.css (PDF engines)
PAPER = "#FFFFFF"
CHAR_WIDTH = 0.58
"""The width of an average character in ems (Helvetica/Arial digits are 0.556): room for labels."""
BLENDS = (0.0, 0.2, 0.4, 0.6, 0.8)
"""Steps from each colour of a scene towards each background it is drawn on: the PNG's palette."""
DASH = (5.0, 3.0)

XY = tuple[float, float]
"""A point on the canvas in pixels: (x, y)."""


@dataclass(frozen=True)
class Canvas:
    """A box a chart is drawn for, in CSS px of where it is shown, with the type size that reads there."""

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

    def text_width(self, text: str) -> float:
        """About how wide a label is drawn, in px of the canvas."""
        return len(text) * self.font * CHAR_WIDTH


@dataclass(frozen=True)
class Box:
    """A filled rectangle (a background: its colour is one the palette blends others into)."""

    x0: float
    y0: float
    x1: float
    y1: float
    fill: str


@dataclass(frozen=True)
class Area:
    """A filled polygon (a background too: a band)."""

    points: tuple[XY, ...]
    fill: str


@dataclass(frozen=True)
class Stroke:
    """A line through points, solid or dashed."""

    points: tuple[XY, ...]
    colour: str
    width: float
    dashed: bool = False


@dataclass(frozen=True)
class Circle:
    """A dot of radius `r`: filled, or open (white inside) with an outline of `colour`."""

    x: float
    y: float
    r: float
    colour: str
    open: bool = False


@dataclass(frozen=True)
class Text:
    """A label; `anchor` is start, middle or end, `y` is the middle of the text. With `halo`, outlined in
    white so it reads over lines."""

    x: float
    y: float
    text: str
    colour: str
    anchor: str = "start"
    bold: bool = False
    halo: bool = False


Shape = Box | Area | Stroke | Circle | Text


@dataclass(frozen=True)
class Scene:
    """A picture: its canvas, its shapes in drawing order, and the picture in words (alt text, title)."""

    canvas: Canvas
    shapes: tuple[Shape, ...]
    description: str
    css_class: str


# ------------------------------------------------------------------------------------------ SVG


def svg(scene: Scene) -> str:
    """The scene as an inline SVG element (scales down with its container, never past `max_width`)."""
    c = scene.canvas
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {c.width} {c.height}" width="{c.width}"'
        f' height="{c.height}" role="img" aria-label={quoteattr(scene.description)} class="{scene.css_class}"'
        f' style="display:block;width:100%;height:auto;max-width:{c.max_width}px" font-family="{FONT}"'
        f' font-size="{c.font:g}">',
        f"<title>{escape(scene.description)}</title>",
        f'<rect x="0" y="0" width="{c.width}" height="{c.height}" fill="{PAPER}"/>',
    ]
    out += [_svg_shape(shape, c.font) for shape in scene.shapes]
    out.append("</svg>")
    return "".join(out)


def _svg_shape(shape: Shape, font: float) -> str:
    if isinstance(shape, Box):
        return (
            f'<rect x="{shape.x0:.1f}" y="{shape.y0:.1f}" width="{shape.x1 - shape.x0:.1f}"'
            f' height="{shape.y1 - shape.y0:.1f}" fill="{shape.fill}"/>'
        )
    if isinstance(shape, Area):
        return f'<polygon points="{_points(shape.points)}" fill="{shape.fill}" stroke="none"/>'
    if isinstance(shape, Stroke):
        dash = f' stroke-dasharray="{DASH[0]:g} {DASH[1]:g}"' if shape.dashed else ""
        return (
            f'<polyline points="{_points(shape.points)}" fill="none" stroke="{shape.colour}"'
            f' stroke-width="{shape.width:g}" stroke-linejoin="round"{dash}/>'
        )
    if isinstance(shape, Circle):
        if shape.open:
            return (
                f'<circle cx="{shape.x:.1f}" cy="{shape.y:.1f}" r="{shape.r:g}" fill="{PAPER}"'
                f' stroke="{shape.colour}" stroke-width="1.5"/>'
            )
        return f'<circle cx="{shape.x:.1f}" cy="{shape.y:.1f}" r="{shape.r:g}" fill="{shape.colour}"/>'
    return _svg_text(shape, font)


# Liberation Sans / Arial set digits at 0.556 em; most labels are figures, a few words come close.
TEXT_WIDTH_EM = 0.56


def _svg_text(label: Text, font: float) -> str:
    """``dy`` centres the text on `y`. A halo is a white box behind the text, sized from its length: an
    outline drawn with a stroke would read the same, but PDF engines print stroked text as Type 3 glyph
    drawings (Chromium: 4x the file and a quarter more time per PDF)."""
    attributes = f'x="{label.x:.1f}" y="{label.y:.1f}" dy="0.35em" text-anchor="{label.anchor}"' + (
        ' font-weight="bold"' if label.bold else ""
    )
    under = ""
    if label.halo:
        width = len(label.text) * font * TEXT_WIDTH_EM + 3
        left = {"start": label.x - 1.5, "middle": label.x - width / 2, "end": label.x - width + 1.5}[
            label.anchor
        ]
        under = (
            f'<rect x="{left:.1f}" y="{label.y - font * 0.62:.1f}" width="{width:.1f}" height="{font * 1.24:.1f}"'
            f' rx="2" fill="{PAPER}" fill-opacity="0.85"/>'
        )
    return f'{under}<text {attributes} fill="{label.colour}">{escape(label.text)}</text>'


def _points(points: Sequence[XY]) -> str:
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in points)


# ------------------------------------------------------------------------------------------ PNG


@functools.lru_cache(maxsize=32)
def png(scene: Scene, scale: int = 2) -> bytes:
    """The scene as a palette PNG, `scale` times the canvas (sharp on high-density screens).

    Cached by what is drawn, so a batch of clients on one scenario draws each chart once.
    """
    from PIL import Image

    painter = _Painter(scene.canvas, scale * 2)
    for shape in scene.shapes:
        painter.draw(shape)
    c = scene.canvas
    image = _to_palette(
        painter.image.resize((c.width * scale, c.height * scale), Image.Resampling.LANCZOS), palette_of(scene)
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _to_palette(image: Image.Image, palette: Sequence[tuple[int, int, int]]) -> Image.Image:
    """Each pixel as its nearest palette colour, exactly (Pillow's own mapping rounds: white became 253).

    The picture has a few thousand distinct colours: each is matched once, then looked up.
    """
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    keys, inverse = np.unique(
        (pixels[..., 0] << 16 | pixels[..., 1] << 8 | pixels[..., 2]).ravel(), return_inverse=True
    )
    colours = np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=1)
    table = np.asarray(palette, dtype=np.int32)
    nearest = ((colours[:, None, :] - table[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    indexed = Image.fromarray(nearest[inverse.ravel()].astype(np.uint8).reshape(pixels.shape[:2]), mode="P")
    indexed.putpalette([channel for colour in palette for channel in colour])
    return indexed


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def palette_of(scene: Scene) -> list[tuple[int, int, int]]:
    """The scene's own colours and their blends with each of its backgrounds (at most 256 colours)."""
    backgrounds = {PAPER} | {s.fill for s in scene.shapes if isinstance(s, Box | Area)}
    inks = set(backgrounds)
    inks |= {s.colour for s in scene.shapes if isinstance(s, Stroke | Circle | Text)}
    for blends in (BLENDS, BLENDS[::2], (0.0,)):  # coarser steps when many colours meet many backgrounds
        colours = {
            (round(r * (1 - t) + pr * t), round(g * (1 - t) + pg * t), round(b * (1 - t) + pb * t))
            for r, g, b in map(_rgb, sorted(inks))
            for pr, pg, pb in map(_rgb, sorted(backgrounds))
            for t in blends
        }
        if len(colours) <= 256:
            break
    return sorted(colours)[:256]


class _Painter:
    """Draws shapes with Pillow, `k` image pixels to a canvas pixel."""

    def __init__(self, canvas: Canvas, k: int) -> None:
        from PIL import Image, ImageDraw

        self.k = k
        self.image = Image.new("RGB", (canvas.width * k, canvas.height * k), PAPER)
        self.pen = ImageDraw.Draw(self.image)
        size = round(canvas.font * k)
        self.font, self.bold = _font(size, bold=False), _font(size, bold=True)

    def at(self, px: float, py: float) -> tuple[float, float]:
        """A canvas point in image pixels."""
        return px * self.k, py * self.k

    def draw(self, shape: Shape) -> None:
        """One shape."""
        k = self.k
        if isinstance(shape, Box):
            self.pen.rectangle([self.at(shape.x0, shape.y0), self.at(shape.x1, shape.y1)], fill=shape.fill)
        elif isinstance(shape, Area):
            self.pen.polygon([self.at(*p) for p in shape.points], fill=shape.fill)
        elif isinstance(shape, Stroke):
            pixels = [self.at(*p) for p in shape.points]
            width = max(1, round(shape.width * k))
            if shape.dashed:  # Pillow draws no dashes
                for segment in _dashes(pixels, DASH[0] * k, DASH[1] * k):
                    self.pen.line(segment, fill=shape.colour, width=width)
            else:
                self.pen.line(pixels, fill=shape.colour, width=width, joint="curve")
        elif isinstance(shape, Circle):
            cx, cy = self.at(shape.x, shape.y)
            r = shape.r * k
            box = [cx - r, cy - r, cx + r, cy + r]
            if shape.open:
                self.pen.ellipse(box, fill=PAPER, outline=shape.colour, width=round(1.5 * k))
            else:
                self.pen.ellipse(box, fill=shape.colour)
        else:
            self.pen.text(
                self.at(shape.x, shape.y),
                shape.text,
                fill=shape.colour,
                font=self.bold if shape.bold else self.font,
                anchor={"start": "lm", "middle": "mm", "end": "rm"}[shape.anchor],
                stroke_width=round(1.6 * k) if shape.halo else 0,
                stroke_fill=PAPER,
            )


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
    """Split a polyline into dash segments."""
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
