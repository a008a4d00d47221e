"""What a reader of a stored search can tell about where it ran: the environment it was created in."""

from __future__ import annotations

import importlib.metadata
import json
import platform

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
