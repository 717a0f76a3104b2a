"""Overrides: every input beside the value the assumption set gives it, live, and the provenance line.

One row per input cell of the Inputs sheet (registered with :meth:`Book.typed`) and the basis: its key,
its cell, the value in the set the workbook was made from (stored: the set as read, before any per-call
override, so a pack made with ``--set`` lists those overrides too), what is typed (a formula), the value
in force (a formula on the Used column) and whether the input differs from the set. A running list names
the inputs that differ; the provenance line (``3 inputs differ from set 6c31e80ece70: cagr, ...``) is a
formula the Cover shows and every printed page of this sheet repeats.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from .. import formulas
from ..book import Book, cell, here

NEEDS = ("inputs",)

WIDTHS = {0: 40, 1: 12, 2: 12, 3: 12, 4: 12, 5: 9, 6: 8}


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The provenance line, the count, then one row per input."""
    book.columns(ws, WIDTHS)
    row = book.title(ws, sheet)
    m = book.market
    a = m.assumptions
    original = a.original or a
    set_hash = a.set_hash
    provenance_row = row
    count_row = row + 1
    row += 3
    top = row
    row += 1
    first = row
    pct = book.fmt(num_format="0.0000%")
    basis = book.cells.get(("basis",))
    original_basis = original.basis or original.market.source
    rows: list[tuple[str, str, str | float | None, formulas.Formula, formulas.Formula, bool]] = [
        (
            "basis",
            basis.ref,
            original_basis,
            formulas.Formula(f"={basis.ref}", m.basis),
            formulas.Formula(f"={basis.ref}", m.basis),
            m.basis != original_basis,
        )
    ]
    for typed in book.inputs:
        rows.append(
            (
                typed.key,
                typed.ref,
                typed.in_set,
                formulas.typed_value(typed.ref, typed.value),
                formulas.typed_value(typed.used, typed.in_force),
                typed.value is not None and typed.value != typed.in_set,
            )
        )
    differ: list[str] = []
    for key, ref, in_set, typed_formula, in_force, differs in rows:
        ws.write_string(row, 0, key)
        sheet_name, coordinate = ref.rsplit("!", 1)
        ws.write_string(row, 1, f"{sheet_name.strip(chr(39))}!{coordinate.replace('$', '')}")
        if isinstance(in_set, str):
            ws.write_string(row, 2, in_set)
        elif in_set is None:
            ws.write_blank(row, 2, None)
        else:
            ws.write_number(row, 2, in_set, pct)
        book.formula(ws, row, 3, typed_formula, pct)
        book.formula(ws, row, 4, in_force, pct)
        book.formula(
            ws, row, 5, formulas.differs(here(row, 3), here(row, 2), differs), book.fmt(num_format="0")
        )
        differ += [key] if differs else []
        before = here(row - 1, 6) if row > first else ""
        book.formula(ws, row, 6, formulas.running_list(before, here(row, 5), key, ", ".join(differ)))
        row += 1
    last = row - 1
    headers = ("Key", "Cell", "In set", "Typed", "In force", "Differs", "Which")
    book.table(ws, top, 0, headers, len(rows), "Overrides")
    book.pages[ws.name].header_row = top
    differs_span = f"{here(first, 5)}:{here(last, 5)}"
    ws.write_string(count_row, 0, "Inputs that differ from the set", book.fmt(bold=True))
    book.formula(ws, count_row, 1, formulas.Formula(f"=SUM({differs_span})", len(differ)))
    book.define("InputsDiffer", cell(ws.name, count_row, 1))
    line = formulas.provenance("InputsDiffer", cell(ws.name, last, 6), set_hash, differ)
    book.formula(ws, provenance_row, 0, line, book.fmt(bold=True))
    book.define("Provenance", cell(ws.name, provenance_row, 0))
    book.cells.put(("provenance",), cell(ws.name, provenance_row, 0), line.value)
    book.keep(ws, provenance_row, count_row)
