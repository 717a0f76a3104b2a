"""Market estimates: every publisher's published figures (inputs, with their sources), each publisher's
calendar-year path as live formulas over them, and the consensus of each year.

Time runs across the columns. A publisher's path follows the engine's rules (``xl_addin.model.estimates``):
a published year is the figure; a year inside a published CAGR's period is compounded from the figure
the period touches; a year between two figures is geometric between them; a year before the first figure
is discounted from it at the growth before it; a year after the last is grown from the year before at a
growth fading from the publisher's CAGR to the long-run rate. Which rule a year takes, and from which
figures, depends on which years are published: that is written in the working rows under each path
(rebuild the workbook to add a figure or a CAGR); the values, CAGRs, long-run rate and fade are live.

One path per publisher: the market's own publication's row is the model's own path at the calibrated
growth (the Inputs sheet's sizes and growths), not a second path through the same figures.

The consensus of a year is the count, minimum, median and maximum of the paths; where the model's own
base total sits among them (its rank, 1 = largest, and its ratio to the median) is written once every
sheet is filled. The ``Basis`` chosen on Inputs makes the base total follow the consensus median or a
publisher's path (the Scenarios sheet reads ``EstimatePaths``).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from xlsxwriter.utility import quote_sheetname
from xlsxwriter.worksheet import Worksheet

from ....common.formats import money
from ....model.assumptions import CONSENSUS, PublisherEstimate
from ....model.estimates import EstimatePath, fade_target, fade_weight, median_path
from ...layout import SheetLayout
from .. import formulas
from ..book import SERIES_COLOURS, STORED_FONT, Book, cell, here, span

NEEDS = ("inputs",)
SHOWS = ("scenarios",)

WORKING = (
    "rule",
    "from figure of",
    "to figure of",
    "growth number",
    "growth used",
    "figure from",
    "figure to",
    "fade weight",
    "growth factor of the fade",
)
"""The working rows of each path, in order; those from :data:`HELPERS` on are helper rows (hidden) that
keep the path's formula under FAST's 250 characters: the two figures a year starts from, the fade weight
and the factor the path grows by as its growth fades (after its last figure; the market's own
publication: after the horizon, at the calibrated growth)."""
HELPERS = 5

RULES = ("published", "grown", "between", "faded")
"""How a year of a path is made: the figure itself, grown from a figure at a growth, geometric between
two figures, grown from the year before at the fading growth."""


@dataclass(frozen=True)
class Step:
    """How one year of a path is made: the rule (:data:`RULES`), the figures it starts from (years ``a``
    and ``b``) and which growth of the estimate's list it uses (0: none)."""

    rule: str
    a: int
    b: int
    growth: int


def steps(e: PublisherEstimate, years: tuple[int, ...]) -> dict[int, Step]:
    """Which rule each year of a path takes. Mirrors ``estimates.estimate_path`` (rules 1-5; rules 2 and 4
    of the engine are both "from a figure at a growth" here)."""
    first, last = e.years[0], e.years[-1]
    back, forward = len(e.cagrs) + 1, len(e.cagrs) + 2  # the growth list: the CAGRs, then these two
    out = {}
    for y in years:
        if y in e.points:
            out[y] = Step(RULES[0], y, y, 0)
            continue
        found = _within_cagr(e, y)
        if found is not None:
            out[y] = Step(RULES[1], found[0], found[0], found[1])
        elif first < y < last:
            a = max(p for p in e.years if p < y)
            b = min(p for p in e.years if p > y)
            out[y] = Step(RULES[2], a, b, 0)
        elif y < first:
            out[y] = Step(RULES[1], first, first, back)
        else:
            out[y] = Step(RULES[3], last, last, forward)
    return out


