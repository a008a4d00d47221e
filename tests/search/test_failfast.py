"""A run whose first trials all raise the same error stops with it once (set_options(stop_after_failures=k)),
instead of failing through its whole budget in silence."""

from __future__ import annotations

import warnings

import pytest

import nasbook
from nasbook._errors import NasbookWarning, RepeatedTrialFailure, TrialFailed
from nasbook.search import SearchState, TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)


class NoGPU(ToyTask):
    """Every trial raises the same exception (a set-up fault), or only the ids ``ok`` says are fine."""

    def __init__(self, space, ok=(), verdict=False):
        super().__init__(space)
        self.ok, self.verdict = tuple(ok), verdict

    def evaluate(self, arch, **kw):
        if arch.id in self.ok:
            return super().evaluate(arch, **kw)
        if self.verdict:
            raise TrialFailed("not this one")
        raise RuntimeError("No supported gpu backend found!")


def _search(task, budget=40, **kw):
    return nasbook.Search(SPACE, task, strategy="random", budget=budget, seed=100, storage=":memory:", **kw)


def test_the_same_error_from_the_first_trials_stops_the_run_and_is_named_once():
    # before: all 40 trials ran and failed; run() returned a 'done' search and said nothing
    s = _search(NoGPU(SPACE))
    with pytest.raises(RepeatedTrialFailure) as info:
        s.run(progress="none")
    msg = str(info.value)
    assert "first 5 trials (numbers 0..4) all failed with the same error" in msg
    assert msg.count("RuntimeError: No supported gpu backend found!") == 1 and "Traceback" not in msg
    assert s.n_trials == 5 and all(t.state is TrialState.FAILED for t in s.trials)
    assert s.state is SearchState.INTERRUPTED  # resumable, not 'done'
    with nasbook.set_options(stop_after_failures=2), pytest.raises(RepeatedTrialFailure, match="first 2 trials"):
        s.run(progress="none")  # a new run counts its own trials
    assert s.n_trials == 7


def test_zero_never_stops():
    with nasbook.set_options(stop_after_failures=0), warnings.catch_warnings():
        warnings.simplefilter("ignore", NasbookWarning)
        s = _search(NoGPU(SPACE), budget=12).run(progress="none")
    assert s.n_trials == 12 and s.state is SearchState.DONE


def test_a_budget_under_k_warns_instead():
    with pytest.warns(NasbookWarning, match=r"all 3 trials of this run failed with the same error.*gpu backend"):
        s = _search(NoGPU(SPACE), budget=3).run(progress="none")
    assert s.state is SearchState.DONE


def test_a_trial_that_works_or_a_task_verdict_lets_the_search_go_on():
    probe = _search(ToyTask(SPACE), budget=8).run(progress="none")
    third = probe.trials[2].arch.id  # the same seed proposes the same architectures
    with warnings.catch_warnings():
        warnings.simplefilter("error", NasbookWarning)
        s = _search(NoGPU(SPACE, ok=(third,)), budget=8).run(progress="none")
        assert s.n_trials == 8 and [t.state for t in s.trials].count(TrialState.COMPLETE) == 1
        v = _search(NoGPU(SPACE, verdict=True), budget=8).run(progress="none")  # TrialFailed: per trial
        assert v.n_trials == 8


def test_the_option_is_checked():
    with pytest.raises(nasbook.NasbookError, match=r"stop_after_failures=\.\.\.\) must be an int >= 0"):
        nasbook.set_options(stop_after_failures=-1)
