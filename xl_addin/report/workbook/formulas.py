"""The engine's equations in Excel syntax, each beside the engine function it mirrors.

Every output of a client workbook is a live formula that must recompute, in Excel or LibreOffice, what
:class:`~xl_addin.model.market.Market` computes in Python. Each function here returns a
:class:`Formula`: the Excel text and the result to store with it, taken from the engine function named in
its docstring, so the two sit side by side. When the engine's equation changes, the formula beside it
must change too; the LibreOffice tests (a recalculated workbook gives back every stored result) fail until
it does. Sheet modules place formulas; none spells an engine equation itself.

The formulas use the defined names of the Inputs sheet (``BaseSize``, ``NextSize``, ``ForecastGrowth``,
``BackcastGrowth``, ``ExtrapolationGrowth``, ``BaseYear``, ``NextYear``, ``HorizonYear``, ``UnitFactor``,
``Share_<dimension>``, ``RelGrowth_<dimension>``, ``Scenario``) and of the Scenarios sheet
(``ScenarioNames``, ``ScenarioGrowths``, ``SelectedGrowth``, ``StatusQualifier``). Only functions that
Excel 2010, LibreOffice and Gnumeric all compute alike are used (INDEX/MATCH, SUMPRODUCT, SUM, IF, AND,
ISNUMBER, MIN, MAX, ABS): no dynamic arrays, and ``INDEX`` always with both a row and a column number
(Gnumeric answers ``#REF!`` to ``INDEX(one-row range, n)``).

Calculation sheets run time across the columns, and each row holds one formula copied across: the
functions that give a value by year take the year from a cell of the timeline (``year_ref``, e.g.
``C$4``) and never branch in Python on which year it is; the branch is an ``IF`` in the formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from ...common.formats import MONEY_DECIMALS, in_units
from ...model import Market, headline_with_consensus
from ...model import headline_line as headline_parts
from ...model.assumptions import CONSENSUS, RESERVED_SCENARIO, Bound
from ...model.status import (
    ASSUMED_SPLIT,
    BACK_CAST,
    CONSENSUS_MEDIAN,
    EXTRAPOLATED,
    INTERPOLATED,
    OVERRIDE,
    PROJECTED,
    PUBLISHED,
    WORDS,
)

STATUS_CODE_LENGTH = 3
"""Letters of a status word its code keeps: BAC, PUB, INT, PRO, EXT tell the words apart."""


class Formula(NamedTuple):
    """An Excel formula (``=...``) and the engine's result, stored with it for viewers and pandas."""

    text: str
    value: float | str


# ------------------------------------------------------------------------------------------ totals


def text_literal(text: str) -> str:
    """A string as an Excel formula literal: quotes doubled, split below Excel's 255 characters a literal."""
    parts = [text[i : i + 250] for i in range(0, len(text), 250)] or [""]
    return "&".join('"' + part.replace('"', '""') + '"' for part in parts)


def joined(prefix: str, ref: str, value: str) -> Formula:
    """A text followed by another cell's text: a title that names the selected scenario."""
    return Formula(f"={text_literal(prefix)}&{ref}", prefix + value)


def _money(units: str) -> Callable[[str], str]:
    """How a headline writes an amount: FIXED, which takes its decimals as a number and writes the
    reader's own decimal mark (a format string in TEXT would be read in the reader's locale and garble in
    a German Excel): two decimals in USD bn (``ShownDecimals``, the decimals the Market estimates sheet
    shows), none in USD mn."""
    decimals = "ShownDecimals" if MONEY_DECIMALS[units] else "0"
    return lambda ref: f"FIXED({ref},{decimals})"


def headline_line(
    market: Market, year: int, scenario: str, units: str, value_ref: str, consensus_ref: str
) -> Formula:
    """The headline figure with its basis and the publishers' consensus beside it, as text. Mirrors
    ``model.headline.headline_line``: ``USD 27.88 bn (basis: tbrc); 5 publishers' median 11.55, range
    10.70-27.88``; ``value_ref`` holds the figure in the workbook's units, ``consensus_ref`` the consensus
    part (:func:`consensus_phrase`, a helper row that keeps this formula short)."""
    money = _money(units)
    text = (
        f'="USD "&{money(value_ref)}&" {units} ("&IF(Scenario="{RESERVED_SCENARIO}","",Scenario&" scenario, ")'
        f'&"basis: "&Basis&"); "&{consensus_ref}'
    )
    return Formula(text, headline_with_consensus(market, year, scenario, units))


def consensus_phrase(market: Market, year: int, units: str, consensus: Mapping[str, str]) -> Formula:
    """The consensus beside the headline: ``5 publishers' median 11.55, range 10.70-27.88``. Mirrors
    ``model.headline.headline_line`` (its ``consensus``); ``consensus`` holds the cells of the year's
    ``count``, ``median``, ``min`` and ``max`` (USD bn, times ``UnitFactor``)."""
    money = _money(units)

    def scaled(ref: str) -> str:
        return money(f"{ref}*UnitFactor")

    text = (
        f'={consensus["count"]}&" publishers\' median "&{scaled(consensus["median"])}'
        f'&", range "&{scaled(consensus["min"])}&"-"&{scaled(consensus["max"])}'
    )
    return Formula(text, headline_parts(market, year, units=units).consensus)


def fade_weight(market: Market, year: int, year_ref: str) -> Formula:
    """w(t): 1 up to the horizon, then max(0, 1 - (t - H) / F), 0 when F is 0. Mirrors
    ``Market.fade_weight`` (``estimates.fade_weight``)."""
    y = year_ref
    return Formula(
        f"=IF({y}<=HorizonYear,1,IF(FadeYears<=0,0,MAX(0,1-({y}-HorizonYear)/FadeYears)))",
        market.fade_weight(year),
    )


