"""The Excel functions: ``=IMGOUT_FORECAST(2030, "Asia-Pacific")`` and family, as thin wrappers over the engine.

Classic Windows Excel calls them through xlwings (``UDF Modules`` = ``xl_addin.udfs`` on the workbook's
``xlwings.conf`` sheet, then "Import Python UDFs"; ``xl_addin.udfs`` re-exports this module); xlwings Lite
uses the same decorators. So this module stays pure Python over numpy/pandas: no processes, no sockets,
no command-line libraries.

Conventions shared by every function:

- Optional arguments may be omitted or point at an empty cell: both mean the default.
- Years are whole numbers (2030), dates (a date cell, ``DATE(2030,6,30)``) or date serials (47484).
  Numbers from 1900 to 9999 are years; larger numbers are Excel date serials.
- Member names are case-insensitive and take aliases (APAC, NA, US, CT, teleradiology ...).
- ``options`` is one ``Key=Value;Key=Value`` text or a range of such cells: Units=bn|mn, Dir=V|H,
  Header=Y|N, Status=Y, Total=Y, Currency=USD, Scenario=..., Region=..., Segment=..., and any assumption
  override (``cagr=0.1``, ``share.APAC=0.25``, ``driver.telemedicine=0.05``, ``basis=consensus``). Keys a
  function has no use for are ignored, so one options cell can serve a whole sheet.
- ``Status=Y`` appends each value's status in the words of :mod:`xl_addin.model.status` (``published``,
  ``interpolated total, assumed split``, ``projected (bull, override)`` ...), the same words as the
  command line, the workbook and the brief.
- Shares and growth rates are fractions (0.091 is 9.1 %); money is USD bn unless Units=mn.
- A bad input gives one line of text, ``#N/A Invalid region: 'Mars' (expected one of ...)``, never a
  traceback; an error shown by a referenced cell (``#DIV/0!``) is reported as such.

How cells become arguments lives in :mod:`.arguments`. The assumption file is the ``IMGOUT_ASSUMPTIONS``
environment variable, else the ``IMGOUT_ASSUMPTIONS`` setting of the user's xlwings config file
(``~/.xlwings/xlwings.conf``), else the embedded default. A changed file (or setting) is picked up at the
next recalculation. Answers are cached per function, keyed by the arguments and their types (a cache
built in C, see :func:`_answer`), so recalculating thousands of cells costs a lookup each.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlwings as xw

from ..errors import ImgoutError, InputError, InvalidArgument
from ..model import Entry, Market, headline_with_consensus, market_for
from ..model.assumptions import DIMENSIONS, normalise, resolve_dimension
from . import grid
from .arguments import (
    Options,
    argument_problem,
    cell_value,
    describe,
    fit_cell,
    flatten,
    invalid,
    options_of,
    year_of,
)
from .check import read_config

__all__ = [
    "ARGUMENT_DOCS",
    "CATEGORY",
    "CHECK_INTERVAL",
    "ENV_VAR",
    "ERROR_PREFIX",
    "FUNCTIONS",
    "IMGOUT_ASSUMPTION",
    "IMGOUT_BREAKDOWN",
    "IMGOUT_CAGR",
    "IMGOUT_CONSENSUS",
    "IMGOUT_ESTIMATES",
    "IMGOUT_FAN",
    "IMGOUT_FORECAST",
    "IMGOUT_INFO",
    "IMGOUT_LIST",
    "IMGOUT_SCENARIOS",
    "IMGOUT_SERIES",
    "IMGOUT_SHARE",
    "IMGOUT_SOURCE",
    "WIZARD_TEXTS",
    "answer_key",
    "assumption_path",
    "clear_cache",
    "current_market",
]

log = logging.getLogger(__name__)
_monotonic = time.monotonic

CATEGORY = "IMGOUT"
ERROR_PREFIX = "#N/A "
ENV_VAR = "IMGOUT_ASSUMPTIONS"
USER_CONFIG = os.path.join(os.path.expanduser("~"), ".xlwings", "xlwings.conf")

# One place for what the function wizard says about each argument.
ARGUMENT_DOCS: dict[str, str] = {
    "year": "Year: 2030, a date or a date serial (2010-2050).",
    "first_year": "First year of the table: 2020, a date or a date serial.",
    "last_year": "Last year of the table (at or after first_year).",
    "from_year": "Start year of the growth period, e.g. 2026.",
    "to_year": "End year of the growth period, after from_year, e.g. 2030.",
    "region": "Region or alias (North America, APAC, EU ...). Empty: the whole market.",
    "segment": "Service, modality or end user (Reporting, CT, Hospitals ...). Empty: all segments.",
    "scenario": "bear, base or bull (or a scenario of your assumption file). Empty: base.",
    "member": "Any member of any dimension (Asia-Pacific, CT, Hospitals; region:NA to be explicit).",
    "dimension": "region, service, modality or end user.",
    "percentile": "Monte Carlo percentile: 10, 50 or 90 (or 0.1, 0.5, 0.9). Empty: 50.",
    "options": "Key=Value;... e.g. Units=mn;Dir=H;Header=N;Status=Y;cagr=0.1 (text or a range).",
    "list_name": "region, service, modality, end user, scenarios, dimensions, drivers, sources, "
    "anchors, estimates, assumptions or functions.",
    "key": "Assumption key, e.g. anchors.horizon_size, cagr, share.APAC, drivers.telemedicine.growth.",
    "field": "What to return: value, label, kind, source, citation, note or key. Empty: value.",
    "reference": "An assumption key, anchor or source id (tbrc, nhs ...). Empty: the market's source.",
    "source_field": "What to return: citation, title, publisher, date, vintage, base_year, url or key. Empty: citation.",
    "info_field": (
        "version, hash, file, name, calibration, basis, headline (with the publishers' consensus beside it),"
        " years or units. Empty: the whole table."
    ),
    "statistic": "median, min, max, count, model, model_ratio, model_rank, in_span or excluded. Empty: median.",
}

_LISTS = ("scenarios", "dimensions", "drivers", "sources", "anchors", "estimates", "assumptions", "functions")


# ---------------------------------------------------------------------------------------------- the market


def _user_setting() -> str:
    """IMGOUT_ASSUMPTIONS from the xlwings user config file (``"KEY","VALUE"`` lines), re-read when it changes."""
    try:
        st = os.stat(USER_CONFIG)
    except OSError:
        return ""
    stamp = (st.st_mtime_ns, st.st_size)
    if _setting_cache.get("stamp") != stamp:
        try:  # a regular file only, read without blocking: a FIFO there must not hang every recalculation
            value = read_config(Path(USER_CONFIG))[0].get(ENV_VAR, "")
        except ImgoutError:
            value = ""
        _setting_cache.update(stamp=stamp, value=os.path.expandvars(value) if value else "")
    return str(_setting_cache["value"])


_setting_cache: dict[str, object] = {}


def assumption_path() -> str | None:
    """Where the functions read assumptions: IMGOUT_ASSUMPTIONS (environment, then xlwings.conf), or None."""
    return os.environ.get(ENV_VAR) or _user_setting() or None


def _assumption_stamp() -> tuple[str, int, int] | None:
    path = assumption_path()
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1)
    return (path, st.st_mtime_ns, st.st_size)


@dataclass
class _State:
    stamp: tuple[str, int, int] | None = None
    market: Market | None = None
    checked: float = -1e9
    #: How many answers were cached since the caches were last emptied (bounded by MAX_ANSWERS), and how
    #: many of them are errors (bounded by MAX_ERRORS).
    kept: int = 0
    errors: int = 0


_state = _State()
# answer_key(function, arguments) -> the answer Excel gets; emptied whenever the assumption file changes.
_results: dict[tuple[Any, ...], Any] = {}
# compute function -> its answers behind functools' C cache, keyed by the arguments and their types
# (typed=True); emptied with _results. Calls with a tuple argument are kept in _results instead.
_cached: dict[Callable[..., Any], Any] = {}
# How often the setting and the file are looked at again. A recalculation of thousands of cells takes
# less than this, so it stats once; a file saved, then Excel recalculated by hand, is always seen.
CHECK_INTERVAL = 0.25


def _fresh_results() -> dict[tuple[Any, ...], Any]:
    now = _monotonic()
    if now - _state.checked < CHECK_INTERVAL:
        return _results
    stamp = _assumption_stamp()
    _state.checked = now
    if stamp != _state.stamp:
        _forget_answers()
        _state.stamp = stamp
        _state.market = None
    return _results


def _forget_answers() -> None:
    _results.clear()
    for cache in _cached.values():
        cache.cache_clear()
    _state.kept = _state.errors = 0


def cached_answers() -> dict[str, int]:
    """How many answers each function keeps (by function name): what a recalculation is served from."""
    counts = {name: 0 for name in FUNCTIONS}
    for compute, cache in _cached.items():
        counts[_computes[compute]] += cache.cache_info().currsize
    for key in _results:
        counts[key[0]] += 1
    return counts


def current_market(overrides: str | None = None) -> Market:
    """The market the functions answer from (the assumption file's, with optional overrides)."""
    _fresh_results()
    return _market(overrides)


def _market(overrides: str | None) -> Market:
    path = _state.stamp[0] if _state.stamp else None
    if overrides:
        return market_for(path, overrides)
    if _state.market is None:
        _state.market = market_for(path)
    return _state.market


def clear_cache() -> None:
    """Forget every cached answer (the engine's own caches follow the assumption file anyway)."""
    _forget_answers()
    _state.stamp = None
    _state.market = None
    _state.checked = -1e9


# ---------------------------------------------------------------------------------------------- calling


def answer_key(function: Callable[..., Any], arguments: tuple[Any, ...]) -> tuple[Any, ...]:
    """The key a call with a tuple argument is cached under: the function's name, then each argument with
    its type, a tuple's cell by cell.

    Types matter because Python's equality is looser than Excel's: ``True == 1 == 1.0`` (with equal
    hashes), yet ``=IMGOUT_FAN(2030, TRUE)`` is an error and ``=IMGOUT_FAN(2030, 1)`` is P1, and an int
    from Excel is an error code (#SPILL!) where the same float is a number. Every other call is cached by
    functools' C cache with ``typed=True`` (the same rule for its arguments, built without a Python call per
    argument, which is what keeps a warm cell cheap); it types only the arguments themselves, and
    ``(True,) == (1,)``, so a call with a tuple (a range of option cells in a grid call, or a tuple from
    Python) is kept here instead.
    """
    return (function.__name__, *map(_typed, arguments))


def _typed(value: Any) -> tuple[Any, Any]:
    if isinstance(value, tuple):
        return (type(value), tuple(map(_typed, value)))
    return (type(value), value)


class _Uncached(Exception):
    """An answer that must not enter the C cache: a bug's one line, or a call with a tuple argument."""

    def __init__(self, answer: Any) -> None:
        super().__init__()
        self.answer = answer


def _computed(function: Callable[..., Any], compute: Callable[..., Any], arguments: tuple[Any, ...]) -> Any:
    """``compute(*arguments)``, or the one line a failure gives; a bug's line raises :class:`_Uncached`."""
    try:
        return compute(*arguments)
    except ImgoutError as exc:
        return ERROR_PREFIX + fit_cell(str(exc))  # fits a cell, whatever argument it quotes
    except Exception as exc:  # a bug: still one line in the cell, the details in the log, nothing cached
        name = function.__name__
        log.exception("%s failed", name)
        detail = " ".join(str(exc).split())[:200] or "unexpected problem"
        raise _Uncached(f"{ERROR_PREFIX}{name} could not compute this ({detail})") from None


def _cache_for(function: Callable[..., Any], compute: Callable[..., Any]) -> Any:
    """``compute`` behind a C cache keyed by the arguments and their types (only misses run this code)."""

    def answer(*arguments: Any) -> Any:
        if tuple in map(type, arguments):  # typed cell by cell, in _results; never in the C cache
            key = answer_key(function, arguments)
            found = _results.get(key, _MISS)
            if found is _MISS:
                found = _computed(function, compute, arguments)
                if _may_keep(found):
                    _results[key] = found
            raise _Uncached(found)
        found = _computed(function, compute, arguments)
        if not _may_keep(found):
            raise _Uncached(found)
        return found

    _computes[compute] = function.__name__
    cache = _cached[compute] = functools.lru_cache(maxsize=None, typed=True)(answer)
    return cache


_computes: dict[Callable[..., Any], str] = {}


def _answer(function: Callable[..., Any], compute: Callable[..., Any], *arguments: Any) -> Any:
    """``function``'s cached answer for ``arguments``, or ``compute(*arguments)``; a failure is one line of text.

    A warm cell is the hot path of a recalculation: a clock check, then one call of functools' C cache
    (``lru_cache(typed=True)``), whose key of arguments and types is built in C. Building that key in
    Python, a call per argument, cost a warm cell 30x a trivial call; see docs/performance.md."""
    if _monotonic() - _state.checked >= CHECK_INTERVAL:
        _fresh_results()
    cache = _cached.get(compute) or _cache_for(function, compute)
    try:
        found = cache(*arguments)
    except _Uncached as uncached:
        found = uncached.answer
    except TypeError:  # a range argument (a list) cannot be a key: a grid call, else answered uncached
        odd = next(
            filter(None, (argument_problem(n, a) for n, a in zip(_names(function), arguments, strict=False))),
            None,
        )
        if odd is not None:  # a dict, a set, a 3-D list: one line, never a recursion into the grid
            return ERROR_PREFIX + fit_cell(str(odd))
        if function.__name__ in _GRID_CALLS:
            return _grid(function, compute, arguments)
        try:
            found = _computed(function, compute, arguments)
        except _Uncached as uncached:
            found = uncached.answer
    if isinstance(found, tuple):  # a table: a fresh list of rows for each caller
        return [list(row) for row in found]
    return found


_MISS = object()
#: The most answers kept, and of them errors (100,000 distinct bad names must not grow Excel's Python by
#: hundreds of MB): beyond them the cache starts afresh, or the error is answered and not kept.
MAX_ANSWERS = 200_000
MAX_ERRORS = 10_000


def _may_keep(answer: Any) -> bool:
    """Whether to cache ``answer``: always, until :data:`MAX_ANSWERS` are kept (then every cache is emptied
    and starts afresh); an error only while fewer than :data:`MAX_ERRORS` are kept."""
    if _state.kept >= MAX_ANSWERS:
        _forget_answers()
    if isinstance(answer, str) and answer.startswith(ERROR_PREFIX):
        if _state.errors >= MAX_ERRORS:
            return False
        _state.errors += 1
    _state.kept += 1
    return True


@functools.cache
def _names(function: Callable[..., Any]) -> tuple[str, ...]:
    """The argument names of an Excel function, as its errors name them."""
    return tuple(inspect.signature(function).parameters)


def _grid(function: Callable[..., Any], compute: Callable[..., Any], arguments: tuple[Any, ...]) -> Any:
    """A call with range arguments: the table of single answers (:mod:`.grid`), or one line for the call."""
    names, ranged, corner = _GRID_CALLS[function.__name__]
    # A range of option cells becomes a tuple, so that every cell's call is cached like a single call.
    arguments = tuple(
        tuple(flatten(value)) if name == "options" and grid.is_range(value) else value
        for name, value in zip(names, arguments, strict=True)
    )
    call = grid.GridCall(names, ranged, lambda *cell: _answer(function, compute, *cell), corner)
    try:
        opts = options_of(arguments[names.index("options")])
        return grid.answer(call, arguments, opts, _market(opts.overrides))
    except ImgoutError as exc:
        return ERROR_PREFIX + fit_cell(str(exc))
    except Exception as exc:  # a bug: one line in the cell, the details in the log
        log.exception("%s failed on a range", function.__name__)
        detail = " ".join(str(exc).split())[:200] or "unexpected problem"
        return f"{ERROR_PREFIX}{function.__name__} could not compute this ({detail})"


# Function name -> (argument names, the arguments that take ranges, the header's corner text).
_GRID_CALLS: dict[str, tuple[tuple[str, ...], frozenset[str], Callable[[Options], str]]] = {}


def _table(rows: list[list[Any]]) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(row) for row in rows)


