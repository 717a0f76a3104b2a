"""Engine speed, measured with pytest-benchmark (figures in docs/performance.md).

Run: python -m pytest tests/test_bench_model.py --benchmark-enable --benchmark-only
In the normal test run each benchmark body runs once, as a plain test.
"""

from __future__ import annotations

import itertools
import statistics

import pytest

from xl_addin.model import Market, assumptions_from_text, default_market


def trivial(year: object, region: object = None, segment: object = None, scenario: object = "base") -> float:
    """A function of the same signature that does nothing: the yardstick for a warm lookup."""
    return 0.0


@pytest.fixture(scope="module")
def market() -> Market:
    m = default_market()
    m.forecast(2030, "Asia-Pacific", "CT", "bull")  # warm
    return m


def test_bench_trivial_call(benchmark) -> None:  # type: ignore[no-untyped-def]
    assert benchmark(trivial, 2030, "Asia-Pacific", "CT", "bull") == 0.0


def test_bench_warm_scalar_forecast(benchmark, market: Market) -> None:  # type: ignore[no-untyped-def]
    value = benchmark(market.forecast, 2030, "Asia-Pacific", "CT", "bull")
    assert value == market.point(2030, "Asia-Pacific", "CT", "bull").value


def distinct_lookups(m: Market) -> list[tuple[int, str | None, str | None, str]]:
    regions = [None, *m.members("region")]
    segments = [None, *m.segment_names()]
    keys = itertools.product(range(2015, 2046), regions, segments, m.scenario_names)
    return list(itertools.islice(keys, 10_000))


def test_bench_10000_distinct_lookups(benchmark) -> None:  # type: ignore[no-untyped-def]
    keys = distinct_lookups(default_market())
    assert len(set(keys)) == 10_000

    def recalculate() -> float:
        m = default_market()
        m._cache.clear()  # every lookup distinct and cold, as a first recalculation of 10,000 cells
        return sum(m.forecast(*k) for k in keys)

    assert benchmark(recalculate) > 0


def test_bench_monte_carlo_100000_paths_21_years(benchmark) -> None:  # type: ignore[no-untyped-def]
    m = Market(assumptions_from_text("years: {first: 2020, last: 2040}\n", "2020-2040.yaml"))
    assert len(m.year_list) == 21
    from xl_addin.model.uncertainty import simulate

    fan = benchmark(simulate, m.fan_inputs(), 100_000, 1)
    assert fan.sorted_values.shape == (100_000, 21)


def test_bench_warm_consensus_lookup(benchmark, market: Market) -> None:  # type: ignore[no-untyped-def]
    """A cell of =IMGOUT_CONSENSUS recalculated: a cached lookup, like a warm forecast."""
    market.consensus(2030)
    found = benchmark(market.consensus, 2030)
    assert found.median == statistics.median(e.value for e in market.estimates(2030))


def test_bench_first_consensus_of_every_year(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Every year's consensus from a cold market: the estimate paths built once, 41 medians."""

    def build() -> float:
        m = Market(default_market().assumptions)
        return sum(m.consensus(y).median for y in m.year_list)

    assert benchmark(build) > 0
