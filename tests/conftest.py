"""Fixtures shared by the test modules: the Excel functions as Excel imports them (test_udfs.py,
test_udf_grid.py), and real SMTP servers on 127.0.0.1 with the session's cache of packs (the delivery
stories)."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator

import pytest

from tests.support import xlwings_harness as xh
from tests.support.delivery_support import PackCache
from tests.support.memory_keyring import MemoryKeyring
from tests.support.smtp_server import LocalSMTPServer, smtp_servers
from xl_addin.delivery import batch

# ---------------------------------------------------------------------------------------------- lanes


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that starts a real SMTP server (the ``make_server`` fixture) is slow: the fast lane,
    ``pytest -m "not slow"``, leaves it to the full run, without each such test having to say so."""
    for item in items:
        if "make_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


# ---------------------------------------------------------------------------------------------- terminal


@pytest.fixture(autouse=True)
def not_a_forced_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output captured by a test is not a terminal, whatever the environment says: a CI that sets
    FORCE_COLOR (or TTY_COMPATIBLE) would make rich write escape codes and wrap at COLUMNS. A test that
    wants a terminal sets these itself."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


# ---------------------------------------------------------------------------------------------- Excel
@pytest.fixture(scope="module")
def udfs() -> types.ModuleType:
    """The module Excel imports (``UDF Modules`` = ``xl_addin.udfs``), a re-export of the functions' module."""
    return xh.load_udf_module("xl_addin.udfs", defined_in=["xl_addin.excel.functions"])


@pytest.fixture(scope="module")
def functions(udfs: types.ModuleType) -> types.ModuleType:
    """Where the functions, their settings and their answer cache live."""
    return sys.modules["xl_addin.excel.functions"]


@pytest.fixture
def fresh(udfs: types.ModuleType, functions: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each story starts from the embedded default with nothing cached."""
    monkeypatch.delenv("IMGOUT_ASSUMPTIONS", raising=False)
    monkeypatch.setattr(functions, "USER_CONFIG", "/nonexistent/xlwings.conf")
    udfs.clear_cache()


# ---------------------------------------------------------------------------------------------- delivery


@pytest.fixture(autouse=True)
def keyring_in_memory() -> Iterator[MemoryKeyring]:
    """Every test has an empty keyring of its own in memory: none reads or writes this machine's."""
    import keyring

    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@pytest.fixture
def make_server() -> Iterator[Callable[..., LocalSMTPServer]]:
    """``make(security, **options)``: a started aiosmtpd server; every one is closed after the test."""
    with smtp_servers() as make:
        yield make


@pytest.fixture(scope="session")
def pack_cache() -> PackCache:
    return PackCache()


@pytest.fixture
def cached_packs(pack_cache: PackCache, monkeypatch: pytest.MonkeyPatch) -> PackCache:
    """Build in this process through the session cache (each real pack is built once per session)."""
    monkeypatch.setattr(batch, "build_task", pack_cache.build_task)
    return pack_cache
