"""nasbook.training: the Lightning module, callbacks, health checks and ``train``.

Collecting this file imports neither torch nor Lightning: ``_imports`` does, when the first test here
runs, and binds the names below as module globals (the helper classes keep picklable names).
"""

import importlib.util
import io
import math
import pickle
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, TrialDiverged
from nasbook.trial import Decision

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="needs lightning")

torch: Any = None
nn: Any = None
ArchModule = ArrayDataModule = BreastCancerDataModule = DigitsDataModule = HealthCheck = None
load_checkpoint = make_trainer = profile = save_checkpoint = seeded = train = None
Blobs = Constant = NaNOut = None


@pytest.fixture(autouse=True, scope="module")
def _imports():
    import torch as torch_
    from torch import nn as nn_

    from nasbook import training

    g = globals()
    g.update(torch=torch_, nn=nn_)
    for name in ("ArchModule", "ArrayDataModule", "BreastCancerDataModule", "DigitsDataModule", "HealthCheck",
                 "load_checkpoint", "make_trainer", "profile", "save_checkpoint", "seeded", "train"):
        g[name] = getattr(training, name)

    class Blobs(training.ArrayDataModule):
        """Gaussian blobs in 4-d; ``majority`` is the share of class 0."""

        def __init__(self, n_classes=3, majority=None, n=300, **kwargs):
            super().__init__(**kwargs)
            self.n_classes, self.majority, self.n = n_classes, majority, n

        def load(self):
            rng = np.random.default_rng(0)
            if self.majority is None:
                y = np.arange(self.n) % self.n_classes
            else:
                y = (rng.random(self.n) > self.majority).astype(np.int64) * rng.integers(1, self.n_classes, self.n)
            x = rng.normal(size=(self.n, 4)).astype(np.float32) + 3 * np.eye(self.n_classes, 4, dtype=np.float32)[y]
            return x, y.astype(np.int64)

    class Constant(nn_.Module):
        """Ignores its input: the same logits for every sample (it can only learn the class prior)."""

        def __init__(self, n_classes):
            super().__init__()
            self.bias = nn_.Parameter(torch_.linspace(1.0, 0.0, n_classes))

        def forward(self, x):
            return self.bias.expand(x.shape[0], -1)

    class NaNOut(nn_.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn_.Linear(30, 2)

        def forward(self, x):
            return self.linear(x) * float("nan")

    for cls in (Blobs, Constant, NaNOut):
        cls.__qualname__ = cls.__name__  # pickled by reference to this module's global
        g[cls.__name__] = cls


def mlp(n_in, n_out, seed=0):
    with seeded(seed):
        return nn.Sequential(nn.Flatten(), nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, n_out))


# -- health checks inside a real fit -----------------------------------------------------------------
def test_nan_output_is_caught_before_backward():
    with pytest.raises(TrialDiverged, match=r"^training loss became NaN at epoch 0, step 0$") as info:
        train(NaNOut(), BreastCancerDataModule(), max_epochs=2)
    assert info.value.epochs == 0 and info.value.curves == {}


def test_collapse_to_one_class_on_balanced_data():
    reported = []
    with pytest.raises(TrialDiverged, match=r"predictions collapsed to one class: class 0 for 100.0% of \d+ validation "
                                            r"samples at epoch 2 \(the most common true class is 33.\d% of them\)") as info:
        train(Constant(3), Blobs(), max_epochs=4, report=lambda epoch, **m: reported.append(epoch))
    assert reported == [0, 1]  # epochs 0 and 1 are too early to call it a collapse
    assert info.value.epochs == 2 and len(info.value.curves["val_accuracy"]) == 2
    assert pickle.loads(pickle.dumps(info.value)).curves == info.value.curves

    # with 95% of one class, predicting it everywhere is no sign of a broken network
    out = train(Constant(3), Blobs(majority=0.95), max_epochs=3)
    assert out["epochs"] == 3
    # nor is it when the check is turned off
    assert train(Constant(3), Blobs(), max_epochs=3, health=False)["epochs"] == 3


