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
``extrapolated`` (after the last published year), ``consensus median`` (the median of the publishers'
values where it rests on figures they publish or interpolate: a median is published by nobody). Qualifiers, in this order: the scenario when it is not
base; ``override`` when a per-call override moved the value (every override kind: ``cagr``, ``driver.*``,
``share.*``, ``growth.*``, ``backcast_growth``, ``extrapolation_growth``, ``long_run_growth``,
``fade_years``); ``basis: <id>`` when the total follows another path than the model's own.

A publisher's estimate has one of :data:`ESTIMATE_STATUSES`, made by :func:`estimate_status` from the
same word the total takes when it follows that publisher (so ``imgout forecast --set basis=gvr`` and
``imgout estimates`` say the same word for the same number): ``published``, ``interpolated`` (between two
of its published figures), ``back-cast (publisher CAGR)`` (before its first figure, from a later figure
at its CAGR), ``extrapolated (publisher CAGR)`` (after a figure, at its CAGR) or ``extrapolated
(publisher CAGR, fading)`` (after its last figure and its CAGR's period: the growth fades from its CAGR to
the long-run rate).

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
CONSENSUS_MEDIAN = "consensus median"
WORDS = (BACK_CAST, PUBLISHED, INTERPOLATED, PROJECTED, EXTRAPOLATED, CONSENSUS_MEDIAN)

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


def estimate_status(word: str, *, fading: bool = False, moved: bool = False) -> str:
    """A publisher's value's status from the word the total takes when it follows that publisher: a
    published or interpolated year is the word alone; a back-cast or extrapolated one is made at the
    publisher's CAGR (``fading`` after its last figure and its CAGR's period; ``moved``: a long-run or fade
    override moved it).

    >>> estimate_status(BACK_CAST)
    'back-cast (publisher CAGR)'
    >>> estimate_status(EXTRAPOLATED, fading=True)
    'extrapolated (publisher CAGR, fading)'
    """
    if word in (PUBLISHED, INTERPOLATED):
        return word
    return status_text(word, qualifiers=(PUBLISHER_CAGR, FADING if fading else "", OVERRIDE if moved else ""))


ESTIMATE_BACK_CAST = estimate_status(BACK_CAST)
ESTIMATE_EXTRAPOLATED = estimate_status(EXTRAPOLATED)
ESTIMATE_FADING = estimate_status(EXTRAPOLATED, fading=True)
ESTIMATE_STATUSES = (PUBLISHED, INTERPOLATED, ESTIMATE_BACK_CAST, ESTIMATE_EXTRAPOLATED, ESTIMATE_FADING)


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
    (
        CONSENSUS_MEDIAN,
        "the median of the publishers' values (basis: consensus), resting on figures they publish or"
        " interpolate; back-cast or extrapolated where the median rests on a publisher's CAGR",
    ),
    (f"... {ASSUMED_SPLIT}", "a region or segment value: the total's status, split by assumed shares"),
    (
        f"({OVERRIDE})",
        "a per-call override moved this value (every kind: cagr, driver., share., growth., backcast_growth,"
        " extrapolation_growth, long_run_growth, fade_years)",
    ),
    ("(bear), (bull) ...", "a scenario other than base"),
    (f"({basis_label('consensus')})", "the total follows the consensus median (or a publisher's path)"),
    (ESTIMATE_BACK_CAST, "a publisher's value before its first figure, from a later figure at its CAGR"),
    (ESTIMATE_EXTRAPOLATED, "a publisher's value after one of its figures, at its CAGR"),
    (
        ESTIMATE_FADING,
        "a publisher's value after its last figure and its CAGR's period: the growth fades from its CAGR to"
        " the long-run rate, as the model's does",
    ),
)
