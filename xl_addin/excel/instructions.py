"""How to set the Excel functions up on Windows, and what to do when they fail: one text, two places.

The "Start here" sheet of ``IMGOUT.xlsm`` (:mod:`.frontend`) and the docs' Excel set-up and troubleshooting
pages are all made from :data:`STEPS` and :data:`TROUBLESHOOTING`, so they cannot drift apart: the docs
build inserts :func:`steps_markdown` and :func:`troubleshooting_markdown` (``docs/hooks.py``), and
``python -m xl_addin.excel.instructions`` prints both.

Facts from xlwings 0.37.8's own code: settings are looked up in the workbook's ``xlwings.conf`` sheet,
then an ``xlwings.conf`` file beside the workbook, then ``%USERPROFILE%\\.xlwings\\xlwings.conf`` (the
user config that ``xlwings config create`` and ``xlwings addin install`` write); a bare ``python`` as the
interpreter makes Windows look for ``xlwings64-<version>.dll`` on the PATH, a full path makes the VBA load
it from beside ``python.exe`` (or the virtual environment's folder).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One setup step: a short title and what to do."""

    title: str
    text: str


@dataclass(frozen=True)
class Trouble:
    """One row of the troubleshooting table."""

    symptom: str
    cause: str
    fix: str


STEPS: tuple[Step, ...] = (
    Step(
        "Install",
        "In a terminal, with the Python that Excel should use (64-bit if Office is 64-bit): "
        '`python -m pip install "C:\\path\\to\\imgout"` (this repository\'s folder or a wheel built from '
        "it; it brings xlwings 0.37.8). `where python` shows which Python a bare `python` is.",
    ),
    Step(
        "Tell xlwings that Python",
        "`xlwings config create --force` (same terminal): writes the full path of that `python.exe` "
        "(or your conda folder and environment) to `%USERPROFILE%\\.xlwings\\xlwings.conf`. "
        "`imgout excel --check` then shows what Excel will use, its bitness and whether the functions import.",
    ),
    Step(
        "Same bitness",
        "Excel (File > Account > About Excel says 32-bit or 64-bit) and Python (`imgout excel --check`) "
        "must both be 64-bit or both 32-bit.",
    ),
    Step(
        "Unblock the file",
        "A workbook that came by email or download carries the internet mark and Office blocks its macros "
        "(red bar 'Microsoft has blocked macros'): right-click IMGOUT.xlsm > Properties > General > "
        "tick Unblock > OK, or keep it in a Trusted Location.",
    ),
    Step(
        "Macro settings",
        "File > Options > Trust Center > Trust Center Settings > Macro Settings: 'Disable VBA macros with "
        "notification', and tick 'Trust access to the VBA project object model' (importing the functions "
        "writes them into the workbook's VBA project).",
    ),
    Step(
        "Either: this workbook",
        "Open IMGOUT.xlsm, click Enable Content, press Alt+F8, run ImportPythonUDFs. Its xlwings.conf "
        "sheet sets only UDF Modules = xl_addin.udfs; the interpreter comes from step 2. Save your own "
        "copy as .xlsm.",
    ),
    Step(
        "Or: the xlwings add-in, in your own workbook",
        "`xlwings addin install`; in your workbook press Alt+F11, Tools > References, tick xlwings; "
        "on the xlwings ribbon set UDF Modules to xl_addin.udfs and click Import Functions; save the "
        "workbook as .xlsm (the functions live in its VBA project).",
    ),
    Step(
        "Recalculate",
        "Press Ctrl+Alt+F9: importing does not recalculate, so cells show #NAME? until then. The status "
        'cell on Start here then shows the model\'s version (=IMGOUT_INFO("version"), e.g. 2.0).',
    ),
)