def test_healthy_training_passes_and_reports_exact_epoch_metrics():
    calls = []
    out = train(mlp(4, 3), Blobs(), max_epochs=3, lr=0.03, report=lambda epoch, **m: calls.append((epoch, m)))
    assert [e for e, _ in calls] == [0, 1, 2]
    assert out["epochs"] == out["epochs_run"] == 3 and not out["stopped"]
    assert out["steps_run"] == out["steps"] == 3 * math.ceil(180 / 64)
    reported = {k: v for k, v in calls[-1][1].items() if not k.startswith("fp_")}  # the run fingerprint rides along
    assert reported == {k: v[-1] for k, v in out["curves"].items()}
    assert out["fingerprint"] and all(calls[-1][1][k] == v for k, v in out["fingerprint"].items())
    assert out["curves"]["val_accuracy"][-1] > 0.8 and set(out["test"]) == {"test_loss", "test_accuracy"}


def test_stop_decision_ends_training_after_that_epoch():
    out = train(mlp(4, 3), Blobs(), max_epochs=5, report=lambda epoch, **m: Decision.STOP)
    assert out["stopped"] and out["epochs"] == 1 and len(out["curves"]["val_loss"]) == 1


def test_missing_monitor_is_reported_with_what_was_logged():
    with pytest.raises(InvalidParameterError, match=r"metric 'accuracy' was never logged; logged metrics: "
                                                    r"\['train_loss', 'val_accuracy', 'val_loss'\]"):
        train(mlp(4, 3), Blobs(), max_epochs=2, monitor="accuracy")


def test_train_parameter_errors():
    with pytest.raises(InvalidParameterError, match=r"max_epochs=\.\.\.\) must be an int >= 1; got 0"):
        train(mlp(4, 3), Blobs(), max_epochs=0)
    with pytest.raises(InvalidParameterError, match="accelerator must be one of"):
        train(mlp(4, 3), Blobs(), max_epochs=1, accelerator="tpu")
    with pytest.raises(InvalidParameterError, match=r"Unknown optimizer 'rmsprop'"):
        ArchModule(mlp(4, 3), optimizer="rmsprop")
    with pytest.raises(InvalidParameterError, match=r"weight_decay=\.\.\.\) must be a finite number >= 0; got -0.1"):
        ArchModule(mlp(4, 3), weight_decay=-0.1)


# -- health checks, one hook at a time ------------------------------------------------------------------
def _trainer(epoch=0, step=0):
    return SimpleNamespace(current_epoch=epoch, global_step=step, sanity_checking=False)


def _epoch(check, losses, epoch, grads=None):
    trainer = _trainer(epoch)
    check.on_train_epoch_start(trainer, None)
    for loss in losses:
        check.on_before_backward(trainer, None, torch.tensor(loss))
        if grads is not None:
            check.on_before_optimizer_step(trainer, _with_grads(grads), None)
    check.on_train_epoch_end(trainer, None)


def _with_grads(values):
    params = [nn.Parameter(torch.zeros(2)) for _ in values]
    for p, v in zip(params, values):
        p.grad = torch.full((2,), float(v))
    return SimpleNamespace(parameters=lambda: iter(params))


def test_divergence_needs_both_factor_and_margin():
    check = HealthCheck()
    _epoch(check, [2.3, 2.2], 0)  # reference: 2.25
    _epoch(check, [20.0, 22.0], 1)  # 21 < 22.5 = 10 x 2.25
    with pytest.raises(TrialDiverged, match=r"mean training loss 23 at epoch 2 exceeds 22.5 "
                       r"\(the reference loss before the first optimizer step, 2.25"):
        _epoch(check, [23.0], 2)

    small = HealthCheck()
    _epoch(small, [0.05], 0)
    _epoch(small, [0.9], 1)  # 18 x the first loss, but within the margin of 1.0: noise, not divergence
    with pytest.raises(TrialDiverged, match="training diverged"):
        _epoch(small, [1.1], 2)

    resumed = HealthCheck(reference_loss=2.0, epoch_offset=5)
    with pytest.raises(TrialDiverged, match="at epoch 5 exceeds 20"):
        _epoch(resumed, [25.0], 0)


