"""A training task's numeric parameters are refused when the task is built, not at Search() (task "early").

``Digits(max_epochs=0)`` and ``Digits(max_epochs="3")`` were accepted, shown in a repr and passed
around, and refused only when a search checked the task. A stored task must still rebuild.
"""

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.space import ChainSpace
from nasbook.tasks import MNIST1D, BreastCancer, Digits, TrainingTask

BAD = [
    ("max_epochs", 0, "must be an int >= 1; got 0."),
    ("max_epochs", "3", "must be an int >= 1; got '3' of type str."),
    ("max_epochs", 2.0, "must be an int >= 1; got 2.0 of type float."),
    ("batch_size", 0, "must be an int >= 1; got 0."),
    ("batch_size", True, "must be an int >= 1; got True of type bool."),
    ("lr", "0.01", "must be a finite number > 0; got '0.01'."),
    ("lr", 0, "must be a finite number > 0; got 0."),
    ("lr", float("nan"), "must be a finite number > 0; got nan."),
    ("weight_decay", -0.1, "must be a finite number >= 0; got -0.1."),
    ("seed", -1, "must be an int >= 0; got -1."),
    ("split_seed", "0", "must be an int >= 0; got '0' of type str."),
    ("num_threads", 0, "must be an int >= 1 or None; got 0."),
    ("optimizer", "adma", "did you mean 'adam'"),
    ("latency", "yes", "must be True or False; got 'yes'."),
]


@pytest.mark.parametrize("cls", [Digits, MNIST1D, BreastCancer])
@pytest.mark.parametrize("param, value, says", BAD)
def test_a_bad_parameter_is_refused_when_the_task_is_built(cls, param, value, says):
    with pytest.raises(InvalidParameterError) as info:
        cls(**{param: value})
    msg = str(info.value)
    assert says in msg
    if param != "optimizer":  # unknown_choice's own wording names the choice and the parameter
        assert msg.startswith(f"{cls.__name__}({param}=...)")


def test_a_wrong_type_is_a_type_error_too():
    with pytest.raises(InvalidParameterTypeError):
        Digits(max_epochs="3")


def test_a_training_task_checks_its_parameters_when_built():
    pytest.importorskip("lightning")
    from nasbook.training import DigitsDataModule

    with pytest.raises(InvalidParameterError, match=r"^TrainingTask\(max_epochs=\.\.\.\) must be an int >= 1; got 0\.$"):
        TrainingTask(DigitsDataModule(), max_epochs=0)
    with pytest.raises(InvalidParameterError, match=r"datamodule=\.\.\.\) must be a LightningDataModule instance"):
        TrainingTask(DigitsDataModule)  # the class, not an instance


def test_numpy_integers_are_stored_as_plain_ints_and_a_stored_task_rebuilds(tmp_path):
    task = Digits(max_epochs=np.int64(2), batch_size=np.int32(16))
    assert type(task.max_epochs) is int and type(task.batch_size) is int
    path = str(tmp_path / "d.db")
    nasbook.Search(ChainSpace(kind="mlp"), task, budget=1, seed=0, storage=path, name="d")
    loaded = nasbook.load_search("d", path)
    assert loaded.task.get_params() == task.get_params()
    assert loaded.task.to_config() == task.to_config()