def _target(growth: str) -> str:
    """The growth a fade goes to from ``growth``: the long-run rate, 0 when they have opposite signs.
    Mirrors ``estimates.fade_target``."""
    return f"IF(({growth})*LongRunGrowth<0,0,LongRunGrowth)"


def post_horizon_growth(market: Market, year: int, weight_ref: str) -> Formula:
    """The model's own growth after the horizon: the extrapolation growth if one is given, else
    LR + (g_F - LR) w(t). Mirrors ``Market.post_horizon_growth``."""
    return Formula(
        f"=IF(ISNUMBER(ExtrapolationGrowth),ExtrapolationGrowth,"
        f"{_target('ForecastGrowth')}+(ForecastGrowth-{_target('ForecastGrowth')})*{weight_ref})",
        market.post_horizon_growth(year),
    )


def own_path(year_ref: str, before_ref: str, growth_ref: str, value: float) -> Formula:
    """The model's own path in the pack's units. Mirrors ``Market.own_path``: back-cast before the base
    year, the base size, the next size compounded at the forecast growth to the horizon, then the year
    before grown at the growth after the horizon (``growth_ref``, this column's)."""
    y = year_ref
    return Formula(
        f"=IF({y}<=HorizonYear,UnitFactor*IF({y}<BaseYear,BaseSize/(1+BackcastGrowth)^(BaseYear-{y}),"
        f"IF({y}=BaseYear,BaseSize,NextSize*(1+ForecastGrowth)^({y}-NextYear))),"
        f"{before_ref}*(1+{growth_ref}))",
        value,
    )


def publication_path(year_ref: str, before_ref: str, factor_ref: str, value: float) -> Formula:
    """The market's own publication's row of the estimates, USD bn: the model's own path at the calibrated
    growth (one path per publisher; a typed forecast growth is a what-if on the model, not the
    publisher's), after the horizon the year before times ``factor_ref`` (:func:`publication_factor`).
    Mirrors ``Market._publication_path``."""
    y = year_ref
    return Formula(
        f"=IF({y}<=HorizonYear,IF({y}<BaseYear,BaseSize/(1+BackcastGrowth)^(BaseYear-{y}),"
        f"IF({y}=BaseYear,BaseSize,NextSize*(1+CalibratedGrowth)^({y}-NextYear))),"
        f"{before_ref}*{factor_ref})",
        value,
    )


def publication_factor(market: Market, year: int, weight_ref: str) -> Formula:
    """1 + the growth after the horizon at the calibrated growth, the factor the market's own publication
    grows by in a year after the horizon (a helper row of :func:`publication_path`; ``weight_ref``:
    :func:`fade_weight`). Mirrors ``Market.post_horizon_growth``."""
    return Formula(
        f"=1+IF(ISNUMBER(ExtrapolationGrowth),ExtrapolationGrowth,"
        f"{_target('CalibratedGrowth')}+(CalibratedGrowth-{_target('CalibratedGrowth')})*{weight_ref})",
        1 + market.post_horizon_growth(year, market.calibrated_growth),
    )


def base_growth(year_ref: str, here_ref: str, before_ref: str, value: float) -> Formula:
    """b(t), the base path's own growth after the next year (0 up to it). Mirrors ``Market._scenario_path``."""
    return Formula(f"=IF({year_ref}<=NextYear,0,{here_ref}/{before_ref}-1)", value)


def scenario_weight(year_ref: str, weight_ref: str, value: float) -> Formula:
    """How much of a scenario's growth difference applies in a year: 0 up to the next year, then the fade
    weight. Mirrors ``Market._weights``."""
    return Formula(f"=IF({year_ref}<=NextYear,0,{weight_ref})", value)


def scenario_path(year_ref: str, refs: tuple[str, str, str, str, str], value: float) -> Formula:
    """A scenario's total: the base path up to the next year, then V_s(t-1) (1 + b(t) + D_s W(t)).
    Mirrors ``Market._scenario_path``. ``refs``: base path, the scenario's value the year before, b(t),
    D_s and W(t)."""
    base, before, growth, difference, weight = refs
    return Formula(f"=IF({year_ref}<=NextYear,{base},{before}*(1+{growth}+{difference}*{weight}))", value)


def growth_difference(growth_ref: str, value: float) -> Formula:
    """D_s = g_s - g_F. Mirrors ``Market.growth_difference``."""
    return Formula(f"={growth_ref}-ForecastGrowth", value)


def in_year(row_span: str, year_ref: str, value: float) -> Formula:
    """A by-year row's value in the year in ``year_ref`` (looked up on the timeline ``Timeline``)."""
    return Formula(f"=INDEX({row_span},1,MATCH({year_ref},Timeline,0))", value)


def printed_size(year_ref: str, printed: Sequence[tuple[str, str]], value: float) -> Formula:
    """The size the market's publication printed in a year, USD bn, read from Inputs (0 in a year it
    printed none). ``printed``: each printed year's name (``BaseYear``) and its published figure's cell.
    Mirrors ``Market.printed``."""
    text = "0"
    for year_name, figure_ref in reversed(printed):
        text = f"IF({year_ref}={year_name},{figure_ref},{text})"
    return Formula(f"={text}", value)


def as_published(model_ref: str, status_ref: str, printed_ref: str, value: float) -> Formula:
    """The total as a reader sees it: in a unit finer than the publication's (``UnitFactor`` not 1) a
    total that is exactly ``published`` shows the figure as printed (18.08 bn is 18,080 mn, not the
    model's 18,077.66); every other value is the model's. Mirrors ``Market.as_published``."""
    return Formula(
        f'=IF(AND(UnitFactor<>1,{status_ref}="{PUBLISHED}",{printed_ref}<>0),'
        f"{printed_ref}*UnitFactor,{model_ref})",
        value,
    )


