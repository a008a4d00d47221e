"""A learning-curve extrapolator trained on earlier full curves (a table, or a search's finished trials)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, NotFittedError, check_int
from nasbook.predictors._curves import (
    Arrays,
    BaseCurvePredictor,
    Curves,
    Mode,
    _as_curves,
    _check_covariates,
    _check_features,
)


def _features(Y: np.ndarray, covariates: Mapping[str, np.ndarray], log_covariates: Mapping[str, bool],
              static: np.ndarray | None = None) -> np.ndarray:
    """Per curve: the prefix, its change, every covariate's prefix (log of a positive one), static features."""
    parts = [Y, Y[:, -1:] - Y[:, :1]]
    for name in sorted(covariates):
        c = covariates[name]
        parts.append(np.log(np.maximum(c, 1e-12)) if log_covariates.get(name) else c)
    if static is not None:
        parts.append(static)
    return np.hstack(parts)


class LearnedCurves(BaseCurvePredictor):
    """Predicts the final value from a prefix with a model trained on earlier, complete curves.

    One Bayesian linear regression (scikit-learn's ``BayesianRidge``, whose predictive std is the
    uncertainty) per prefix length L and target epoch T, on the standardised prefix of the
    objective, its change over the prefix, and the prefixes of the covariates (other per-epoch
    metrics: ``train_loss``, ``val_loss``; positive ones on a log scale). Models are fitted the first
    time a (L, T) pair is asked for and kept.

    ``features`` (optional, given to ``fit`` and then to every ``predict``): static features of
    each trial, typically its architecture's encoding (``space.encode_many(archs, "graf")``),
    appended to the regression's inputs; what the architecture says about the final value is then
    learned with what the first epochs say.

    Measured with ``benchmarks/curves.py`` on architectures the model never saw (Kendall tau of
    the predicted final accuracy, see docs/benchmarks.md): on the Digits table, from one epoch,
    the objective alone ranks no better than the last value (0.13) and the losses lift it to 0.30;
    on the MNIST-1D table, from two epochs, last value 0.29, losses 0.57, losses and ``graf``
    features higher still. Pass covariates and features when the curves have them.

    Parameters
    ----------
    alpha_init : float, optional
        Passed to ``BayesianRidge`` (None: its default).
    min_curves : int
        Fewest training curves ``fit`` accepts.
    mode : {"max", "min"}
        ``"max"`` for curves that rise (accuracy), ``"min"`` for those that fall (a loss).

    Attributes
    ----------
    n_epochs_ : int
        Length of the training curves: the farthest target epoch.
    covariate_names_ : tuple of str
    n_curves_ : int
    n_features_ : int
        Width of the static features (0: fitted without).
    """

    alias: ClassVar[str] = "learned"

    def __init__(self, alpha_init: float | None = None, min_curves: int = 10, mode: Mode = "max"):
        super().__init__(mode=mode)
        self.alpha_init = alpha_init
        self.min_curves = min_curves

    def fit(self, curves: Curves, covariates: Mapping[str, Curves] | None = None, features: Any = None) -> LearnedCurves:
        """Learn from complete curves (an array ``(n, E)`` or ragged: each is used up to its own length).

        Parameters
        ----------
        curves : array (n, E) or sequence of 1-D sequences
            Training curves of at least 2 epochs each (at least ``min_curves`` of them).
        covariates : dict of str to curves, optional
            Other per-epoch metrics of the same trials (same lengths); ``predict`` must then be
            given the same names.
        features : array (n, d), optional
            Static features of the trials (an architecture encoding); ``predict`` must then be
            given features of width d.

        Returns
        -------
        LearnedCurves
            ``self``, fitted.
        """
        owner = f"{type(self).__name__}.fit"
        self._validate_params()
        self.min_curves = check_int(type(self).__name__, "min_curves", self.min_curves, minimum=3)
        rows = _as_curves(owner, "curves", curves, 2)
        covs = _check_covariates(owner, covariates, rows)
        feats = _check_features(owner, features, len(rows))
        if len(rows) < self.min_curves:
            raise InvalidParameterError(f"{owner}(curves=...) needs at least min_curves={self.min_curves} curves; got {len(rows)}.")
        sign = 1.0 if self.mode == "max" else -1.0
        self.curves_ = [r * sign for r in rows]
        self.covariates_ = covs
        self.covariate_names_ = tuple(sorted(covs))
        self.log_covariates_ = {k: bool(all((r > 0).all() for r in v)) for k, v in covs.items()}
        self.n_epochs_ = max(len(r) for r in rows)
        self.n_curves_ = len(rows)
        self.features_ = feats
        self.n_features_ = 0 if feats is None else int(feats.shape[1])
        self.models_: dict[tuple[int, int], Any] = {}
        return self

    def _model(self, L: int, T: int) -> Any:
        key = (L, T)
        if key not in self.models_:
            from sklearn.linear_model import BayesianRidge
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            idx = [i for i, r in enumerate(self.curves_) if len(r) >= T]
            if len(idx) < 3:
                raise InvalidParameterError(
                    f"{type(self).__name__}.predict(target_epoch=...): only {len(idx)} training curves reach epoch {T}; "
                    f"the model learned curves of up to {self.n_epochs_} epochs."
                )
            Y = np.stack([self.curves_[i][:L] for i in idx])
            cov = {k: np.stack([v[i][:L] for i in idx]) for k, v in self.covariates_.items()}
            y = np.array([self.curves_[i][T - 1] for i in idx])
            static = None if self.features_ is None else self.features_[idx]
            params = {} if self.alpha_init is None else {"alpha_init": self.alpha_init}
            self.models_[key] = make_pipeline(StandardScaler(), BayesianRidge(**params)).fit(
                _features(Y, cov, self.log_covariates_, static), y)
        return self.models_[key]

    def predict_arrays(self, curves: Curves, target_epoch: int, covariates: Mapping[str, Curves] | None = None,
                       features: Any = None) -> Arrays:
        if not hasattr(self, "models_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit(curves) with complete curves first.")
        width = 0 if features is None else np.shape(features)[-1] if np.ndim(features) == 2 else -1
        if width != self.n_features_:
            raise InvalidParameterError(
                f"{type(self).__name__}.predict(features=...) must be "
                + ("None (it was fitted without features)" if not self.n_features_ else
                   f"an (n_curves, {self.n_features_}) array, like the features it was fitted with")
                + f"; got {'None' if features is None else f'shape {np.shape(features)}'}."
            )
        return super().predict_arrays(curves, target_epoch, covariates, features)

    def _predict_block(self, Y: np.ndarray, target_epoch: int, covariates: dict[str, np.ndarray],
                       features: np.ndarray | None = None) -> Arrays:
        names = tuple(sorted(covariates))
        if names != self.covariate_names_:
            raise InvalidParameterError(
                f"{type(self).__name__}.predict(covariates=...) must name the covariates it was fitted with, "
                f"{list(self.covariate_names_)}; got {list(names)}."
            )
        if target_epoch > self.n_epochs_:
            raise InvalidParameterError(
                f"{type(self).__name__}.predict(target_epoch=...) must be at most {self.n_epochs_}, the length of the "
                f"curves it learned from; got {target_epoch}."
            )
        model = self._model(Y.shape[1], target_epoch)
        X = _features(Y, covariates, self.log_covariates_, features)
        scaler, ridge = model.steps[0][1], model.steps[1][1]
        mean, std = ridge.predict(scaler.transform(X), return_std=True)
        return np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.alpha_init is not None and not (isinstance(self.alpha_init, (int, float)) and self.alpha_init > 0):
            raise InvalidParameterError(f"{type(self).__name__}(alpha_init=...) must be a positive number or None; got {self.alpha_init!r}.")
