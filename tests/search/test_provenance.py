"""What a reader of a stored search can tell about where it ran: the environment it was created in."""

from __future__ import annotations

import importlib.metadata
import json
import platform

import pytest

import nasbook
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)


def _stored_config(path, name):
    storage = nasbook.storage.open_storage(str(path), create=False)
    try:
        return storage.get_search(name).config
    finally:
        storage.close()


def test_a_stored_search_records_its_environment(tmp_path):
    path = tmp_path / "env.db"
    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=3, seed=100, storage=path, name="env").run(progress="none")
    env = _stored_config(path, "env")["environment"]
    assert env["python"] == platform.python_version()
    assert env["packages"]["nasbook"] == nasbook.__version__
    for package in ("numpy", "torch", "lightning", "scikit-learn"):  # what training and the predictors ran on
        assert env["packages"][package] == importlib.metadata.version(package)
    assert s.environment == env
    ds = s.to_xarray()
    assert json.loads(ds.attrs["environment"]) == env  # a netCDF attribute: text, not a dict


def test_a_loaded_search_keeps_the_environment_it_was_created_in(tmp_path):
    path = tmp_path / "env.db"
    nasbook.Search(SPACE, ToyTask(SPACE), budget=3, seed=100, storage=path, name="env").run(progress="none")
    storage = nasbook.storage.open_storage(str(path), create=False)
    record = storage.get_search("env")
    old = {"python": "3.10.0", "platform": "elsewhere", "packages": {"nasbook": "0.0.1", "torch": "2.3.0"}}
    storage.update_search(record.id, config={**record.config, "environment": old})
    storage.close()
    loaded = nasbook.load_search("env", path, task=ToyTask(SPACE), budget=5)  # a new budget rewrites the config
    assert loaded.environment == old
    loaded.run(progress="none")
    assert _stored_config(path, "env")["environment"] == old
    assert json.loads(loaded.to_xarray().attrs["environment"]) == old


def _elsewhere(monkeypatch, **packages):
    """This process's environment, as if nasbook ran with other package versions."""
    from nasbook.search import _provenance

    env = _provenance._environment()
    moved = {**env, "packages": {**env["packages"], **packages}}
    monkeypatch.setattr(_provenance, "_environment", lambda: moved)
    return moved


def test_a_resume_in_the_same_environment_records_nothing_more(tmp_path):
    path = tmp_path / "env.db"
    nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=100, storage=path, name="env").run(progress="none")
    loaded = nasbook.load_search("env", path, task=ToyTask(SPACE), budget=4).run(progress="none")
    assert loaded.environment_history == []
    assert "environment_history" not in _stored_config(path, "env")
    assert "environment_history" not in loaded.to_xarray().attrs


def test_a_resume_in_another_environment_is_recorded_once_per_change(tmp_path):
    path = tmp_path / "env.db"
    created = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=100, storage=path, name="env").run(progress="none")
    here = created.environment
    with pytest.MonkeyPatch.context() as m:
        moved = _elsewhere(m, torch="9.9.9", nasbook="99.0")
        loaded = nasbook.load_search("env", path, task=ToyTask(SPACE), budget=4)
        assert loaded.environment_history == []  # loading is not a session; run() is
        loaded.run(progress="none")
        (entry,) = loaded.environment_history
        assert entry["environment"] == moved
        assert entry["changed"] == {"packages.nasbook": [here["packages"]["nasbook"], "99.0"],
                                    "packages.torch": [here["packages"]["torch"], "9.9.9"]}
        assert entry["at"] > 0
        assert loaded.environment == here  # where it was created stands
        assert _stored_config(path, "env")["environment_history"] == [entry]
        assert json.loads(loaded.to_xarray().attrs["environment_history"]) == [entry]
        nasbook.load_search("env", path, task=ToyTask(SPACE), budget=6).run(progress="none")  # the same: no noise
        assert _stored_config(path, "env")["environment_history"] == [entry]
    # back where it was created: that is a change from the last session, recorded
    again = nasbook.load_search("env", path, task=ToyTask(SPACE), budget=8).run(progress="none")
    assert [e["changed"] for e in again.environment_history] == [
        entry["changed"], {k: v[::-1] for k, v in entry["changed"].items()}]
    assert again.environment_history[-1]["environment"] == here


