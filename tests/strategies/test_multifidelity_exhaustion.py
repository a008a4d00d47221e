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


def test_asha_waits_for_running_trials_when_the_space_runs_out():
    from nasbook.space import GraphSpace
    from nasbook.space._graph import PROTEINS_OPS
    from nasbook.strategies import ASHA
    from nasbook.trial import WAIT, Trial, TrialState

    space = GraphSpace(ops=PROTEINS_OPS)
    asha = ASHA(min_epochs=1, max_epochs=9, eta=3).setup(space, seed=100)
    number = 0

    def tell(prop, value):
        nonlocal number
        asha.tell(Trial(number, prop.arch, TrialState.COMPLETE, value, epochs=prop.epochs, parent=prop.parent))
        number += 1

    # two trials in flight, as on DaskExecutor(n_workers=2): every architecture but the running one is told
    running = asha.ask()
    while True:
        prop = asha.ask()
        if prop is WAIT:
            break
        tell(prop, 0.1 + 1e-6 * (number % 7))
    # before: the base's SpaceExhausted ended the search here, and the running trial was never promoted
    tell(running, 0.99)  # it finishes, the best of its rung
    promoted = asha.ask()
    assert promoted is not WAIT and promoted.arch == running.arch and promoted.epochs == 3
