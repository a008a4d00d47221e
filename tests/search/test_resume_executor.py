"""load_search without executor=...: a training search that ran on workers says it now trains here."""

import json
import sqlite3
import warnings

import pytest

from nasbook import load_search
from nasbook._errors import NasbookWarning
from nasbook.search import Search
from nasbook.space import ChainSpace, GraphSpace
from nasbook.tasks import Digits
from nasbook.testing._toy import ToyTask


def _ran_on(path, name, executor):
    """Record ``executor`` as the one the stored search ran on (what DaskExecutor's repr stores)."""
    with sqlite3.connect(path) as conn:
        (raw,) = conn.execute("SELECT config FROM nasbook_searches WHERE name = ?", (name,)).fetchone()
        config = json.loads(raw)
        assert config["executor"].startswith("LocalExecutor")
        config["executor"] = executor
        conn.execute("UPDATE nasbook_searches SET config = ? WHERE name = ?", (json.dumps(config), name))


def test_a_training_search_from_workers_warns_when_loaded_without_executor(tmp_path):
    path = tmp_path / "dk.db"
    Search(ChainSpace(kind="mlp"), Digits(), strategy="random", budget=2, storage=path, name="dk")
    _ran_on(path, "dk", "DaskExecutor(LocalCluster, capacity=2)")
    with pytest.warns(NasbookWarning, match=r"ran on DaskExecutor\(LocalCluster, capacity=2\).*executor='dask'"):
        loaded = load_search("dk", path)
    assert type(loaded.executor).__name__ == "LocalExecutor"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asked for explicitly: nothing to say
        load_search("dk", path, executor="local")


def test_a_table_search_or_one_run_locally_loads_silently(tmp_path):
    path = tmp_path / "t.db"
    space = GraphSpace()
    Search(space, ToyTask(space), strategy="random", budget=2, storage=path, name="toy")
    Search(ChainSpace(kind="mlp"), Digits(), strategy="random", budget=2, storage=path, name="local")
    _ran_on(path, "toy", "DaskExecutor(LocalCluster, capacity=2)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_search("toy", path, task=ToyTask(space))  # answers from a table or a toy: nothing trains
        load_search("local", path)  # ran in-process, resumes in-process


def _stored_executor(path, name):
    with sqlite3.connect(path) as conn:
        (raw,) = conn.execute("SELECT config FROM nasbook_searches WHERE name = ?", (name,)).fetchone()
    return json.loads(raw)["executor"]


def test_extending_the_budget_keeps_the_stored_executor(tmp_path):
    path = tmp_path / "b.db"
    space = GraphSpace()
    Search(space, ToyTask(space), strategy="random", budget=2, storage=path, name="b").run(progress="none")
    _ran_on(path, "b", "DaskExecutor('tcp://10.0.0.5:8786', capacity=8)")
    loaded = load_search("b", path, task=ToyTask(space), budget=4)  # only the budget is extended
    assert _stored_executor(path, "b") == "DaskExecutor('tcp://10.0.0.5:8786', capacity=8)"
    loaded.run(progress="none")  # its remaining trials run here (no executor=...), the stored record is kept
    loaded.extend(2)
    assert _stored_executor(path, "b") == "DaskExecutor('tcp://10.0.0.5:8786', capacity=8)"
    assert load_search("b", path, task=ToyTask(space)).budget.trials == 6


def test_an_executor_passed_to_load_search_replaces_the_stored_one(tmp_path):
    path = tmp_path / "e.db"
    space = GraphSpace()
    Search(space, ToyTask(space), strategy="random", budget=2, storage=path, name="e").run(progress="none")
    _ran_on(path, "e", "DaskExecutor('tcp://10.0.0.5:8786', capacity=8)")
    load_search("e", path, task=ToyTask(space), budget=4, executor="tcp://127.0.0.1:8786")
    assert _stored_executor(path, "e") == "DaskExecutor('tcp://127.0.0.1:8786')"
    load_search("e", path, task=ToyTask(space), budget=5, executor="local").run(progress="none")
    assert _stored_executor(path, "e") == "LocalExecutor()"