def _layout(rows: list[list[Any]], opts: Options, header_default: bool = True) -> list[list[Any]]:
    """Drop the header row if asked, then transpose for Dir=H."""
    header = header_default if opts.header is None else opts.header
    if not header:
        rows = rows[1:]
    if opts.horizontal and rows:  # None (not given) is down
        rows = [list(col) for col in zip(*rows, strict=True)]
    return rows


def _amount(market: Market, value_bn: float, opts: Options) -> float:
    """An amount in the units the options ask for, a size the publication printed as printed
    (:meth:`Market.as_published`): every money cell goes through here."""
    return market.as_published(value_bn, opts.units) * opts.factor


def _scope(
    options: object, region: object, segment: object, scenario: object = None
) -> tuple[Options, Market, Any, Any, Any]:
    """The parsed options, the market they ask for, then region, segment and scenario: each the cell's
    argument, or when that is empty the options key of the same name."""
    opts = options_of(options)
    market = _market(opts.overrides)
    region, segment = opts.choose("region", region), opts.choose("segment", segment)
    return opts, market, region, segment, opts.choose("scenario", scenario)


def _period(
    market: Market, first: tuple[object, str], last: tuple[object, str], *, same_year: bool
) -> tuple[int, int]:
    """Two years (value, argument name) in order: the last after the first, or also equal to it."""
    (first_value, first_name), (last_value, last_name) = first, last
    start, end = year_of(market, first_value, first_name), year_of(market, last_value, last_name)
    if end < start or (end == start and not same_year):
        order = "at or after" if same_year else "after"
        raise invalid(last_name, str(end), f"a year {order} {first_name} {start}")
    return start, end


