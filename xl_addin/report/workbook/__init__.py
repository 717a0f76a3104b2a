"""Client workbooks: the report context written as a formatted .xlsx with live formulas.

The sheets and their order come from the layout template (:mod:`xl_addin.report.layout`); each sheet kind
is one module of :mod:`.sheets`, writing cells, Excel tables and native charts on a :class:`~.book.Book`.
Every output number is a live formula (:mod:`.formulas`, the engine's equations in Excel syntax) on the
Inputs sheet's cells that recomputes the way the engine would for that input, and every formula also
stores the engine's result, so viewers and ``pandas.read_excel`` see numbers.

    >>> from xl_addin.report import build_context, load_profile
    >>> context = build_context(load_profile(None, name="Acme Imaging"))
    >>> write_workbook(context, Path("acme.xlsx"))  # doctest: +SKIP
"""

from .book import InputCell
from .write import input_cells, workbook_path, write_workbook

__all__ = ["InputCell", "input_cells", "workbook_path", "write_workbook"]
