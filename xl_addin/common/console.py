"""Printing rich tables so that what a reader sees does not depend on where the output goes.

On a terminal a table fits the terminal's width (rich wraps its cells). Anywhere else (a pipe, a file, a
script or a test capturing the output) rich would assume 80 columns, or the width of whatever terminal
started the process, or ``COLUMNS``, and cut cells to "…" to fit: there the table is printed at its own
full width instead, so the same command gives the same text wherever it runs.
"""

from __future__ import annotations

from rich.console import Console, RenderableType

_NO_LIMIT = 100_000  # columns: wider than any table this package prints


def print_fitted(console: Console, renderable: RenderableType) -> None:
    """Print ``renderable`` on ``console``: at the terminal's width on a terminal, else at its full width."""
    if not console.is_terminal:
        unbounded = console.options.update_width(_NO_LIMIT)  # a measurement is clamped to the width given
        console.width = max(console.width, console.measure(renderable, options=unbounded).maximum)
    console.print(renderable)