def _excel_function(
    *,
    volatile: bool = False,
    docs: dict[str, str] | None = None,
    ranges: tuple[str, ...] = (),
    corner: Callable[[Options], str] = lambda opts: "",
) -> Callable[[Any], Any]:
    """Register a function with Excel: category IMGOUT, a doc for every argument, cell errors as text.

    ``ranges`` names the arguments that also take a row or column (a grid call, :mod:`.grid`): xlwings
    hands them over with ``ndim="natural"`` (one cell stays a value, a column stays a column) and the
    wizard says so; ``corner`` is the top-left text of such a table with ``Header=Y``.
    """

    def register(function: Any) -> Any:
        names = tuple(inspect.signature(function).parameters)
        texts = WIZARD_TEXTS.setdefault(function.__name__, {})
        for name in names:
            doc = (docs or {}).get(name) or ARGUMENT_DOCS[name]
            if name in ranges:
                texts[name] = doc + grid.RANGE_DOC
                function = xw.arg(name, doc=texts[name], err_to_str=True, ndim="natural")(function)
            else:
                texts[name] = doc
                function = xw.arg(name, doc=doc, err_to_str=True)(function)
        function = xw.func(category=CATEGORY, volatile=volatile)(function)
        FUNCTIONS[function.__name__] = function
        if ranges:
            _GRID_CALLS[function.__name__] = (names, frozenset(ranges), corner)
        return function

    return register


