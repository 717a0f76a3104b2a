"""Grid calls: one IMGOUT_* call answers a whole table when arguments are ranges.

``=IMGOUT_FORECAST(C4:L4, B5:B12)`` with years across C4:L4 and regions down B5:B12 spills an 8 x 10 block:
one Excel-to-Python round trip instead of 80. The rules are Excel's own array broadcasting (``=C4:L4+B5:B12``
makes the same block):

- a single value (or a one-cell range) is used in every cell of the answer;
- a row (1 x n) runs across the columns, a column (n x 1) down the rows, a block (r x c) both ways;
- a row against a column gives rows x columns; two rows (or two columns) pair up element by element and
  must have the same length, else the call answers one line naming both arguments.

Each cell is answered exactly as the single call with that cell's arguments (same code, same answer cache),
so a bad element shows its own ``#N/A Invalid region: 'Mars' ...`` and the rest of the table stands.
``Header=Y`` adds the labels: a row above (the values that run across) and a column on the left (the values
that run down).

Excel hands ranges over as lists: the broadcasting arguments are registered with xlwings' ``ndim="natural"``
(one cell -> the value itself, a row -> a flat list, a column -> a list of one-item rows, a block -> a list
of rows), so a single cell stays a plain value and the scalar path, cache included, is untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ImgoutError, InputError
from ..model import Market
from .arguments import Options, argument_problem, cell_value, describe, year_of

# A table larger than this is refused: each cell is a call, and Excel's grid is no place for millions.
MAX_CELLS = 100_000
RANGE_DOC = " Or a row/column range: one answer per cell (years across x regions down = one table)."
TOTAL_LABEL = "Total"


def is_range(value: object) -> bool:
    """Whether xlwings handed a range (a list) rather than one value."""
    return value.__class__ is list


@dataclass(frozen=True)
class Spread:
    """One argument laid out as a grid of cells (a single value is 1 x 1)."""

    name: str
    cells: list[list[Any]]

    @property
    def rows(self) -> int:
        """How many rows the argument spans."""
        return len(self.cells)

    @property
    def columns(self) -> int:
        """How many columns the argument spans."""
        return len(self.cells[0])

    def at(self, row: int, column: int) -> Any:
        """The argument's value for one cell of the answer (a row repeats down, a column across)."""
        return self.cells[row if self.rows > 1 else 0][column if self.columns > 1 else 0]

    def describe(self) -> str:
        """``a row of 10 cells``, ``a column of 8 cells``, ``a block of 3 x 4 cells``."""
        if self.rows == 1:
            return f"a row of {self.columns} cells"
        if self.columns == 1:
            return f"a column of {self.rows} cells"
        return f"a block of {self.rows} x {self.columns} cells"


def spread(name: str, value: object) -> Spread:
    """An argument as a grid: a flat list is a row, a list of lists is rows (ragged rows are refused)."""
    if not is_range(value):
        return Spread(name, [[value]])
    items: list[Any] = value  # type: ignore[assignment]
    if not items:
        raise InputError(f"Invalid {name}: an empty range (expected a value or a row/column of cells)")
    problem = argument_problem(name, items)
    if problem is not None:
        raise problem
    if not isinstance(items[0], list):
        if any(isinstance(item, list | tuple) for item in items):
            raise InputError(
                f"Invalid {name}: rows of different lengths (expected a row, a column or a block)"
            )
        return Spread(name, [items])
    width = len(items[0])
    if not width or any(not isinstance(row, list) or len(row) != width for row in items):
        raise InputError(f"Invalid {name}: rows of different lengths (expected a row, a column or a block)")
    return Spread(name, items)


