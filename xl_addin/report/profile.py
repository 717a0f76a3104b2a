"""Client profiles: who a pack is for and how it should look (name, brand colour, logo, units, paper ...).

A profile comes from a YAML file, one entry of a clients file, or command-line options; every key is checked
here, and an error names the file (or entry) and the key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.formats import UNIT_LABELS
from ..common.yamlfile import read_yaml_mapping
from ..errors import ProfileError

PROFILE_KEYS = (
    "name",
    "brand_colour",
    "logo",
    "units",
    "focus_regions",
    "focus_segments",
    "scenario",
    "paper",
    "notes",
    "first_year",
    "last_year",
    "to",
    "cc",
)
PAPER_SIZES = ("A4", "Letter")
DEFAULT_COLOUR = "#1F4E79"
MAX_NAME_LENGTH = 300


@dataclass(frozen=True)
class ClientProfile:
    """Who a pack is for and how it should look. Every field but the name has a default."""

    name: str
    brand_colour: str = DEFAULT_COLOUR
    logo: Path | None = None
    units: str = "bn"
    focus_regions: tuple[str, ...] = ()
    focus_segments: tuple[str, ...] = ()
    scenario: str = "base"
    paper: str = "A4"
    notes: str = ""
    first_year: int = 2020
    last_year: int = 2035
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        """A file-name-safe form of the client name (see :func:`safe_filename`)."""
        return safe_filename(self.name)


def safe_filename(text: str, fallback: str = "client") -> str:
    """Client text -> a safe file name stem: no path separators, no dots in front, no control characters.

    Non-Latin letters are kept (file systems take them); anything else becomes '-'.
    >>> safe_filename("../../etc/passwd")
    'etc-passwd'
    """
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-_.")
    text = re.sub(r"-{2,}", "-", text)[:80].strip("-_.")
    return text or fallback


def profile_from_mapping(data: Mapping[str, Any], where: str, **overrides: Any) -> ClientProfile:
    """A validated profile from a mapping (a profile file or one entry of a clients file)."""
    values = dict(data)
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in values:
        if key not in PROFILE_KEYS:
            raise ProfileError(
                f"Invalid profile in {where}: {key}: unknown key (allowed: {', '.join(PROFILE_KEYS)})"
            )

    def bad(key: str, problem: str) -> ProfileError:
        return ProfileError(f"Invalid profile in {where}: {key}: {problem}")

    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad("name", "a client name (text) is required")
    name = " ".join(name.split())  # CR/LF and tabs in a name never reach a header or a cell
    if len(name) > MAX_NAME_LENGTH:
        raise bad("name", f"{len(name)} characters, at most {MAX_NAME_LENGTH} allowed")
    colour = str(values.get("brand_colour", DEFAULT_COLOUR))
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", colour):
        raise bad("brand_colour", f"{colour!r} is not a colour like #1F4E79")
    units = str(values.get("units", "bn"))
    if units not in UNIT_LABELS:
        raise bad("units", f"{units!r} is not allowed (expected one of {', '.join(UNIT_LABELS)})")
    paper = str(values.get("paper", "A4"))
    match = {p.casefold(): p for p in PAPER_SIZES}.get(paper.casefold())
    if match is None:
        raise bad("paper", f"{paper!r} is not allowed (expected one of {', '.join(PAPER_SIZES)})")
    logo = values.get("logo")
    logo_path = None
    if logo:
        logo_path = Path(str(logo))
        if not logo_path.is_absolute() and where not in ("", "<command line>"):
            logo_path = Path(where).parent / logo_path
        if logo_path.suffix.lower() not in (".png", ".jpg", ".jpeg") or not logo_path.is_file():
            raise bad("logo", f"{logo!r} is not a readable .png or .jpg file")

    def names(key: str) -> tuple[str, ...]:
        raw = values.get(key, ()) or ()
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
            raise bad(key, "expected a list of names")
        return tuple(raw)

    def year(key: str, default: int) -> int:
        raw = values.get(key, default)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise bad(key, f"expected a year, got {raw!r}")
        return raw

    notes = values.get("notes", "") or ""
    if not isinstance(notes, str):
        raise bad("notes", "expected text")
    return ClientProfile(
        name=name,
        brand_colour=colour.upper(),
        logo=logo_path,
        units=units,
        focus_regions=names("focus_regions"),
        focus_segments=names("focus_segments"),
        scenario=str(values.get("scenario", "base") or "base"),
        paper=match,
        notes=notes,
        first_year=year("first_year", 2020),
        last_year=year("last_year", 2035),
        to=names("to"),
        cc=names("cc"),
    )


def load_profile(path: Path | None, **overrides: Any) -> ClientProfile:
    """Read a client profile (YAML); keyword overrides (name, scenario ...) win over the file."""
    if path is None:
        return profile_from_mapping({}, "<command line>", **overrides)
    where = str(path)
    data = read_yaml_mapping(
        path,
        lambda key, problem: ProfileError(f"Invalid profile {where}: {f'{key}: ' if key else ''}{problem}"),
    )
    return profile_from_mapping(data, where, **overrides)
