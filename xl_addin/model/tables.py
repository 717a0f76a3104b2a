"""The model's answers as pandas tables, for notebooks and scripts (pandas is imported only here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .assumptions import RESERVED_SCENARIO
from .market import Market

if TYPE_CHECKING:
    import pandas as pd


def series_table(
    market: Market,
    first_year: object,
    last_year: object,
    region: object = None,
    segment: object = None,
    scenario: object = RESERVED_SCENARIO,
) -> pd.DataFrame:
    """Year-indexed table: value (USD bn), growth over the year before, status."""
    import pandas as pd

    points = market.series(first_year, last_year, region, segment, scenario)
    frame = pd.DataFrame(
        {
            "value": [p.value for p in points],
            "growth": [market.growth(p.year, region, segment, scenario) for p in points],
            "status": [p.status for p in points],
        },
        index=pd.Index([p.year for p in points], name="year"),
    )
    frame.attrs.update(_provenance(market))
    return frame


def breakdown_table(
    market: Market,
    year: object,
    dimension: object,
    scenario: object = RESERVED_SCENARIO,
    region: object = None,
) -> pd.DataFrame:
    """Member-indexed table: value (USD bn), share, CAGR over the published forecast period, status."""
    import pandas as pd

    rows = market.breakdown(year, dimension, scenario, region)
    frame = pd.DataFrame(
        {
            "value": [r.value for r in rows],
            "share": [r.share for r in rows],
            "cagr": [r.cagr for r in rows],
            "status": [r.status for r in rows],
        },
        index=pd.Index([r.member for r in rows], name=market.dimension(dimension)),
    )
    frame.attrs.update(_provenance(market), cagr_period=f"{market.next_year}-{market.horizon_year}")
    return frame


def scenarios_table(
    market: Market, first_year: object, last_year: object, region: object = None, segment: object = None
) -> pd.DataFrame:
    """Years x scenarios, USD bn."""
    import pandas as pd

    rows = market.scenarios(first_year, last_year, region, segment)
    frame = pd.DataFrame([values for _, values in rows], index=pd.Index([y for y, _ in rows], name="year"))
    frame.attrs.update(_provenance(market))
    return frame


def estimates_table(market: Market, year: object) -> pd.DataFrame:
    """Publisher-indexed table of one year: value (USD bn), status, source id, scope; the consensus in
    ``attrs``."""
    import dataclasses

    import pandas as pd

    rows = market.estimates(year)
    frame = pd.DataFrame(
        {
            "value": [e.value for e in rows],
            "status": [e.status for e in rows],
            "source": [e.source.key for e in rows],
            "scope": [market.assumptions.estimates[e.key].scope for e in rows],
        },
        index=pd.Index([e.publisher for e in rows], name="publisher"),
    )
    frame.attrs.update(_provenance(market), consensus=dataclasses.asdict(market.consensus(year)))
    return frame


def fan_table(market: Market, percentiles: tuple[float, ...] = (10, 50, 90)) -> pd.DataFrame:
    """Years x Monte Carlo percentiles of the base-scenario total (columns P10, P50, P90 ...)."""
    import pandas as pd

    fan = market.uncertainty()
    frame = pd.DataFrame(
        {f"P{p:g}": [fan.percentile(y, p) for y in fan.years] for p in percentiles},
        index=pd.Index(fan.years, name="year"),
    )
    frame.attrs.update(_provenance(market), paths=fan.paths, seed=fan.seed)
    return frame


def assumptions_table(market: Market) -> pd.DataFrame:
    """Every assumption with its value, kind, source and note, indexed by key."""
    import pandas as pd

    entries = market.assumptions.entries()
    frame = pd.DataFrame([e.__dict__ for e in entries]).set_index("key")
    frame.attrs.update(_provenance(market))
    return frame


def _provenance(market: Market) -> dict[str, str]:
    return {"model_version": market.version, "assumption_hash": market.assumption_hash}
