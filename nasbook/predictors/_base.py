"""The predictor plug-in point: :class:`BasePredictor`, in the scikit-learn mould.

A predictor maps architectures to a predicted score with an uncertainty. ``fit(archs, scores)``
encodes the architectures with their space's encodings (``space.encode_many``), standardises the
scores, fits a model (``_fit``) and calibrates its spread; ``predict(archs)`` returns an xarray
Dataset with ``mean`` and ``std`` over dim ``arch``. A new model implements two hooks on
feature matrices:

- ``_fit(X, z)``: learn from features ``X`` (n, d) and standardised scores ``z`` (mean 0, std 1);
- ``_predict(X) -> (mean, std)``: predictions in the same standardised units.

This module builds, checks and fits a predictor; what a fitted one answers (``predict``,
``predict_mean_std``, ``predict_latent``, ``score``) is the mixin :class:`Predicting`
(:mod:`._predicting`), and the one-thread limit both run under is :mod:`._threads`.
"""

from __future__ import annotations

import abc
import math
import time
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from nasbook._errors import (
    InvalidParameterError,
    InvalidParameterTypeError,
    NasbookWarning,
    check_int,
    did_you_mean,
    unknown_choice,
)
from nasbook._params import Params, check_base_init
from nasbook.predictors._checks import check_archs, check_scores, kept_on_failure, model_output
from nasbook.predictors._predicting import Predicting
from nasbook.predictors._threads import _one_thread
from nasbook.space import Architecture, SearchSpace

if TYPE_CHECKING:
    from nasbook.display import View

Calibration = Literal["cv", "none"]
CALIBRATIONS: tuple[str, ...] = ("cv", "none")
Target = Literal["rank", "standard"]
TARGETS: tuple[str, ...] = ("rank", "standard")
#: folds of the cross-validation that calibrates the predicted spread (3 above CV_FEWER_FOLDS
#: architectures, where each fit costs more and three folds already hold hundreds of residuals)
CV_FOLDS = 5
CV_FEWER_FOLDS = 300
#: the smallest training set on which the spread is calibrated by cross-validation
MIN_CV = 10
_FLOAT_MAX = float(np.finfo(float).max)
#: scores whose standard deviation is at most this fraction of their magnitude differ by rounding alone
#: (``0.1 + 0.2`` and ``0.3`` by 6e-17 of it): they have no spread, as equal scores have none
NO_SPREAD_RTOL = 1e-12
#: with no spread, the predicted std in the scores' units is this fraction of their magnitude (their
#: absolute value; 1 when they are all 0, which carry no unit to be relative to) ...
NO_SPREAD_STD = 0.1
#: ... and in the latent units the model learns, one standardised unit: the spread before any data
NO_SPREAD_LATENT_STD = 1.0


