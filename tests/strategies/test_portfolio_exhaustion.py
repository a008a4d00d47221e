"""A Portfolio whose arms run out of a small space one after another sets each aside and ends cleanly once all
have: every architecture evaluated once, the search DONE, the early stop said (the check on proteins' 2,021
architectures is in docs/benchmarks.md, "Multi-fidelity checkpoints ... leftovers")."""

import warnings

import pytest

import nasbook
from nasbook.space import GraphSpace
from nasbook.strategies import Portfolio
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=("gcn", "gat"))  # 107 architectures


@pytest.mark.parametrize("bandit", ["ts", "hedge"])
def test_a_portfolio_past_the_space_evaluates_each_architecture_once_and_ends(bandit):
    assert SPACE.cardinality == 107
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = nasbook.Search(SPACE, ToyTask(SPACE), strategy=Portfolio(bandit=bandit), budget=140, seed=100,
                           storage=":memory:").run(progress="none")
    ids = [t.arch.id for t in s.trials]
    assert len(ids) == len(set(ids)) == SPACE.cardinality
    assert s.state is nasbook.search.SearchState.DONE
    assert any("stopped early" in str(w.message) and "exhausted" in str(w.message) for w in caught)
    assert set(s.strategy.exhausted_) <= set(s.strategy.arms_) and s.strategy.exhausted_
