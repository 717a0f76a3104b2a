"""The module Excel imports: ``UDF Modules`` = ``xl_addin.udfs`` (workbooks/IMGOUT.xlsm, the xlwings add-in).

The IMGOUT_* functions live in :mod:`xl_addin.excel.functions`; this module re-exports them (and the
names in its ``__all__``) under the name every workbook's ``xlwings.conf`` already carries, so moving code
never breaks a user's workbook. xlwings registers whatever carries its metadata here: each function once,
with ``XLPy.CallUDF("xl_addin.udfs", ...)`` in the generated VBA. Pure Python over numpy/pandas, as xlwings
Lite needs: it imports the functions, not the workbook writer (:mod:`xl_addin.excel.frontend`).
"""

from __future__ import annotations

from .excel import functions as _functions
from .excel.functions import *  # noqa: F403 - the re-export is the point of this module

__all__ = _functions.__all__
