"""Writing output files atomically: a reader sees the old file or the whole new one, never a part.

Every file imgout writes for a user (workbooks, briefs, .eml files, the Excel front-end workbook) goes
through here: it is built under a temporary name in the same folder and renamed into place, and nothing is
left behind when anything fails on the way.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``target`` to write to; renamed onto ``target`` when the block succeeds.

    The temporary file is created exclusively with the usual permissions (the umask applies, unlike
    ``mkstemp``'s 0600), so the result is an ordinary file. On any failure it is removed.
    """
    target = Path(target)
    temp = target.with_name(f".{target.name[:60]}.{secrets.token_hex(6)}.part")
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield temp
        os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def write_atomic(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as temp:
        temp.write_bytes(data)
    return Path(target)
