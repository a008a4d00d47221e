"""Audit of the predictor as a paper's methods would use it: architectures given more than once in the
training set keep a calibrated spread, and scikit-learn's parameter protocol (``sklearn.base.clone``,
``get_params(deep=True)``, ``set_params``) works.

Both need a change to ``nasbook/predictors/_base.py`` (held by another engineer while it is split): until
it is applied these tests are expected to fail (strict xfail, so the fix turns them into failures to unmark).
"""

from __future__ import annotations

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError
from nasbook.predictors import ExtraTrees, GaussianProcess, Predictor
from nasbook.space import GraphSpace


def _score(arch):
    ops = list(arch["ops"])
    return ops.count("gcn") - 0.5 * ops.count("fc") + 0.1 * len(set(arch["link"]))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    space = GraphSpace()  # held here: a predictor finds the architectures' space in memory
    archs = space.enumerate()[::29][:400]
    y = np.array([_score(a) for a in archs]) + rng.normal(0, 0.3, len(archs))
    return archs, y, space


@pytest.mark.parametrize("make", [lambda: ExtraTrees(n_estimators=30, seed=0), lambda: GaussianProcess(seed=0)],
                         ids=["extra-trees", "gp"])
def test_repeated_architectures_keep_a_calibrated_spread(data, make):
    # two searches of one task, concatenated: every architecture twice. The cross-validation that calibrates
    # the spread must keep both copies in one fold, else each is predicted out of fold by its twin at no error
    # and the spread shrinks to nothing (coverage of the 68% interval fell from 0.6-0.8 to 0.0 on NAS-Bench-Graph)
    archs, y, _ = data
    once = make().fit(archs[:40], y[:40])
    twice = make().fit(archs[:40] * 2, np.tile(y[:40], 2))
    std_once = once.predict_mean_std(archs[40:])[1]
    std_twice = twice.predict_mean_std(archs[40:])[1]
    assert np.median(std_twice) > 0.5 * np.median(std_once), (np.median(std_twice), np.median(std_once))
    twice.score(archs[40:], y[40:])
    assert twice.scores_["coverage_68"] > 0.4, twice.scores_


def test_same_seed_same_calibration(data):
    # the folds (grouped by architecture or not) come from the seed alone: a refit gives the same factors
    archs, y, _ = data
    p = GaussianProcess(seed=3).fit(archs[:40], y[:40])
    assert p.std_scale_ > 0 and np.isfinite(p.std_scale_)
    q = GaussianProcess(seed=3).fit(archs[:40], y[:40])
    assert (p.std_scale_, p.score_std_scale_) == (q.std_scale_, q.score_std_scale_)


def test_sklearn_clone_and_set_params():
    sklearn_base = pytest.importorskip("sklearn.base")
    p = Predictor(model=GaussianProcess(nu=1.5), seed=3)
    c = sklearn_base.clone(p)
    assert type(c) is Predictor and c.get_params()["seed"] == 3 and c.model is not p.model
    assert c.model.get_params() == p.model.get_params() and not hasattr(c, "n_train_")
    deep = p.get_params(deep=True)
    assert deep["model__nu"] == 1.5 and "model" in deep
    assert p.set_params(seed=4, model__nu=2.5) is p
    assert p.seed == 4 and p.model.nu == 2.5
    with pytest.raises(InvalidParameterError, match="did you mean 'seed'"):
        p.set_params(sed=1)
    with pytest.raises(InvalidParameterError, match="model__seed"):
        Predictor().set_params(model__seed=1)  # model="auto" is a name, not an object with parameters
    assert Predictor(**Predictor(model="gp", seed=5).get_params()).get_params() == Predictor(model="gp", seed=5).get_params()
