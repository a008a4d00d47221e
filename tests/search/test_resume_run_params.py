"""Run-only settings (``deterministic``, run-only ``trainer=`` options) are stored under the task config's
``run_params``, out of its key: load_search accepts a task that differs only there, and records the change."""

import importlib.util
import json
import sqlite3

import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.space import ChainSpace
from nasbook.storage import Storage, task_identity, task_key
from nasbook.tasks import BreastCancer, NasBenchGraph
from nasbook.tasks._run_params import constructor_params, split_config

needs_lightning = pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="needs lightning")
MLP = ChainSpace(kind="mlp", max_depth=1)


def _config(path, name):
    st = Storage(path)
    try:
        return st.get_search(name).config
    finally:
        st.close()


def test_the_identity_leaves_run_params_out():
    config = BreastCancer(deterministic=True).to_config()
    assert config["run_params"] == {"deterministic": True}
    assert task_identity(config) == BreastCancer().to_config() and "run_params" not in task_identity(config)
    assert task_key(config) == task_key(BreastCancer().to_config()) == "51dd6898b23b29f2"  # pinned in test_task_keys
    assert task_key({**config, "run_params": {"deterministic": "warn", "trainer": {"detect_anomaly": True}}}) == task_key(config)
    assert task_key(NasBenchGraph("cora").to_config()) == task_key({**NasBenchGraph("cora").to_config(), "run_params": {"x": 1}})


@needs_lightning
def test_run_only_trainer_options_go_to_run_params_and_the_others_stay_in_the_key():
    task = BreastCancer(deterministic="warn", trainer={"detect_anomaly": True, "inference_mode": False, "gradient_clip_val": 1.0})
    config = task.to_config()
    assert config["params"]["trainer"] == {"gradient_clip_val": 1.0} and "deterministic" not in config["params"]
    assert config["run_params"] == {"deterministic": "warn", "trainer": {"detect_anomaly": True, "inference_mode": False}}
    assert task_key(config) == task_key(BreastCancer(trainer={"gradient_clip_val": 1.0}).to_config())
    assert task_key(config) != task_key(BreastCancer().to_config())
    # the stored config rebuilds the task it came from, run-only settings included
    assert BreastCancer(**constructor_params(json.loads(json.dumps(config)))).to_config() == config


def test_a_config_stored_with_run_only_options_in_the_key_reads_as_the_same_task():
    """Stored before those options left the key (h-determ): ``params["trainer"]`` held them."""
    old = {"class": "TrainingTask", "params": {"lr": 0.1, "trainer": {"benchmark": True, "precision": "bf16-mixed"}},
           "metric": "val_accuracy", "mode": "max"}
    new = {"class": "TrainingTask", "params": {"lr": 0.1, "trainer": {"precision": "bf16-mixed"}}, "metric": "val_accuracy",
           "mode": "max", "run_params": {"trainer": {"benchmark": True}}}
    assert split_config(old) == split_config(new) == (
        {k: v for k, v in new.items() if k != "run_params"}, {"trainer": {"benchmark": True}})
    only_run = {**old, "params": {"lr": 0.1, "trainer": {"benchmark": True}}}
    assert split_config(only_run)[0]["params"] == {"lr": 0.1}


@needs_lightning
def test_load_search_accepts_deterministic_toggled_and_records_it(tmp_path):
    path = tmp_path / "s.db"
    nasbook.Search(MLP, BreastCancer(max_epochs=1), strategy="random", budget=2, storage=path, name="s", seed=0).run()
    key = task_key(_config(path, "s")["task"])

    s = nasbook.load_search("s", path, task=BreastCancer(max_epochs=1, deterministic=True), budget=3)  # no allow_changes
    assert s.task.deterministic is True
    config = _config(path, "s")
    change = config["changes"][-1]
    assert (change["what"], change["from"], change["to"]) == ("run_params", {}, {"deterministic": True})
    assert isinstance(change["at"], float)
    assert config["task"]["run_params"] == {"deterministic": True} and task_key(config["task"]) == key
    s.run()
    assert s.n_trials == 3

    again = nasbook.load_search("s", path)  # rebuilt from the stored config: deterministic as last resumed
    assert again.task.deterministic is True and again.n_trials == 3
    with sqlite3.connect(path) as con:
        keys = {r[0] for r in con.execute("select task_key from nasbook_searches")}
        stored = [json.loads(r[0]) for r in con.execute("select config from nasbook_tasks")]
    assert keys == {key} and all("run_params" not in c for c in stored)  # one task in the catalogue, no run settings

    back = nasbook.load_search("s", path, task=BreastCancer(max_epochs=1), budget=3)  # toggled back: recorded too
    changes = _config(path, "s")["changes"]
    assert [(c["what"], c["from"], c["to"]) for c in changes] == [
        ("run_params", {}, {"deterministic": True}), ("run_params", {"deterministic": True}, {})]
    assert back.task.deterministic is False and "run_params" not in _config(path, "s")["task"]


@needs_lightning
def test_a_task_that_differs_in_its_identity_is_still_refused(tmp_path):
    path = tmp_path / "s.db"
    nasbook.Search(MLP, BreastCancer(max_epochs=1), strategy="random", budget=1, storage=path, name="s", seed=0).run()
    with pytest.raises(InvalidParameterError, match=r"search 's' was run on BreastCancer\(.*allow_changes=True"):
        nasbook.load_search("s", path, task=BreastCancer(max_epochs=2, deterministic=True))
    assert "changes" not in _config(path, "s")  # nothing written
    nasbook.load_search("s", path, task=BreastCancer(max_epochs=2, deterministic=True), allow_changes=True)
    assert [c["what"] for c in _config(path, "s")["changes"]] == ["task"]


class _Mine(nasbook.strategies.RandomSearch):  # a strategy never registered: its search loads read-only
    pass


@needs_lightning
def test_a_read_only_search_takes_a_run_params_change_without_writing(tmp_path):
    path = tmp_path / "s.db"
    nasbook.Search(MLP, BreastCancer(max_epochs=1), strategy=_Mine(), budget=1, storage=path, name="s", seed=0).run()
    before = path.read_bytes()
    s = nasbook.load_search("s", path, task=BreastCancer(max_epochs=1, deterministic=True))  # not refused
    assert not s.resumable and s.n_trials == 1
    s.close()
    assert path.read_bytes() == before  # it cannot run: nothing recorded


@needs_lightning
def test_a_search_stored_with_run_only_options_in_its_key_resumes_with_the_same_task(tmp_path):
    """A config written before run-only options left the key (``params["trainer"]`` held them) is the same task."""
    path = tmp_path / "s.db"
    task = BreastCancer(max_epochs=1, trainer={"detect_anomaly": True})
    nasbook.Search(MLP, task, strategy="random", budget=1, storage=path, name="s", seed=0)
    with sqlite3.connect(path) as con:  # the config as h-determ stored it
        config = json.loads(con.execute("select config from nasbook_searches").fetchone()[0])
        config["task"].pop("run_params")
        config["task"]["params"]["trainer"] = {"detect_anomaly": True}
        con.execute("update nasbook_searches set config = ?", (json.dumps(config),))
    s = nasbook.load_search("s", path, task=BreastCancer(max_epochs=1, trainer={"detect_anomaly": True}))  # not refused
    assert s.task.trainer == {"detect_anomaly": True} and "changes" not in _config(path, "s")  # nothing changed
    nasbook.load_search("s", path, task=BreastCancer(max_epochs=1))
    change = _config(path, "s")["changes"][-1]
    assert (change["what"], change["from"], change["to"]) == ("run_params", {"trainer": {"detect_anomaly": True}}, {})
