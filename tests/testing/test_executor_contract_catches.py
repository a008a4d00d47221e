"""The executor contract catches broken executors (a contract that cannot fail is no contract)."""

import pytest

from nasbook.executors import ExecutorEvent, LocalExecutor, evaluate_trial
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ExecutorContract
from nasbook.trial import Decision

SPACE = GraphSpace(ops=PROTEINS_OPS)


class DropsReports(LocalExecutor):
    def submit(self, number, task, space, arch, fidelity=None):
        outcome = evaluate_trial(task, space, arch, number, fidelity, lambda epoch, **m: Decision.CONTINUE)
        self._events.append(ExecutorEvent("done", number, outcome=outcome))


class IgnoresStop(LocalExecutor):
    def start(self, decide=None):
        super().start(None)  # never asks the search

    def stop(self, number):
        pass


class ReportsCancelled(LocalExecutor):
    def cancel(self, number):
        pass


class StringStates(LocalExecutor):
    def submit(self, number, task, space, arch, fidelity=None):
        super().submit(number, task, space, arch, fidelity)
        done = self._events[-1]
        done.outcome.state = done.outcome.state.value  # the old, stringly-typed outcome


@pytest.mark.parametrize("broken, check", [
    (DropsReports, "test_reports_arrive_before_the_outcome"),
    (IgnoresStop, "test_stop_reaches_a_running_trial"),
    (ReportsCancelled, "test_a_cancelled_trial_is_never_reported"),
    (StringStates, "test_every_trial_has_one_outcome_with_its_value"),
])
def test_contract_catches(broken, check):
    contract = ExecutorContract()
    contract.epoch_s = 0.0
    with pytest.raises(AssertionError):
        getattr(contract, check)(broken(), SPACE)


def test_contract_passes_the_local_executor():
    contract = ExecutorContract()
    contract.epoch_s = 0.0
    for check in ("test_reports_arrive_before_the_outcome", "test_stop_reaches_a_running_trial",
                  "test_a_cancelled_trial_is_never_reported", "test_every_trial_has_one_outcome_with_its_value"):
        getattr(contract, check)(LocalExecutor(), SPACE)