def _within_cagr(e: PublisherEstimate, year: int) -> tuple[int, int] | None:
    """The figure and the CAGR (1-based) a year inside a CAGR's period is compounded from, if any.
    Mirrors ``estimates._within_cagr``."""
    years = e.years
    for n, c in enumerate(e.cagrs, start=1):
        starts, ends = c.from_year in e.points, c.to_year in e.points
        if ends and not starts:
            before = [p for p in years if p < c.to_year]
            low = max([*before[-1:], *([c.from_year] if c.from_year is not None else [])], default=None)
            if (low is None or low <= year) and year < c.to_year:
                return c.to_year, n
        elif starts and not ends and c.from_year is not None:
            after = [p for p in years if p > c.from_year]
            high = min([c.to_year, *after[:1]])
            if c.from_year < year <= high:
                return c.from_year, n
    return None


def _backward(e: PublisherEstimate) -> int | tuple[int, int]:
    """The growth before the first figure: a CAGR (1-based) or the two figures it is implied by.
    Mirrors ``estimates._backward_growth``."""
    first = e.years[0]
    for n, c in enumerate(e.cagrs, start=1):
        if (c.from_year is None or c.from_year <= first) and first <= c.to_year:
            return n
    if e.cagrs:
        return 1
    return e.years[0], e.years[1]


def _forward(e: PublisherEstimate) -> int | tuple[int, int]:
    """The growth after the last figure: the CAGR ending last if it ends at or after it, else implied by
    the last two figures. Mirrors ``estimates._forward_growth``."""
    last, cagr = e.years[-1], e.cagr
    if cagr is not None and cagr.to_year >= last:
        return e.cagrs.index(cagr) + 1
    if len(e.years) >= 2:
        return e.years[-2], last
    return e.cagrs.index(cagr) + 1 if cagr is not None else 1


def _growth_value(e: PublisherEstimate, choice: int | tuple[int, int]) -> float:
    if isinstance(choice, tuple):
        a, b = choice
        return float((e.points[b] / e.points[a]) ** (1.0 / (b - a)) - 1.0)
    return e.cagrs[choice - 1].value


def write(book: Book, ws: Worksheet, sheet: SheetLayout) -> None:
    """Published figures, growths, paths, consensus, the model beside them, the working rows, a chart."""
    m = book.market
    estimates = m.assumptions.estimates
    row = book.title(ws, sheet)

    def title() -> None:  # the model's row follows the basis: the title says which (once Scenarios exists)
        text = book.text(sheet, "title", sheet.name)
        book.formula(
            ws,
            0,
            0,
            book.captioned(text),
            book.fmt(bold=True, font_size=14, font_color=book.context.client.brand_colour),
        )

    book.later(title)
    timeline = row
    row = book.timeline(ws, row)
    if not estimates:
        ws.write_string(row + 1, 0, "The assumption set has no publishers' estimates.")
        return
    paths = m.estimate_paths()
    published: dict[str, int] = {}
    ws.write_string(row, 0, "Decimals shown (the model's rank ties values equal as shown)")
    ws.write_number(row, 1, 2, book.fmt(num_format="0"))
    book.define("ShownDecimals", cell(ws.name, row, 1))
    row += 2
    ws.write_string(row, 0, "Published figures, USD bn (inputs)", book.heading_fmt())
    row += 1
    for key, e in estimates.items():
        published[key] = row
        ws.write_string(row, 0, e.publisher)
        for y in book.years:
            j = book.year_col(y)
            if y in e.points:
                ws.write_number(row, j, e.points[y], book.input_fmt("0.00"))
                book.validate(ws, row, j, row, 0.0, 1e6, "market size", whole=False)
        row += 1
    book.keep(ws, timeline, row - 1)
    row += 1
    growth_rows, row = _growths(book, ws, row, published)
    row = _bases(book, ws, row + 1, paths)
    path_top = row + 1
    book.cells.put(("estimate rows",), cell(ws.name, path_top, 0), path_top)
    working_top = path_top + len(estimates) + 12
    _paths(book, ws, path_top, published, growth_rows, working_top, paths)
    row = _consensus(book, ws, path_top + len(estimates), path_top, paths)
    row = _working(book, ws, working_top, paths)
    row = _rounded(book, ws, row + 1, path_top, paths)
    _chart(book, ws, row + 1, timeline, path_top, paths)


