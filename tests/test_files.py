"""Output files appear whole or not at all, with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from xl_addin.common.atomic import atomic_path, write_atomic


def test_a_written_file_is_whole_and_an_ordinary_file(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        target = write_atomic(tmp_path / "brief.html", b"<p>new</p>")
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"<p>new</p>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brief.html"]


def test_a_failure_while_writing_keeps_the_old_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "pack.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("the writer crashed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.xlsx"]
