"""Successive halving and Hyperband when the space runs out mid-bracket (outside-evaluator probe)."""

import warnings

import pytest

import nasbook
from nasbook.strategies import Hyperband, SuccessiveHalving
from nasbook.tasks import DigitsTable


@pytest.mark.parametrize("cls", [SuccessiveHalving, Hyperband])
def test_the_last_bracket_still_climbs_when_the_space_runs_out(cls):
    task = DigitsTable()  # 300 architectures: not a whole number of brackets
    top = task.max_epochs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = nasbook.Search(task, strategy=cls(max_epochs=top), budget={"epochs": 10**6}, seed=100,
                           storage=":memory:").run(progress="none")
    assert any("stopped early" in str(w.message) for w in caught)  # exhausted, and said so
    fresh = [t for t in s.trials if t.parent is None]
    assert len({t.arch.id for t in fresh}) == len(fresh) == task.space.cardinality  # each once, no repeat
    # before: the bracket open when the base ran out stopped at its first rung; now its best is trained to the top
    last = max(s.trials, key=lambda t: t.number)
    assert last.epochs == top
    started_last = max(t.number for t in fresh)
    assert any(t.epochs == top and t.number > started_last for t in s.trials)
