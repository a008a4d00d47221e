"""ASHA keeps each rung's order as results arrive: the same promotions as sorting the rung at every ask,
without sorting it at every ask (that made a search of n trials cost O(n^2 log n))."""

import numpy as np
import pytest

from nasbook.space import GraphSpace, SubsetSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.strategies import ASHA, RandomSearch
from nasbook.trial import Proposal, Trial, TrialState

SPACE = GraphSpace(ops=PROTEINS_OPS)


def _drive(strategy, space, *, n_asks, seed, in_flight=3, values=5):
    """Ask and tell ``n_asks`` times, up to ``in_flight`` trials running at once, told in a shuffled
    order, with values drawn from ``values`` levels (many ties). Returns what was proposed."""
    rng = np.random.default_rng(seed)
    strategy.setup(space, seed=seed)
    running, proposed = [], []
    for number in range(n_asks):
        p = strategy.ask()
        assert isinstance(p, Proposal)
        proposed.append((p.arch.id, p.epochs, p.parent))
        running.append(Trial(number, p.arch, TrialState.COMPLETE, float(rng.integers(values)), epochs=p.epochs,
                             parent=p.parent))
        if len(running) >= in_flight or number == n_asks - 1:
            for i in rng.permutation(len(running)):
                strategy.tell(running[i])
            running = []
    return proposed


@pytest.mark.parametrize("seed", [100, 101])
def test_asha_promotes_as_a_full_sort_of_each_rung_does(seed):
    # rank_by="blend" without a curve predictor ranks by value too, by sorting the rung at every ask
    # (``_ranked``): the reference the kept order must agree with, ties and out-of-order tells included
    kept = _drive(ASHA(max_epochs=27), SPACE, n_asks=600, seed=seed)
    sorted_each_ask = _drive(ASHA(max_epochs=27, rank_by="blend"), SPACE, n_asks=600, seed=seed)
    assert kept == sorted_each_ask
    assert len({e for _, e, _ in kept}) == 4  # every rung reached


def test_asha_agrees_when_an_architecture_comes_again():
    # a base that proposes duplicates over 12 architectures: a rung's newer result of an architecture replaces its older one
    space = SubsetSpace(SPACE, SPACE.enumerate()[:12])
    kept = _drive(ASHA(base=RandomSearch(allow_duplicates=True), max_epochs=9), space, n_asks=200, seed=102)
    sorted_each_ask = _drive(ASHA(base=RandomSearch(allow_duplicates=True), max_epochs=9, rank_by="blend"), space,
                             n_asks=200, seed=102)
    assert kept == sorted_each_ask
    assert len({a for a, e, _ in kept if e == 1}) < sum(e == 1 for _, e, _ in kept)  # duplicates did come


def test_asha_does_not_sort_a_rung_at_every_ask(monkeypatch):
    calls = []
    original = ASHA._ranked

    def counting(self, results):
        calls.append(len(results))
        return original(self, results)

    monkeypatch.setattr(ASHA, "_ranked", counting)
    _drive(ASHA(max_epochs=27), SPACE, n_asks=300, seed=103)
    assert calls == []
