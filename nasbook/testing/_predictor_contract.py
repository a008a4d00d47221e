"""The contract every predictor passes (like scikit-learn's estimator checks)."""

from __future__ import annotations

import functools
import math
import pickle
from typing import Any

import numpy as np
import pytest

from nasbook._errors import InvalidArchitectureError, InvalidParameterError, NasbookWarning, NotFittedError
from nasbook.predictors import BasePredictor, kendall_tau
from nasbook.space import Architecture, CellSpace, GraphSpace
from nasbook.testing._params_check import assert_constructor_arguments_kept


def _signal(arch: Architecture) -> float:
    """A score a graph's encodings determine: op counts with fixed weights."""
    weights = {"gcn": 1.0, "gat": 0.6, "sage": 0.3, "fc": -0.8, "skip": -0.4}
    return float(sum(weights.get(o, 0.0) for o in arch["ops"]) + 0.2 * len(set(arch["link"])))


_SPACE = GraphSpace()  # one space for every cached architecture (each keeps the space that made it)


@functools.cache
def contract_data(n_train: int) -> tuple[list[Architecture], np.ndarray]:
    """``n_train + 300`` NAS-Bench-Graph architectures spread over the space, and their scores."""
    archs = _SPACE.enumerate()[::29][: n_train + 300]
    return archs, np.array([_signal(a) for a in archs])