def _rounded(book: Book, ws: Worksheet, row: int, path_top: int, paths: dict[str, EstimatePath]) -> int:
    """Each path at the precision shown (two decimals), which the model's rank compares: values equal as
    shown tie. Returns the next row."""
    m = book.market
    index = {y: i for i, y in enumerate(m.year_list)}
    grey = book.fmt(num_format="0.00", font_color=STORED_FONT)
    ws.write_string(row, 0, "Paths at the precision shown (for the model's rank)", book.fmt(bold=True))
    top = row + 1
    for n, path in enumerate(paths.values()):
        r = top + n
        ws.write_string(r, 0, f"{path.estimate.publisher}: as shown", book.fmt(font_color=STORED_FONT))
        for y in book.years:
            j = book.year_col(y)
            shown = formulas.Formula(
                f"=ROUND({here(path_top + n, j)},ShownDecimals)", round(path.values[index[y]], 2)
            )
            book.formula(ws, r, j, shown, grey)
    book.cells.put(("rounded rows",), cell(ws.name, top, 0), top)
    book.keep(ws, row, top + len(paths) - 1)
    return top + len(paths)


def _growths(
    book: Book, ws: Worksheet, row: int, published: dict[str, int]
) -> tuple[dict[str, tuple[int, int]], int]:
    """Each publisher's growths: its published CAGRs (inputs), then the growth before its first figure
    and after its last (formulas); returns the first and last row of each publisher's list."""
    m = book.market
    ws.write_string(row, 0, "Growth rates of each publisher", book.heading_fmt())
    row += 1
    for col, text in enumerate(("Publisher: growth", "From", "To", "Growth", "Source")):
        ws.write_string(row, col, text, book.header_fmt())
    row += 1
    rows: dict[str, tuple[int, int]] = {}
    pct = book.input_fmt("0.00%")
    for key, e in m.assumptions.estimates.items():
        first = row
        for c in e.cagrs:
            ws.write_string(row, 0, f"{e.publisher}: published CAGR")
            if c.from_year is not None:
                ws.write_number(row, 1, c.from_year, book.fmt(num_format="0"))
            ws.write_number(row, 2, c.to_year, book.fmt(num_format="0"))
            ws.write_number(row, 3, c.value, pct)
            book.validate(ws, row, 3, row, -0.5, 1.0, "growth rate")
            source = m.assumptions.sources.get(e.source)
            ws.write_string(row, 4, f"{source.publisher} ({source.date})" if source else e.source)
            row += 1
        for label, choice in (
            ("before the first figure", _backward(e)),
            ("after the last figure", _forward(e)),
        ):
            ws.write_string(row, 0, f"{e.publisher}: {label}")
            if isinstance(choice, tuple):
                a, b = choice
                pa = cell(ws.name, published[key], book.year_col(a))
                pb = cell(ws.name, published[key], book.year_col(b))
                implied = (e.points[b] / e.points[a]) ** (1.0 / (b - a)) - 1.0
                ws.write_number(row, 1, a, book.fmt(num_format="0"))
                ws.write_number(row, 2, b, book.fmt(num_format="0"))
                growth = formulas.cagr(pa, pb, f"{here(row, 2)}-{here(row, 1)}", implied)
                ws.write_string(row, 4, "implied by the two figures")
            else:
                value = e.cagrs[choice - 1].value
                growth = formulas.follows(here(first + choice - 1, 3), value)
                ws.write_string(row, 4, "the published CAGR")
            book.formula(ws, row, 3, growth, book.fmt(num_format="0.00%"))
            row += 1
        rows[key] = (first, row - 1)
    book.keep(ws, row - 1 - sum(len(e.cagrs) + 2 for e in m.assumptions.estimates.values()) - 2, row - 1)
    return rows, row