FUNCTIONS: dict[str, Callable[..., Any]] = {}
"""Every Excel function of this module by name, in the order they are defined."""

WIZARD_TEXTS: dict[str, dict[str, str]] = {}
"""What the function wizard says about each argument, by function and argument: the texts given to xlwings,
which the docs' function reference also shows."""


# ---------------------------------------------------------------------------------------------- functions


@_excel_function(ranges=("year", "region", "segment", "scenario"), corner=lambda opts: opts.unit_label)
def IMGOUT_FORECAST(year, region=None, segment=None, scenario=None, options=None):
    """Market size in a year (USD bn), optionally for a region, a segment, a scenario. Ranges give a table: years across, regions down."""
    return _answer(IMGOUT_FORECAST, _forecast, year, region, segment, scenario, options)


def _forecast(year: object, region: object, segment: object, scenario: object, options: object) -> Any:
    opts, market, region, segment, scenario = _scope(options, region, segment, scenario)
    y = year_of(market, year)
    if not opts.status:
        return _amount(market, market.forecast(y, region, segment, scenario), opts)
    point = market.point(y, region, segment, scenario)
    pair = [_amount(market, point.value, opts), point.status]
    return _table([[v] for v in pair] if opts.horizontal is False else [pair])  # a row unless Dir=V


