"""The words every value's status is made of: one place, so the command line, the Excel functions, the
workbook and the brief print the same thing.

A status is a **word** for what the year's figure is, then, for a region or segment value, that its
split is assumed, then **qualifiers** in parentheses::

    published                                   the total, a figure the publication prints
    interpolated total, assumed split           Asia-Pacific in 2028: the total between two published
                                                years, split by an assumed share
    projected (bull)                            2030 in the bull scenario
    extrapolated (override, basis: consensus)   2035, with a what-if, the total following the consensus

Words (:data:`WORDS`): ``back-cast`` (before the first published year), ``published``, ``interpolated``
(between published years), ``projected`` (a published year on a path that is not the published one),
``extrapolated`` (after the last published year). Qualifiers, in this order: the scenario when it is not
base; ``override`` when a per-call override moved the value (every override kind: ``cagr``, ``driver.*``,
``share.*``, ``growth.*``, ``backcast_growth``, ``extrapolation_growth``, ``long_run_growth``,
``fade_years``); ``basis: <id>`` when the total follows another path than the model's own.

A publisher's estimate has one of :data:`ESTIMATE_STATUSES`: ``published``, ``interpolated`` (between two
of its published figures), ``extrapolated (publisher CAGR)`` (from one of its figures at its CAGR) or
``extrapolated (publisher CAGR, fading)`` (after its last figure and its CAGR's period: the growth fades
from its CAGR to the long-run rate).

>>> status_text(INTERPOLATED, split=True)
'interpolated total, assumed split'
>>> status_text(EXTRAPOLATED, qualifiers=("bull", OVERRIDE, basis_label("consensus")))
'extrapolated (bull, override, basis: consensus)'
"""

from __future__ import annotations

from collections.abc import Iterable

BACK_CAST = "back-cast"
PUBLISHED = "published"
INTERPOLATED = "interpolated"
PROJECTED = "projected"
EXTRAPOLATED = "extrapolated"
WORDS = (BACK_CAST, PUBLISHED, INTERPOLATED, PROJECTED, EXTRAPOLATED)

#: Added to the word of a region or segment value: the total is the year's figure, its split is assumed.
ASSUMED_SPLIT = "total, assumed split"
#: The qualifier of a value a per-call override moved.
OVERRIDE = "override"
#: The qualifier of a publisher's value computed from one of its figures at its CAGR.
PUBLISHER_CAGR = "publisher CAGR"

#: The qualifier of a publisher's value grown at a growth fading from its CAGR to the long-run rate.
FADING = "fading"


def basis_label(basis: str) -> str:
    """The qualifier of a value whose total follows another basis than the model's own.

    >>> basis_label("techsci")
    'basis: techsci'
    """
    return f"basis: {basis}"


def status_text(word: str, *, split: bool = False, qualifiers: Iterable[str] = ()) -> str:
    """A status as printed everywhere: the word, ``total, assumed split`` for a split value, qualifiers."""
    text = f"{word} {ASSUMED_SPLIT}" if split else word
    listed = [q for q in qualifiers if q]
    return f"{text} ({', '.join(listed)})" if listed else text


ESTIMATE_EXTRAPOLATED = status_text(EXTRAPOLATED, qualifiers=(PUBLISHER_CAGR,))
ESTIMATE_FADING = status_text(EXTRAPOLATED, qualifiers=(PUBLISHER_CAGR, FADING))
ESTIMATE_STATUSES = (PUBLISHED, INTERPOLATED, ESTIMATE_EXTRAPOLATED, ESTIMATE_FADING)


#: What each word and qualifier means, in plain text: the legend of the workbook's Notes sheet and of the
#: status table in docs/concepts.md (a test keeps the docs' the same).
MEANINGS: tuple[tuple[str, str], ...] = (
    (BACK_CAST, "before the first published year, at the back-cast growth"),
    (PUBLISHED, "a figure the publication prints"),
    (INTERPOLATED, "between two published years"),
    (PROJECTED, "a published year on a path that is not the published one (a scenario or a what-if)"),
    (
        EXTRAPOLATED,
        "after the last published year: growth fading to the long-run rate (or held at the"
        " extrapolation growth the set gives)",
    ),
    (f"... {ASSUMED_SPLIT}", "a region or segment value: the total's status, split by assumed shares"),
    (
        f"({OVERRIDE})",
        "a per-call override moved this value (every kind: cagr, driver., share., growth., backcast_growth,"
        " extrapolation_growth, long_run_growth, fade_years)",
    ),
    ("(bear), (bull) ...", "a scenario other than base"),
    (f"({basis_label('consensus')})", "the total follows the consensus median (or a publisher's path)"),
    (ESTIMATE_EXTRAPOLATED, "a publisher's value computed from one of its figures at its CAGR"),
    (
        ESTIMATE_FADING,
        "a publisher's value after its last figure and its CAGR's period: the growth fades from its CAGR to"
        " the long-run rate, as the model's does",
    ),
)
