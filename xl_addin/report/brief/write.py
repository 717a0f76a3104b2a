"""Brief files: which formats a request names, what each file is called, and writing a set of them.

Everything is rendered before anything is written, so a failure (a bad format, a broken template, the
PDF printer) leaves no partial set behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ...common.atomic import write_all_atomic
from ...errors import InputError, InvalidArgument, os_error
from ..context import ReportContext
from .pdf import pdf_bytes
from .render import render_brief

FORMATS = ("html", "md", "pdf", "txt")
"""What :func:`write_briefs` writes; ``all`` means every one of them."""


def brief_filename(context: ReportContext, fmt: str) -> str:
    """The file name of one format of a client's brief, from the profile's safe slug: ``Acme-brief.pdf``."""
    return f"{context.client.slug}-brief.{fmt}"


def expand_formats(formats: Sequence[str] | str) -> tuple[str, ...]:
    """Requested formats (``all`` = every one), validated before anything is rendered or written."""
    if isinstance(formats, str):
        formats = [formats]
    chosen: list[str] = []
    for f in formats:
        name = str(f).strip().lower()
        if name == "all":
            chosen.extend(FORMATS)
        elif name in FORMATS:
            chosen.append(name)
        else:
            raise InvalidArgument("format", f, (*FORMATS, "all"))
    if not chosen:
        raise InvalidArgument("format", "", (*FORMATS, "all"))
    return tuple(dict.fromkeys(chosen))


def write_briefs(
    context: ReportContext, out_dir: Path, formats: Sequence[str], *, pdf_engine: str | None = None
) -> dict[str, Path]:
    """Render the brief in each format and write them to `out_dir` (created if needed), named from the client.

    Everything is rendered before anything is written, so a failure leaves no partial set; each file is
    written atomically. ``pdf_engine`` chooses the PDF's engine (:func:`~.pdf.pdf_engine`). Returns the
    path of each format.
    """
    wanted = expand_formats(formats)
    rendered: Mapping[str, bytes] = {
        f: pdf_bytes(context, pdf_engine) if f == "pdf" else render_brief(context, f).encode("utf-8")
        for f in wanted
    }
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(f"Cannot create output folder {out_dir}", exc) from None
    if not out_dir.is_dir():
        raise InputError(f"Output folder {out_dir} is not a folder")
    paths = {f: out_dir / brief_filename(context, f) for f in rendered}
    try:  # every format or none: a full disk half-way leaves no partial set
        write_all_atomic({paths[f]: data for f, data in rendered.items()})
    except OSError as exc:
        raise os_error(f"Cannot write the brief into {out_dir}", exc) from None
    return paths
