"""Every ```python block of README.md and docs/*.md (benchmarks.md aside) runs against the code as it is.

Each block runs on its own (so each must carry its imports), in a fresh namespace named
``__main__``, in a temporary directory (the ``storage="digits.db"`` files land there). The line
right above a block's fence may hold one comment of directives, separated by ``;``::

    <!-- docs-example: skip REASON -->          not run (a fragment, a cluster, a long probe)
    <!-- docs-example: slow -->                 run with ``-m slow`` only
    <!-- docs-example: replace OLD -> NEW -->   run with OLD replaced by NEW (smaller parameters);
                                                OLD must occur in the block, so the text cannot drift
    <!-- docs-example: continues -->            run after the file's previous block, in its namespace
                                                (a fragment that uses the class the block above defines)

A ``skip`` needs a reason. tests/test_readme.py additionally compares README's first block's
printed reprs with what the code prints.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: docs/benchmarks.md is a log of measurements: its blocks are the one-off probes that printed a
#: section's figures (minutes each), and its sections are never edited after they are appended
FILES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "benchmarks.md")]
#: a fence may be indented (a block inside a list item); its body is read without that indentation
FENCE = re.compile(r"^(\s*)```python\s*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*docs-example:\s*(.*?)\s*-->\s*$")


def blocks(path: Path):
    """``(line of the fence, source, directives)`` for every ```python block of ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence:
            start, indent = i, len(fence.group(1))
            i += 1
            body = []
            while i < len(lines) and not lines[i].lstrip().startswith("```"):
                body.append(lines[i].lstrip() if lines[i][:indent].strip() else lines[i][indent:])
                i += 1
            match = DIRECTIVE.match(lines[start - 1]) if start else None
            directives = [d.strip() for d in match.group(1).split(";") if d.strip()] if match else []
            yield start + 1, "\n".join(body) + "\n", directives
        i += 1


def replaced(source: str, directives: list[str], where: str) -> str:
    """``source`` with its ``replace`` directives applied; each OLD must occur in it."""
    for directive in directives:
        if directive.startswith("replace "):
            old, sep, new = directive[len("replace "):].partition(" -> ")
            assert sep and old in source, f"{where}: {old!r} is no longer in the example"
            source = source.replace(old, new)
    return source


def _cases():
    for path in FILES:
        # what ran before each block, for a block that `continues` the one above it
        previous: tuple[int, str, list[str]] | None = None
        prelude = ""
        for line, source, directives in blocks(path):
            marks = [pytest.mark.slow] if "slow" in directives else []
            skip = next((d for d in directives if d.split()[0] == "skip"), None)
            if skip is not None:
                reason = skip[len("skip"):].strip()
                assert reason, f"{path.name}:{line}: a skipped example says why"
                marks.append(pytest.mark.skip(reason=f"{path.name}:{line}: {reason}"))
            if "continues" in directives:
                assert previous is not None, f"{path.name}:{line}: 'continues' on the file's first block"
                p_line, p_source, p_directives = previous
                prelude = prelude + replaced(p_source, p_directives, f"{path.name}:{p_line}")
            else:
                prelude = ""
            previous = (line, source, directives)
            yield pytest.param(path, line, source, directives, prelude, id=f"{path.name}:{line}", marks=marks)


@pytest.fixture(autouse=True)
def _registries_restored():
    """An example that registers a plug-in (``nasbook.strategies.register(Greedy, name="greedy")``) leaves
    the session's registries as it found them, so a later test may take the name."""
    from nasbook.predictors._registry import _REGISTRY as predictors
    from nasbook.space._registry import _REGISTRY as spaces
    from nasbook.strategies._registry import _REGISTRY as strategies
    from nasbook.tasks._registry import _REGISTRY as tasks

    saved = [(r, dict(r.classes)) for r in (predictors, spaces, strategies, tasks)]
    yield
    for registry, classes in saved:
        registry.classes = classes


@pytest.mark.parametrize(("path", "line", "source", "directives", "prelude"), list(_cases()))
def test_docs_example_runs(path, line, source, directives, prelude, tmp_path, monkeypatch):
    known = {"skip", "slow", "replace", "continues"}
    for directive in directives:
        assert directive.split()[0] in known, f"{path.name}:{line}: unknown directive {directive!r}"
    source = replaced(source, directives, f"{path.name}:{line}")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    if prelude:
        exec(compile(prelude, f"{path.name}: the blocks above line {line}", "exec"), namespace)
    exec(compile(source, f"{path.name}:{line}", "exec"), namespace)


def test_directives_are_read(tmp_path):
    """A directive comment above a fence is parsed with the block it stands above."""
    text = "x\n<!-- docs-example: slow; replace budget=20 -> budget=2 -->\n```python\nb = dict(budget=20)\n```\n"
    path = tmp_path / "probe.md"
    path.write_text(text)
    [(line, source, directives)] = list(blocks(path))
    assert (line, source, directives) == (3, "b = dict(budget=20)\n", ["slow", "replace budget=20 -> budget=2"])
    # a block indented inside a list item is found too, and read without the indentation
    path.write_text("- item:\n\n  ```python\n  if True:\n      x = 1\n  ```\n")
    [(line, source, directives)] = list(blocks(path))
    assert (line, source, directives) == (3, "if True:\n    x = 1\n", [])


def test_a_block_continues_the_one_above(tmp_path, monkeypatch):
    """A ``continues`` block runs in the namespace the block above left, replacements of both applied."""
    text = ("```python\nx = 20\n```\n<!-- docs-example: continues; replace * 2 -> * 3 -->\n```python\n"
            "assert x * 2 == 60\n```\n")
    path = tmp_path / "probe.md"
    path.write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "FILES", [path])
    [first, second] = list(_cases())
    assert first.values[4] == "" and second.values[4] == "x = 20\n"
    test_docs_example_runs(*second.values, tmp_path=tmp_path, monkeypatch=monkeypatch)
    broken = second.values[2].replace("60", "40")
    with pytest.raises(AssertionError):
        test_docs_example_runs(second.values[0], second.values[1], broken, second.values[3], second.values[4],
                               tmp_path=tmp_path, monkeypatch=monkeypatch)
