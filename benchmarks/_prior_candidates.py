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
    from nasbook.predictors import Ensemble, GaussianProcess, Predictor

    return {
        "cold_forest": RandomForest(seed=seed),
        "cold_default": Predictor(seed=seed),
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
        **mix_models(prior, seed),
    }


# -- round 5 (section 11w-prior5): the prior predictor mixed with a cold model, chosen inside the fit by
# the out-of-fold Kendall tau on the training architectures (no held-out architecture is seen)

class _Mixed(PriorPredictor):
    """The prior predictor blended with a cold model on the same encodings: mean = w * prior's +
    (1 - w) * cold's (both regress the same latent scores), w from ``_grid`` maximising the pooled
    out-of-fold Kendall tau of the blend over ``_folds`` shuffled folds of the training set (each fold
    refits the agreement weights too); ties go to the larger w (the prior)."""

    _grid: ClassVar[tuple[float, ...]] = (0.0, 1.0)  # selection: the prior predictor or the cold model
    _folds: ClassVar[int] = 5
    _cold: ClassVar[Any] = "random-forest"
    _repeats: ClassVar[int] = 1

    def _inner(self) -> PriorPredictor:
        p = PriorPredictor(self.prior, model=self.model, how=self.how, shrink=self.shrink,
                           task_weights=self.task_weights, calibration="none", seed=self.seed)
        p._validate_params()
        p._n_tasks = self._n_tasks
        return p

    def _cold_member(self) -> Any:
        from nasbook.predictors._ensemble import _member

        return _member("mix cold", self._cold, self.seed)

    def _fit(self, X, z):
        from sklearn.model_selection import KFold

        k = self._n_tasks
        n = len(z)
        taus = np.zeros(len(self._grid))
        for r in range(self._repeats):
            op, oc = np.zeros(n), np.zeros(n)
            seed = (self.seed or 0) + 7919 * r
            for tr, te in KFold(min(self._folds, n), shuffle=True, random_state=seed).split(X):
                p = self._inner()
                p._fit(X[tr], z[tr])
                op[te] = p._predict(X[te])[0]
                c = self._cold_member()
                c._fit(X[tr, :-k], z[tr])
                oc[te] = np.asarray(c._predict(X[te, :-k])[0])
            for i, w in enumerate(self._grid):
                t = kendall_tau(z, w * op + (1 - w) * oc)
                taus[i] += t if np.isfinite(t) else 0.0
        best = np.flatnonzero(taus >= taus.max() - 1e-12)
        self.mix_weight_ = float(max(self._grid[i] for i in best))
        self.mix_taus_ = taus / self._repeats
        super()._fit(X, z)
        self.cold_ = self._cold_member()
        self.cold_._fit(X[:, :-k], z)

    def _predict(self, X):
        mp, sp = super()._predict(X)
        w = self.mix_weight_
        if w >= 1.0:
            return mp, sp
        mc, sc = self.cold_._predict(X[:, :-self._n_tasks])
        return w * np.asarray(mp) + (1 - w) * np.asarray(mc), w * np.asarray(sp) + (1 - w) * np.asarray(sc)


class _MixBlend(_Mixed):
    _grid = (0.0, 0.25, 0.5, 0.75, 1.0)


class _MixBlendHi(_Mixed):
    """Only part of the way towards the cold model: w in {0.5, 0.75, 1}."""

    _grid = (0.5, 0.75, 1.0)


class _MixBlend3(_MixBlend):
    """Blend, the out-of-fold tau averaged over 3 repeats of the folds (less noisy)."""

    _repeats = 3


class _MixSelLoo(_Mixed):
    _folds = 20


def mix_models(prior: Any, seed: int) -> dict[str, Any]:
    kw: dict[str, Any] = {"task_weights": "agreement", "calibration": "none", "seed": seed}
    return {
        "mix_sel": _Mixed(prior, **kw),
        "mix_blend": _MixBlend(prior, **kw),
        "mix_blend_hi": _MixBlendHi(prior, **kw),
        "mix_blend3": _MixBlend3(prior, **kw),
        "mix_sel_loo": _MixSelLoo(prior, **kw),
    }


# -- round 5: landmarks chosen sequentially (section 11w-prior4's "not done")

def sequential_landmarks(prior: Any, archs: list[Any], y: np.ndarray, k: int, n: int, seed: int, space: Any,
                         covered: bool = True) -> list[int]:
    """Rows of ``archs``: ``k`` landmarks ``select_landmarks(by="predictions")``, measured (``y``), the
    past tasks reweighted by their agreement with them (``agreement_weights``, as
    ``PriorPredictor(task_weights="agreement")``; uniform when none agrees), then ``n - k`` more from
    k-means over the standardised past-task predictions scaled by sqrt(weight) (distances weigh each
    task by its agreement): ``covered=True``, n clusters and the centre-nearest member of the largest
    clusters holding no measured landmark (then of the others); ``covered=False``, n - k clusters."""
    from nasbook.knowledge import select_landmarks
    from nasbook.knowledge._landmarks import _standardised_columns
    from nasbook.predictors._prior import agreement_weights

    row = {a.id: i for i, a in enumerate(archs)}
    first = [row[a.id] for a in select_landmarks(prior, k, by="predictions", candidates=archs, seed=seed,
                                                          space=space)]
    per = prior.predict_tasks(archs)
    P = np.stack([np.asarray(v, dtype=np.float64) for v in per.values()], axis=1)
    w = agreement_weights(P[first], y[first])
    w = w / w.sum() if w.sum() > 0 else np.ones(P.shape[1]) / P.shape[1]
    X = _standardised_columns(P) * np.sqrt(w)
    from sklearn.cluster import KMeans

    m = n if covered else n - k
    km = KMeans(n_clusters=m, n_init=1, random_state=seed).fit(X)
    labels, centres = km.labels_, km.cluster_centers_
    sizes = np.bincount(labels, minlength=m)
    hit = set(labels[first].tolist()) if covered else set()
    order = [c for c in np.argsort(-sizes, kind="stable") if c not in hit]
    order += [c for c in np.argsort(-sizes, kind="stable") if c in hit]
    chosen = list(first)
    taken = set(chosen)
    for c in order:
        if len(chosen) >= n:
            break
        members = np.array([i for i in np.flatnonzero(labels == c) if int(i) not in taken])
        if len(members):
            i = int(members[int(np.argmin(((X[members] - centres[c]) ** 2).sum(axis=1)))])
            chosen.append(i)
            taken.add(i)
    return chosen
