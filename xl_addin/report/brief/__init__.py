"""The summary brief: HTML, Markdown and text (:mod:`.render`), PDF (:mod:`.pdf`), its chart (:mod:`.charts`),
its key takeaways (:mod:`.takeaways`), what an email carries (:mod:`.mail`) and the files a request
writes (:mod:`.write`).

    >>> from xl_addin.report import build_context, load_profile
    >>> context = build_context(load_profile(None, name="Acme Imaging"))
    >>> "27.88" in render_brief(context, "txt")
    True
"""

from .charts import CANVASES, NARROW, WIDE, chart_png
from .mail import EmailBrief, InlineImage, email_brief, email_subject
from .pdf import pdf_bytes, write_pdf
from .render import markdown_escape, render_brief
from .takeaways import takeaways
from .write import FORMATS, brief_filename, expand_formats, write_briefs

__all__ = [
    "CANVASES",
    "FORMATS",
    "NARROW",
    "WIDE",
    "EmailBrief",
    "InlineImage",
    "brief_filename",
    "chart_png",
    "email_brief",
    "email_subject",
    "expand_formats",
    "markdown_escape",
    "pdf_bytes",
    "render_brief",
    "takeaways",
    "write_briefs",
    "write_pdf",
]
