"""The `imgout` command: the model's answers on the command line, and the jobs that build and send packs.

Every command takes ``--assumptions FILE`` (default: the embedded set) and ``--set KEY=VALUE`` overrides.
Bad input of any kind exits with code 2 and one line on stderr naming what was wrong and what is allowed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar

import click

from . import __version__
from .common.formats import money, percent
from .errors import DeliveryError, ImgoutError, InputError, OutputError, os_error
from .model import UNITS, Consensus, Entry, Market, headline_with_consensus, market_for
from .signals import INTERRUPTED, TERMINATED, Terminated, raise_terminated, stopped

F = TypeVar("F", bound=Callable[..., Any])

#: What each kind of failure exits with: the one table the command follows (docs/getting-started.md, "Exit codes").
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (InputError, 2),  # bad input: an argument, a file's content, a setting
    (OutputError, 1),  # a file could not be written
    (DeliveryError, 1),  # delivery cannot go on safely
    (ImgoutError, 1),
)


def exit_code(error: BaseException) -> int:
    """The exit code for an error, from :data:`EXIT_CODES`."""
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


def fail(message: str) -> NoReturn:
    """Stop the command with a user-facing input error (exit code 2)."""
    raise InputError(message)


def model_options(func: F) -> F:
    """--assumptions and --set, shared by every command that reads the model."""
    func = click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override an assumption for this run, e.g. cagr=0.10 or share.APAC=0.25 (repeatable).",
    )(func)
    func = click.option(
        "--assumptions",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="IMGOUT_ASSUMPTIONS",
        help="Assumption file (YAML) merged over the embedded default. Env: IMGOUT_ASSUMPTIONS.",
    )(func)
    return func


def filter_options(func: F) -> F:
    """--region, --segment, --scenario."""
    func = click.option(
        "--scenario", default="base", show_default=True, help="bear, base, bull or a custom one."
    )(func)
    func = click.option("--segment", default=None, help="A service, modality or end-user member, e.g. CT.")(
        func
    )
    func = click.option("--region", default=None, help="A region or alias, e.g. Asia-Pacific or APAC.")(func)
    return func


def logo_option(func: F) -> F:
    """--logo: an image for the pack, from anywhere (a profile's logo must be beside the profile)."""
    return click.option(
        "--logo",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Logo image (.png or .jpg) for the pack; wins over the profile's.",
    )(func)


def pdf_engine_option(func: F) -> F:
    """--pdf-engine: which program prints the PDF brief."""
    return click.option(
        "--pdf-engine",
        default=None,
        metavar="auto|chromium|weasyprint",
        help="What prints the PDF: auto (Chromium, Chrome or Edge when found, else WeasyPrint), chromium or "
        "weasyprint. Env: IMGOUT_PDF_ENGINE.",
    )(func)


def echo_pdf_engine(choice: str | None, *, what: str = "PDF printed by") -> None:
    """Say which engine prints the PDF for ``choice``; a fallback's one-line notice goes to stderr."""
    from .report.brief.pdf import pdf_engine

    engine = pdf_engine(choice)
    if engine.notice:
        click.echo(f"imgout: {engine.notice}", err=True)
    click.echo(f"{what} {engine.description}")


def json_option(func: F) -> F:
    """--json: machine-readable output with unrounded values."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (unrounded values).")(func)


def open_market(assumptions: Path | None, overrides: Sequence[str]) -> Market:
    """The market for the command's --assumptions and --set options; what looks wrong in the set (but does
    not stop it) goes to stderr, one line each, so --json output stays clean."""
    market = market_for(assumptions, "; ".join(overrides) if overrides else None)
    echo_warnings(market)
    return market


def echo_warnings(market: Market) -> None:
    """What looks wrong in the assumption set without stopping the run, one line each on stderr."""
    for warning in market.warnings():
        click.echo(f"imgout: warning: {warning}", err=True)


def provenance(market: Market) -> dict[str, str]:
    """Model version and assumption hash, carried by every output."""
    return {
        "imgout_version": __version__,
        "model_version": market.version,
        "assumption_hash": market.assumption_hash,
    }


def echo_json(payload: object) -> None:
    """Print JSON on stdout."""
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))


#: A table cell that is a number as the command prints it: 2030, 27.88, -0.2%, 1.93x, 1,234, or "-".
_NUMBER = re.compile(r"-|[-+]?[\d.,]+[%x]?")


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    caption: str = "",
    left: Sequence[int] = (0,),
) -> None:
    """A rich table on stdout (imported only when a table is printed, to keep start-up fast); the
    columns in `left` are text (left-aligned), the others numbers. On a narrow terminal text cells wrap (a word
    too long for its column is folded, never cut to "…") and numbers keep their line; elsewhere the table keeps its full width (:mod:`.common.console`)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .common.console import print_fitted

    # Text, never markup: a name from an assumption file such as "[/bold]" is shown as written.
    table = Table(title=Text(title), caption=Text(caption))
    for i, col in enumerate(columns):
        justify: Literal["left", "right"] = "left" if i in left else "right"
        cells = [row[i] for row in rows]
        if all(_NUMBER.fullmatch(cell) for cell in cells):  # a number keeps its line: text gives way
            widest = max(map(len, cells), default=0)
            table.add_column(Text(col), justify=justify, overflow="fold", min_width=widest, no_wrap=True)
        else:
            table.add_column(Text(col), justify=justify, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    print_fitted(Console(), table)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="imgout", prog_name="imgout")
def app() -> None:
    """imgout: the medical imaging outsourcing market model (USD bn), from the command line."""


# ------------------------------------------------------------------------------------------ the model