def growth(here_ref: str, before_ref: str, value: float, before: float) -> Formula:
    """Growth over the year before. Mirrors ``Market.growth``: value / value the year before - 1."""
    return Formula(f"={here_ref}/{before_ref}-1", value / before - 1)


def cagr(start_ref: str, end_ref: str, periods: str, value: float) -> Formula:
    """Compound annual growth over ``periods`` years. Mirrors ``Market.cagr``: (end/start)^(1/n) - 1."""
    return Formula(f"=({end_ref}/{start_ref})^(1/({periods}))-1", value)


def cagr_between(
    market: Market, refs: tuple[str, str, str, str], first: int, last: int, scenario: str
) -> Formula:
    """The total's CAGR from one year to a later one, in a scenario. Mirrors ``Market.cagr``.

    ``refs``: the first and last year's values, then the cells holding the two years.
    """
    start_ref, end_ref, first_ref, last_ref = refs
    return cagr(start_ref, end_ref, f"{last_ref}-{first_ref}", market.cagr(first, last, scenario=scenario))


def forecast_cagr(start_ref: str, end_ref: str, value: float) -> Formula:
    """The CAGR over the published forecast period, next year to horizon (``Market.cagr``,
    ``Market.breakdown``)."""
    return cagr(start_ref, end_ref, "HorizonYear-NextYear", value)


def scenario_cagr(market: Market, next_ref: str, horizon_ref: str, scenario: str) -> Formula:
    """A scenario's CAGR over the forecast period, from its next-year value to its horizon value.
    Mirrors ``Market.cagr``."""
    value = market.cagr(market.next_year, market.horizon_year, scenario=scenario)
    return forecast_cagr(next_ref, horizon_ref, value)


# ------------------------------------------------------------------------------------------ scenarios


def compounded(refs: Sequence[str], value: float) -> Formula:
    """Growth rates compounded: (1+a)(1+b)... - 1; no rates is 0.

    Mirrors ``Market._growth_for`` (a scenario's growth is the product of its driver growths) and
    ``Market.bridge`` (each bridge factor is the product of its drivers; the factors multiply back to the
    scenario's growth).
    """
    if not refs:
        return Formula("=0", value)
    return Formula("=" + "*".join(f"(1+{r})" for r in refs) + "-1", value)


def bridge_closing_factor(own: Formula, path_growth_ref: str, other_factor_refs: Sequence[str]) -> Formula:
    """The bridge factor that holds the price-and-mix residual. Mirrors ``Market.bridge_residual``: on the
    model's own path (``Basis`` is ``DefaultBasis``) its drivers compounded (``own``); under another basis
    re-solved, (1 + the followed path's growth) / the other factors compounded - 1, so that the bridge
    multiplies back to the growth of the path the total follows."""
    others = "*".join(f"(1+{r})" for r in other_factor_refs) or "1"
    return Formula(f"=IF(Basis=DefaultBasis,{own.text[1:]},(1+{path_growth_ref})/({others})-1)", own.value)


#: What base follows, by kind of basis (``BasisStory.base_description`` says it in the brief's words).
RE_SOLVED = " (Basis on Inputs); the bridge's residual is re-solved"
"""How the two bases other than the model's own path end (written once in the formula)."""
BASE_FOLLOWS = {
    "calibrated": "the published figures' path (forecast growth on Inputs)",
    "consensus": "follows the median of the publishers' paths" + RE_SOLVED,
    "publisher": "follows the published figures of {basis}" + RE_SOLVED,
}


def base_description(market: Market) -> Formula:
    """What the base scenario follows, by the ``Basis`` chosen on Inputs: the model's own path, the
    consensus median or a publisher's path (the last two end alike, written once: FAST's 250 characters)."""
    consensus = BASE_FOLLOWS["consensus"].removesuffix(RE_SOLVED)
    before, after = BASE_FOLLOWS["publisher"].removesuffix(RE_SOLVED).split("{basis}")
    publisher = f"{text_literal(before)}&Basis" + (f"&{text_literal(after)}" if after else "")
    if market.basis == market.default_basis:
        value = BASE_FOLLOWS["calibrated"]
    elif market.basis == CONSENSUS:
        value = BASE_FOLLOWS["consensus"]
    else:
        value = BASE_FOLLOWS["publisher"].format(basis=market.basis)
    return Formula(
        f"=IF(Basis=DefaultBasis,{text_literal(BASE_FOLLOWS['calibrated'])},"
        f'IF(Basis="{CONSENSUS}",{text_literal(consensus)},{publisher})&{text_literal(RE_SOLVED)})',
        value,
    )


def scenario_growth(market: Market, scenario: str, driver_refs: Sequence[str]) -> Formula:
    """A scenario's growth per year in the forecast years. Mirrors ``Market._growth_for``.

    The base scenario is pinned to the forecast growth (not a product of drivers that could drift an ulp)
    unless a driver what-if is typed; any other is its drivers' growths compounded.
    """
    product = compounded(driver_refs, market.scenario_growth[scenario])
    if scenario == RESERVED_SCENARIO:
        return Formula(
            f"=IF(COUNT(DriverWhatIfs)=0,ForecastGrowth,{product.text[1:]})", market.scenario_growth[scenario]
        )
    return product


def selected(scenario_range: str, value: float, *, across: bool) -> Formula:
    """The entry of the scenario chosen on Inputs, from a range in the order of ``ScenarioNames``: a row
    (``across``) or a column.

    Mirrors ``Market.scenario`` (a scenario name to its key) followed by a lookup of that scenario's
    figure (``Market.scenario_growth``, ``Market.driver_growths``).
    """
    where = "1,MATCH(Scenario,ScenarioNames,0)" if across else "MATCH(Scenario,ScenarioNames,0),1"
    return Formula(f"=INDEX({scenario_range},{where})", value)


