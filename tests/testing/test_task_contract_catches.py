"""The task contract catches broken tasks."""

import numpy as np
import pytest

from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.tasks import Result, Task
from nasbook.testing import TaskContract, ToyTask
from nasbook.trial import Decision

SPACE = GraphSpace(ops=PROTEINS_OPS)


class ReturnsNone(ToyTask):
    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        return None


class ReportsWithoutMetric(ToyTask):
    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        quiet = None if report is None else (lambda epoch, **m: report(epoch, loss=1.0))
        return super().evaluate(arch, space=space, fidelity=fidelity, report=quiet)


class IgnoresStop(ToyTask):
    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        carry_on = None if report is None else (lambda epoch, **m: (report(epoch, **m), Decision.CONTINUE)[1])
        return super().evaluate(arch, space=space, fidelity=fidelity, report=carry_on)


class UnstableConfig(ToyTask):
    def get_params(self):
        return {**super().get_params(), "made": np.random.random()}


class EpochsWithoutMax(ToyTask):
    @property
    def max_epochs(self):
        return None


@pytest.mark.parametrize("task, check", [
    (ReturnsNone(SPACE), "test_evaluate_returns_a_finite_result"),
    (ReportsWithoutMetric(SPACE, epochs=3), "test_reports_each_epoch_and_obeys_stop"),
    (IgnoresStop(SPACE, epochs=3), "test_reports_each_epoch_and_obeys_stop"),
    (UnstableConfig(SPACE), "test_config_is_json_and_stable"),
    (EpochsWithoutMax(SPACE, epochs=3), "test_declarations"),
])
def test_contract_catches(task, check):
    contract = TaskContract()
    method = getattr(contract, check)
    args = (task,) if check in ("test_declarations", "test_config_is_json_and_stable", "test_pickles") else (task, SPACE)
    with pytest.raises(AssertionError):
        method(*args)


class Scaled(Task):
    """A correct task with one constructor argument: what the broken ones below get wrong."""

    metric = "score"

    def __init__(self, scale=1.0):
        self.scale = scale

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        return Result(self.scale * len(arch.id))


class KeepsItUnderAnotherName(Scaled):
    def __init__(self, scale=1.0):
        self._scale = scale  # get_params() reads self.scale: the stored configuration lacks it


class LeavesItOutOfTheConfig(Scaled):
    def get_params(self):
        return {}  # stored without scale: a resumed search rebuilds Scaled(scale=1.0)


class StoresItUnderAnotherName(Scaled):
    def get_params(self):
        return {"factor": self.scale}


class StoresItTransformed(Scaled):
    def get_params(self):
        return {"scale": 100 * self.scale}  # rebuilt, it is another task


@pytest.mark.parametrize("task, match", [
    (KeepsItUnderAnotherName(2.0), r"takes \['scale'\] but keeps no attribute of that name"),
    (KeepsItUnderAnotherName(), r"takes \['scale'\] but keeps no attribute"),  # even at its default
    (LeavesItOutOfTheConfig(2.0), r"leaves out scale=2\.0, not the default \(scale=1\.0\)"),
    (StoresItUnderAnotherName(2.0), r"holds \['factor'\], which StoresItUnderAnotherName.__init__ does not take"),
    (StoresItTransformed(2.0), r"rebuilt from its stored parameters .* is another task"),
])
def test_contract_catches_a_constructor_argument_the_stored_configuration_loses(task, match):
    with pytest.raises(AssertionError, match=match):
        TaskContract().test_constructor_arguments_are_kept(task)


def test_the_constructor_check_accepts_what_rebuilds_the_task():
    TaskContract().test_constructor_arguments_are_kept(Scaled(2.0))
    TaskContract().test_constructor_arguments_are_kept(LeavesItOutOfTheConfig())  # left out at its default: rebuilds
    TaskContract().test_constructor_arguments_are_kept(ToyTask(SPACE, seed=4))  # space: no default, passed again


#: every built-in task, made cheaply (nothing is loaded or trained), with arguments off their defaults
BUILTIN = {
    "NasBenchGraph": lambda t: [t.NasBenchGraph("cora")],
    "DigitsTable": lambda t: [t.DigitsTable(), t.DigitsTable(seed=1)],
    "MNIST1DTable": lambda t: [t.MNIST1DTable()],
    "CurveTableTask": lambda t: [t.CurveTableTask(seed=2)],  # the base of the table tasks
    "Digits": lambda t: [t.Digits(max_epochs=2, latency=True, health={"max_loss": 9.0})],
    "BreastCancer": lambda t: [t.BreastCancer(lr=0.01)],
    "MNIST1D": lambda t: [t.MNIST1D(split_seed=2)],
    "TrainingTask": lambda t: [t.TrainingTask(t.Digits().datamodule, max_epochs=2, input_shape=(64,), n_classes=10)],
}


def test_every_builtin_task_is_checked():
    from nasbook import tasks

    exported = {n for n in tasks.__all__ if isinstance(c := getattr(tasks, n), type) and issubclass(c, Task) and c is not Task}
    assert exported == set(BUILTIN), f"a built-in task is not checked: {sorted(exported ^ set(BUILTIN))}"


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_task_keeps_its_constructor_arguments(name):
    from nasbook import tasks

    for task in BUILTIN[name](tasks):
        TaskContract().test_constructor_arguments_are_kept(task)
