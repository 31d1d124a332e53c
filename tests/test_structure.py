"""The shape of the code (issue 14): imports point one way with no circle, and only store/ holds SQL.

Read from the source with `ast`, so a lazy import inside a function counts as much as one at the top: a
circle that is only broken by importing late is still a circle. Imports under `if TYPE_CHECKING:` are
annotations, not dependencies, and are left out.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "marginctl"

#: Which layer may import which (cli → services → (domain, store), store → domain). `config` is the
#: settings module: it may use domain, and everything but domain may use it.
ALLOWED = {
    "domain": {"domain"},
    "store": {"store", "domain", "config"},
    "config": {"domain", "config"},
    "services": {"services", "store", "domain", "config"},
    "cli": {"cli", "services", "domain", "config"},
}

#: SQL as this code writes it: upper-case keywords that start a statement or join its clauses.
SQL = re.compile(
    r"\bSELECT\b.+\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b|\bON\s+CONFLICT\b"
    r"|\bCREATE\s+(TABLE|INDEX)\b|\bPRAGMA\b|\bBEGIN\s+IMMEDIATE\b",
    re.DOTALL,
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The marginctl modules `module` imports anywhere in its file (TYPE_CHECKING blocks aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            skipped.update(id(child) for statement in node.body for child in ast.walk(statement))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {target for target in targets if target in known and target != module}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(name, path, set(modules)) for name, path in modules.items()}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_modules(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph without package `__init__` modules, which only re-export (`marginctl.cli` → `cli.app`)."""
    packages = {name for name, path in _modules().items() if path.name == "__init__.py"}
    return {name: targets - packages for name, targets in graph.items() if name not in packages}


def test_no_import_circle_inside_marginctl() -> None:
    circles = _circles(_package_modules(_graph()))
    assert circles == [], "import circles: " + "; ".join(" ↔ ".join(circle) for circle in circles)


def test_imports_point_from_the_cli_to_services_to_domain_and_store() -> None:
    wrong = sorted(
        f"{module} → {target}"
        for module, targets in _graph().items()
        for target in targets
        if (source := _layer(module)) and (layer := _layer(target)) and layer not in ALLOWED[source]
    )
    assert wrong == []


def _sql_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            texts.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.value.strip()[:60]}")
    return texts


def test_sql_text_lives_only_in_store() -> None:
    outside = [text for name, path in _modules().items() if _layer(name) != "store" for text in _sql_literals(path)]
    assert outside == []


def test_only_store_runs_statements() -> None:
    """Outside store/ nothing calls a transaction's execute: services ask store functions."""
    calls = []
    for name, path in _modules().items():
        if _layer(name) == "store":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"execute", "executemany", "executescript"}
            ):
                calls.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert calls == []


# The checks themselves can fail: each one is shown a small case that breaks its rule.


def test_the_circle_check_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    "text",
    [
        "SELECT id FROM accounts",
        "INSERT INTO prices (pair) VALUES (:p)",
        "UPDATE orders SET status = :s",
        "DELETE FROM meta WHERE key = :k",
    ],
)
def test_the_sql_check_recognises_statements(text: str) -> None:
    assert SQL.search(text)


@pytest.mark.parametrize("text", ["Select a wallet from the list", "update the price", "insert coin"])
def test_the_sql_check_leaves_prose_alone(text: str) -> None:
    assert not SQL.search(text)
