"""TrainingTask, Digits and BreastCancer: real (small) training through Lightning."""

import importlib.util
import json
import math
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nasbook._errors import InvalidParameterError, TrialDiverged
from nasbook.space import CellSpace, ChainSpace
from nasbook.tasks import MNIST1D, BreastCancer, Decision, Digits, TrainingTask

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="needs lightning")
torch: Any = None  # imported by _torch when the first test here runs, not when the file is collected


@pytest.fixture(autouse=True, scope="module")
def _torch():
    global torch
    import torch as module

    torch = module

CELL = CellSpace()
#: one 3x3 convolution from the cell's input to its output: the cheapest useful cell
CONV = CELL.make(edges=["none", "none", "nor_conv_3x3", "none", "none", "none"])
MLP = ChainSpace(kind="mlp", max_depth=2)
RELU64 = MLP.make(layers=[["relu", 64]])


@pytest.fixture(scope="module")
def digits_run():
    task = Digits(max_epochs=2)
    return task, task.evaluate(CONV, space=CELL)


@pytest.fixture(scope="module")
def cancer_task():
    return BreastCancer(max_epochs=3)


def _steps_per_epoch(task):
    return math.ceil(task.data_info()["n_train"] / task.batch_size)


def test_digits_cell_network_learns_in_two_epochs(digits_run):
    task, res = digits_run
    assert res.epochs == 2
    assert res.value > 0.3  # chance is 0.1
    assert res.value == res.curves["val_accuracy"][-1]  # the objective is the last epoch's
    assert set(res.curves) == {"train_loss", "val_loss", "val_accuracy"}
    assert all(len(curve) == 2 for curve in res.curves.values())
    assert {k: v for k, v in res.metrics.items() if not k.startswith("fp_")} == {k: v[-1] for k, v in res.curves.items()}
    assert res.metrics["fp_steps"] == 2 * _steps_per_epoch(task) and res.metrics["fp_nonfinite"] == 0.0  # run fingerprint
    attrs = res.attrs
    assert 0.3 < attrs["test_accuracy"] <= 1.0 and attrs["test_loss"] > 0
    assert attrs["n_params"] > 1000 and attrs["flops"] > attrs["n_params"]
    assert attrs["epochs_run"] == 2 and attrs["steps_run"] == 2 * _steps_per_epoch(task)
    assert attrs["train_time_s"] > 0 and attrs["train_time_total_s"] == attrs["train_time_s"]
    assert isinstance(res.checkpoint, bytes)
    assert not list(Path.cwd().iterdir()), "training wrote files into the working directory"


def test_same_seed_same_curve_other_seed_other_curve(digits_run):
    task, res = digits_run
    again = Digits(max_epochs=2).evaluate(CONV, space=CELL)
    assert again.curves == res.curves
    assert again.attrs["test_accuracy"] == res.attrs["test_accuracy"]
    other = Digits(max_epochs=2, seed=1).evaluate(CONV, space=CELL)
    assert other.curves["train_loss"] != res.curves["train_loss"]


def test_mlp_on_breast_cancer(cancer_task):
    res = cancer_task.evaluate(RELU64, space=MLP)
    assert res.epochs == 3 and res.value > 0.85
    assert res.curves["train_loss"][-1] < res.curves["train_loss"][0]


def test_report_every_epoch_and_stop(cancer_task):
    calls = []

    def report(epoch, **metrics):
        calls.append((epoch, metrics))
        return Decision.STOP if epoch == 1 else Decision.CONTINUE

    res = BreastCancer(max_epochs=5).evaluate(RELU64, space=MLP, report=report)
    assert [e for e, _ in calls] == [0, 1]
    assert res.epochs == 2 and all(len(c) == 2 for c in res.curves.values())
    assert res.attrs["epochs_run"] == 2
    for epoch, metrics in calls:  # the reported numbers are the curves' (this epoch's train loss too)
        assert {k: v for k, v in metrics.items() if not k.startswith("fp_")} == {k: v[epoch] for k, v in res.curves.items()}
        assert "fp_loss_peak" in metrics  # the run's fingerprint so far, reported but not a curve

    seen = []
    BreastCancer(max_epochs=3).evaluate(RELU64, space=MLP, report=lambda epoch, **m: seen.append(epoch))
    assert seen == [0, 1, 2]  # a report returning None means continue