@app.command()
@click.argument("year")
@filter_options
@model_options
@json_option
def forecast(
    year: str,
    region: str | None,
    segment: str | None,
    scenario: str,
    assumptions: Path | None,
    overrides: Sequence[str],
    as_json: bool,
) -> None:
    """Market size in YEAR (USD bn), optionally for one region and one segment; for the whole market, the
    publishers' consensus of that year beside it."""
    market = open_market(assumptions, overrides)
    point = market.point(year, region, segment, scenario)
    whole = point.region is None and point.segment is None
    beside = headline_with_consensus(market, point.year, point.scenario) if whole else None
    if as_json:
        extra: dict[str, object] = {}
        if beside is not None:
            extra["basis"] = market.basis
            extra["headline"] = beside
            if market.assumptions.estimates:
                c = market.consensus(point.year)
                extra["consensus"] = {
                    "count": c.count,
                    "median": c.median,
                    "minimum": c.minimum,
                    "maximum": c.maximum,
                }
        echo_json({**point._asdict(), "units": "USD bn", **extra, **provenance(market)})
        return
    scope = " / ".join(x for x in (point.region, point.segment) if x) or "global"
    click.echo(f"{point.year} {scope} ({point.scenario}): USD {money(point.value)} bn [{point.status}]")
    if beside is not None:
        click.echo(beside)


@app.command()
@click.argument("first_year")
@click.argument("last_year")
@filter_options
@model_options
@json_option
def series(
    first_year: str,
    last_year: str,
    region: str | None,
    segment: str | None,
    scenario: str,
    assumptions: Path | None,
    overrides: Sequence[str],
    as_json: bool,
) -> None:
    """Market size for every year from FIRST_YEAR to LAST_YEAR, with growth and status."""
    market = open_market(assumptions, overrides)
    points = market.series(first_year, last_year, region, segment, scenario)
    growth = [market.growth(p.year, region, segment, scenario) for p in points]
    if as_json:
        echo_json(
            [
                {**p._asdict(), "growth": g, "units": "USD bn", **provenance(market)}
                for p, g in zip(points, growth, strict=True)
            ]
        )
        return
    rows = [
        (str(p.year), money(p.value), "" if g is None else percent(g), p.status)
        for p, g in zip(points, growth, strict=True)
    ]
    print_table("Market size, USD bn", ("year", "value", "growth", "status"), rows, _caption(market))


@app.command()
@click.argument("from_year")
@click.argument("to_year")
@filter_options
@model_options
@json_option
def cagr(
    from_year: str,
    to_year: str,
    region: str | None,
    segment: str | None,
    scenario: str,
    assumptions: Path | None,
    overrides: Sequence[str],
    as_json: bool,
) -> None:
    """Compound annual growth from FROM_YEAR to TO_YEAR (a fraction in --json: 0.091 is 9.1 %)."""
    market = open_market(assumptions, overrides)
    value = market.cagr(from_year, to_year, region, segment, scenario)
    first, last = market.year(from_year, "from year"), market.year(to_year, "to year")
    if as_json:
        echo_json(
            {
                "from_year": first,
                "to_year": last,
                "value": value,
                "units": "fraction",
                "scenario": market.scenario(scenario),
                "region": market.region(region),
                "segment": market.segment(segment)[1],
                **provenance(market),
            }
        )
        return
    click.echo(f"CAGR {first}-{last}: {percent(value)}")


@app.command()
@click.argument("year")
@click.argument("dimension")
@click.option("--scenario", default="base", show_default=True, help="bear, base, bull or a custom one.")
@click.option("--region", default=None, help="Split a segment dimension within one region.")
@model_options
@json_option
def breakdown(
    year: str,
    dimension: str,
    scenario: str,
    region: str | None,
    assumptions: Path | None,
    overrides: Sequence[str],
    as_json: bool,
) -> None:
    """Every member of DIMENSION (region, service, modality, end_user) in YEAR: value, share, CAGR."""
    market = open_market(assumptions, overrides)
    rows = market.breakdown(year, dimension, scenario, region)
    period = f"{market.next_year}-{market.horizon_year}"
    if as_json:
        echo_json(
            [{**r._asdict(), "cagr_period": period, "units": "USD bn", **provenance(market)} for r in rows]
        )
        return
    table = [(r.member, money(r.value), percent(r.share), percent(r.cagr)) for r in rows]
    total = sum(r.value for r in rows)
    table.append(("Total", money(total), percent(1.0), ""))
    dim = market.dimension(dimension)
    print_table(
        f"{market.year(year)} by {dim.replace('_', ' ')}, USD bn ({market.scenario(scenario)})",
        (dim.replace("_", " "), "value", "share", f"CAGR {period}"),
        table,
        _caption(market),
    )


@app.command()
@click.argument("year", required=False)
@model_options
@json_option
def estimates(year: str | None, assumptions: Path | None, overrides: Sequence[str], as_json: bool) -> None:
    """Every publisher's estimate of the market in YEAR (default: the last published year), then the
    consensus: how many, the lowest, the median, the highest, and where the model's own total sits."""
    market = open_market(assumptions, overrides)
    y = market.horizon_year if year is None else market.year(year)
    rows, consensus = market.estimates(y), market.consensus(y)
    if as_json:
        echo_json(
            {
                "year": y,
                "units": UNITS,
                "basis": market.basis,
                "estimates": [
                    {
                        **{k: v for k, v in e._asdict().items() if k != "source"},
                        "scope": market.assumptions.estimates[e.key].scope,
                        "source": {**dataclasses.asdict(e.source), "citation": e.source.citation()},
                    }
                    for e in rows
                ],
                "consensus": dataclasses.asdict(consensus),
                **provenance(market),
            }
        )
        return
    table = [(e.publisher, money(e.value), e.status, e.source.key) for e in rows]
    print_table(
        f"Published estimates of the market, {y}, USD bn",
        ("publisher", "value", "status", "source"),
        table,
        _caption(market),
        left=(0, 2, 3),
    )
    click.echo(consensus_line(market, consensus))
    click.echo("Sources:")
    for key in dict.fromkeys(e.source.key for e in rows):
        click.echo(f"  [{key}] {market.assumptions.sources[key].citation()}")


def consensus_line(market: Market, c: Consensus) -> str:
    """One line: the consensus of a year and where the model's total sits (``imgout estimates``)."""
    basis = "consensus median" if market.basis == "consensus" else f"basis {market.basis}"
    limit = market.assumptions.consensus_max_age
    left_out = f" ({c.excluded} older than {limit} years left out)" if limit is not None else ""
    return (
        f"Consensus {c.year}: {c.count} publishers{left_out}, {c.in_span} within their published years; "
        f"min {money(c.minimum)}, median {money(c.median)}, max {money(c.maximum)}. "
        f"The model ({basis}): {money(c.model)}, {c.model_ratio:.2f}x the median, "
        f"rank {c.model_rank} of {c.count}."
    )


