"""Portfolio seeding: an arm gets the Portfolio's seed, so a one-arm Portfolio is exactly its arm and
an arm inside a Portfolio starts on the stream it has alone; repeats of a class get streams of their own."""

from __future__ import annotations

import pytest
from bo_helpers import cheap

import nasbook
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import Portfolio, RandomSearch
from nasbook.testing._toy import ToyTask
from nasbook.trial import Trial, TrialState


@pytest.fixture(scope="module")
def cora():
    from nasbook.tasks import NasBenchGraph

    return NasBenchGraph("cora")


def _trials(task, strategy, seed=3, budget=20):
    search = nasbook.Search(task, strategy=strategy, budget=budget, seed=seed, storage=":memory:").run(progress="none")
    return [t.arch.id for t in search.trials], search.strategy


@pytest.mark.parametrize("bandit", ["ts", "hedge"])
@pytest.mark.parametrize("arm", ["bo", "evolution", "random"])
def test_a_one_arm_portfolio_proposes_exactly_what_its_arm_proposes_alone(cora, arm, bandit):
    def make():
        return cheap() if arm == "bo" else arm

    alone, _ = _trials(cora, make())
    inside, pf = _trials(cora, Portfolio([make()], bandit=bandit))
    assert inside == alone
    assert len(set(alone)) == 20
    assert pf.arms_[arm].seed_ == 3 and pf.history_ == [arm] * 20


@pytest.mark.parametrize("bandit", ["ts", "hedge"])
def test_other_arms_asking_and_withdrawing_leave_bo_as_it_is_alone(cora, bandit):
    # every pick goes to bo (a prior of a million pseudo-wins): with "hedge" the other three arms still
    # nominate at every ask and are withdrawn; none of that may change what bo proposes
    alone, _ = _trials(cora, cheap(), budget=25)
    prior = {"bo": 1e6}
    inside, pf = _trials(cora, Portfolio(["random", "evolution", "local", cheap()], bandit=bandit, prior=prior), budget=25)
    assert pf.arm_counts_["bo"] == 25
    assert inside == alone


def test_repeats_of_a_class_get_distinct_streams_and_other_classes_the_seed():
    space = GraphSpace(ops=PROTEINS_OPS)
    pf = Portfolio(["random", "evolution", cheap(), RandomSearch(), cheap(acquisition="ucb"), "random"]).setup(space, seed=5)
    seeds = {name: arm.seed_ for name, arm in pf.arms_.items()}
    assert seeds["random"] == seeds["evolution"] == seeds["bo"] == 5
    repeats = [seeds["random-2"], seeds["bo-2"], seeds["random-3"]]
    assert 5 not in repeats and len(set(repeats)) == 2 and seeds["random-2"] == seeds["bo-2"]
    firsts = [pf.arms_[n].ask().id for n in ("random", "random-2", "random-3")]
    assert len(set(firsts)) == 3  # three random arms, three different first draws
    again = Portfolio(["random", "evolution", cheap(), RandomSearch(), cheap(acquisition="ucb"), "random"]).setup(space, seed=5)
    assert {n: a.seed_ for n, a in again.arms_.items()} == seeds  # a function of the seed: resume rebuilds the same


def test_an_arm_with_its_own_seed_keeps_it_and_without_a_seed_arms_draw_theirs():
    space = GraphSpace(ops=PROTEINS_OPS)
    pf = Portfolio([RandomSearch(seed=11), "evolution"]).setup(space, seed=5)
    assert pf.arms_["random"].seed_ == 11 and pf.arms_["evolution"].seed_ == 5
    unseeded = [Portfolio(["random", "random"]).setup(space) for _ in range(2)]
    drawn = [a.seed_ for p in unseeded for a in p.arms_.values()]
    assert all(isinstance(s, int) for s in drawn) and len(set(drawn)) == 4


def test_hedge_arms_nominating_the_same_architecture_evaluate_it_once():
    # random and evolution share the seed: in the initial phase they nominate the same architecture
    space = GraphSpace(ops=PROTEINS_OPS)
    task = ToyTask(space, seed=3)
    pf = Portfolio(["random", "evolution", cheap()], bandit="hedge").setup(space, seed=0)
    values: dict[str, float] = {}
    same = 0
    for i in range(30):
        prop = pf.ask()
        nominees = pf._hedge_last
        same += nominees["random"].id == nominees["evolution"].id
        assert prop.arch.id not in values  # never evaluated twice
        for name, arch in nominees.items():  # the chosen architecture stays proposed in every arm that nominated it
            assert (arch.id in pf.arms_[name].seen_) == (arch.id == prop.arch.id)
        values[prop.arch.id] = task.evaluate(prop.arch).value
        pf.tell(Trial(i, prop.arch, TrialState.COMPLETE, values[prop.arch.id]))
    assert same >= 10  # the shared initial samples do coincide
    for arm in pf.arms_.values():  # and every arm knows exactly what was evaluated
        assert arm.seen_ == set(values)
    assert {arm for _, arm, _ in pf.rewards_} == {"random", "evolution", "bo"}
