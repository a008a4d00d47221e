""":class:`PriorPredictor`: a surrogate that starts from a prior, e.g. what past tasks say
(``nasbook.knowledge.TransferPrior``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, unknown_choice
from nasbook.predictors._base import BasePredictor, Calibration, Target
from nasbook.predictors._ensemble import _member
from nasbook.predictors._metrics import kendall_tau
from nasbook.space import Architecture

HOWS: tuple[str, ...] = ("residual", "feature")
TASK_WEIGHTS: tuple[str, ...] = ("fixed", "agreement")


def prior_values(owner: str, prior: Any, archs: Sequence[Architecture]) -> np.ndarray:
    """``prior.predict(archs)`` (or ``prior(archs)``) as finite floats, one per architecture."""
    fn = getattr(prior, "predict", None)
    fn = fn if callable(fn) else prior
    try:
        out = np.asarray(fn(list(archs)), dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{owner}: the prior did not give one number per architecture: {exc}") from None
    if len(out) != len(archs):
        raise InvalidParameterError(f"{owner}: the prior gave {len(out)} values for {len(archs)} architectures.")
    bad = ~np.isfinite(out)
    if bad.any():
        raise InvalidParameterError(f"{owner}: the prior's value for {archs[int(np.argmax(bad))].id!r} is not finite.")
    return out


def prior_task_values(owner: str, prior: Any, archs: Sequence[Architecture]) -> np.ndarray:
    """``prior.predict_tasks(archs)`` as an (n, tasks) array of finite floats."""
    fn = getattr(prior, "predict_tasks", None)
    if not callable(fn):
        raise InvalidParameterTypeError(
            f"{owner}(task_weights='agreement') needs a prior with predict_tasks(archs) (one prediction per past "
            f"task, as nasbook.knowledge.TransferPrior has); {type(prior).__name__} has none: use task_weights='fixed'.")
    per = fn(list(archs))
    cols = [np.asarray(v, dtype=np.float64).reshape(-1) for v in (per.values() if isinstance(per, dict) else per)]
    if not cols or any(len(c) != len(archs) for c in cols):
        raise InvalidParameterError(f"{owner}: the prior's predict_tasks did not give one number per architecture and task.")
    out = np.stack(cols, axis=1)
    if not np.isfinite(out).all():
        raise InvalidParameterError(f"{owner}: the prior's predict_tasks gave a value that is not finite.")
    return out


def agreement_weights(P: np.ndarray, z: np.ndarray, power: float = 1.0, floor: float = 0.0) -> np.ndarray:
    """Each past task's weight: its Kendall tau with the observed scores on the observed
    architectures, floored at 0 (a task that ranks them backwards or at random gets none)."""
    if len(z) < 3:
        return np.ones(P.shape[1]) / P.shape[1]
    w = np.zeros(P.shape[1])
    for j in range(P.shape[1]):
        tau = kendall_tau(z, P[:, j])  # NaN (a constant column or scores): no weight
        w[j] = max(tau - floor, 0.0) ** power if np.isfinite(tau) else 0.0
    return w


class PriorPredictor(BasePredictor):
    """A surrogate with a prior: a score per architecture known before any is trained (e.g.
    :class:`nasbook.knowledge.TransferPrior`, what similar past tasks say), corrected by the
    architectures trained on this task.

    ``how="residual"`` (default): the latent targets are regressed on the standardised prior
    (least squares through the training architectures, slope shrunk towards 0 by ``shrink``
    pseudo-observations), and ``model`` learns what the prior misses, with the prior as one of its
    features; the prediction is slope * prior + the model's. An uninformative prior gets a slope
    near 0 and leaves the model alone. ``how="feature"``: the prior is only one more feature.

    Parameters
    ----------
    prior : object with ``predict(archs)``, or a callable ``archs -> scores``
        Higher or lower is better: the slope learns its direction.
    model : str or BasePredictor
        The surrogate of the residual (a registered name or an instance, cloned). Default a
        random forest.
    how : {"residual", "feature"}
        Correct the prior by a regression on it plus a model of the residual (default), or give it to the model as one more feature.
    shrink : float
        Pseudo-observations pulling the slope towards 0 (>= 0). Default 2.
    task_weights : {"fixed", "agreement"}
        ``"fixed"`` (default): the prior's own ``predict``. ``"agreement"``: the prior's past tasks
        (``prior.predict_tasks(archs)``, as :class:`~nasbook.knowledge.TransferPrior` has) are
        reweighted by how well each ranks the training architectures (Kendall tau with their
        scores, floored at 0; the task-similarity weighting of RGPE, Feurer et al. 2018), so a past
        task that disagrees with this one drops out; when none agrees the prior is flat and the
        model learns alone.
    features, target, calibration, seed
        See :class:`BasePredictor`.
    """

    alias: ClassVar[str] = "prior"
    _power: ClassVar[float] = 1.0
    _null_sds: ClassVar[float] = 0.0  # probe: agreement counted above this many null sds of tau

    def __init__(self, prior: Any = None, model: str | BasePredictor = "random-forest", how: str = "residual",
                 shrink: float = 2.0, task_weights: str = "fixed", features: str | Sequence[str] = "auto", target: Target = "rank",
                 calibration: Calibration = "cv", seed: int | None = None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.prior = prior
        self.model = model
        self.how = how
        self.shrink = shrink
        self.task_weights = task_weights

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.prior is None or not (callable(getattr(self.prior, "predict", None)) or callable(self.prior)):
            raise InvalidParameterTypeError(
                "PriorPredictor(prior=...) must be an object with predict(archs) (e.g. nasbook.knowledge.TransferPrior) "
                f"or a callable archs -> scores; got {self.prior!r:.60} of type {type(self.prior).__name__}.")
        if self.how not in HOWS:
            raise unknown_choice("PriorPredictor(how=...)", self.how, HOWS)
        s = self.shrink
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not (np.isfinite(s) and s >= 0):
            raise InvalidParameterError(f"PriorPredictor(shrink=...) must be a finite number >= 0; got {s!r}.")
        if self.task_weights not in TASK_WEIGHTS:
            raise unknown_choice("PriorPredictor(task_weights=...)", self.task_weights, TASK_WEIGHTS)
        if self.task_weights == "agreement" and not callable(getattr(self.prior, "predict_tasks", None)):
            prior_task_values("PriorPredictor", self.prior, [])
        if isinstance(self.model, PriorPredictor):
            raise InvalidParameterTypeError("PriorPredictor(model=...) must be a model, not another PriorPredictor.")
        self._built = _member("PriorPredictor(model=...)", self.model, self.seed)

    def _encode(self, archs: Sequence[Architecture]) -> np.ndarray:
        X = super()._encode(archs)
        if self.task_weights == "agreement":
            P = prior_task_values(type(self).__name__, self.prior, archs)
            self._n_tasks = P.shape[1]
            return np.hstack([X, P])
        self._n_tasks = 1
        p = prior_values(f"{type(self).__name__}", self.prior, archs)
        return np.hstack([X, p[:, None]])

    def _split(self, X: np.ndarray, fitting: bool, z: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The encodings and the (combined) prior column of ``X``; fitting sets the task weights."""
        k = self._n_tasks
        if self.task_weights != "agreement":
            return X[:, :-1], X[:, -1]
        P = X[:, -k:]
        if fitting:
            assert z is not None
            n = len(z)
            null_sd = float(np.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1)))) if n > 1 else 0.0
            w = agreement_weights(P, z, self._power, self._null_sds * null_sd)
            self.task_weights_ = w / w.sum() if w.sum() > 0 else w
        return X[:, :-k], P @ self.task_weights_

    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        X, p = self._split(X, True, z)
        self.p_mean_, sd = float(p.mean()), float(p.std())
        self.p_scale_ = sd if sd > 1e-12 else 1.0
        ps = (p - self.p_mean_) / self.p_scale_
        Xs = np.hstack([X, ps[:, None]])
        if self.how == "residual":
            zc = z - z.mean()
            self.slope_ = float(np.dot(ps, zc) / (np.dot(ps, ps) + float(self.shrink)))
            self.offset_ = float(z.mean())
            target = z - self.offset_ - self.slope_ * ps
        else:
            self.slope_, self.offset_ = 0.0, 0.0
            target = z
        self._built._fit(Xs, target)
        self.model_ = self._built

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X, p = self._split(X, False)
        ps = (p - self.p_mean_) / self.p_scale_
        mean, std = self.model_._predict(np.hstack([X, ps[:, None]]))
        return self.offset_ + self.slope_ * ps + np.asarray(mean), std
