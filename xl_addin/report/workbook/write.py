"""Writing a client workbook: where it goes, the layout checked against the sheet kinds, every sheet
filled in the order its needs allow, and the file replaced atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ...common.atomic import atomic_path
from ...errors import InputError, os_error
from ..context import ReportContext
from ..layout import TEMPLATE, SheetLayout, render_layout
from .book import Book, InputCell
from .sheets import SHEETS, check_kinds, fill_order


def workbook_path(context: ReportContext, out: Path) -> Path:
    """Where ``--out`` puts the workbook: a folder gets ``<client slug>.xlsx``, a file name is used as is."""
    if out.is_dir() or str(out).endswith(("/", os.sep)):
        return out / f"{context.client.slug}.xlsx"
    if out.suffix.lower() != ".xlsx":
        raise InputError(
            f"Invalid workbook path: {str(out)!r} is neither an existing folder nor a file name ending in .xlsx"
        )
    return out


def write_workbook(context: ReportContext, path: Path) -> Path:
    """Write the client workbook for a context to ``path`` atomically and return the path.

    The file is built under a temporary name in the same folder and renamed into place, so a failure at
    any point leaves neither a half-written workbook nor a temporary file behind.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"Cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise InputError(f"Cannot write {path}: it is a folder (give a file name ending in .xlsx)")
    layout = render_layout(context, TEMPLATE)
    check_kinds(layout, TEMPLATE, complete=True)
    try:
        with atomic_path(path) as temp:
            book = _filled(context, layout, temp)
            for ws in book.sheets.values():
                book.print_setup(ws)
            book.close()
    except OSError as exc:
        raise os_error(f"Cannot write {path}", exc) from None
    return path


def _filled(context: ReportContext, layout: Sequence[SheetLayout], path: Path) -> Book:
    """A book with every sheet filled, in the order their needs allow (nothing written to ``path`` yet)."""
    book = Book(context, layout, path)
    for sheet in fill_order(layout):
        kind = SHEETS[sheet.kind]
        book.cells.filling(kind.kind, kind.needs)
        kind.write(book, book.sheets[sheet.name], sheet)
    for kind_name, write in book.pending():
        kind = SHEETS[kind_name]
        book.cells.filling(kind.kind, (*kind.needs, *kind.shows))
        write()
    return book


def input_cells(context: ReportContext) -> tuple[InputCell, ...]:
    """Every input cell of the context's workbook with the engine's rule for it (nothing is written)."""
    layout = render_layout(context, TEMPLATE)
    return tuple(_filled(context, layout, Path(os.devnull)).inputs)