def _gpu(monkeypatch, initialized=True):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: initialized)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=None: f"NVIDIA H200 #{i}")
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 90100)


def test_a_session_that_trained_on_a_gpu_records_the_cuda_facts(tmp_path):
    from nasbook.search import _provenance

    facts = {"version": "12.4", "cudnn": 90100, "devices": ["NVIDIA H200 #0", "NVIDIA H200 #1"]}
    path = tmp_path / "env.db"
    with pytest.MonkeyPatch.context() as m:
        _gpu(m)
        assert _provenance.environment()["cuda"] == facts
        s = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=100, storage=path, name="env")
        assert s.environment["cuda"] == facts
    # resumed on a machine without a GPU: recorded
    loaded = nasbook.load_search("env", path, task=ToyTask(SPACE)).run(progress="none")
    (entry,) = loaded.environment_history
    assert entry["changed"] == {"cuda": [facts, None]}


def test_cuda_facts_never_initialise_cuda_nor_import_torch(monkeypatch):
    import sys

    from nasbook.search import _provenance

    _gpu(monkeypatch, initialized=False)  # a GPU this process has not used: asking for its name would initialise it
    assert "cuda" not in _provenance.environment()
    monkeypatch.delitem(sys.modules, "torch")
    assert _provenance.cuda() is None and "torch" not in sys.modules


def test_cuda_first_used_during_a_run_is_recorded_at_its_end_in_one_entry(tmp_path, monkeypatch):
    path = tmp_path / "env.db"
    used = []

    def trains_on_gpu(search, trial):  # what training on a GPU does to torch in this process
        if not used:
            _gpu(monkeypatch)
            used.append(trial.number)

    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=100, storage=path, name="env", callbacks=[trains_on_gpu])
    assert "cuda" not in s.environment
    s.run(progress="none")
    (entry,) = s.environment_history
    assert entry["changed"] == {"cuda": [None, {"version": "12.4", "cudnn": 90100,
                                                "devices": ["NVIDIA H200 #0", "NVIDIA H200 #1"]}]}
    s.extend(2).run(progress="none")  # the same session (object, process): no second entry
    assert s.environment_history == [entry]
    assert _stored_config(path, "env")["environment_history"] == [entry]


def test_sessions_of_one_search_in_two_processes_both_stay_recorded(tmp_path):
    """Two objects of one stored search (two processes) each run a session in its own environment: the second
    one's config write keeps the first one's entry (it was last-writer-wins: the history it loaded was written back)."""
    path = tmp_path / "env.db"
    created = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=100, storage=path, name="env").run(progress="none")
    first = nasbook.load_search("env", path, task=ToyTask(SPACE), budget=4)
    second = nasbook.load_search("env", path, task=ToyTask(SPACE), budget=6)  # loaded before the first one ran
    with pytest.MonkeyPatch.context() as m:
        a = _elsewhere(m, torch="8.8.8")
        first.run(progress="none")
    with pytest.MonkeyPatch.context() as m:
        b = _elsewhere(m, torch="9.9.9")
        with pytest.raises(nasbook.StorageError, match="another process or Search object ran it"):
            second.run(progress="none")
        second.run(progress="none")  # goes on from what is committed
    stored = _stored_config(path, "env")["environment_history"]
    assert [e["environment"] for e in stored] == [a, b]
    assert stored[1]["changed"] == {"packages.torch": ["8.8.8", "9.9.9"]}  # against the session before it
    assert second.environment_history == stored and created.environment not in [e["environment"] for e in stored]
