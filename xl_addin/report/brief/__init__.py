"""The summary brief: HTML, Markdown and text (:mod:`.render`), PDF (:mod:`.pdf`), its chart (:mod:`.charts`)
and the files a request writes (:mod:`.write`).

    >>> from xl_addin.report import build_context, load_profile
    >>> context = build_context(load_profile(None, name="Acme Imaging"))
    >>> "27.88" in render_brief(context, "txt")
    True
"""

from .charts import CHART_CID, chart_png
from .pdf import pdf_bytes, write_pdf
from .render import markdown_escape, render_brief
from .write import FORMATS, brief_filename, expand_formats, write_briefs

__all__ = [
    "CHART_CID",
    "FORMATS",
    "brief_filename",
    "chart_png",
    "expand_formats",
    "markdown_escape",
    "pdf_bytes",
    "render_brief",
    "write_briefs",
    "write_pdf",
]
