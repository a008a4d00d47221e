"""The fitted learning-curve prior of :class:`~nasbook.strategies.CurveStopping`: what it learned from,
the static features it needs, and the weight a rung gives an observed value against a prediction.

The bodies of ``CurveStopping._check_features`` and ``_value_weight`` (kept there); each takes the
strategy as its first argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook._errors import InvalidParameterError
from nasbook.predictors import BaseCurvePredictor, LearnedCurves

if TYPE_CHECKING:
    from nasbook.strategies._curve_stopping import CurveStopping


def prior_of(pred: LearnedCurves) -> dict[str, Any]:
    """The curves a fitted ``LearnedCurves`` learned from, in the task's own direction."""
    sign = 1.0 if pred.mode == "max" else -1.0
    return {"curves": [np.asarray(r) * sign for r in pred.curves_],
            "covariates": {k: list(v) for k, v in pred.covariates_.items()},
            "features": None if pred.features_ is None else np.asarray(pred.features_)}


def check_features(cs: CurveStopping, pred: BaseCurvePredictor) -> None:
    """Refuse ``features=`` that do not match what the fitted predictor learned with."""
    width = getattr(pred, "n_features_", 0) if cs.prior_ is not None else 0
    if cs.features is None:
        if width:
            raise InvalidParameterError(
                f"{type(cs).__name__}(predictor=...) was fitted with {width} static features per curve; pass the "
                "encoding it was fitted with as features=... (e.g. features='graf').")
        return
    if cs.prior_ is not None and not width:
        raise InvalidParameterError(
            f"{type(cs).__name__}(features={cs.features!r}): the fitted predictor learned without static "
            "features; fit it with features=space.encode_many(archs, ...) too, or pass features=None.")
    enc = cs._encode(cs.space_.sample(np.random.default_rng(0)))
    if width and enc.shape[0] != width:
        raise InvalidParameterError(
            f"{type(cs).__name__}(features={cs.features!r}) encodes an architecture of this space in "
            f"{enc.shape[0]} numbers, but the predictor was fitted with {width} features per curve.")


def value_weight(cs: CurveStopping, epoch: int, target: int) -> float | None:
    """The weight of the observed value at ``epoch`` against the prediction of ``target`` (see
    :meth:`CurveStopping.value_weight`), from the prior's 5-fold cross-validated predictions."""
    from nasbook.predictors import kendall_tau

    prior = cs.prior_
    if prior is None or not isinstance(cs.predictor_, LearnedCurves):
        return None
    sign = 1.0 if cs.mode_ == "max" else -1.0
    idx = [i for i, c in enumerate(prior["curves"]) if len(c) >= target]
    if len(idx) < 10:
        return None
    curves = np.stack([np.asarray(prior["curves"][i][:target], dtype=np.float64) for i in idx])
    covs = {k: np.stack([np.asarray(v[i][:target], dtype=np.float64) for i in idx]) for k, v in prior["covariates"].items()}
    feats = None if prior["features"] is None else np.asarray(prior["features"])[idx]
    final = sign * curves[:, -1]
    folds = np.random.default_rng(0).permutation(len(idx)) % 5
    pred = np.zeros(len(idx))
    for k in range(5):
        tr, te = folds != k, folds == k
        model = cs.predictor_.clone()
        model.mode = cs.mode_  # type: ignore[assignment]
        model.min_curves = min(model.min_curves, int(tr.sum()))
        model.fit(curves[tr], {c: v[tr] for c, v in covs.items()}, None if feats is None else feats[tr])
        got, _ = model.predict_arrays(curves[te, :epoch], target, {c: v[te, :epoch] for c, v in covs.items()},
                                      None if feats is None else feats[te])
        pred[te] = sign * got
    tv, tp = kendall_tau(final, sign * curves[:, epoch - 1]), kendall_tau(final, pred)
    tv, tp = (max(0.0, t) if t == t else 0.0 for t in (tv, tp))
    return float(tv**2 / (tv**2 + tp**2)) if tv + tp > 0 else 0.0
