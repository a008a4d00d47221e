"""BO's output warping (``warp=...``): contract, the warps themselves, changed proposals, exact resume, errors."""


import numpy as np
import pytest
from bo_helpers import cheap, cut_and_resume

from nasbook._errors import InvalidParameterError
from nasbook.space import PROTEINS_OPS, ChainSpace, GraphSpace
from nasbook.strategies import BO
from nasbook.strategies._bo_warp import DELTA_QUANTILE, warp_scores
from nasbook.testing import StrategyContract
from nasbook.testing._toy import ToyTask
from nasbook.trial import Trial, TrialState

SPACE = GraphSpace(ops=PROTEINS_OPS)


class TestBOWarpLog(StrategyContract):
    n_trials = 30

    @pytest.fixture
    def strategy(self):
        return cheap(warp="log")


class TestBOWarpBoxCoxOnChains(StrategyContract):  # not enumerated: the pool
    n_trials = 20

    @pytest.fixture
    def space(self):
        return ChainSpace(kind="mlp", max_depth=3)

    @pytest.fixture
    def strategy(self):
        return cheap(warp="boxcox", candidates="pool", n_candidates=60)


def _run(strategy, n, task, seed=0):
    s = strategy.setup(SPACE, seed=seed)
    for i in range(n):
        a = s.ask()
        s.tell(Trial(i, a, TrialState.COMPLETE, task.evaluate(a).value))
    return s


@pytest.mark.parametrize("kind", ["log", "boxcox"])
def test_warps_are_increasing_and_stretch_the_top(kind):
    rng = np.random.default_rng(0)
    y = np.concatenate([0.8 - rng.exponential(0.02, 60), rng.uniform(0.1, 0.5, 10)])  # a long lower tail
    w = warp_scores(y, kind)
    order = np.argsort(y)
    assert np.all(np.diff(w[order]) > 0)  # strictly increasing in the score
    # the gap between the two best is wider, relative to the whole range, than in the raw scores
    top2 = np.sort(y)[-2:]
    wt = np.sort(w)[-2:]
    assert (wt[1] - wt[0]) / np.ptp(w) > 5 * (top2[1] - top2[0]) / np.ptp(y)


def test_log_warp_is_the_log_regret_with_the_quantile_offset_and_scale_free():
    y = np.array([0.9, 0.85, 0.8, 0.5, 0.2, 0.9])
    u = 0.9 - y
    delta = np.quantile(u[u > 0], DELTA_QUANTILE)
    # the scores are divided by their largest magnitude first: a shift of the log only
    np.testing.assert_allclose(warp_scores(y, "log"), -np.log((u + delta) / 0.9))
    a, b = warp_scores(y, "log"), warp_scores(100 * y + 3, "log")
    np.testing.assert_allclose(a - a.mean(), b - b.mean(), atol=1e-12)  # units and offset do not matter
    np.testing.assert_array_equal(warp_scores(y, "none"), y)


def test_extreme_scores_stay_finite():
    for kind in ("log", "boxcox"):
        assert np.isfinite(warp_scores([1e300, -1e300, 0.0, 5.0], kind)).all()
        assert np.isfinite(warp_scores([1.0, 2.0], kind)).all()


def test_warp_changes_proposals_and_fits_a_standard_target():
    task = ToyTask(SPACE, seed=3)
    base = _run(cheap(), 25, task)
    logs = _run(cheap(warp="log"), 25, task)
    box = _run(cheap(warp="boxcox"), 25, task)
    ids = [x.id for x, _ in base._told]
    assert [x.id for x, _ in logs._told][:5] == ids[:5]  # the same random design
    assert [x.id for x, _ in logs._told] != ids
    assert [x.id for x, _ in box._told] != ids
    assert logs.predictor_.target == "standard" and base.predictor_.target == "rank"
    # the surrogate learned the warped scores: its mean at the best told is far above the others
    told = [a for a, _ in logs._told]
    w = warp_scores([s for _, s in logs._told], "log")
    mean, _ = logs.predictor_.predict_mean_std(told)
    assert np.corrcoef(mean, w)[0, 1] > 0.5


def test_resume_with_warp_is_exact(tmp_path):
    full, resumed = cut_and_resume(tmp_path, SPACE, lambda: cheap(warp="boxcox"), budget=20, stop_at=11)  # after some model-based asks
    assert resumed.strategy.warp == "boxcox"
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]


@pytest.mark.parametrize("bad", ["logit", "", None, 1, "LOG"])
def test_bad_warp_names_itself(bad):
    with pytest.raises(InvalidParameterError, match=r"warp"):
        BO(warp=bad).setup(SPACE, seed=0)
