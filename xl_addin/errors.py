"""Every error imgout shows to a user, in one hierarchy: what went wrong decides the exit code.

Each error's ``str()`` is the whole one-line message (what was given, what is allowed, where); every
adapter (Excel functions, the command line, workbooks, briefs, email) shows it as it is, never a
traceback. Three families, one exit code each (the command line maps them in one table, ``EXIT_CODES``):

- :class:`InputError` (exit 2): something the user gave is wrong (an argument, a file's content, a
  setting). Fix the input and run again.
- :class:`OutputError` (exit 1): the input was fine but a file could not be written (full disk, no
  permission, a folder in the way). Fix the environment and run again.
- :class:`DeliveryError` (exit 1): delivery could not be done safely (the send ledger, a Dask cluster).

Messages name files, keys and settings, never command-line flags: the command line adds those.
"""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable


class ImgoutError(Exception):
    """Base of every error imgout shows to a user; ``str()`` is the whole one-line message."""


# ---------------------------------------------------------------------------------------------- input


class InputError(ImgoutError, ValueError):
    """Something the user gave is wrong: an argument, a file's content, a setting (exit code 2)."""


class InvalidArgument(InputError):
    """A value given to a function or command is not one of those allowed.

    >>> str(InvalidArgument("region", "Mars", ["North America", "Asia-Pacific"]))
    "Invalid region: 'Mars' (expected one of North America, Asia-Pacific)"
    """

    def __init__(self, argument: str, given: object, allowed: Iterable[str] | str, hint: str = "") -> None:
        self.argument = argument
        self.given = given
        if isinstance(allowed, str):
            self.allowed = allowed
            suggestions: list[str] = []
        else:
            names = list(allowed)
            self.allowed = "one of " + ", ".join(names)
            suggestions = (
                difflib.get_close_matches(str(given), names, n=1, cutoff=0.6)
                if isinstance(given, str) and len(given) <= 200
                else []
            )
        message = f"Invalid {argument}: {_shown(given)} (expected {self.allowed})"
        if suggestions:
            message += f"; did you mean {suggestions[0]!r}?"
        elif hint:
            message += f"; {hint}"
        super().__init__(message)


class AssumptionError(InputError):
    """An assumption file is wrong: names the file, the key and what is allowed."""

    def __init__(self, where: str, key: str, problem: str) -> None:
        self.where = where
        self.key = key
        self.problem = problem
        location = f"{where}: {key}" if key else where
        super().__init__(f"Invalid assumptions in {location}: {problem}")


class CalibrationError(InputError):
    """The published anchors cannot all be reproduced at their published precision."""


class ProfileError(InputError):
    """A client profile is wrong: names the file, the key and what is allowed."""


class ClientsFileError(InputError):
    """The clients file is wrong: names the file, the entry (number and name) and the key."""


class SettingsError(InputError):
    """A delivery setting is missing or wrong: names the variable or file key and what is allowed."""


class AddressError(InputError):
    """An email address is malformed, contains a line break, or is outside the allowed domains."""


class CellError(InputError):
    """An Excel function's argument points at a cell that shows an Excel error."""


class LayoutError(InputError):
    """The workbook layout template is wrong: names the template, the sheet and what is allowed."""


class BriefTemplateError(InputError):
    """A brief template is broken (a typo, an undefined name): names the template and the line."""


# ---------------------------------------------------------------------------------------------- output


class OutputError(ImgoutError):
    """A file could not be written although the input was fine: names the file and the reason (exit 1)."""


class WorkbookError(OutputError):
    """A client workbook could not be written: says where and why."""


class PdfEngineError(OutputError):
    """No PDF could be printed: no engine on this machine, or its browser failed twice. Says which and why."""


# ---------------------------------------------------------------------------------------------- delivery


class DeliveryError(ImgoutError):
    """Delivery cannot go on safely: the send ledger or the build cluster is unusable (exit 1)."""


class LedgerError(DeliveryError):
    """The send ledger cannot be used right now: locked by another process too long, or not writable."""


class LedgerFileError(LedgerError, InputError):
    """The file named as the send ledger is not one imgout can trust (empty, foreign, damaged, another
    schema): exit code 2, since the file given must change; it is never taken as a new, empty ledger."""


class SchedulerError(DeliveryError):
    """The Dask scheduler cannot be reached."""


class TokenError(DeliveryError):
    """No usable OAuth 2.0 access token: the token source failed or the server refused the token. Names the
    source and the fix; never the token."""


def _shown(value: object, limit: int = 100) -> str:
    """``repr(value)`` cut to ``limit`` characters: a huge argument never makes a huge message."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        return "a number of thousands of digits"
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Errors of the path the user named (no such folder, a file where a folder should be, a name too long):
# fixing the input helps. Anything else (full disk, no permission, read-only, I/O) is the environment's.
_PATH_ERRNOS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.EINVAL, errno.ELOOP, errno.EEXIST}
)


def os_error(what: str, error: OSError) -> InputError | OutputError:
    """``"<what>: <reason>"`` for a failed file operation, as the error family its cause belongs to.

    >>> type(os_error("Cannot write x.xlsx", FileNotFoundError(2, "No such file or directory"))).__name__
    'InputError'
    >>> str(os_error("Cannot write x.xlsx", OSError(28, "No space left on device")))
    'Cannot write x.xlsx: No space left on device'
    """
    message = f"{what}: {error.strerror or error}"
    return InputError(message) if error.errno in _PATH_ERRNOS else OutputError(message)
