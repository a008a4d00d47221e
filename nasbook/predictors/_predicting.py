"""What a fitted predictor answers: :class:`Predicting`, a mixin of :class:`~nasbook.predictors.BasePredictor`.

``predict_mean_std`` (the fast path, numpy arrays in the scores' units), ``predict_latent`` (the
model's own units, where acquisition functions work), ``predict`` (an xarray Dataset) and
``score`` (rank correlations, coverage and likelihood against true scores), with the checks they
share: fitted, and on the space and encodings the predictor was fitted with. Fitting is in
:mod:`._base`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from nasbook._errors import InvalidParameterError, NotFittedError, unknown_choice
from nasbook.predictors import _metrics
from nasbook.predictors._checks import check_archs, check_scores, finite_mean, model_output
from nasbook.predictors._threads import _one_thread

if TYPE_CHECKING:
    import xarray as xr

    from nasbook.space import Architecture, SearchSpace


class Predicting:
    """Mixin of :class:`~nasbook.predictors.BasePredictor`: predictions and scores of a fitted model."""

    if TYPE_CHECKING:  # set by BasePredictor.fit
        space_: SearchSpace
        features_: tuple[str, ...]
        feature_versions_: tuple[str, ...]
        n_train_: int
        std_scale_: float
        score_std_scale_: float
        std_floor_: float
        scores_: dict[str, float]
        scored_: tuple[np.ndarray, np.ndarray] | None

        def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

        def _inverse(self, z: np.ndarray) -> np.ndarray: ...

        def _encode(self, archs: Sequence[Architecture]) -> np.ndarray: ...

        @staticmethod
        def _versions(space: SearchSpace, kinds: Sequence[str]) -> tuple[str, ...]: ...

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "n_train_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call .fit(archs, scores) or .fit_search(search) "
                f"before .{method}()."
            )

    def _check_space(self, method: str, archs: object) -> list[Architecture]:
        self._check_fitted(method)
        out, _ = check_archs(f"{type(self).__name__}.{method}", "archs", archs, self.space_)
        now = self._versions(self.space_, self.features_)
        if now != self.feature_versions_:
            raise InvalidParameterError(
                f"{type(self).__name__}.{method}(): fitted on encodings {list(self.feature_versions_)}, but the space "
                f"now encodes them as {list(now)}; fit again."
            )
        return out

    def predict_mean_std(self, archs: Sequence[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)`` as numpy arrays in the scores' units: the fast path under :meth:`predict`.

        Parameters
        ----------
        archs : sequence of Architecture
            Architectures of the space the predictor was fitted on (``space_``); another space's
            raise InvalidArchitectureError, an empty list gives empty results.

        Returns
        -------
        mean : numpy.ndarray
            Predicted score of each architecture, float64, shape ``(len(archs),)``, in the units
            of the fitted scores.
        std : numpy.ndarray
            Its calibrated uncertainty in the same units: half the width of the model's
            one-sigma interval mapped back to scores, times ``score_std_scale_``.
        """
        return self._mean_std(self._check_space("predict", archs))

    def _mean_std(self, archs: list[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        """``predict_mean_std`` on architectures already checked."""
        if not archs:
            return np.zeros(0), np.zeros(0)
        return self._predict_features(self._encode(archs))

    def predict_latent(self, archs: Sequence[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)`` in the model's own units (see ``target``): normal, calibrated, and
        monotone in the score. Acquisition functions work here (see ``strategies.BO``).

        Parameters
        ----------
        archs : sequence of Architecture
            Architectures of the space the predictor was fitted on (``space_``); another space's
            raise InvalidArchitectureError, an empty list gives empty results.

        Returns
        -------
        mean : numpy.ndarray
            Predicted latent value of each architecture, float64, shape ``(len(archs),)``: the
            normal score of its rank (``target="rank"``) or its standardised score
            (``target="standard"``); higher means a higher score.
        std : numpy.ndarray
            The model's standard deviation in the same units, times ``std_scale_`` (calibrated).
        """
        archs_ = self._check_space("predict", archs)
        if not archs_:
            return np.zeros(0), np.zeros(0)
        return self._predict_latent_features(self._encode(archs_))

    def _predict_latent_features(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with _one_thread():
            mean, std = model_output(type(self).__name__, self._predict(X), len(X))
        mean, std = self._floored(mean, np.maximum(std, 0.0) * self.std_scale_)
        return finite_mean(type(self).__name__, mean), std

    def _floored(self, mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latent ``(mean, std)`` as predicted; where the fit saw no spread (``std_floor_`` > 0) the mean is
        the scores' one value (latent 0: what the model made of constant targets is noise) and the std at
        least the floor (a NaN too)."""
        floor = getattr(self, "std_floor_", 0.0)  # a predictor pickled before the floor existed has none
        return (np.zeros_like(mean), np.fmax(std, floor)) if floor else (mean, std)

    def _predict_features(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with _one_thread():
            mean, std = model_output(type(self).__name__, self._predict(X), len(X))
        mean, std = self._floored(mean, np.maximum(std, 0.0))
        finite_mean(type(self).__name__, mean)
        lo, mid, hi = self._inverse(mean - std), self._inverse(mean), self._inverse(mean + std)
        return mid, np.abs(hi - lo) / 2 * self.score_std_scale_

    def predict(self, archs: Sequence[Architecture]) -> xr.Dataset:
        """Predicted ``mean`` and ``std`` of each architecture's score: an xarray Dataset over dim
        ``arch`` (coordinate: architecture ids).

        Parameters
        ----------
        archs : sequence of Architecture
            Architectures of the space the predictor was fitted on (``space_``); another space's
            raise InvalidArchitectureError, an empty list gives empty results.

        Returns
        -------
        xarray.Dataset
            Variables ``mean`` and ``std`` (as :meth:`predict_mean_std`, in the scores' units) over
            dim ``arch``; attrs ``predictor`` (its repr), ``features`` and ``n_train``, and
            ``metric`` when fitted with :meth:`fit_search`.
        """
        import xarray as xr

        archs_ = self._check_space("predict", archs)
        mean, std = self._mean_std(archs_)
        ds = xr.Dataset(
            {"mean": ("arch", mean), "std": ("arch", std)},
            coords={"arch": [a.id for a in archs_]},
            attrs={"predictor": repr(self), "features": list(self.features_), "n_train": self.n_train_},
        )
        metric = getattr(self, "metric_", None)
        if metric:  # the predictions are in the fitted scores' units: say which metric they are
            ds.attrs["metric"] = metric
            ds["mean"].attrs["long_name"] = f"predicted {metric}"
            ds["std"].attrs["long_name"] = f"std of predicted {metric}"
        return ds

    def score(self, archs: Sequence[Architecture], scores: Sequence[float], metric: str = "kendall_tau") -> float:
        """Kendall's tau (default) between ``scores`` and the predicted means; ``metric`` may be
        any of :data:`nasbook.predictors.METRICS`. Every metric is kept in ``scores_``.

        Parameters
        ----------
        archs : sequence of Architecture
            Two or more architectures of the fitted space, usually ones it was not fitted on.
        scores : sequence of float
            Their true, finite scores, one per architecture (higher is better for
            ``top_k_overlap``).
        metric : str, default "kendall_tau"
            The metric returned: ``"kendall_tau"``, ``"spearman"`` (rank correlations, in
            [-1, 1]), ``"top_k_overlap"`` (share of the true top 1% among the predicted top 1%),
            ``"coverage_68"``, ``"coverage_95"`` (share of true scores inside the central 68% or
            95% predicted interval) or ``"nll"`` (mean negative log-likelihood, lower is better).

        Returns
        -------
        float
            The value of ``metric``; NaN for a rank correlation when the scores or the
            predictions are constant.
        """
        if metric not in _metrics.METRICS:
            raise unknown_choice(f"{type(self).__name__}.score(metric=...)", metric, _metrics.METRICS)
        archs_ = self._check_space("score", archs)
        y = check_scores(f"{type(self).__name__}.score", scores, len(archs_))
        if len(y) < 2:
            raise InvalidParameterError(
                f"{type(self).__name__}.score(archs=...) needs at least 2 architectures; got {len(y)}."
            )
        mean, std = self._mean_std(archs_)
        self.scores_ = _metrics.all_scores(y, mean, std)
        self.scored_ = (y, mean)
        return self.scores_[metric]