@_excel_function()
def IMGOUT_SERIES(first_year, last_year, region=None, segment=None, scenario=None, options=None):
    """Market size for every year from first_year to last_year: a table of year, value and growth."""
    return _answer(IMGOUT_SERIES, _series, first_year, last_year, region, segment, scenario, options)


def _series(
    first_year: object, last_year: object, region: object, segment: object, scenario: object, options: object
) -> Any:
    opts, market, region, segment, scenario = _scope(options, region, segment, scenario)
    first, last = _period(market, (first_year, "first_year"), (last_year, "last_year"), same_year=True)
    start = max(first - 1, market.first_year)
    points = market.series(start, last, region, segment, scenario)
    header: list[Any] = ["year", f"value ({opts.unit_label})", "growth"] + (["status"] if opts.status else [])
    rows = [header]
    previous = None
    for p in points:
        if p.year >= first:
            growth = "" if previous is None else p.value / previous - 1
            rows.append(
                [p.year, _amount(market, p.value, opts), growth] + ([p.status] if opts.status else [])
            )
        previous = p.value
    return _table(_layout(rows, opts))


@_excel_function(ranges=("from_year", "to_year", "region", "segment", "scenario"), corner=lambda opts: "CAGR")
def IMGOUT_CAGR(from_year, to_year, region=None, segment=None, scenario=None, options=None):
    """Compound annual growth from one year to a later one, as a fraction (0.091 shows as 9.1 %). Ranges give a table."""
    return _answer(IMGOUT_CAGR, _cagr, from_year, to_year, region, segment, scenario, options)


def _cagr(
    from_year: object, to_year: object, region: object, segment: object, scenario: object, options: object
) -> Any:
    _, market, region, segment, scenario = _scope(options, region, segment, scenario)
    first, last = _period(market, (from_year, "from_year"), (to_year, "to_year"), same_year=False)
    return market.cagr(first, last, region, segment, scenario)


@_excel_function(ranges=("year", "member", "scenario"), corner=lambda opts: "share")
def IMGOUT_SHARE(year, member, scenario=None, options=None):
    """A member's share of the market in a year, as a fraction; the member may be of any dimension. Ranges give a table."""
    return _answer(IMGOUT_SHARE, _share, year, member, scenario, options)


def _share(year: object, member: object, scenario: object, options: object) -> Any:
    opts = options_of(options)
    market = _market(opts.overrides)
    member = cell_value(member, "member")
    if member is None:
        raise invalid(
            "member", "an empty value", "a region, service, modality or end-user member such as APAC"
        )
    return market.share(year_of(market, year), member, opts.choose("scenario", scenario))


@_excel_function()
def IMGOUT_BREAKDOWN(year, dimension, scenario=None, options=None):
    """Every member of a dimension in a year: a table of member, value, share and CAGR (2026-2030)."""
    return _answer(IMGOUT_BREAKDOWN, _breakdown, year, dimension, scenario, options)


