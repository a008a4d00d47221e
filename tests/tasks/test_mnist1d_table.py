"""The shipped MNIST-1D learning-curve table and MNIST1DTable (fast: table look-ups only)."""

from __future__ import annotations

import json
import pickle
from importlib import resources

import numpy as np
import pytest
from scipy.stats import kendalltau

from nasbook import Search
from nasbook._errors import InvalidParameterError
from nasbook.search import Budget, TrialState
from nasbook.space import ConvDenseSpace
from nasbook.strategies import ASHA
from nasbook.tasks import MNIST1D, CurveTable, MNIST1DTable, load_curve_table
from nasbook.tasks._table import CURVE_NAMES

STEM = "mnist1d_chains"


@pytest.fixture(scope="module")
def task() -> MNIST1DTable:
    return MNIST1DTable()


def _files():
    return resources.files("nasbook") / "_data"


def _arrays() -> dict[str, np.ndarray]:
    with (_files() / f"{STEM}.npz").open("rb") as fh, np.load(fh, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


# -- the shipped files ------------------------------------------------------------------------------
def test_table_files_are_compact_complete_and_consistent():
    doc = json.loads((_files() / f"{STEM}.json").read_text())
    arrays = _arrays()
    n, k, e = len(doc["ids"]), len(doc["seeds"]), int(doc["epochs"])
    assert n >= 200 and k >= 2 and e >= 15
    assert len(doc["specs"]) == n == len(set(doc["ids"]))
    for name in CURVE_NAMES:
        assert arrays[name].shape == (n, k, e) and arrays[name].dtype == np.float32
        assert np.isfinite(arrays[name]).all()
    for name in ("test_accuracy", "train_time_s"):
        assert arrays[name].shape == (n, k) and np.isfinite(arrays[name]).all()
    assert arrays["n_params"].shape == arrays["flops"].shape == arrays["latency_ms"].shape == (n,)
    assert (arrays["n_params"] > 0).all() and (arrays["flops"] > 0).all() and (arrays["latency_ms"] > 0).all()
    for name in ("val_accuracy", "test_accuracy"):
        assert ((arrays[name] >= 0) & (arrays[name] <= 1)).all()
    assert len((_files() / f"{STEM}.npz").read_bytes()) + len((_files() / f"{STEM}.json").read_bytes()) < 1_000_000
    assert doc["task"]["class"] == "MNIST1D"


def test_architectures_differ_in_kind_and_accuracy():
    """What the table is for: logistic regression, MLPs and CNNs, far apart, ranked alike by two seeds."""
    doc = json.loads((_files() / f"{STEM}.json").read_text())
    final = _arrays()["val_accuracy"][:, :, -1]
    n_conv = np.array([len(s["conv"]) for s in doc["specs"]])
    assert {0, 1, 2, 3, 4} <= set(n_conv.tolist())
    mean = final.mean(axis=1)
    assert mean.min() < 0.5 and mean.max() > 0.85  # a wide range of accuracies
    assert mean[n_conv == 0].max() < np.median(mean[n_conv >= 2])  # MLPs below the typical CNN
    assert kendalltau(final[:, 0], final[:, 1]).statistic >= 0.6  # the seeds agree on the ranking


def test_every_spec_recanonicalizes_to_its_id():
    doc = json.loads((_files() / f"{STEM}.json").read_text())
    space = ConvDenseSpace()
    assert doc["space"]["space_id"] == space.space_id
    for arch_id, spec in zip(doc["ids"], doc["specs"]):
        arch = space.make(**spec)
        assert arch.id == arch_id and arch.spec == spec


def test_latency_is_optional_and_checked(tmp_path):
    doc = json.loads((_files() / f"{STEM}.json").read_text())
    arrays = _arrays()
    without = {k: v for k, v in arrays.items() if k != "latency_ms"}
    np.savez(tmp_path / "t.npz", **without)
    assert load_curve_table(tmp_path / "t.npz", doc).latency_ms is None
    np.savez(tmp_path / "bad.npz", **{**without, "latency_ms": arrays["latency_ms"][:-1]})
    with pytest.raises(InvalidParameterError, match="latency_ms"):
        load_curve_table(tmp_path / "bad.npz", doc)


# -- the task -----------------------------------------------------------------------------------------
def test_evaluate_returns_curves_and_latency(task):
    table = task.table
    assert isinstance(table, CurveTable) and table.latency_ms is not None
    arch = task.space.members[3]
    res = task.evaluate(arch, fidelity={"epochs": 4})
    assert res.epochs == 4 and all(len(c) == 4 for c in res.curves.values())
    assert res.value == pytest.approx(float(table.curves["val_accuracy"][3, :, 3].astype(np.float64).mean()))
    assert res.attrs["latency_ms"] == pytest.approx(float(table.latency_ms[3]))
    assert res.attrs["n_params"] == int(table.n_params[3])
    one = MNIST1DTable(seed=1).evaluate(arch)
    assert one.value == pytest.approx(float(table.curves["val_accuracy"][3, 1, -1]))


def test_training_task_is_the_task_the_table_was_built_with(task):
    doc = task.table.meta["task"]["params"]
    trainer = task.training_task()
    assert isinstance(trainer, MNIST1D) and trainer.max_epochs == task.max_epochs
    assert trainer.lr == doc["lr"] and trainer.batch_size == doc["batch_size"] and trainer.seed == 0
    assert MNIST1DTable(seed=1).training_task().seed == 1 and task.training_task(seed=5).seed == 5


def test_bad_parameters(task, tmp_path):
    with pytest.raises(InvalidParameterError, match="seed"):
        MNIST1DTable(seed=7).evaluate(task.space.members[0])
    with pytest.raises(InvalidParameterError, match="path"):
        MNIST1DTable(path=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="no such file"):
        MNIST1DTable(path=str(tmp_path / "nothing")).check()
    with pytest.raises(InvalidParameterError, match="epochs"):
        task.evaluate(task.space.members[0], fidelity={"epochs": task.max_epochs + 1})


def test_task_pickles_and_describes_itself(task):
    again = pickle.loads(pickle.dumps(MNIST1DTable(seed=0)))
    assert again.get_params() == {"seed": 0, "path": None} and again.name == "mnist1d-table"
    assert task.to_config()["class"] == "MNIST1DTable" and task.has_epochs


def test_asha_search_over_the_table(task):
    E = task.max_epochs
    search = Search(task, strategy=ASHA(min_epochs=1, max_epochs=E, eta=3), budget=Budget(epochs=150), seed=0,
                    storage=":memory:").run()
    assert 150 - E < search.epochs_spent <= 150  # never exceeded; short of it by less than the next trial's epochs
    assert all(t.state is TrialState.COMPLETE and t.arch in task.space for t in search.trials)
    assert any(t.epochs == E for t in search.trials) and any(t.parent is not None for t in search.trials)
    best = max(t.value for t in search.trials if t.epochs == E)
    assert best > np.median(task.values())  # promotion kept the better networks
