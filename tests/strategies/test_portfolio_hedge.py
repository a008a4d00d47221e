"""Portfolio(bandit="hedge"): GP-Hedge over strategies (every arm nominates, every arm is rewarded)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from strategy_helpers import ask_tell, cut_and_full

from nasbook._errors import InvalidParameterError
from nasbook.predictors import RandomForest
from nasbook.search import load_search
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import BO, Portfolio, RandomSearch
from nasbook.strategies._hedge import hedge_probabilities
from nasbook.testing import StrategyContract


def cheap_bo(**params):
    params.setdefault("predictor", RandomForest(n_estimators=8, calibration="none"))
    params.setdefault("n_initial", 5)
    return BO(**params)


class TestHedgeContract(StrategyContract):
    n_trials = 30

    @pytest.fixture
    def strategy(self):
        return Portfolio(["random", "evolution", "local", cheap_bo()], bandit="hedge")


@pytest.fixture
def space():
    return GraphSpace(ops=PROTEINS_OPS)


def test_every_arm_is_rewarded_at_every_round_not_only_the_one_chosen(space):
    p = ask_tell(space, Portfolio(["random", "evolution", "local", cheap_bo()], bandit="hedge"), 20)
    rounds: dict[int, set[str]] = {}
    for r, arm, reward in p.rewards_:
        assert 0.0 <= reward <= 1.0
        rounds.setdefault(r, set()).add(arm)
    # from the third ask on (two values told) the last round's four nominees are rewarded at every ask
    assert sorted(rounds) == list(range(2, 20))
    assert all(arms == {"random", "evolution", "local", "bo"} for arms in rounds.values())
    assert sum(p.arm_counts_.values()) == 20 and len(p.history_) == 20


def test_nominees_not_chosen_are_withdrawn_from_their_arms(space):
    p = ask_tell(space, Portfolio(["random", cheap_bo()], bandit="hedge"), 15)
    proposed = {a for a in p.arms_["random"].seen_}
    # every arm knows exactly the architectures evaluated; the withdrawn nominees are forgotten
    for arm in p.arms_.values():
        assert arm.seen_ == proposed
    assert len(proposed) == 15
    assert p.arms_["bo"]._pending == {}  # a withdrawn nominee is not lent a score in bo's fits


def test_the_arm_whose_nominees_the_surrogate_rates_higher_gets_the_picks(space):
    shares = [ask_tell(space, Portfolio([RandomSearch(), cheap_bo()], bandit="hedge", eta=2.0), 40, seed=s).shares_
              for s in range(3)]
    assert np.mean([s["bo"] for s in shares]) > 0.7


def test_hedge_probabilities_are_a_stable_softmax():
    p = hedge_probabilities(np.array([1000.0, 999.0, 0.0]), 1.0)
    assert np.isclose(p.sum(), 1.0) and p[0] > p[1] > p[2] >= 0 and np.isclose(p[0] / p[1], np.e)
    assert np.allclose(hedge_probabilities(np.zeros(4), 3.0), 0.25)


def test_a_prior_makes_an_arm_likelier_from_the_first_ask(space):
    def first_picks(prior):
        return sum(ask_tell(space, Portfolio(["random", "evolution"], bandit="hedge", prior=prior), 3, seed=s).history_[0]
                   == "evolution" for s in range(20))

    assert first_picks({"evolution": 5.0}) >= 18 and first_picks(None) < 18


def test_resume_replays_exactly(tmp_path, space):
    strategy = Portfolio(["random", "local", cheap_bo()], bandit="hedge")
    full, path, task = cut_and_full(tmp_path, strategy, space, n_cut=14, budget=24, task_seed=2, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = load_search("cut", path, task=task, space=space).run(progress="none")
    assert resumed.strategy.bandit == "hedge"
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
    assert resumed.strategy.history_ == full.strategy.history_
    assert np.allclose(resumed.strategy.wins_, full.strategy.wins_)


@pytest.mark.parametrize("eta", [0, -1.0, float("inf"), True, "1"])
def test_bad_eta_names_itself(space, eta):
    with pytest.raises(InvalidParameterError, match=r"Portfolio\(eta=\.\.\.\) must be a finite number > 0"):
        Portfolio(["random", "evolution"], bandit="hedge", eta=eta).setup(space)
