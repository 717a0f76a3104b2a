"""The documentation site for the tests: ``docs/hooks.py`` as a module, and the site as mkdocs builds it."""

from __future__ import annotations

import html
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.support.libreoffice import found_or_skip

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("imgout_docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: docs/hooks.py: what the docs build generates from the code (``expand`` fills a page's markers).
hooks = _load_hooks()


def build(site: Path) -> Path:
    """Build the site into ``site`` as CI does (``mkdocs build --strict``); skip for a developer without the
    ``docs`` extra, fail under CI."""
    found_or_skip(
        "mkdocs" if importlib.util.find_spec("mkdocs") else None,
        "mkdocs not installed: pip install -e '.[docs]' to build the documentation site",
    )
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return site


def page_text(site: Path, page: str) -> str:
    """The visible text of one built page (``reference/commands`` -> its index.html), tags removed,
    entities decoded and white space collapsed."""
    markup = (site / page / "index.html").read_text(encoding="utf-8")
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))