def _bases(book: Book, ws: Worksheet, row: int, paths: dict[str, EstimatePath]) -> int:
    """What the total can follow (``Basis`` on Inputs), in the order of the path rows below: each
    publisher's id, its last figure (its path's fade starts after it) and whether the model's total
    follows it (then it is not ranked against the model), then the consensus median."""
    m = book.market
    ws.write_string(row, 0, "Bases the total can follow", book.heading_fmt())
    row += 1
    for col, text in enumerate(("Basis id", "Last figure", "Followed", "Path", "In consensus")):
        ws.write_string(row, col, text, book.header_fmt())
    excluded = m.consensus_excluded()
    row += 1
    top = row
    for key, path in paths.items():
        e = path.estimate
        ws.write_string(row, 0, key)
        ws.write_number(row, 1, e.years[-1], book.fmt(num_format="0"))
        flag = formulas.followed_flag(here(row, 0), e.source, m.assumptions.market.source, m.follows(key))
        book.formula(ws, row, 2, flag, book.fmt(num_format="0"))
        ws.write_string(row, 3, e.publisher)
        # consensus_max_age leaves old estimates out (decided by their sources' vintages when the pack is made)
        ws.write_number(row, 4, 0 if key in excluded else 1, book.fmt(num_format="0"))
        row += 1
    ws.write_string(row, 0, CONSENSUS)
    fade_start = min(p.estimate.years[-1] for k, p in paths.items() if k not in excluded)
    kept = [top + n for n, k in enumerate(paths) if k not in excluded]
    book.formula(
        ws,
        row,
        1,
        formulas.Formula(f"=MIN({_cells(top, row - 1, kept, 1)})", fade_start),
        book.fmt(num_format="0"),
    )
    ws.write_string(row, 3, "the median of the publishers' paths")
    book.define("BasisIds", span(ws.name, top, 0, row, 0))
    book.define("BasisLastFigures", span(ws.name, top, 1, row, 1))
    book.cells.put(("followed flags",), span(ws.name, top, 2, row - 1, 2).split("!", 1)[1], None)
    book.cells.put(("consensus flags",), span(ws.name, top, 4, row - 1, 4).split("!", 1)[1], None)
    book.keep(ws, top - 2, row)
    return row + 2


def _paths(
    book: Book,
    ws: Worksheet,
    row: int,
    published: dict[str, int],
    growth_rows: dict[str, tuple[int, int]],
    working_top: int,
    paths: dict[str, EstimatePath],
) -> None:
    """Each publisher's path by year (formulas over its figures and growths, by its working rows)."""
    m = book.market
    index = {y: i for i, y in enumerate(m.year_list)}
    ws.write_string(row - 1, 0, "Each publisher's path, USD bn", book.heading_fmt())
    last_col = book.year_col(book.years[-1])
    for n, (key, path) in enumerate(paths.items()):
        r = row + n
        e = path.estimate
        ws.write_string(r, 0, e.publisher)
        work = working_top + 1 + n * len(WORKING)
        pub_span = span(ws.name, published[key], 1, published[key], last_col)
        growths = span(ws.name, growth_rows[key][0], 3, growth_rows[key][1], 3)
        plan = steps(e, book.years)
        listed = [c.value for c in e.cagrs] + [_growth_value(e, _backward(e)), _growth_value(e, _forward(e))]
        for y in book.years:
            j = book.year_col(y)
            refs = (
                here(published[key], j),
                here(work, j),
                here(work + 1, j),
                here(work + 2, j),
                here(work + 5, j),
                here(work + 6, j),
                here(work + 4, j),
                here(work + 8, j),
                here(r, j - 1),
            )
            value = path.values[index[y]]
            if m.is_publication(key):  # one path per publisher: the market's own is the model's
                estimate = formulas.publication_path(
                    book.year_ref(ws, y), here(r, j - 1), here(work + 8, j), value
                )
            else:
                estimate = formulas.estimate_value(book.year_ref(ws, y), refs, value)
            book.formula(ws, r, j, estimate, book.fmt(num_format="0.00"))
            step = plan[y]
            used = listed[step.growth - 1] if step.growth else 0.0
            growth = formulas.picked(growths, here(work + 3, j), used)
            book.formula(ws, work + 4, j, growth, book.fmt(num_format="0.00%", font_color=STORED_FONT))
            figures = (pub_span, book.timeline_span(ws))
            for k, at in ((5, step.a), (6, step.b)):
                figure = formulas.figure_at(figures, here(work + k - 4, j), e.points[at])
                book.formula(ws, work + k, j, figure, book.fmt(num_format="0.00", font_color=STORED_FONT))
            y_ref = book.year_ref(ws, y)
            if m.is_publication(key):  # its fade starts after the horizon, at the calibrated growth
                weight = formulas.fade_weight(m, y, y_ref)
                factor = formulas.publication_factor(m, y, here(work + 7, j))
            else:
                w = fade_weight(y - step.a, m.assumptions.fade_years)
                target = fade_target(used, m.assumptions.long_run_growth)
                weight = formulas.path_fade_weight(y_ref, here(work + 1, j), w)
                factor = formulas.faded_factor(
                    here(work + 4, j), here(work + 7, j), 1 + target + (used - target) * w
                )
            book.formula(ws, work + 7, j, weight, book.fmt(num_format="0.00", font_color=STORED_FONT))
            book.formula(ws, work + 8, j, factor, book.fmt(num_format="0.0000", font_color=STORED_FONT))
    book.keep(ws, row - 1, row + len(paths))