def test_gradient_checks():
    check = HealthCheck(max_grad_norm=100.0, step_offset=10)
    check.on_before_optimizer_step(_trainer(1, 3), _with_grads([1.0, 2.0]), None)
    with pytest.raises(TrialDiverged, match=r"gradient norm exploded to 283 \(max_grad_norm=100\) at epoch 1, step 13"):
        check.on_before_optimizer_step(_trainer(1, 3), _with_grads([200.0, 0.0]), None)
    with pytest.raises(TrialDiverged, match="gradient norm became inf"):
        check.on_before_optimizer_step(_trainer(), _with_grads([float("inf")]), None)
    with pytest.raises(TrialDiverged, match="gradient norm became NaN"):
        check.on_before_optimizer_step(_trainer(), _with_grads([float("nan")]), None)

    with pytest.raises(TrialDiverged, match=r"gradients vanished: .* below 1e-12 for all 2 steps of epoch 0 .* loss was 2.3"):
        _epoch(HealthCheck(), [2.3, 2.3], 0, grads=[0.0, 1e-14])
    _epoch(HealthCheck(), [1e-5, 1e-5], 0, grads=[0.0])  # fitted perfectly: no gradient left is fine
    _epoch(HealthCheck(), [2.3, 2.3], 0, grads=[0.0, 1e-3])


def test_inf_loss_is_named():
    with pytest.raises(TrialDiverged, match=r"training loss became inf at epoch 3, step 7"):
        HealthCheck().on_before_backward(_trainer(3, 7), None, torch.tensor(float("inf")))


# -- checkpoints ---------------------------------------------------------------------------------------
def test_checkpoint_round_trip_and_refusals():
    state = {"epochs": 2, "curves": {"val_loss": [1.0, 0.5]}, "model": {"w": torch.ones(3)}}
    back = load_checkpoint(save_checkpoint(state))
    assert back["epochs"] == 2 and back["curves"] == state["curves"] and torch.equal(back["model"]["w"], torch.ones(3))
    buf = io.BytesIO()
    torch.save({"epochs": 2}, buf)
    with pytest.raises(InvalidParameterError, match="has format None; expected 'nasbook-checkpoint-1'"):
        load_checkpoint(buf.getvalue())


def test_continuing_on_another_optimizer_state_and_network():
    first = train(mlp(4, 3), Blobs(), max_epochs=2, optimizer="sgd", lr=0.05)
    cont = train(mlp(4, 3, seed=9), Blobs(), max_epochs=3, optimizer="sgd", lr=0.05, checkpoint=first["checkpoint"])
    whole = train(mlp(4, 3), Blobs(), max_epochs=3, optimizer="sgd", lr=0.05)
    assert cont["epochs_run"] == 1 and cont["curves"] == whole["curves"]  # momentum buffers came back too
    with pytest.raises(InvalidParameterError, match="does not fit this network"):
        train(mlp(4, 5), Blobs(), max_epochs=3, optimizer="sgd", checkpoint=first["checkpoint"])
    with pytest.raises(InvalidParameterError, match="trained with optimizer 'sgd'; continue it with the same optimizer, not 'adam'"):
        train(mlp(4, 3), Blobs(), max_epochs=3, checkpoint=first["checkpoint"])


# -- pieces ----------------------------------------------------------------------------------------------
def test_profile_counts_and_checks_shapes():
    net = mlp(64, 10)
    prof = profile(net, torch.zeros(5, 1, 8, 8))
    assert prof == {"n_params": 64 * 16 + 16 + 16 * 10 + 10, "flops": 2 * (64 * 16 + 16 * 10), "n_outputs": 10}
    assert net.training  # mode restored
    with pytest.raises(RuntimeError):
        profile(net, torch.zeros(5, 30))


def test_trainer_is_quiet_and_writes_nothing(capfd, tmp_path):
    trainer = make_trainer(1)
    assert trainer.logger is None and not trainer.checkpoint_callbacks and trainer.num_devices == 1
    train(mlp(64, 10), DigitsDataModule(), max_epochs=1)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert not list(tmp_path.iterdir())  # no lightning_logs/, no checkpoints


