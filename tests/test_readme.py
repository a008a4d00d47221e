"""README's first example runs, and the results it prints are what the code prints."""

import ast
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_prints_what_it_says(tmp_path, monkeypatch):
    text = README.read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    lines = block.splitlines()
    namespace: dict = {}
    checked = 0
    for stmt in ast.parse(block).body:
        source = ast.get_source_segment(block, stmt)
        comment = lines[stmt.end_lineno - 1].partition("  # ")[2].strip()
        if comment.startswith("<") and isinstance(stmt, ast.Expr):  # a printed repr: compare it exactly
            assert repr(eval(source, namespace)) == comment, source
            checked += 1
        else:
            exec(source, namespace)
    assert checked >= 1
    # running it again gives one clear error (the name is taken), not a chained SQL traceback
    import pytest

    import nasbook

    create = next(ast.get_source_segment(block, s) for s in ast.parse(block).body if "nasbook.Search(" in ast.unparse(s))
    with pytest.raises(nasbook.NasbookError, match="already exists") as info:
        exec(create, namespace)
    assert info.value.__cause__ is None and info.value.__suppress_context__