def _consensus(book: Book, ws: Worksheet, row: int, path_top: int, paths: dict[str, EstimatePath]) -> int:
    """The median (the ``consensus`` basis, right under the paths so the bases are one block), count,
    minimum, maximum and the range per year."""
    m = book.market
    index = {y: i for i, y in enumerate(m.year_list)}
    last = path_top + len(paths) - 1
    excluded = m.consensus_excluded()
    kept = [path_top + n for n, key in enumerate(paths) if key not in excluded]
    rows = {
        "median": ("Consensus: median", "MEDIAN", "0.00"),
        "count": ("Consensus: publishers", "COUNT", "0"),
        "min": ("Consensus: minimum", "MIN", "0.00"),
        "max": ("Consensus: maximum", "MAX", "0.00"),
    }
    top = row
    for n, (key, (label, function, numfmt)) in enumerate(rows.items()):
        r = row + n
        ws.write_string(r, 0, label, book.fmt(bold=key == "median"))
        stored: dict[int, float] = {}
        for y in book.years:
            j = book.year_col(y)
            values = [p.values[index[y]] for k, p in paths.items() if k not in excluded]
            value = {
                "count": len(values),
                "min": min(values),
                "median": statistics.median(values),
                "max": max(values),
            }
            stored[y] = value[key]
            book.formula(
                ws,
                r,
                j,
                formulas.Formula(f"={function}({_cells(path_top, last, kept, j)})", value[key]),
                book.fmt(num_format=numfmt, bold=key == "median"),
            )
        book.put_row(("consensus", key), ws, r, stored)  # the Cover sets them beside the headline
    book.cells.put(("basis block",), f"{quote_sheetname(ws.name)}!{path_top}:{top}", None)
    row += len(rows)
    ws.write_string(row, 0, "Consensus range (maximum - minimum)")
    for y in book.years:
        j = book.year_col(y)
        values = [p.values[index[y]] for k, p in paths.items() if k not in excluded]
        rng = formulas.difference(here(row - 1, j), here(row - 2, j), max(values) - min(values))
        book.formula(ws, row, j, rng, book.fmt(num_format="0.00"))
    book.keep(ws, top, row)
    _model_rows(book, ws, row + 1, path_top, paths)
    return row + 5