def caption_value(market: Market, scenario: str) -> str:
    """How titles name the selected scenario and, when the total follows another path than the model's
    own, the basis: ``bull scenario`` or ``bull scenario, basis consensus``."""
    basis = "" if market.basis == market.default_basis else f", basis {market.basis}"
    return f"{scenario} scenario{basis}"


def _caption_text(scenario: str) -> str:
    """The caption as an Excel expression, for a scenario given as an expression (a name, a literal)."""
    return f'{scenario}&" scenario"&IF(Basis=DefaultBasis,"",", basis "&Basis)'


def caption(market: Market, scenario: str) -> Formula:
    """The selected scenario (and basis) as every output sheet's and chart's title names it
    (``ScenarioCaption``)."""
    return Formula(f"={_caption_text('Scenario')}", caption_value(market, scenario))


def base_captioned(market: Market, text: str) -> Formula:
    """A title followed by the base scenario's caption (``base scenario``, and the basis when the total
    follows another): the title of a result computed for base whichever scenario is selected (the
    tornado, ``Market.tornado``)."""
    prefix = f"{text}: "
    return Formula(
        f"={text_literal(prefix)}&{_caption_text(text_literal(RESERVED_SCENARIO))}",
        prefix + caption_value(market, RESERVED_SCENARIO),
    )


def typed_differs(override: str, default: str) -> str:
    """The condition "a number is typed in ``override`` and it is not the ``default`` it replaces (or there is
    none)": a value typed equal to the one there moves nothing. Mirrors ``overrides._same``."""
    return f"AND(ISNUMBER({override}),OR(NOT(ISNUMBER({default})),{override}<>{default}))"


def any_typed_differs(overrides: str, defaults: str) -> str:
    """:func:`typed_differs` for two ranges row by row: true when any row's typed number is not its default
    (``<>""`` rather than ISNUMBER, which Gnumeric does not take a range through; the cells are validated
    to hold numbers)."""
    return f'SUMPRODUCT(({overrides}<>"")*({overrides}<>{defaults}))>0'


def moved_flag(condition: str, value: bool) -> Formula:
    """1 when an override cell (or several) holds a number, else 0: what the per-call overrides moved.
    Mirrors ``AssumptionSet.moved`` and ``Market.overridden``."""
    return Formula(f"=IF({condition},1,0)", int(value))


def own_word(market: Market, year: int, year_ref: str) -> Formula:
    """The word of a year on the model's own path: back-cast, published, interpolated, extrapolated.
    Mirrors ``Market.own_words``."""
    y = year_ref
    words = dict(zip(market.year_list, market.own_words(), strict=True))
    return Formula(
        f'=IF({y}<BaseYear,"{BACK_CAST}",IF(OR({y}=BaseYear,{y}=NextYear,{y}=HorizonYear),"{PUBLISHED}",'
        f'IF({y}<HorizonYear,"{INTERPOLATED}","{EXTRAPOLATED}")))',
        words[year],
    )


def _inside(market: Market, year: int, scenario: str, split: tuple[str, str] | None) -> str:
    """What a status says in parentheses (the engine's), for the stored results."""
    if split is None:
        status = market.status(year, scenario)
    else:
        dimension, member = split
        region, segment = (member, None) if dimension == "region" else (None, f"{dimension}:{member}")
        status = market.status(year, scenario, region, segment)
    return status[status.index("(") + 1 : -1] if status.endswith(")") else ""


def moved(
    market: Market,
    year: int,
    year_ref: str,
    scenario: str,
    split: tuple[str, str] | None = None,
    total_ref: str = "",
) -> Formula:
    """1 if an override moved the selected scenario's total in a year (the forecast growth or a driver
    after the next year, the back-cast, extrapolation or fade in their years), else 0; with ``split`` (a
    dimension and a member) a region or segment value, moved also by the dimension's typed shares and
    changed relative growths, or where its total moved (``total_ref``: the total's row in this column).
    Mirrors ``Market._qualifiers`` and ``Market._split_status``."""
    y = year_ref
    if split is None:
        condition = (
            f"AND({y}>NextYear,ForecastMoved+DriversMoved>0),AND({y}<BaseYear,BackcastMoved=1),"
            f"AND({y}>HorizonYear,ExtrapolationMoved=1),AND({y}>FadeFrom,FadeMoved=1)"
        )
    else:
        d = split[0]
        condition = f"{total_ref}=1,SplitShareMoved_{d}=1,AND(SplitGrowthMoved_{d}=1,{y}<>BaseYear)"
    value = OVERRIDE in _inside(market, year, scenario, split).split(", ")
    return Formula(f"=IF(OR({condition}),1,0)", int(value))


def qualifiers(
    market: Market,
    year: int,
    year_ref: str,
    scenario: str,
    moved_ref: str,
    split: tuple[str, str] | None = None,
) -> Formula:
    """The qualifiers of the selected scenario's total in a year, each after ", ": the scenario, override
    (``moved_ref``: :func:`moved` in this column), the basis. Mirrors ``Market._qualifiers``; ``split`` (a
    dimension and a member) gives the stored result of a region or segment value."""
    y = year_ref
    inside = _inside(market, year, scenario, split)
    return Formula(
        f'=IF(AND(Scenario<>"{RESERVED_SCENARIO}",{y}>NextYear),", "&Scenario,"")'
        f'&IF({moved_ref}=1,", {OVERRIDE}","")&IF(Basis<>DefaultBasis,", basis: "&Basis,"")',
        ", " + inside if inside else "",
    )


