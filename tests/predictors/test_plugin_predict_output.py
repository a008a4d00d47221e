"""A predictor of one's own whose ``_predict`` breaks its contract (``(mean, std)``, one value per row, a finite
mean) is refused with a nasbook error naming ``_predict`` (outside probe 6a): the mean alone raised numpy's
"too many values to unpack", a row too few a broadcasting ValueError, and a NaN mean came back as predictions."""

from __future__ import annotations

import numpy as np
import pytest

from nasbook import NasbookError
from nasbook.predictors import BasePredictor
from nasbook.space import CellSpace
from nasbook.strategies import BO
from nasbook.testing import ToyTask

SPACE = CellSpace(ops=("none", "skip_connect", "nor_conv_3x3"))
ARCHS = SPACE.enumerate()[:40]
Y = np.array([ToyTask(SPACE).evaluate(a).value for a in ARCHS])


class Mean(BasePredictor):
    """The mean of the training scores, with their spread."""

    def __init__(self, features="auto", target="rank", calibration="cv", seed=None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)

    def _fit(self, X, z):
        self.m_, self.s_ = float(np.mean(z)), float(np.std(z)) + 1e-3

    def _predict(self, X):
        return np.full(len(X), self.m_) + 1e-3 * X.sum(axis=1), np.full(len(X), self.s_)


class MeanAlone(Mean):
    def _predict(self, X):
        return super()._predict(X)[0]


class RowShort(Mean):
    def _predict(self, X):
        m, s = super()._predict(X)
        return m[:-1], s[:-1]


class NaNMean(Mean):
    def _predict(self, X):
        m, s = super()._predict(X)
        return np.full_like(m, np.nan), s


def test_a_good_plugin_predicts():
    ds = Mean(seed=0).fit(ARCHS[:30], Y[:30]).predict(ARCHS[30:])
    assert ds.sizes["arch"] == 10 and np.isfinite(ds["mean"].values).all()


@pytest.mark.parametrize("cls, says", [(MeanAlone, r"MeanAlone\._predict\(X\) must return \(mean, std\)"),
                                       (RowShort, r"RowShort\._predict\(X\) must return \(mean, std\) of shape")])
def test_a_wrong_answer_is_refused_at_fit_naming_predict(cls, says):
    with pytest.raises(NasbookError, match=says):
        cls(seed=0).fit(ARCHS[:30], Y[:30])  # the calibration's cross-validation asks _predict first


@pytest.mark.parametrize("cls", [MeanAlone, RowShort])
def test_a_wrong_answer_is_refused_at_predict_without_calibration(cls):
    p = cls(calibration="none", seed=0).fit(ARCHS[:30], Y[:30])
    with pytest.raises(NasbookError, match=r"_predict\(X\) must return"):
        p.predict(ARCHS[30:])
    with pytest.raises(NasbookError, match=r"_predict\(X\) must return"):
        p.predict_latent(ARCHS[30:])


def test_a_nan_mean_is_refused_not_returned():
    p = NaNMean(seed=0).fit(ARCHS[:30], Y[:30])
    with pytest.raises(NasbookError, match=r"NaNMean\._predict\(X\) returned a mean that is not finite for 10 of 10"):
        p.predict(ARCHS[30:])


def test_bo_with_such_a_surrogate_stops_with_the_error():
    import nasbook

    search = nasbook.Search(SPACE, ToyTask(SPACE), strategy=BO(predictor=MeanAlone(), n_initial=5), budget=8, seed=0,
                            storage=":memory:")
    with pytest.raises(NasbookError, match=r"MeanAlone\._predict\(X\) must return"):
        search.run(progress="none")
    assert search.n_trials >= 5  # the random start is kept