def _breakdown(year: object, dimension: object, scenario: object, options: object) -> Any:
    opts = options_of(options)
    market = _market(opts.overrides)
    dimension = cell_value(dimension, "dimension")
    if dimension is None:
        raise InvalidArgument("dimension", "", DIMENSIONS)
    y = year_of(market, year)
    scenario = opts.choose("scenario", scenario)
    rows_out = market.breakdown(y, dimension, scenario, opts.region)
    dim = market.dimension(dimension)
    period = f"CAGR {market.next_year}-{market.horizon_year}"
    rows: list[list[Any]] = [
        [market.assumptions.dimensions[dim].label, f"value ({opts.unit_label})", "share", period]
    ]
    rows[0] += ["status"] if opts.status else []
    for r in rows_out:
        rows.append(
            [r.member, _amount(market, r.value, opts), r.share, r.cagr] + ([r.status] if opts.status else [])
        )
    if opts.total:
        total = sum(r.value for r in rows_out)
        growth = market.cagr(market.next_year, market.horizon_year, opts.region, None, scenario)
        status = [market.status(y, scenario, opts.region)] if opts.status else []
        rows.append(["Total", _amount(market, total, opts), 1.0, growth, *status])
    return _table(_layout(rows, opts))


@_excel_function()
def IMGOUT_SCENARIOS(first_year, last_year, region=None, segment=None, options=None):
    """Market size for every year and every scenario: a table of years x scenarios (bear, base, bull ...)."""
    return _answer(IMGOUT_SCENARIOS, _scenarios, first_year, last_year, region, segment, options)


def _scenarios(
    first_year: object, last_year: object, region: object, segment: object, options: object
) -> Any:
    opts, market, region, segment, _ = _scope(options, region, segment)
    first, last = _period(market, (first_year, "first_year"), (last_year, "last_year"), same_year=True)
    table = market.scenarios(first, last, region, segment)
    rows: list[list[Any]] = [["year", *market.scenario_names]]
    rows += [[y, *(_amount(market, values[s], opts) for s in market.scenario_names)] for y, values in table]
    return _table(_layout(rows, opts))


@_excel_function(ranges=("year", "percentile", "region", "segment"), corner=lambda opts: opts.unit_label)
def IMGOUT_FAN(year, percentile=50, region=None, segment=None, options=None):
    """A Monte Carlo percentile of the base-scenario market size in a year (P10, P50, P90), USD bn. Ranges give a table."""
    return _answer(IMGOUT_FAN, _fan, year, percentile, region, segment, options)


def _fan(year: object, percentile: object, region: object, segment: object, options: object) -> Any:
    opts, market, region, segment, _ = _scope(options, region, segment)
    y = year_of(market, year)
    p = cell_value(percentile, "percentile")
    if p is None:
        p = 50.0
    if isinstance(p, str):
        text = p.upper().removeprefix("P").removesuffix("%").strip()
        try:
            p = float(text)
        except ValueError:
            raise InvalidArgument(
                "percentile", p, "a number between 0 and 100 such as 10, 50 or 90"
            ) from None
    if isinstance(p, int | float) and not isinstance(p, bool) and 0 < p < 1:
        p = p * 100  # Excel's PERCENTILE style: 0.9 is P90
    return _amount(market, market.fan(y, p, region, segment), opts)


@_excel_function()
def IMGOUT_ESTIMATES(year, options=None):
    """Every publisher's estimate of the market in a year: a table of publisher, value, status and source."""
    return _answer(IMGOUT_ESTIMATES, _estimates, year, options)


def _estimates(year: object, options: object) -> Any:
    opts = options_of(options)
    market = _market(opts.overrides)
    y = year_of(market, year)
    rows: list[list[Any]] = [["publisher", f"value ({opts.unit_label})", "status", "source"]]
    rows += [
        [e.publisher, _amount(market, e.value, opts), e.status, e.source.citation()]
        for e in market.estimates(y)
    ]
    return _table(_layout(rows, opts))


#: What =IMGOUT_CONSENSUS can return: statistic name -> (attribute of Consensus, whether it is money).
_STATISTICS = {
    "median": ("median", True),
    "min": ("minimum", True),
    "minimum": ("minimum", True),
    "max": ("maximum", True),
    "maximum": ("maximum", True),
    "count": ("count", False),
    "model": ("model", True),
    "modelratio": ("model_ratio", False),
    "ratio": ("model_ratio", False),
    "modelrank": ("model_rank", False),
    "rank": ("model_rank", False),
    "inspan": ("in_span", False),
    "excluded": ("excluded", False),
}
_STATISTIC_NAMES = (
    "median",
    "min",
    "max",
    "count",
    "model",
    "model_ratio",
    "model_rank",
    "in_span",
    "excluded",
)


@_excel_function()
def IMGOUT_CONSENSUS(year, statistic=None, options=None):
    """The publishers' consensus in a year: the median estimate (USD bn), or min, max, count, model_ratio."""
    return _answer(IMGOUT_CONSENSUS, _consensus, year, statistic, options)


