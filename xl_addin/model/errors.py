"""Errors for users: each says what was given, what is allowed, and where.

Every adapter (Excel functions, the command line, workbooks, briefs, email) shows `str(error)` as it
is: one line, no traceback, no Python type names.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ImgoutError(ValueError):
    """Base of every error imgout shows to a user; `str()` is the whole one-line message."""


class InvalidArgument(ImgoutError):
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
                if isinstance(given, str)
                else []
            )
        message = f"Invalid {argument}: {given!r} (expected {self.allowed})"
        if suggestions:
            message += f"; did you mean {suggestions[0]!r}?"
        elif hint:
            message += f"; {hint}"
        super().__init__(message)


class AssumptionError(ImgoutError):
    """An assumption file is wrong: names the file, the key and what is allowed."""

    def __init__(self, where: str, key: str, problem: str) -> None:
        self.where = where
        self.key = key
        self.problem = problem
        location = f"{where}: {key}" if key else where
        super().__init__(f"Invalid assumptions in {location}: {problem}")


class CalibrationError(ImgoutError):
    """The published anchors cannot all be reproduced at their published precision."""
