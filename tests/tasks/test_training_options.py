"""TrainingTask(deterministic=..., trainer=...): what reaches lightning.Trainer, what is refused, and the task key."""

import importlib.util
import math
import os
import pickle

import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.space import CellSpace, ChainSpace
from nasbook.storage import task_key
from nasbook.tasks import TrainingTask

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="needs lightning")

MLP = ChainSpace(kind="mlp", max_depth=2)
RELU64 = MLP.make(layers=[["relu", 64]])
#: the key and stored config of TrainingTask(BreastCancerDataModule(batch_size=32)), printed by running
#: `task_key(task.to_config())` and `task.to_config()` on commit 7bfde3a (before deterministic= and trainer=)
OLD_DEFAULT_KEY = "5f57a025e77ba8d2"
OLD_DEFAULT_PARAMS = {"metric": "val_accuracy", "mode": "max", "max_epochs": 10, "input_shape": None, "n_classes": None,
                      "optimizer": "adam", "lr": 0.001, "weight_decay": 0.0, "seed": 0, "accelerator": "cpu",
                      "num_threads": 1, "health": True}
#: the same, for max_epochs=3, seed=7, lr=0.01, latency=True, health={"max_grad_norm": 1e5} (also run on 7bfde3a)
OLD_TUNED_KEY = "a40ec173ead3e1b7"


def _dm(batch_size=32):
    from nasbook.training import BreastCancerDataModule

    return BreastCancerDataModule(batch_size=batch_size)


def _task(**kwargs):
    return TrainingTask(_dm(), **{"max_epochs": 2, **kwargs})


class _Spy:
    """A Lightning callback (built lazily: importing lightning at collection is slow) that records what the
    trainer and torch look like while the fit runs."""

    def __new__(cls):
        import lightning.pytorch as pl
        import torch

        class Spy(pl.Callback):
            seen: dict = {}

            def on_fit_start(self, trainer, pl_module):
                self.seen = {
                    "deterministic": torch.are_deterministic_algorithms_enabled(),
                    "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
                    "benchmark": torch.backends.cudnn.benchmark,
                    "cublas": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
                    "gradient_clip_val": trainer.gradient_clip_val,
                    "accumulate_grad_batches": trainer.accumulate_grad_batches,
                    "limit_train_batches": trainer.limit_train_batches,
                    "precision": trainer.precision,
                }

        return Spy()


def _fit(**kwargs):
    from torch import nn

    from nasbook.training import seeded, train

    with seeded(0):
        net = nn.Sequential(nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 2))
    spy = _Spy()
    out = train(net, _dm(), max_epochs=2, callbacks=[spy], test=False, **kwargs)
    return out, spy.seen


# -- deterministic -------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, warn_only", [(True, False), ("warn", True)])
def test_deterministic_reaches_the_trainer_and_the_process_gets_its_settings_back(monkeypatch, value, warn_only):
    import torch

    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)  # the user's own setting, to be given back
    _, seen = _fit(deterministic=value)
    assert seen["deterministic"] is True and seen["warn_only"] is warn_only
    assert seen["benchmark"] is False and seen["cublas"] == ":4096:8"  # cuBLAS's reproducible workspace
    assert torch.are_deterministic_algorithms_enabled() is False and torch.backends.cudnn.benchmark is True
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_deterministic_false_leaves_torch_settings_alone(monkeypatch):
    import torch

    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    _, seen = _fit()
    assert seen["deterministic"] is False and seen["benchmark"] is True


def test_deterministic_training_repeats_exactly_on_cpu_and_equals_the_default():
    from nasbook.training import load_checkpoint

    runs = [_task(deterministic=True).evaluate(RELU64, space=MLP) for _ in range(2)]
    plain = _task().evaluate(RELU64, space=MLP)
    for other in (runs[1], plain):  # bit for bit: the curves, the objective and every weight
        assert other.curves == runs[0].curves and other.value == runs[0].value
        first, second = (load_checkpoint(r.checkpoint)["model"] for r in (runs[0], other))
        assert all(first[k].equal(second[k]) for k in first)


