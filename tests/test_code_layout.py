"""The package's shape holds: one-way dependencies, no import cycles, no function too complex to review.

These read the source (ast, radon), not the running program: a function-level import counts as an import,
so a cycle hidden inside a function is caught too. Imports under ``if TYPE_CHECKING:`` are for the type
checker only and never run, so they do not count.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "xl_addin"

#: Functions allowed a complexity of D or worse, each with the reason (docs/architecture.md, "Code layout", names them).
COMPLEX_ON_PURPOSE: dict[str, str] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except what sits under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's own modules that ``name`` imports, wherever in the file the import stands."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            targets = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
        for target in targets:
            if target in known:
                found.add(target)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def test_the_model_imports_only_itself_the_errors_and_common() -> None:
    graph = import_graph()
    allowed = ("xl_addin.model", "xl_addin.common", "xl_addin.errors")
    outside = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("xl_addin.model")
        for target in targets
        if target != "xl_addin" and not target.startswith(allowed)
    }
    assert not outside, f"the model must not import adapters: {sorted(outside)}"


def test_no_module_imports_itself_back_through_others() -> None:
    graph = import_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            # A package's __init__ importing its own submodules is how packages re-export; a submodule
            # importing its package's __init__ back is the cycle this test is for.
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_function_is_too_complex_to_review() -> None:
    radon = pytest.importorskip("radon.complexity", reason="radon is in the test extra")
    too_complex = []
    for name, path in modules().items():
        for block in radon.cc_visit(path.read_text(encoding="utf-8")):
            rank = radon.cc_rank(block.complexity)
            where = f"{name}.{block.fullname}"
            if rank >= "D" and where not in COMPLEX_ON_PURPOSE:
                too_complex.append(f"{where}: {block.complexity} ({rank})")
    assert not too_complex, (
        "complexity D or worse (split it, or name it in COMPLEX_ON_PURPOSE):\n" + "\n".join(too_complex)
    )


#: Names the package defines that nothing in it or in the tests reads, each with the reason it stays.
UNUSED_ON_PURPOSE: dict[str, str] = {
    "auth_cram_md5": "smtplib calls an auth_<mechanism> method by its name",
    "getreply": "smtplib reads every reply through SMTP.getreply; the deadline-bound conversation overrides it",
}


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a tree (a name a docstring mentions is not a use of it)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _defined_names(tree: ast.Module) -> Iterator[str]:
    """Module-level constants, functions and classes, and the methods of those classes. A decorated
    function is registered by its decorator (a command, an Excel function) and is not listed."""
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            yield from (t.id for t in targets if isinstance(t, ast.Name))
        elif (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and not node.decorator_list
        ):
            yield node.name
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and not item.name.startswith(
                    "__"
                ):
                    yield item.name


def _used_names(tree: ast.AST) -> Iterator[str]:
    """Every name a tree reads: names, attributes, imports, and the words of its strings (``getattr``,
    templates' attributes), docstrings left out."""
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.alias):
            yield node.name.rsplit(".", 1)[-1]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield from re.findall(r"[A-Za-z_]\w*", node.value)


def test_every_name_the_package_defines_is_used_somewhere() -> None:
    root = PACKAGE.parent
    used: set[str] = set()
    for path in [*PACKAGE.rglob("*.py"), *(root / "tests").rglob("*.py")]:
        used.update(_used_names(ast.parse(path.read_text(encoding="utf-8"))))
    for path in (root / "templates").rglob("*"):
        if path.is_file():
            used.update(re.findall(r"[A-Za-z_]\w*", path.read_text(encoding="utf-8")))
    unused = sorted(
        f"{module_name(path)}.{name}"
        for path in PACKAGE.rglob("*.py")
        for name in _defined_names(ast.parse(path.read_text(encoding="utf-8")))
        if not name.startswith("__") and name not in used and name not in UNUSED_ON_PURPOSE
    )
    assert not unused, "defined but never used (remove it, or name it in UNUSED_ON_PURPOSE):\n" + "\n".join(
        unused
    )