class BasePredictor(Predicting, Params, abc.ABC):
    """Predicts an architecture's score, with an uncertainty, from its encodings.

    Parameters
    ----------
    features : str or sequence of str
        Encodings of the space to use (``space.encodings``), concatenated; ``"auto"`` takes the
        space's GRAF-style graph features (``"graf"``) where it has them, else its one-hot
        adjacency. (On NAS-Bench-Graph, adding the one-hot adjacency to the graph features
        lowered the trees' Kendall tau at 100 training architectures.)
    target : {"rank", "standard"}
        What the model learns: ``"rank"`` (default) the normal scores of the training scores'
        ranks, ``Phi^-1((rank - 1/2) / n)``, which no outlier (a diverged network at 10%
        accuracy) can dominate; predictions are mapped back to the scores' units through the
        training scores' quantiles (linearly beyond them). ``"standard"``: the scores minus their
        mean, over their standard deviation.
    calibration : {"cv", "none"}
        ``"cv"`` (default) rescales the predicted spread so that the central 68% interval covers
        68% of out-of-fold residuals in a 5-fold (3-fold above 300 architectures)
        cross-validation of the training set (needs 10 or more architectures); ``"none"`` keeps
        the model's own spread.
    seed : int or None, default None
        Seeds every random choice of the fit (a Python or numpy integer; None: unseeded).

    Attributes
    ----------
    space_ : SearchSpace
    features_ : tuple of str
        The encodings used.
    feature_versions_ : tuple of str
        ``space.encoding_version(kind)`` of each: a fitted model refuses a space whose encoding changed.
    n_features_in_, n_train_ : int
    std_scale_, score_std_scale_ : float
        Factors the calibration applies to the model's spread, in its latent units
        (:meth:`predict_latent`) and in the scores' units (:meth:`predict`).
    std_floor_ : float
        The least latent std predicted: 0, or, when the training scores have no spread (all
        equal, up to rounding), 1 standardised unit, which maps back to ``NO_SPREAD_STD`` (10%)
        of the scores' magnitude; such a fit warns (NasbookWarning) and is not calibrated.
    fit_time_s_ : float
    seed_ : int or None
        The seed the last fit used: ``seed``, or the search's for :meth:`fit_search` when ``seed`` is None.
    scores_ : dict
        Metrics of the last ``score`` call (empty before).
    """

    #: registered name ("gp", "random-forest", ...)
    alias: ClassVar[str] = ""

    def __init__(self, features: str | Sequence[str] = "auto", target: Target = "rank", calibration: Calibration = "cv",
                 seed: int | None = None):
        self.features = features
        self.target = target
        self.calibration = calibration
        self.seed = seed

    # -- parameters (scikit-learn's protocol: sklearn.base.clone, GridSearchCV) -----------------
    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """Constructor arguments, read from the ``__init__`` signature (scikit-learn style).

        Parameters
        ----------
        deep : bool, default False
            Also list the parameters of a predictor given as a parameter (``Predictor(model=...)``)
            as ``model__<name>``, as scikit-learn's ``get_params(deep=True)`` does. The default
            gives the constructor arguments alone (what ``repr`` and :meth:`clone` use).

        Returns
        -------
        dict
            ``{parameter: value}``; ``sklearn.base.clone(predictor)`` works from it.
        """
        params = super().get_params()
        if deep:
            for name, value in list(params.items()):
                if isinstance(value, BasePredictor):
                    params.update({f"{name}__{k}": v for k, v in value.get_params(deep=True).items()})
        return params

    def set_params(self, **params: Any) -> BasePredictor:
        """Set constructor arguments (``model__seed=...`` for a predictor given as ``model``), as
        scikit-learn's ``set_params``; takes effect at the next ``fit``.

        Parameters
        ----------
        **params
            Parameter names of :meth:`get_params` (``deep=True`` names included) and their new values;
            an unknown name raises InvalidParameterError with the valid ones.

        Returns
        -------
        BasePredictor
            ``self``.
        """
        valid = self.get_params(deep=True)
        for key in params:
            name, _, sub = key.partition("__")
            if key not in valid or (sub and not isinstance(getattr(self, name, None), BasePredictor)):
                raise InvalidParameterError(
                    f"{type(self).__name__}.set_params(): no parameter {key!r}; valid: {sorted(valid)}"
                    f"{did_you_mean(key, valid)}.")
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if sub:
                getattr(self, name).set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    # -- hooks ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        """Learn from features ``X`` (n, d) and standardised scores ``z``."""

    @abc.abstractmethod
    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation, in the standardised units of ``_fit``, for each row of ``X``."""

    def _validate_params(self) -> None:
        """Check constructor arguments (called by ``fit``)."""
        check_base_init(self, BasePredictor)
        name = type(self).__name__
        if self.target not in TARGETS:
            raise unknown_choice(f"{name}(target=...)", self.target, TARGETS)
        if self.calibration not in CALIBRATIONS:
            raise unknown_choice(f"{name}(calibration=...)", self.calibration, CALIBRATIONS)
        self.seed = check_int(name, "seed", self.seed, minimum=0, allow_none=True)  # np.int64 -> int
        feats = self.features
        if not (isinstance(feats, str) or (isinstance(feats, Sequence) and feats and all(isinstance(f, str) for f in feats))):
            raise InvalidParameterTypeError(
                f"{name}(features=...) must be 'auto', an encoding name or a non-empty list of them; "
                f"got {feats!r:.60} of type {type(feats).__name__}."
            )
        if not isinstance(feats, str) and len(set(feats)) < len(feats):  # ("graf", "graf") fitted each column twice
            raise InvalidParameterError(f"{name}(features=...) must not repeat an encoding; got {tuple(feats)!r:.80}.")

    # -- features -----------------------------------------------------------------------------
    def _resolve_features(self, space: SearchSpace) -> tuple[str, ...]:
        available = tuple(getattr(space, "encodings", ("adjacency", "path")))
        if self.features == "auto":
            return ("graf",) if "graf" in available else ("adjacency",)
        kinds = (self.features,) if isinstance(self.features, str) else tuple(self.features)
        for kind in kinds:
            if kind not in available:
                raise unknown_choice(
                    f"encoding for {type(self).__name__}(features=...)", kind, available,
                    f"{type(space).__name__} provides only these encodings (space.encodings).",
                )
        return kinds

    def _all_features(self, space: SearchSpace) -> tuple[str, ...]:
        """Every encoding the fit needs: this predictor's, and those its model adds (an
        :class:`Ensemble` whose members have their own ``features``)."""
        return self._member_features(space, self._resolve_features(space))

    def _member_features(self, space: SearchSpace, kinds: tuple[str, ...]) -> tuple[str, ...]:
        """The encodings this model needs when its owner encodes ``kinds``: ``kinds``, or what a
        wrapped model (``_built``) adds to them (an Ensemble adds its members' own)."""
        inner = self.__dict__.get("_built")
        return inner._member_features(space, kinds) if isinstance(inner, BasePredictor) else kinds

    def _encode(self, archs: Sequence[Architecture]) -> np.ndarray:
        space = self.space_
        return np.hstack([space.encode_many(archs, kind) for kind in self.features_]).astype(np.float64)

    @staticmethod
    def _versions(space: SearchSpace, kinds: Sequence[str]) -> tuple[str, ...]:
        version = getattr(space, "encoding_version", None)
        return tuple(version(k) if version else f"{k}/{space.encoding_size(k)}" for k in kinds)

    # -- fitting --------------------------------------------------------------------------------
    def fit(self, archs: Sequence[Architecture], scores: Sequence[float], *, space: SearchSpace | None = None) -> BasePredictor:
        """Fit on architectures and their scores (higher or lower is better: the predictor does
        not care).

        Parameters
        ----------
        archs : list of Architecture
            Two or more architectures of one space (a list or tuple, or a 1-D numpy array or pandas Series of them).
        scores : sequence of float
            Their finite scores, one per architecture.
        space : SearchSpace, optional
            Their space (default: the space in memory they came from).

        Returns
        -------
        BasePredictor
            ``self``, fitted: ``Predictor().fit(archs, scores).predict(others)``.
        """
        with kept_on_failure(self):  # a refused fit (its checks, the encoding) leaves a fitted predictor as it was
            return self._fit_checked(archs, scores, space)

    def _fit_checked(self, archs: Sequence[Architecture], scores: Sequence[float], space: SearchSpace | None) -> BasePredictor:
        name = f"{type(self).__name__}.fit"
        self._validate_params()
        archs_, space_ = check_archs(name, "archs", archs, space)
        if len(archs_) < 2:
            raise InvalidParameterError(
                f"{name}(archs=...) needs at least 2 architectures with scores to learn anything; got {len(archs_)}."
            )
        y = check_scores(name, scores, len(archs_))
        t0 = time.perf_counter()
        self.space_ = space_
        self.features_ = self._all_features(space_)
        self.feature_versions_ = self._versions(space_, self.features_)
        X = self._encode(archs_)
        self.n_train_ = len(y)
        self.seed_ = self.seed  # the seed in effect (fit_search: the search's when seed is None)
        self.metric_: str | None = None  # fit_search names it; scores given to fit() carry no name
        self.n_features_in_ = X.shape[1]
        z = self._fit_target(y)
        with _one_thread():
            calibrate = self.calibration == "cv" and not self.std_floor_  # no spread: no residual to calibrate on
            self.std_scale_, self.score_std_scale_ = self._calibrate(X, z, y) if calibrate else (1.0, 1.0)
            self._fit(X, z)
        self.fit_time_s_ = time.perf_counter() - t0
        self.scores_: dict[str, float] = {}
        self.scored_: tuple[np.ndarray, np.ndarray] | None = None
        return self

    def _fit_target(self, y: np.ndarray) -> np.ndarray:
        """The latent targets the model learns, and what maps them back (``_inverse``)."""
        # scores near the float limit (a user's 1e300) would overflow the plain mean and spread; they
        # are computed on the scores divided by their largest magnitude then, and only then, so every
        # ordinary fit keeps its exact numbers
        s = 1.0
        with np.errstate(over="ignore", invalid="ignore"):
            mean, sd = float(y.mean()), float(y.std())
        if not (math.isfinite(mean) and math.isfinite(sd)):
            s = float(np.max(np.abs(y)))
            mean, sd = float((y / s).mean()), float((y / s).std())
        if sd <= NO_SPREAD_RTOL * abs(mean):  # all equal, up to rounding: nothing to standardise by
            return self._no_spread(y)
        self.std_floor_ = 0.0
        self.y_mean_ = mean * s
        self.y_scale_ = min(sd * s, _FLOAT_MAX)
        if self.target == "standard":
            return (y / s - mean) / sd
        from scipy import stats

        z = stats.norm.ppf((stats.rankdata(y) - 0.5) / len(y))
        # the quantile map: distinct latent values and the mean score at each (ties share a rank)
        zq, inv = np.unique(z, return_inverse=True)
        yq = np.bincount(inv, weights=y / s) / np.bincount(inv) * s
        self._quantiles = (zq, yq)
        return z  # type: ignore[no-any-return]

    def _no_spread(self, y: np.ndarray) -> np.ndarray:
        """Latent targets (all 0) of scores with no spread, with a spread relative to their magnitude, and a warning.

        Standardising divides by the scores' spread: with none, the model learns a constant with no
        spread and each std it predicts would be 0 (or undefined), in any units. The spread is floored
        instead at one latent unit (``NO_SPREAD_LATENT_STD``), mapped to ``NO_SPREAD_STD`` of the
        scores' magnitude (``y_scale_``), so that an interval, a likelihood or an acquisition stays
        defined and scales with the scores' units."""
        center = float(np.sort(y)[len(y) // 2])  # one of the scores (a mean of 1e308s would overflow)
        self.y_mean_ = center
        self.y_scale_ = NO_SPREAD_STD * (abs(center) if center != 0 else 1.0)
        self.std_floor_ = NO_SPREAD_LATENT_STD
        self._quantiles = (np.zeros(1), np.array([center]))
        warnings.warn(
            f"{type(self).__name__}.fit(scores=...): the {len(y)} scores have no spread (all {center:.6g}), so "
            f"nothing tells the architectures apart: every prediction is {center:.6g}, with a std of "
            f"{NO_SPREAD_STD:.0%} of the scores' magnitude ({self.y_scale_:.3g}), not calibrated. Fit on scores "
            "that differ; silence with warnings.filterwarnings('ignore', message='.*have no spread').",
            NasbookWarning, stacklevel=4)
        return np.zeros(len(y))

    def _inverse(self, z: np.ndarray) -> np.ndarray:
        """Latent values back in the scores' units (monotone; linear beyond the training range; never
        beyond the largest finite float)."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self.target == "standard":
                return np.clip(z * self.y_scale_ + self.y_mean_, -_FLOAT_MAX, _FLOAT_MAX)  # type: ignore[no-any-return]
            zq, yq = self._quantiles
            if len(zq) < 2:  # scores with no spread (_no_spread): linear, at the floor's scale
                return np.clip(yq[0] + z * self.y_scale_, -_FLOAT_MAX, _FLOAT_MAX)  # type: ignore[no-any-return]
            out = np.interp(z, zq, yq)
            k = min(5, len(zq) - 1)
            lo, hi = z < zq[0], z > zq[-1]
            if lo.any():
                lo_slope = (yq[k] / 2 - yq[0] / 2) / (zq[k] - zq[0]) * 2
                out[lo] = yq[0] + (z[lo] - zq[0]) * lo_slope
            if hi.any():
                hi_slope = (yq[-1] / 2 - yq[-1 - k] / 2) / (zq[-1] - zq[-1 - k]) * 2
                out[hi] = yq[-1] + (z[hi] - zq[-1]) * hi_slope
            return np.clip(out, -_FLOAT_MAX, _FLOAT_MAX)  # type: ignore[no-any-return]

    def _calibrate(self, X: np.ndarray, z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Factors that put the 68.27% quantile of out-of-fold ``|residual| / std`` at 1: in the
        model's latent units, and in the scores' units (where the spread is the half-width of the
        mapped-back interval, which a skewed score distribution stretches)."""
        # an architecture given more than once (two searches of one task, a repeated trial) stays in one fold:
        # split across folds, its twin predicts it out of fold at no error and the spread is calibrated to zero;
        # groups are numbered by first occurrence, so without repeats the folds are those of a plain permutation
        _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
        order = np.empty(len(first), dtype=np.intp)
        order[np.argsort(first)] = np.arange(len(first))
        group, n = order[inverse.ravel()], len(first)  # n: distinct architectures
        if n < MIN_CV:
            return 1.0, 1.0
        n_folds = CV_FOLDS if n <= CV_FEWER_FOLDS else 3
        folds = np.random.default_rng(self.seed).permutation(n)[group] % n_folds
        latent, scores = [], []
        for k in range(n_folds):
            test = folds == k
            self._fit(X[~test], z[~test])
            mean, std = model_output(type(self).__name__, self._predict(X[test]), int(test.sum()))
            std = np.maximum(std, 1e-9)
            latent.append(np.abs(z[test] - mean) / std)
            with np.errstate(over="ignore", invalid="ignore"):  # inf ratios are left out by factor() below
                half = np.abs(self._inverse(mean + std) / 2 - self._inverse(mean - std) / 2)
                scores.append(np.abs(y[test] - self._inverse(mean)) / np.maximum(half, 1e-12))

        def factor(ratios: list[np.ndarray]) -> float:
            r = np.concatenate(ratios)
            r = r[np.isfinite(r)]
            q = float(np.quantile(r, 0.6827)) if len(r) else math.nan
            return q if math.isfinite(q) and q > 0 else 1.0

        return factor(latent), factor(scores)

    def fit_search(self, search: Any) -> BasePredictor:
        """Fit on a search's completed trials (their values; failed, pruned and diverged trials
        are left out).

        In a multi-fidelity search (ASHA, Hyperband, ...) only the trials trained for the most
        epochs count: a value after a low rung's epoch or two is not the architecture's final
        quality, and the same architecture would come twice with two different scores.

        A predictor without a seed (``seed=None``, the default) is fitted with the search's seed, so
        ``Predictor().fit_search(search)`` gives the same predictions each time it is run on the same
        search (a search always has a seed: drawn and stored when omitted). Its ``seed`` parameter is
        left as given (``get_params()``, ``clone``, ``repr``); ``seed_`` is the seed the fit used.

        Parameters
        ----------
        search : Search
            A search with at least 2 such trials; ``metric_`` is set to its metric.

        Returns
        -------
        BasePredictor
            ``self``, fitted.
        """
        from nasbook.trial import TrialState

        space = getattr(search, "space", None)
        if space is None or not hasattr(search, "trials"):
            raise InvalidParameterTypeError(
                f"{type(self).__name__}.fit_search(search=...) must be a nasbook.Search; got {search!r:.60}."
            )
        done = [t for t in search.trials if t.state is TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)]
        top = max((t.epochs for t in done if t.epochs is not None), default=None)
        final = [t for t in done if t.epochs is None or t.epochs == top]
        if len(final) < 2:
            at = f" at its most epochs, {top} ({len(done)} completed at any epochs)" if len(final) < len(done) else ""
            raise InvalidParameterError(
                f"{type(self).__name__}.fit_search(search=...) needs at least 2 completed trials with values; "
                f"search {getattr(search, 'name', '?')!r} has {len(final)}{at}."
            )
        own = self.seed
        if own is None:  # reproducible by default: the search's seed, the user's parameter left as given
            self.seed = getattr(search, "seed", None)
        try:
            self.fit([t.arch for t in final], [float(t.value) for t in final], space=space)  # type: ignore[arg-type]
        finally:
            self.seed = own
        self.metric_ = getattr(search, "metric", None)
        return self

    # predicting and scoring (predict_mean_std, predict_latent, predict, score): Predicting (_predicting.py)

    # -- display ---------------------------------------------------------------------------------
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from nasbook.display import repr_mimebundle

        return repr_mimebundle(self, include=include, exclude=exclude)

    def _view(self) -> View:
        from nasbook.predictors._views import predictor_view

        return predictor_view(self)
