"""The contract every executor passes: what the search loop relies on."""

from __future__ import annotations

import time
from typing import Any

import pytest

from nasbook.executors import BaseExecutor, ExecutorEvent
from nasbook.space import PROTEINS_OPS, GraphSpace, SearchSpace
from nasbook.testing._toy import ToyTask
from nasbook.trial import Decision, TrialState


def _until_done(ex: BaseExecutor, numbers: set[int], timeout_s: float = 60.0) -> list[ExecutorEvent]:
    """Poll until every trial in ``numbers`` reported ``done`` (or fail after ``timeout_s``)."""
    events: list[ExecutorEvent] = []
    left = set(numbers)
    deadline = time.monotonic() + timeout_s
    while left:
        assert time.monotonic() < deadline, f"trials {sorted(left)} never reported done within {timeout_s:g} s"
        for e in ex.poll(0.05):
            events.append(e)
            if e.kind == "done":
                left.discard(e.number)
    return events


class ReturnsNone(ToyTask):
    """A task with a bug: ``evaluate`` returns None (module level, so workers can unpickle it)."""

    def evaluate(self, arch: Any, **kwargs: Any) -> Any:
        return None


class ExecutorContract:
    """Subclass and provide an ``executor`` fixture (a fresh or shared, un-started executor).

    Checks what :func:`nasbook.search._loop.run_trials` relies on: outcomes for every submitted
    trial, per-epoch reports before the outcome, STOP delivered, cancelled trials never reported,
    failures as FAILED outcomes with a reason, and a search that gives the same trials as the
    in-process executor.
    """

    #: seconds one simulated epoch takes (long enough for STOP to land mid-trial)
    epoch_s: float = 0.05

    @pytest.fixture
    def executor(self) -> BaseExecutor:
        raise NotImplementedError("subclasses provide an `executor` fixture")

    @pytest.fixture
    def space(self) -> SearchSpace:
        return GraphSpace(ops=PROTEINS_OPS)

    def _start(self, ex: BaseExecutor) -> BaseExecutor:
        ex.start()
        assert isinstance(ex.capacity, int) and ex.capacity >= 1, f"capacity after start() must be >= 1; got {ex.capacity!r}"
        return ex

    def test_every_trial_has_one_outcome_with_its_value(self, executor: BaseExecutor, space: SearchSpace) -> None:
        ex = self._start(executor)
        task = ToyTask(space, seed=1)
        rng = __import__("numpy").random.default_rng(0)
        archs = {n: space.sample(rng) for n in range(6)}
        events: list[ExecutorEvent] = []
        numbers = list(archs)
        while numbers:  # never more than capacity at once, as the search does
            batch, numbers = numbers[: ex.capacity], numbers[ex.capacity:]
            for n in batch:
                ex.submit(n, task, space, archs[n], None)
            events += _until_done(ex, set(batch))
        done = [e for e in events if e.kind == "done"]
        assert sorted(e.number for e in done) == sorted(archs), "one done event per trial"
        for e in done:
            assert e.outcome is not None and e.outcome.state is TrialState.COMPLETE
            assert isinstance(e.outcome.state, TrialState)
            assert e.outcome.result is not None and e.outcome.result.value == task.evaluate(archs[e.number]).value

    def test_reports_arrive_before_the_outcome(self, executor: BaseExecutor, space: SearchSpace) -> None:
        ex = self._start(executor)
        task = ToyTask(space, seed=2, epochs=3, epoch_s=0.0)
        arch = space.sample(__import__("numpy").random.default_rng(1))
        ex.submit(7, task, space, arch, None)
        events = [e for e in _until_done(ex, {7}) if e.number == 7]
        kinds = [e.kind for e in events]
        assert kinds == ["report"] * 3 + ["done"], f"expected 3 reports then done; got {kinds}"
        assert [e.epoch for e in events[:3]] == [0, 1, 2]
        assert all(task.metric in e.metrics for e in events[:3])
        assert events[-1].outcome is not None and events[-1].outcome.result is not None
        assert list(events[-1].outcome.result.curves[task.metric]) == [e.metrics[task.metric] for e in events[:3]]

    def test_stop_reaches_a_running_trial(self, executor: BaseExecutor, space: SearchSpace) -> None:
        task = ToyTask(space, seed=3, epochs=40, epoch_s=self.epoch_s)
        arch = space.sample(__import__("numpy").random.default_rng(2))
        stop_at = 1
        # in-process executors answer reports through the search's decide callback
        executor.start(lambda number, epoch, metrics: Decision.STOP if epoch >= stop_at else Decision.CONTINUE)
        ex = executor
        ex.submit(3, task, space, arch, None)
        outcome = None
        deadline = time.monotonic() + 60
        while outcome is None:
            assert time.monotonic() < deadline, "the trial never ended"
            for e in ex.poll(0.05):
                if e.kind == "report" and e.decision is None and e.epoch is not None and e.epoch >= stop_at:
                    ex.stop(e.number)
                if e.kind == "done":
                    outcome = e.outcome
        assert outcome is not None and outcome.state is TrialState.PRUNED, f"expected PRUNED; got {outcome!r}"
        assert outcome.result is not None and outcome.result.epochs is not None and outcome.result.epochs < 40

    def test_a_cancelled_trial_is_never_reported(self, executor: BaseExecutor, space: SearchSpace) -> None:
        ex = self._start(executor)
        task = ToyTask(space, seed=4, epochs=3, epoch_s=self.epoch_s)
        rng = __import__("numpy").random.default_rng(3)
        ex.submit(11, task, space, space.sample(rng), None)
        ex.cancel(11)
        ex.submit(12, ToyTask(space, seed=4), space, space.sample(rng), None)
        events = _until_done(ex, {12})
        time.sleep(4 * self.epoch_s)
        events += ex.poll(0.05)
        assert not [e for e in events if e.number == 11 and e.kind == "done"], "a cancelled trial reported an outcome"

    def test_a_failing_trial_is_a_failed_outcome_with_its_reason(self, executor: BaseExecutor, space: SearchSpace) -> None:
        ex = self._start(executor)
        arch = space.sample(__import__("numpy").random.default_rng(4))
        ex.submit(5, ToyTask(space, fail_ids=(arch.id,)), space, arch, None)
        (done,) = [e for e in _until_done(ex, {5}) if e.kind == "done"]
        assert done.outcome is not None and done.outcome.state is TrialState.FAILED
        assert done.outcome.reason and "toy failure" in done.outcome.reason

    def test_a_task_returning_no_result_is_a_failed_outcome(self, executor: BaseExecutor, space: SearchSpace) -> None:
        ex = self._start(executor)
        ex.submit(6, ReturnsNone(space), space, space.sample(__import__("numpy").random.default_rng(5)), None)
        (done,) = [e for e in _until_done(ex, {6}) if e.kind == "done"]
        assert done.outcome is not None and done.outcome.state is TrialState.FAILED
        assert done.outcome.reason and "returned None" in done.outcome.reason

    def test_a_search_gives_the_trials_of_the_in_process_executor(self, executor: BaseExecutor, space: SearchSpace) -> None:
        from nasbook.search import Search

        task = ToyTask(space, seed=5)
        local = Search(space, task, strategy="random", budget=12, seed=9, storage=":memory:").run(progress="none")
        other = Search(space, task, strategy="random", budget=12, seed=9, storage=":memory:", executor=executor)
        other.run(progress="none")
        assert sorted((t.arch.id, t.value) for t in other.trials) == sorted((t.arch.id, t.value) for t in local.trials)
        assert all(t.state is TrialState.COMPLETE for t in other.trials)

    def test_close_is_idempotent(self, executor: Any) -> None:
        executor.close()
        executor.close()