def _cells(top: int, last: int, kept: list[int], col: int) -> str:
    """The path cells of one year the consensus takes: the whole column of paths, or (some left out by
    ``consensus_max_age``) the kept ones, listed."""
    if len(kept) == last - top + 1:
        return f"{here(top, col)}:{here(last, col)}"
    return ",".join(here(r, col) for r in kept)


def _model_rows(book: Book, ws: Worksheet, row: int, path_top: int, paths: dict[str, EstimatePath]) -> None:
    """The model's base total beside the consensus: its value, rank among the other publishers and ratio
    to the median; written once every sheet is filled (the Scenarios sheet reads this one)."""
    m = book.market
    flags = book.cells.get(("followed flags",)).ref
    kept = book.cells.get(("consensus flags",)).ref
    ws.write_string(row, 0, f"Model: base total, {book.unit_label}", book.fmt(bold=True))
    ws.write_string(row + 1, 0, "Model: rank among the others (1 = largest)")
    ws.write_string(row + 2, 0, "Model: ratio to the median")

    def fill() -> None:
        for y in book.years:
            j = book.year_col(y)
            consensus = m.consensus(y)
            base_ref, base = book.at(("scenario row", "base"), y)
            book.show(ws, row, j, base_ref, base, book.fmt(bold=True, num_format=book.money))
            top = book.cells.get(("rounded rows",)).value
            column = f"{here(top, j)}:{here(top + len(paths) - 1, j)}"
            rank = formulas.model_rank(column, flags, kept, here(row, j), consensus.model_rank)
            book.formula(ws, row + 1, j, rank, book.fmt(num_format="0"))
            median_ref = here(path_top + len(paths), j)
            ratio = formulas.model_ratio(here(row, j), median_ref, consensus.model_ratio)
            book.formula(ws, row + 2, j, ratio, book.fmt(num_format="0.00"))

    book.later(fill)
    book.keep(ws, row, row + 2)


def _working(book: Book, ws: Worksheet, row: int, paths: dict[str, EstimatePath]) -> int:
    """Per publisher and year: the rule, the figures it starts from and the growth's number in its list
    (what the published years imply; rebuild the workbook to change them), and the growth it reads."""
    ws.write_string(
        row,
        0,
        "Working: how each year of a path is made (1 published, 2 from a figure at a growth, 3 between two figures, 4 after the last figure)",
        book.fmt(bold=True),
    )
    grey = book.fmt(num_format="0", font_color=STORED_FONT)
    r = row + 1
    for path in paths.values():
        e = path.estimate
        plan = steps(e, book.years)
        for k, label in enumerate(WORKING):
            ws.write_string(r + k, 0, f"{e.publisher}: {label}", book.fmt(font_color=STORED_FONT))
        for k in range(HELPERS, len(WORKING)):
            book.helper_row(ws, r + k)
        for y, step in plan.items():
            j = book.year_col(y)
            ws.write_string(r, j, step.rule, book.fmt(font_color=STORED_FONT))
            for k, value in enumerate((step.a, step.b, step.growth), start=1):
                ws.write_number(r + k, j, value, grey)
        r += len(WORKING)
    book.keep(ws, row, r - 1)
    return _words(book, ws, r + 1, paths)


