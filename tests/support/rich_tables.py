"""Rich tables read back as rows of cells, so tests compare what a table says, not how it is padded.

A table printed anywhere but a terminal keeps its full width (``xl_addin/common/console.py``): one line a
row. On a terminal its cells may wrap over several lines; :func:`header` joins a header's lines.
"""

from __future__ import annotations

import re

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _cells(line: str, bar: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip(bar).split(bar)]


def rows(text: str) -> list[list[str]]:
    """Every body row of every table in ``text``, each as its cells' text (one line a row)."""
    return [_cells(line, "│") for line in ANSI.sub("", text).splitlines() if line.startswith("│")]


def header(text: str, table: int = 0) -> list[str]:
    """The column headers of the ``table``-th table in ``text``, a header wrapped over lines joined."""
    blocks: list[list[list[str]]] = []
    previous = ""
    for line in ANSI.sub("", text).splitlines():
        if line.startswith("┃"):
            if not previous.startswith("┃"):
                blocks.append([])
            blocks[-1].append(_cells(line, "┃"))
        previous = line
    lines = blocks[table]
    return ["".join(parts).strip() for parts in zip(*lines, strict=True)]
