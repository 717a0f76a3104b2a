"""The package's shape holds: one-way dependencies, no import cycles, no function too complex to review.

These read the source (ast, radon), not the running program: a function-level import counts as an import,
so a cycle hidden inside a function is caught too. Imports under ``if TYPE_CHECKING:`` are for the type
checker only and never run, so they do not count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "xl_addin"

#: Functions allowed a complexity of D or worse, each with the reason (the README's "Code layout" names them).
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
