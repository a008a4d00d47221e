"""Portfolio(bandit="hedge") options: coinciding nominees as one option (hedge_distinct), nominees ranked
against each other (hedge_reward="round"), and the stored defaults that resume searches stored before them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from strategy_helpers import ask_tell, cut_and_full

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.predictors import RandomForest
from nasbook.search import load_search
from nasbook.search._resume import rebuild_strategy
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import BO, Portfolio
from nasbook.strategies._hedge import _choose


def cheap_bo(**params):
    params.setdefault("predictor", RandomForest(n_estimators=8, calibration="none"))
    params.setdefault("n_initial", 5)
    return BO(**params)


@pytest.fixture
def space():
    return GraphSpace(ops=PROTEINS_OPS)


class _Fixed:
    """A stand-in for the bandit's generator: ``random()`` returns ``u``."""

    def __init__(self, u):
        self.u = u

    def random(self):
        return self.u


def _set_up(space, **params):
    return Portfolio(["random", "evolution", cheap_bo()], bandit="hedge", **params).setup(space, seed=0)


@pytest.mark.parametrize(("u", "distinct", "chosen"), [
    (0.45, False, "evolution"),  # three options of 1/3 each: cumulative 1/3, 2/3, 1
    (0.45, True, "random"),      # two options of 1/2: random and evolution nominate one architecture
    (0.60, False, "evolution"),
    (0.60, True, "bo"),
])
def test_arms_nominating_one_architecture_are_one_option(space, u, distinct, chosen):
    pf = _set_up(space, hedge_distinct=distinct)
    same, other = space.sample(np.random.default_rng(1)), space.sample(np.random.default_rng(2))
    assert same.id != other.id
    pf.rng_ = _Fixed(u)
    assert _choose(pf, ["random", "evolution", "bo"], {"random": same, "evolution": same, "bo": other}) == chosen


def test_a_shared_nominee_is_credited_to_the_arm_with_the_highest_gain(space):
    pf = _set_up(space, hedge_distinct=True)
    same, other = space.sample(np.random.default_rng(1)), space.sample(np.random.default_rng(2))
    pf.wins_[:] = [0.0, 2.0, 0.0]  # evolution ahead of random; bo level with random
    p_shared = np.exp(2.0) / (np.exp(2.0) + 1.0)  # the option weighs exp(max gain), not exp(0) + exp(2)
    pf.rng_ = _Fixed(p_shared - 1e-6)
    assert _choose(pf, ["random", "evolution", "bo"], {"random": same, "evolution": same, "bo": other}) == "evolution"
    pf.rng_ = _Fixed(p_shared + 1e-6)
    assert _choose(pf, ["random", "evolution", "bo"], {"random": same, "evolution": same, "bo": other}) == "bo"


def test_distinct_nominees_choose_as_the_arms_do(space):
    """Without coinciding nominees, hedge_distinct changes nothing: the same draw picks the same arm."""
    archs = [space.sample(np.random.default_rng(k)) for k in range(3)]
    assert len({a.id for a in archs}) == 3
    for u in np.linspace(0.01, 0.99, 25):
        picks = []
        for distinct in (False, True):
            pf = _set_up(space, hedge_distinct=distinct)
            pf.wins_[:] = [0.3, 1.1, 0.7]
            pf.rng_ = _Fixed(float(u))
            picks.append(_choose(pf, ["random", "evolution", "bo"], dict(zip(["random", "evolution", "bo"], archs))))
        assert picks[0] == picks[1]


def test_round_reward_ranks_the_nominees_against_each_other(space):
    p = ask_tell(space, Portfolio(["random", "local", cheap_bo()], bandit="hedge", hedge_reward="round"), 25)
    rounds: dict[int, list[float]] = {}
    for r, _, reward in p.rewards_:
        rounds.setdefault(r, []).append(reward)
    assert len(rounds) >= 20
    for rewards in rounds.values():
        assert len(rewards) == 3
        # the rank among at most two other nominees, ties counting half: a multiple of 1/4
        assert all(r in (0.0, 0.25, 0.5, 0.75, 1.0) for r in rewards)
    # the surrogate's favourite of a round earns 1 (unless it shares its prediction with another)
    assert np.mean([max(rw) == 1.0 for rw in rounds.values()]) >= 0.8


def test_told_reward_ranks_against_the_values_told(space):
    """The default of stored searches: rewards are ranks among the values told (multiples of 1 / (2 n))."""
    p = ask_tell(space, Portfolio(["random", "local", cheap_bo()], bandit="hedge", hedge_reward="told"), 25)
    rewards = [r for _, _, r in p.rewards_]
    assert any(r not in (0.0, 0.25, 0.5, 0.75, 1.0) for r in rewards)


def test_a_stored_configuration_without_the_options_resumes_as_it_ran():
    cfg = Portfolio(bandit="hedge").to_config()
    for key in ("hedge_distinct", "hedge_reward"):
        del cfg["params"][key]
    old = rebuild_strategy(cfg)
    assert old.hedge_distinct is False and old.hedge_reward == "told"
    new = rebuild_strategy(Portfolio(bandit="hedge").to_config())
    assert new.hedge_distinct is Portfolio().hedge_distinct and new.hedge_reward == Portfolio().hedge_reward


def test_a_stored_arm_configuration_takes_its_class_stored_defaults(space):
    """An arm rebuilt from a stored Portfolio configuration gets its class's stored defaults, as load_search
    gives a top-level strategy."""
    cfg = Portfolio(["random", cheap_bo()], bandit="hedge").to_config()
    arms = cfg["params"]["strategies"]
    bo_cfg = next(a for a in arms if isinstance(a, dict))
    assert "n_initial" in bo_cfg["params"]
    BO.stored_defaults = {"n_initial": 7}  # as if n_initial had been added after this search was stored
    try:
        del bo_cfg["params"]["n_initial"]
        pf = rebuild_strategy(cfg).setup(space, seed=0)
        assert pf.arms_["bo"].n_initial == 7
    finally:
        del BO.stored_defaults


@pytest.mark.parametrize("params", [{"hedge_distinct": True, "hedge_reward": "round"}, {"hedge_distinct": True},
                                    {"hedge_reward": "round"}])
def test_resume_with_the_options_replays_exactly(tmp_path, space, params):
    strategy = Portfolio(["random", "evolution", "local", cheap_bo()], bandit="hedge", **params)
    full, path, task = cut_and_full(tmp_path, strategy, space, n_cut=14, budget=24, task_seed=2, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = load_search("cut", path, task=task, space=space).run(progress="none")
    for key, value in params.items():
        assert getattr(resumed.strategy, key) == value
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
    assert resumed.strategy.history_ == full.strategy.history_
    assert np.allclose(resumed.strategy.wins_, full.strategy.wins_)


def test_bad_options_name_themselves(space):
    with pytest.raises(InvalidParameterTypeError, match=r"hedge_distinct"):
        Portfolio(["random"], hedge_distinct="yes").setup(space)
    with pytest.raises(InvalidParameterError, match=r"hedge_reward"):
        Portfolio(["random"], hedge_reward="best").setup(space)
