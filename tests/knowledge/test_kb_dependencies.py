"""The knowledge base and the store import only distributions nasbook declares: ``platformdirs`` (the per-user
cache folder of a server database's similarity summaries, ``_similar_store.cache_root``) was imported but came
only with Jupyter (jupyter_core's dependency), so an install without Jupyter fell back silently to the Linux
folder on every platform. Its fallback is still tested (test_kb_similar_server_cache.py)."""
import ast
import importlib.metadata
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _imported(folder: pathlib.Path) -> set[str]:
    mods: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                mods |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods.add(node.module.split(".")[0])
    return mods - set(sys.stdlib_module_names) - {"nasbook"}


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


@pytest.mark.parametrize("package", ["knowledge", "storage"])
def test_every_module_the_knowledge_base_imports_is_a_declared_dependency(package):
    from packaging.requirements import Requirement

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_norm(Requirement(r).name) for r in project["dependencies"]}
    dists = importlib.metadata.packages_distributions()
    mods = _imported(ROOT / "nasbook" / package)
    assert mods, "no import found: the scan is broken"
    undeclared = {m: dists.get(m) for m in mods if not {_norm(d) for d in dists.get(m, [m])} & declared}
    assert undeclared == {}