def _recorded(value: float | str | None) -> str:
    """An override's value as the record holds it: a number to 6 significant digits, text, or none."""
    return "none" if value is None else value if isinstance(value, str) else f"{value:.6g}"


def _caption(market: Market) -> str:
    return f"imgout {__version__} (model {market.version}), assumptions {market.assumption_hash} ({market.assumptions.origin})"


# ------------------------------------------------------------------------------------------ assumptions


@app.group()
def assumptions() -> None:
    """Show, validate and compare assumption sets."""


@assumptions.command("show")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override for this run.")
@json_option
def assumptions_show(file: Path | None, overrides: Sequence[str], as_json: bool) -> None:
    """Every assumption with its kind and source, and the calibration residuals (default: embedded set)."""
    market = open_market(file, overrides)
    a = market.assumptions
    residuals = [
        {
            "anchor": r.anchor.label,
            "published": r.anchor.value,
            "modelled": r.modelled,
            "residual": r.difference,
            "in_last_digits": r.in_last_digits,
            "reproduced": r.reproduced,
        }
        for r in market.calibration.residuals
    ]
    if as_json:
        echo_json(
            {
                "name": a.name,
                "origin": a.origin,
                **provenance(market),
                "entries": [_entry_json(market, e) for e in a.entries()],
                "calibration": residuals,
                "set_hash": a.set_hash,
                "overrides": [
                    {"key": o.key, "in_set": o.in_set, "in_force": o.in_force} for o in a.overridden
                ],
            }
        )
        return
    rows = [(e.key, _entry_value(market, e), e.kind, e.source) for e in a.entries()]
    print_table(f"Assumptions: {a.name}", ("key", "value", "kind", "source"), rows, _caption(market))
    if a.overridden:  # the engine's record of what --set changed, against the set as read
        print_table(
            f"Overrides: {len(a.overridden)} differ from set {a.set_hash}",
            ("key", "value in set", "value in force"),
            [(o.key, _recorded(o.in_set), _recorded(o.in_force)) for o in a.overridden],
            "",
        )
    nulls = [(e.key, market.null_meaning(e.key)) for e in a.entries() if e.value is None]
    if nulls:
        click.echo("Left null in the set, so the model works them out:")
    for key, null in nulls:
        if null is not None:
            worked_out = "" if null.value is None else f" ({null.value:.6g})"
            click.echo(f"  {key}: {null.meaning}{worked_out}")
    print_table(
        "Calibration against the published anchors",
        ("anchor", "published", "modelled", "residual", "last digits", "reproduced"),
        [
            (
                r.anchor.label,
                f"{r.anchor.value:g}",
                f"{r.modelled:.6f}",
                f"{r.difference:+.6f}",
                f"{r.in_last_digits:+.3f}",
                "yes" if r.reproduced else "NO",
            )
            for r in market.calibration.residuals
        ],
    )
    click.echo("Sources:")
    for source in a.sources.values():
        click.echo(f"  [{source.key}] {source.citation()}")


def _entry_value(market: Market, entry: Entry) -> str:
    """An entry's value as the tables show it; one left null shows a word for what the model uses instead
    (``calibrated``, ``residual``, ``fade``: :meth:`Market.null_meaning`), which a line under the table
    explains."""
    if entry.value is not None:
        return f"{entry.value:.6g}"
    null = market.null_meaning(entry.key)
    return "null" if null is None else null.word


def _entry_json(market: Market, entry: Entry) -> dict[str, object]:
    """An entry for ``--json``; one left null adds ``null_meaning``: the value the model uses and why."""
    out: dict[str, object] = dict(entry.__dict__)
    null = market.null_meaning(entry.key) if entry.value is None else None
    if null is not None:
        out["null_meaning"] = {"value": null.value, "meaning": null.meaning}
    return out


@assumptions.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def assumptions_validate(file: Path) -> None:
    """Check an assumption file: structure, types, shares, sources, and that calibration succeeds."""
    market = open_market(file, ())
    click.echo(
        f"{file}: valid ({len(market.assumptions.entries())} assumptions, hash {market.assumption_hash}); "
        "every published anchor reproduced"
    )


