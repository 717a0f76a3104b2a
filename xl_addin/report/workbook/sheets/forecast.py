"""Forecast: the market size by year in the scenario selected on Inputs, with growth and status.

Time runs across the columns; the timeline row is the workbook's ``Timeline`` and the total row its
``ForecastTotals``. Registers the total row (``("total row",)``), which the By region / By segment sheets
split column by column and the Cover's headline looks up by year.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ....common.formats import money
from ...layout import SheetLayout
from .. import formulas
from ..book import Book, here, span

NEEDS = ("inputs", "scenarios")
#: The sizes the market's publication printed (anchors on Inputs), by the name of their year.
_PRINTED = {"base_size": "BaseYear", "next_size": "NextYear", "horizon_size": "HorizonYear"}


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """The Forecast sheet: market size, growth and status by year; a column chart below."""
    m, s = book.market, book.scenario
    row = book.title(ws, sheet, scenario=True)
    timeline = row
    row = book.timeline(ws, row)
    first, last = book.year_col(book.years[0]), book.year_col(book.years[-1])
    book.define("Timeline", span(ws.name, timeline, first, timeline, last))
    rows = range(row, row + 9)
    (
        total_row,
        growth_row,
        model_row,
        printed_row,
        word_row,
        moved_row,
        qualifier_row,
        status_row,
        code_row,
    ) = rows
    ws.write_string(total_row, 0, f"Market size, {book.unit_label}", book.fmt(bold=True))
    ws.write_string(
        model_row, 0, f"Market size as modelled, {book.unit_label}", book.fmt(font_color="#7F7F7F")
    )
    ws.write_string(
        printed_row, 0, "Size as printed by the publication, USD bn", book.fmt(font_color="#7F7F7F")
    )
    printed = _printed(book)
    printed_refs = [(year_name, ref) for year_name, ref, _, _ in printed]
    figures = {year: figure for _, _, year, figure in printed}
    ws.write_string(growth_row, 0, "Growth over the year before")
    ws.write_string(word_row, 0, "Word of the base path", book.fmt(font_color="#7F7F7F"))
    ws.write_string(moved_row, 0, "Moved by an override (1)", book.fmt(font_color="#7F7F7F"))
    ws.write_string(qualifier_row, 0, "Qualifiers", book.fmt(font_color="#7F7F7F"))
    moved: dict[int, float] = {}
    ws.write_string(status_row, 0, "Status")
    ws.write_string(code_row, 0, "Status code (legend below)")
    values: dict[int, float] = {}
    shown: dict[int, float] = {}
    grey_money = book.fmt(num_format="#,##0.00", font_color="#7F7F7F")
    for y in book.years:
        j = book.year_col(y)
        y_ref = book.year_ref(ws, y)
        modelled = m.forecast(y, scenario=s)
        total = formulas.selected(
            book.column_of(("scenario block",), y), book.in_units(modelled), across=False
        )
        values[y] = float(total.value)
        book.formula(ws, model_row, j, total, book.fmt(num_format=book.money, font_color="#7F7F7F"))
        printed_size = formulas.printed_size(y_ref, printed_refs, figures.get(y, 0.0))
        book.formula(ws, printed_row, j, printed_size, grey_money)
        shown[y] = book.in_units(m.as_published(modelled, book.units))
        display = formulas.as_published(
            here(model_row, j), here(status_row, j), here(printed_row, j), shown[y]
        )
        book.formula(ws, total_row, j, display, book.fmt(bold=True, num_format=book.money))
        if y - 1 in values:
            growth = formulas.growth(here(model_row, j), here(model_row, j - 1), values[y], values[y - 1])
            book.formula(ws, growth_row, j, growth, book.fmt(num_format=book.pct))
        word_ref, _ = book.at(("path", "word"), y)
        word = m.basis_words[m.year_list.index(y)]
        grey = book.fmt(font_color="#7F7F7F")
        book.formula(ws, word_row, j, formulas.Formula(f"={word_ref}", word), grey)
        moved_by = formulas.moved(m, y, y_ref, s)
        book.formula(ws, moved_row, j, moved_by, grey)
        moved[y] = float(moved_by.value)
        qualifiers = formulas.qualifiers(m, y, y_ref, s, here(moved_row, j))
        book.formula(ws, qualifier_row, j, qualifiers, grey)
        status = formulas.status(m, y, (y_ref, here(word_row, j), here(qualifier_row, j)), s)
        book.formula(ws, status_row, j, status)
        code = formulas.status_code((y_ref, here(word_row, j)), here(status_row, j), str(status.value))
        book.formula(ws, code_row, j, code, book.fmt(align="center"))
    # A year's column is too narrow for "extrapolated (bull, override)" across: the statuses in full are
    # grouped under their code, which the legend explains.
    for helper in (model_row, printed_row, word_row, moved_row, qualifier_row, status_row):
        book.helper_row(ws, helper)
    book.put_row(("moved row",), ws, moved_row, moved)
    # Every calculation reads the model's row; the row shown (and the Cover's sizes) the figure as printed.
    book.put_row(("total row",), ws, model_row, values)
    book.put_row(("shown row",), ws, total_row, shown)
    book.define("ForecastTotals", span(ws.name, model_row, first, model_row, last))
    book.keep(ws, timeline, code_row + 1)
    row = _legend(book, ws, code_row + 1)
    chart_title = book.captioned(book.chart_title(sheet))
    book.formula(ws, row, 0, chart_title, book.fmt(bold=True))
    chart = book.chart({"type": "column"})
    chart.add_series(
        {
            "name": [ws.name, total_row, 0],
            "categories": [ws.name, timeline, first, timeline, last],
            "values": [ws.name, total_row, first, total_row, last],
            "fill": {"color": book.context.client.brand_colour},
            "gap": 60,
        }
    )
    book.chart_layout(chart, (ws.name, row, 0), "Year")
    chart.set_legend({"none": True})
    y0, y1 = book.years[0], book.years[-1]
    book.place(
        ws,
        row + 1,
        0,
        chart,
        f"Column chart of the market size in {book.unit_label} by year, {y0} to {y1}, in the scenario"
        f" selected on Inputs ({s} when the workbook was made):"
        f" {money(m.forecast(m.horizon_year, scenario=s), book.units, with_unit=True)} in {m.horizon_year}.",
        (1.6, 1.2),
    )


def _printed(book: Book) -> list[tuple[str, str, int, float]]:
    """Each size the market's publication printed: the name of its year on Inputs, the cell of the figure
    as printed there (Inputs' published figures), the year and the figure (USD bn)."""
    anchors = book.market.assumptions.anchors
    found = []
    for key, year_name in _PRINTED.items():
        anchor = anchors.get(key)
        if anchor is not None and anchor.year is not None:
            found.append((year_name, book.cells.get(("anchor", key)).ref, anchor.year, anchor.value))
    return found


def _legend(book: Book, ws: Worksheet, row: int) -> int:
    """What the status codes mean: one printed line, and the words and codes every code row reads
    (``StatusWords``, ``StatusCodes``) in rows grouped under it; the row after them."""
    codes = formulas.status_codes()
    listed = ", ".join(f"{code} {word}" for word, code in codes.items())
    ws.write_string(
        row,
        0,
        f"Status codes: {listed}; * an override moved the value. The statuses in full: the rows grouped"
        " above the code row (+).",
        book.fmt(italic=True, font_color="#595959"),
    )
    top = row + 1
    for i, (word, code) in enumerate(codes.items()):
        ws.write_string(top + i, 0, word)
        ws.write_string(top + i, 1, code)
        book.helper_row(ws, top + i)
    last = top + len(codes) - 1
    book.define("StatusWords", span(ws.name, top, 0, last, 0))
    book.define("StatusCodes", span(ws.name, top, 1, last, 1))
    return last + 2