def _consensus(year: object, statistic: object, options: object) -> Any:
    opts = options_of(options)
    market = _market(opts.overrides)
    wanted = cell_value(statistic, "statistic") or "median"
    found = _STATISTICS.get(normalise(wanted)) if isinstance(wanted, str) else None
    if found is None:
        raise InvalidArgument("statistic", wanted, _STATISTIC_NAMES)
    attribute, is_money = found
    y = year_of(market, year)
    value = getattr(market.consensus(y), attribute)
    return _amount(market, value, opts) if is_money else value


@_excel_function(docs={"field": ARGUMENT_DOCS["field"]})
def IMGOUT_ASSUMPTION(key, field="value"):
    """One assumption of the model: its value (or label, kind, source, citation, note)."""
    return _answer(IMGOUT_ASSUMPTION, _assumption, key, field)


_ASSUMPTION_FIELDS = ("value", "label", "kind", "source", "citation", "note", "key")


def _assumption(key: object, field: object) -> Any:
    market = _market(None)
    entry = _find_entry(market, cell_value(key, "key"))
    wanted = cell_value(field, "field") or "value"
    if not isinstance(wanted, str) or wanted.casefold() not in _ASSUMPTION_FIELDS:
        raise InvalidArgument("field", wanted, _ASSUMPTION_FIELDS)
    wanted = wanted.casefold()
    if wanted == "value":
        return _entry_value(market, entry)
    if wanted == "citation":
        source = market.assumptions.sources.get(entry.source)
        return source.citation() if source else entry.source
    return str(getattr(entry, wanted))


def _entry_value(market: Market, entry: Entry) -> float:
    """An entry's value; one the file leaves null is the value the model uses (``Market.null_meaning``)."""
    if entry.value is not None:
        return entry.value
    null = market.null_meaning(entry.key)
    if null is None:
        raise invalid("key", repr(entry.key), "an assumption with a value")
    if null.value is None:
        raise InputError(f"{entry.key} has no value: {null.meaning}")
    return null.value


_SHORT_KEYS = {"cagr": "anchors.forecast_cagr", "forecastcagr": "anchors.forecast_cagr"}


def _entry_lookup(market: Market) -> dict[str, Entry]:
    lookup: dict[str, Entry] = {}
    entries = market.assumptions.entries()
    for e in entries:
        lookup[normalise(e.key)] = e
    for e in entries:  # short forms: horizon_size, backcast_growth, telemedicine, bear.telemedicine
        parts = e.key.split(".")
        if parts[0] in ("anchors", "extension"):
            lookup.setdefault(normalise(parts[1]), e)
            lookup.setdefault(normalise(e.label), e)
        elif parts[0] == "drivers":
            lookup.setdefault(normalise(parts[1]), e)
        elif parts[0] == "scenarios":
            lookup.setdefault(normalise(".".join(parts[1:])), e)
    for short, full in _SHORT_KEYS.items():
        lookup.setdefault(short, lookup[normalise(full)])
    return lookup


def _find_entry(market: Market, key: object) -> Entry:
    hint = "a key such as anchors.horizon_size, cagr, share.APAC or drivers.telemedicine.growth"
    if not isinstance(key, str):
        raise invalid("assumption key", "an empty value" if key is None else describe(key), hint)
    lookup = _entry_lookup(market)
    found = lookup.get(normalise(key))
    if found is not None:
        return found
    head, _, rest = key.partition(".")
    if normalise(head) in ("share", "growth") and rest:
        dim, member = market.find_member(rest)
        return lookup[normalise(f"dimensions.{dim}.{member}.{normalise(head)}")]
    keys = [e.key for e in market.assumptions.entries()]
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    tail = f"; did you mean {close[0]!r}?" if close else '; =IMGOUT_LIST("assumptions") lists them all'
    raise InputError(f"Invalid assumption key: {key!r} (expected {hint}){tail}")


@_excel_function(docs={"field": ARGUMENT_DOCS["source_field"]})
def IMGOUT_SOURCE(reference=None, field="citation"):
    """Where a figure comes from: the citation of an assumption key, an anchor or a source id."""
    return _answer(IMGOUT_SOURCE, _source, reference, field)


_SOURCE_FIELDS = ("citation", "title", "publisher", "date", "vintage", "base_year", "url", "key")


def _source(reference: object, field: object) -> Any:
    market = _market(None)
    sources = market.assumptions.sources
    ref = cell_value(reference, "reference")
    if ref is None:
        key = market.assumptions.anchors["horizon_size"].source
    else:
        by_id = {normalise(k): k for k in sources}
        if isinstance(ref, str) and normalise(ref) in by_id:
            key = by_id[normalise(ref)]
        else:
            try:
                key = _find_entry(market, ref).source
            except ImgoutError:
                raise invalid(
                    "reference",
                    describe(ref),
                    f"an assumption key, an anchor or a source id ({', '.join(sources)})",
                ) from None
    wanted = cell_value(field, "field") or "citation"
    if not isinstance(wanted, str) or wanted.casefold() not in _SOURCE_FIELDS:
        raise InvalidArgument("field", wanted, _SOURCE_FIELDS)
    source, wanted = sources[key], wanted.casefold()
    if wanted == "citation":
        return source.citation()
    if wanted in ("vintage", "base_year"):  # a year, or words where the page does not say it
        year = getattr(source, wanted)
        return "not stated" if year is None else year
    return str(getattr(source, wanted))


