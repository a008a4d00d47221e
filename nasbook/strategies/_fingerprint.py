"""Run fingerprints against past outcomes: :func:`divergence_risk` and :class:`FingerprintStopping`.

A training trial's metrics hold its early fingerprint (``fp_*``, written by
``nasbook.training.RunFingerprint``, reported with every epoch). A new trial whose fingerprint lies
among those of past runs that DIVERGED is likely to diverge too: it can be stopped at once instead of
training until the health checks end it.

A past run counts as DIVERGED by the state it was stored with: trials stored before ``HealthCheck``'s
divergence reference became the loss before the first optimizer step (2026-12-03) are not relabelled, so
a run that blew up inside its first epoch may be among them as COMPLETE (docs/search-loop.md).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int, plain_scalar
from nasbook.strategies._base import BaseStrategy, Proposal
from nasbook.strategies._wraps import WrapsBase, refuse_base_class
from nasbook.trial import Decision, Trial, TrialState, Wait

if TYPE_CHECKING:
    import pandas as pd

    from nasbook.space import Architecture

PREFIX = "fp_"
#: entries left out of distances: how many steps were seen says when, not how, a run went
IGNORED = frozenset({"fp_steps"})
#: the smallest spread an entry is scaled by where infinite values are placed (:func:`_finite`; entries are logs
#: and fractions: a difference below 1 is small)
SCALE_FLOOR = 1.0
#: the smallest spread an entry is scaled by in distances, on the compressed scale (:func:`_compress` of 1)
LOG_SCALE_FLOOR = math.log1p(SCALE_FLOOR)
#: the entries compared by default: how far the loss rose above its start, how large the gradients were,
#: and non-finite values. The loss trend and the spreads vary a lot between healthy runs (measured on
#: Digits: they made a too-high learning rate look healthy), so they are recorded but not compared.
DEFAULT_FEATURES: tuple[str, ...] = ("fp_loss_peak", "fp_grad_max", "fp_grad_median", "fp_nonfinite")


def fingerprint_frame(trials: Iterable[Trial]) -> pd.DataFrame:
    """One row per finished trial with a fingerprint: ``number``, ``state``, ``diverged`` and its ``fp_*``.

    Parameters
    ----------
    trials : iterable of Trial
        Trials of one or more searches; those not finished, or without ``fp_*`` metrics (a
        tabular task's), are left out.

    Returns
    -------
    pandas.DataFrame
        The ``past`` that :func:`divergence_risk` and :class:`FingerprintStopping` take.
    """
    import pandas as pd

    if isinstance(trials, (str, bytes, Mapping)) or not isinstance(trials, Iterable):
        raise InvalidParameterTypeError(
            f"fingerprint_frame(trials=...) must be an iterable of Trial (e.g. search.trials); got {type(trials).__name__}."
        )
    rows = []
    for t in trials:
        fp = {k: float(v) for k, v in (t.metrics or {}).items() if k.startswith(PREFIX)}
        if fp and t.state.is_finished:
            rows.append({"number": t.number, "state": t.state.value, "diverged": t.state is TrialState.DIVERGED, **fp})
    return pd.DataFrame(rows)


def _from_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the ``fp_*`` entries of its ``metrics`` dicts as columns (rows of ``kb.trials()``)."""
    import pandas as pd

    if "metrics" not in frame.columns or any(str(c).startswith(PREFIX) for c in frame.columns):
        return frame
    fps = [{k: v for k, v in m.items() if str(k).startswith(PREFIX)} if isinstance(m, Mapping) else {}
           for m in frame["metrics"]]
    keep = [i for i, fp in enumerate(fps) if fp]  # a tabular task's trials have no fingerprint
    rows = frame.iloc[keep].reset_index(drop=True)
    return pd.concat([rows.drop(columns=["metrics"]), pd.DataFrame([fps[i] for i in keep])], axis=1)


def _finite(X: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NaN as 0; +-inf as one spread beyond the largest / smallest finite value of its entry (past and ``x``):
    a run whose loss peak is infinite lies beyond every finite one, nearest the worst past runs."""
    both = np.vstack([X, x[None, :]])
    finite = np.where(np.isfinite(both), both, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an entry with no finite value
        hi, lo = np.nanmax(finite, axis=0), np.nanmin(finite, axis=0)
        spread = np.maximum(np.nan_to_num(np.nanstd(finite, axis=0)), SCALE_FLOOR)
    hi, lo = np.nan_to_num(hi) + spread, np.nan_to_num(lo) - spread

    def fix(a: np.ndarray) -> np.ndarray:
        a = np.where(np.isposinf(a), hi, a)
        return np.nan_to_num(np.where(np.isneginf(a), lo, a), nan=0.0)
    return fix(X), fix(x)


def _compress(a: np.ndarray) -> np.ndarray:
    """``sign(a) * log(1 + |a|)``: entries such as the loss peak (a log ratio: 0 for a healthy run, 11 or 39 for
    blow-ups) and the gradient norms span orders of magnitude among diverged runs; compressed, one extreme run no
    longer dwarfs the differences that separate diverged from healthy runs. Monotone, 0 stays 0."""
    return np.sign(a) * np.log1p(np.abs(a))


def _as_arrays(past: Any) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(fp columns, X, diverged) of a DataFrame or a list of records with ``fp_*`` and ``diverged`` or ``state``
    (or with ``metrics`` dicts holding the ``fp_*``: :meth:`KnowledgeBase.trials` rows)."""
    import pandas as pd

    if past is None:
        return [], np.zeros((0, 0)), np.zeros(0, dtype=bool)
    if isinstance(past, (str, bytes, Mapping)) or not isinstance(past, (pd.DataFrame, Iterable)):
        raise InvalidParameterTypeError(
            f"past fingerprints must be a DataFrame or a list of records with fp_* and 'diverged' or 'state' "
            f"(fingerprint_frame(search.trials), or kb.trials(states=None)); got {type(past).__name__}."
        )
    frame = _from_metrics(past if isinstance(past, pd.DataFrame) else pd.DataFrame(list(past)))
    cols = sorted(c for c in frame.columns if str(c).startswith(PREFIX) and c not in IGNORED)
    if len(frame) and not cols:
        raise InvalidParameterError(
            f"past fingerprints need fp_* columns (a trial's metrics from nasbook.training.RunFingerprint); found "
            f"{list(frame.columns)[:12]}. Build them with fingerprint_frame(search.trials)."
        )
    if "diverged" in frame.columns:
        div = _diverged(frame["diverged"])
    elif "state" in frame.columns:
        div = frame["state"].astype(str).str.lower().isin(["diverged", "trialstate.diverged"]).to_numpy()
    elif len(frame):
        raise InvalidParameterError("past fingerprints need a 'diverged' (bool) or a 'state' column with each run's outcome.")
    else:
        div = np.zeros(0, dtype=bool)
    X = frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float) if cols else np.zeros((len(frame), 0))
    return cols, X, div


def _diverged(column: pd.Series) -> np.ndarray:
    """The ``diverged`` column as bools: True/False (numpy's too) or 1/0. Anything else is refused, not read by
    its truthiness (``"no"`` was a diverged run, as was NaN)."""
    values = column.to_numpy()
    if values.dtype == bool:
        return values
    if values.dtype.kind in "iuf":
        ok = np.isin(values, (0, 1))  # NaN is neither
    else:
        ok = np.fromiter((isinstance(v, (bool, np.bool_)) or (isinstance(v, numbers.Real) and v in (0, 1))
                          for v in values), dtype=bool, count=len(values))
    if not ok.all():
        i = int(np.argmin(ok))
        bad = plain_scalar(values[i])  # np.int64(2) shown as 2
        raise InvalidParameterError(
            f"past fingerprints' 'diverged' column must hold True/False (or 1/0) for each run; row {i} holds "
            f"{bad!r} of type {type(bad).__name__}. Map it first, e.g. past['diverged'] == 'yes', or give a 'state' "
            "column instead.")
    return values.astype(bool)


def _check_threshold(owner: str, t: Any) -> float:
    """``threshold`` as a plain float in (0, 1], or InvalidParameterError naming ``owner(threshold=...)``."""
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, float, np.integer, np.floating)) or not (0 < t <= 1):
        raise InvalidParameterError(f"{owner}(threshold=...) must be a number in (0, 1]; got {t!r}.")
    return float(t)