def status(
    market: Market, year: int, refs: tuple[str, str, str], scenario: str, split: tuple[str, str] | None = None
) -> Formula:
    """The status of the selected scenario's total (or, with ``split``, of a region or segment value) in a
    year, as the engine words it: the basis path's word (published becomes projected on a path that
    moved), ``total, assumed split`` for a split, then the qualifiers in parentheses. Mirrors
    ``Market._statuses``, ``Market._split_status`` and ``status.status_text``. ``refs``: the year, the
    word and the qualifiers of this column."""
    y, word, quals = refs
    if split is None:
        value, assumed = market.status(year, scenario), ""
    else:
        dimension, member = split
        region, segment = (member, None) if dimension == "region" else (None, f"{dimension}:{member}")
        value, assumed = market.status(year, scenario, region, segment), f'&" {ASSUMED_SPLIT}"'
    return Formula(
        f'={status_word(y, word)}{assumed}&IF({quals}="",""," ("&MID({quals},LEN(", ")+1,LEN({quals}))&")")',
        value,
    )


def status_word(year_ref: str, word_ref: str) -> str:
    """The word a status starts with, as an expression: the basis path's word, except that published (or
    a consensus median) becomes projected in a year after the next year on a path that moved."""
    return (
        f'IF(AND(OR({word_ref}="{PUBLISHED}",{word_ref}="{CONSENSUS_MEDIAN}"),{year_ref}>NextYear,Moves=1),'
        f'"{PROJECTED}",{word_ref})'
    )


# ------------------------------------------------------------------------------------------ splits


def share(
    market: Market,
    dimension: str,
    member: str,
    refs: tuple[str, str],
    year: int,
    year_ref: str,
    scenario: str,
) -> Formula:
    """A member's share of the market in a year. Mirrors the share tables of ``Market.__init__``.

    share_m(t) = s_m (1+d_m)^(t-base) / sum_k s_k (1+d_k)^(t-base), with the member's base share and
    relative growth ``refs`` and the whole dimension's ``Share_<dimension>`` and ``RelGrowth_<dimension>``.
    """
    share_ref, growth_ref = refs
    return Formula(
        f"={share_ref}*(1+{growth_ref})^({year_ref}-BaseYear)"
        f"/SUMPRODUCT(Share_{dimension},(1+RelGrowth_{dimension})^({year_ref}-BaseYear))",
        market.share(year, f"{dimension}:{member}", scenario),
    )


def member_value(
    market: Market,
    units: str,
    total_ref: str,
    share_ref: str,
    year: int,
    dimension: str,
    member: str,
    scenario: str,
) -> Formula:
    """A member's market size: the total times its share. Mirrors ``Market._value``."""
    region, segment = (member, None) if dimension == "region" else (None, f"{dimension}:{member}")
    return Formula(
        f"={total_ref}*{share_ref}", in_units(market.forecast(year, region, segment, scenario), units)
    )


def column_sum(first_ref: str, last_ref: str, values: Iterable[float]) -> Formula:
    """The members of a dimension added up: they give the total in every year (``Market._value``)."""
    return Formula(f"=SUM({first_ref}:{last_ref})", math.fsum(values))


def range_sum(span_ref: str, values: Iterable[float]) -> Formula:
    """A range added up (shares of a dimension: the assumption set's validation requires 100 %)."""
    return Formula(f"=SUM({span_ref})", math.fsum(values))


def chosen(default_ref: str, override_ref: str, value: float) -> Formula:
    """The value used: the override where a number is typed, else the default beside it.

    Mirrors ``_given_or`` in the engine and the per-call overrides (``cagr=``, ``backcast_growth=``,
    ``extrapolation_growth=``, a scenario's driver growth over the base one).
    """
    return Formula(f"=IF(ISNUMBER({override_ref}),{override_ref},{default_ref})", value)


def chosen_or_blank(default_ref: str, override_ref: str, value: float | None) -> Formula:
    """The value used where a blank means "none": the override, else the default, else blank (the
    extrapolation growth: blank is the long-run fade). Mirrors ``Market.extrapolation_growth``."""
    return Formula(
        f'=IF(ISNUMBER({override_ref}),{override_ref},IF(ISNUMBER({default_ref}),{default_ref},""))',
        "" if value is None else value,
    )


def scenario_driver(typed_ref: str, base_ref: str, file_ref: str, value: float) -> Formula:
    """A driver's growth in a scenario: the scenario's own value moved by the base what-if (base used
    less the file's growth), or base's where the scenario sets none. Mirrors ``Market.driver_growths``."""
    return Formula(f"=IF(ISNUMBER({typed_ref}),{typed_ref}+({base_ref}-{file_ref}),{base_ref})", value)


def share_to_rescale(default_ref: str, override_ref: str, value: float) -> Formula:
    """A member's share in the assumption set if no override is typed for it, else 0: the members whose
    shares are rescaled to fill what the overrides leave (``share_used``)."""
    return Formula(f"=IF(ISNUMBER({override_ref}),0,{default_ref})", value)


def share_used(dimension: str, default_ref: str, override_ref: str, value: float) -> Formula:
    """A member's base share after the typed overrides. Mirrors the ``share.<member>`` override
    (``overrides._member_share``): overridden members take their typed values, the others keep their
    proportions of what is left, so the dimension still sums to 1.

    ``ShareOverride_<dimension>`` is the override column, ``ShareToRescale_<dimension>`` the shares of
    the members without one.
    """
    return Formula(
        f"=IF(ISNUMBER({override_ref}),{override_ref},"
        f"{default_ref}*(1-SUM(ShareOverride_{dimension}))/SUM(ShareToRescale_{dimension}))",
        value,
    )


# ------------------------------------------------------------------------------------------ drivers


def follows(ref: str, value: float) -> Formula:
    """An input that takes another input's value until a number is typed over it.

    Mirrors the defaults of ``Market.__init__`` (back-cast growth follows the historic growth,
    extrapolation growth the forecast growth) and ``Market.driver_growths`` (a scenario keeps a driver's
    base growth unless it overrides it).
    """
    return Formula(f"={ref}", value)


