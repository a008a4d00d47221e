"""An ensemble of surrogates, and :class:`Predictor`: the best default for the space at hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.predictors._base import BasePredictor, Calibration, Target
from nasbook.predictors._registry import get_predictor

#: the members of ``Ensemble()`` and of ``Predictor()``'s default model
#: (measured on NAS-Bench-Graph, 9 datasets: each member alone reaches Kendall tau 0.48-0.49 at
#: 100 training architectures, the three together 0.52; adding an MLP ensemble or a random
#: forest changed it by less than 0.002 and cost more)
DEFAULT_MEMBERS: tuple[str, ...] = ("gp", "extra-trees", "gbt")


def _member(owner: str, spec: object, seed: int | None) -> BasePredictor:
    """A fresh member from a registered name or an instance (cloned), seeded from ``seed``."""
    if isinstance(spec, BasePredictor):
        model = spec.clone()
    elif isinstance(spec, str):
        model = get_predictor(spec)
    else:
        raise InvalidParameterTypeError(
            f"{owner} must be a predictor name such as 'gp' or a BasePredictor instance; got {spec!r:.60} "
            f"of type {type(spec).__name__}."
        )
    if model.seed is None:
        model.seed = seed
    model._validate_params()
    return model


class Ensemble(BasePredictor):
    """Several surrogates fitted on the same features; their predictions are pooled as an equally
    weighted mixture (mean of means; variance = mean of variances + variance of means).

    Parameters
    ----------
    members : sequence of str or BasePredictor
        Registered names (:func:`available_predictors`) or instances (cloned). Default: a Gaussian
        process, extra trees and quantile gradient-boosted trees.
    features, target, calibration, seed
        See :class:`BasePredictor`; the ensemble's features and calibration apply to the whole.
    """

    alias: ClassVar[str] = "ensemble"

    def __init__(self, members: Sequence[str | BasePredictor] = DEFAULT_MEMBERS, features: str | Sequence[str] = "auto",
                 target: Target = "rank", calibration: Calibration = "cv", seed: int | None = None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.members = tuple(members) if isinstance(members, list) else members

    def _validate_params(self) -> None:
        super()._validate_params()
        members = self.members
        if isinstance(members, (str, BasePredictor)) or not isinstance(members, Sequence) or not members:
            raise InvalidParameterError(
                f"Ensemble(members=...) must be a non-empty list of predictor names or instances; got {members!r:.80}."
            )
        self._built = [_member(f"Ensemble(members=[...]) item {i}", m, self.seed) for i, m in enumerate(members)]

    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        for m in self._built:
            m._fit(X, z)
        self.members_ = self._built

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        means, stds = zip(*(m._predict(X) for m in self.members_))
        mu = np.mean(means, axis=0)
        var = np.mean(np.square(stds), axis=0) + np.var(means, axis=0)
        return mu, np.sqrt(var)


class Predictor(BasePredictor):
    """Predicts architecture quality, with an uncertainty: nasbook's front door to surrogates.

    ``Predictor()`` picks the best default for the space at hand: an ensemble of a Gaussian
    process, extra trees and quantile gradient-boosted trees on the space's GRAF-style graph
    features (its one-hot adjacency where it has none), learning the rank-normal scores, with a
    spread calibrated by cross-validation. ``Predictor(model="gp")`` picks one model.

    Parameters
    ----------
    model : str or BasePredictor
        ``"auto"`` (default), a registered name (``"gp"``, ``"random-forest"``,
        ``"extra-trees"``, ``"gbt"``, ``"mlp"``, ``"ensemble"``, or a third party's) or an
        instance (cloned at each fit; its own ``features`` and ``calibration`` are ignored in
        favour of this predictor's).
    features, target, calibration, seed
        See :class:`BasePredictor`.

    Examples
    --------
    >>> import numpy as np
    >>> from nasbook import Predictor
    >>> from nasbook.tasks import NasBenchGraph
    >>> task = NasBenchGraph("cora")
    >>> rng = np.random.default_rng(0)
    >>> archs = [task.space.sample(rng) for _ in range(30)]
    >>> scores = task.lookup(archs)  # doctest: +SKIP
    >>> Predictor(seed=0).fit(archs, scores).predict(archs[:3])  # doctest: +SKIP
    <xarray.Dataset> ... mean, std over arch
    """

    alias: ClassVar[str] = "auto"

    def __init__(self, model: str | BasePredictor = "auto", features: str | Sequence[str] = "auto",
                 target: Target = "rank", calibration: Calibration = "cv", seed: int | None = None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.model = model

    def _validate_params(self) -> None:
        super()._validate_params()
        spec: Any = Ensemble(DEFAULT_MEMBERS) if self.model == "auto" else self.model
        if isinstance(spec, Predictor):
            raise InvalidParameterTypeError("Predictor(model=...) must be a model, not another Predictor.")
        self._built = _member("Predictor(model=...)", spec, self.seed)

    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        self._built._fit(X, z)
        self.model_ = self._built

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.model_._predict(X)
