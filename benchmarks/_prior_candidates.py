"""Candidate transfer-prior predictors probed by prior_probe.py (issue 11, round 3)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from nasbook.predictors import ExtraTrees, PriorPredictor, RandomForest, kendall_tau


class _Soft(PriorPredictor):
    """Agreement weights smoothed towards the fixed average: max(tau, 0) + c."""

    _c: ClassVar[float] = 0.1

    def _split(self, X, fitting, z=None):
        k = self._n_tasks
        P = X[:, -k:]
        if fitting:
            w = np.array([max(kendall_tau(z, P[:, j]), 0.0) for j in range(k)]) + self._c
            self.task_weights_ = w / w.sum()
        return X[:, :-k], P @ self.task_weights_


class _Soft05(_Soft):
    _c = 0.05


class _Pow05(PriorPredictor):
    _power = 0.5


class _ResidScale(PriorPredictor):
    """Diagnostic: the residual model's prediction scaled by lam."""

    _lam: ClassVar[float] = 0.5

    def _predict(self, X):
        Xf, p = self._split(X, False)
        ps = (p - self.p_mean_) / self.p_scale_
        mean, std = self.model_._predict(np.hstack([Xf, ps[:, None]]))
        return self.offset_ + self.slope_ * ps + self._lam * np.asarray(mean), std


class _Resid0(_ResidScale):
    _lam = 0.0


class _Resid15(_ResidScale):
    _lam = 1.5


class _Resid2(_ResidScale):
    _lam = 2.0


class _SlopeUp(_ResidScale):
    """Diagnostic: no shrinkage on the slope, plus the slope scaled by 1.5."""

    _lam = 1.0
    _s: ClassVar[float] = 1.5

    def _predict(self, X):
        Xf, p = self._split(X, False)
        ps = (p - self.p_mean_) / self.p_scale_
        mean, std = self.model_._predict(np.hstack([Xf, ps[:, None]]))
        return self.offset_ + self._s * self.slope_ * ps + np.asarray(mean), std


class _SlopeDown(_SlopeUp):
    _s = 0.7


class _TaskCols(PriorPredictor):
    """The residual model also sees each past task's prediction (not only their weighted mean)."""

    def _split(self, X, fitting, z=None):
        Xf, p = super()._split(X, fitting, z)
        return np.hstack([Xf, X[:, -self._n_tasks:]]), p


class _DropCols(PriorPredictor):
    """The residual model without GRAF's per-depth op counts and link patterns (as Predictor()'s GP)."""

    _drop: ClassVar[tuple[str, ...]] = ("level_count", "link_pattern")

    def _split(self, X, fitting, z=None):
        Xf, p = super()._split(X, fitting, z)
        names = [n for k in self.features_ for n in self.space_.feature_names(k)]
        keep = [i for i, n in enumerate(names) if not n.startswith(self._drop)]
        return Xf[:, keep], p


class _CoreCols(_DropCols):
    _drop = ("level_count", "link_pattern", "out_degree", "output_count", "input_count")


def candidate_models(prior: Any, seed: int) -> dict[str, Any]:
    from nasbook.predictors import Ensemble, GaussianProcess

    return {
        "cold_forest": RandomForest(seed=seed),
        "prior_rf": PriorPredictor(prior, seed=seed),
        "prior_rf_agree": PriorPredictor(prior, task_weights="agreement", seed=seed),
        "soft10": _Soft(prior, task_weights="agreement", seed=seed),
        "soft05": _Soft05(prior, task_weights="agreement", seed=seed),
        "pow05": _Pow05(prior, task_weights="agreement", seed=seed),
        "resid0": _Resid0(prior, task_weights="agreement", seed=seed),
        "resid05": _ResidScale(prior, task_weights="agreement", seed=seed),
        "resid15": _Resid15(prior, task_weights="agreement", seed=seed),
        "resid2": _Resid2(prior, task_weights="agreement", seed=seed),
        "slope15": _SlopeUp(prior, task_weights="agreement", seed=seed),
        "slope07": _SlopeDown(prior, task_weights="agreement", seed=seed),
        "et_agree": PriorPredictor(prior, model=ExtraTrees(), task_weights="agreement", seed=seed),
        "rf_leaf3": PriorPredictor(prior, model=RandomForest(min_samples_leaf=3), task_weights="agreement", seed=seed),
        "rf_mf1": PriorPredictor(prior, model=RandomForest(max_features=1.0), task_weights="agreement", seed=seed),
        "rf_mf02": PriorPredictor(prior, model=RandomForest(max_features=0.2), task_weights="agreement", seed=seed),
        "rf_leaf2": PriorPredictor(prior, model=RandomForest(min_samples_leaf=2), task_weights="agreement", seed=seed),
        "rf_leaf5": PriorPredictor(prior, model=RandomForest(min_samples_leaf=5), task_weights="agreement", seed=seed),
        "rf_leaf3_s1": PriorPredictor(prior, model=RandomForest(min_samples_leaf=3), task_weights="agreement",
                                      shrink=1.0, seed=seed),
        "rf_leaf3_tcols": _TaskCols(prior, model=RandomForest(min_samples_leaf=3), task_weights="agreement",
                                    seed=seed),
        "rf_leaf3_drop": _DropCols(prior, model=RandomForest(min_samples_leaf=3), task_weights="agreement", seed=seed),
        "rf_drop": _DropCols(prior, task_weights="agreement", seed=seed),
        "rf_leaf3_core": _CoreCols(prior, model=RandomForest(min_samples_leaf=3), task_weights="agreement", seed=seed),
        "gp_agree": PriorPredictor(prior, model="gp", task_weights="agreement", seed=seed),
        "ens_agree": PriorPredictor(prior, model=Ensemble(), task_weights="agreement", seed=seed),
        "gpd_agree": PriorPredictor(prior, model=GaussianProcess(drop=("level_count", "link_pattern")),
                                    task_weights="agreement", seed=seed),
    }