class PredictorContract:
    """Subclass and provide a ``predictor`` fixture (an unfitted :class:`~nasbook.predictors.BasePredictor`,
    seeded); every ``test_*`` method checks one promise:

    - ``fit`` returns self and sets ``n_train_``, ``features_``, ``feature_versions_``; learned
      state ends in ``_``; ``clone()`` is unfitted and has the same parameters;
    - ``predict`` returns an xarray Dataset with finite ``mean`` and non-negative ``std`` over dim
      ``arch`` (ids as coordinates), agreeing with ``predict_mean_std`` and in the same order;
    - it learns: on a score the encodings determine, Kendall tau on held-out architectures
      exceeds ``min_tau`` (0.5) from ``n_train`` (150) architectures;
    - it is a function of its seed: two fits with one seed predict the same numbers;
    - a second ``fit`` forgets the first: refitted, it predicts what a fresh fit on the second
      data predicts (BO and ``evaluate`` refit one instance's clones, a notebook refits in place);
    - scores' direction and scale do not matter: fitting ``a * y + b`` (``a > 0``) ranks alike;
    - scores with no spread (all equal) give one NasbookWarning and a finite, positive std everywhere,
      in the scores' units and in the latent ones (an interval, a likelihood, an acquisition stay defined);
    - it pickles, fitted, and predicts the same after unpickling;
    - use before ``fit`` raises NotFittedError; architectures of another space raise
      InvalidArchitectureError; fewer than two architectures, or NaN scores, InvalidParameterError.
    """

    n_train: int = 150
    min_tau: float = 0.5

    @pytest.fixture
    def predictor(self) -> BasePredictor:  # pragma: no cover - provided by subclasses
        raise NotImplementedError("subclass PredictorContract and provide a 'predictor' fixture")

    @pytest.fixture
    def data(self) -> tuple[list[Architecture], np.ndarray]:
        return contract_data(self.n_train)

    def _fit(self, predictor: BasePredictor, data: Any) -> BasePredictor:
        archs, y = data
        return predictor.fit(archs[: self.n_train], y[: self.n_train])

    def test_fit_returns_self_and_sets_learned_state(self, predictor: BasePredictor, data: Any) -> None:
        assert_constructor_arguments_kept(predictor)
        params = predictor.get_params()
        fitted = self._fit(predictor, data)
        assert fitted is predictor
        assert predictor.n_train_ == self.n_train
        assert predictor.features_ and len(predictor.feature_versions_) == len(predictor.features_)
        assert predictor.get_params() == params, "fit must not change the constructor parameters"
        fresh = predictor.clone()
        assert not hasattr(fresh, "n_train_") and fresh.get_params().keys() == params.keys()

    def test_predict_gives_mean_and_std_over_arch(self, predictor: BasePredictor, data: Any) -> None:
        archs, _ = data
        self._fit(predictor, data)
        test = archs[self.n_train : self.n_train + 40]
        ds = predictor.predict(test)
        assert ds["mean"].dims == ("arch",) and ds["std"].dims == ("arch",)
        assert list(ds["arch"].values) == [a.id for a in test]
        assert np.all(np.isfinite(ds["mean"].values)) and np.all(np.isfinite(ds["std"].values))
        assert np.all(ds["std"].values >= 0), "a spread is never negative"
        mean, std = predictor.predict_mean_std(test)
        np.testing.assert_allclose(ds["mean"].values, mean)
        np.testing.assert_allclose(ds["std"].values, std)
        rev_mean, _ = predictor.predict_mean_std(test[::-1])
        np.testing.assert_allclose(rev_mean[::-1], mean, rtol=1e-9, atol=1e-12)

    def test_it_learns(self, predictor: BasePredictor, data: Any) -> None:
        archs, y = data
        self._fit(predictor, data)
        mean, _ = predictor.predict_mean_std(archs[self.n_train :])
        tau = kendall_tau(y[self.n_train :], mean)
        assert tau > self.min_tau, f"Kendall tau {tau:.3f} on a score the encodings determine"

    def test_same_seed_same_predictions(self, predictor: BasePredictor, data: Any) -> None:
        archs, _ = data
        twin = predictor.clone()
        a = self._fit(predictor, data).predict_mean_std(archs[-30:])
        b = self._fit(twin, data).predict_mean_std(archs[-30:])
        np.testing.assert_allclose(a[0], b[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-9, atol=1e-12)

    def test_refit_forgets_the_first_fit(self, predictor: BasePredictor, data: Any) -> None:
        archs, y = data
        n = self.n_train
        fresh = predictor.clone().fit(archs[n:], -y[n:])
        predictor.fit(archs[:n], y[:n]).fit(archs[n:], -y[n:])
        assert predictor.n_train_ == len(archs) - n
        for got, want in zip(predictor.predict_mean_std(archs[:30]), fresh.predict_mean_std(archs[:30])):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12,
                                       err_msg="a refitted predictor must predict what a fresh fit on the new data does")

    def test_scale_and_shift_of_scores_do_not_change_the_ranking(self, predictor: BasePredictor, data: Any) -> None:
        archs, y = data
        n = self.n_train
        twin = predictor.clone()
        a, _ = predictor.fit(archs[:n], y[:n]).predict_mean_std(archs[n:])
        b, _ = twin.fit(archs[:n], 1000.0 * y[:n] - 7.0).predict_mean_std(archs[n:])
        assert kendall_tau(a, b) > 0.95

    def test_scores_with_no_spread_give_a_positive_spread_and_one_warning(self, predictor: BasePredictor,
                                                                          data: Any) -> None:
        archs, _ = data
        with pytest.warns(NasbookWarning, match="no spread") as caught:
            predictor.fit(archs[:12], [0.5] * 12)
        assert sum(issubclass(w.category, NasbookWarning) for w in caught) == 1
        for mean, std in (predictor.predict_mean_std(archs[-20:]), predictor.predict_latent(archs[-20:])):
            assert np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()

    def test_pickles_fitted(self, predictor: BasePredictor, data: Any) -> None:
        archs, _ = data
        self._fit(predictor, data)
        clone = pickle.loads(pickle.dumps(predictor))
        np.testing.assert_allclose(clone.predict_mean_std(archs[-20:])[0], predictor.predict_mean_std(archs[-20:])[0])

    def test_bad_input(self, predictor: BasePredictor, data: Any) -> None:
        archs, y = data
        with pytest.raises(NotFittedError):
            predictor.predict(archs[:3])
        with pytest.raises(InvalidParameterError):
            predictor.fit(archs[:1], y[:1])
        with pytest.raises(InvalidParameterError):
            predictor.fit(archs[:4], [1.0, math.nan, 2.0, 3.0])
        self._fit(predictor, data)
        other = CellSpace().sample(np.random.default_rng(0))
        with pytest.raises(InvalidArchitectureError):
            predictor.predict([other])
