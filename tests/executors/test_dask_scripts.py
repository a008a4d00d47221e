"""Scripts that start a LocalCluster (``executor="dask"``): dask's nannies start workers with
multiprocessing "spawn", which re-runs the script's top-level code in each of them."""

import ast
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from nasbook._errors import ExecutorError
from nasbook.executors import _cluster, _dask, _resolve
from nasbook.storage import Storage

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]

BODY = """
import nasbook
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

space = GraphSpace(ops=PROTEINS_OPS)
{indent}s = nasbook.Search(space, ToyTask(space), budget=3, seed=0, storage={path!r}, name="script",
{indent}                   executor=nasbook.executors.DaskExecutor(n_workers=1))
{indent}s.run()
{indent}print("trials", s.n_trials)
{indent}s.close()
"""


def _script(path, guarded):
    body = BODY.format(indent="    " if guarded else "", path=str(path))
    if guarded:
        head, _, tail = body.partition("space = GraphSpace(ops=PROTEINS_OPS)\n")
        body = head + "space = GraphSpace(ops=PROTEINS_OPS)\n" + 'if __name__ == "__main__":\n' + tail
    return body


def _run(args, cwd, stdin=None, timeout=300):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env)


def _searches(path):
    if not Path(path).exists():
        return []
    st = Storage(path)
    try:
        return st.search_names()
    finally:
        st.close()


def test_an_unguarded_script_stops_at_once_with_the_fix(tmp_path):
    db = tmp_path / "nasbook.db"
    script = tmp_path / "unguarded.py"
    script.write_text(_script(db, guarded=False))
    r = _run([str(script)], tmp_path)
    lines = r.stderr.strip().splitlines()
    print(f"unguarded script: exit {r.returncode}, {len(lines)} stderr lines")
    assert r.returncode != 0 and "trials" not in r.stdout
    assert len(lines) < 20, r.stderr  # a five-frame traceback and one line with the fix (was 483 lines)
    assert lines[-1].startswith("nasbook._errors.ExecutorError: ") and 'if __name__ == "__main__":' in lines[-1]
    assert f"{script}, line 8 starts a dask cluster" in lines[-1]
    assert _searches(db) == []  # stopped before the search stored anything


@pytest.mark.slow
def test_a_guarded_script_runs(tmp_path):
    db = tmp_path / "nasbook.db"
    script = tmp_path / "guarded.py"
    script.write_text(_script(db, guarded=True))
    r = _run([str(script)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "trials 3" in r.stdout
    assert len(r.stderr.strip().splitlines()) < 15, r.stderr
    assert _searches(db) == ["script"]


@pytest.mark.slow
def test_code_piped_on_stdin_runs(tmp_path):
    db = tmp_path / "nasbook.db"
    r = _run(["-"], tmp_path, stdin=_script(db, guarded=False))
    assert r.returncode == 0, r.stderr
    assert "trials 3" in r.stdout
    assert len(r.stderr.strip().splitlines()) < 15, r.stderr
    assert _searches(db) == ["script"]


GUARDS = """\
import os                                   # 1
x = 1                                       # 2
if __name__ == "__main__":                  # 3
    try:                                    # 4
        y = 2                               # 5
    finally:                                # 6
        z = 3                               # 7
if "__main__" != __name__:                  # 8
    a = 1                                   # 9
else:                                       # 10
    with open(os.devnull) as f:             # 11
        b = 2                               # 12
if x:                                       # 13
    c = 3                                   # 14
def f(                                      # 15
    d=4,                                    # 16
):                                          # 17
    pass                                    # 18
for i in []:                                # 19
    if __name__ == "__main__":              # 20
        e = 5                               # 21
"""


@pytest.mark.parametrize(("line", "guarded"), [
    (1, False), (2, False), (3, False), (5, True), (7, True), (9, False), (11, True), (12, True),
    (14, False), (16, False), (20, False), (21, True), (99, False),
])
def test_which_lines_are_under_the_main_guard(line, guarded):
    assert _cluster._guarded(ast.parse(GUARDS).body, line) is guarded


def test_the_check_looks_at_the_line_the_main_module_runs(tmp_path, monkeypatch):
    """A script's main module, as multiprocessing's spawn sees it, running line 2 (unguarded) or 4."""
    script = tmp_path / "s.py"
    script.write_text('import nasbook\nx = 1\nif __name__ == "__main__":\n    y = 2\n')
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)

    def run_line(n, check=_cluster.check_can_start_local_cluster):
        code = compile("\n" * (n - 1) + "check()", str(script), "exec")
        vars(main)["check"] = check
        exec(code, vars(main))

    with pytest.raises(ExecutorError, match=rf"{script}, line 2 starts a dask cluster outside"):
        run_line(2)
    run_line(4)  # under the guard: no error
    with pytest.raises(ExecutorError, match=r"line 2 starts a dask cluster"):
        run_line(2, _dask.DaskExecutor().check)
    with pytest.raises(ExecutorError, match=r"line 2 starts a dask cluster"):
        run_line(2, lambda: _resolve.resolve_executor("dask"))
    run_line(2, _dask.DaskExecutor("tcp://127.0.0.1:8786").check)  # no local cluster: nothing re-runs
    import dask

    with dask.config.set({"distributed.worker.multiprocessing-method": "fork"}):
        run_line(2)  # fork re-runs nothing
    main.__file__ = "<stdin>"
    run_line(2)  # spawn cannot re-run stdin: nothing to guard (start() lets spawn skip it)
    _cluster._spawn_can_rerun_main()
    assert not hasattr(main, "__file__")
