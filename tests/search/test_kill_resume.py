"""A search process killed with SIGKILL at any point resumes without losing or repeating a trial."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

import nasbook
from nasbook.tasks import NasBenchGraph

CHILD = textwrap.dedent(
    """
    import sys, time
    import nasbook
    from nasbook.tasks import NasBenchGraph

    path, budget, strategy, hold_at = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

    def slow(search, trial):
        time.sleep(0.002)  # widen the window between commits
        if search.n_trials >= hold_at:
            time.sleep(600)  # killed here at the latest: the run cannot finish first, however slow the killer

    nasbook.Search(NasBenchGraph("cora"), strategy=strategy, budget=budget, seed=7, storage=path,
                   name="killme", callbacks=[slow]).run()
    """
)


def _count(path):
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            if not con.execute("SELECT count(*) FROM nasbook_searches").fetchone()[0]:
                return -1
            return con.execute("SELECT count(*) FROM nasbook_trials").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return -1


@pytest.mark.parametrize(
    ("strategy", "kill_at"),
    [("evolution", 0), ("random", 40), ("evolution", 250), ("local", 420)],
)
def test_sigkill_mid_run_then_resume(tmp_path, strategy, kill_at):
    budget = 500
    path = tmp_path / "killed.db"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    # the child holds after kill_at + 5 trials: the kill lands within those 5 (mid-commit or between commits),
    # never after the last (a stall of this process let the child finish 500 trials before the kill)
    proc = subprocess.Popen([sys.executable, str(script), str(path), str(budget), strategy, str(kill_at + 5)])
    deadline = time.monotonic() + 120
    try:
        while _count(path) < kill_at:
            assert proc.poll() is None, "the search finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()  # killed already, unless the wait above failed: then no child is left holding for 600 s
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    committed = _count(path)
    assert kill_at <= committed <= kill_at + 5

    before = nasbook.load_search("killme", path)
    assert before.n_trials == committed
    # a search killed while running reads as interrupted (or created, if killed before it started)
    assert before.state.value == ("interrupted" if committed else before.state.value)
    assert before.state.value in ("created", "interrupted")
    ids_before = [t.arch.id for t in before.trials]

    resumed = nasbook.load_search("killme", path).run()
    assert resumed.n_trials == budget
    assert [t.number for t in resumed.trials] == list(range(budget))
    assert [t.arch.id for t in resumed.trials][:committed] == ids_before  # nothing committed lost
    # the seeded search continues with exactly the trials an uninterrupted run proposes
    full = nasbook.Search(NasBenchGraph("cora"), strategy=strategy, budget=budget, seed=7, storage=":memory:").run()
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
    con = sqlite3.connect(path)
    rows = con.execute("SELECT number, count(*) FROM nasbook_trials GROUP BY number HAVING count(*) > 1").fetchall()
    assert rows == []
    assert con.execute("SELECT count(*) FROM nasbook_trials").fetchone()[0] == budget
