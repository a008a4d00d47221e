"""The stored identity (``task_key``) of every built-in task is pinned: a knowledge base matches a search with its
task by this key, and ``load_search`` compares the stored configuration, so a change here orphans stored searches.

The keys were printed with ``task_key(task.to_config())`` on commit 8bfe9fa, before run-only settings
(``deterministic=``, ``trainer=`` options that do not change results) were added to the bundled tasks.
"""

import importlib.util

import pytest

from nasbook.storage import task_key
from nasbook.tasks import MNIST1D, BreastCancer, Digits, DigitsTable, MNIST1DTable, NasBenchGraph, TrainingTask

PINNED = [
    (lambda: Digits(), "219455c70f6dfbaf"),
    (lambda: Digits(max_epochs=3, seed=2, latency=True), "7b4bd430b0217025"),
    (lambda: BreastCancer(), "51dd6898b23b29f2"),
    (lambda: BreastCancer(batch_size=16, health=False), "ea80edca58a26fc6"),
    (lambda: MNIST1D(), "eb33a5c83de63be7"),
    (lambda: MNIST1D(lr=0.01, split_seed=1), "120f4d1f50218461"),
    (lambda: DigitsTable(), "adc4b99cdd17f059"),
    (lambda: DigitsTable(seed=0), "79e369b2974328bd"),
    (lambda: MNIST1DTable(), "d87bf2a137d81d67"),
    (lambda: NasBenchGraph("cora"), "1edef53a0b3349e8"),
    (lambda: NasBenchGraph("citeseer"), "500f68613da5a3dc"),
    (lambda: NasBenchGraph("pubmed"), "34e8b9aafc4d28c8"),
    (lambda: NasBenchGraph("proteins"), "5c2bee6bd5efc556"),
]


@pytest.mark.parametrize("make, key", PINNED, ids=[k for _, k in PINNED])
def test_built_in_task_keys_never_change(make, key):
    assert task_key(make().to_config()) == key


@pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="needs lightning")
def test_training_task_with_result_changing_trainer_options_keeps_its_key():
    from nasbook.training import BreastCancerDataModule

    task = TrainingTask(BreastCancerDataModule(batch_size=32), trainer={"precision": "bf16-mixed", "gradient_clip_val": 1.0})
    assert task_key(task.to_config()) == "3d5e2a16738934d8"


def test_a_config_stored_with_run_only_options_in_params_trainer_has_the_key_of_the_task_stored_now():
    # the first trainer= version kept run-only options in params["trainer"] (in the key); the key now leaves
    # them out of that form too, so both forms of one task are one task in a knowledge base
    from nasbook.storage import task_identity
    from nasbook.tasks import split_config

    now = Digits().to_config()
    now["params"]["trainer"] = {"gradient_clip_val": 1.0}
    now["run_params"] = {"trainer": {"benchmark": True, "log_every_n_steps": 5}}
    old = {k: v for k, v in now.items() if k != "run_params"}
    old["params"] = {**now["params"], "trainer": {"gradient_clip_val": 1.0, "benchmark": True, "log_every_n_steps": 5}}
    assert task_key(old) == task_key(now) == task_key(task_identity(now))
    assert task_identity(old) == split_config(old)[0] == split_config(now)[0]
    only_run = {**old, "params": {**old["params"], "trainer": {"benchmark": True}}}
    assert "trainer" not in task_identity(only_run)["params"]  # an emptied trainer goes, as a task stored now has none
    assert task_key(only_run) == task_key(Digits().to_config()) == "219455c70f6dfbaf"