def shape(spreads: Sequence[Spread]) -> tuple[int, int]:
    """Rows x columns of the answer; a one-line error names two arguments whose lengths do not pair up."""
    size = [1, 1]
    first: list[Spread | None] = [None, None]
    for s in spreads:
        for axis, length in enumerate((s.rows, s.columns)):
            if length == 1:
                continue
            other = first[axis]
            if other is None:
                size[axis], first[axis] = length, s
            elif length != size[axis]:
                direction = "down" if axis == 0 else "across"
                raise InputError(
                    f"Invalid {s.name}: {s.describe()} does not pair with {other.name}, {other.describe()} "
                    f"(ranges that run {direction} must have the same length; a row against a column "
                    "makes a table)"
                )
    rows, columns = size
    if rows * columns > MAX_CELLS:
        names = " and ".join(s.name for s in first if s is not None)
        raise InputError(
            f"Invalid {names}: a table of {rows} x {columns} = {rows * columns:,} cells "
            f"(expected at most {MAX_CELLS:,} per call; split it over several formulas)"
        )
    return rows, columns


@dataclass(frozen=True)
class GridCall:
    """What a grid call needs from its function: argument names, which broadcast, how to answer one cell."""

    names: tuple[str, ...]
    ranged: frozenset[str]
    answer_one: Callable[..., Any]
    corner: Callable[[Options], str]


def answer(
    call: GridCall, arguments: tuple[Any, ...], options: Options, market: Market
) -> list[list[Any]] | Any:
    """The table for ``arguments`` (one of which is a range); each cell from ``call.answer_one``."""
    if options.status:
        raise InputError(
            "Invalid options: Status=Y with a range argument (a cell holds one value; "
            'IMGOUT_SERIES(first_year, last_year, ..., "Status=Y") lists the status of each year)'
        )
    spreads = [spread(name, value) for name, value in zip(call.names, arguments, strict=True)]
    rows, columns = shape([s for s in spreads if s.name in call.ranged])
    values = [[call.answer_one(*(s.at(r, c) for s in spreads)) for c in range(columns)] for r in range(rows)]
    if not options.header:
        return values[0][0] if rows == columns == 1 else values
    return _with_header(values, [s for s in spreads if s.name in call.ranged], options, market, call)


def _with_header(
    values: list[list[Any]], spreads: list[Spread], options: Options, market: Market, call: GridCall
) -> list[list[Any]]:
    """The values with a label row above (what runs across) and a label column left (what runs down)."""
    across = [s for s in spreads if s.rows == 1 and s.columns > 1]
    down = [s for s in spreads if s.columns == 1 and s.rows > 1]
    rows, columns = len(values), len(values[0])
    top = [_joined(across, 0, c, options, market) for c in range(columns)] if across else None
    left = [_joined(down, r, 0, options, market) for r in range(rows)] if down else None
    table = [list(row) for row in values]
    if left is not None:
        table = [[label, *row] for label, row in zip(left, table, strict=True)]
    if top is not None:
        table.insert(0, ([call.corner(options)] if left is not None else []) + top)
    return table


def _joined(spreads: list[Spread], row: int, column: int, options: Options, market: Market) -> Any:
    labels = [label(s.name, s.at(row, column), options, market) for s in spreads]
    return labels[0] if len(labels) == 1 else " / ".join(str(x) for x in labels)


def label(name: str, value: object, options: Options, market: Market) -> Any:
    """How a header shows one argument value: a year as 2030, a member by its name, empty as Total."""
    try:
        if name.endswith("year"):
            return year_of(market, value, name)
        if name == "percentile":
            p = cell_value(value, name)
            if p is None:
                return "P50"
            if isinstance(p, int | float) and not isinstance(p, bool):
                return f"P{p * 100 if 0 < p < 1 else p:g}"
            return str(p)
        if name in ("region", "segment", "scenario"):
            value = options.choose(name, value)
            if name == "scenario":
                return market.scenario(value)
            if name == "region":
                return market.region(value) or TOTAL_LABEL
            return market.segment(value)[1] or TOTAL_LABEL
        if name == "member":
            return market.find_member(cell_value(value, name))[1]
    except ImgoutError:
        pass  # the cell itself says what is wrong; the label shows what was given
    return value if isinstance(value, str) else describe(value)