def divergence_risk(fingerprint: Mapping[str, float], past: Any, k: int = 5,
                    features: Sequence[str] | None = DEFAULT_FEATURES) -> float:
    """The fraction of the ``k`` past runs nearest to ``fingerprint`` that DIVERGED (NaN without past runs).

    Distances are Euclidean over ``features``, each entry first compressed as ``sign(v) * log(1 + |v|)``
    (loss peaks and gradient norms span orders of magnitude among diverged runs) and then scaled by its
    standard deviation among the past runs that did not diverge (among all past runs when fewer than two
    did not; at least ``log(2)``): how far from healthy runs a fingerprint lies, a yardstick that a few
    extreme blow-ups cannot stretch. Measured on 45 real ``Digits`` runs (``benchmarks/fingerprint_risk.py``,
    docs/benchmarks.md): it raised the ROC AUC against small past sets without flagging more healthy runs.

    Parameters
    ----------
    fingerprint : Mapping of str to float
        A run's ``fp_*`` metrics so far (a trial's metrics from
        :class:`nasbook.training.RunFingerprint`).
    past : pandas.DataFrame or list of dict
        Past runs with ``fp_*`` columns and ``diverged`` (bool, or 1/0) or ``state``, e.g.
        :func:`fingerprint_frame` of earlier searches, or the knowledge base's trials.
    k : int, default 5
        Number of nearest past runs that vote (fewer when fewer exist).
    features : sequence of str or None
        The ``fp_*`` entries compared, by default :data:`DEFAULT_FEATURES` (loss peak, largest and
        median gradient norm, non-finite count); None compares every ``fp_*`` entry both share.

    Returns
    -------
    float
        In [0, 1]; NaN when there is no past run.

    Examples
    --------
    >>> past = [{"fp_loss_peak": 0.0, "diverged": False}, {"fp_loss_peak": 0.1, "diverged": False},
    ...         {"fp_loss_peak": 8.0, "diverged": True}, {"fp_loss_peak": 9.0, "diverged": True}]
    >>> divergence_risk({"fp_loss_peak": 7.5}, past, k=2)
    1.0
    """
    return _risk("divergence_risk", fingerprint, past, k, features)