@_excel_function(docs={"dimension": ARGUMENT_DOCS["list_name"]})
def IMGOUT_LIST(dimension, options=None):
    """The members of a dimension (or the scenarios, dimensions, drivers, sources ...) as a column."""
    return _answer(IMGOUT_LIST, _list, dimension, options)


def _list(dimension: object, options: object) -> Any:
    opts = options_of(options)
    market = _market(opts.overrides)
    name = cell_value(dimension, "dimension")
    allowed = f"one of {', '.join(DIMENSIONS)}, {', '.join(_LISTS)}"
    if not isinstance(name, str):
        raise invalid("dimension", "an empty value" if name is None else describe(name), allowed)
    wanted = normalise(name)
    a = market.assumptions
    items: Sequence[str]
    if wanted == "scenarios" or wanted == "scenario":
        items, label = market.scenario_names, "scenario"
    elif wanted in ("dimensions", "dimension"):
        items, label = DIMENSIONS, "dimension"
    elif wanted in ("drivers", "driver"):
        items, label = tuple(a.drivers), "driver"
    elif wanted in ("sources", "source"):
        items, label = tuple(a.sources), "source"
    elif wanted in ("anchors", "anchor"):
        items, label = tuple(a.anchors), "anchor"
    elif wanted in ("estimates", "estimate", "publishers"):
        items, label = tuple(a.estimates), "estimate"
    elif wanted in ("assumptions", "assumption", "keys"):
        items, label = tuple(e.key for e in a.entries()), "assumption"
    elif wanted in ("functions", "function"):
        items, label = tuple(FUNCTIONS), "function"
    else:
        try:
            dim = resolve_dimension(name)
        except ImgoutError:
            raise invalid("dimension", repr(name), allowed) from None
        items, label = a.dimensions[dim].names, a.dimensions[dim].label
    return _table(_layout([[label], *([item] for item in items)], opts, header_default=False))


@_excel_function(volatile=True, docs={"field": ARGUMENT_DOCS["info_field"]})
def IMGOUT_INFO(field=None):
    """Model version, assumption hash and file, and the calibration against the published figures."""
    return _answer(IMGOUT_INFO, _info, field)


def _basis_text(market: Market) -> str:
    """What the total follows, in words: the model's calibrated path, the consensus median or a publisher."""
    if market.basis == market.default_basis:
        return f"{market.basis} (the calibrated path of {market.assumptions.publication.publisher})"
    if market.basis == "consensus":
        return f"consensus (the median of {len(market.assumptions.estimates)} publishers' estimates)"
    return f"{market.basis} ({market.assumptions.estimates[market.basis].publisher}'s published path)"


def _info(field: object) -> Any:
    market = _market(None)
    a = market.assumptions
    residuals = market.calibration.residuals
    reproduced = sum(r.reproduced for r in residuals)
    path = assumption_path()
    if os.environ.get(ENV_VAR):
        where = f"{ENV_VAR} environment variable"
    elif path:
        where = f"{ENV_VAR} in {USER_CONFIG}"
    else:
        where = "embedded default (set IMGOUT_ASSUMPTIONS to use your own file)"
    facts = {
        "version": ("model version", market.version),
        "hash": ("assumption hash", market.assumption_hash),
        "name": ("assumption set", a.name),
        "file": ("assumption file", path or a.origin),
        "setting": ("assumption setting", where),
        "years": ("years", f"{market.first_year}-{market.last_year}"),
        "units": ("units", "USD bn; shares and growth as fractions"),
        "calibration": ("calibration", f"{reproduced} of {len(residuals)} published figures reproduced"),
        "basis": ("basis", _basis_text(market)),
        # The line every face prints where the headline stands (xl_addin.model.headline).
        "headline": ("headline", headline_with_consensus(market, market.horizon_year)),
    }
    field = cell_value(field, "field")
    if field is not None:
        field = field.casefold() if isinstance(field, str) else field
        if not isinstance(field, str) or field not in facts:
            raise InvalidArgument("field", field, tuple(facts))
        return facts[field][1]
    rows: list[list[Any]] = [["item", "value"], *([label, value] for label, value in facts.values())]
    for r in residuals:
        verdict = "reproduced" if r.reproduced else "NOT reproduced"
        rows.append(
            [f"anchor: {r.anchor.label}", f"published {r.anchor.value:g}, model {r.modelled:.6g}, {verdict}"]
        )
    return _table(rows)
