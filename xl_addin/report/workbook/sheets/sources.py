"""Sources & method: the publications cited, the calibration against the published figures, the method.

No merged cells: the method paragraphs wrap inside the first column, which is wide enough to read.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ....common.formats import money
from ...layout import SheetLayout
from .. import formulas
from ..book import Book, cell, here

NEEDS = ("inputs",)

WIDTHS = {0: 56, 1: 22, 2: 11, 3: 12, 4: 50}


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """Sources table, calibration table, method paragraphs and the trends named in the source."""
    book.columns(ws, WIDTHS)
    row = book.title(ws, sheet)
    row = _sources(book, ws, row)
    row = _calibration(book, ws, row)
    _method(book, ws, sheet, row)
    ws.freeze_panes(1, 0)


def _sources(book: Book, ws: Worksheet, row: int) -> int:
    """Every source of the assumption set: title, publisher, date, key, link."""
    sources = book.context.sources
    top = row
    row += 1
    link = book.wrap_fmt(font_color="#0563C1", underline=1)
    for source in sources:
        book.paragraph(ws, row, 0, source.title)
        book.paragraph(ws, row, 1, source.publisher)
        ws.write_string(row, 2, source.date, book.wrap_fmt())
        if source.url.startswith(("https://", "http://")) and len(source.url) < 250:
            ws.write_url(row, 3, source.url, link, string=source.key)  # the key is the link: short, never cut
        else:
            ws.write_string(row, 3, source.key, book.wrap_fmt())
        # The address as plain wrapped text, whole on paper (a link cell is cut at its column's edge).
        book.paragraph(ws, row, 4, source.url)
        book.fit_row(ws, row, 4, source.url.replace("/", "/ "))
        row += 1
    book.table(ws, top, 0, ("Title", "Publisher", "Date", "Key", "URL"), len(sources), "Sources")
    return row + 1


def _calibration(book: Book, ws: Worksheet, row: int) -> int:
    """Each published figure beside the calibrated path's value and the difference (inside its interval)."""
    anchors = book.market.assumptions.anchors
    ws.write_string(
        row, 0, "Calibration against the published figures (USD bn and fractions)", book.heading_fmt()
    )
    row += 1
    top = row
    row += 1
    for key, anchor in anchors.items():
        numfmt = book.fmt(num_format="0.000000" if anchor.units == "USD bn" else "0.0000%")
        ws.write_string(row, 0, anchor.label)
        book.link(ws, row, 1, ("anchor", key), numfmt)
        book.link(ws, row, 2, ("calibrated", key), numfmt)
        modelled = float(formulas.calibrated(book.market, key).value)
        residual = formulas.difference(here(row, 2), here(row, 1), modelled - anchor.value)
        book.formula(ws, row, 3, residual, book.fmt(num_format="+0.000000;-0.000000;0"))
        book.cells.put(("calibration residual", key), cell(ws.name, row, 3), residual.value)
        book.link(ws, row, 4, ("interval", key), book.fmt(num_format='"+-"0.######'))
        row += 1
    headers = ("Published figure", "Published", "Calibrated", "Difference", "Half interval")
    book.table(ws, top, 0, headers, len(anchors), "Calibration")
    return row + 1


def _method(book: Book, ws: Worksheet, sheet: SheetLayout, row: int) -> None:
    """The method paragraphs of the layout, then the trends and growth factors named in the source."""
    c = book.context
    ws.write_string(row, 0, "Method", book.heading_fmt())
    top = row
    row += 1
    for paragraph in [
        *(book.fill(" ".join(str(p).split())) for p in sheet.spec.get("method", ())),
        *_facts(book),
    ]:
        book.paragraph(ws, row, 0, paragraph)
        row += 1
    book.keep(ws, top, row - 1)
    row += 1
    for heading, items in (
        ("Trends named in the source", c.trends),
        ("Growth factors in the forecast period", c.forecast_factors),
        ("Growth factors in the historic period", c.historic_factors),
    ):
        top = row
        ws.write_string(row, 0, heading, book.fmt(bold=True))
        row += 1
        for item in items:
            book.paragraph(ws, row, 0, f"- {item}")
            row += 1
        book.keep(ws, top, row - 1)
        row += 1


def _facts(book: Book) -> list[str]:
    """Sentences computed from the assumption set: the market's scope as its source defines it, how far
    the publishers' figures spread, and which drivers are proxies (the model's limits)."""
    m = book.market
    a = m.assumptions
    out = []
    own = a.estimates.get(m.default_basis)
    if own is not None and own.scope and own.scope != "not stated":
        out.append(f"Scope, as {own.publisher} defines it: {' '.join(own.scope.split())}.")
    if a.estimates:
        c = m.consensus(m.base_year)
        out.append(
            f"In {m.base_year} the {c.count} publishers' figures range from {money(c.minimum, with_unit=True)}"
            f" to {money(c.maximum, with_unit=True)} (median {money(c.median, with_unit=True)}); the model's"
            f" base total is {money(c.model, with_unit=True)}, {c.model_ratio:.2f} times the median."
        )
    proxies = [f"{d.label}: {' '.join(d.note.split())}" for d in a.drivers.values() if "proxy" in d.note]
    if proxies:
        out.append("Limits: the drivers are proxies for the world market. " + "; ".join(proxies) + ".")
    return out