@assumptions.command("diff")
@click.argument("first", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("second", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def assumptions_diff(first: Path, second: Path, as_json: bool) -> None:
    """What differs between two assumption files, aligned by calendar year, and the market year by year.

    Anchors are compared by the years they are for (a new edition whose base year moved from 2025 to 2026
    is compared year by year), member shares in each set's base year, the total in every year either
    set publishes.
    """
    a, b = open_market(first, ()), open_market(second, ())
    share_year = max(a.base_year, b.base_year)
    before, after = _by_calendar(a, share_year), _by_calendar(b, share_year)
    changed = [
        (key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after), key=lambda k: (k not in before, k))
        if _differs(before.get(key), after.get(key))
    ]
    years = range(min(a.base_year, b.base_year), max(a.horizon_year, b.horizon_year) + 1)
    if as_json:
        h = b.horizon_year
        echo_json(
            {
                "changes": [
                    {"key": k, "first": old and old.value, "second": new and new.value}
                    for k, old, new in changed
                ],
                "years": [
                    {
                        "year": y,
                        "first": a.forecast(y),
                        "first_status": a.status(y),
                        "second": b.forecast(y),
                        "second_status": b.status(y),
                        "change": b.forecast(y) / a.forecast(y) - 1,
                    }
                    for y in years
                ],
                "horizon": {"year": h, "first": a.forecast(h), "second": b.forecast(h)},
            }
        )
        return
    if not changed:
        click.echo(f"No differences ({a.assumption_hash} = {b.assumption_hash}).")
        return
    first_label, second_label = edition_labels(first, second)
    print_table(
        f"{first} -> {second}",
        ("assumption", first_label, second_label),
        [(k, _shown(a, old), _shown(b, new)) for k, old, new in changed],
    )
    print_table(
        "Market by calendar year, USD bn",
        ("year", first_label, "status", second_label, "status", "change"),
        [
            (
                str(y),
                money(a.forecast(y)),
                a.status(y),
                money(b.forecast(y)),
                b.status(y),
                percent(b.forecast(y) / a.forecast(y) - 1),
            )
            for y in years
        ],
    )


def edition_labels(first: Path, second: Path) -> tuple[str, str]:
    """Column headers for two compared files: their names, with as many parent folders as it takes to
    tell them apart (``2026/assumptions.yaml``); a whole path would be cut to its first few characters in
    a column. The table's title names both files in full.

    >>> edition_labels(Path("/data/2026.yaml"), Path("/data/2027.yaml"))
    ('2026.yaml', '2027.yaml')
    >>> edition_labels(Path("/a/2026/set.yaml"), Path("/a/2027/set.yaml"))
    ('2026/set.yaml', '2027/set.yaml')
    """
    parts_a, parts_b = first.parts, second.parts
    for depth in range(1, max(len(parts_a), len(parts_b)) + 1):
        a, b = Path(*parts_a[-depth:]), Path(*parts_b[-depth:])
        if a != b:
            return a.as_posix(), b.as_posix()
    return str(first), str(second)


def _differs(old: Entry | None, new: Entry | None) -> bool:
    return (
        old is None or new is None or (old.value, old.kind, old.source) != (new.value, new.kind, new.source)
    )


def _shown(market: Market, entry: Entry | None) -> str:
    return "-" if entry is None else _entry_value(market, entry)


def _by_calendar(market: Market, share_year: int) -> dict[str, Entry]:
    """A set's entries keyed by what they are in calendar terms: anchors by their years ('market size
    2026', 'CAGR 2026-2030'), member shares as the share in `share_year` (the later base year of two
    editions: an assumption in one, the modelled share in the other), everything else by key."""
    out: dict[str, Entry] = {}
    for e in market.assumptions.entries():
        if e.key.startswith("anchors."):
            out[f"anchor: {e.label}"] = e
        elif e.key.startswith("dimensions.") and e.key.endswith(".share"):
            _, dim, member, _ = e.key.split(".")
            share = market.share(share_year, f"{dim}:{member}")
            out[f"{e.key} {share_year}"] = dataclasses.replace(e, value=share)
        else:
            out[e.key] = e
    return out


# ------------------------------------------------------------------------------------------ workbook


@app.command()
@click.option("--client", "client_name", default=None, help="Client name (or the profile's name).")
@click.option(
    "--profile", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Client profile (YAML)."
)
@click.option("--scenario", default=None, help="Scenario selected on opening (default: the profile's).")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Workbook file (.xlsx), or an existing folder: the file is then named after the client.",
)
@logo_option
@model_options
def workbook(
    client_name: str | None,
    profile: Path | None,
    scenario: str | None,
    out: Path,
    logo: Path | None,
    assumptions: Path | None,
    overrides: Sequence[str],
) -> None:
    """Write a client workbook: live formulas on one Inputs sheet, stored results, native charts."""
    from .report import build_context, load_profile
    from .report.workbook import workbook_path, write_workbook

    if client_name is None and profile is None:
        fail("Missing --client NAME (or a --profile FILE with a name)")
    chosen = load_profile(profile, name=client_name, logo=logo)
    override_text = "; ".join(overrides) if overrides else None
    context = build_context(chosen, assumptions, override_text, scenario=scenario)
    echo_warnings(context.market)
    path = write_workbook(context, workbook_path(context, out))
    h = context.headline
    click.echo(
        f"Wrote {path} (scenario {context.scenario}, {h.horizon_year}: {h.line.text}; "
        f"CAGR {percent(h.cagr)} {context.period}; {context.provenance})"
    )


# ------------------------------------------------------------------------------------------ excel


@app.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("IMGOUT.xlsm"),
    show_default=True,
    help="Where to write the workbook (the repository's copy is workbooks/IMGOUT.xlsm).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; print what Excel will use here: Python and its bitness, xlwings, the xlwings "
    "config and its interpreter, the assumption file, whether the functions import (exit 1 or 2 on a problem).",
)
def excel(out: Path, check: bool) -> None:
    """Write or refresh IMGOUT.xlsm: the xlwings workbook whose demo sheet uses every IMGOUT_* function.

    Stored results come from the assumptions the functions use (IMGOUT_ASSUMPTIONS, else the default).
    With --check, write nothing and report what Excel would use on this machine.
    """
    if check:
        from .excel import check as checks

        findings = checks.run()
        click.echo(checks.report(findings))
        problems = [f.problem for f in findings if f.problem is not None]
        if problems:
            raise problems[0]
        return
    from .excel.frontend import UDF_MODULE, build
    from .excel.functions import current_market

    try:
        path = build(out)
    except OSError as exc:
        raise os_error(f"Cannot write {out}", exc) from None
    click.echo(f"Wrote {path} (UDF Modules = {UDF_MODULE}; {_caption(current_market())})")


# ------------------------------------------------------------------------------------------ briefs


@app.command()
@click.option("--client", default=None, metavar="NAME", help="The client's name (wins over the profile's).")
@click.option(
    "--profile",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Client profile (YAML): name, brand_colour, logo, units, focus_regions, paper, notes ...",
)
@click.option(
    "--scenario", default=None, help="bear, base, bull or a custom one (default: the profile's, else base)."
)
@model_options
@click.option(
    "--format",
    "formats",
    required=True,
    metavar="html|md|pdf|txt|all",
    help="What to write; several as a comma list, e.g. html,pdf.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write into (created if missing); files are named <client>-brief.<format>.",
)
@logo_option
@pdf_engine_option
def brief(
    client: str | None,
    profile: Path | None,
    scenario: str | None,
    assumptions: Path | None,
    overrides: Sequence[str],
    formats: str,
    out: Path,
    logo: Path | None,
    pdf_engine: str | None,
) -> None:
    """Write the client's summary brief: HTML (email-ready), Markdown, PDF and/or plain text."""
    from .report import build_context, load_profile
    from .report.brief import expand_formats, write_briefs
    from .report.brief.pdf import requested_engine

    wanted = expand_formats(formats.split(","))  # a bad format stops here, before anything is computed
    if "pdf" in wanted:
        requested_engine(pdf_engine)  # so does an unknown PDF engine
    chosen = load_profile(profile, name=client, logo=logo)
    context = build_context(
        chosen, assumptions, "; ".join(overrides) if overrides else None, scenario=scenario
    )
    echo_warnings(context.market)
    for fmt, path in write_briefs(context, out, wanted, pdf_engine=pdf_engine).items():
        click.echo(f"Wrote {path} ({fmt})")
    if "pdf" in wanted:
        echo_pdf_engine(pdf_engine)
    click.echo(f"{context.provenance}, {context.scenario} scenario")


