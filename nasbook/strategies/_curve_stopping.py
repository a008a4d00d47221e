"""Early stopping from learning-curve predictions: stop a trial whose predicted final value is
confidently below the current k-th best."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int
from nasbook.predictors import BaseCurvePredictor, LearnedCurves, get_curve_predictor
from nasbook.strategies import _curve_prior
from nasbook.strategies._base import BaseStrategy, Proposal, validate_nested
from nasbook.strategies._reported import ReportedNames
from nasbook.strategies._wraps import WrapsBase, refuse_base_class
from nasbook.trial import WAIT, Decision, Trial, TrialState, Wait

if TYPE_CHECKING:
    from nasbook.space import Architecture

#: trial attrs this strategy records (the last prediction made while the trial ran)
ATTRS = ("predicted_final", "predicted_final_std", "predicted_at_epoch", "predicted_reference", "predicted_p_reference",
         "predicted_value_weight", "stopped_by_prediction")


class CurveStopping(WrapsBase):
    """Stop a running trial when its predicted final value is confidently below the k-th best.

    After every epoch of a running trial, a curve predictor (:mod:`nasbook.predictors`:
    ``"parametric"``, ``"learned"``, ``"last-value"``, ``"pow3"`` or an instance) extrapolates its
    objective to ``max_epochs`` as a normal (mean, predictive std); the trial is stopped when the
    probability that its final value reaches the k-th best final value observed so far,
    ``P(final >= reference)`` (``<=`` when minimising), is below ``1 - confidence``. Until ``k``
    trials have reached ``max_epochs`` nothing is stopped. A stopped trial ends PRUNED with the epochs and curves it reached and
    ``base`` is told of it.

    ``base`` may be any strategy, including a multi-fidelity scheduler or another wrapper
    (``CurveStopping(base=ASHA(...))``): its proposals (epochs, checkpoints to continue) pass
    through unchanged, and its own ``on_report`` decisions are obeyed first. A continued trial
    (an ASHA promotion) reports only its new epochs; its prefix is its parent's curve when exactly
    one pending continuation starts at that epoch, otherwise it is not predicted. With
    ``ASHA(rank_by="prediction")`` as base, ASHA's rungs rank trials by this rule's predicted final
    value instead of the value after the rung's few epochs: the composition that works on both
    bundled curve tables (``docs/benchmarks.md``, sections 10s and 10s-round5). With
    ``ASHA(rank_by="blend")`` and a prior, a rung ranks by the prediction's rank blended with the
    observed value's, weighted by how well each ranks the prior's own curves at that epoch
    (:meth:`value_weight`, recorded as ``predicted_value_weight``).

    A ``LearnedCurves`` predictor is trained on the trials of this search that reached
    ``max_epochs`` (objective, with the other reported metrics as covariates), once it has
    ``min_curves`` of them; until then the ``fallback`` predictor decides (None: nothing is
    stopped), so the first epochs of the search are not all spent on full trainings.

    An informed start: pass a ``LearnedCurves`` already fitted on the full curves of earlier
    searches (another table, a :class:`~nasbook.knowledge.KnowledgeBase`'s trials' curves) as
    ``predictor``; it decides from the first trial on, and is refitted on those curves plus this
    search's full ones as they come. ``features`` (an encoding name of the space, e.g. ``"graf"``):
    the running trial's architecture encoding is given to the learned predictor as static
    features (a prior must then have been fitted with features of that encoding).

    Each trial's last prediction is stored with it as attrs (``predicted_final``,
    ``predicted_final_std``, ``predicted_at_epoch``, ``predicted_reference``,
    ``stopped_by_prediction``): the trial's repr and the live monitor show them.

    Parameters
    ----------
    base : str or BaseStrategy, default "random"
        The strategy that proposes architectures (a name, an instance or a scheduler); its proposals pass through.
    predictor : str or BaseCurvePredictor, default "parametric"
        The curve predictor that extrapolates each running trial: a name or an instance.
    k : int, default 3
        Compare with the k-th best final value.
    confidence : float, default 0.95
        A trial is stopped when ``P(final >= k-th best) < 1 - confidence`` under the predictor's
        normal predictive distribution.
    min_epochs : int, default 1
        Never stop before this many epochs (nor before the predictor's shortest curve); below ``max_epochs``.
    fallback : str or BaseCurvePredictor or None, default "parametric"
        Predicts while a ``LearnedCurves`` predictor has too few full curves to be fitted.
    max_epochs : int, optional
        The epoch whose value is predicted; None: ``base.max_epochs`` for a scheduler, else the
        longest curve of the trials told so far (a trial without a fidelity trains them all).
    prior_quantile : float, optional
        With a fitted ``predictor`` (an informed start): the reference is never below this
        quantile of the final values the prior learned from (e.g. 0.9: a trial must be likely to
        end among the top 10% of the earlier searches' architectures, or beat the k-th best of
        this one, whichever is higher), and it applies from the first trial on. None: off.
    features : str, optional
        An encoding of the space (``space.encode_many(archs, features)``) given to a
        ``LearnedCurves`` predictor as static per-trial features; None: none.
    seed : int, optional
        Seeds this strategy's own choices (and, drawn from it, the wrapped one's); None: the search's seed.
    """

    alias: ClassVar[str] = "curve-stopping"
    needs_epochs: ClassVar[str] = "stops running trials from their per-epoch learning curves"

    def __init__(self, base: str | BaseStrategy = "random", predictor: str | BaseCurvePredictor = "parametric",
                 k: int = 3, confidence: float = 0.95, min_epochs: int = 1, max_epochs: int | None = None,
                 seed: int | None = None, fallback: str | BaseCurvePredictor | None = "parametric",
                 features: str | None = None, prior_quantile: float | None = None):
        super().__init__(seed=seed)
        refuse_base_class(self, base)  # at once, as Search(strategy=RandomSearch) is refused
        self.base = base
        self.predictor = predictor
        self.k = k
        self.confidence = confidence
        self.min_epochs = min_epochs
        self.max_epochs = max_epochs
        self.fallback = fallback
        self.features = features
        self.prior_quantile = prior_quantile

    def _base_says(self, flag: str) -> bool:  # the base's class attribute (continues_trials, keeps_checkpoints)
        from nasbook.strategies._registry import strategy_class

        base = self.base
        if isinstance(base, BaseStrategy):
            return bool(getattr(base, flag))
        if isinstance(base, dict):
            base = base.get("alias") or base.get("class", "")
        try:
            return bool(getattr(strategy_class(str(base)), flag))
        except InvalidParameterError:  # pragma: no cover - refused by _check_base
            return False

    @property
    def continues_trials(self) -> bool:  # type: ignore[override]  # follows the base
        return self._base_says("continues_trials")

    @property
    def keeps_checkpoints(self) -> bool:  # type: ignore[override]  # follows the base (ASHA: on disk)
        return self._base_says("keeps_checkpoints")

    def checkpoints_needed(self) -> set[int] | None:  # the base's: those its promotions may still continue
        base = getattr(self, "base_", None)
        return base.checkpoints_needed() if isinstance(base, BaseStrategy) else None

    def _check_base(self) -> None:
        from nasbook.strategies._registry import refuse_class

        refuse_class(f"{type(self).__name__}(base=...)", self.base)  # as Search(strategy=RandomSearch) is refused
        if not isinstance(self.base, (str, BaseStrategy, dict)):
            raise InvalidParameterTypeError(
                f"{type(self).__name__}(base=...) must be a strategy name such as 'random' or 'asha' or a BaseStrategy "
                f"instance; got {self.base!r:.60} of type {type(self.base).__name__}."
            )
        if isinstance(self.base, str):
            from nasbook.strategies._registry import named_strategy

            named_strategy(f"{type(self).__name__}(base=...)", self.base)
        elif isinstance(self.base, BaseStrategy) and self.base is not self:
            validate_nested(f"{type(self).__name__}(base=...)", self.base)

    def _validate_params(self) -> None:
        super()._validate_params()
        name = type(self).__name__
        self.k = check_int(name, "k", self.k, minimum=1)
        self.min_epochs = check_int(name, "min_epochs", self.min_epochs, minimum=1)
        self.max_epochs = check_int(name, "max_epochs", self.max_epochs, minimum=2, allow_none=True)
        if self.max_epochs is not None and self.min_epochs >= self.max_epochs:  # no trial would ever be predicted, nor stopped
            raise InvalidParameterError(f"{name}(min_epochs=...) must be below max_epochs={self.max_epochs}; got {self.min_epochs}.")
        if isinstance(c := self.confidence, bool) or not isinstance(c, (int, float)) or not 0.5 <= c < 1:
            raise InvalidParameterError(f"{name}(confidence=...) must be a number in [0.5, 1); got {c!r}.")
        get_curve_predictor(self.predictor, owner=f"{name}(predictor=...)")
        if self.fallback is not None and isinstance(get_curve_predictor(self.fallback, owner=f"{name}(fallback=...)"), LearnedCurves):
            raise InvalidParameterError(f"{name}(fallback=...) must predict without training (e.g. 'parametric', "
                                        f"'last-value') or be None; got {self.fallback!r}.")
        q = self.prior_quantile
        if q is not None and (isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 <= q <= 1):
            raise InvalidParameterError(f"{name}(prior_quantile=...) must be a number in [0, 1] or None; got {q!r}.")
        if self.features is not None and not isinstance(self.features, str):
            raise InvalidParameterTypeError(f"{name}(features=...) must be an encoding name of the space such as 'graf', "
                                            f"or None; got {self.features!r:.60} of type {type(self.features).__name__}.")
        self._check_base()

    def to_config(self) -> dict[str, Any]:
        cfg, p, f = super().to_config(), self.predictor, self.fallback
        cfg["params"]["predictor"] = p if isinstance(p, str) else repr(p)
        cfg["params"]["fallback"] = f if f is None or isinstance(f, str) else repr(f)
        return cfg

    # -- lifecycle ----------------------------------------------------------------------------
    def _setup(self) -> None:
        from scipy.stats import norm

        self.base_ = self._setup_base()
        given = get_curve_predictor(self.predictor)
        self.prior_: dict[str, Any] | None = None
        pred: BaseCurvePredictor
        if isinstance(given, LearnedCurves) and hasattr(given, "models_"):  # fitted: an informed start
            self.prior_ = _curve_prior.prior_of(given)
            pred = copy.deepcopy(given)
            if pred.mode != self.mode_:  # refit in this search's direction
                pred.mode = self.mode_  # type: ignore[assignment]
                pred.fit(self.prior_["curves"], self.prior_["covariates"], self.prior_["features"])
        else:
            pred = given.clone()
            pred.mode = self.mode_  # type: ignore[assignment]
        self.predictor_ = pred
        self._check_features(pred)
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
        self.n_stopped_, self.reported_ = 0, ReportedNames(type(self).__name__)  # warns if no report has the metric
        self.n_fitted_ = 0
        self.encoded_: dict[int, Any] = {}  # running trial number -> its architecture's features
        self.full_features_: list[Any] = []  # features of full_curves_ (None: not encoded)
        self.value_weights_: dict[tuple[int, int], float | None] = {}  # (epoch, target) -> value weight

    def _check_features(self, pred: BaseCurvePredictor) -> None:
        _curve_prior.check_features(self, pred)

    def _encode(self, arch: Architecture) -> np.ndarray:
        return np.asarray(self.space_.encode_many([arch], self.features or ""), dtype=np.float64)[0]

    def on_start(self, number: int, proposal: Proposal) -> None:
        self.base_.on_start(number, proposal)
        if self.features is not None and isinstance(self.predictor_, LearnedCurves):
            self.encoded_[number] = self._encode(proposal.arch)

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
        """The epoch whose value is predicted (None while unknown).

        Returns
        -------
        int or None
            ``max_epochs`` when set, else the wrapped scheduler's ``max_epochs``, else the prior's
            curve length (before any trial finished), else the longest curve seen so far; None when
            none of these is known yet.
        """
        if self.max_epochs is not None:
            return int(self.max_epochs)
        scheduled = getattr(self.base_, "max_epochs", None)
        if isinstance(scheduled, int):
            return scheduled
        if self.longest_ == 0 and getattr(self, "prior_", None) is not None:
            return int(self.predictor_.n_epochs_)  # type: ignore[attr-defined]  # the prior's curves' length
        return self.longest_ or None

    def reference(self) -> float | None:
        """The k-th best observed final value, the bar a running trial's prediction must reach.

        With ``prior_quantile``, it is at least that quantile of the fitted prior's final values.

        Returns
        -------
        float or None
            In the task's units (sign as the task reports it); None before ``k`` trials reached the
            target epoch and without a prior floor.
        """
        best = sorted(self.finals_, reverse=True)[self.k - 1] if len(self.finals_) >= self.k else None
        floor = self._prior_floor()
        if floor is not None:
            best = floor if best is None else max(best, floor)
        if best is None:
            return None
        return best if self.mode_ == "max" else -best

    def _prior_floor(self) -> float | None:
        """The ``prior_quantile`` of the prior's values at the target epoch (higher is better), or None."""
        target = self.target_epoch()
        if self.prior_quantile is None or self.prior_ is None or target is None:
            return None
        sign = 1.0 if self.mode_ == "max" else -1.0
        vals = [sign * float(c[target - 1]) for c in self.prior_["curves"] if len(c) >= target]
        return float(np.quantile(vals, self.prior_quantile)) if vals else None

    def _tell(self, trial: Trial) -> None:
        self.base_.tell(trial)
        self.reported_.check(self.metric_)
        for running in (self.history_, self.predictions_, self.encoded_):
            running.pop(trial.number, None)
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
            self.full_features_.append(self._encode(trial.arch) if self.features is not None else None)
            self._refit(target)

    def _refit(self, target: int) -> None:
        pred = self.predictor_
        if not isinstance(pred, LearnedCurves):
            return
        metric, prior = self.metric_ or "", self.prior_
        usable = [i for i, c in enumerate(self.full_curves_) if len(c.get(metric, [])) >= target]
        if len(usable) == self.n_fitted_ or (prior is None and len(usable) < pred.min_curves):
            return
        if prior is not None:
            names = set(prior["covariates"])
            usable = [i for i in usable if names <= set(self.full_curves_[i])]
        else:
            names = set.intersection(*(set(self.full_curves_[i]) for i in usable)) - {metric}
        finite = [i for i in usable if all(math.isfinite(x) for k in (*names, metric) for x in self.full_curves_[i][k][:target])]
        if self.features is not None:
            finite = [i for i in finite if self.full_features_[i] is not None]
        if prior is None and len(finite) < pred.min_curves:
            return
        own = [self.full_curves_[i] for i in finite]
        curves = [c[metric][:target] for c in own]
        covs = {n: [c[n][:target] for c in own] for n in sorted(names)}
        feats = [self.full_features_[i] for i in finite] if self.features is not None else None
        if prior is not None:  # the earlier searches' curves, then this one's
            curves = list(prior["curves"]) + curves
            covs = {n: list(prior["covariates"][n]) + v for n, v in covs.items()}
            if feats is not None and prior["features"] is not None:
                feats = list(prior["features"]) + feats
        pred.fit(curves, covs, features=None if feats is None else np.stack(feats))
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
        if not self.reported_.saw(self.metric_, metrics):  # no metric to extrapolate
            return Decision.CONTINUE
        hist = self._history(number, epoch)
        if hist is None:
            return Decision.CONTINUE
        for k, v in metrics.items():
            hist.setdefault(k, []).append(float(v))
        curve = hist[self.metric_ or ""]  # saw it
        if len(curve) != epoch + 1:  # a gap in the reports: no honest prefix
            self.history_[number] = None
            return Decision.CONTINUE
        n = len(curve)
        target, ref = self.target_epoch(), self.reference()
        pred: BaseCurvePredictor | None = self.predictor_
        if isinstance(pred, LearnedCurves) and (not hasattr(pred, "models_") or target is None or target > pred.n_epochs_):
            pred = self.fallback_  # not trained yet (or not to this epoch)
        if pred is None or target is None or n >= target or n < max(self.min_epochs, pred.min_length):
            return Decision.CONTINUE
        if any(not math.isfinite(x) for x in curve):
            return Decision.CONTINUE  # a NaN is the training-health checks' business
        covariates, feats = None, None
        if isinstance(pred, LearnedCurves):
            names = pred.covariate_names_
            if any(len(hist.get(c, [])) != n or not all(map(math.isfinite, hist[c])) for c in names):
                return Decision.CONTINUE
            covariates = {c: [hist[c]] for c in names}
            if pred.n_features_:
                if number not in self.encoded_:  # started without on_start: its architecture is unknown
                    return Decision.CONTINUE
                feats = self.encoded_[number][None, :]
        mean_a, std_a = pred.predict_arrays([curve], target, covariates, feats)
        mean, std = float(mean_a[0]), float(std_a[0])
        # predicted before a reference exists too (monitor, ASHA(rank_by="prediction")); a generic spread never stops
        p_ref = None if ref is None else 1.0 if n < pred.min_spread_length else self._p_reaches(mean, std, ref)
        stop = p_ref is not None and p_ref < 1.0 - self.confidence
        weight = None  # only a base that ranks its rungs by blend asks for it, and only at a rung's epoch
        if (pred is self.predictor_ and self.prior_ is not None and getattr(self.base_, "rank_by", None) == "blend"
                and n in getattr(self.base_, "rungs_", ())):
            weight = self.value_weight(n, target)
        self.predictions_[number] = {"predicted_final": mean, "predicted_final_std": std, "predicted_at_epoch": n,
                                     "predicted_reference": ref, "predicted_p_reference": p_ref,
                                     "stopped_by_prediction": bool(stop)}
        if weight is not None:  # recorded only where a blend-ranking base uses it (a rung's epoch)
            self.predictions_[number]["predicted_value_weight"] = weight
        if stop:
            self.n_stopped_ += 1
            return Decision.STOP
        return Decision.CONTINUE

    def value_weight(self, epoch: int, target: int) -> float | None:
        """How much a rung should trust a trial's observed value at ``epoch`` against its prediction.

        Used by ``ASHA(rank_by="blend")``, from the prior's own curves: with ``tv`` the Kendall tau of
        the value at ``epoch`` against the final and ``tp`` that of the prior's 5-fold cross-validated
        predictions from ``epoch`` (each floored at 0), the weight is ``tv**2 / (tv**2 + tp**2)``.
        Computed once per (epoch, target).

        Parameters
        ----------
        epoch : int
            The epoch whose observed value is weighed (the rung's epoch count).
        target : int
            The epoch whose value is predicted (:meth:`target_epoch`).

        Returns
        -------
        float or None
            The weight of the observed value, in [0, 1] (the prediction gets ``1 - weight``); None
            without a prior, or with fewer than 10 of its curves reaching ``target``.
        """
        key = (epoch, target)
        if key not in self.value_weights_:
            self.value_weights_[key] = self._value_weight(epoch, target)
        return self.value_weights_[key]

    def _value_weight(self, epoch: int, target: int) -> float | None:
        return _curve_prior.value_weight(self, epoch, target)

    def _p_reaches(self, mean: float, std: float, ref: float) -> float:
        """P(final >= ref) (<= when minimising) for a normal(mean, std); a NaN std: 1 (never stop blind)."""
        from scipy.stats import norm

        gap = mean - ref if self.mode_ == "max" else ref - mean
        if not std == std or not math.isfinite(mean):
            return 1.0
        if std <= 0:
            return 1.0 if gap >= 0 else 0.0
        return float(norm.cdf(gap / std))

    def trial_attrs(self, number: int) -> dict[str, Any]:
        out = dict(self.base_.trial_attrs(number)) if hasattr(self, "base_") else {}
        out.update(getattr(self, "predictions_", {}).get(number, {}))
        return out
