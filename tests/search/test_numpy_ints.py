"""Integral numpy scalars (``np.int64``, what ``rng.integers`` gives) are accepted wherever nasbook
takes an int seed, and stored as plain ints; bools and floats are still refused."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidParameterTypeError
from nasbook.predictors import available_predictors
from nasbook.space import GraphSpace
from nasbook.storage._catalog import task_key
from nasbook.strategies import RandomSearch
from nasbook.tasks import BreastCancer, NasBenchGraph


@pytest.fixture(scope="module")
def cora():
    return NasBenchGraph("cora")


def test_numpy_seeds_give_the_same_search_and_plain_ints_in_the_stored_config(tmp_path, cora):
    seed = np.random.default_rng(100).integers(0, 1000)  # np.int64
    path = tmp_path / "x.db"
    s = nasbook.Search(cora, strategy=RandomSearch(seed=np.int64(5)), budget=4, seed=seed, storage=path,
                       name="x").run()
    assert type(s.seed) is int and s.seed == int(seed)
    assert type(s.strategy.seed) is int and s.strategy.seed == 5
    with sqlite3.connect(path) as con:
        raw = con.execute("select config from nasbook_searches").fetchone()[0]
    cfg = json.loads(raw)
    assert cfg["seed"] == int(seed) and cfg["strategy"]["params"]["seed"] == 5
    assert "int64" not in raw
    plain = nasbook.Search(cora, strategy=RandomSearch(seed=5), budget=4, seed=int(seed), storage=":memory:").run()
    assert [t.arch.id for t in s.trials] == [t.arch.id for t in plain.trials]
    again = nasbook.load_search("x", path)
    assert type(again.seed) is int and again.seed == int(seed)


def test_a_training_task_keeps_plain_ints_so_its_stored_identity_does_not_change():
    task = BreastCancer(max_epochs=np.int64(3), batch_size=np.int32(16), seed=np.int64(2), split_seed=np.uint8(1))
    task.check()
    params = task.get_params()
    assert all(type(params[k]) is int for k in ("max_epochs", "batch_size", "seed", "split_seed"))
    plain = BreastCancer(max_epochs=3, batch_size=16, seed=2, split_seed=1)
    assert task_key(task.to_config()) == task_key(plain.to_config())


def test_a_predictor_takes_a_numpy_seed():
    archs = GraphSpace().enumerate()[::97][:60]
    y = np.array([list(a["ops"]).count("gcn") for a in archs], dtype=float)
    p = available_predictors()["random-forest"](seed=np.int64(3), n_estimators=20).fit(archs[:40], y[:40])
    q = available_predictors()["random-forest"](seed=3, n_estimators=20).fit(archs[:40], y[:40])
    assert type(p.seed) is int
    np.testing.assert_array_equal(p.predict_mean_std(archs[40:])[0], q.predict_mean_std(archs[40:])[0])


@pytest.mark.parametrize("seed", [True, np.bool_(True), 3.0, np.float64(3.0), "3"])
def test_bools_floats_and_strings_are_still_refused(cora, seed):
    with pytest.raises(InvalidParameterTypeError, match=r"Search\(seed=\.\.\.\) must be an int"):
        nasbook.Search(cora, budget=2, seed=seed, storage=":memory:")
    with pytest.raises(InvalidParameterTypeError, match=r"RandomSearch\(seed=\.\.\.\) must be an int"):
        nasbook.Search(cora, strategy=RandomSearch(seed=seed), budget=2, storage=":memory:")
