"""Proves tests/support/xlwings_harness.py with tests/support/sample_udfs.py and small throwaway UDF modules.

Each test pins one thing Excel on Windows would see: registration metadata, the imported VBA and the
function-wizard texts, and the values that cross COM in both directions. The "gotcha" tests pin
xlwings 0.37.8 behaviour that the real UDF module must work with (or around).
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from tests.support import xlwings_harness as xh

SAMPLE = "tests.support.sample_udfs"
SAMPLE_FUNCTIONS = {
    "SAMPLE_COLUMN",
    "SAMPLE_DESCRIBE",
    "SAMPLE_DESCRIBE_ERRORS",
    "SAMPLE_INFO",
    "SAMPLE_NEXT_DAY",
    "SAMPLE_OPTIONS",
    "SAMPLE_ROW",
    "SAMPLE_SCALE",
    "SAMPLE_TABLE",
}


@pytest.fixture(scope="module")
def sample() -> types.ModuleType:
    return xh.load_udf_module(SAMPLE)


_counter = itertools.count()


@pytest.fixture
def udf_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Write a throwaway UDF module and load it through the harness."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(source: str) -> types.ModuleType:
        name = f"harness_udfs_{next(_counter)}"
        header = "from __future__ import annotations\nfrom typing import Any\nimport xlwings as xw\n"
        (tmp_path / f"{name}.py").write_text(header + textwrap.dedent(source), encoding="utf-8")
        created.append(name)
        return xh.load_udf_module(name)

    yield make
    import xlwings.udfs

    for name in created:
        sys.modules.pop(name, None)
        xlwings.udfs.udf_modules.pop(name, None)


# --- the harness itself ------------------------------------------------------------------------------


def test_install_binds_the_windows_decorators_and_engine(sample: types.ModuleType) -> None:
    import xlwings
    import xlwings.udfs

    assert xlwings.__version__ == "0.37.8"
    assert xlwings.func is xlwings.udfs.xlfunc
    assert xlwings.arg is xlwings.udfs.xlarg
    assert xlwings.ret is xlwings.udfs.xlret
    # The engine's conversion code is xlwings' own Windows source, executed, not a copy.
    windows = sys.modules["xlwings._xlwindows"]
    assert xlwings.engines["excel"].impl is windows.engine
    assert windows._clean_value_data_element.__code__.co_filename.endswith("_xlwindows.py")
    assert (
        Path(windows._clean_value_data_element.__code__.co_filename).parent == Path(xlwings.__file__).parent
    )
    assert xh.CELL_ERRORS["#DIV/0!"] == -2146826281 and len(xh.CELL_ERRORS) == 7


def test_install_is_idempotent(sample: types.ModuleType) -> None:
    import xlwings

    engines = len(xlwings.engines)
    xh.install()
    assert len(xlwings.engines) == engines


# --- registration metadata ---------------------------------------------------------------------------


def test_every_sample_function_is_exported_without_problems(sample: types.ModuleType) -> None:
    functions = xh.udf_functions(sample)
    assert set(functions) == SAMPLE_FUNCTIONS
    assert {name: xh.registration_problems(f) for name, f in functions.items()} == {
        name: [] for name in SAMPLE_FUNCTIONS
    }


def test_registration_metadata(sample: types.ModuleType) -> None:
    meta = xh.registration(sample.SAMPLE_SCALE)
    assert meta["name"] == "SAMPLE_SCALE"
    assert meta["category"] == "SAMPLE"
    assert meta["ret"]["doc"] == "Multiplies a number by a factor."
    assert meta["volatile"] is False and meta["call_in_wizard"] is True and meta["sub"] is False
    x, factor = meta["args"]
    assert (x["name"], x["doc"], "optional" in x) == ("x", "The number to scale.", False)
    assert (factor["name"], factor["doc"], factor["optional"]) == (
        "factor",
        "The multiplier; 2 if omitted.",
        2.0,
    )
    # An optional argument defaulting to None still has the "optional" key (value None).
    assert "optional" in xh.registration(sample.SAMPLE_OPTIONS)["args"][0]
    assert xh.registration(sample.SAMPLE_OPTIONS)["args"][0]["optional"] is None
    assert xh.registration(sample.SAMPLE_OPTIONS)["args"][0]["options"] == {"ndim": 2}
    assert xh.registration(sample.SAMPLE_DESCRIBE_ERRORS)["args"][0]["options"] == {"err_to_str": True}
    assert xh.registration(sample.SAMPLE_TABLE)["ret"]["options"] == {"index": False, "header": True}
    assert xh.registration(sample.SAMPLE_INFO)["volatile"] is True
    assert xh.registration(sample.SAMPLE_INFO)["args"] == []


def test_registration_requires_the_harness_decorators() -> None:
    def plain() -> None:
        pass

    with pytest.raises(AssertionError, match="no __xlfunc__"):
        xh.registration(plain)


# --- VBA and the function wizard ---------------------------------------------------------------------


def test_vba_has_every_function_with_its_arguments(sample: types.ModuleType) -> None:
    vba = xh.vba_for(sample)
    assert xh.check_vba(vba, sample) == []
    assert vba.splitlines()[:3] == [
        'Attribute VB_Name = "xlwings_udfs"',
        "'Autogenerated code by xlwings - changes will be lost with next import!",
        '#Const App = "Microsoft Excel" \'Adjust when using outside of Excel',
    ]
    lines = vba.splitlines()
    assert "Function SAMPLE_SCALE(x, Optional factor)" in lines
    assert "Function SAMPLE_TABLE(first_year, last_year)" in lines
    assert "Function SAMPLE_OPTIONS(Optional options)" in lines
    assert "Function SAMPLE_INFO()" in lines
    assert lines.count("End Function") == len(SAMPLE_FUNCTIONS)
    assert (
        '        SAMPLE_SCALE = XLPy.CallUDF("tests.support.sample_udfs", "SAMPLE_SCALE", Array(x, factor), '
        "ThisWorkbook, Application.Caller)" in lines
    )
    # Only the volatile function recalculates on every change.
    assert vba.count("Application.Volatile") == 1
    info = vba.split("Function SAMPLE_INFO()\n", 1)[1]
    assert info.startswith("    Application.Volatile\n")


def test_vba_for_an_add_in_uses_the_active_workbook(sample: types.ModuleType) -> None:
    vba = xh.vba_for(sample, workbook_name="imgout.xlam")
    assert "ActiveWorkbook, Application.Caller)" in vba and "ThisWorkbook" not in vba


def test_function_wizard_texts(sample: types.ModuleType) -> None:
    options = xh.import_udfs_like_excel(SAMPLE).macro_options
    assert set(options) == SAMPLE_FUNCTIONS
    scale = options["SAMPLE_SCALE"]
    assert scale["Description"] == "Multiplies a number by a factor."
    assert scale["Category"] == "SAMPLE"
    assert scale["ArgumentDescriptions"] == ["The number to scale.", "The multiplier; 2 if omitted."]
    assert options["SAMPLE_INFO"]["ArgumentDescriptions"] is None


def test_vba_checks_catch_names_that_break_compilation(udf_module: Any) -> None:
    module = udf_module(
        """
        @xw.func(category="T")
        @xw.arg("end", doc="e")
        @xw.arg("Type", doc="t")
        @xw.arg("date", doc="d")
        @xw.arg("currency", doc="c")
        @xw.arg("_x", doc="x")
        @xw.arg("array", doc="a")
        @xw.arg("year", doc="y")
        @xw.arg("Year", doc="Y")
        def T_BAD(end, Type, date, currency, _x, array, year, Year):
            "Bad names."

        @xw.func(category="T")
        @xw.arg("x", doc="x")
        def A1(x):
            "Looks like a cell."
        """
    )
    problems = xh.check_vba_argument_names(xh.registration(module.T_BAD))
    for name in ("end", "Type", "date", "currency", "array"):
        assert any(f"'{name}' is a VBA reserved word" in p for p in problems), name
    assert any("'_x' is not a VBA identifier" in p for p in problems)
    assert any("'array' shadows a name used by xlwings' VBA wrapper" in p for p in problems)
    assert any("'Year' clashes with 'year'" in p for p in problems)
    assert xh.check_vba_argument_names(xh.registration(module.A1)) == [
        "function name 'A1' looks like a cell reference to Excel"
    ]


def test_reserved_words_cover_the_usual_suspects() -> None:
    usual = "end type date currency name string integer long double variant object set let get property"
    usual += " sub function dim next loop with call select case error on goto"
    assert set(usual.split()) <= xh.vba_reserved_words
    assert all(word == word.lower() for word in xh.vba_reserved_words)


def test_wizard_texts_are_truncated_by_xlwings_and_flagged(udf_module: Any) -> None:
    long_doc = "x" * 300
    module = udf_module(
        f"""
        @xw.func(category="T")
        @xw.arg("x", doc="{long_doc}")
        def T_LONG(x, y):
            "{long_doc}"
        """
    )
    options = xh.import_udfs_like_excel(module).macro_options["T_LONG"]
    assert options["Description"] == "x" * 255
    assert options["ArgumentDescriptions"] == ["x" * 255, "Positional argument 2"]
    problems = xh.check_wizard_texts(xh.registration(module.T_LONG))
    assert "T_LONG: description longer than 255 characters (xlwings truncates)" in problems
    assert "T_LONG: argument 'y' has no doc" in problems


# --- values through the conversion layer -------------------------------------------------------------


def test_optional_arguments(sample: types.ModuleType) -> None:
    call = xh.call_like_excel
    assert call(sample.SAMPLE_SCALE, 3.0) == 6.0  # omitted: the default
    assert call(sample.SAMPLE_SCALE, 3.0, xh.MISSING) == 6.0  # what VBA passes for it
    assert call(sample.SAMPLE_SCALE, 3.0, 4.0) == 12.0
    assert call(sample.SAMPLE_SCALE, 3.0, None) == 6.0  # an empty cell is None; the UDF maps it
    # The default is used for MISSING only: an empty referenced cell arrives as None.
    assert call(sample.SAMPLE_DESCRIBE) == "str:'omitted'"
    assert call(sample.SAMPLE_DESCRIBE, None) == "NoneType:None"
    # Without a default, an omitted argument arrives as None too.
    assert call(sample.SAMPLE_DESCRIBE_ERRORS, xh.MISSING) == "NoneType:None"


def test_a_dataframe_spills_as_rows_with_a_header(sample: types.ModuleType) -> None:
    result = xh.call_like_excel(sample.SAMPLE_TABLE, 2020.0, 2022.0)
    assert result == [
        ["year", "value", "growth"],
        [2020.0, 30.0, ""],  # NaN is written as "" (an empty-looking cell)
        [2021.0, 31.5, pytest.approx(0.05)],
        [2022.0, 33.0, pytest.approx(1.5 / 31.5)],
    ]
    # numpy numbers are plain floats by now (ints in a float frame, too).
    assert all(type(v) is float for v in result[1][:2])


def test_result_shapes(sample: types.ModuleType) -> None:
    call = xh.call_like_excel
    assert call(sample.SAMPLE_ROW, 3.0) == [1, 2, 3]  # a flat list is one row
    assert xh.as_grid(call(sample.SAMPLE_ROW, 3.0)) == [[1, 2, 3]]
    assert call(sample.SAMPLE_COLUMN, 3.0) == [[1], [2], [3]]  # a column needs one-item rows
    assert call(sample.SAMPLE_ROW, 1.0) == 1  # a 1x1 result is a scalar
    assert call(sample.SAMPLE_INFO) == ""  # None is written as ""


@pytest.mark.parametrize(
    ("excel_value", "arrives_as", "with_err_to_str"),
    [
        (2030.0, "float:2030.0", None),
        ("Asia-Pacific", "str:'Asia-Pacific'", None),
        (True, "bool:True", None),
        (None, "NoneType:None", None),  # an empty cell
        ("", "NoneType:None", None),  # a cell with ="" reads as empty, too
        (xh.excel_error("#DIV/0!"), "NoneType:None", "str:'#DIV/0!'"),
        (xh.excel_error("#N/A"), "NoneType:None", "str:'#N/A'"),
        (xh.excel_date(2030, 1, 2), "datetime:datetime.datetime(2030, 1, 2, 0, 0)", None),  # naive
        (xh.excel_serial(dt.date(2030, 1, 2)), "float:47485.0", None),  # =DATE(2030,1,2)
        (((1.0, 2.0), (3.0, None)), "list:[[1.0, 2.0], [3.0, None]]", None),
        (((1.0, 2.0),), "list:[1.0, 2.0]", None),  # one row: 1-D
        (((1.0,), (2.0,)), "list:[1.0, 2.0]", None),  # one column: 1-D as well
        (((5.0,),), "float:5.0", None),  # one cell: a scalar
        (((xh.excel_error("#REF!"), ""),), "list:[None, None]", "list:['#REF!', None]"),
    ],
)
def test_how_excel_values_arrive(
    sample: types.ModuleType, excel_value: Any, arrives_as: str, with_err_to_str: str | None
) -> None:
    assert xh.call_like_excel(sample.SAMPLE_DESCRIBE, excel_value) == arrives_as
    assert xh.call_like_excel(sample.SAMPLE_DESCRIBE_ERRORS, excel_value) == (with_err_to_str or arrives_as)


def test_a_range_argument_with_ndim_2(sample: types.ModuleType) -> None:
    call = xh.call_like_excel
    assert call(sample.SAMPLE_OPTIONS, "Units=mn; Dir=H") == "Units=mn|Dir=H"
    assert call(sample.SAMPLE_OPTIONS, (("Units=mn",), ("Dir=H",), (None,))) == "Units=mn|Dir=H"
    assert call(sample.SAMPLE_OPTIONS, (("Units=mn", "Dir=H"),)) == "Units=mn|Dir=H"
    assert call(sample.SAMPLE_OPTIONS) == ""


@pytest.mark.parametrize(
    ("excel_value", "default", "natural"),
    [
        (2030.0, "float:2030.0", "float:2030.0"),
        (xh.ExcelRange([[2030.0]]), "float:2030.0", "float:2030.0"),  # =F(A1): a one-cell reference
        (xh.ExcelRange([[1.0, 2.0]]), "list:[1.0, 2.0]", "list:[1.0, 2.0]"),  # =F(A1:B1)
        (xh.ExcelRange([[1.0], [2.0]]), "list:[1.0, 2.0]", "list:[[1.0], [2.0]]"),  # =F(A1:A2)
        (
            xh.ExcelRange([[1.0, 2.0], [3.0, 4.0]]),
            "list:[[1.0, 2.0], [3.0, 4.0]]",
            "list:[[1.0, 2.0], [3.0, 4.0]]",
        ),
        (((1.0,), (2.0,)), "list:[1.0, 2.0]", "list:[[1.0], [2.0]]"),  # {1;2} or a computed column
        ((1.0, 2.0), "list:[1.0, 2.0]", "list:[1.0, 2.0]"),  # {1,2} if VBA gets a 1-D array
        (xh.ExcelRange([[xh.excel_error("#N/A"), None]]), "list:['#N/A', None]", "list:['#N/A', None]"),
    ],
)
def test_references_and_orientation_with_ndim_natural(
    udf_module: Any, excel_value: Any, default: str, natural: str
) -> None:
    """What grid calls rely on: ``ndim="natural"`` keeps a column a column and one cell a plain value.

    A reference goes through xlwings' Windows ``Range`` read (``is_range_instance``, then ``Range.Value``
    and the sheet, book and app it belongs to); the default ``ndim`` flattens a column into a row.
    """
    module = udf_module(
        """
        @xw.func
        @xw.arg("x", err_to_str=True)
        def AS_IS(x):
            \"\"\"Describes what arrived.\"\"\"
            return f"{type(x).__name__}:{x!r}"

        @xw.func
        @xw.arg("x", err_to_str=True, ndim="natural")
        def NATURAL(x):
            \"\"\"Describes what arrived.\"\"\"
            return f"{type(x).__name__}:{x!r}"
        """
    )
    assert xh.call_like_excel(module.AS_IS, excel_value) == default
    assert xh.call_like_excel(module.NATURAL, excel_value) == natural


def test_a_reference_is_read_back_from_excel_with_twelve_com_calls(sample: types.ModuleType) -> None:
    """Each referenced argument costs calls back into Excel (xlwings reads its sheet, book, app and value)."""
    reference = xh.ExcelRange([[1.0], [2.0]])
    assert xh.call_like_excel(sample.SAMPLE_DESCRIBE, reference) == "list:[1.0, 2.0]"
    assert reference.com_calls == [
        "GetTypeInfo",  # is_range_instance
        "Worksheet",  # Range.coords: its sheet, position and shape
        "Row",
        "Column",
        "Rows",
        "Rows.Count",
        "Columns",
        "Columns.Count",
        "Worksheet.Parent",  # conversion: range.sheet.book.app.engine
        "Workbook.Application",
        "Application.Hwnd",
        "Value",  # the values themselves
    ]


def test_dates_in_and_out(sample: types.ModuleType) -> None:
    result = xh.call_like_excel(sample.SAMPLE_NEXT_DAY, xh.excel_date(2030, 1, 2))
    # Written back tz-aware (UTC), as pywin32 needs for a VT_DATE.
    assert result == dt.datetime(2030, 1, 3, tzinfo=dt.UTC)
    # A date computed in the formula is just a number.
    assert xh.call_like_excel(sample.SAMPLE_NEXT_DAY, 47485.0) == "#N/A Not a date: 47485.0"


def test_excel_serial_numbers() -> None:
    assert xh.excel_serial(dt.date(2030, 1, 1)) == 47484.0
    assert xh.excel_serial(dt.date(1900, 3, 1)) == 61.0
    assert xh.excel_serial(dt.datetime(2030, 1, 1, 12)) == 47484.5


def test_wrong_argument_counts_never_reach_python(sample: types.ModuleType) -> None:
    with pytest.raises(xh.ExcelWouldNotCallError, match="#VALUE!"):
        xh.call_like_excel(sample.SAMPLE_TABLE, 2020.0)
    with pytest.raises(xh.ExcelWouldNotCallError):
        xh.call_like_excel(sample.SAMPLE_SCALE, 1.0, 2.0, 3.0)


def test_only_the_function_excel_would_call_is_accepted(sample: types.ModuleType, udf_module: Any) -> None:
    module = udf_module(
        """
        @xw.func(category="T")
        @xw.arg("x", doc="x")
        def T_ID(x):
            "Identity."
            return x
        """
    )
    stale = module.T_ID
    fresh = xh.load_udf_module(module.__name__)
    assert xh.call_like_excel(fresh.T_ID, 1.0) == 1.0
    with pytest.raises(AssertionError, match="not what Excel would call"):
        xh.call_like_excel(stale, 1.0)


def test_a_module_that_re_exports_functions_is_what_excel_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like xl_addin.udfs: Excel imports one module, the functions are defined in another."""
    import xlwings
    import xlwings.udfs

    suffix = next(_counter)
    defining, exporting = f"harness_defined_{suffix}", f"harness_exported_{suffix}"
    (tmp_path / f"{defining}.py").write_text(
        textwrap.dedent(
            """
            import xlwings as xw

            @xw.func(category="T")
            @xw.arg("x", doc="x")
            def T_TWICE(x):
                "Twice x."
                return 2 * x
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / f"{exporting}.py").write_text(f"from {defining} import T_TWICE\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        # An import before the decorators were bound (as on Linux without the harness): no metadata.
        with monkeypatch.context() as unbound:
            unbound.setattr(xlwings, "func", lambda *a, **k: lambda f: f)
            unbound.setattr(xlwings, "arg", lambda *a, **k: lambda f: f)
            __import__(defining)
        assert xh.udf_functions(xh.load_udf_module(exporting)) == {}

        module = xh.load_udf_module(exporting, defined_in=[defining])
        assert set(xh.udf_functions(module)) == {"T_TWICE"}
        vba = xh.vba_for(module)
        assert f'T_TWICE = XLPy.CallUDF("{exporting}", "T_TWICE", ' in vba
        assert xh.check_vba(vba, module) == []
        assert xh.call_like_excel(module.T_TWICE, 21.0) == 42.0
    finally:
        for name in (defining, exporting):
            sys.modules.pop(name, None)
            xlwings.udfs.udf_modules.pop(name, None)


def test_exceptions_and_unmarshallable_results_are_reported(udf_module: Any) -> None:
    module = udf_module(
        """
        @xw.func(category="T")
        def T_RAISE():
            "Raises."
            raise ValueError("boom")

        @xw.func(category="T")
        def T_OBJECT():
            "Returns something COM cannot carry."
            return [[object(), float("inf")]]

        @xw.func(category="T")
        def T_EMPTY():
            "Returns nothing."
            return []
        """
    )
    with pytest.raises(xh.UdfRaisedError, match="ValueError: boom"):
        xh.call_like_excel(module.T_RAISE)
    with pytest.raises(AssertionError, match=r"object cannot be passed to Excel.*shows as #NUM!"):
        xh.call_like_excel(module.T_OBJECT)
    assert xh.call_like_excel(module.T_OBJECT, check=False)[1] == float("inf")
    with pytest.raises(AssertionError, match="empty array"):
        xh.call_like_excel(module.T_EMPTY)


# --- xlwings 0.37.8 gotchas the real UDF module must respect -----------------------------------------


def test_gotcha_xw_func_must_be_the_outermost_decorator(udf_module: Any) -> None:
    module = udf_module(
        """
        @xw.arg("x", doc="x")
        @xw.func(category="T", volatile=True)
        def T_ORDER(x):
            "Decorators in the wrong order."
            return x
        """
    )
    meta = xh.registration(module.T_ORDER)
    assert (meta["category"], meta["volatile"]) == ("xlwings", False)  # silently reset by @xw.arg
    assert any("not outermost" in p for p in xh.registration_problems(module.T_ORDER))


def test_gotcha_union_annotations_break_every_call(udf_module: Any) -> None:
    module = udf_module(
        """
        @xw.func(category="T")
        @xw.arg("year", doc="y")
        @xw.arg("region", doc="r")
        def T_UNION(year: int, region: str | None = None) -> float | str:
            "Annotated with unions."
            return f"{year!r} {region!r}"

        @xw.func(category="T")
        @xw.arg("year", doc="y")
        def T_INT(year: int) -> Any:
            "Annotated with int."
            return f"{year!r}"
        """
    )
    problems = xh.registration_problems(module.T_UNION)
    assert any("argument 'region' has converter" in p for p in problems)
    assert any("return value has converter" in p for p in problems)
    with pytest.raises(xh.UdfRaisedError, match="UnionType"):
        xh.call_like_excel(module.T_UNION, 2030.0, "Europe")
    # An int annotation converts nothing: Excel's numbers stay floats.
    assert xh.call_like_excel(module.T_INT, 2030.0) == "2030.0"


def test_gotcha_aliases_and_imported_udfs_are_exported_twice(udf_module: Any) -> None:
    module = udf_module(
        """
        @xw.func(category="T")
        @xw.arg("x", doc="x")
        def T_ONE(x):
            "One."
            return x

        T_ALIAS = T_ONE
        """
    )
    assert set(xh.udf_functions(module)) == {"T_ONE", "T_ALIAS"}
    assert "Function T_ONE is defined 2 times" in xh.check_vba(xh.vba_for(module), module)


def test_gotcha_legacy_expand_is_refused(udf_module: Any) -> None:
    module = udf_module(
        """
        @xw.func(category="T")
        @xw.ret(expand="table")
        def T_EXPAND():
            "Legacy dynamic array."
            return [[1.0, 2.0], [3.0, 4.0]]
        """
    )
    assert any("legacy @ret(expand" in p for p in xh.registration_problems(module.T_EXPAND))
    with pytest.raises(NotImplementedError, match="expand"):
        xh.call_like_excel(module.T_EXPAND)