def _risk(owner: str, fingerprint: Mapping[str, float], past: Any, k: int, features: Sequence[str] | None) -> float:
    """:func:`divergence_risk`, its errors naming ``owner(param=...)`` (the public function the user called)."""
    k = check_int(owner, "k", k, minimum=1)
    if not isinstance(fingerprint, Mapping):
        raise InvalidParameterTypeError(
            f"{owner}(fingerprint=...) must map fp_* names to numbers (a trial's metrics); got "
            f"{type(fingerprint).__name__}."
        )
    if features is not None and (isinstance(features, (str, bytes)) or not isinstance(features, Iterable)):
        raise InvalidParameterTypeError(
            f"{owner}(features=...) must be a list of fp_* names or None; got {features!r:.80}"
            + (f" (a list: features=[{features!r}])." if isinstance(features, str) else ".")
        )
    wanted = None if features is None else set(features)
    try:
        cols, X, div = _as_arrays(past)
    except (InvalidParameterError, InvalidParameterTypeError) as exc:
        raise type(exc)(f"{owner}(past=...): {exc}") from None
    cols_in = [i for i, c in enumerate(cols) if c in fingerprint and (wanted is None or c in wanted)]
    if not len(X) or not cols_in:
        return math.nan
    try:
        x = np.asarray([float(fingerprint[cols[i]]) for i in cols_in])
    except (TypeError, ValueError):
        bad = {cols[i]: fingerprint[cols[i]] for i in cols_in}
        raise InvalidParameterTypeError(f"{owner}(fingerprint=...) must map fp_* names to numbers; got {bad!r:.200}.") from None
    X, x = _finite(X[:, cols_in], x)
    X, x = _compress(X), _compress(x)
    # each entry scaled by its spread among the past runs that did not diverge (all past runs when fewer than 2
    # did not): how far from normal a run is. Diverged runs' extreme values no longer inflate the yardstick (two
    # runs stopped at step 1 with loss peaks 18 and 39 made a blow-up over 17 steps look healthy). Never below
    # LOG_SCALE_FLOOR: an entry that hardly varies among a few past runs must not dominate.
    ref = X[~div] if (~div).sum() >= 2 else X
    scale = np.maximum(ref.std(axis=0), LOG_SCALE_FLOOR)
    d = np.sqrt((((X - x) / scale) ** 2).sum(axis=1))
    nearest = np.argsort(d, kind="stable")[: min(k, len(d))]
    return float(div[nearest].mean())