def test_datamodules_split_stratified_and_pickle_without_data():
    dm = BreastCancerDataModule()
    dm.setup("fit")
    sizes = {s: len(dm.dataset(s)) for s in ("train", "val", "test")}
    assert sum(sizes.values()) == 569 and sizes["test"] == 114
    x = dm.dataset("train").tensors[0]
    assert torch.allclose(x.mean(0), torch.zeros(30), atol=1e-5)  # standardized with the train split
    shares = [float(dm.dataset(s).tensors[1].float().mean()) for s in ("train", "val", "test")]
    assert max(shares) - min(shares) < 0.02
    assert len(pickle.dumps(dm)) < 2000
    digits = DigitsDataModule()
    x, y = digits.dataset("train").tensors
    assert x.shape[1:] == (1, 8, 8) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0 and int(y.max()) == 9


def test_bundled_splits_are_built_once_per_process_and_keyed_by_the_split():
    from nasbook.training import _data

    a, b = DigitsDataModule(split_seed=3), DigitsDataModule(split_seed=3, batch_size=8)
    assert a.dataset("train") is b.dataset("train")  # a worker keeps the tensors between trials
    other = DigitsDataModule(split_seed=4)
    assert not torch.equal(other.dataset("val").tensors[1], a.dataset("val").tensors[1])
    assert len(pickle.dumps(a)) < 2000  # the cache is never pickled with a module

    class Shifted(DigitsDataModule):  # a user's subclass is never served another class's tensors
        def load(self):
            x, y = super().load()
            return x + 1.0, y

    assert float(Shifted(split_seed=3).dataset("train").tensors[0].min()) >= 1.0
    assert len(_data._SPLIT_CACHE) <= _data._SPLIT_CACHE_SIZE


@pytest.mark.gpu
def test_trains_on_a_gpu_and_continues_on_cpu():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    first = train(mlp(4, 3), Blobs(), max_epochs=2, accelerator="cuda")
    assert first["epochs"] == 2 and first["curves"]["val_accuracy"][-1] > 0.8
    state = load_checkpoint(first["checkpoint"])
    assert all(t.device.type == "cpu" for t in state["model"].values())
    cont = train(mlp(4, 3), Blobs(), max_epochs=3, checkpoint=first["checkpoint"], accelerator="cpu")
    assert cont["epochs"] == 3 and cont["epochs_run"] == 1


def test_a_gpu_accelerator_without_a_gpu_says_why(monkeypatch):
    if torch.cuda.device_count() > 0:
        pytest.skip("this machine has a GPU")
    lightning_said = r"\(Lightning: No supported gpu backend found!\)"
    with pytest.raises(RuntimeError, match=r"accelerator='gpu' cannot train here: torch .* is a CPU-only build "
                       r".*install a CUDA build of torch \(README, 'GPU machines'\)\. accelerator='auto' trains on "
                       r"a GPU where there is one and on the CPU elsewhere\. " + lightning_said):
        train(mlp(4, 3), Blobs(), max_epochs=1, accelerator="gpu")
    monkeypatch.setattr(torch.version, "cuda", "12.6")  # a CUDA build on a machine (or slice) without a GPU
    with pytest.raises(RuntimeError, match=r"accelerator='cuda' cannot train here: torch .* is built for CUDA 12\.6 "
                       r"but sees no GPU \(torch.cuda.device_count\(\) == 0: .*CUDA_VISIBLE_DEVICES"):
        make_trainer(1, accelerator="cuda")


def test_a_search_on_a_gpu_accelerator_without_a_gpu_stops_once_with_the_reason():
    import nasbook
    from nasbook.space import ChainSpace
    from nasbook.tasks import Digits

    if torch.cuda.device_count() > 0:
        pytest.skip("this machine has a GPU")
    s = nasbook.Search(ChainSpace(kind="mlp", max_depth=1), Digits(max_epochs=1, accelerator="gpu"), budget=20,
                       seed=100, storage=":memory:")
    with pytest.raises(nasbook.RepeatedTrialFailure) as info:  # the same message from every trial: one stop
        s.run(progress="none")
    assert str(info.value).count("accelerator='gpu' cannot train here: torch") == 1
    assert "CPU-only build" in str(info.value) and s.n_trials == 5


def test_ctrl_c_stays_a_keyboard_interrupt():
    import signal

    def report(epoch, **metrics):
        raise KeyboardInterrupt

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):  # lightning alone would ignore SIGINT and sys.exit(1)
        train(mlp(4, 3), Blobs(), max_epochs=2, report=report)
    assert signal.getsignal(signal.SIGINT) is before