def test_global_pools_become_a_mean_only_on_cuda_in_deterministic_mode():
    import torch

    from nasbook.training._options import _mean_or, deterministic_pools

    net = CellSpace().build(CellSpace().make(edges=["none", "none", "nor_conv_3x3", "none", "none", "none"]), (1, 8, 8), 10)
    pools = [m for m in net.modules() if isinstance(m, torch.nn.AdaptiveAvgPool2d)]
    x = torch.randn(4, 3, 5, 5)
    assert pools
    with deterministic_pools(net), torch.random.fork_rng(devices=[]):
        assert all("forward" in vars(p) for p in pools)
        torch.use_deterministic_algorithms(True)
        try:
            assert pools[0](x).equal(torch.nn.AdaptiveAvgPool2d(1)(x))  # a CPU tensor: torch's own pool, same bits
        finally:
            torch.use_deterministic_algorithms(False)
    assert all("forward" not in vars(p) for p in pools)  # given back
    with deterministic_pools(net, enabled=False):
        assert all("forward" not in vars(p) for p in pools)

    class OnCuda(torch.Tensor):  # what the pool sees on a GPU, as far as the switch is concerned
        is_cuda = property(lambda self: True)

    def pool_called(_):
        return "torch's pool"

    fake, pool = x.as_subclass(OnCuda), torch.nn.AdaptiveAvgPool2d(1)
    assert _mean_or(pool_called, 2)(fake) == "torch's pool"  # on CUDA outside deterministic mode: the pool
    torch.use_deterministic_algorithms(True)
    try:
        assert _mean_or(pool_called, 2)(x) == "torch's pool"  # deterministic on the CPU: the pool
        mean = _mean_or(pool_called, 2)(fake.requires_grad_())  # deterministic on CUDA: the mean
        mean.sum().backward()
    finally:
        torch.use_deterministic_algorithms(False)
    assert mean.shape == (4, 3, 1, 1) and torch.allclose(mean.as_subclass(torch.Tensor), pool(x), atol=1e-6)
    assert torch.allclose(fake.grad, torch.full_like(x, 1 / 25))


@pytest.mark.parametrize("bad", ["yes", 1, None, 0.0])
def test_deterministic_must_be_false_true_or_warn(bad):
    with pytest.raises(InvalidParameterTypeError, match=r"TrainingTask\(deterministic=\.\.\.\) must be False, True or "
                       rf"'warn'; got {bad!r} of type {type(bad).__name__}"):
        _task(deterministic=bad)


# -- trainer options -----------------------------------------------------------------------------------
def test_trainer_options_reach_the_trainer():
    out, seen = _fit(trainer={"gradient_clip_val": 0.5, "accumulate_grad_batches": 2, "limit_train_batches": 3})
    assert (seen["gradient_clip_val"], seen["accumulate_grad_batches"], seen["limit_train_batches"]) == (0.5, 2, 3)
    assert seen["precision"] == "32-true"
    assert out["steps_run"] == 2 * 2  # 3 batches an epoch, one step per 2 of them (the last one steps too)
    _, seen = _fit(trainer={"precision": "bf16-mixed"})
    assert seen["precision"] == "bf16-mixed"


def test_trainer_options_change_the_training():
    base = _task().evaluate(RELU64, space=MLP)
    n_batches = math.ceil(_task().data_info()["n_train"] / 32)
    assert base.attrs["steps_run"] == 2 * n_batches
    short = _task(trainer={"limit_train_batches": 3}).evaluate(RELU64, space=MLP)
    assert short.attrs["steps_run"] == 2 * 3
    clipped = _task(trainer={"gradient_clip_val": 0.01}).evaluate(RELU64, space=MLP)
    assert clipped.attrs["steps_run"] == base.attrs["steps_run"]
    assert clipped.curves["train_loss"] != base.curves["train_loss"]  # a clip this tight changes every step


@pytest.mark.parametrize("options, message", [
    ({"gradient_clip_vall": 1.0}, r"'gradient_clip_vall' is not an argument of lightning\.Trainer .* \(did you mean "
                                  r"'gradient_clip_val'\?\)\. It takes: accumulate_grad_batches, .*precision"),
    ({"max_epochs": 3}, r"cannot pass 'max_epochs' to lightning\.Trainer: nasbook sets it; use max_epochs=\.\.\."),
    ({"callbacks": []}, r"cannot pass 'callbacks' .*nasbook's own callbacks"),
    ({"devices": 2}, r"cannot pass 'devices' .*one device: use accelerator=\.\.\."),
    ({"logger": True}, r"cannot pass 'logger' .*Result\.curves"),
    ({"enable_checkpointing": True}, r"cannot pass 'enable_checkpointing' .*Result\.checkpoint"),
    ({"deterministic": True}, r"cannot pass 'deterministic' .*use deterministic=\.\.\."),
    ({"precision": "bf17"}, r"lightning\.Trainer's 'precision' takes one of .*'bf16-mixed'.*; got 'bf17' of type str"),
    ({"gradient_clip_val": "1"}, r"lightning\.Trainer's 'gradient_clip_val' takes a float or an int or None; got '1' of type str"),
    ({"accumulate_grad_batches": 2.0}, r"lightning\.Trainer's 'accumulate_grad_batches' takes an int; got 2\.0 of type float"),
    ({"limit_train_batches": [3]}, r"lightning\.Trainer's 'limit_train_batches' takes .*; got \[3\] of type list \(only None, bool, int, "
                                   r"float and str: the options are stored as JSON"),
])
def test_bad_trainer_options_say_what_is_wrong_when_the_task_is_built(options, message):
    with pytest.raises(InvalidParameterError, match=r"TrainingTask\(trainer=\.\.\.\):? " + message):
        _task(trainer=options)


