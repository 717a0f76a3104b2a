"""The workbook layout: the Jinja template under ``templates/`` rendered from a report context.

The template (``workbook.yaml.j2``) is the one place that says which sheets a client workbook has, in
which order, and which tables, charts and texts each shows. It renders to YAML; this module renders it and
checks the sheet names. Which kinds of sheet exist, and what each needs, is the registry's business
(:mod:`xl_addin.report.workbook.sheets`), which checks the kinds before a workbook is written. Text typed
by users never passes through the template (the layout names a ``field`` and the writer fetches it), so a
client called ``"]: {x`` cannot change the layout.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import yaml

from ..common.formats import UNIT_LABELS, percent
from ..common.resources import templates_dir
from ..errors import LayoutError
from .context import ReportContext

TEMPLATE = "workbook.yaml.j2"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class SheetLayout:
    """One sheet of the layout: its tab name, what kind of sheet it is, and its texts and options."""

    name: str
    kind: str
    spec: Mapping[str, Any]

    def text(self, key: str, default: str = "") -> str:
        """A text of the sheet (title, description, note) as written in the template."""
        value = self.spec.get(key, default)
        return " ".join(str(value).split()) if value is not None else default


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # renders YAML, not HTML; no user text is given to the template
        keep_trailing_newline=True,
    )


def render_layout(context: ReportContext, template: str = TEMPLATE) -> tuple[SheetLayout, ...]:
    """Render the layout template for a context and return its sheets in order, checked."""
    market = context.market
    u = market.assumptions.uncertainty
    variables = {
        "units_label": UNIT_LABELS[context.units],
        "years": (("base", market.base_year), ("next", market.next_year), ("horizon", market.horizon_year)),
        "period": context.period,
        "paths": f"{u.paths:,}",
        "seed": u.seed,
        "volatility": percent(u.annual_volatility),
    }
    return _rendered(template, tuple(sorted(variables.items(), key=lambda kv: kv[0])))


@functools.lru_cache(maxsize=64)
def _rendered(template: str, variables: tuple[tuple[str, Any], ...]) -> tuple[SheetLayout, ...]:
    # The layout depends on units, years and Monte Carlo settings only: rendered and parsed once each.
    values = {k: dict(v) if isinstance(v, tuple) else v for k, v in variables}
    try:
        text = _environment().get_template(template).render(values)
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{template}, line {line}" if line else template
        raise LayoutError(f"Invalid workbook layout {where}: {exc}") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{template} (rendered), line {mark.line + 1}" if mark is not None else template
        raise LayoutError(f"Invalid workbook layout {where}: not valid YAML") from None
    sheets = data.get("sheets") if isinstance(data, Mapping) else None
    if not isinstance(sheets, Sequence) or not sheets:
        raise LayoutError(f"Invalid workbook layout {template}: expected a non-empty list under 'sheets'")
    return check_sheets(sheets, template)


def check_sheets(sheets: Sequence[Any], template: str) -> tuple[SheetLayout, ...]:
    """Sheets that are mappings with a name valid for Excel, unique, and a kind (checked by the registry)."""
    out: list[SheetLayout] = []
    seen: set[str] = set()
    for i, sheet in enumerate(sheets, start=1):
        if not isinstance(sheet, Mapping):
            raise LayoutError(f"Invalid workbook layout {template}: sheet {i} is not a mapping")
        name, kind = sheet.get("name"), sheet.get("kind")
        if not isinstance(name, str) or not name or len(name) > 31 or _BAD_SHEET_CHARS.search(name):
            raise LayoutError(
                f"Invalid workbook layout {template}: sheet {i} name {name!r} "
                "(expected 1 to 31 characters, none of [ ] : * ? / \\)"
            )
        if name.casefold() in seen:
            raise LayoutError(f"Invalid workbook layout {template}: sheet name {name!r} appears twice")
        seen.add(name.casefold())
        if not isinstance(kind, str) or not kind:
            raise LayoutError(f"Invalid workbook layout {template}: sheet {name!r} has no kind")
        out.append(SheetLayout(name, kind, sheet))
    return tuple(out)
