"""trainer=... values the signature cannot judge: NaN, batch limits of 0, accumulate_grad_batches < 1, cuDNN's
benchmark in deterministic mode, and numpy scalars, for TrainingTask and the bundled tasks alike."""

import importlib.util
import json

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, plain_scalar
from nasbook.storage import task_key
from nasbook.tasks import MNIST1D, BreastCancer, Digits, TrainingTask

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="needs lightning")


def _training_task(**kwargs):
    from nasbook.training import BreastCancerDataModule

    return TrainingTask(BreastCancerDataModule(batch_size=32), **kwargs)


MAKERS = [_training_task, Digits, BreastCancer, MNIST1D]
NAMES = ["TrainingTask", "Digits", "BreastCancer", "MNIST1D"]


@pytest.mark.parametrize("make, owner", list(zip(MAKERS, NAMES)), ids=NAMES)
@pytest.mark.parametrize("options, message", [
    ({"gradient_clip_val": float("nan")}, r"'gradient_clip_val' must be a finite number; got nan"),
    ({"gradient_clip_val": np.float64("nan")}, r"'gradient_clip_val' must be a finite number; got nan"),
    ({"gradient_clip_val": float("inf")}, r"'gradient_clip_val' must be a finite number; got inf"),
    ({"limit_train_batches": float("nan")}, r"'limit_train_batches' must be a finite number; got nan"),
    ({"limit_train_batches": 0}, r"'limit_train_batches' takes an int >= 1 \(batches per epoch\) or a float in \(0, 1\] "
                                 r"\(a fraction of the split\), or None for all; got 0 of type int: 0 runs no batch"),
    ({"limit_val_batches": 0.0}, r"'limit_val_batches' takes an int >= 1 .*; got 0\.0 of type float: 0 runs no batch"),
    ({"limit_val_batches": np.int64(0)}, r"'limit_val_batches' takes an int >= 1 .*; got 0 of type int: 0 runs no batch"),
    ({"limit_val_batches": -3}, r"'limit_val_batches' takes an int >= 1 .*; got -3 of type int\."),
    ({"limit_train_batches": 1.5}, r"'limit_train_batches' takes .*a float in \(0, 1\].*; got 1\.5 of type float\."),
    ({"accumulate_grad_batches": 0}, r"'accumulate_grad_batches' must be an int >= 1 \(batches per optimizer step\); got 0\."),
    ({"accumulate_grad_batches": -1}, r"'accumulate_grad_batches' must be an int >= 1 .*; got -1\."),
])
def test_values_that_would_train_nothing_or_wrongly_are_refused_naming_the_option(make, owner, options, message):
    with pytest.raises(InvalidParameterError, match=rf"{owner}\(trainer=\.\.\.\): lightning\.Trainer's " + message):
        make(trainer=options)


@pytest.mark.parametrize("make, owner", list(zip(MAKERS, NAMES)), ids=NAMES)
@pytest.mark.parametrize("deterministic", [True, "warn", np.bool_(True)])
def test_benchmark_is_refused_in_deterministic_mode(make, owner, deterministic):
    with pytest.raises(InvalidParameterError, match=rf"{owner}\(trainer=\.\.\.\): lightning\.Trainer's 'benchmark' is True "
                       rf"but {owner}\(deterministic={plain_scalar(deterministic)!r}\): cuDNN's benchmark picks algorithms by timing"):
        make(deterministic=deterministic, trainer={"benchmark": True})
    assert make(deterministic=deterministic, trainer={"benchmark": False}).trainer == {"benchmark": False}
    assert make(trainer={"benchmark": True}).trainer == {"benchmark": True}


def test_benchmark_set_after_construction_is_refused_at_check():
    task = Digits(deterministic=True)
    task.trainer = {"benchmark": True}
    with pytest.raises(InvalidParameterError, match=r"Digits\(trainer=\.\.\.\): lightning\.Trainer's 'benchmark' is True"):
        task.check()