# ------------------------------------------------------------------------------------------ demo

DEMO_CLIENT = "Demo Radiology Partners"
DEMO_RECIPIENT = "cfo@demo-radiology.example"


@app.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("imgout-output") / "demo",
    show_default=True,
    help="Folder for the pack.",
)
@click.option("--client", default=DEMO_CLIENT, show_default=True, help="Client name on the pack.")
@model_options
@pdf_engine_option
def demo(
    out: Path, client: str, assumptions: Path | None, overrides: Sequence[str], pdf_engine: str | None
) -> None:
    """Build a whole client pack on the model: workbook, brief (HTML, Markdown, text, PDF) and the email
    as an .eml file (a dry run: nothing is sent)."""
    from .delivery.eml import write_eml
    from .delivery.message import build_message
    from .delivery.pack import build_pack
    from .errors import PdfEngineError
    from .report import build_context, load_profile
    from .report.brief import write_briefs
    from .report.brief.pdf import pdf_engine as engine_for

    profile = load_profile(None, name=client, to=[DEMO_RECIPIENT])
    override_text = "; ".join(overrides) if overrides else None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(f"Cannot write to --out {str(out)!r}", exc) from None
    try:  # without any PDF engine on the machine the demo still builds everything else
        engine_for(pdf_engine)
        missing_pdf = ""
    except PdfEngineError as exc:
        missing_pdf = f"PDF skipped: {exc}"
    pack = build_pack(
        profile,
        out,
        assumptions=assumptions,
        overrides=override_text,
        with_pdf=not missing_pdf,
        pdf_engine=pdf_engine,
    )
    context = build_context(profile, assumptions, override_text)
    echo_warnings(context.market)
    briefs = write_briefs(context, out, ["html", "md", "txt"])
    eml = write_eml(
        # A sender with a name, as a real one has (a bare address beside a bare To reads as bulk mail)
        build_message(pack, profile.to, sender="Imgout Demo <imgout-demo@localhost>"),
        out,
        f"{profile.slug}-email",
    )
    written = [pack.workbook_path, *briefs.values(), pack.pdf_path, eml]
    h = context.headline
    click.echo(
        f"{client}: {context.market_name} in {h.horizon_year}: {h.line.text}; "
        f"CAGR {percent(h.cagr)} {context.period} ({context.provenance})"
    )
    click.echo(f"Pack written to {out.resolve()}:")
    for path in written:
        if path is not None:
            click.echo(f"  {path.name}")
    if missing_pdf:
        click.echo(missing_pdf)
    else:
        echo_pdf_engine(pdf_engine)
    click.echo("The email was written as a file, not sent (see `imgout send` / `imgout batch`).")


