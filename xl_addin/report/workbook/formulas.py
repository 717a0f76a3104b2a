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
Excel 2010 and LibreOffice both know are used (INDEX/MATCH, SUMPRODUCT, SUM, IF, AND): no dynamic arrays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ...common.formats import in_units
from ...model import Market
from ...model.assumptions import RESERVED_SCENARIO


class Formula(NamedTuple):
    """An Excel formula (``=...``) and the engine's result, stored with it for viewers and pandas."""

    text: str
    value: float | str


# ------------------------------------------------------------------------------------------ totals


def path(market: Market, year: int, year_ref: str, growth_ref: str) -> str:
    """The total in USD bn in one year, as an Excel expression. Mirrors ``Market._path``.

    Before the base year: back-cast from the base size; the base year: the base size; up to the horizon:
    the next year's size compounded at the scenario growth; after it: the horizon value compounded at the
    extrapolation growth, shifted by the scenario's difference from the forecast growth.
    """
    if year < market.base_year:
        return f"BaseSize/(1+BackcastGrowth)^(BaseYear-{year_ref})"
    if year == market.base_year:
        return "BaseSize"
    if year <= market.horizon_year:
        return f"NextSize*(1+{growth_ref})^({year_ref}-NextYear)"
    return (
        f"NextSize*(1+{growth_ref})^(HorizonYear-NextYear)"
        f"*((1+ExtrapolationGrowth)*(1+{growth_ref})/(1+ForecastGrowth))^({year_ref}-HorizonYear)"
    )


def total(market: Market, units: str, year: int, year_ref: str, growth_ref: str, scenario: str) -> Formula:
    """The market size in a year and scenario, in the pack's units. Mirrors ``Market.forecast`` (total)."""
    return Formula(
        f"=UnitFactor*{path(market, year, year_ref, growth_ref)}",
        in_units(market.forecast(year, scenario=scenario), units),
    )


def growth(here_ref: str, before_ref: str, value: float, before: float) -> Formula:
    """Growth over the year before. Mirrors ``Market.growth``: value / value the year before - 1."""
    return Formula(f"={here_ref}/{before_ref}-1", value / before - 1)


def cagr(start_ref: str, end_ref: str, periods: str, value: float) -> Formula:
    """Compound annual growth over ``periods`` years. Mirrors ``Market.cagr``: (end/start)^(1/n) - 1."""
    return Formula(f"=({end_ref}/{start_ref})^(1/({periods}))-1", value)


def cagr_between(
    market: Market, start_ref: str, end_ref: str, first: int, last: int, scenario: str
) -> Formula:
    """The total's CAGR from one year to a later one, in a scenario. Mirrors ``Market.cagr``."""
    return cagr(start_ref, end_ref, f"{last}-{first}", market.cagr(first, last, scenario=scenario))


def forecast_cagr(start_ref: str, end_ref: str, value: float) -> Formula:
    """The CAGR over the published forecast period, next year to horizon (``Market.cagr``,
    ``Market.breakdown``)."""
    return cagr(start_ref, end_ref, "HorizonYear-NextYear", value)


def scenario_cagr(market: Market, horizon_ref: str, scenario: str) -> Formula:
    """A scenario's CAGR over the forecast period, from the next year's size (the same in every scenario)
    to the scenario's horizon value in ``horizon_ref``. Mirrors ``Market.cagr``."""
    value = market.cagr(market.next_year, market.horizon_year, scenario=scenario)
    return forecast_cagr("(UnitFactor*NextSize)", horizon_ref, value)


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


def scenario_growth(market: Market, scenario: str, driver_refs: Sequence[str]) -> Formula:
    """A scenario's growth per year in the forecast years. Mirrors ``Market._growth_for``.

    The base scenario is pinned to the forecast growth (not a product of drivers that could drift an ulp);
    any other is its drivers' growths compounded.
    """
    if scenario == RESERVED_SCENARIO:
        return Formula("=ForecastGrowth", market.scenario_growth[scenario])
    return compounded(driver_refs, market.scenario_growth[scenario])


def selected(row_of_scenarios: str, value: float) -> Formula:
    """The entry of the scenario chosen on Inputs, from a range in the order of ``ScenarioNames``.

    Mirrors ``Market.scenario`` (a scenario name to its key) followed by a lookup of that scenario's
    figure (``Market.scenario_growth``, ``Market.driver_growths``).
    """
    return Formula(f"=INDEX({row_of_scenarios},MATCH(Scenario,ScenarioNames,0))", value)


def status_qualifier(market: Market, scenario: str) -> Formula:
    """What the status of a forecast year adds when the path is not the published base one.

    Mirrors the qualifier of ``Market._statuses``: nothing on the base path at the calibrated growth,
    ``" (override)"`` on the base path at another growth, ``" (<scenario>)"`` on any other scenario.
    """
    pinned = scenario == RESERVED_SCENARIO and not market.overridden
    qualifier = "" if pinned else f" ({'override' if scenario == RESERVED_SCENARIO else scenario})"
    return Formula(
        f'=IF(AND(Scenario="{RESERVED_SCENARIO}",ForecastGrowth=CalibratedGrowth),"",'
        f'" ("&IF(Scenario="{RESERVED_SCENARIO}","override",Scenario)&")")',
        qualifier,
    )


def status(market: Market, year: int, scenario: str) -> Formula | str:
    """A year's status label. Mirrors ``Market._statuses``.

    Years up to the next published year are fixed words (back-cast, published); later years add the
    scenario's qualifier (``StatusQualifier``), and the horizon year is published only on the base path.
    """
    label = market.status(year, scenario)
    if year <= market.next_year:
        return label
    if year == market.horizon_year:
        return Formula('=IF(StatusQualifier="","published","projected")&StatusQualifier', label)
    word = "interpolated" if year < market.horizon_year else "extrapolated"
    return Formula(f'="{word}"&StatusQualifier', label)


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


def shares_total(dimension: str, shares: Iterable[float]) -> Formula:
    """The base shares of a dimension added up: the assumption set's validation requires 100 %."""
    return Formula(f"=SUM(Share_{dimension})", math.fsum(shares))


# ------------------------------------------------------------------------------------------ drivers


def follows(ref: str, value: float) -> Formula:
    """An input that takes another input's value until a number is typed over it.

    Mirrors the defaults of ``Market.__init__`` (back-cast growth follows the historic growth,
    extrapolation growth the forecast growth) and ``Market.driver_growths`` (a scenario keeps a driver's
    base growth unless it overrides it).
    """
    return Formula(f"={ref}", value)


def residual_growth(market: Market, driver: str, other_refs: Sequence[str]) -> Formula:
    """The price-and-mix driver: what makes the base bridge multiply back to the forecast growth.

    Mirrors ``Market.residual_growth``: (1 + forecast growth) / product of (1 + the other drivers) - 1.
    """
    others = "*".join(f"(1+{r})" for r in other_refs)
    return Formula(f"=(1+ForecastGrowth)/({others or 1})-1", market.base_driver_growth[driver])


def tornado_value(growth_ref: str, end_ref: str, value_bn: float, units: str) -> Formula:
    """The horizon-year market with one driver at its low or high. Mirrors ``Market.tornado``.

    next size x ((1 + forecast growth) / (1 + driver's base growth) x (1 + driver at its end))^n.
    """
    return Formula(
        f"=UnitFactor*(NextSize*((1+ForecastGrowth)/(1+{growth_ref})*(1+{end_ref}))^(HorizonYear-NextYear))",
        in_units(value_bn, units),
    )


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
