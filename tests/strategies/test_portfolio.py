"""strategies.Portfolio: a discounted bandit over strategies, and portfolio_prior."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, SpaceExhausted
from nasbook.search import Search, load_search
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import BaseStrategy, Portfolio, Proposal, RandomSearch, get_strategy, portfolio_prior
from nasbook.testing import StrategyContract
from nasbook.testing._toy import ToyTask
from nasbook.trial import Trial, TrialState


class TestPortfolioContract(StrategyContract):
    @pytest.fixture
    def strategy(self):
        return Portfolio(["random", "evolution", "local"])

    @pytest.mark.slow  # ~50 s: the whole toy space drawn through three arms; the UCB contract below keeps it fast
    def test_no_duplicate_proposals(self, strategy, space, task):
        super().test_no_duplicate_proposals(strategy, space, task)

    # 5-18 s each (~70 s of the default run): the hedge bandit fits its own forest at every ask. The same
    # contract on the hedge bandit runs in the default run as test_portfolio_hedge.py::TestHedgeContract
    # (~2 s each), and the portfolio's own forest in the tests below (test_discounting_..., test_every_arm_...);
    # these stay in the slow job, which CI runs too
    @pytest.mark.slow
    def test_proposals_are_members(self, strategy, space, task):
        super().test_proposals_are_members(strategy, space, task)

    @pytest.mark.slow
    def test_deterministic_under_seed(self, strategy, space, task):
        super().test_deterministic_under_seed(strategy, space, task)

    @pytest.mark.slow
    def test_setup_resets_learned_state(self, strategy, space, task):
        super().test_setup_resets_learned_state(strategy, space, task)

    @pytest.mark.slow
    def test_seed_matters(self, strategy, space, task):
        super().test_seed_matters(strategy, space, task)

    @pytest.mark.slow
    def test_minimisation(self, strategy, space, task):
        super().test_minimisation(strategy, space, task)

    @pytest.mark.slow
    def test_resume_replays_exactly(self, strategy, space, task, tmp_path):
        super().test_resume_replays_exactly(strategy, space, task, tmp_path)


class TestPortfolioUCBContract(StrategyContract):
    @pytest.fixture
    def strategy(self):
        from nasbook.strategies import RegularizedEvolution

        return Portfolio([RegularizedEvolution(population_size=10, sample_size=3), "local"], bandit="ucb", discount=0.9)


@pytest.fixture
def space():
    return GraphSpace(ops=PROTEINS_OPS)


def _drive(p: Portfolio, value_of, n: int) -> list[str]:
    """ask/tell ``n`` times; ``value_of(i, arm)`` is the value told for the i-th trial; returns the arms."""
    arms = []
    for i in range(n):
        asked = p.ask()
        assert isinstance(asked, Proposal)
        arm = asked.attrs["portfolio_arm"]
        arms.append(arm)
        v = value_of(i, arm)
        p.tell(Trial(i, asked.arch, TrialState.COMPLETE if v is not None else TrialState.FAILED, v, n_told_before=i))
    return arms


@pytest.mark.parametrize("bandit", ["ts", "ucb"])
def test_rewards_are_finite_and_normalised_from_the_first_trial(space, bandit):
    # the one-pull bandits: one reward per finished trial, for the arm that proposed it
    p = Portfolio(["random", "evolution"], bandit=bandit).setup(space, seed=0)
    huge = [1e300, -1e300, 5.0, None, 5.0, 1e308, float("nan")]
    _drive(p, lambda i, arm: huge[i % len(huge)], 40)
    rewards = [r for _, _, r in p.rewards_]
    assert len(rewards) == 40
    assert rewards[0] == 0.5  # nothing to compare with yet: neutral, never +inf
    assert all(math.isfinite(r) and 0.0 <= r <= 1.0 for r in rewards)
    assert rewards[1] == 0.0  # -1e300 beats nothing told before
    assert rewards[3] == 0.0  # a failed trial (no value) earns nothing
    assert np.all(np.isfinite(p.wins_)) and np.all(np.isfinite(p.pulls_))


def test_hedge_rewards_stay_finite_and_normalised_under_extreme_values(space):
    # "hedge" rewards every arm's nominee at every round: many rewards per trial, all in [0, 1]
    p = Portfolio(["random", "evolution"], bandit="hedge").setup(space, seed=0)
    huge = [1e300, -1e300, 5.0, None, 5.0, 1e308, float("nan")]
    _drive(p, lambda i, arm: huge[i % len(huge)], 40)
    rewards = [r for _, _, r in p.rewards_]
    assert len(rewards) > 40
    assert all(math.isfinite(r) and 0.0 <= r <= 1.0 for r in rewards)
    assert np.all(np.isfinite(p.wins_)) and np.all(np.isfinite(p.pulls_))


def _switching_share(discount: float, seed: int) -> float:
    """Two arms; arm 'random' is the good one for 60 trials, then 'random-2'. Share of the 30 picks after
    the switch that go to the new good arm."""
    p = Portfolio(["random", "random"], discount=discount).setup(GraphSpace(ops=PROTEINS_OPS), seed=seed)

    def value(i: int, arm: str) -> float:
        good = "random" if i < 60 else "random-2"
        return float(i) if arm == good else -float(i)  # a new best (reward 1) or a new worst (reward 0)

    arms = _drive(p, value, 120)
    return sum(a == "random-2" for a in arms[60:90]) / 30


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)])  # ~14 s each
def test_discounting_follows_the_arm_that_becomes_better(seed):
    adaptive = _switching_share(0.9, seed)
    stationary = _switching_share(1.0, seed)
    assert adaptive >= 0.6
    assert stationary < adaptive - 0.3  # without discounting 60 trials of evidence hold it back


def test_a_prior_shifts_the_early_picks(space):
    def first_picks(prior):
        picks = []
        for seed in range(5):
            p = Portfolio(["random", "evolution"], prior=prior).setup(space, seed=seed)
            picks += _drive(p, lambda i, arm: 0.0, 10)
        return sum(a == "evolution" for a in picks) / len(picks)

    assert first_picks({"evolution": 20, "random": 0}) >= 0.8
    assert first_picks({"evolution": 0, "random": 20}) <= 0.2
    assert 0.2 < first_picks(None) < 0.8


def test_an_undiscounted_prior_still_weighs_after_the_evidence_has_faded(space):
    def late_picks(discount_prior):
        picks = []
        for seed in range(4):
            p = Portfolio(["random", "evolution"], bandit="ts", prior={"evolution": 6}, discount=0.8,
                          discount_prior=discount_prior).setup(space, seed=seed)
            picks += _drive(p, lambda i, arm: 0.0, 60)[30:]  # both arms alike: only the prior tells them apart
        return sum(a == "evolution" for a in picks) / len(picks)

    assert late_picks(False) >= 0.75
    assert 0.25 < late_picks(True) < 0.75  # faded after 30 tells at discount 0.8


def test_every_arm_learns_every_trial_and_the_choices_are_visible(space):
    task = ToyTask(space, seed=1)
    s = Search(space, task, strategy=Portfolio(["random", "evolution", "local"]), budget=30, seed=3,
               storage=":memory:").run()
    p = s.strategy
    assert all(arm.n_told_ == 30 for arm in p.arms_.values())
    assert [t.attrs["portfolio_arm"] for t in s.trials] == p.history_
    assert sum(p.arm_counts_.values()) == 30 and math.isclose(sum(p.shares_.values()), 1.0)
    assert "arm_counts={'random':" in repr(p)
    assert len({t.arch.id for t in s.trials}) == 30


def test_pending_trials_are_never_proposed_twice_and_tells_may_come_in_any_order(space):
    task = ToyTask(space, seed=1)
    p = Portfolio(["random", "evolution", "local"], bandit="ts").setup(space, seed=0)  # one reward per trial
    seen: set[str] = set()
    pending: list[Proposal] = []
    number = 0
    for round_ in range(15):
        while len(pending) < 4:
            asked = p.ask()
            assert asked.arch.id not in seen
            seen.add(asked.arch.id)
            pending.append(asked)
        done = pending.pop(round_ % len(pending))  # finish out of order
        p.tell(Trial(number, done.arch, TrialState.COMPLETE, task.evaluate(done.arch).value))
        number += 1
    assert len(p.rewards_) == 15


class _Short(RandomSearch):
    """Proposes three architectures, then says the space is exhausted."""

    alias = ""

    def _setup(self):
        self.n_asked_ = 0

    def _ask(self):
        if self.n_asked_ >= 3:
            raise SpaceExhausted("short")
        self.n_asked_ += 1
        return super()._ask()


def test_an_exhausted_arm_is_dropped_and_the_others_go_on(space):
    p = Portfolio([_Short(), "random"], prior={"_Short": 50}).setup(space, seed=0)
    arms = _drive(p, lambda i, arm: 1.0, 20)
    assert p.exhausted_ == {"_Short"}
    assert arms.count("_Short") == 3 and arms.count("random") == 17


def test_resume_rebuilds_the_portfolio_from_storage_and_replays_exactly(tmp_path, space):
    task = ToyTask(space, seed=2)
    strategy = Portfolio(["random", "evolution", "local"], prior={"local": 2.0}, bandit="ucb")
    full = Search(space, task, strategy=strategy.clone(), budget=30, seed=5, storage=":memory:").run()

    class Stop(Exception):
        pass

    def stop(search, trial):
        if trial.number == 11:
            raise Stop

    path = tmp_path / "pf.db"
    with pytest.raises(Stop):
        Search(space, task, strategy=strategy.clone(), budget=30, seed=5, storage=path, name="pf", callbacks=[stop]).run()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = load_search("pf", path, task=task, space=space).run()  # the strategy rebuilt from its stored config
    assert isinstance(resumed.strategy, Portfolio)
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
    assert resumed.strategy.history_ == full.strategy.history_
    assert [t.attrs["portfolio_arm"] for t in resumed.trials] == full.strategy.history_


@pytest.mark.slow
def test_resume_with_a_bo_arm_replays_without_fitting(tmp_path, space):
    # the one-pull bandits replay the stored history without asking the arms (the hedge re-asks them)
    task = ToyTask(space, seed=2)
    full = Search(space, task, strategy=Portfolio(["random", "bo"], bandit="ts"), budget=24, seed=5, storage=":memory:").run()

    class Stop(Exception):
        pass

    def stop(search, trial):
        if trial.number == 15:
            raise Stop

    path = tmp_path / "pfbo.db"
    with pytest.raises(Stop):
        Search(space, task, strategy=Portfolio(["random", "bo"], bandit="ts"), budget=24, seed=5, storage=path, name="b",
               callbacks=[stop]).run()
    search = load_search("b", path, task=task, space=space)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search.run()
    assert [t.arch.id for t in search.trials] == [t.arch.id for t in full.trials]
    bo = search.strategy.arms_["bo"]
    assert search.strategy.history_ == full.strategy.history_
    assert bo.n_fits_ < full.strategy.arms_["bo"].n_fits_  # the replayed asks were not refitted


def test_by_name_and_config_round_trip(space):
    p = get_strategy("portfolio", strategies=["random", RandomSearch(), "evolution"])
    p.setup(space, seed=0)
    assert list(p.arms_) == ["random", "random-2", "evolution"]
    cfg = p.to_config()
    assert cfg["params"]["strategies"][1] == RandomSearch().to_config()
    from nasbook.search._resume import rebuild_strategy

    again = rebuild_strategy(cfg).setup(space, seed=0)
    assert list(again.arms_) == ["random", "random-2", "evolution"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"strategies": []}, InvalidParameterError, "at least one strategy"),
        ({"strategies": "random"}, InvalidParameterTypeError, "list of strategy names"),
        ({"strategies": ["random", "nope"]}, InvalidParameterError, "nope"),
        ({"strategies": ["random", 42]}, InvalidParameterTypeError, "entry 1 must be a strategy name"),
        ({"strategies": ["random", "asha"]}, InvalidParameterError, "proposing strategy"),
        ({"discount": 0}, InvalidParameterError, r"discount=\.\.\.\) must be a number in \(0, 1\]"),
        ({"discount": 1.5}, InvalidParameterError, "discount"),
        ({"discount": float("nan")}, InvalidParameterError, "discount"),
        ({"discount": True}, InvalidParameterError, "discount"),
        ({"exploration": -1}, InvalidParameterError, "exploration"),
        ({"bandit": "epsilon"}, InvalidParameterError, "bandit"),
        ({"prior": {"nope": 1}}, InvalidParameterError, "prior"),
        ({"prior": {"random": -1}}, InvalidParameterError, "pseudo-wins"),
        ({"prior": [("random", 1)]}, InvalidParameterTypeError, "prior"),
    ],
)
def test_bad_input_is_a_nasbook_error(space, kwargs, error, match):
    params = {"strategies": ["random", "evolution"], **kwargs}
    with pytest.raises(error, match=match):
        Portfolio(**params).setup(space)


def test_a_non_strategy_object_is_refused_by_name(space):
    class NotAStrategy:
        pass

    with pytest.raises(InvalidParameterTypeError, match="NotAStrategy"):
        Portfolio([NotAStrategy()]).setup(space)
    assert isinstance(Portfolio(), BaseStrategy)


def test_portfolio_prior_counts_the_tasks_each_strategy_won():
    pd = pytest.importorskip("pandas")
    trials = pd.DataFrame({
        "task": ["a"] * 4 + ["b"] * 4 + ["c"] * 2,
        "search": [1, 1, 2, 2, 3, 3, 4, 4, 5, 6],
        "strategy": ["bo", "bo", "random", "random", "bo", "bo", "evolution", "evolution", "bo", "random"],
        "value": [0.9, 0.1, 0.5, 0.6, 2.0, 3.0, 1.0, 0.5, 0.4, 0.4],
        "mode": ["max"] * 4 + ["min"] * 4 + ["max"] * 2,
    })
    assert portfolio_prior(trials) == {"bo": 1.5, "evolution": 1.0, "random": 0.5}  # c is a tie: shared
    assert portfolio_prior(trials, budget=1)["bo"] == 1.5
    assert portfolio_prior(trials, arms=["random", "evolution"]) == {"random": 2.0, "evolution": 1.0}
    # several searches per strategy: the better mean of the searches' bests wins, not the luckiest search
    seeds = pd.DataFrame({"task": "d", "search": [1, 2, 3, 4, 5], "strategy": ["bo", "bo", "bo", "local", "local"],
                          "value": [0.9, 0.5, 0.5, 0.8, 0.8], "mode": "max"})
    assert portfolio_prior(seeds) == {"local": 1.0}
    prior = portfolio_prior(trials, arms=["bo", "random"])
    Portfolio(["bo", "random"], prior=prior).setup(GraphSpace(ops=PROTEINS_OPS))
    with pytest.raises(InvalidParameterError, match="missing"):
        portfolio_prior(trials.drop(columns="mode"))
    with pytest.raises(InvalidParameterTypeError, match="DataFrame"):
        portfolio_prior({"task": []})  # type: ignore[arg-type]