TROUBLESHOOTING: tuple[Trouble, ...] = (
    Trouble(
        "#NAME? in the IMGOUT cells",
        "The functions are not imported in this workbook (or its macros are disabled); an .xlsx keeps no functions",
        "Enable Content, run ImportPythonUDFs (or Import Functions), press Ctrl+Alt+F9; save as .xlsm",
    ),
    Trouble(
        "Red bar: Microsoft has blocked macros from running",
        "The file carries the downloaded-from-the-internet mark",
        "Close it; Properties > General > Unblock; open it again",
    ),
    Trouble(
        "'Programmatic access to Visual Basic Project is not trusted' on import",
        "Trust access to the VBA project object model is off",
        "Tick it (step 5), then import again",
    ),
    Trouble(
        "'Could not load xlwings64-0.37.8.dll' or 'File not found: xlwings64-...dll'",
        "Excel starts a bare `python` (an Interpreter row of the workbook's xlwings.conf sheet, or no user "
        "config) that finds no xlwings DLL, or a Python without xlwings",
        "`xlwings config create --force` in the Python that has imgout; no Interpreter or Conda rows on the sheet",
    ),
    Trouble(
        "'Could not activate Python COM server, hr = -2147221164 1000' after a long wait",
        "Python did not start or crashed: wrong interpreter, missing package, Office from the Microsoft Store, "
        "or empty lines in %USERPROFILE%\\.xlwings\\xlwings.conf",
        "`imgout excel --check`; remove empty lines from the config; on the xlwings ribbon tick Show Console "
        "to see Python's error; Store Office: install the Click-to-Run Office",
    ),
    Trouble(
        "A Windows error about a DLL, or Runtime error 48/53, on the first call",
        "Python and Office differ in bitness (32 vs 64)",
        "Install the Python that matches Office, then steps 1-2 again",
    ),
    Trouble(
        "ModuleNotFoundError: No module named 'xl_addin', or an old imgout answers",
        "Excel uses another Python than the one you installed into",
        "`imgout excel --check` in each Python; `xlwings config create --force` in the right one",
    ),
    Trouble(
        "A new imgout (or a new function or argument) is not seen",
        "The Python process Excel started keeps the old code loaded; the imported VBA lists the old functions",
        "Run the macro KillPy (or close Excel), then ImportPythonUDFs again and Ctrl+Alt+F9",
    ),
    Trouble(
        "A changed assumption file is not seen",
        "Excel does not know the file changed",
        "Ctrl+Alt+F9 (the functions re-read the file when it changed)",
    ),
    Trouble(
        "#N/A Invalid region: 'Mars' (expected one of ...)",
        "A bad argument; the text says which and what is allowed",
        "Fix the argument or the referenced cell",
    ),
)

NAME_MEANING = (
    "#NAME? means Excel does not know the IMGOUT_* functions in this workbook yet: enable macros, run "
    "ImportPythonUDFs (Alt+F8), then press Ctrl+Alt+F9. LibreOffice and Excel for the web cannot run "
    "them and always show #NAME? (the numbers you see before recalculating are the stored results)."
)


def steps_markdown() -> str:
    """The set-up steps as a numbered Markdown list (the docs' Excel set-up page)."""
    return "\n".join(f"{i}. **{step.title}.** {step.text}" for i, step in enumerate(STEPS, 1)) + "\n"


def troubleshooting_markdown() -> str:
    """What #NAME? means, then the troubleshooting table, in Markdown (the docs' troubleshooting page)."""
    lines = [NAME_MEANING, "", "| symptom | cause | fix |", "|---|---|---|"]
    lines += [f"| {t.symptom} | {t.cause} | {t.fix} |" for t in TROUBLESHOOTING]
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """The steps, then what #NAME? means and the troubleshooting table: everything the docs say about set-up."""
    return steps_markdown() + "\n" + troubleshooting_markdown()


def plain(text: str) -> str:
    """A step's text for a worksheet cell: without the Markdown backticks."""
    return text.replace("`", "")


if __name__ == "__main__":  # pragma: no cover - prints the docs' set-up text
    print(markdown(), end="")