def residual_growth(market: Market, driver: str, other_refs: Sequence[str]) -> Formula:
    """The price-and-mix driver: what makes the bridge of the file's drivers multiply back to the
    forecast growth (a what-if leaves it there, so the what-if moves the forecast).

    Mirrors ``Market.residual_growth``: (1 + forecast growth) / product of (1 + the other drivers as the
    set gives them) - 1.
    """
    others = "*".join(f"(1+{r})" for r in other_refs)
    return Formula(f"=(1+ForecastGrowth)/({others or 1})-1", market.base_driver_growth[driver])


def tornado_end(growth_ref: str, end_ref: str, value: float, *, high: bool) -> Formula:
    """A driver's low or high for the tornado: the typed end, widened to take in the driver's growth.

    Mirrors ``overrides._driver_growth`` (``driver.<key>=`` moves low and high out to a growth beyond
    them) as ``Market.tornado`` then reads them.
    """
    return Formula(f"={'MAX' if high else 'MIN'}({end_ref},{growth_ref})", value)


def tornado_value(base_ref: str, growth_ref: str, end_ref: str, value_bn: float, units: str) -> Formula:
    """The horizon-year market with one driver at its low or high. Mirrors ``Market.tornado``:
    V(H) ((1 + end) / (1 + the driver's base growth))^(H - N), V(H) the base total (``base_ref``)."""
    return Formula(
        f"={base_ref}*((1+{end_ref})/(1+{growth_ref}))^(HorizonYear-NextYear)", in_units(value_bn, units)
    )


def tornado_delta(value_ref: str, base_ref: str, value: float) -> Formula:
    """A tornado bar: the market with a driver at one end, less the base market (the chart plots it)."""
    return difference(value_ref, base_ref, value)


def difference(minuend_ref: str, subtrahend_ref: str, value: float) -> Formula:
    """One cell minus another: a tornado swing (``TornadoBar.swing``), a P10-P90 range, a calibration
    residual (``Calibration``: modelled minus published)."""
    return Formula(f"={minuend_ref}-{subtrahend_ref}", value)


# ------------------------------------------------------------------------------------------ calibration


def calibrated(market: Market, anchor: str) -> Formula:
    """The calibrated path's value of a published figure. Mirrors ``calibration.calibrate``.

    Market sizes are the calibrated base and next sizes and the next size compounded at the calibrated
    CAGR to the horizon; growths are the base-to-next growth and the calibrated CAGR.
    """
    cal = market.calibration
    n = market.horizon_year - market.next_year
    modelled = {
        "base_size": ("=BaseSize", cal.base_size),
        "next_size": ("=NextSize", cal.next_size),
        "historic_growth": ("=NextSize/BaseSize-1", cal.next_size / cal.base_size - 1),
        "horizon_size": (
            "=NextSize*(1+CalibratedGrowth)^(HorizonYear-NextYear)",
            cal.next_size * (1 + cal.forecast_cagr) ** n,
        ),
        "forecast_cagr": ("=CalibratedGrowth", cal.forecast_cagr),
    }
    text, value = modelled[anchor]
    return Formula(text, value)


# ------------------------------------------------------------------------------------------ region x segment


def mix_share(refs: tuple[str, str], spans: tuple[str, str], year_ref: str, value: float) -> Formula:
    """A member's share of a mix in the year in ``year_ref``: its base share and relative growth
    (``refs``) against the whole mix's (``spans``, a row or column each). Mirrors ``_mix`` as
    ``Market._build_share_tables`` and ``Market._build_joint_tables`` use it:
    s_m (1+d_m)^(t-base) / sum_k s_k (1+d_k)^(t-base)."""
    (share_ref, growth_ref), (shares, growths) = refs, spans
    return Formula(
        f"={share_ref}*(1+{growth_ref})^({year_ref}-BaseYear)/SUMPRODUCT({shares},(1+{growths})^({year_ref}-BaseYear))",
        value,
    )


def in_region(region_ref: str, share_expression: str, value: float) -> Formula:
    """A segment within a region: the region's value times the segment's share within it (the joint
    table's mix where the region has a row, else the whole market's split). Mirrors ``Market._value``."""
    return Formula(f"={region_ref}*{share_expression.removeprefix('=')}", value)


def nth(span_ref: str, index_ref: str, value: float) -> Formula:
    """The n-th entry of a one-column range, n read from a cell (a member's number)."""
    return Formula(f"=INDEX({span_ref},{index_ref},1)", value)


# ------------------------------------------------------------------------------------------ checks


def check_near(value_ref: str, *, target: str, tolerance: str, passed: bool) -> Formula:
    """1 if a value is within a tolerance of its target, else 0 (also 0 if the value is an error)."""
    return Formula(f"=IFERROR(IF(ABS({value_ref}-({target}))<={tolerance},1,0),0)", int(passed))


def check_shares_used(value_ref: str, dimension: str, passed: bool) -> Formula:
    """1 if a dimension's shares used add to 100 % and none is negative (overrides adding to more than
    100 % leave the others a negative share), else 0."""
    return Formula(
        f"=IFERROR(IF(AND(ABS({value_ref}-1)<=ShareTolerance,MIN(Share_{dimension})>=0),1,0),0)", int(passed)
    )


def typed_value(ref: str, value: float | None) -> Formula:
    """What an input cell holds, blank as blank (a plain ``=ref`` shows a blank as 0)."""
    return Formula(f'=IF(LEN({ref})=0,"",{ref})', "" if value is None else value)