def test_trainer_must_be_a_dict():
    with pytest.raises(InvalidParameterTypeError, match=r"TrainingTask\(trainer=\.\.\.\) must be a dict of lightning\."
                       r"Trainer arguments .*; got \['precision'\] of type list"):
        _task(trainer=["precision"])


def test_an_option_lightning_refuses_stops_the_search_rather_than_failing_the_trial():
    task = _task(trainer={"gradient_clip_algorithm": "nrm"})  # a str, as the signature says: Lightning checks more
    with pytest.raises(InvalidParameterError, match=r"lightning\.Trainer refused the options trainer=\{'gradient_clip_"
                       r"algorithm': 'nrm'\} with accelerator='cpu': .*'value', 'norm'"):
        task.evaluate(RELU64, space=MLP)


# -- identity ------------------------------------------------------------------------------------------
def test_defaults_keep_the_key_and_config_of_tasks_stored_before_the_options():
    old = TrainingTask(_dm())
    assert old.to_config()["params"] == OLD_DEFAULT_PARAMS and task_key(old.to_config()) == OLD_DEFAULT_KEY
    for same in (TrainingTask(_dm(), trainer={}), TrainingTask(_dm(), trainer=None)):
        assert same.to_config() == old.to_config()  # what load_search compares: a stored search resumes with it
    for det in (True, "warn"):  # run-only: beside the identity, under run_params, out of the key
        config = TrainingTask(_dm(), deterministic=det).to_config()
        assert config.pop("run_params") == {"deterministic": det} and config == old.to_config()
    tuned = dict(max_epochs=3, seed=7, lr=0.01, latency=True, health={"max_grad_norm": 1e5})
    assert task_key(TrainingTask(_dm(), **tuned).to_config()) == OLD_TUNED_KEY
    assert task_key(TrainingTask(_dm(), deterministic=True, trainer={}, **tuned).to_config()) == OLD_TUNED_KEY


def test_options_that_change_results_change_the_key():
    keys = {task_key(TrainingTask(_dm(), trainer=options).to_config()) for options in (
        None, {"precision": "bf16-mixed"}, {"precision": "16-mixed"}, {"gradient_clip_val": 1.0},
        {"accumulate_grad_batches": 2}, {"limit_train_batches": 0.5})}
    assert len(keys) == 6 and OLD_DEFAULT_KEY in keys
    order = TrainingTask(_dm(), trainer={"precision": "bf16-mixed", "gradient_clip_val": 1.0}).to_config()
    assert order == TrainingTask(_dm(), trainer={"gradient_clip_val": 1.0, "precision": "bf16-mixed"}).to_config()
    assert order["params"]["trainer"] == {"gradient_clip_val": 1.0, "precision": "bf16-mixed"}


def test_options_survive_repr_clone_and_pickle():
    task = TrainingTask(_dm(), deterministic=True, trainer={"precision": "bf16-mixed"})
    assert "deterministic=True, trainer={'precision': 'bf16-mixed'}" in repr(task)
    for copy in (task.clone(), pickle.loads(pickle.dumps(task))):
        assert copy.deterministic is True and copy.trainer == {"precision": "bf16-mixed"}
        assert copy.to_config() == task.to_config()


# -- GPU -----------------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_deterministic_training_on_cuda_repeats_bit_for_bit():
    import torch

    from nasbook.training import DigitsDataModule, load_checkpoint

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    cell = CellSpace()  # convolutions (cuDNN), batch norm, pooling and a linear head (cuBLAS)
    conv = cell.make(edges=["nor_conv_3x3", "none", "nor_conv_1x1", "avg_pool_3x3", "none", "nor_conv_3x3"])
    task = TrainingTask(DigitsDataModule(batch_size=64), max_epochs=2, accelerator="cuda", deterministic=True)
    runs = [task.evaluate(conv, space=cell) for _ in range(2)]
    assert runs[0].curves == runs[1].curves and runs[0].attrs["test_loss"] == runs[1].attrs["test_loss"]
    first, second = (load_checkpoint(r.checkpoint)["model"] for r in runs)
    assert all(first[k].equal(second[k]) for k in first)
    assert torch.are_deterministic_algorithms_enabled() is False  # given back after each trial
