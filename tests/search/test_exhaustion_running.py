"""A strategy that says ``SpaceExhausted`` while trials are running is asked again once one has finished.

The loop ends the run as exhausted (with its warning) only when the strategy says so with nothing running;
on a parallel executor a trial that finishes may let it propose again (a promotion, a continuation).
"""

import warnings

import nasbook
from nasbook._errors import SpaceExhausted
from nasbook.executors import LocalExecutor
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import BaseStrategy
from nasbook.testing import ToyTask


class AfterEachResult(BaseStrategy):
    """Proposes one architecture at first, then one more per finished trial (``extra`` in all), and says
    ``SpaceExhausted`` whenever it has nothing to propose until a running trial finishes."""

    def __init__(self, extra=1, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.extra = extra

    def _setup(self):
        self.proposed_ = 0
        self.exhausted_asks_ = []  # the tells heard at each ask that raised

    def _ask(self):
        if self.proposed_ < 1 or (self.proposed_ <= self.extra and self.n_told_ >= self.proposed_):
            self.proposed_ += 1
            return self._sample_new()
        self.exhausted_asks_.append(self.n_told_)
        raise SpaceExhausted(f"nothing to propose after {self.n_told_} results")


class _Workers(LocalExecutor):
    """Two trials at once, each stored RUNNING first (as on dask workers). A trial's outcome comes back after
    three polls that return nothing, as a slow worker's does: a loop that asked at every poll would show it."""

    in_process = False
    capacity = 2

    def __init__(self):
        super().__init__()
        self.polls = 0

    def poll(self, timeout_s=0.1):
        self.polls += 1
        if self.polls % 4:
            return []
        done = [e for e in self._events if e.kind == "done"][:1]
        self._events = [e for e in self._events if e not in done]
        return done


def _run(strategy, executor, budget=10):
    space = GraphSpace(ops=PROTEINS_OPS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = nasbook.Search(space, ToyTask(space), strategy=strategy, budget=budget, seed=100, storage=":memory:",
                           executor=executor).run(progress="none")
    return s, [str(w.message) for w in caught if "stopped" in str(w.message)]


def test_a_user_strategy_exhausted_while_a_trial_runs_proposes_again_once_it_finishes():
    strategy = AfterEachResult(extra=2)
    s, stopped = _run(strategy, _Workers())
    # before: its first SpaceExhausted (trial 0 running) ended the run for good, after 1 trial
    assert s.n_trials == 3 and len({t.arch.id for t in s.trials}) == 3
    assert s.state.value == "done" and {t.state.value for t in s.trials} == {"complete"}
    # asked again only after a result (no asking at every empty poll): raised at 0, 1 and 2 tells running,
    # then at 3 tells with nothing running, which ends the run with one warning
    assert strategy.exhausted_asks_ == [0, 1, 2, 3]
    assert len(stopped) == 1 and stopped[0].endswith("stopped early: nothing to propose after 3 results.")


def test_exhaustion_with_nothing_running_ends_the_run_with_the_warning():
    # the local executor has nothing running at an ask: asked once, after its one trial, and stopped there;
    # on workers the ask with trial 0 running waits for it, and the one after ends the run
    for executor, asks in ((LocalExecutor(), [1]), (_Workers(), [0, 1])):
        strategy = AfterEachResult(extra=0)
        s, stopped = _run(strategy, executor)
        assert s.n_trials == 1 and s.state.value == "done"
        assert strategy.exhausted_asks_ == asks
        assert len(stopped) == 1 and stopped[0].endswith("stopped early: nothing to propose after 1 results.")


def test_the_budget_still_stops_a_run_that_waits_on_exhaustion():
    strategy = AfterEachResult(extra=5)
    s, stopped = _run(strategy, _Workers(), budget=3)
    assert s.n_trials == 3 and stopped == []  # spent, not exhausted: no warning


def test_the_exhaustion_warning_is_nasbooks_and_points_at_the_callers_line():
    # a NasbookWarning (filtered with nasbook's others), attributed to the user's run() line, not to the loop
    space = GraphSpace(ops=PROTEINS_OPS)
    s = nasbook.Search(space, ToyTask(space), strategy=AfterEachResult(extra=0), budget=3, seed=100,
                       storage=":memory:")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s.run(progress="none")
    stopped = [w for w in caught if "stopped early" in str(w.message)]
    assert len(stopped) == 1 and issubclass(stopped[0].category, nasbook.NasbookWarning)
    assert stopped[0].filename == __file__
