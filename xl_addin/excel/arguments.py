"""What a cell hands to an IMGOUT_* function, turned into an argument the engine understands.

Excel passes plain values through xlwings: floats (Excel has no integers), text, booleans, None for an
empty cell or ``=""``, datetimes for date cells, lists for ranges, and an Excel error value (``#DIV/0!``)
as its text or as pywin32's error code. This module turns them into arguments:

- :func:`cell_value`: one argument as a plain value (None for empty), or a one-line error naming the
  argument when the cell shows an error or a range of several cells was given;
- :func:`year_of`: a year from a number (2030), a date or a date serial (47484), inside the model's range;
- :func:`options_of`: the ``options`` argument (``Units=mn;Dir=H;cagr=0.1``, text or a range) as
  :class:`Options`, cached by its text.

Every error is an :class:`~xl_addin.errors.InputError` whose message says what was given and what is
allowed; the functions show it in the cell as ``#N/A <message>``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..common.formats import UNIT_FACTORS, UNIT_LABELS
from ..errors import CellError, InputError, InvalidArgument
from ..model import Market, parse_overrides
from ..model.assumptions import normalise

# Numbers from 1900 to 9999 are years; from 10000 (1927-05-18) to Excel's last date they are date serials.
FIRST_SERIAL_YEAR_NUMBER = 10_000
LAST_EXCEL_SERIAL = 2_958_465  # 9999-12-31
_EXCEL_EPOCH = _dt.datetime(1899, 12, 30)

# Excel's error values as they reach Python: pywin32 hands over VT_ERROR as an int (xlErr code - 2000
# offset from #NULL!); xlwings' err_to_str turns the classic seven into their text.
_ERROR_BASE = -2146826288
_ERROR_CODES = {
    2000: "#NULL!",
    2007: "#DIV/0!",
    2015: "#VALUE!",
    2023: "#REF!",
    2029: "#NAME?",
    2036: "#NUM!",
    2042: "#N/A",
    2043: "#GETTING_DATA",
    2045: "#SPILL!",
    2046: "#CONNECT!",
    2047: "#BLOCKED!",
    2048: "#UNKNOWN!",
    2049: "#FIELD!",
    2050: "#CALC!",
    2051: "#BUSY!",
}
_ERROR_TEXTS = frozenset(_ERROR_CODES.values())
_NOT_PLAIN = frozenset(" #\t\n")


#: The longest text an error puts in a cell (Excel's limit is 32,767; a longer message helps nobody).
ERROR_TEXT_LIMIT = 1_000


def describe(value: object) -> str:
    """A value as an error message shows it: ``2030`` for 2030.0, a date as ``2030-06-30``, else repr (cut
    to 100 characters)."""
    if isinstance(value, float) and value.is_integer():
        return repr(int(value))
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d")
    text = repr(value)
    return text if len(text) <= 100 else text[:99] + "…"


def fit_cell(text: str, limit: int = ERROR_TEXT_LIMIT) -> str:
    """One line of at most ``limit`` characters, cut with an ellipsis: what an error shows in a cell."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def invalid(argument: str, given: str, allowed: str) -> InputError:
    """``Invalid <argument>: <given> (expected <allowed>)``."""
    return InputError(f"Invalid {argument}: {given} (expected {allowed})")


def cell_value(value: object, argument: str) -> object:
    """One argument as a plain value: None for empty, an error for a cell error or a multi-cell range."""
    if value is None:
        return None
    if value.__class__ is str and value and value[0] not in _NOT_PLAIN and value[-1] != " ":
        return value  # the common case, checked first: plain text
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text in _ERROR_TEXTS:
            raise CellError(f"Invalid {argument}: the referenced cell shows {text} (fix that cell first)")
        return text
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value - _ERROR_BASE <= 60:
        code = _ERROR_CODES.get(value - _ERROR_BASE + 2000, "an error")
        raise CellError(f"Invalid {argument}: the referenced cell shows {code} (fix that cell first)")
    if isinstance(value, list | tuple):
        cells = [c for c in flatten(value) if c is not None and c != ""]
        if len(cells) == 1:
            return cell_value(cells[0], argument)
        raise invalid(argument, f"a range of {len(flatten(value))} cells", "a single value or one cell")
    return value