def check_rule(value_ref: str, bound: Bound, *, optional: bool, passed: bool) -> Formula:
    """1 if a typed value (``value_ref``: :func:`typed_value`) is one the engine's rule accepts, else 0;
    a blank passes where it means "none". The limits are the rule's named cells (``GrowthLow``)."""
    v, low, high = value_ref, f"{bound.name}Low", f"{bound.name}High"
    tests = [f"{v}>{low}" if bound.above_low else f"{v}>={low}"]
    tests.append(f"{v}<{high}" if bound.below_high else f"{v}<={high}")
    if bound.whole:
        tests.append(f"{v}=ROUND({v},0)")
    core = f"IF(ISNUMBER({v}),IF(AND({','.join(tests)}),1,0),0)"
    return Formula(f"=IF(LEN({v})=0,{int(optional)},{core})", int(passed))


def engine_says(
    value_ref: str, result_ref: str, bound: Bound, *, key_ref: str, optional: bool, value: str
) -> Formula:
    """What the engine would say of a typed value the rule refuses, in its words after the key it names
    (``key_ref``, a cell: ``extension.long_run_growth.value: 0.7 is above the allowed maximum 0.5``;
    blank when it passes).

    Mirrors :meth:`~xl_addin.model.assumptions.Bound.problem`, one branch per way a value is refused.
    """
    v, low, high = value_ref, f"{bound.name}Low", f"{bound.name}High"

    def said(kind: str) -> str:
        before, after = bound.reason_parts()[kind]
        return "&".join(
            [*([text_literal(before)] if before else []), v, *([text_literal(after)] if after else [])]
        )

    inner = said("at limit") if bound.above_low or bound.below_high else '""'
    if bound.whole:  # one message for either side of the range
        inner = f"IF(OR({v}<{low},{v}>{high}),{said('low')},IF({v}<>ROUND({v},0),{said('fraction')},{inner}))"
    else:
        inner = f"IF({v}<{low},{said('low')},IF({v}>{high},{said('high')},{inner}))"
    words = f"IF(ISNUMBER({v}),{inner},{said('text')})"
    if not optional:  # a blank passes where it means "none"; elsewhere the engine says it is missing
        words = f'IF(LEN({v})=0,"missing",{words})'
    return Formula(f'=IF({result_ref}=1,"",{key_ref}&": "&{words})', value)


def outside_band(base: str, low: str, high: str, value: int) -> Formula:
    """How many years the live base lies outside the stored P10-P90 (beyond the check tolerance)."""
    return Formula(
        f"=SUMPRODUCT(({base}<{low}*(1-CheckTolerance))+({base}>{high}*(1+CheckTolerance)))", value
    )


def differs(typed_ref: str, in_set_ref: str, value: bool) -> Formula:
    """1 if something is typed and it is not the set's value, else 0 (blank: the set's value is used)."""
    return Formula(f"=IF(LEN({typed_ref})=0,0,IF({typed_ref}={in_set_ref},0,1))", int(value))


def running_list(before_ref: str, differs_ref: str, key: str, value: str) -> Formula:
    """The keys that differ so far: the row above's list, and this row's key if it differs."""
    name = text_literal(key)
    if not before_ref:
        return Formula(f'=IF({differs_ref}=1,{name},"")', value)
    return Formula(f'={before_ref}&IF({differs_ref}=1,IF(LEN({before_ref})=0,"",", ")&{name},"")', value)


def provenance(count_ref: str, list_ref: str, set_hash: str, differ: Sequence[str]) -> Formula:
    """Whether the workbook still matches the set it was made from: ``Inputs match assumption set
    6c31e80ece70`` or ``3 inputs differ from set 6c31e80ece70: cagr, share.Asia-Pacific, ...``."""
    same = f"Inputs match assumption set {set_hash}"
    n = len(differ)
    value = (
        same
        if n == 0
        else f"{n} input{'s' if n != 1 else ''} differ{'' if n != 1 else 's'} from set {set_hash}: {', '.join(differ)}"
    )
    return Formula(
        f'=IF({count_ref}=0,{text_literal(same)},{count_ref}&IF({count_ref}=1," input differs",'
        f'" inputs differ")&{text_literal(f" from set {set_hash}: ")}&{list_ref})',
        value,
    )


def status_code(refs: tuple[str, str], status_ref: str, status: str) -> Formula:
    """A status as a code a year's column holds across (``INT*``): its word's code (the legend's
    ``StatusWords`` and ``StatusCodes``, :func:`status_codes`) and ``*`` where an override moved it.
    ``refs``: the year and the basis path's word of this column (see :func:`status_word`)."""
    word = next(w for w in WORDS if status.startswith(w))  # "consensus median" is two words
    code = status_codes()[word] + ("*" if OVERRIDE in status else "")
    return Formula(
        f"=INDEX(StatusCodes,MATCH({status_word(*refs)},StatusWords,0))"
        f'&IF(ISNUMBER(SEARCH("{OVERRIDE}",{status_ref})),"*","")',
        code,
    )


def status_codes() -> dict[str, str]:
    """Each status word's code: its first letters, which tell the words apart.

    >>> status_codes()
    {'back-cast': 'BAC', 'published': 'PUB', 'interpolated': 'INT', 'projected': 'PRO', 'extrapolated': 'EXT', 'consensus median': 'CON'}
    """
    return {w: w[:STATUS_CODE_LENGTH].upper() for w in WORDS}


def check_listed(value_ref: str, *, names: str, passed: bool) -> Formula:
    """1 if a value is one of a list (the scenario among ``ScenarioNames``), else 0."""
    return Formula(f"=IF(ISNUMBER(MATCH({value_ref},{names},0)),1,0)", int(passed))


def largest_gap(row_span: str, value: float) -> Formula:
    """The largest difference in a row, either sign: max(max, -min)."""
    return Formula(f"=MAX(MAX({row_span}),-MIN({row_span}))", value)


