"""Excel's side of imgout: the IMGOUT_* worksheet functions and the IMGOUT.xlsm front-end workbook.

- :mod:`.arguments` - what a cell hands over, turned into arguments: empty cells, Excel error values,
  ranges, years (numbers, dates, date serials) and the ``options`` text.
- :mod:`.functions` - the thirteen IMGOUT_* functions, their registration with xlwings (category, argument
  docs), the assumption file they read and the cache of their answers.
- :mod:`.frontend` - writes ``IMGOUT.xlsm``, the xlwings standalone workbook whose demo sheet uses every
  function (needs XlsxWriter; the functions do not).

Excel imports the functions as ``xl_addin.udfs`` (the ``UDF Modules`` setting), a thin re-export of
:mod:`.functions`. Importing this package imports nothing, so the functions stay importable in xlwings
Lite (pure Python over numpy/pandas) without the workbook writer.
"""
