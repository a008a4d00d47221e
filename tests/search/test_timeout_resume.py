"""A search's trial_timeout_s is stored with it: load_search without one keeps it, so a resumed search's hung trials
are stopped too (they ran to their end: found by benchmarks/outside_probe10.py, part faults); one given replaces it."""

import json
import sqlite3

import nasbook
from nasbook.search import TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)
SLOW = ToyTask(SPACE, epochs=40, epoch_s=0.05)  # 2 s a trial, reporting each epoch: stopped past the limit


def _stored(path):
    with sqlite3.connect(path) as conn:
        return json.loads(conn.execute("SELECT config FROM nasbook_searches").fetchone()[0]).get("trial_timeout_s")


def test_load_search_keeps_the_stored_trial_timeout(tmp_path):
    path = tmp_path / "t.db"
    s = nasbook.Search(SPACE, SLOW, budget=1, seed=0, storage=path, name="t", trial_timeout_s=0.3).run(progress="none")
    s.close()
    assert s.trials[0].state is TrialState.FAILED and _stored(path) == 0.3
    resumed = nasbook.load_search("t", path, task=SLOW, budget=2)
    assert resumed.trial_timeout_s == 0.3
    resumed.run(progress="none")
    resumed.close()
    last = resumed.trials[1]
    assert last.state is TrialState.FAILED and "trial_timeout_s" in last.reason


def test_a_trial_timeout_given_to_load_search_replaces_the_stored_one(tmp_path):
    path = tmp_path / "t.db"
    nasbook.Search(SPACE, ToyTask(SPACE), budget=1, seed=0, storage=path, name="t", trial_timeout_s=0.3).run(progress="none").close()
    resumed = nasbook.load_search("t", path, task=ToyTask(SPACE), budget=2, trial_timeout_s=60)
    assert resumed.trial_timeout_s == 60
    resumed.run(progress="none")
    resumed.close()
    assert _stored(path) == 60 and nasbook.load_search("t", path, task=ToyTask(SPACE)).trial_timeout_s == 60


def test_a_search_without_a_timeout_stores_none(tmp_path):
    path = tmp_path / "t.db"
    nasbook.Search(SPACE, ToyTask(SPACE), budget=1, seed=0, storage=path, name="t").run(progress="none").close()
    assert _stored(path) is None and nasbook.load_search("t", path, task=ToyTask(SPACE)).trial_timeout_s is None


def test_load_search_with_math_inf_removes_the_stored_trial_timeout(tmp_path):
    """None means "keep the stored limit"; math.inf is how a user removes it (h-execdur (a)): it stored Infinity."""
    import math

    path, task = tmp_path / "t.db", ToyTask(SPACE, epochs=8, epoch_s=0.05)  # 0.4 s a trial
    nasbook.Search(SPACE, task, budget=1, seed=0, storage=path, name="t", trial_timeout_s=0.3).run(progress="none").close()
    resumed = nasbook.load_search("t", path, task=task, budget=2, trial_timeout_s=math.inf)
    assert resumed.trial_timeout_s is None
    resumed.run(progress="none")
    resumed.close()
    assert [t.state for t in resumed.trials] == [TrialState.FAILED, TrialState.COMPLETE]  # past 0.3 s: not stopped now
    assert _stored(path) is None and nasbook.load_search("t", path, task=task).trial_timeout_s is None
    # Search(trial_timeout_s=math.inf) is no limit too: nothing (no Infinity) stored
    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=1, seed=0, storage=":memory:", trial_timeout_s=math.inf)
    assert s.trial_timeout_s is None and "trial_timeout_s" not in s._config()


def test_a_bad_trial_timeout_is_refused_naming_the_parameter_before_anything_is_stored(tmp_path):
    import math

    import pytest

    from nasbook import InvalidParameterError

    path = tmp_path / "t.db"
    nasbook.Search(SPACE, ToyTask(SPACE), budget=1, seed=0, storage=path, name="t", trial_timeout_s=0.3).run(progress="none").close()
    for bad in (-1, 0, math.nan, -math.inf, "60", True):
        with pytest.raises(InvalidParameterError, match=r"^load_search\(trial_timeout_s=\.\.\.\) must be a number of seconds "
                                                        r"> 0, math\.inf \(no limit\) or None; got "):
            nasbook.load_search("t", path, task=ToyTask(SPACE), budget=5, trial_timeout_s=bad)
        with pytest.raises(InvalidParameterError, match=r"^Search\(trial_timeout_s=\.\.\.\) must be"):
            nasbook.Search(SPACE, ToyTask(SPACE), budget=1, storage=":memory:", trial_timeout_s=bad)
    assert _stored(path) == 0.3 and nasbook.load_search("t", path, task=ToyTask(SPACE)).budget.trials == 1
