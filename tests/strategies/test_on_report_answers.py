"""A strategy's ``on_report`` answer is taken as a Decision or refused naming the hook (outside probe 6a): an early-
stopping rule of one's own answering ``"stop"`` (the Decision's value) or ``True`` let every trial run on without a
word; None (a hook that returns nothing) still continues."""

from __future__ import annotations

import pytest

import nasbook
from nasbook import NasbookError
from nasbook.space import CellSpace
from nasbook.strategies import BaseStrategy
from nasbook.testing import ToyTask
from nasbook.trial import Decision

SPACE = CellSpace()


class Answers(BaseStrategy):
    needs_epochs = "stops running trials from their per-epoch reports"

    def __init__(self, answer=None, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.answer = answer

    def _ask(self):
        return self._sample_new()

    def on_report(self, number, epoch, metrics):
        enum = {"Decision.STOP": Decision.STOP, "Decision.CONTINUE": Decision.CONTINUE}  # parameters are stored as JSON
        return enum.get(self.answer, self.answer) if epoch >= 1 else Decision.CONTINUE


def _run(answer):
    s = nasbook.Search(SPACE, ToyTask(SPACE, epochs=4), strategy=Answers(answer), budget=3, seed=0, storage=":memory:")
    return {(t.state.value, t.epochs) for t in s.run(progress="none").trials}


@pytest.mark.parametrize("answer", ["Decision.STOP", "stop", "STOP"])
def test_stop_prunes_after_that_epoch(answer):
    assert _run(answer) == {("pruned", 2)}


@pytest.mark.parametrize("answer", [None, "Decision.CONTINUE", "continue"])
def test_none_and_continue_let_the_trial_run_on(answer):
    assert _run(answer) == {("complete", 4)}


@pytest.mark.parametrize("answer", [True, 1, "halt"])
def test_anything_else_stops_the_run_naming_on_report(answer):
    with pytest.raises(NasbookError, match=r"Answers\.on_report\(\) must return Decision\.CONTINUE or Decision\.STOP"):
        _run(answer)
