"""Budgets and warm-start counts given as numpy integers, as seeds already may be (outside probe 2)."""
import json

import numpy as np
import pytest

import nasbook
from nasbook.search import Budget
from nasbook.space import GraphSpace
from nasbook.testing import ToyTask


@pytest.fixture
def task():
    return ToyTask(GraphSpace(ops=("gcn", "sage", "fc", "skip")), fail_ids=())


def _ids(search):
    return [t.arch.id for t in search.trials]


def test_a_numpy_budget_runs_the_same_search_as_the_int(task, tmp_path):
    # `for budget in np.array([20, 60, 150])` was refused: "budget must be a positive int ...; got np.int64(20)"
    plain = nasbook.Search(task, strategy="evolution", budget=6, seed=3, storage=":memory:").run(progress="none")
    db = tmp_path / "n.db"
    s = nasbook.Search(task, strategy="evolution", budget=np.int64(6), seed=np.int64(3), storage=db, name="n").run(progress="none")
    assert _ids(s) == _ids(plain)
    s.extend(trials=np.int32(2)).run(progress="none")
    assert len(s.trials) == 8
    assert nasbook.load_search("n", db, task=task, budget=np.int64(9)).run(progress="none").n_trials == 9


def test_budget_fields_become_plain_ints():
    b = Budget(trials=np.int64(7), epochs=np.uint8(5), seconds=np.float32(1.5))
    assert type(b.trials) is int and type(b.epochs) is int and type(b.seconds) is float
    json.dumps(b.to_dict())  # stored as JSON
    assert Budget.coerce({"trials": np.int16(4)}).trials == 4 and type(Budget.coerce(np.int64(4)).trials) is int
    for bad in (np.bool_(True), 2.0, "4"):
        with pytest.raises(nasbook.InvalidParameterError):
            Budget.coerce(bad)
    with pytest.raises(nasbook.InvalidParameterError, match="> 0"):
        Budget.coerce(np.int64(0))


def test_a_numpy_warm_start_count_is_a_count(task):
    with pytest.raises(nasbook.InvalidParameterError, match="pass kb=KnowledgeBase"):
        nasbook.Search(task, budget=3, seed=0, storage=":memory:", warm_start=np.int64(2))
