"""The sheet kinds of a client workbook: one module per kind, registered in one table with what it needs.

A module here named after its kind (``cover.py`` for ``kind: cover`` in ``templates/workbook.yaml.j2``)
defines

- ``NEEDS``: the kinds whose registered cells or defined names its formulas reference,
- ``SHOWS`` (optional): kinds whose results it shows, if the layout has them, in cells written once
  every sheet is filled (:meth:`~xl_addin.report.workbook.book.Book.later`: the master check on Inputs
  and the Cover), which do not decide the fill order,
- ``SEVERAL`` (optional, false by default): whether a layout may hold several sheets of the kind (By
  region and By segment are both ``breakdown``; each registers its own keys and defines no names), and
- ``write(book, ws, sheet)``: the cells, tables and charts of one sheet of that kind.

:data:`SHEETS` is the table of every kind, built from these modules when this package is imported; the
order sheets are filled in is derived from their needs (:func:`fill_order`), and the tabs keep the
template's order. Adding a sheet kind is one line in the template and one module here. A template kind
with no module, a module the shipped template does not use, a need that is not a kind, or needs that go
round in a circle are errors naming the kind.
"""

from __future__ import annotations

import graphlib
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

from xlsxwriter.worksheet import Worksheet

from ....errors import LayoutError
from ...layout import SheetLayout
from ..book import Book


@dataclass(frozen=True)
class SheetKind:
    """A registered sheet kind: its name, the kinds whose cells its formulas read, and its writer."""

    kind: str
    needs: tuple[str, ...]
    write: Callable[[Book, Worksheet, SheetLayout], None]
    module: str
    shows: tuple[str, ...] = ()
    several: bool = False

    @property
    def source(self) -> str:
        """Where the kind is defined, for error messages: ``xl_addin/report/workbook/sheets/cover.py``."""
        return self.module.replace(".", "/") + ".py"


def _register(module: ModuleType, kind: str) -> SheetKind:
    needs = getattr(module, "NEEDS", None)
    shows = getattr(module, "SHOWS", ())
    write = getattr(module, "write", None)
    kinds_ok = all(isinstance(t, tuple) and all(isinstance(n, str) for n in t) for t in (needs, shows))
    if not isinstance(needs, tuple) or not kinds_ok or not callable(write):
        raise LayoutError(
            f"Invalid sheet kind {kind!r} ({module.__name__}): expected NEEDS (a tuple of kinds) and write()"
        )
    return SheetKind(kind, needs, write, module.__name__, shows, bool(getattr(module, "SEVERAL", False)))


def discover(package: str, folders: Iterable[str]) -> dict[str, SheetKind]:
    """The sheet kinds of a package: every module not starting with ``_`` is one, named as the module.

    Each must define ``NEEDS`` and ``write``; its needs must be kinds and must not go round in a circle.
    """
    found = {
        info.name: _register(importlib.import_module(f"{package}.{info.name}"), info.name)
        for info in pkgutil.iter_modules(list(folders))
        if not info.name.startswith("_")
    }
    for sheet in found.values():
        for need in (*sheet.needs, *sheet.shows):
            if need not in found:
                raise LayoutError(
                    f"Invalid sheet kind {sheet.kind!r} ({sheet.source}): needs {need!r}, which is not a kind"
                    f" (expected one of {', '.join(sorted(found))})"
                )
    try:
        graphlib.TopologicalSorter({k: s.needs for k, s in found.items()}).prepare()
    except graphlib.CycleError as exc:
        raise LayoutError(f"Invalid sheet kinds: their needs go round in a circle: {exc.args[1]}") from None
    return found


SHEETS: Mapping[str, SheetKind] = discover(__name__, __path__)
"""Every sheet kind, by name."""

SHEET_KINDS: tuple[str, ...] = tuple(SHEETS)
"""The kinds a layout may use."""

READ_BY_OTHERS: tuple[str, ...] = tuple(
    k for k in SHEETS if any(k in (*s.needs, *s.shows) for s in SHEETS.values())
)
"""Kinds other kinds read from: a layout has exactly one sheet of each, so every reference is to one place."""


def check_kinds(layout: Sequence[SheetLayout], template: str, *, complete: bool = False) -> None:
    """Every sheet's kind registered; of each kind a sheet of the layout needs or shows, exactly one sheet
    (at least one of a kind that allows ``SEVERAL``), so every reference is to one place; and, for the
    shipped template (``complete``), every registered kind used by some sheet."""
    for sheet in layout:
        if sheet.kind not in SHEETS:
            raise LayoutError(
                f"Invalid workbook layout {template}: sheet {sheet.name!r} kind {sheet.kind!r} "
                f"(expected one of {', '.join(SHEET_KINDS)})"
            )
    kinds = [s.kind for s in layout]
    wanted = {k for kind in set(kinds) for k in SHEETS[kind].needs}
    wanted |= {k for kind in set(kinds) for k in SHEETS[kind].shows if k in kinds}  # shown if there
    for kind in (k for k in READ_BY_OTHERS if k in wanted):
        count = kinds.count(kind)
        if count == 0 or (count > 1 and not SHEETS[kind].several):
            how_many = "at least one sheet" if SHEETS[kind].several else "exactly one sheet"
            raise LayoutError(f"Invalid workbook layout {template}: needs {how_many} of kind {kind!r}")
    if complete:
        for kind, registered in SHEETS.items():
            if kind not in kinds:
                raise LayoutError(
                    f"Invalid workbook layout {template}: sheet kind {kind!r} ({registered.source}) is registered"
                    " but no sheet of the template uses it"
                )


def fill_order(layout: Sequence[SheetLayout]) -> list[SheetLayout]:
    """The layout's sheets in the order they can be filled: each after the kinds it needs, otherwise in
    the template's order."""
    position = {s.kind: i for i, s in reversed(list(enumerate(layout)))}  # where each kind first appears
    order = graphlib.TopologicalSorter({k: [n for n in SHEETS[k].needs if n in position] for k in position})
    order.prepare()
    ready: list[str] = []
    rank: dict[str, int] = {}
    while order.is_active():
        ready = sorted([*ready, *order.get_ready()], key=position.__getitem__)
        kind = ready.pop(0)  # one at a time, so the template's order decides among those ready
        rank[kind] = len(rank)
        order.done(kind)
    return sorted(layout, key=lambda s: rank[s.kind])
