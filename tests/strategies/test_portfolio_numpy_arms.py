"""``Portfolio(strategies=np.array([...]))`` runs as the same list and stores a plain list (outside probe 5:
refused as "must be a list of strategy names")."""
import json

import numpy as np
import pytest

import nasbook
from nasbook.strategies import Portfolio
from nasbook.tasks import NasBenchGraph


def _run(strategies, tmp_path, name):
    db = str(tmp_path / "p.db")
    s = nasbook.Search(NasBenchGraph("cora"), strategy=Portfolio(strategies=strategies, seed=631), budget=8, seed=631,
                       storage=db, name=name).run(progress="none")
    return [t.arch.id for t in s.trials], nasbook.load_search(name, db)


def test_a_numpy_array_of_names_is_the_list(tmp_path):
    ids_list, _ = _run(["random", "local"], tmp_path, "l")
    ids_arr, loaded = _run(np.array(["random", "local"]), tmp_path, "a")
    assert ids_arr == ids_list
    assert loaded.strategy.strategies == ["random", "local"] and type(loaded.strategy.strategies[0]) is str
    json.dumps(loaded.strategy.to_config() if hasattr(loaded.strategy, "to_config") else loaded.strategy.strategies)


def test_a_2d_array_is_still_refused():
    with pytest.raises(nasbook.InvalidParameterError, match=r"Portfolio\(strategies=\.\.\.\) must be a list"):
        Portfolio(strategies=np.array([["random", "local"]]))._validate_params()