#: What one cell can hand over: a number, a text, TRUE/FALSE, an empty cell, a date (xlwings: a datetime).
_CELL_TYPES = (str, int, float, type(None), _dt.date)


def argument_problem(argument: str, value: object) -> InputError | None:
    """Why ``value`` is not something Excel can pass (a cell value, or a range: rows of cell values, at
    most two dimensions), as the error the cell shows; None when it is. xlwings never hands over a dict,
    a set or a 3-D list, but Python callers (and xlwings Lite) can."""
    if isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, list | tuple):
                for cell in item:
                    if isinstance(cell, list | tuple):
                        return invalid(
                            argument, "a range of more than two dimensions", "a value or a range of cells"
                        )
                    if not isinstance(cell, _CELL_TYPES):
                        return _not_a_cell(argument, cell)
            elif not isinstance(item, _CELL_TYPES):
                return _not_a_cell(argument, item)
        return None
    return None if isinstance(value, _CELL_TYPES) else _not_a_cell(argument, value)


def _not_a_cell(argument: str, value: object) -> InputError:
    kind = type(value).__name__
    return invalid(argument, f"a {kind} ({describe(value)})", "a number, a text, a date or a range of cells")


def flatten(value: Iterable[Any]) -> list[Any]:
    """The cells of a range (nested lists or tuples), row by row."""
    out: list[Any] = []
    for item in value:
        if isinstance(item, list | tuple):
            out.extend(flatten(item))
        else:
            out.append(item)
    return out


def year_of(market: Market, value: object, argument: str = "year") -> int:
    """A year from a number, a date or a date serial, inside the model's range."""
    if value.__class__ is float and market.first_year <= value <= market.last_year and value.is_integer():
        return int(value)  # the common case: Excel's 2030.0
    value = cell_value(value, argument)
    span = f"a year from {market.first_year} to {market.last_year}, a date or a date serial"
    if value is None:
        raise invalid(argument, "an empty value", span)
    if isinstance(value, str):
        return _year_from_text(market, value, argument, span)
    if isinstance(value, _dt.date):
        return market.year(value.year, argument)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _year_from_number(market, value, argument, span)
    raise invalid(argument, describe(value), span)


def _year_from_text(market: Market, text: str, argument: str, span: str) -> int:
    """``"2030"`` or ``"2030-06-30"`` (a number typed as text, or an ISO date)."""
    try:
        number = float(text)
    except ValueError:
        try:
            return market.year(_dt.date.fromisoformat(text).year, argument)
        except ValueError:
            raise invalid(argument, repr(text), span) from None
    return _year_from_number(market, number, argument, span, shown=text)


def _year_from_number(market: Market, number: float, argument: str, span: str, shown: object = None) -> int:
    """A whole year number, or a date serial; ``shown`` is what the message quotes (the text typed)."""
    shown = number if shown is None else shown
    if FIRST_SERIAL_YEAR_NUMBER <= number <= LAST_EXCEL_SERIAL:
        date = _EXCEL_EPOCH + _dt.timedelta(days=int(number))
        if not market.first_year <= date.year <= market.last_year:
            raise invalid(argument, f"{describe(shown)} (the date {date:%Y-%m-%d})", span)
        return date.year
    if isinstance(number, float) and not number.is_integer():
        raise invalid(argument, describe(shown), span)
    if not market.first_year <= number <= market.last_year:
        raise invalid(argument, describe(shown), span)
    return int(number)


