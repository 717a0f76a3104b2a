"""The red team (tests/red_team.py): every hostile case holds, each one its own test named by its case.

``pytest tests/test_red_team.py -k 'tarpit'`` runs one case; a failure names the case, what was expected
and what happened. Cases that start real processes, an SMTP server or a browser are marked slow.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests import red_team

CASES = red_team.register()


def _ids(cases: list[red_team.Case]) -> list[str]:
    seen: Counter[str] = Counter()
    ids = []
    for c in cases:
        seen[c.label] += 1
        ids.append(c.label if seen[c.label] == 1 else f"{c.label} #{seen[c.label]}")
    return ids


@pytest.fixture(scope="module")
def red_team_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return red_team.begin(tmp_path_factory.mktemp("red-team"))


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=[pytest.mark.slow] if c.slow else []) for c in CASES],
    ids=_ids(CASES),
)
def test_the_hostile_case_holds(case: red_team.Case, red_team_work: Path) -> None:
    observed, held = red_team.held_by(case)
    assert held, f"{case.label}: expected {case.expected}; observed {observed.summary()}"


def test_the_red_team_is_large_and_every_case_is_named_once() -> None:
    assert len(CASES) >= 244
    assert len(set(_ids(CASES))) == len(CASES)