def test_checkpoint_continues_exactly(cancer_task):
    task = BreastCancer(max_epochs=4)
    short = task.evaluate(RELU64, space=MLP, fidelity={"epochs": 2})
    cont = task.evaluate(RELU64, space=MLP, fidelity={"epochs": 4, "checkpoint": short.checkpoint})
    full = task.evaluate(RELU64, space=MLP)
    assert cont.epochs == 4 and all(len(c) == 4 for c in cont.curves.values())
    for k, curve in short.curves.items():
        assert cont.curves[k][:2] == curve
    # only the two missing epochs were trained, and they match an uninterrupted run exactly
    assert cont.attrs["epochs_run"] == 2 and cont.attrs["steps_run"] == 2 * _steps_per_epoch(task)
    assert full.attrs["steps_run"] == 4 * _steps_per_epoch(task)
    assert cont.curves == full.curves and cont.value == full.value
    assert cont.attrs["train_time_total_s"] > cont.attrs["train_time_s"]

    # a checkpoint at the asked epochs trains nothing more; fewer epochs than it holds is refused
    same = task.evaluate(RELU64, space=MLP, fidelity={"epochs": 4, "checkpoint": cont.checkpoint})
    assert same.attrs["epochs_run"] == 0 and same.curves == cont.curves
    with pytest.raises(InvalidParameterError, match=r"at least the 4 epochs .* got 3"):
        task.evaluate(RELU64, space=MLP, fidelity={"epochs": 3, "checkpoint": cont.checkpoint})
    other = MLP.make(layers=[["tanh", 32]])
    with pytest.raises(InvalidParameterError, match=f"written for architecture '{RELU64.id}'"):
        task.evaluate(other, space=MLP, fidelity={"epochs": 4, "checkpoint": short.checkpoint})


