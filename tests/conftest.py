"""Fixtures shared by the Excel function tests (test_udfs.py, test_udf_grid.py)."""

from __future__ import annotations

import sys
import types

import pytest

from tests import xlwings_harness as xh


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
