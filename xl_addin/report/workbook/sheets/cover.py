"""Cover: title, who the pack is for and its provenance, the selected scenario and the master check, the
headline figures (live), the client's logo. No merged cells: long text wraps inside its own column."""

from __future__ import annotations

import functools

from xlsxwriter.worksheet import Worksheet

from ...layout import SheetLayout
from .. import formulas
from ..book import Book, CellKey, here

NEEDS = ("inputs", "forecast", "scenarios")
SHOWS = ("checks", "overrides", "estimates")

WIDTHS = {0: 3, 1: 60, 2: 10, 3: 10, 4: 16}
VALUE = 4


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Cover sheet; it is the sheet the workbook opens on."""
    c = book.context
    brand = c.client.brand_colour
    book.columns(ws, WIDTHS)
    ws.set_row(0, 8, book.fmt(bg_color=brand))
    ws.write_string(2, 1, book.text(sheet, "title"), book.fmt(bold=True, font_size=20, font_color=brand))
    ws.set_row(2, 27)
    ws.write_string(3, 1, book.text(sheet, "subtitle"), book.fmt(font_size=12, font_color="#595959"))
    row = 5
    for item in sheet.spec.get("fields", ()):
        ws.write_string(row, 1, str(item["label"]), book.fmt(bold=True, valign="top"))
        ws.write_string(row, 2, book.field(str(item["field"])))
        row += 1
    row += 1
    ws.write_string(row, 1, "Scenario shown (choose another on Inputs)", book.fmt(bold=True))
    book.formula(
        ws, row, 2, formulas.Formula("=ScenarioCaption", formulas.caption_value(book.market, book.scenario))
    )
    # Links to cells the Checks and Overrides sheets fill in later (a layout without one shows none).
    for label, key in (("Checks", ("master check",)), ("Inputs against the assumption set", ("provenance",))):
        row += 1
        ws.write_string(row, 1, label, book.fmt(bold=True))
        book.later(functools.partial(_link_if_there, book, ws, row, key))
    row, horizon_ref = _headline(book, ws, sheet, row + 2)
    if c.market.assumptions.estimates:
        # Right under the headline table (no blank row between): the Cover prints on one page.
        ws.write_string(
            row, 1, f"Beside it: the publishers' consensus, {c.headline.horizon_year}", book.fmt(bold=True)
        )
        line_row = row + 1
        book.helper_row(ws, line_row + 1)  # the consensus part: keeps the line's formula under 250 characters

        def beside() -> None:  # the consensus rows are on Market estimates, filled after the Cover
            consensus = {
                k: book.at(("consensus", k), c.headline.horizon_year)[0]
                for k in ("count", "median", "min", "max")
            }
            year = c.headline.horizon_year
            phrase = formulas.consensus_phrase(book.market, year, book.units, consensus)
            book.formula(ws, line_row + 1, 1, phrase, book.fmt())
            line = formulas.headline_line(
                book.market, year, book.scenario, book.units, horizon_ref, here(line_row + 1, 1)
            )
            book.formula(ws, line_row, 1, line, book.fmt(bold=True))

        book.later(beside)
        row += 3
    ws.write_string(row + 1, 1, "About this workbook", book.fmt(bold=True))
    book.paragraph(ws, row + 2, 1, book.text(sheet, "note"), italic=True)
    if c.client.logo is not None:
        ws.insert_image(2, 5, str(c.client.logo), {"x_scale": 0.5, "y_scale": 0.5, "object_position": 3})
        book.columns(ws, {5: 30})
    book.keep(ws, 0, row + 2)
    ws.activate()


def _link_if_there(book: Book, ws: Worksheet, row: int, key: CellKey) -> None:
    """A link in column C of ``row`` to the registered cell ``key``, when the layout has its sheet."""
    if book.cells.has(key):
        book.link(ws, row, 2, key, book.fmt(bold=True))


def _headline(book: Book, ws: Worksheet, sheet: SheetLayout, row: int) -> tuple[int, str]:
    """The layout's headline items: a year's market size (looked up on Forecast) or a CAGR between two
    years, each beside the year or years it is for, so no formula spells a year. Returns the next row and
    the cell of the horizon year's market size (the consensus line sets the publishers' beside it)."""
    horizon_ref = ""
    big_money = book.fmt(bold=True, font_size=14, num_format=book.money)
    big_pct = book.fmt(bold=True, font_size=14, num_format=book.pct)
    label, year_fmt = book.fmt(bold=True), book.fmt(num_format="0", align="left")
    for col, text in ((1, "Headline"), (2, "Year"), (3, "To year"), (VALUE, "Value")):
        ws.write_string(row, col, text, label)
    row += 1
    # Sizes as the reader compares them with the publication (the Forecast row shown); growth from the
    # model's own values, as everywhere.
    totals, shown = book.cells.get(("total row",)).value, book.cells.get(("shown row",)).value
    span, shown_span = book.row_span(("total row",)), book.row_span(("shown row",))
    for item in sheet.spec.get("headline", ()):
        money = item.get("format") == "money"
        ws.write_string(row, 1, f"{item['label']}, {book.unit_label}" if money else str(item["label"]))
        if "year" in item:
            year = int(item["year"])
            ws.write_number(row, 2, year, year_fmt)
            book.formula(ws, row, VALUE, formulas.in_year(shown_span, here(row, 2), shown[year]), big_money)
            if year == book.market.horizon_year:
                horizon_ref = here(row, VALUE)
        else:
            start, end = (int(v) for v in item["cagr"])
            ws.write_number(row, 2, start, year_fmt)
            ws.write_number(row, 3, end, year_fmt)
            first = formulas.in_year(span, here(row, 2), totals[start]).text[1:]
            last = formulas.in_year(span, here(row, 3), totals[end]).text[1:]
            refs = (first, last, here(row, 2), here(row, 3))
            cagr = formulas.cagr_between(book.market, refs, start, end, book.scenario)
            book.formula(ws, row, VALUE, cagr, big_pct)
        ws.set_row(row, 20)
        book.pages[ws.name].heights[row] = 20
        row += 1
    return row, horizon_ref
