"""Writing output files atomically: a reader sees the old file or the whole new one, never a part.

Every file imgout writes for a user (workbooks, briefs, .eml files, the Excel front-end workbook) goes
through here: it is built under a temporary name in the same folder and renamed into place, and nothing is
left behind when anything fails on the way. A process killed outright (``kill -9``) cannot clean up: its
temporary file is named after the machine and the process, and the next write of the same file removes
it once that process is gone. A set of files (a brief in every format) is written whole or not at all.
A failure is the user's one-line error naming the file (:func:`~xl_addin.errors.os_error`), also when a
writer wraps the operating system's error in its own (XlsxWriter's ``FileCreateError``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..errors import os_error

#: A temporary file older than this is removed whoever wrote it (a writer on another machine, long gone).
STALE_AFTER = 24 * 3600.0
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_PART = re.compile(r"\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{12}\.part")


def _temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name[:60]}.{_HOST}-{os.getpid()}-{secrets.token_hex(6)}.part")


def remove_stale_parts(target: Path) -> None:
    """Remove temporary files left beside ``target`` by writers that were killed (see the module docstring)."""
    prefix = f".{target.name[:60]}."
    try:
        candidates = [
            p for p in target.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(".part")
        ]
    except OSError:
        return
    for part in candidates:
        match = _PART.fullmatch(part.name[len(prefix) - 1 :])
        if match is None:
            continue
        try:
            age = time.time() - part.lstat().st_mtime
        except OSError:
            continue
        gone = match["host"] == _HOST and not _alive(int(match["pid"]))
        if gone or age > STALE_AFTER:
            with contextlib.suppress(OSError):
                part.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``target`` to write to; renamed onto ``target`` when the block succeeds.

    The temporary file is created exclusively with the usual permissions (the umask applies, unlike
    ``mkstemp``'s 0600), so the result is an ordinary file. On any failure it is removed.
    """
    target = Path(target)
    remove_stale_parts(target)
    temp = _temp_name(target)
    try:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise os_error(f"Cannot write {target}", exc) from None
    try:
        yield temp
        os.replace(temp, target)
    except OSError as exc:
        raise os_error(f"Cannot write {target}", exc) from None
    except Exception as exc:
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, OSError):  # a writer's wrapper of the OS error (XlsxWriter's FileCreateError)
            raise os_error(f"Cannot write {target}", cause) from None
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def write_atomic(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as temp:
        temp.write_bytes(data)
    return Path(target)


def write_all_atomic(files: Mapping[Path, bytes]) -> list[Path]:
    """Write every file or none: all are written under temporary names first (where a full disk fails),
    then renamed into place; on any failure every temporary file is removed and no target is touched."""
    staged: dict[Path, Path] = {}
    try:
        for target, data in files.items():
            remove_stale_parts(target)
            temp = _temp_name(target)
            staged[target] = temp
            with open(temp, "xb") as file:
                file.write(data)
        for target, temp in staged.items():
            os.replace(temp, target)
    finally:
        for temp in staged.values():
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
    return list(files)