def _words(book: Book, ws: Worksheet, row: int, paths: dict[str, EstimatePath]) -> int:
    """The word each year of each path takes when the total follows it (published, interpolated,
    back-cast, extrapolated), then the consensus median's; the Scenarios sheet reads them by basis."""
    m = book.market
    index = {y: i for i, y in enumerate(m.year_list)}
    ws.write_string(
        row, 0, "Words of each path (the status of the total when it follows the path)", book.fmt(bold=True)
    )
    book.helper_row(ws, row)
    row += 1
    top = row
    grey = book.fmt(font_color=STORED_FONT, font_size=10)
    vertical = book.fmt(font_color=STORED_FONT)
    for path in paths.values():
        ws.write_string(row, 0, f"{path.estimate.publisher}: word", grey)
        book.helper_row(ws, row)  # the words statuses are made of when the total follows the path
        for y in book.years:
            ws.write_string(row, book.year_col(y), path.words[index[y]], vertical)
        row += 1
    ws.write_string(row, 0, "Consensus median: word", grey)
    book.helper_row(ws, row)
    excluded = m.consensus_excluded()
    kept = {k: p for k, p in paths.items() if k not in excluded}
    words_of_median = m.basis_words if m.basis == CONSENSUS else median_words(kept, m.year_list)
    path_top = book.cells.get(("estimate rows",)).value
    for y in book.years:
        j = book.year_col(y)
        word = words_of_median[index[y]]
        if len(kept) % 2:
            median_ref = here(path_top + len(paths), j)
            values = f"{here(path_top, j)}:{here(path_top + len(paths) - 1, j)}"
            book.formula(
                ws,
                row,
                j,
                formulas.median_word(f"{here(top, j)}:{here(row - 1, j)}", values, median_ref, word),
                vertical,
            )
        else:  # an even number: the engine takes the word of the two it averages that is furthest from published
            ws.write_string(row, j, word, vertical)
    book.cells.put(("basis words",), f"{quote_sheetname(ws.name)}!{top}:{row}", None)
    book.keep(ws, top - 1, row)
    return row + 1


def median_words(paths: dict[str, EstimatePath], years: tuple[int, ...]) -> tuple[str, ...]:
    """The consensus median's word in every model year. Mirrors ``estimates.median_path``."""
    return median_path(list(paths.values()), len(years))[1]


def _chart(
    book: Book, ws: Worksheet, row: int, timeline: int, path_top: int, paths: dict[str, EstimatePath]
) -> None:
    """Every publisher's path as a line over the consensus band (minimum to maximum)."""
    m = book.market
    first, last = book.year_col(book.years[0]), book.year_col(book.years[-1])
    categories = [ws.name, timeline, first, timeline, last]
    band_top = path_top + len(paths)
    band = book.chart({"type": "area", "subtype": "stacked"})
    band.add_series(
        {
            "name": "Consensus minimum",
            "categories": categories,
            "values": [ws.name, band_top + 2, first, band_top + 2, last],
            "fill": {"none": True},
            "border": {"none": True},
        }
    )
    band.add_series(
        {
            "name": "Consensus range",
            "categories": categories,
            "values": [ws.name, band_top + 4, first, band_top + 4, last],
            "fill": {"color": "#A5A5A5", "transparency": 70},
            "border": {"none": True},
        }
    )
    lines = book.chart({"type": "line"})
    for n in range(len(paths)):
        lines.add_series(
            {
                "name": [ws.name, path_top + n, 0],
                "categories": categories,
                "values": [ws.name, path_top + n, first, path_top + n, last],
                "line": {"color": SERIES_COLOURS[(n + 1) % len(SERIES_COLOURS)], "width": 1.5},
            }
        )
    lines.add_series(
        {
            "name": [ws.name, band_top, 0],
            "categories": categories,
            "values": [ws.name, band_top, first, band_top, last],
            "line": {"color": "#000000", "width": 2, "dash_type": "dash"},
        }
    )
    band.combine(lines)
    title = "Publishers' estimates and the consensus band, USD bn"
    ws.write_string(row, 0, title, book.fmt(bold=True))

    def caption() -> None:  # names the scenario and basis, whose caption the Scenarios sheet defines
        book.formula(ws, row, 0, book.captioned(title), book.fmt(bold=True))

    book.later(caption)
    book.chart_layout(band, (ws.name, row, 0), "Year", "USD bn")
    horizon = m.consensus(m.horizon_year)
    book.place(
        ws,
        row + 1,
        0,
        band,
        f"Line chart of {len(paths)} publishers' estimates of the market by year with the consensus band"
        f" from the lowest to the highest; in {m.horizon_year} they range from {money(horizon.minimum)} to"
        f" {money(horizon.maximum)} USD bn, median {money(horizon.median)}.",
        (1.6, 1.3),
    )
