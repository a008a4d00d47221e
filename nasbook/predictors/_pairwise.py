""":class:`PairwiseGBT`: a surrogate that learns which of two architectures is better."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, check_int
from nasbook.predictors._base import BasePredictor, Calibration, Target


class PairwiseGBT(BasePredictor):
    """Pairwise ranking: gradient-boosted trees (scikit-learn's histogram boosting) classify the
    difference of two architectures' features as "the first is better" or not, and an
    architecture's prediction is where it falls among the training architectures (the anchors).

    Kendall tau scores orderings, and an ordering is what a pairwise model learns: n training
    architectures give n(n-1)/2 comparisons, each of which says only which one won, so one
    outlier's score cannot pull the fit (the idea of ranking surrogates such as ReNAS, Xu et al.
    2021). The mean is the normal score of the architecture's mean win probability against the
    anchors; the spread is the standard deviation over anchors of the Thurstone estimate
    ``z_anchor + sqrt(2) * Phi^-1(p_win)``: wide where the anchors disagree about where it lies.

    Parameters
    ----------
    max_iter : int
        Boosting rounds. Default 100.
    learning_rate : float
        Default 0.1.
    max_leaf_nodes : int
        Leaves per tree. Default 15.
    max_pairs : int
        At most this many comparisons (random pairs) are learnt from: n(n-1)/2 grows fast
        (499,500 at 1,000 architectures). Default 20,000.
    max_anchors : int
        Predictions compare against at most this many training architectures (random; every
        prediction costs one classifier row per anchor). Default 200.
    features, target, calibration, seed
        See :class:`BasePredictor`.
    """

    alias: ClassVar[str] = "pairwise-gbt"

    def __init__(self, max_iter: int = 100, learning_rate: float = 0.1, max_leaf_nodes: int = 15,
                 max_pairs: int = 20_000, max_anchors: int = 200, features: str | Sequence[str] = "auto",
                 target: Target = "rank", calibration: Calibration = "cv", seed: int | None = None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.max_pairs = max_pairs
        self.max_anchors = max_anchors

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int("PairwiseGBT", "max_iter", self.max_iter, minimum=1)
        check_int("PairwiseGBT", "max_leaf_nodes", self.max_leaf_nodes, minimum=2)
        check_int("PairwiseGBT", "max_pairs", self.max_pairs, minimum=1)
        check_int("PairwiseGBT", "max_anchors", self.max_anchors, minimum=1)
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= 1:
            raise InvalidParameterError(f"PairwiseGBT(learning_rate=...) must be a number in (0, 1]; got {lr!r}.")

    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        rng = np.random.default_rng(self.seed)
        n = len(z)
        i, j = np.triu_indices(n, 1)
        keep = z[i] != z[j]
        i, j = i[keep], j[keep]
        if len(i) > self.max_pairs:
            pick = rng.choice(len(i), self.max_pairs, replace=False)
            i, j = i[pick], j[pick]
        anchors = rng.choice(n, min(n, self.max_anchors), replace=False)
        self._anchors, self._z_anchors = X[anchors], z[anchors]
        if len(i) == 0:  # every score tied: nothing to order
            self.model_ = None
            return
        # both orders of every pair: the classifier sees x_i - x_j and x_j - x_i, so it is (close
        # to) antisymmetric and the two classes are balanced
        D = np.vstack([X[i] - X[j], X[j] - X[i]])
        won = np.concatenate([z[i] > z[j], z[j] > z[i]]).astype(np.int64)
        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            random_state=self.seed, early_stopping=False,
        ).fit(D, won)

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from scipy import stats

        A, za = self._anchors, self._z_anchors
        if self.model_ is None:
            return np.full(len(X), float(za.mean())), np.full(len(X), 1.0)
        m = len(A)
        eps = 0.5 / m
        mean, std = np.empty(len(X)), np.empty(len(X))
        block = max(1, 200_000 // m)
        for s in range(0, len(X), block):
            rows = X[s:s + block]
            D = (rows[:, None, :] - A[None, :, :]).reshape(-1, X.shape[1])
            p = self.model_.predict_proba(D)[:, 1].reshape(len(rows), m)
            mean[s:s + block] = stats.norm.ppf(np.clip(p.mean(axis=1), eps, 1 - eps))
            est = za[None, :] + np.sqrt(2.0) * stats.norm.ppf(np.clip(p, 0.02, 0.98))
            std[s:s + block] = est.std(axis=1)
        return mean, std
