"""A script (or a kernel) that ends with local clusters still running, or closes them in the order it
made them, exits as quietly as one that closed them: no wall of ``distributed ... INFO`` lines."""

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nasbook
from nasbook._errors import ExecutorError
from nasbook.executors import DaskExecutor, _quiet

pytest.importorskip("distributed")

# the nasbook this test imported (a worktree's, or the installed one): the script runs the same code
PACKAGE_ROOT = Path(nasbook.__file__).resolve().parents[1]

SCRIPT = """
import sys, time
import nasbook
from nasbook.executors import DaskExecutor
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

if __name__ == "__main__":
    space = GraphSpace(ops=PROTEINS_OPS)
    searches = [nasbook.Search(space, ToyTask(space), budget=3, seed=100 + i, storage=sys.argv[1], name=f"s{i}",
                               executor=DaskExecutor(n_workers=2)).run(progress="none")
                for i in range(int(sys.argv[2]))]
    if sys.argv[3] == "close":
        for s in searches:  # in the order they were made, not the reverse
            s.close()
    print("trials", sum(s.n_trials for s in searches))
    print("ended", time.time(), flush=True)
"""


def _run_script(tmp_path, n_searches, close):
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, str(script), str(tmp_path / "nasbook.db"), str(n_searches),
                        "close" if close else "exit"], cwd=tmp_path, capture_output=True, text=True, timeout=180, env=env)
    exited = time.time()
    return r, exited


@pytest.mark.parametrize(("n_searches", "close"), [
    (2, False),  # two clusters alive at exit: distributed's hook closed them in any order, the second loudly
    (2, True),   # closed in the order made: the first close gave the second's shutdown its INFO lines back
    pytest.param(1, False, marks=pytest.mark.slow),
])
def test_a_script_exits_quietly_with_its_clusters_open_or_closed_in_any_order(tmp_path, n_searches, close):
    r, exited = _run_script(tmp_path, n_searches, close)
    assert r.returncode == 0, r.stderr
    assert f"trials {3 * n_searches}" in r.stdout
    noise = [line for line in r.stderr.splitlines() if "distributed." in line]
    assert noise == [], f"{len(noise)} lines from distributed at exit:\n" + "\n".join(noise)
    ended = float(r.stdout.split("ended ")[1].split()[0])
    assert exited - ended < 20, f"the script took {exited - ended:.1f} s to exit after its last line"


def test_the_quiet_filter_is_counted_and_lets_errors_through():
    log = logging.getLogger("distributed")
    handler = logging.StreamHandler()
    log.addHandler(handler)
    try:
        before = _quiet.held()
        _quiet.hold()
        _quiet.hold()

        def passes(level):
            return handler.filter(logging.LogRecord("distributed.scheduler", level, __file__, 1, "m", (), None))

        assert not passes(logging.INFO) and not passes(logging.WARNING)
        assert passes(logging.ERROR)  # what goes wrong still shows
        _quiet.release()
        assert not passes(logging.INFO)  # one cluster still alive: still quiet
        _quiet.release()
        assert _quiet.held() == before
        if before == 0:
            assert passes(logging.INFO)  # the last one closed: the handler is as it was
    finally:
        log.removeHandler(handler)


def test_no_local_cluster_starts_once_the_exit_hook_has_run(monkeypatch):
    monkeypatch.setattr(_quiet, "_exiting", True)
    ex = DaskExecutor(n_workers=1)
    with pytest.raises(ExecutorError, match="interpreter is exiting"):
        ex.start()
    assert ex._client is None and ex._cluster is None
