"""Client profiles: who a pack is for and how it should look (name, brand colour, logo, units, paper ...).

A profile comes from a YAML file, one entry of a clients file, or command-line options; every key is checked
here, and an error names the file (or entry) and the key.
"""

from __future__ import annotations

import re
import stat
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.formats import UNIT_LABELS
from ..common.yamlfile import describe, read_yaml_mapping, shorten
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
MAX_NOTES_LENGTH = 5_000
#: At most this many names in focus_regions/focus_segments, and this many addresses in to and in cc.
MAX_LIST_LENGTH = 100
MAX_LOGO_BYTES = 5_000_000
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
#: Names Windows keeps for devices: a file called CON.eml (or con.xlsx) cannot be opened there.
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789"}
)
#: Characters that change how the text around them is displayed (bidirectional overrides and isolates).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


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

    Non-Latin letters are kept (file systems take them); anything else becomes '-'. A name Windows keeps
    for a device (CON, AUX, COM1 ...) gets the fallback word added, so the file opens everywhere.
    >>> safe_filename("../../etc/passwd")
    'etc-passwd'
    >>> safe_filename("con")
    'con-client'
    """
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-_.")
    text = re.sub(r"-{2,}", "-", text)[:80].strip("-_.")
    if text.upper() in WINDOWS_RESERVED:
        text = f"{text}-{fallback}"
    return text or fallback


def text_problem(text: str, line_breaks: bool = False) -> str | None:
    """Why ``text`` may not appear in a file name, header, cell or terminal line, or None if it may.

    Control characters (ESC, NUL, DEL ...) and bidirectional overrides are refused rather than removed,
    so that what is sent is what the user wrote; ``line_breaks`` allows CR, LF and tab (notes).
    """
    for position, ch in enumerate(text, start=1):
        if line_breaks and ch in "\r\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS:
            return f"contains the control character U+{ord(ch):04X} at position {position} (remove it)"
    return None


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``), for an error message about it."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS
        else ch
        for ch in text
    )


def profile_from_mapping(
    data: Mapping[str, Any], where: str, *, folder: Path | None = None, **overrides: Any
) -> ClientProfile:
    """A validated profile from a mapping (a profile file or one entry of a clients file).

    ``folder`` is the folder of the file the mapping was read from: a ``logo`` in the mapping is a file
    in that folder (or below it) and may not lead out of it. ``overrides`` come from the command line and
    win over the mapping; a logo given there may be anywhere.
    """
    values = dict(data)
    values.update({k: str(v) if isinstance(v, Path) else v for k, v in overrides.items() if v is not None})
    for key in values:
        if key not in PROFILE_KEYS:
            shown = key if isinstance(key, str) else repr(key)
            raise ProfileError(
                f"Invalid profile in {where}: {shorten(shown)}: unknown key (allowed: {', '.join(PROFILE_KEYS)})"
            )

    def bad(key: str, problem: str) -> ProfileError:
        return ProfileError(f"Invalid profile in {where}: {key}: {problem}")

    def text(key: str, default: str, limit: int = 200, line_breaks: bool = False) -> str:
        raw = values.get(key)
        if raw is None or raw == "":
            return default
        if not isinstance(raw, str):
            raise bad(key, f"expected text, got {describe(raw)}")
        if len(raw) > limit:
            raise bad(key, f"{len(raw):,} characters, at most {limit:,} allowed")
        problem = text_problem(raw, line_breaks)
        if problem:
            raise bad(key, problem)
        return raw

    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad("name", "a client name (text) is required")
    if len(name) > MAX_NAME_LENGTH * 4:
        raise bad("name", f"{len(name):,} characters, at most {MAX_NAME_LENGTH} allowed")
    name = " ".join(name.split())  # CR/LF and tabs in a name never reach a header or a cell
    if len(name) > MAX_NAME_LENGTH:
        raise bad("name", f"{len(name)} characters, at most {MAX_NAME_LENGTH} allowed")
    problem = text_problem(name)
    if problem:
        raise bad("name", problem)
    colour = text("brand_colour", DEFAULT_COLOUR)
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", colour):
        raise bad("brand_colour", f"{shorten(colour)!r} is not a colour like #1F4E79")
    units = text("units", "bn")
    if units not in UNIT_LABELS:
        raise bad("units", f"{shorten(units)!r} is not allowed (expected one of {', '.join(UNIT_LABELS)})")
    paper = text("paper", "A4")
    match = {p.casefold(): p for p in PAPER_SIZES}.get(paper.casefold())
    if match is None:
        raise bad("paper", f"{shorten(paper)!r} is not allowed (expected one of {', '.join(PAPER_SIZES)})")
    logo = text("logo", "", limit=1_000)
    trusted = "logo" in overrides and overrides["logo"] is not None
    logo_path = _logo(logo, None if trusted else folder, bad) if logo else None

    def names(key: str, check: bool = True) -> tuple[str, ...]:
        raw = values.get(key, ()) or ()
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
            raise bad(key, "expected a list of names")
        if len(raw) > MAX_LIST_LENGTH:
            raise bad(key, f"{len(raw)} entries, at most {MAX_LIST_LENGTH} allowed")
        for item in raw:
            if len(item) > MAX_NAME_LENGTH:
                raise bad(key, f"an entry of {len(item):,} characters, at most {MAX_NAME_LENGTH} allowed")
            problem = text_problem(item) if check else None
            if problem:
                raise bad(key, f"{shorten(item)!r} {problem}")
        return tuple(raw)

    def year(key: str, default: int) -> int:
        raw = values.get(key, default)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise bad(key, f"expected a year, got {describe(raw)}")
        return raw

    return ClientProfile(
        name=name,
        brand_colour=colour.upper(),
        logo=logo_path,
        units=units,
        focus_regions=names("focus_regions"),
        focus_segments=names("focus_segments"),
        scenario=text("scenario", "base") or "base",
        paper=match,
        notes=text("notes", "", MAX_NOTES_LENGTH, line_breaks=True),
        first_year=year("first_year", 2020),
        last_year=year("last_year", 2035),
        # Addresses are checked (line breaks included) by the delivery's address check.
        to=names("to", check=False),
        cc=names("cc", check=False),
    )


def _logo(logo: str, folder: Path | None, bad: Callable[[str, str], ProfileError]) -> Path:
    """The logo's path: inside ``folder`` when it comes from a file (None: from the command line)."""
    path = Path(logo).expanduser() if folder is None else folder / logo  # an absolute logo replaces folder
    if folder is not None:
        inside = folder.resolve()
        if not path.resolve().is_relative_to(inside):
            raise bad(
                "logo",
                f"{shorten(logo)!r} is outside the folder {str(folder) or '.'} of the file that names it; "
                "put the image in that folder, or give it on the command line",
            )
    what = f"{shorten(logo)!r} is not a readable .png or .jpg file"
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise bad("logo", what)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise bad("logo", what)
        if info.st_size > MAX_LOGO_BYTES:
            raise bad("logo", f"{shorten(logo)!r} is larger than {MAX_LOGO_BYTES:,} bytes")
        with path.open("rb") as file:
            head = file.read(8)
    except OSError:
        raise bad("logo", what) from None
    if not head.startswith(_IMAGE_MAGIC):
        raise bad("logo", f"{shorten(logo)!r} is not a PNG or JPEG image (its content is something else)")
    return path


def load_profile(path: Path | None, **overrides: Any) -> ClientProfile:
    """Read a client profile (YAML); keyword overrides (name, scenario ...) win over the file.

    A logo named in the file is looked for in the file's folder.
    """
    if path is None:
        return profile_from_mapping({}, "<command line>", **overrides)
    where = str(path)
    data = read_yaml_mapping(
        path,
        lambda key, problem: ProfileError(
            f"Invalid profile in {where}: {f'{key}: ' if key else ''}{problem}"
        ),
    )
    return profile_from_mapping(data, where, folder=Path(path).parent, **overrides)