def test_checkpoint_is_never_unpickled(cancer_task, tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    for data, match in (
        (pickle.dumps(Evil()), "not a nasbook checkpoint"),
        (b"garbage", "not a nasbook checkpoint"),
        ("text", "must be the bytes"),
    ):
        with pytest.raises(InvalidParameterError, match=match):
            cancer_task.evaluate(RELU64, space=MLP, fidelity={"epochs": 3, "checkpoint": data})
    assert not marker.exists()


def test_nan_loss_ends_the_trial_as_diverged():
    with pytest.raises(TrialDiverged, match=r"training loss became NaN at epoch 0, step \d+"):
        BreastCancer(max_epochs=3, lr=1e30).evaluate(RELU64, space=MLP)


def test_parameter_errors_name_the_parameter(cancer_task):
    with pytest.raises(InvalidParameterError, match=r"BreastCancer\(max_epochs=\.\.\.\) must be an int >= 1; got 0"):
        BreastCancer(max_epochs=0).evaluate(RELU64, space=MLP)
    with pytest.raises(InvalidParameterError, match=r"fidelity\['epochs'\]=\.\.\.\) must be an int >= 1; got 0"):
        cancer_task.evaluate(RELU64, space=MLP, fidelity={"epochs": 0})
    with pytest.raises(InvalidParameterError, match=r"unknown key\(s\) \['epoch'\] \(did you mean 'epochs'\?\)"):
        cancer_task.evaluate(RELU64, space=MLP, fidelity={"epoch": 2})
    with pytest.raises(InvalidParameterError, match=r"evaluate\(space=\.\.\.\) needs the SearchSpace"):
        cancer_task.evaluate(RELU64)
    with pytest.raises(InvalidParameterError, match=r"Unknown optimizer 'adma'.*did you mean 'adam'"):
        BreastCancer(optimizer="adma").evaluate(RELU64, space=MLP)
    with pytest.raises(InvalidParameterError, match=r"lr=\.\.\.\) must be a finite number > 0; got -1"):
        BreastCancer(lr=-1).evaluate(RELU64, space=MLP)
    with pytest.raises(InvalidParameterError, match=r"unknown key\(s\) \['max_norm'\]"):
        BreastCancer(health={"max_norm": 1.0}).evaluate(RELU64, space=MLP)
    with pytest.raises(InvalidParameterError, match=r"batch_size=\.\.\.\) must be an int >= 1; got 0"):
        BreastCancer(batch_size=0).evaluate(RELU64, space=MLP)
    from nasbook.training import DigitsDataModule

    with pytest.raises(InvalidParameterError, match=r"datamodule=\.\.\.\) must be a LightningDataModule instance .* "
                                                    r"got the class DigitsDataModule"):
        TrainingTask(DigitsDataModule).evaluate(RELU64, space=MLP)


@pytest.mark.parametrize("cls", [BreastCancer, Digits, MNIST1D])
def test_an_unknown_metric_is_refused_when_the_task_is_built(cls):
    # before: refused only after the first trial had trained (the monitor was never logged)
    with pytest.raises(InvalidParameterError) as info:
        cls(max_epochs=2, metric="val_acc")
    msg = str(info.value)
    assert f"{cls.__name__}(metric=...) 'val_acc'" in msg  # the parameter and what was received
    assert "'train_loss', 'val_accuracy', 'val_loss'" in msg and "did you mean 'val_accuracy'" in msg
    with pytest.raises(InvalidParameterError, match=r"TrainingTask\(metric=\.\.\.\) 'acc'"):
        TrainingTask(None, metric="acc")  # type: ignore[arg-type]


def test_data_that_does_not_fit_the_space():
    from nasbook.training import DigitsDataModule

    task = TrainingTask(DigitsDataModule(), input_shape=(5,), max_epochs=1)
    with pytest.raises(InvalidParameterError) as info:
        task.evaluate(RELU64, space=MLP)
    msg = str(info.value)
    assert f"architecture {RELU64.id!r}" in msg and "input_shape=(5,) (given as input_shape)" in msg
    assert "shape (1, 8, 8)" in msg and "input_shape=(1, 8, 8)" in msg  # what the data has, what to pass
    assert isinstance(info.value.__cause__, RuntimeError)

    with pytest.raises(InvalidParameterError, match=r"cannot build architecture .* input_shape=\(30,\) \(inferred"):
        BreastCancer(max_epochs=1).evaluate(CONV, space=CELL)
    with pytest.raises(InvalidParameterError, match=r"n_classes=3 but the training data has label 9"):
        TrainingTask(DigitsDataModule(), n_classes=3).evaluate(RELU64, space=MLP)


def _empty_datamodule(empty_split):
    import lightning.pytorch as pl
    from torch.utils.data import DataLoader, TensorDataset

    def loader(split):
        n = 0 if split == empty_split else 16
        return DataLoader(TensorDataset(torch.zeros(n, 4), torch.arange(n) % 2), batch_size=8)

    class Tiny(pl.LightningDataModule):
        def train_dataloader(self):
            return loader("train")

        def val_dataloader(self):
            return loader("val")

    return Tiny()


@pytest.mark.parametrize("split", ["train", "val"])
def test_empty_split_is_named(split):
    with pytest.raises(InvalidParameterError, match=f"the '{split}' split of Tiny is empty \\(0 samples\\)"):
        TrainingTask(_empty_datamodule(split)).evaluate(RELU64, space=MLP)


def test_generic_datamodule_infers_shape_and_classes():
    task = TrainingTask(_empty_datamodule(None), max_epochs=1)
    info = task.data_info()
    assert info["input_shape"] == (4,) and info["n_classes"] == 2 and info["n_train"] == 16 and info["n_test"] is None
    res = task.evaluate(RELU64, space=MLP)
    assert res.epochs == 1 and "test_accuracy" not in res.attrs
    json.dumps(task.to_config())


def test_training_leaves_the_callers_random_state_and_threads_alone(cancer_task):
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    state = torch.get_rng_state()
    cancer_task.evaluate(RELU64, space=MLP, fidelity={"epochs": 1})
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads


def test_pickles_small_and_config_round_trips(digits_run):
    task, res = digits_run  # has loaded its data: it must not travel with the task
    blob = pickle.dumps(task)
    assert len(blob) < 2000
    clone = pickle.loads(blob)
    assert clone.evaluate(CONV, space=CELL, fidelity={"epochs": 1}).curves == {
        k: v[:1] for k, v in res.curves.items()
    }
    config = task.to_config()
    assert json.loads(json.dumps(config)) == config
    assert config["class"] == "Digits" and Digits(**config["params"]).to_config() == config
    cancer = BreastCancer(lr=0.01, health={"max_grad_norm": 100.0})
    assert BreastCancer(**cancer.to_config()["params"]).to_config() == cancer.to_config()
    assert repr(Digits()).startswith("Digits(max_epochs=10, ")


def test_meta_features(digits_run):
    task, _ = digits_run
    meta = task.meta_features()
    assert meta["n_train"] + meta["n_val"] + meta["n_test"] == 1797
    assert meta["n_classes"] == 10 and meta["input_shape"] == [1, 8, 8] and meta["n_features"] == 64
    assert 0.99 < meta["class_entropy"] <= 1.0 and 0.9 < meta["class_ratio"] <= 1.0
    cancer = BreastCancer().meta_features()
    assert cancer["n_classes"] == 2 and cancer["n_features"] == 30
    assert 0.5 < cancer["class_ratio"] < 0.7  # 212 malignant / 357 benign
    json.dumps(meta)


def test_importing_tasks_imports_neither_torch_nor_lightning():
    code = (
        "import sys, nasbook, nasbook.tasks, nasbook.tasks._bundled; "
        "t = nasbook.tasks._bundled.Digits(max_epochs=2); t.check(); pickle = __import__('pickle').dumps(t); "
        "print([m for m in ('torch', 'lightning', 'sklearn') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