# ---------------------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    """The parsed ``options`` argument."""

    units: str = "bn"
    horizontal: bool | None = None
    header: bool | None = None
    status: bool = False
    total: bool = False
    scenario: str | None = None
    region: str | None = None
    segment: str | None = None
    overrides: str | None = None

    def choose(self, argument: str, given: object) -> object:
        """An argument of the cell wins; empty, the ``options`` key of the same name applies.

        Only an empty cell is "not given": 0 or FALSE as a region is a wrong region, not the whole market.
        """
        value = cell_value(given, argument)
        return getattr(self, argument) if value is None else value

    @property
    def factor(self) -> float:
        """Multiplier from USD bn to the chosen units."""
        return UNIT_FACTORS[self.units]

    @property
    def unit_label(self) -> str:
        """USD bn or USD mn."""
        return UNIT_LABELS[self.units]


DEFAULT_OPTIONS = Options()
OPTION_HELP = "Key=Value pairs separated by ';', e.g. Units=mn;Dir=H;Header=N;Status=Y;cagr=0.1"

_YES = frozenset({"y", "yes", "true", "1", "on"})
_NO = frozenset({"n", "no", "false", "0", "off"})
_UNITS = {
    "bn": "bn",
    "billion": "bn",
    "billions": "bn",
    "b": "bn",
    "mn": "mn",
    "million": "mn",
    "millions": "mn",
    "m": "mn",
}
_DIRECTIONS = {"v": False, "vertical": False, "down": False, "h": True, "horizontal": True, "across": True}
_FLAGS = {"header": "header", "headers": "header", "status": "status", "total": "total", "totals": "total"}
_parsed_options: dict[object, Options] = {}


def options_of(value: object) -> Options:
    """Parse ``options`` (text or a range of texts); cached by its text."""
    if value is None or value == "":
        return DEFAULT_OPTIONS
    key = tuple(flatten(value)) if isinstance(value, list | tuple) else value
    try:
        return _parsed_options[key]
    except (KeyError, TypeError):
        pass
    parsed = _parse_options(key if isinstance(key, tuple) else (key,))
    if len(_parsed_options) > 4096:
        _parsed_options.clear()
    _parsed_options[key] = parsed
    return parsed


def _parse_options(cells: Sequence[object]) -> Options:
    fields: dict[str, Any] = {}
    overrides: list[str] = []
    for cell in cells:
        cell = cell_value(cell, "options")
        if cell is None:
            continue
        if not isinstance(cell, str):
            raise invalid("options", describe(cell), OPTION_HELP)
        for part in cell.replace("\n", ";").split(";"):
            if part.strip():
                _parse_pair(part, fields, overrides)
    if overrides:
        parse_overrides("; ".join(overrides))  # malformed values fail here, with the key named
        fields["overrides"] = "; ".join(overrides)
    return Options(**fields)


def _parse_pair(part: str, fields: dict[str, Any], overrides: list[str]) -> None:
    """One ``Key=Value``: a layout key into ``fields``, anything else is an assumption override."""
    name, sep, raw = part.partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name or not raw:
        raise invalid("options", repr(part.strip()), OPTION_HELP)
    key = normalise(name)
    if key in ("units", "unit"):
        if normalise(raw) not in _UNITS:
            raise InvalidArgument("Units option", raw, ["bn", "mn"])
        fields["units"] = _UNITS[normalise(raw)]
    elif key in ("dir", "direction", "orientation"):
        if raw.casefold() not in _DIRECTIONS:
            raise InvalidArgument("Dir option", raw, "V (down) or H (across)")
        fields["horizontal"] = _DIRECTIONS[raw.casefold()]
    elif key in _FLAGS:
        flag = raw.casefold()
        if flag not in _YES and flag not in _NO:
            raise InvalidArgument(f"{name} option", raw, "Y or N")
        fields[_FLAGS[key]] = flag in _YES
    elif key in ("currency", "ccy"):
        if raw.upper() != "USD":
            raise InvalidArgument("Currency option", raw, "USD (the published figures are in US dollars)")
    elif key in ("scenario", "region", "segment"):
        fields[key] = raw
    else:
        overrides.append(f"{name}={raw}")
