"""The task contract catches broken tasks."""

import numpy as np
import pytest

from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
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
