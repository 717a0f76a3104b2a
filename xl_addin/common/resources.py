"""Where the package's templates live, in a source checkout and in an installed wheel alike."""

from __future__ import annotations

from pathlib import Path


def templates_dir() -> Path:
    """The folder holding the Jinja templates (``templates/`` at the top of the project).

    In a wheel they are installed as ``xl_addin/templates``; in a source checkout (or an editable
    install) they stand beside the package.
    """
    package = Path(__file__).resolve().parent.parent  # xl_addin/
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"imgout templates not found beside {package}")
