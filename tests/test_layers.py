"""The package layers of nasbook: no import cycle between packages, small modules, display at the bottom.

Every module under ``nasbook/`` is parsed with :mod:`ast`; every ``import nasbook.X...`` and
``from nasbook.X... import`` counts, *including those inside functions* (a lazy import still ties
two packages together), except those under ``if TYPE_CHECKING:``. ``nasbook.X.Y`` belongs to
package ``X``; a top-level module (``nasbook/cli.py``, ``nasbook/_options.py``) is a node of its
own. Relative imports are resolved against the importing module.
"""

from __future__ import annotations

import ast
import collections
import pathlib

import pytest

import nasbook

ROOT = pathlib.Path(nasbook.__file__).parent
MAX_LINES = 500
#: what nasbook.display (a rendering package) may import: nothing above it
DISPLAY_MAY_IMPORT = {"display", "_options", "_errors"}

Edge = tuple[str, str]


def _module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _node(module: str) -> str:
    """``nasbook.search._search`` -> ``search``; ``nasbook.cli`` -> ``cli``; ``nasbook`` -> ``nasbook``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))  # the else branch runs
    return skip


def _imported(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        base = node.module or ""
    else:  # relative: resolve against this module's package
        package = module.split(".") if is_package else module.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
    if base == "nasbook":  # ``from nasbook import search`` imports the subpackage
        return [f"nasbook.{alias.name}" for alias in node.names]
    return [base]


def runtime_imports(root: pathlib.Path = ROOT):
    """``(path, node of the importer, line, imported module)`` for every runtime import under ``root``."""
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        src = _node(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in skip or not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported(module, path.name == "__init__.py", node):
                yield path, src, node.lineno, name


def import_edges(root: pathlib.Path = ROOT) -> dict[Edge, list[str]]:
    """``(from_node, to_node) -> ["path:line", ...]`` for every runtime import between two nodes."""
    edges: dict[Edge, list[str]] = collections.defaultdict(list)
    for path, src, line, name in runtime_imports(root):
        if name.startswith("nasbook.") and _node(name) != src:
            edges[(src, _node(name))].append(f"{path.relative_to(root.parent)}:{line}")
    return dict(edges)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle ``[a, b, ..., a]`` of ``graph``, or None (depth-first search, deterministic order)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        path.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return path[path.index(w) :] + [w]
            if w not in state:
                found = visit(w)
                if found:
                    return found
        path.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state:
            found = visit(v)
            if found:
                return found
    return None


def _graph(edges: dict[Edge, list[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = collections.defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    return dict(graph)


def test_the_packages_import_each_other_without_a_cycle():
    edges = import_edges()
    cycle = find_cycle(_graph(edges))
    if cycle:
        lines = [f"  {a} -> {b}: {', '.join(edges[(a, b)])}" for a, b in zip(cycle, cycle[1:])]
        pytest.fail("import cycle " + " -> ".join(cycle) + "\n" + "\n".join(lines), pytrace=False)


def test_display_is_a_bottom_layer():
    """nasbook.display renders views; the objects build them, so it imports none of their packages."""
    bad = {edge: where for edge, where in import_edges().items() if edge[0] == "display" and edge[1] not in DISPLAY_MAY_IMPORT}
    assert not bad, "\n".join(f"display -> {b}: {', '.join(w)}" for (_, b), w in bad.items())


def test_no_module_exceeds_500_lines():
    long = {str(p.relative_to(ROOT.parent)): n for p in ROOT.rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


# -- the checker itself can fail ----------------------------------------------------------------------
def _write(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    pkg = root / "nasbook"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pkg


def test_the_checker_sees_lazy_relative_and_top_level_imports_and_skips_type_checking(tmp_path):
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "cli.py": "def main():\n    from nasbook.a import x\n",
            "a/__init__.py": "from .mod import x\n",
            "a/mod.py": "def f():\n    import nasbook.b.inner\nx = 1\n",
            "b/__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nasbook.a import x\nelse:\n    from .. import c\n",
            "b/inner.py": "from nasbook import cli\n",
            "c/__init__.py": "",
        },
    )
    edges = import_edges(pkg)
    assert set(edges) == {("cli", "a"), ("a", "b"), ("b", "c"), ("b", "cli")}
    assert edges[("a", "b")] == ["nasbook/a/mod.py:2"]
    graph = _graph(edges)
    assert find_cycle(graph) == ["a", "b", "cli", "a"]
    graph["cli"].discard("a")
    assert find_cycle(graph) is None


def private_imports(root: pathlib.Path = ROOT) -> list[str]:
    """Imports of another package's private module (``nasbook.X._y`` from outside ``X``); the shared
    private top-level helpers (``nasbook._errors``, ``_options``, ``_params``, ``_version``) are meant
    for every package."""
    found = []
    for path, src, line, name in runtime_imports(root):
        parts = name.split(".")
        if len(parts) >= 3 and parts[0] == "nasbook" and parts[1] != src and parts[2].startswith("_"):
            found.append(f"{path.relative_to(root.parent)}:{line} imports {name}")
    return found


def test_no_package_imports_another_packages_private_module():
    assert private_imports() == []


def test_the_private_import_check_can_fail(tmp_path):
    pkg = _write(tmp_path, {"__init__.py": "", "a/__init__.py": "def f():\n    from nasbook.b._impl import g\n",
                            "b/__init__.py": "from nasbook.b._impl import g\n", "b/_impl.py": "g = 1\n"})
    assert private_imports(pkg) == ["nasbook/a/__init__.py:2 imports nasbook.b._impl"]


def test_growth_sits_below_the_strategies_and_tasks_that_use_it():
    """nasbook.growth is imported by strategies (its moves) and tasks (growing a child's weights): it
    imports none of them, nor the search or the executors."""
    above = {b for (a, b) in import_edges() if a == "growth"} & {"strategies", "tasks", "search", "executors", "display"}
    assert not above, above
