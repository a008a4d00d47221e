"""Early stopping from learning-curve predictions: stop a trial whose predicted final value is
confidently below the current k-th best."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int
from nasbook.predictors import BaseCurvePredictor, LearnedCurves, get_curve_predictor
from nasbook.strategies._base import BaseStrategy, Proposal, WrapsBase
from nasbook.trial import WAIT, Decision, TrialState, Wait

if TYPE_CHECKING:
    from nasbook.space import Architecture
    from nasbook.trial import Trial

#: trial attrs this strategy records (the last prediction made while the trial ran)
ATTRS = ("predicted_final", "predicted_final_std", "predicted_at_epoch", "predicted_reference", "stopped_by_prediction")


class CurveStopping(WrapsBase):
    """Stop a running trial when its predicted final value is confidently below the k-th best.

    After every epoch of a running trial, a curve predictor (:mod:`nasbook.predictors`:
    ``"parametric"``, ``"learned"``, ``"last-value"``, ``"pow3"`` or an instance) extrapolates its
    objective to ``max_epochs``; the trial is stopped when the upper end of the one-sided
    ``confidence`` interval, ``mean + z * std``, is below the k-th best final value observed so far
    (``mean - z * std`` above it when minimising). Until ``k`` trials have reached ``max_epochs``
    nothing is stopped. A stopped trial ends PRUNED with the epochs and curves it reached and
    ``base`` is told of it.

    ``base`` may be any strategy, including a multi-fidelity scheduler or another wrapper
    (``CurveStopping(base=ASHA(...))``): its proposals (epochs, checkpoints to continue) pass
    through unchanged, and its own ``on_report`` decisions are obeyed first. A continued trial
    (an ASHA promotion) reports only its new epochs; its prefix is its parent's curve when exactly
    one pending continuation starts at that epoch, otherwise it is not predicted.

    A ``LearnedCurves`` predictor is trained on the trials of this search that reached
    ``max_epochs`` (objective, with the other reported metrics as covariates), once it has
    ``min_curves`` of them; until then the ``fallback`` predictor decides (None: nothing is
    stopped), so the first epochs of the search are not all spent on full trainings.

    Each trial's last prediction is stored with it as attrs (``predicted_final``,
    ``predicted_final_std``, ``predicted_at_epoch``, ``predicted_reference``,
    ``stopped_by_prediction``): the trial's repr and the live monitor show them.

    Parameters
    ----------
    base : str or BaseStrategy, default "random"
    predictor : str or BaseCurvePredictor, default "parametric"
    k : int, default 3
        Compare with the k-th best final value.
    confidence : float, default 0.95
        One-sided probability (normal) that the trial ends below the k-th best before it is stopped.
    min_epochs : int, default 1
        Never stop before this many epochs (nor before the predictor's shortest curve).
    fallback : str or BaseCurvePredictor or None, default "parametric"
        Predicts while a ``LearnedCurves`` predictor has too few full curves to be fitted.
    max_epochs : int, optional
        The epoch whose value is predicted; None: ``base.max_epochs`` for a scheduler, else the
        longest curve of the trials told so far (a trial without a fidelity trains them all).
    seed : int, optional
    """

    alias: ClassVar[str] = "curve-stopping"

    def __init__(self, base: str | BaseStrategy = "random", predictor: str | BaseCurvePredictor = "parametric",
                 k: int = 3, confidence: float = 0.95, min_epochs: int = 1, max_epochs: int | None = None,
                 seed: int | None = None, fallback: str | BaseCurvePredictor | None = "parametric"):
        super().__init__(seed=seed)
        self.base = base
        self.predictor = predictor
        self.k = k
        self.confidence = confidence
        self.min_epochs = min_epochs
        self.max_epochs = max_epochs
        self.fallback = fallback

    @property
    def continues_trials(self) -> bool:  # type: ignore[override]  # follows the base
        from nasbook.strategies._registry import strategy_class

        base = self.base
        if isinstance(base, BaseStrategy):
            return bool(base.continues_trials)
        if isinstance(base, dict):
            base = base.get("alias") or base.get("class", "")
        try:
            return bool(strategy_class(str(base)).continues_trials)
        except InvalidParameterError:
            return False

    def _check_base(self) -> None:
        if not isinstance(self.base, (str, BaseStrategy, dict)):
            raise InvalidParameterTypeError(
                f"{type(self).__name__}(base=...) must be a strategy name such as 'random' or 'asha' or a BaseStrategy "
                f"instance; got {self.base!r:.60} of type {type(self.base).__name__}."
            )
        if isinstance(self.base, str):
            from nasbook.strategies._registry import strategy_class

            strategy_class(self.base)

    def _validate_params(self) -> None:
        super()._validate_params()
        name = type(self).__name__
        check_int(name, "k", self.k, minimum=1)
        check_int(name, "min_epochs", self.min_epochs, minimum=1)
        check_int(name, "max_epochs", self.max_epochs, minimum=2, allow_none=True)
        c = self.confidence
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0.5 <= c < 1:
            raise InvalidParameterError(f"{name}(confidence=...) must be a number in [0.5, 1); got {c!r}.")
        get_curve_predictor(self.predictor)
        if self.fallback is not None:
            if isinstance(get_curve_predictor(self.fallback), LearnedCurves):
                raise InvalidParameterError(f"{name}(fallback=...) must predict without training (e.g. 'parametric', "
                                            f"'last-value') or be None; got {self.fallback!r}.")
        self._check_base()

    def to_config(self) -> dict[str, Any]:
        cfg = super().to_config()
        p = self.predictor
        cfg["params"]["predictor"] = p if isinstance(p, str) else repr(p)
        f = self.fallback
        cfg["params"]["fallback"] = f if f is None or isinstance(f, str) else repr(f)
        return cfg

    # -- lifecycle ----------------------------------------------------------------------------
    def _setup(self) -> None:
        from scipy.stats import norm

        self.base_ = self._setup_base()
        pred = get_curve_predictor(self.predictor).clone()
        pred.mode = self.mode_  # type: ignore[assignment]
        self.predictor_ = pred
        fb = None if self.fallback is None else get_curve_predictor(self.fallback).clone()
        if fb is not None:
            fb.mode = self.mode_  # type: ignore[assignment]
        self.fallback_ = fb
        self.z_ = float(norm.ppf(self.confidence))
        self.finals_: list[float] = []  # observed values at max_epochs, higher is better
        self.longest_ = 0
        self.full_curves_: list[dict[str, list[float]]] = []  # told trials that reached max_epochs
        self.told_curves_: dict[int, dict[str, list[float]]] = {}
        self.pending_: list[int] = []  # parents of continuations asked and not yet told
        self.history_: dict[int, dict[str, list[float]] | None] = {}  # running trials' curves (None: no prefix)
        self.predictions_: dict[int, dict[str, Any]] = {}
        self.n_stopped_ = 0
        self.n_fitted_ = 0

    def _note(self, asked: Architecture | Proposal | Wait) -> Architecture | Proposal | Wait:
        if isinstance(asked, Proposal) and asked.parent is not None:
            self.pending_.append(asked.parent)
        return asked

    def _ask(self) -> Architecture | Proposal | Wait:
        return self._note(self.base_.ask())

    def _replay_ask(self, arch: Architecture) -> Architecture | Proposal | Wait:
        asked = self._note(self.base_._replay_ask(arch))
        if asked is not WAIT:
            self.seen_.add(asked.arch.id if isinstance(asked, Proposal) else asked.id)  # type: ignore[union-attr]
        return asked

    def target_epoch(self) -> int | None:
        """The epoch whose value is predicted (None while unknown)."""
        if self.max_epochs is not None:
            return int(self.max_epochs)
        scheduled = getattr(self.base_, "max_epochs", None)
        if isinstance(scheduled, int):
            return scheduled
        return self.longest_ or None

    def reference(self) -> float | None:
        """The k-th best observed final value (in the task's units), None before k trials got there."""
        if len(self.finals_) < self.k:
            return None
        v = sorted(self.finals_, reverse=True)[self.k - 1]
        return v if self.mode_ == "max" else -v

    def _tell(self, trial: Trial) -> None:
        self.base_.tell(trial)
        self.history_.pop(trial.number, None)
        self.predictions_.pop(trial.number, None)
        if trial.parent is not None and trial.parent in self.pending_:
            self.pending_.remove(trial.parent)
        curves = {k: list(v) for k, v in (trial.curves or {}).items()}
        curve = curves.get(self.metric_ or "", [])
        if not curve:
            return
        self.told_curves_[trial.number] = curves
        if trial.state is TrialState.COMPLETE:
            self.longest_ = max(self.longest_, len(curve))
        target = self.target_epoch()
        if target is not None and len(curve) >= target and curve[target - 1] == curve[target - 1]:
            v = float(curve[target - 1])
            self.finals_.append(v if self.mode_ == "max" else -v)
            self.full_curves_.append({k: v[:target] for k, v in curves.items()})
            self._refit(target)

    def _refit(self, target: int) -> None:
        pred = self.predictor_
        if not isinstance(pred, LearnedCurves):
            return
        usable = [c for c in self.full_curves_ if len(c.get(self.metric_ or "", [])) >= target]
        if len(usable) < pred.min_curves or len(usable) == self.n_fitted_:
            return
        names = set.intersection(*(set(c) for c in usable)) - {self.metric_}
        finite = [c for c in usable if all(math.isfinite(x) for k in (*names, self.metric_) for x in c[k or ""][:target])]
        if len(finite) < pred.min_curves:
            return
        pred.fit([c[self.metric_ or ""][:target] for c in finite], {n: [c[n][:target] for c in finite] for n in sorted(names)})
        self.n_fitted_ = len(usable)

    # -- the rule -------------------------------------------------------------------------------
    def _history(self, number: int, epoch: int) -> dict[str, list[float]] | None:
        if number in self.history_:
            return self.history_[number]
        hist: dict[str, list[float]] | None = {}
        if epoch > 0:  # a continuation: its prefix is its parent's curve, if the parent is certain
            parents = [p for p in self.pending_ if len(self.told_curves_.get(p, {}).get(self.metric_ or "", [])) == epoch]
            if len(parents) == 1:
                self.pending_.remove(parents[0])
                hist = {k: list(v[:epoch]) for k, v in self.told_curves_[parents[0]].items()}
            else:
                hist = None
        self.history_[number] = hist
        return hist

    def on_report(self, number: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        if self.base_.on_report(number, epoch, metrics) is Decision.STOP:
            return Decision.STOP
        if self.metric_ is None or self.metric_ not in metrics:
            return Decision.CONTINUE
        hist = self._history(number, epoch)
        if hist is None:
            return Decision.CONTINUE
        for k, v in metrics.items():
            hist.setdefault(k, []).append(float(v))
        curve = hist[self.metric_]
        if len(curve) != epoch + 1:  # a gap in the reports: no honest prefix
            self.history_[number] = None
            return Decision.CONTINUE
        n = len(curve)
        target, ref = self.target_epoch(), self.reference()
        pred: BaseCurvePredictor | None = self.predictor_
        if isinstance(pred, LearnedCurves) and (not hasattr(pred, "models_") or target is None or target > pred.n_epochs_):
            pred = self.fallback_  # not trained yet (or not to this epoch)
        if pred is None or target is None or ref is None or n >= target or n < max(self.min_epochs, pred.min_length):
            return Decision.CONTINUE
        if any(not math.isfinite(x) for x in curve):
            return Decision.CONTINUE  # a NaN is the training-health checks' business
        covariates = None
        if isinstance(pred, LearnedCurves):
            names = pred.covariate_names_
            if any(len(hist.get(c, [])) != n or not all(map(math.isfinite, hist[c])) for c in names):
                return Decision.CONTINUE
            covariates = {c: [hist[c]] for c in names}
        mean_a, std_a = pred.predict_arrays([curve], target, covariates)
        mean, std = float(mean_a[0]), float(std_a[0])
        spread = self.z_ * (std if std == std else math.inf)
        stop = mean + spread < ref if self.mode_ == "max" else mean - spread > ref
        self.predictions_[number] = {"predicted_final": mean, "predicted_final_std": std, "predicted_at_epoch": n,
                                     "predicted_reference": ref, "stopped_by_prediction": bool(stop)}
        if stop:
            self.n_stopped_ += 1
            return Decision.STOP
        return Decision.CONTINUE

    def trial_attrs(self, number: int) -> dict[str, Any]:
        out = dict(self.base_.trial_attrs(number)) if hasattr(self, "base_") else {}
        out.update(getattr(self, "predictions_", {}).get(number, {}))
        return out
