"""The brief as an email carries it: the HTML with its chart images under fresh Content-IDs, and the subject.

The MIME message itself is :mod:`xl_addin.delivery.message`'s business; what it says is decided here, from
the same report context as every other format.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ..context import ReportContext
from .charts import NARROW, market_scene
from .drawing import Scene, png
from .render import (
    EMAIL_COLUMN,
    EMAIL_GUTTER,
    edition_label,
    logo_view,
    new_content_ids,
    render_email,
    render_template,
)

SUBJECT_TEMPLATE = "email_subject.txt.j2"


MAX_SUBJECT = 60
"""The subject's length at most, in characters: what a phone's inbox shows is about 40."""
CHART_CANVAS = NARROW
"""The email's one chart is drawn for a phone's column (text 13 px at 360 px wide) and shown at most
:data:`CHART_MAX_WIDTH` wide on a desktop, so one PNG serves both."""
CHART_MAX_WIDTH = 480


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML shows by ``cid:``: its Content-ID (without angle brackets), file name and bytes."""

    content_id: str
    filename: str
    png: bytes
    #: The image's MIME subtype: ``png``, or ``jpeg`` for a JPEG logo.
    subtype: str = "png"


@dataclass(frozen=True)
class EmailBrief:
    """The email's HTML (the brief's short layer) and the images it shows by ``cid:``: the market chart,
    and the client's logo when the profile has one."""

    html: str
    images: tuple[InlineImage, ...]


def email_brief(
    context: ReportContext, *, long_layer: str, workbook: str = "", changed: str = ""
) -> EmailBrief:
    """The email body with its images, each under a new, world-unique Content-ID.

    `long_layer` is the attached file that carries the full brief (the PDF, or the HTML brief), `workbook`
    the attached workbook's name, `changed` the line of what moved since the client's last edition
    (:func:`~xl_addin.report.brief.changes.what_changed`). Every call makes new Content-IDs, so no two
    messages of a batch share one (RFC 2045).
    """
    scene = market_scene(context, CHART_CANVAS)
    logo_path = context.client.logo
    ids = new_content_ids(["market", "logo"] if logo_path else ["market"])
    images = [InlineImage(ids["market"], "market.png", png(scene))]
    logo = None
    if logo_path is not None:
        subtype = "png" if logo_path.suffix.lower() == ".png" else "jpeg"
        images.append(InlineImage(ids["logo"], f"logo.{subtype}", logo_path.read_bytes(), subtype))
        logo = logo_view(logo_path, f"cid:{ids['logo']}")
    html = render_email(
        context,
        chart_image(scene, ids["market"]),
        logo=logo,
        changed=changed,
        long_layer=long_layer,
        workbook=workbook,
    )
    return EmailBrief(html, tuple(images))


def chart_image(scene: Scene, content_id: str) -> Markup:
    """The chart's ``<img>``: its width attribute the canvas's (never wider than the email's column, which
    Outlook for Windows keeps to), shown at the column's width up to :data:`CHART_MAX_WIDTH`."""
    canvas = scene.canvas
    width = min(canvas.width, EMAIL_COLUMN - 2 * EMAIL_GUTTER)
    height = round(canvas.height * width / canvas.width)
    return Markup(
        f'<img src="cid:{Markup.escape(content_id)}" width="{width}" height="{height}"'
        f' alt="{Markup.escape(scene.description)}" class="chart-image"'
        f' style="display:block;width:100%;max-width:{CHART_MAX_WIDTH}px;height:auto;border:0">'
    )


def email_subject(context: ReportContext) -> str:
    """The subject line (``templates/email_subject.txt.j2``): the figure first, then the client and the edition
    as a person says it: ``USD 27.88 bn by 2030: Acme Health, Mar 2026``; at most :data:`MAX_SUBJECT`
    characters (a long client name is shortened, with "..."), no hash.

    Each edition is its own conversation in the reader's inbox: a new edition carries a new figure or a new
    month. One line: whitespace, line breaks and control characters are collapsed or dropped.
    """

    def subject(client: str) -> str:
        text = render_template(
            SUBJECT_TEMPLATE,
            "txt",
            {
                "c": context,
                "h": context.headline,
                "units": context.units,
                "client": client,
                "edition_label": edition_label(context),
            },
        )
        return " ".join(text.split())

    name = " ".join(context.client.name.split())
    room = MAX_SUBJECT - len(subject(""))
    if len(name) > room:
        name = name[: max(0, room - 3)].rstrip() + "..."
    return subject(name)[:MAX_SUBJECT]