@app.command()
@click.option(
    "--mail",
    is_flag=True,
    help="Only log in to the mail server (or get a token and read the Graph mailbox), sending nothing.",
)
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Delivery settings file (YAML). Default: IMGOUT_SETTINGS.",
)
def doctor(mail: bool, settings_file: Path | None) -> None:
    """Check this machine: which PDF engines print here (each is tried on a small page), and why not; where
    each mail secret comes from (never the secret). With --mail: log in to send mail, and send nothing.

    Exit code 1 when no PDF engine works (PDF briefs cannot be made; everything else can), or, with
    --mail, when the login fails.
    """
    import platform

    from .report.brief.pdf import ENGINE_SETTING, check_engines, pdf_engine, requested_engine

    if mail:
        _doctor_mail(settings_file)
        return
    click.echo(
        f"imgout {__version__} on {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
    _doctor_secrets(settings_file)
    click.echo("PDF engines:")
    checks = check_engines()
    for check in checks:
        click.echo(f"  {check.name:<11} {'works' if check.works else 'not available'}: {check.detail}")
    choice = requested_engine(None)
    if not any(check.works for check in checks):
        click.echo("No PDF engine works here: install Chrome, Edge or Chromium (or set IMGOUT_BROWSER).")
        sys.exit(1)
    source = f"{ENGINE_SETTING}={choice}" if os.environ.get(ENGINE_SETTING) else "the default, auto"
    try:
        engine = pdf_engine(choice)
    except ImgoutError as exc:
        click.echo(f"PDF briefs fail with {source}: {exc}; --pdf-engine chooses another")
        sys.exit(1)
    failed = next((c for c in checks if c.name == engine.name and not c.works), None)
    if failed is not None:  # found, but it did not print the test page: say so, never that it prints
        click.echo(
            f"PDF briefs fail with {source}: it picks {engine.name}, which did not print the test page "
            f"({failed.detail}); --pdf-engine or {ENGINE_SETTING} chooses another"
        )
        sys.exit(1)
    click.echo(f"PDF briefs are printed by {engine.description} ({source}; --pdf-engine chooses).")
    if engine.notice:
        click.echo(engine.notice)


def _doctor_secrets(settings_file: Path | None) -> None:
    """Where each mail secret comes from, in one line each; never the secret."""
    from .delivery import secrets
    from .delivery.settings import load_settings

    try:
        in_use = dict(load_settings(settings_file=settings_file).secret_sources)
        problem = ""
    except ImgoutError as exc:  # the settings are wrong: say so, and still say where secrets would come from
        in_use, problem = {}, str(exc)
    click.echo("Mail secrets (`imgout secret set NAME` stores one in the OS keyring):")
    shown: list[str] = []
    for name in secrets.SECRETS:
        try:
            source = in_use.get(name) or secrets.find(name).source
        except ImgoutError as exc:
            source = f"not usable: {exc}"
        shown.append(source)
        click.echo(
            f"  {name:<23} {source}{'' if name in in_use or source.startswith('not') else ' (not used by these settings)'}"
        )
    if any(source == secrets.NO_KEYRING for source in shown):
        click.echo("  This machine has no OS keyring imgout can use: set the environment variables instead.")
    if problem:
        click.echo(f"Mail settings: {problem}")


def _doctor_mail(settings_file: Path | None) -> None:
    """Log in as a send would, send nothing, and say in one line what works or what to fix (exit 1 if not)."""
    from .delivery.settings import load_settings

    settings = load_settings(settings_file=settings_file)
    sender = settings.sender
    if settings.mail_channel == "graph":
        from .delivery.graph import GraphSender

        with GraphSender(settings) as graph:
            problem = graph.check()
            source = graph.tokens.source
        where = f"Microsoft Graph ({settings.graph_url}) for {sender}, token from {source}"
        works = "token accepted and the mailbox readable; Mail.Send is proven only by a send"
    else:
        from .delivery.smtp import Mailer

        with Mailer(settings) as mailer:
            problem = mailer.log_in()
        if settings.smtp_auth == "xoauth2":
            how, works = f"XOAUTH2 as {settings.smtp_user}, token from {mailer.tokens.source}", "logged in"
        elif settings.smtp_password is not None:
            how, works = f"password of {settings.smtp_user}", "logged in"
        else:
            how, works = "no login configured", "connected"
        where = f"SMTP {settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security}, {how})"
    if problem:
        click.echo(f"Mail: fails: {where}: {problem}")
        sys.exit(1)
    click.echo(f"Mail: works: {where}: {works}; nothing was sent.")


@app.group()
def secret() -> None:
    """Store or delete a mail secret in the OS keyring (Windows Credential Manager, macOS Keychain, Secret
    Service). NAME is one of smtp-password, ms-client-secret, ms-certificate, google-service-account. The
    environment variable, when set, wins over the keyring; `imgout doctor` says which one is used."""


@secret.command("set")
@click.argument("name")
@click.argument("given", nargs=-1, metavar="")
def secret_set(name: str, given: Sequence[str]) -> None:
    """Store secret NAME: read from stdin when piped (a whole PEM or JSON key file too), else asked for
    without echo. Never given as an argument, where shell history and process lists would keep it."""
    from .delivery import secrets

    kind = secrets.secret(name)
    if given:  # refused without repeating it: an argument is in shell history and process lists already
        fail(
            "imgout secret set takes the secret from stdin or a prompt, never as an argument; nothing was "
            "stored (clear the command from your shell history)"
        )
    if sys.stdin.isatty():
        value = click.prompt(f"{kind.what} ({name})", hide_input=True, confirmation_prompt=True)
    else:
        value = sys.stdin.read()
        if kind.file_var is None:  # a password or client secret: one line, without the newline echo adds
            value = value.rstrip("\r\n")
    where = secrets.store(name, value)
    click.echo(f"Stored {name} in the OS keyring ({where}).")
    env = kind.env_var
    if env and os.environ.get(env):
        click.echo(f"Note: {env} is set and wins over the keyring; unset it to use the stored secret.")


@secret.command("delete")
@click.argument("name")
def secret_delete(name: str) -> None:
    """Delete secret NAME from the OS keyring."""
    from .delivery import secrets

    if secrets.forget(name):
        click.echo(f"Deleted {name} from the OS keyring ({secrets.keyring_name()}).")
    else:
        click.echo(f"{name} was not in the OS keyring ({secrets.keyring_name()}); nothing deleted.")


# ------------------------------------------------------------------------------------------ delivery


def delivery_options(func: F) -> F:
    """Options shared by `send` and `batch`: dry run, PDF, ledger, log, settings file."""
    for option in reversed(
        (
            click.option(
                "--dry-run",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                metavar="DIR",
                help="Write one .eml per message into DIR instead of sending (same checks; ledger untouched).",
            ),
            click.option("--no-pdf", is_flag=True, help="Do not attach the PDF brief (faster)."),
            pdf_engine_option,
            click.option(
                "--ledger",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Send ledger (SQLite). Default: IMGOUT_LEDGER or ~/.local/state/imgout/ledger.sqlite3.",
            ),
            click.option(
                "--log",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="JSON-lines log of every attempt. Default: IMGOUT_LOG or ~/.local/state/imgout/delivery.jsonl.",
            ),
            click.option(
                "--settings",
                "settings_file",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Delivery settings file (YAML; never the password). Default: IMGOUT_SETTINGS.",
            ),
            click.option(
                "--resend-in-doubt",
                is_flag=True,
                help="Also resend packs whose earlier send may or may not have arrived (same Message-ID); "
                "never one another live run is sending.",
            ),
            click.option(
                "--edition",
                default="",
                metavar="LABEL",
                help="Send again packs whose content did not change, as a new edition (e.g. 2026-03).",
            ),
        )
    ):
        func = option(func)
    return func


#: What the operator can do about a client left with a status, in this command's terms (the library's
#: reasons name files and settings, never flags).
ADVICE = {
    "in doubt": "then `imgout ledger resolve CLIENT --delivered` or `--resend`, or rerun with --resend-in-doubt "
    "(same Message-ID)",
    "in progress": "`imgout ledger show CLIENT` shows its outcome when that run ends",
}


def _quoted(text: str) -> str:
    """``text`` quoted for a POSIX shell when it needs it (a client name in a command to copy)."""
    import shlex

    return shlex.quote(text)


def _deliver(
    entries: Sequence[Any],
    *,
    dry_run: Path | None,
    no_pdf: bool,
    pdf_engine: str | None,
    ledger: Path | None,
    log: Path | None,
    settings_file: Path | None,
    resend_in_doubt: bool,
    edition: str,
    assumptions: Path | None,
    overrides: Sequence[str],
    jobs: int = 1,
    scheduler: str | None = None,
) -> Any:
    from .delivery.batch import channel_for, check_edition, run_batch
    from .delivery.settings import load_settings
    from .delivery.terminal import print_summary, progress_bar

    edition = check_edition(edition)
    settings = load_settings(settings_file=settings_file).with_paths(ledger, log)
    if not no_pdf and scheduler:
        from .report.brief.pdf import requested_engine

        requested_engine(pdf_engine)  # each Dask worker finds its own engine
    elif not no_pdf:  # an engine that cannot run here stops the run before anything is built
        echo_pdf_engine(pdf_engine, what="PDFs printed by" if jobs == 1 else "PDFs printed in each worker by")
    channel = channel_for(settings, dry_run=dry_run, resend_in_doubt=resend_in_doubt)
    what = "Writing" if dry_run is not None else "Sending"
    with progress_bar(len(entries), what) as progress:
        report = run_batch(
            entries,
            settings,
            channel,
            jobs=jobs,
            scheduler=scheduler,
            assumptions=assumptions,
            overrides="; ".join(overrides) if overrides else None,
            with_pdf=not no_pdf,
            edition=edition,
            pdf_engine=pdf_engine,
            progress=progress,
        )
    print_summary(report, settings)
    if report.failures:
        for r in report.failures:
            advice = (
                f"; {ADVICE[r.status].replace('CLIENT', _quoted(r.client))}" if r.status in ADVICE else ""
            )
            click.echo(f"imgout: {r.client}: {r.status}: {r.reason}{advice}", err=True)
        click.echo(f"imgout: {len(report.failures)} of {len(report.results)} clients not served", err=True)
        sys.exit(1)
    return report


@app.command()
@click.option("--client", "client_name", default=None, help="Client name (or the profile's name).")
@click.option("--to", "to", multiple=True, metavar="ADDR", help="Recipient (repeatable; default: profile's).")
@click.option("--cc", "cc", multiple=True, metavar="ADDR", help="Copy recipient (repeatable).")
@click.option(
    "--profile", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Client profile (YAML)."
)
@logo_option
@delivery_options
@model_options
def send(
    client_name: str | None,
    to: Sequence[str],
    cc: Sequence[str],
    profile: Path | None,
    logo: Path | None,
    dry_run: Path | None,
    no_pdf: bool,
    pdf_engine: str | None,
    ledger: Path | None,
    log: Path | None,
    settings_file: Path | None,
    resend_in_doubt: bool,
    edition: str,
    assumptions: Path | None,
    overrides: Sequence[str],
) -> None:
    """Build one client's pack and email it (once: a repeat is refused by the send ledger).

    Settings come from IMGOUT_SMTP_HOST, _PORT, _SECURITY (none|starttls|ssl), _USER, _PASSWORD (or the
    keyring), _AUTH (password|xoauth2), IMGOUT_MAIL_CHANNEL (smtp|graph), IMGOUT_MAIL_FROM and
    IMGOUT_ALLOWED_DOMAINS. Bad recipients exit with code 2; a failed send with 1.
    """
    from .delivery.batch import ClientEntry, check_against_market
    from .delivery.message import check_recipients
    from .delivery.settings import load_settings
    from .report.profile import load_profile

    if client_name is None and profile is None:
        fail("Missing --client NAME (or a --profile FILE with a name)")
    chosen = load_profile(profile, name=client_name, to=list(to) or None, cc=list(cc) or None, logo=logo)
    settings = load_settings(settings_file=settings_file)
    # Refused before anything is built: exit code 2 with the reason.
    check_recipients(chosen.to, chosen.cc, settings.allowed_domains)
    check_against_market(chosen, open_market(assumptions, overrides), str(profile or "<command line>"))
    _deliver(
        [ClientEntry(chosen, str(profile or "<command line>"))],
        dry_run=dry_run,
        no_pdf=no_pdf,
        pdf_engine=pdf_engine,
        ledger=ledger,
        log=log,
        settings_file=settings_file,
        resend_in_doubt=resend_in_doubt,
        edition=edition,
        assumptions=assumptions,
        overrides=overrides,
    )


@app.command()
@click.argument("clients_file", metavar="CLIENTS.yaml", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--jobs", default=1, show_default=True, type=click.IntRange(1, 256), help="Build packs in N processes."
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Build packs on a Dask cluster, e.g. tcp://10.0.0.5:8786 (sending stays here, one at a time).",
)
@delivery_options
@model_options
def batch(
    clients_file: Path,
    jobs: int,
    scheduler: str | None,
    dry_run: Path | None,
    no_pdf: bool,
    pdf_engine: str | None,
    ledger: Path | None,
    log: Path | None,
    settings_file: Path | None,
    resend_in_doubt: bool,
    edition: str,
    assumptions: Path | None,
    overrides: Sequence[str],
) -> None:
    """Build and email every client's pack in CLIENTS.yaml; a rerun sends only what was not delivered.

    The file lists clients as profiles with recipients: `clients: [{name: ..., to: [...], cc: [...]}]`.
    Exit code 1 (with the reason per client) when any client was not served.
    """
    from .delivery.batch import check_scheduler, load_clients

    if scheduler and jobs != 1:
        fail("Use --jobs N (local processes) or --scheduler ADDRESS (Dask), not both")
    if scheduler is not None:
        scheduler = check_scheduler(scheduler)  # before anything is read or built
    entries = load_clients(clients_file, open_market(assumptions, overrides))
    _deliver(
        entries,
        dry_run=dry_run,
        no_pdf=no_pdf,
        pdf_engine=pdf_engine,
        ledger=ledger,
        log=log,
        settings_file=settings_file,
        resend_in_doubt=resend_in_doubt,
        edition=edition,
        assumptions=assumptions,
        overrides=overrides,
        jobs=jobs,
        scheduler=scheduler,
    )


# ------------------------------------------------------------------------------------------ the ledger


def ledger_options(func: F) -> F:
    """--ledger and --settings: which send ledger the `ledger` commands read."""
    func = click.option(
        "--settings",
        "settings_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Delivery settings file (YAML) naming the ledger. Default: IMGOUT_SETTINGS.",
    )(func)
    return click.option(
        "--ledger",
        "ledger_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Send ledger (SQLite). Default: IMGOUT_LEDGER or ~/.local/state/imgout/ledger.sqlite3.",
    )(func)


def _open_ledger(ledger_file: Path | None, settings_file: Path | None) -> Any:
    from .delivery.ledger import Ledger
    from .delivery.settings import load_settings

    return Ledger(ledger_file or load_settings(settings_file=settings_file).ledger, create=False)


@app.group()
def ledger() -> None:
    """Look into the send ledger, and record what you checked in a mailbox (never edit it by hand)."""


@ledger.command("list")
@click.option(
    "--status",
    type=click.Choice(["sent", "partly sent", "failed", "in doubt", "in progress"]),
    default=None,
    help="Only packs in this state.",
)
@ledger_options
@json_option
def ledger_list(
    status: str | None, ledger_file: Path | None, settings_file: Path | None, as_json: bool
) -> None:
    """Every pack in the ledger: client, scenario, period, state, each recipient's state."""
    from .delivery.terminal import pack_json, print_packs

    with _open_ledger(ledger_file, settings_file) as book:
        packs = [p for p in book.packs() if status is None or p.status == status]
        if as_json:
            echo_json([pack_json(p) for p in packs])
            return
        print_packs(packs, book.path)


@ledger.command("show")
@click.argument("client")
@ledger_options
@json_option
def ledger_show(client: str, ledger_file: Path | None, settings_file: Path | None, as_json: bool) -> None:
    """Every pack of CLIENT with each recipient, the run holding it, and its history."""
    from .delivery.terminal import pack_json, print_pack

    with _open_ledger(ledger_file, settings_file) as book:
        packs = book.packs(client)
        if not packs:
            fail(f"Send ledger {book.path} has no pack for client {client[:80]!r}")
        if as_json:
            echo_json([{**pack_json(p), "history": book.history(p.pack_key)} for p in packs])
            return
        for pack in packs:
            print_pack(pack, book.history(pack.pack_key))


@ledger.command("resolve")
@click.argument("client")
@click.option("--delivered", is_flag=True, help="It arrived (you checked the mailbox): never send it again.")
@click.option(
    "--resend", is_flag=True, help="It did not arrive: the next run sends it again (same Message-ID)."
)
@click.option(
    "--pack", "pack_id", default=None, metavar="ID", help="Which pack, when the client has several open."
)
@click.option(
    "--recipient", "recipients", multiple=True, metavar="ADDR", help="Only this recipient (repeatable)."
)
@click.option("--note", default="", help="Why, in a few words (recorded with your name and the time).")
@ledger_options
def ledger_resolve(
    client: str,
    delivered: bool,
    resend: bool,
    pack_id: str | None,
    recipients: Sequence[str],
    note: str,
    ledger_file: Path | None,
    settings_file: Path | None,
) -> None:
    """Settle CLIENT's pack that is in doubt (or not sent to everyone): --delivered or --resend."""
    from .report.profile import text_problem

    if delivered == resend:
        fail("Say what you found: --delivered (it arrived) or --resend (it did not), one of them")
    if len(note) > 500 or text_problem(note):
        fail("Invalid --note: at most 500 characters, without control characters")
    with _open_ledger(ledger_file, settings_file) as book:
        pack, changed = book.resolve(client, delivered, pack=pack_id, addresses=recipients, note=note)
    what = (
        "delivered: never sent again" if delivered else "to be sent again by the next run (same Message-ID)"
    )
    click.echo(
        f"{pack.client}, pack {pack.pack_id} ({pack.scenario}, {pack.period}): {', '.join(changed)} {what}"
    )


# ------------------------------------------------------------------------------------------ entry point


def _quiet_unraisable(unraisable: Any) -> None:
    """Errors Python can only ignore (a half-written zip's destructor on a full disk) are not shown: the
    command has already said what failed, once, in one line."""
    if isinstance(unraisable.exc_value, OSError) and not os.environ.get("IMGOUT_DEBUG"):
        return
    sys.__unraisablehook__(unraisable)


def _failure(exc: BaseException) -> ImgoutError | None:
    """A file-system or writer error that escaped a command, as the user's one-line error (None: a bug)."""
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else None
        return os_error(f"Cannot use {str(where)!r}" if where is not None else "File error", exc)
    cause = exc.args[0] if exc.args else None
    if type(exc).__name__ == "FileCreateError" and isinstance(cause, OSError):  # XlsxWriter's wrapper
        return os_error(
            f"Cannot write {cause.filename!r}" if cause.filename else "Cannot write the workbook", cause
        )
    return None


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command. The exit code follows EXIT_CODES: 0 done, 1 environment or delivery failure,
    2 bad input (one line on stderr naming it), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM)."""
    sys.unraisablehook = _quiet_unraisable
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        _run(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(argv: Sequence[str] | None) -> None:
    try:
        app.main(args=list(argv) if argv is not None else None, prog_name="imgout", standalone_mode=False)
    except click.exceptions.Abort as exc:  # click turns Ctrl-C into Abort
        code = TERMINATED if isinstance(exc.__cause__, Terminated) else INTERRUPTED
        click.echo(stopped(code), err=True)
        sys.exit(code)
    except click.ClickException as exc:
        click.echo(f"imgout: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except ImgoutError as exc:
        click.echo(f"imgout: error: {exc}", err=True)
        sys.exit(exit_code(exc))
    except Terminated:
        click.echo(stopped(TERMINATED), err=True)
        sys.exit(TERMINATED)
    except KeyboardInterrupt:
        click.echo(stopped(INTERRUPTED), err=True)
        sys.exit(INTERRUPTED)
    except Exception as exc:  # a bug, not bad input: still one line unless asked for the traceback
        failure = _failure(exc)
        if failure is not None:
            click.echo(f"imgout: error: {failure}", err=True)
            sys.exit(exit_code(failure))
        if os.environ.get("IMGOUT_DEBUG"):
            raise
        click.echo(
            f"imgout: internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
            "(set IMGOUT_DEBUG=1 for details)",
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
