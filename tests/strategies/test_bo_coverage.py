"""BO's coverage options: the k-means initial design, the far-from-told exploration asks, and
``recommend()`` (contract, exact resume, behaviour, errors)."""


import numpy as np
import pytest
from bo_helpers import cheap, cut_and_resume

from nasbook._errors import InvalidParameterError
from nasbook.space import PROTEINS_OPS, ChainSpace, GraphSpace
from nasbook.strategies import BO
from nasbook.testing import StrategyContract
from nasbook.testing._toy import ToyTask
from nasbook.trial import Trial, TrialState

SPACE = GraphSpace(ops=PROTEINS_OPS)


class TestBOKMeansExplore(StrategyContract):
    n_trials = 30

    @pytest.fixture
    def strategy(self):
        return cheap(init="kmeans", explore_every=2)


class TestBOKMeansExploreOnChains(StrategyContract):  # not enumerated: the design clusters a sample
    n_trials = 20

    @pytest.fixture
    def space(self):
        return ChainSpace(kind="mlp", max_depth=3)

    @pytest.fixture
    def strategy(self):
        return cheap(init="kmeans", explore_every=3, candidates="pool", n_candidates=60)


def _run(strategy, n, task, seed=0):
    s = strategy.setup(SPACE, seed=seed)
    for i in range(n):
        a = s.ask()
        s.tell(Trial(i, a, TrialState.COMPLETE, task.evaluate(a).value))
    return s


def test_the_initial_design_is_the_kmeans_representatives_in_order():
    task = ToyTask(SPACE, seed=3)
    s = _run(cheap(init="kmeans", n_initial=6), 6, task)
    asked = [a.id for a, _ in s._told]
    assert asked == [a.id for a in s._design] and len(set(asked)) == 6
    assert s.n_fits_ == 0
    # one representative per cluster: the design differs from a seeded random one and is a function of the seed
    again = _run(cheap(init="kmeans", n_initial=6), 6, task)
    assert [a.id for a, _ in again._told] == asked
    other = _run(cheap(n_initial=6), 6, task)
    assert [a.id for a, _ in other._told] != asked


def test_exploration_asks_come_from_the_far_half():
    from nasbook.strategies._bo_design import far_mask

    task = ToyTask(SPACE, seed=3)
    s = _run(cheap(explore_every=2), 9, task)
    model = s._template.clone()
    model.fit([a for a, _ in s._told], [v for _, v in s._told], space=SPACE)
    s.n_asked_ = 9  # the next ask is the 10th: an exploration ask
    cands, X = s._candidates(model, np.random.default_rng(0))
    told_X = model._encode([a for a, _ in s._told])
    far = far_mask(X, told_X, X.std(axis=0), 0.5)
    kept, _ = s._far(cands, X, model)
    assert 0 < len(kept) < len(cands) and {a.id for a in kept} == {cands[i].id for i in np.flatnonzero(far)}
    arch = s.ask()
    assert arch.id in {a.id for a in kept}


def test_resume_with_design_and_exploration_is_exact(tmp_path):
    full, resumed = cut_and_resume(tmp_path, SPACE, lambda: cheap(init="kmeans", explore_every=3), budget=24, stop_at=3)  # inside the initial design
    assert resumed.strategy.init == "kmeans" and resumed.strategy.explore_every == 3
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]


def test_recommend_is_a_told_architecture_with_the_best_fitted_mean():
    task = ToyTask(SPACE, seed=3)
    s = cheap(n_initial=3).setup(SPACE, seed=0)
    assert s.recommend() is None
    s = _run(cheap(n_initial=3), 15, task)
    rec = s.recommend()
    archs = [a for a, _ in s._told]
    assert rec.id in {a.id for a in archs}
    model = s._template.clone()
    model.seed = 0
    mean, _ = model.fit(archs, [v for _, v in s._told], space=SPACE).predict_mean_std(archs)
    assert mean[[a.id for a in archs].index(rec.id)] == pytest.approx(mean.max())
    assert s.recommend().id == rec.id  # deterministic


@pytest.mark.parametrize(("params", "match"), [
    ({"init": "sobol"}, r"BO\(init=\.\.\.\).*'kmeans', 'random'"),
    ({"explore_every": -1}, r"explore_every"),
    ({"explore_every": 1.5}, r"explore_every"),
    ({"explore_quantile": 1.0}, r"BO\(explore_quantile=\.\.\.\).*\[0, 1\)"),
    ({"explore_quantile": "half"}, r"explore_quantile"),
])
def test_bad_coverage_parameters_name_themselves(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        BO(**params).setup(SPACE, seed=0)