def test_train_refuses_benchmark_with_deterministic_too():
    from torch import nn

    from nasbook.training import BreastCancerDataModule, train

    with pytest.raises(InvalidParameterError, match=r"train\(trainer=\.\.\.\): lightning\.Trainer's 'benchmark' is True but "
                       r"train\(deterministic=True\)"):
        train(nn.Linear(30, 2), BreastCancerDataModule(), max_epochs=1, deterministic=True, trainer={"benchmark": True})


@pytest.mark.parametrize("make", MAKERS, ids=NAMES)
def test_numpy_scalars_are_accepted_and_stored_as_plain_values(make):
    given = {"gradient_clip_val": np.float32(0.5), "accumulate_grad_batches": np.int64(2), "detect_anomaly": np.bool_(False),
             "precision": np.str_("bf16-mixed"), "limit_train_batches": np.float64(0.5)}
    plain = {"gradient_clip_val": 0.5, "accumulate_grad_batches": 2, "detect_anomaly": False, "precision": "bf16-mixed",
             "limit_train_batches": 0.5}
    task = make(trainer=given, deterministic=np.bool_(True))
    assert task.trainer == plain and all(type(task.trainer[k]) is type(v) for k, v in plain.items())
    assert task.deterministic is True
    config = task.to_config()
    assert json.loads(json.dumps(config)) == config  # plain JSON
    assert config == make(trainer=plain, deterministic=True).to_config()
    assert task_key(config) == task_key(make(trainer=plain).to_config())


@pytest.mark.parametrize("bad", ["yes", 1, None, np.float64(1.0)])
@pytest.mark.parametrize("make, owner", list(zip(MAKERS, NAMES)), ids=NAMES)
def test_deterministic_must_be_false_true_or_warn_for_every_training_task(make, owner, bad):
    with pytest.raises(InvalidParameterTypeError, match=rf"{owner}\(deterministic=\.\.\.\) must be False, True or 'warn'; "
                       rf"got {plain_scalar(bad)!r} of type {type(plain_scalar(bad)).__name__}"):
        make(deterministic=bad)


@pytest.mark.parametrize("make, owner", list(zip(MAKERS[1:], NAMES[1:])), ids=NAMES[1:])
def test_bundled_tasks_check_trainer_options_as_training_task_does(make, owner):
    with pytest.raises(InvalidParameterError, match=rf"{owner}\(trainer=\.\.\.\) cannot pass 'max_epochs' to lightning\.Trainer"):
        make(trainer={"max_epochs": 3})
    with pytest.raises(InvalidParameterError, match=rf"{owner}\(trainer=\.\.\.\): 'gradient_clip_vall' is not an argument "
                       r"of lightning\.Trainer .*did you mean 'gradient_clip_val'"):
        make(trainer={"gradient_clip_vall": 1.0})
    with pytest.raises(InvalidParameterTypeError, match=rf"{owner}\(trainer=\.\.\.\) must be a dict"):
        make(trainer=["precision"])


def test_a_subclass_inheriting_a_constructor_is_named_in_signature_errors():
    class MyDigits(Digits):
        pass

    with pytest.raises(InvalidParameterTypeError, match=r"^MyDigits\(\) got an unexpected keyword argument 'max_epoch' \(did "
                       r"you mean 'max_epochs'\?\)"):
        MyDigits(max_epoch=3)
    with pytest.raises(InvalidParameterTypeError, match=r"^Digits\(\) got an unexpected keyword argument 'determinstic' \(did "
                       r"you mean 'deterministic'\?\)"):
        Digits(determinstic=True)


def test_a_bundled_tasks_options_reach_the_training():
    from nasbook.space import ChainSpace

    mlp = ChainSpace(kind="mlp", max_depth=1)
    arch = mlp.make(layers=[["relu", 32]])
    short = BreastCancer(max_epochs=1, trainer={"limit_train_batches": 2}).evaluate(arch, space=mlp)
    assert short.attrs["steps_run"] == 2
    plain, det = (BreastCancer(max_epochs=1, deterministic=d).evaluate(arch, space=mlp) for d in (False, True))
    assert plain.attrs["steps_run"] > 2 and det.curves == plain.curves  # on the CPU, bit for bit
