"""ASHA(rank_by="blend") under CurveStopping with a prior: a rung ranks by the prediction's rank blended with
the observed value's, weighted by how well each ranks the prior's own curves at that epoch."""

import numpy as np
import pytest

import nasbook
from nasbook.predictors import LearnedCurves
from nasbook.search import Budget
from nasbook.strategies import ASHA, CurveStopping
from nasbook.tasks import MNIST1DTable


@pytest.fixture(scope="module")
def table():
    task = MNIST1DTable()
    rows = np.arange(0, len(task.space.enumerate()), 2)
    graf = np.asarray(task.space.encode_many(list(task.space.enumerate()), "graf"), dtype=np.float64)
    covs = {c: task.curve(c)[rows] for c in ("val_loss", "train_loss")}
    return task, LearnedCurves().fit(task.curve("val_accuracy")[rows], covs, features=graf[rows])


def _rule(prior, rank_by="blend"):
    return CurveStopping(base=ASHA(min_epochs=1, max_epochs=15, eta=3, rank_by=rank_by), predictor=prior,
                         features="graf", prior_quantile=0.9)


def test_value_weight_follows_how_well_the_value_ranks_the_priors_curves(table):
    task, prior = table
    rule = _rule(prior)
    nasbook.Search(task, strategy=rule, budget=Budget(epochs=20), seed=3, storage=":memory:").run(progress="none")
    w1, w9 = rule.value_weight(1, 15), rule.value_weight(9, 15)
    # on MNIST-1D the first epoch's value ranks the final below chance (fast MLPs end worst): weight 0;
    # by epoch 9 of 15 the value ranks it well and gets a real share
    assert w1 == 0.0
    assert 0.2 < w9 < 0.8
    assert rule.value_weight(9, 15) is w9 or rule.value_weight(9, 15) == w9  # cached
    no_prior = CurveStopping(base=ASHA(max_epochs=15, rank_by="blend"), predictor="last-value")
    nasbook.Search(task, strategy=no_prior, budget=Budget(epochs=6), seed=3, storage=":memory:").run(progress="none")
    assert no_prior.value_weight(3, 15) is None


def test_rungs_rank_by_the_weighted_ranks(table):
    task, prior = table
    rule = _rule(prior)
    s = nasbook.Search(task, strategy=rule, budget=Budget(epochs=90), seed=4, storage=":memory:").run(progress="none")
    asha = rule.base_
    second = asha.results_[1]  # the 3-epoch rung
    assert len(second) >= 3
    trials = {t.number: t for t in s.trials}
    ids = list(second)
    pred = np.array([trials[second[a][1]].attrs["predicted_final"] for a in ids])
    value = np.array([trials[second[a][1]].value for a in ids])
    at = [trials[second[a][1]].attrs["predicted_at_epoch"] for a in ids]  # 3, or fewer for a pruned promotion
    recorded = [trials[second[a][1]].attrs.get("predicted_value_weight") for a in ids]
    # a weight is recorded at a rung's epoch only; a pruned promotion (no weight) ranks by its prediction alone
    assert recorded == [rule.value_weight(3, 15) if e == 3 else None for e in at] and 3 in at
    w = np.array([0.0 if r is None else r for r in recorded])
    from scipy.stats import rankdata

    want = (1 - w) * rankdata(pred) + w * rankdata(value)
    got = [a for a, _ in asha._ranked(second)]
    assert [want[ids.index(a)] for a in got] == sorted(want, reverse=True)
    # and it is not the prediction's order alone whenever the two disagree
    if (w > 0).any() and list(np.argsort(-pred, kind="stable")) != list(np.argsort(-want, kind="stable")):
        assert [ids.index(a) for a in got] != list(np.argsort(-pred, kind="stable"))


def test_blend_without_weights_ranks_as_prediction(table):
    task, prior = table
    runs = {}
    for rank_by in ("prediction", "blend"):
        rule = CurveStopping(base=ASHA(min_epochs=1, max_epochs=15, eta=3, rank_by=rank_by), predictor=prior.clone()
                             .fit(task.curve("val_accuracy")[::2]), prior_quantile=0.9)
        # a prior without covariates and features still weighs: compare against prediction on the first rung only
        s = nasbook.Search(task, strategy=rule, budget=Budget(epochs=12), seed=6, storage=":memory:").run(progress="none")
        runs[rank_by] = [(t.arch.id, t.epochs) for t in s.trials]
    assert runs["prediction"][:6] == runs["blend"][:6]
