"""A run whose seconds budget is spent by ``run()``'s own set-up (the lease, replay, starting the executor: a
dask cluster takes seconds) before its first trial says so in one NasbookWarning. It ended "done" with no
trial and no word. Only then: a finished search run again, a stopped run and a run with trials stay silent.
The seconds are read on the fake run clock (tests/search/run_clock.py): the executor's start moves it."""
import pytest
from run_clock import patch_run_clock

import nasbook
from nasbook.executors import LocalExecutor
from nasbook.search import SearchState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)


class SlowStart(LocalExecutor):
    """A LocalExecutor whose start takes ``setup_s`` on the run clock (and calls ``on_start``, if set)."""

    def __init__(self, clock, setup_s, on_start=None):
        super().__init__()
        self.clock, self.setup_s, self.on_start = clock, setup_s, on_start

    def start(self, decide=None):
        self.clock.advance(self.setup_s)
        if self.on_start is not None:
            self.on_start()
        super().start(decide)


class Tick(ToyTask):
    """Each trial takes 1 s on the run clock."""

    clock = None

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        self.clock.advance(1.0)
        return super().evaluate(arch, space=space, fidelity=fidelity, report=report)


@pytest.fixture
def clock(monkeypatch):
    clock = patch_run_clock(monkeypatch)
    monkeypatch.setattr(Tick, "clock", clock)
    return clock


def _search(clock, setup_s, budget, **kw):
    return nasbook.Search(SPACE, Tick(SPACE), budget=budget, seed=0, storage=":memory:", name="setup",
                          executor=SlowStart(clock, setup_s, **kw))


def test_a_budget_spent_on_set_up_says_so(clock):
    s = _search(clock, 3.0, {"seconds": 2})
    with pytest.warns(nasbook.NasbookWarning, match=r"Search 'setup' ran no trial: its budget of 2 s was spent on "
                      r"run\(\)'s set-up \(3 s: .*before the first trial\. Give it more time \(search\.extend\("
                      r"seconds=\.\.\.\), then run\(\) again\), or pass an executor that is already started"):
        s.run(progress="none")
    assert s.n_trials == 0 and s.state is SearchState.DONE and s.elapsed_s == 3.0
    s.executor.setup_s = 0.0
    s.extend(seconds=2).run(progress="none")  # the fix it names: 4 s, 3 spent, one trial of 1 s fits
    assert s.n_trials == 1


def test_earlier_runs_time_is_named(clock):
    s = _search(clock, 0.0, {"seconds": 2.5}).run(progress="none")  # 3 trials of 1 s: 3 s spent
    s.extend(seconds=1)
    s.executor.setup_s = 1.0
    with pytest.warns(nasbook.NasbookWarning, match=r"its budget of 3\.5 s, 3 s of it by earlier runs, was spent "
                                                   r"on run\(\)'s set-up \(1 s"):
        s.run(progress="none")


def test_no_warning_when_a_trial_ran_or_the_budget_was_spent_before_the_run(clock):
    s = _search(clock, 1.5, {"seconds": 2}).run(progress="none")  # set-up 1.5 s: one trial starts
    assert s.n_trials == 1
    assert s.run(progress="none").n_trials == 1  # finished (3.5 of 2 s): runs nothing, says nothing
    both = _search(clock, 0.0, {"trials": 2, "seconds": 10}).run(progress="none")
    both.executor.setup_s = 20.0  # its trials budget was spent before this run: the seconds are not the reason
    assert both.run(progress="none").n_trials == 2


def test_no_warning_when_the_run_was_stopped_during_set_up(clock):
    holder = {}
    s = _search(clock, 5.0, {"seconds": 2}, on_start=lambda: holder["s"].stop())
    holder["s"] = s
    s.run(progress="none")
    assert s.n_trials == 0 and s.state is SearchState.INTERRUPTED
