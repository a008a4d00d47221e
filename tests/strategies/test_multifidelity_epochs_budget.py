"""An epochs budget is never exceeded, on one worker or several, by ASHA, successive halving and Hyperband.

Before, the loop started a trial whenever the epochs *trained* were below the budget: the epochs of the trials
still running were not counted, nor those of the trial it started. ASHA on two dask workers with
``budget={"epochs": 10}`` spent 12 or 13 (Hyperband with 25: 30), and on the local executor the last trial ran past
the budget too. Now a trial starts only if the epochs trained, the most the running trials may still train, and its
own all fit in the budget; one that does not fit (a 6-epoch promotion with 4 epochs left) waits for the running
trials (one may stop early), and with none running it is stored QUEUED and runs first after ``extend()``.
"""

import warnings

import pytest

import nasbook
from nasbook._errors import NasbookWarning
from nasbook.executors import LocalExecutor
from nasbook.search import TrialState
from nasbook.strategies import ASHA, Hyperband, RandomSearch, SuccessiveHalving
from nasbook.tasks import DigitsTable


class TwoWorkers(LocalExecutor):
    """Two trials at once, each stored RUNNING first (as on dask workers); an outcome comes back one per poll,
    so a second trial is in flight when the first one's result is told (as on workers of equal speed)."""

    in_process = False
    capacity = 2

    def poll(self, timeout_s=0.1):
        done = [e for e in self._events if e.kind == "done"][:1]
        self._events = [e for e in self._events if e not in done]
        return done


SCHEDULERS = {
    "asha": lambda: ASHA(min_epochs=1, max_epochs=9, eta=3),
    "sh": lambda: SuccessiveHalving(min_epochs=1, max_epochs=9, eta=3),
    "hyperband": lambda: Hyperband(min_epochs=1, max_epochs=9, eta=3),
}


def _run(strategy, executor, epochs, seed=0):
    return nasbook.Search(DigitsTable(), strategy=strategy, budget={"epochs": epochs}, seed=seed, storage=":memory:",
                          executor=executor).run(progress="none")


@pytest.mark.parametrize("executor", [TwoWorkers, LocalExecutor])
@pytest.mark.parametrize("name", SCHEDULERS)
@pytest.mark.parametrize("epochs", [10, 25, 40])
def test_an_epochs_budget_is_never_exceeded(name, executor, epochs):
    s = _run(SCHEDULERS[name](), executor(), epochs)
    ran = [t.attrs["epochs_run"] for t in s.trials]
    assert s.epochs_spent == sum(ran) <= epochs  # before: 12 of 10 (asha, two workers), 30 of 25 (hyperband)
    # and it stops only for want of room: the next trial would not have fit (one costs at most max_epochs=9 here)
    assert s.epochs_spent > epochs - 9 and s.state.value == "done"


def test_the_trial_that_did_not_fit_runs_first_after_extend_as_in_one_run():
    part = _run(SCHEDULERS["asha"](), TwoWorkers(), 10)
    queued = part._requeue  # asked, not run: stored QUEUED (it was a 2-epoch promotion with 1 epoch left)
    assert len(queued) == 1 and queued[0].state is TrialState.QUEUED and queued[0].number == part.n_trials
    part.extend(epochs=15).run(progress="none")
    whole = _run(SCHEDULERS["asha"](), TwoWorkers(), 25)
    assert [(t.number, t.arch.id, t.epochs) for t in part.trials] == [(t.number, t.arch.id, t.epochs) for t in whole.trials]
    assert part.epochs_spent == whole.epochs_spent <= 25


def test_a_budget_below_one_trial_runs_nothing_and_says_so():
    task = DigitsTable()  # a full trial trains task.max_epochs epochs
    s = nasbook.Search(task, strategy=RandomSearch(), budget={"epochs": task.max_epochs - 1}, seed=0, storage=":memory:")
    with pytest.warns(NasbookWarning, match=rf"ran no trial: its next trial \(0\) trains {task.max_epochs} epochs, but "
                      rf"{task.max_epochs - 1} of its budget of {task.max_epochs - 1} epochs are left, and an epochs "
                      r"budget is never exceeded\. .*search\.extend\(epochs=1\)"):
        s.run(progress="none")
    assert s.n_trials == 0 and s.epochs_spent == 0  # before: one trial of max_epochs, past the budget
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once: run() again on the same budget stays silent
        s.run(progress="none")
    s.extend(epochs=1).run(progress="none")
    assert [t.number for t in s.trials] == [0] and s.epochs_spent == task.max_epochs