def flag_divergence(fingerprint: Mapping[str, float], past: Any, k: int = 5, threshold: float = 0.5,
                    features: Sequence[str] | None = DEFAULT_FEATURES) -> bool:
    """True when :func:`divergence_risk` is at least ``threshold`` (never without past runs).

    Parameters
    ----------
    fingerprint : Mapping of str to float
        A run's ``fp_*`` metrics so far.
    past : pandas.DataFrame or list of dict
        Past runs, as for :func:`divergence_risk`.
    k : int, default 5
        Number of nearest past runs that vote.
    threshold : float, default 0.5
        The fraction of diverged neighbours from which the run is flagged.
    features : sequence of str or None
        The ``fp_*`` entries compared, as for :func:`divergence_risk`.

    Returns
    -------
    bool
        Whether the run looks like one that will diverge.
    """
    threshold = _check_threshold("flag_divergence", threshold)
    risk = _risk("flag_divergence", fingerprint, past, k, features)  # its errors name flag_divergence
    return risk == risk and risk >= threshold


class FingerprintStopping(WrapsBase):
    """Stop a running trial whose early fingerprint resembles past runs that diverged.

    At each epoch's report (from ``min_epochs`` on) the trial's fingerprint so far (``fp_*``
    metrics) is compared with those of ``past`` runs and of the finished trials of this search
    (:func:`divergence_risk`'s distance: compressed entries scaled by the spread of the runs that did not
    diverge): when at least ``threshold`` of its ``k`` nearest neighbours DIVERGED, the trial is stopped (it
    ends PRUNED with what it reached). Architectures come from ``base``; stopped trials are told to it
    like any other, but never join the past (a PRUNED trial's outcome is unknown). Needs a training task
    (``nasbook.tasks.Digits`` and other ``TrainingTask`` s report fingerprints).

    Parameters
    ----------
    base : str or BaseStrategy, default "random"
        The strategy that proposes architectures (a name, an instance or a scheduler); its proposals pass through.
    past : DataFrame or list of dict, optional
        Fingerprints of earlier runs with their outcomes (:func:`fingerprint_frame`).
    k : int, default 5
        Nearest past runs that vote (:func:`divergence_risk`).
    threshold : float in (0, 1], default 0.5
        A trial is stopped when at least this fraction of its ``k`` neighbours DIVERGED.
    min_epochs : int, default 0
        Never stop before this epoch (counted from 0).
    min_diverged : int, default 1
        Past runs that diverged needed before anything is stopped.
    seed : int, optional
        Seeds this strategy's own choices (and, drawn from it, the wrapped one's); None: the search's seed.
    """

    alias: ClassVar[str] = "fingerprint-stopping"
    needs_epochs: ClassVar[str] = "stops running trials from the fingerprints they report each epoch"

    def __init__(self, base: str | BaseStrategy = "random", past: Any = None, k: int = 5, threshold: float = 0.5,
                 min_epochs: int = 0, min_diverged: int = 1, seed: int | None = None):
        super().__init__(seed=seed)
        refuse_base_class(self, base)  # at once, as Search(strategy=RandomSearch) is refused
        self.base = base
        self.past = past
        self.k = k
        self.threshold = threshold
        self.min_epochs = min_epochs
        self.min_diverged = min_diverged

    def _validate_params(self) -> None:
        super()._validate_params()
        name = type(self).__name__
        self.k = check_int(name, "k", self.k, minimum=1)
        self.min_epochs = check_int(name, "min_epochs", self.min_epochs, minimum=0)
        self.min_diverged = check_int(name, "min_diverged", self.min_diverged, minimum=1)
        self.threshold = _check_threshold(name, self.threshold)
        try:
            _as_arrays(self.past)  # a str or records without fp_* or outcomes: refused here, not at the first report
        except (InvalidParameterError, InvalidParameterTypeError) as exc:
            raise type(exc)(f"{name}(past=...): {exc}") from None
        self._check_base()

    def to_config(self) -> dict[str, Any]:
        cfg = super().to_config()
        past = self.past
        if past is not None and hasattr(past, "to_dict"):
            cfg["params"]["past"] = _from_metrics(past).to_dict(orient="records")  # kb.trials rows: their fp_* only
        return cfg

    def _setup(self) -> None:
        self.base_ = self._setup_base()
        cols, X, div = _as_arrays(self.past)
        self._records: list[dict[str, Any]] = [
            {**dict(zip(cols, map(float, row))), "diverged": bool(d)} for row, d in zip(X, div)
        ]
        #: trials stopped: number -> the risk that stopped them
        self.stopped_: dict[int, float] = {}

    def _repr_params(self) -> dict[str, Any]:
        params = super()._repr_params()
        if hasattr(self, "stopped_"):
            params["n_stopped"] = len(self.stopped_)
            params["n_past"] = len(self._records)
        return params

    def _ask(self) -> Architecture | Proposal | Wait:
        return self.base_.ask()

    def _replay_ask(self, arch: Architecture) -> Architecture | Proposal | Wait:
        return self.base_._replay_ask(arch)

    def _tell(self, trial: Trial) -> None:
        self.base_.tell(trial)
        fp = {k: float(v) for k, v in (trial.metrics or {}).items() if k.startswith(PREFIX)}
        # a PRUNED trial's outcome is unknown (this strategy or another rule stopped it): never part of the past
        if fp and trial.state in (TrialState.COMPLETE, TrialState.DIVERGED):
            self._records.append({**fp, "diverged": trial.state is TrialState.DIVERGED})

    def risk(self, fingerprint: Mapping[str, float]) -> float:
        """:func:`divergence_risk` of ``fingerprint`` against the past runs known so far.

        Parameters
        ----------
        fingerprint : Mapping of str to float
            A running trial's ``fp_*`` metrics.

        Returns
        -------
        float
            The fraction of the ``k`` nearest past runs that DIVERGED; NaN without past runs.
        """
        return divergence_risk(fingerprint, self._records, self.k)

    def on_report(self, number: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        if epoch < self.min_epochs or number in self.stopped_:
            return self.base_.on_report(number, epoch, metrics)
        fp = {k: float(v) for k, v in metrics.items() if k.startswith(PREFIX)}
        if not fp or sum(r["diverged"] for r in self._records) < self.min_diverged:
            return self.base_.on_report(number, epoch, metrics)
        risk = self.risk(fp)
        if risk == risk and risk >= self.threshold:
            self.stopped_[number] = risk
            return Decision.STOP
        return self.base_.on_report(number, epoch, metrics)