def master_check(results: str, passed: int, count: int) -> Formula:
    """One line for the whole workbook: every check passes, or how many fail."""
    text = (
        f"OK: all {count} checks pass"
        if passed == count
        else f"CHECK: {count - passed} of {count} checks fail (see Checks)"
    )
    return Formula(
        f'=IF(SUM({results})=ROWS({results}),"OK: all "&ROWS({results})&" checks pass",'
        f'"CHECK: "&(ROWS({results})-SUM({results}))&" of "&ROWS({results})&" checks fail (see Checks)")',
        text,
    )


# ------------------------------------------------------------------------------------------ estimates and basis


def estimate_value(year_ref: str, refs: tuple[str, ...], value: float) -> Formula:
    """A publisher's value in a year, by the rule its working rows give. Mirrors
    ``estimates.estimate_path``: the figure; grown from figure ``a`` at the growth, P_a (1+g)^(t-a); between
    figures ``a`` and ``b``, P_a (P_b/P_a)^((t-a)/(b-a)); after the last figure ``a``, the year before
    times the faded growth factor (:func:`faded_factor`). ``refs``: this year's figure, rule, a, b, P_a, P_b
    (:func:`figure_at`), the growth, the faded growth factor and the year before's value."""
    y = year_ref
    figure, rule, a, b, pa, pb, g, factor, before = refs
    return Formula(
        f'=IF({rule}="published",{figure},IF({rule}="grown",{pa}*(1+{g})^({y}-{a}),'
        f'IF({rule}="between",{pa}*({pb}/{pa})^(({y}-{a})/({b}-{a})),{before}*{factor})))',
        value,
    )


def figure_at(spans: tuple[str, str], year_ref: str, value: float) -> Formula:
    """A publisher's figure of the year in ``year_ref`` (a helper row of :func:`estimate_value`).
    ``spans``: the publisher's figures and the timeline."""
    figures, timeline = spans
    return Formula(f"=INDEX({figures},1,MATCH({year_ref},{timeline},0))", value)


def path_fade_weight(year_ref: str, from_ref: str, value: float) -> Formula:
    """w(t - a), how much of a publisher's last growth is left in a year after its last figure ``a`` (a
    helper row of :func:`estimate_value`). Mirrors ``estimates.fade_weight``."""
    y, a = year_ref, from_ref
    return Formula(f"=IF({y}-{a}<=0,1,IF(FadeYears<=0,0,MAX(0,1-({y}-{a})/FadeYears)))", value)


def faded_factor(growth_ref: str, weight_ref: str, value: float) -> Formula:
    """1 + LR + (g - LR) w, the factor a path grows by in a year after its last figure (a helper row of
    :func:`estimate_value`; ``weight_ref``: :func:`path_fade_weight`). Mirrors ``estimates.estimate_path``
    with ``fade_target``."""
    g = growth_ref
    return Formula(f"=1+{_target(g)}+({g}-{_target(g)})*{weight_ref}", value)


def picked(growths: str, number_ref: str, value: float) -> Formula:
    """The growth a year of a path uses: the n-th of the publisher's list (0: none)."""
    return Formula(f"=IF({number_ref}=0,0,INDEX({growths},{number_ref},1))", value)


def followed_flag(id_ref: str, source: str, market_source: str, value: bool) -> Formula:
    """1 for the estimate the model's total follows (not ranked against itself): the basis, or on the
    default basis every estimate of the market's own publication. Mirrors ``Market.follows``."""
    own = "1" if source == market_source else "0"
    return Formula(f"=IF(Basis=DefaultBasis,{own},IF({id_ref}=Basis,1,0))", int(value))


def model_rank(shown: str, followed: str, kept: str, model_ref: str, value: int) -> Formula:
    """The model's rank among the estimates it does not follow and the consensus takes (``kept``: 1 for
    each, 0 for one ``consensus_max_age`` leaves out), 1 = largest, values equal at the precision shown
    tied (``shown``: the paths rounded, cell by cell). Mirrors ``Market.consensus``."""
    return Formula(f"=1+SUMPRODUCT(({shown}>ROUND({model_ref},ShownDecimals))*(1-{followed})*{kept})", value)


def model_ratio(model_ref: str, median_ref: str, value: float) -> Formula:
    """The model's total over the consensus median. Mirrors ``estimates.consensus_of``."""
    return Formula(f"={model_ref}/{median_ref}", value)


def basis_path(own_ref: str, basis_column: str, value: float) -> Formula:
    """The base total: the model's own path, or (``Basis`` on Inputs) the consensus median or a
    publisher's path, in the pack's units. Mirrors ``Market._build_basis``."""
    return Formula(
        f"=IF(Basis=DefaultBasis,{own_ref},UnitFactor*INDEX({basis_column},MATCH(Basis,BasisIds,0),1))", value
    )


def basis_word(own_word_ref: str, words_column: str, value: str) -> Formula:
    """The word of a year on the path the total follows. Mirrors ``Market.basis_words``."""
    return Formula(
        f"=IF(Basis=DefaultBasis,{own_word_ref},INDEX({words_column},MATCH(Basis,BasisIds,0),1))", value
    )


def basis_fade_start(value: int) -> Formula:
    """The last published year of the path the total follows: the fade starts after it. Mirrors
    ``Market.fade_start``."""
    return Formula(
        "=IF(Basis=DefaultBasis,HorizonYear,INDEX(BasisLastFigures,MATCH(Basis,BasisIds,0),1))", value
    )


def median_word(words: str, values: str, median_ref: str, value: str) -> Formula:
    """The consensus median's word: the word of the estimate it is (an odd number of estimates).
    Mirrors ``estimates.median_path``."""
    found = f"INDEX({words},MATCH({median_ref},{values},0),1)"
    return Formula(
        f'=IF(OR({found}="{PUBLISHED}",{found}="{INTERPOLATED}"),"{CONSENSUS_MEDIAN}",{found})', value
    )
