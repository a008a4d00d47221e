"""Every built-in predictor passes PredictorContract, and the contract catches broken ones."""

from __future__ import annotations

from importlib.util import find_spec

import numpy as np
import pytest

from nasbook.predictors import Ensemble, ExtraTrees, GaussianProcess, GradientBoosting, Predictor, RandomForest
from nasbook.testing import PredictorContract
from nasbook.testing._predictor_contract import contract_data


class TestGaussianProcess(PredictorContract):
    @pytest.fixture
    def predictor(self):
        return GaussianProcess(seed=0)


class TestRandomForest(PredictorContract):
    @pytest.fixture
    def predictor(self):
        return RandomForest(n_estimators=40, seed=0)


class TestExtraTrees(PredictorContract):
    @pytest.fixture
    def predictor(self):
        return ExtraTrees(n_estimators=40, seed=0)


class TestGradientBoosting(PredictorContract):
    @pytest.fixture
    def predictor(self):
        return GradientBoosting(max_iter=25, seed=0)


@pytest.mark.slow
@pytest.mark.skipif(find_spec("torch") is None, reason="the MLP ensemble needs torch")
class TestMLPEnsemble(PredictorContract):
    @pytest.fixture
    def predictor(self):
        from nasbook.predictors import MLPEnsemble

        return MLPEnsemble(epochs=150, seed=0)


@pytest.mark.slow
class TestDefaultPredictor(PredictorContract):
    @pytest.fixture
    def predictor(self):
        return Predictor(model=Ensemble([GaussianProcess(), ExtraTrees(n_estimators=40), GradientBoosting(max_iter=60)]), seed=0)


# -- the contract can fail ----------------------------------------------------------------------------
class _NanSpread(RandomForest):
    def _predict(self, X):
        mean, std = super()._predict(X)
        return mean, np.where(np.arange(len(X)) % 2, std, np.nan)


class _Unseeded(RandomForest):
    def _fit(self, X, z):
        self.seed = None
        super()._fit(X, z)


class _Constant(RandomForest):
    def _predict(self, X):
        return np.zeros(len(X)), np.ones(len(X))


class _OwnScaling(RandomForest):
    """Maps its spread back to scores itself, past the base class's floor: equal scores give std 0."""

    def _predict_features(self, X):
        mean, std = self._predict(X)
        return self._inverse(mean), std * self.y_scale_


class _OrderDependent(RandomForest):
    def _predict(self, X):
        mean, std = super()._predict(X)
        return mean + np.arange(len(X)) * 1e-3, std


class _FitsOnce(RandomForest):
    """Keeps its first fit: a refit on new data (a notebook's second fit) silently predicts from the old one."""

    def _fit(self, X, z):
        if not hasattr(self, "forest_once_"):
            super()._fit(X, z)
            self.forest_once_ = True


class _HiddenDepth(RandomForest):
    """Keeps its own argument as ``self._depth``: a clone (BO refits clones) silently has the default."""

    def __init__(self, depth=3, n_estimators=100, seed=None):
        super().__init__(n_estimators=n_estimators, seed=seed)
        self._depth = depth


@pytest.mark.parametrize(
    ("broken", "check"),
    [
        (_HiddenDepth, "test_fit_returns_self_and_sets_learned_state"),
        (_FitsOnce, "test_refit_forgets_the_first_fit"),
        (_NanSpread, "test_predict_gives_mean_and_std_over_arch"),
        (_Unseeded, "test_same_seed_same_predictions"),
        (_Constant, "test_it_learns"),
        (_OrderDependent, "test_predict_gives_mean_and_std_over_arch"),
        (_OwnScaling, "test_scores_with_no_spread_give_a_positive_spread_and_one_warning"),
    ],
)
def test_the_contract_catches_broken_predictors(broken, check):
    contract = PredictorContract()
    data = contract_data(contract.n_train)
    predictor = broken(n_estimators=20, seed=0)
    with pytest.raises(AssertionError):
        getattr(contract, check)(predictor, data)
