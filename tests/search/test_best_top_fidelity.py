"""``Search.best`` follows the top-fidelity rule (``nasbook.storage.TopFidelityBest``): of a multi-fidelity
search, the best complete trial with a finite value at the most epochs reached so far (and those with no epochs),
ties to the trial recorded first; the store's ``list_searches`` and ``kb.searches`` give the same trial."""

import math

import numpy as np

import nasbook
from nasbook.space import GraphSpace
from nasbook.storage import TopFidelityBest
from nasbook.trial import Trial, TrialState

SPACE = GraphSpace()
ARCH = SPACE.sample(np.random.default_rng(0))


def _t(number, value, epochs, state=TrialState.COMPLETE):
    return Trial(number, ARCH, state, value, epochs=epochs, n_told_before=number)


def _best(mode, rows):
    rule = TopFidelityBest(mode, [_t(i, *row) for i, row in enumerate(rows)])
    return None if rule.best is None else rule.best.number


def test_a_higher_rung_replaces_the_lower_rungs_best_even_when_worse():
    assert _best("max", [(0.3, 1), (0.99, 1)]) == 1
    assert _best("max", [(0.3, 1), (0.99, 1), (0.6, 3)]) == 2  # the 1-epoch 0.99 no longer counts
    assert _best("max", [(0.3, 1), (0.6, 3), (0.99, 1)]) == 1  # nor one recorded after the top rose
    assert _best("min", [(0.05, 1), (0.4, 2), (0.3, 2)]) == 2


def test_trials_without_epochs_count_at_every_top_and_ties_go_to_the_first():
    assert _best("max", [(0.8, None), (0.5, 1), (0.6, 3)]) == 0
    assert _best("max", [(0.5, 1), (0.8, None), (0.9, 3), (0.9, 3), (0.9, None)]) == 2
    assert _best("max", [(0.9, None), (0.9, 3)]) == 0


def test_nothing_but_complete_finite_values_counts():
    rows = [(math.inf, 9), (math.nan, 9), (-math.inf, 9), (None, 9), (0.99, 9, TrialState.PRUNED),
            (0.99, 9, TrialState.FAILED)]
    assert _best("max", rows) is None and _best("min", rows) is None
    assert _best("max", [*rows, (0.2, 1)]) == len(rows)  # the inf at 9 epochs does not lift the top


def test_a_real_asha_search_best_is_its_best_trial_at_its_most_epochs_in_every_view(tmp_path):
    from nasbook.strategies import ASHA
    from nasbook.tasks import DigitsTable

    db = str(tmp_path / "s.db")
    s = nasbook.Search(DigitsTable(), strategy=ASHA(max_epochs=9), budget=40, seed=100, storage=db, name="asha")
    s.run()
    done = [t for t in s.trials if t.state is TrialState.COMPLETE]
    top = max(t.epochs for t in done)
    assert top == 9 and min(t.epochs for t in done) < top
    want = max((t for t in done if t.epochs == top), key=lambda t: (t.value, -t.number))
    assert s.best is not None and (s.best.number, s.best.epochs) == (want.number, 9)
    assert [r.best_value for r in s.storage.list_searches()] == [want.value]
    assert nasbook.load_search("asha", storage=db).best.number == want.number
    with nasbook.KnowledgeBase(db) as kb:
        row = kb.searches.set_index("search").loc["asha"]
        assert (row["best"], row["best_arch_id"], row["best_epochs"]) == (want.value, want.arch.id, 9)
    s.close()
