"""Notebooks and tutorials teach public API only: no ``._private`` name of a nasbook module or object.

A tutorial is what users copy, so a private name there (``viz._compare_info``) becomes user code that
breaks without a deprecation when nasbook renames it. Read statically (no execution: runs in the
default suite): every code cell is parsed, line magics and a ``%%writefile`` line aside, and

* an attribute ``<expr>._name`` is refused unless ``<expr>`` is ``self`` or ``cls`` (a subclass of a
  nasbook plug-in base, as tutorial 8's ``HillClimb(BaseStrategy)``, calls the protected hooks its base
  documents for subclasses: ``self._sample_new()``); dunders and IPython's display protocol
  (``_repr_html_``, ``_ipython_display_``) are public by convention. Any base counts, not only names
  bound by ``import nasbook``: the objects a tutorial holds (``search``, ``kb``, ``runs[0]``) are
  nasbook's, and a static reading cannot tell whose an expression is;
* ``from nasbook... import _name`` and imports of a private nasbook module (``nasbook.viz._info``) are
  refused;
* in Markdown, an inline code span that is such an attribute (```viz._compare_info```) is refused too:
  the prose would teach the name the code no longer uses.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("tutorials/*.ipynb")])
_PROTOCOL = re.compile(r"_(repr_\w+|ipython_\w+)_")
_SPAN = re.compile(r"`([^`\n]+)`")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__")) and not _PROTOCOL.fullmatch(name)


def _code(source: str) -> str:
    """The cell's Python: a ``%%writefile`` cell's body, other magics and shell lines blanked (line numbers kept)."""
    lines = source.splitlines()
    if lines and lines[0].startswith("%%writefile"):
        lines = ["", *lines[1:]]
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def private_uses(source: str) -> list[str]:
    """The private nasbook names a piece of Python uses, as ``"line N: what"``.

    Parameters
    ----------
    source : str
        A code cell's source.

    Returns
    -------
    list of str
        One entry per use, empty when the cell uses public names only.
    """
    found = []
    for node in ast.walk(ast.parse(_code(source))):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "nasbook":
            parts = (node.module or "").split(".")
            names = [a.name for a in node.names if _private(a.name)]
            if any(_private(p) for p in parts) or names:
                found.append(f"line {node.lineno}: from {node.module} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "nasbook" and any(_private(p) for p in parts):
                    found.append(f"line {node.lineno}: import {alias.name}")
    return found


def private_mentions(markdown: str) -> list[str]:
    """Inline code spans of a Markdown cell that name a private attribute (```viz._compare_info```)."""
    found = []
    for span in _SPAN.findall(markdown):
        try:
            tree = ast.parse(span.strip(), mode="eval")
        except SyntaxError:
            continue  # prose in backticks, a shell line: not a Python expression
        if any(isinstance(n, ast.Attribute) and _private(n.attr)
               and not (isinstance(n.value, ast.Name) and n.value.id in ("self", "cls")) for n in ast.walk(tree)):
            found.append(span)
    return found


def test_the_checks_catch_private_names():
    assert private_uses("cmp = nasbook.viz._compare_info(*runs)") == ["line 1: nasbook.viz._compare_info"]
    assert private_uses("import nasbook.viz as viz\ninfo = viz._curves_info(s)") == ["line 2: viz._curves_info"]
    assert private_uses("x = runs[0]._trials") == ["line 1: runs[0]._trials"]
    assert private_uses("from nasbook.viz import _history_info") == ["line 1: from nasbook.viz import _history_info"]
    assert private_uses("from nasbook.viz._info import curves_info") == ["line 1: from nasbook.viz._info import curves_info"]
    assert private_uses("import nasbook.viz._info") == ["line 1: import nasbook.viz._info"]
    # allowed: public names, a subclass calling its base's hooks, dunders, IPython's display protocol, magics
    ok = ("%%writefile s.py\nclass S(Base):\n    def _ask(self):\n        return self._sample_new()\n"
          "%time x = nasbook.viz.compare_info(a)\nnasbook.__version__; s._repr_mimebundle_()")
    assert private_uses(ok) == []
    assert private_mentions("with `viz._compare_info` (tutorial 1)") == ["viz._compare_info"]
    assert private_mentions("with `viz.compare_info`, `self._sample_new()` and `pip install x`") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_notebook_uses_public_names_only(path):
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            problems += [f"cell {i}, {use}" for use in private_uses(cell.source)]
        elif cell.cell_type == "markdown":
            problems += [f"cell {i} (markdown): `{span}`" for span in private_mentions(cell.source)]
    assert not problems, f"{path.name} uses private nasbook names (make them public, or use the public API): {problems}"
