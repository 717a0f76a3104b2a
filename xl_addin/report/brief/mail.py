"""The brief as an email carries it: the HTML with its chart images under fresh Content-IDs, and the subject.

The MIME message itself is :mod:`xl_addin.delivery.message`'s business; what it says is decided here, from
the same report context as every other format.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..context import ReportContext
from .charts import figures
from .drawing import png
from .render import image_names, new_content_ids, render_brief, render_template
from .takeaways import ScenarioRange, takeaways

SUBJECT_TEMPLATE = "email_subject.txt.j2"


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML shows by ``cid:``: its Content-ID (without angle brackets), file name and bytes."""

    content_id: str
    filename: str
    png: bytes


@dataclass(frozen=True)
class EmailBrief:
    """The HTML brief for an email and the chart images it refers to (each chart on each canvas: the
    desktop one and the phone one)."""

    html: str
    images: tuple[InlineImage, ...]


def email_brief(context: ReportContext) -> EmailBrief:
    """The brief's HTML for email with a chart PNG per canvas, each under a new, world-unique Content-ID.

    Every call makes new Content-IDs, so no two messages of a batch share one (RFC 2045).
    """
    scenes = figures(context)
    ids = new_content_ids(image_names(scenes))
    html = render_brief(context, "html", chart="cid", content_ids=ids)
    images = tuple(
        InlineImage(ids[f"{figure}-{canvas}"], f"{figure}-{canvas}.png", png(scene))
        for figure, by_canvas in scenes.items()
        for canvas, scene in by_canvas.items()
    )
    return EmailBrief(html, images)


def email_subject(context: ReportContext) -> str:
    """The subject line (``templates/email_subject.txt.j2``): client, market, headline figure and edition.

    The edition (publication date and assumption hash) makes each edition its own conversation in the
    reader's inbox. One line: whitespace, line breaks and control characters are collapsed or dropped.
    """
    key_points = takeaways(context)
    text = render_template(
        SUBJECT_TEMPLATE,
        "txt",
        {
            "c": context,
            "h": context.headline,
            "units": context.units,
            "scenario_range": next(t for t in key_points if isinstance(t, ScenarioRange)),
        },
    )
    return " ".join(text.split())
