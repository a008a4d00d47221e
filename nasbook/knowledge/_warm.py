"""Warm starts from past searches: which architectures to try first on a new task, and a transfer
prior for surrogates.

Both work on a plain table of past trials (a :class:`pandas.DataFrame`, one row per trial, as
``KnowledgeBase.trials()`` returns it) with the columns

- ``task`` (the task's name), ``value`` (its objective; NaN for a failed trial), ``arch_id``,
- ``arch`` (the architecture's spec, ``arch.to_dict()``) and ``space_id``,
- optionally ``search`` (the search's name), ``mode`` (``"max"`` or ``"min"``, per row) and
  ``epochs`` (what a trial was trained: of a multi-fidelity search only the trials at its most
  epochs count, :mod:`nasbook.knowledge._fidelity`),

and a ``{task: weight}`` mapping of how similar each past task is to the new one (uniform when
unknown). Scores of different tasks are never compared directly: each task's scores become
quantiles of that task (0 = its worst recorded trial, 1 = its best), which are then averaged over
tasks with the weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook._errors import InvalidArchitectureError, InvalidParameterError, InvalidParameterTypeError, check_int
from nasbook.space import Architecture, SearchSpace

if TYPE_CHECKING:
    import pandas as pd

    from nasbook.predictors import BasePredictor

__all__ = ["REQUIRED_COLUMNS", "TransferPrior", "past_trials", "select_warm_start", "task_quantiles"]

#: the columns a table of past trials must have
REQUIRED_COLUMNS: tuple[str, ...] = ("task", "space_id", "arch_id", "arch", "value")
#: weight, in tasks, of the neutral quantile 1/2 that every architecture's mean is shrunk towards
#: (an architecture recorded on one task at its top is not yet better than one recorded at the top
#: of eight)
SHRINK_TASKS = 1.0


def _check_weights(owner: str, task_weights: Mapping[str, float] | None, tasks: Sequence[str]) -> dict[str, float]:
    """``{task: weight}`` for ``tasks``: 1 each when ``task_weights`` is None; tasks it leaves out get 0."""
    if task_weights is None:
        return {t: 1.0 for t in tasks}
    if not isinstance(task_weights, Mapping):
        raise InvalidParameterTypeError(
            f"{owner}(task_weights=...) must be a mapping {{task name: weight >= 0}} or None (uniform); got "
            f"{task_weights!r:.80} of type {type(task_weights).__name__}.")
    out = {}
    for t in tasks:
        w = task_weights.get(t, 0.0)
        if isinstance(w, bool) or not isinstance(w, (int, float, np.floating, np.integer)) or not (math.isfinite(w) and w >= 0):
            raise InvalidParameterError(f"{owner}(task_weights=...): the weight of task {t!r} must be a finite number "
                                        f">= 0; got {w!r}.")
        out[t] = float(w)
    if not any(w > 0 for w in out.values()):
        raise InvalidParameterError(
            f"{owner}(task_weights=...) gives no past task a positive weight; the past trials are on "
            f"{sorted(tasks)!r:.200} and the weights name {sorted(map(str, task_weights))!r:.200}.")
    return out


class NoPastTrialsError(InvalidParameterError):
    """No past trial fits the space asked for (:func:`past_trials`).

    Parameters
    ----------
    message : str
        The whole message, naming the caller and its parameter.
    reason : str
        The message without the caller's name, for a caller that says it of its own parameter
        (``Search(kb=..., warm_start=...)``); default the whole message.
    """

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message  # (an unpickled copy gets the whole message)


def past_trials(owner: str, trials: object, space: SearchSpace, mode: str | None = None, *,
                from_store: bool = False) -> pd.DataFrame:
    """The past trials that fit ``space``, scored so that higher is better.

    A row of another space is translated through its spec (``space.from_dict``) when ``space``
    accepts it (a GraphSpace over fewer ops and the full one share their cells) and dropped
    otherwise; failed trials (no finite value) are dropped, and so are the trials of a search below its
    most epochs (:func:`~nasbook.knowledge._fidelity.top_fidelity`). Raises when nothing is left.

    Parameters
    ----------
    owner : str
        The caller's name, as errors quote it.
    trials : pandas.DataFrame
        Past trials, ``KnowledgeBase.trials()``: columns :data:`REQUIRED_COLUMNS` and optionally
        ``search`` and ``mode``.
    space : SearchSpace
        The space the rows must fit.
    mode : {"max", "min"}, optional
        How to orient every value; None reads each row's ``mode`` column (else ``"max"``).
    from_store : bool
        The caller read ``trials`` from a knowledge base itself (its user gave only ``space``), so an
        error about them names ``space=`` and the knowledge base, not a ``trials=`` the user never passed.

    Returns
    -------
    pandas.DataFrame
        Columns ``task``, ``search``, ``arch_id`` (in ``space``), ``score`` (higher is better: the
        value, negated where lower is better), ``value`` (as recorded) and the architecture itself in
        ``arch_obj``.
    """
    import pandas as pd

    from nasbook.knowledge._fidelity import top_fidelity

    if not isinstance(trials, pd.DataFrame):
        raise InvalidParameterTypeError(
            f"{owner}(trials=...) must be a pandas DataFrame of past trials (KnowledgeBase.trials()); got "
            f"{trials!r:.60} of type {type(trials).__name__}.")
    if not isinstance(space, SearchSpace):
        raise InvalidParameterTypeError(f"{owner}(space=...) must be a SearchSpace; got {space!r:.60} of type "
                                        f"{type(space).__name__}.")
    missing = [c for c in REQUIRED_COLUMNS if c not in trials.columns]
    if missing:
        raise InvalidParameterError(f"{owner}(trials=...) lacks the columns {missing}; a table of past trials has "
                                    f"{list(REQUIRED_COLUMNS)} (and optionally 'search', 'mode'). Got {list(trials.columns)}.")
    if mode is not None and mode not in ("max", "min"):
        raise InvalidParameterError(f"{owner}(mode=...) must be 'max', 'min' or None (each row's 'mode' column, "
                                    f"else 'max'); got {mode!r}.")
    table = top_fidelity(trials)  # the trials that count for quality
    values = pd.to_numeric(table["value"], errors="coerce").to_numpy(dtype=float)
    if mode is not None:
        sign = np.full(len(table), 1.0 if mode == "max" else -1.0)
    elif "mode" in table.columns:
        modes = table["mode"].astype(str).to_numpy()
        bad = sorted(set(modes) - {"max", "min"})
        if bad:
            raise InvalidParameterError(f"{owner}(trials=...): column 'mode' must hold 'max' or 'min'; found {bad[:3]}.")
        sign = np.where(modes == "min", -1.0, 1.0)
    else:
        sign = np.ones(len(table))
    same = table["space_id"].astype(str).to_numpy() == space.space_id
    archs: list[Architecture | None] = []
    cache: dict[tuple[bool, str], Architecture | None] = {}
    for is_same, aid, spec in zip(same, table["arch_id"].astype(str), table["arch"]):
        key = (bool(is_same), aid if is_same else repr(spec))
        if key not in cache:
            try:
                cache[key] = space.from_dict(spec if isinstance(spec, Mapping) else {})
            except InvalidArchitectureError:
                cache[key] = None
        archs.append(cache[key])
    ok = np.array([a is not None for a in archs], dtype=bool) & np.isfinite(values)
    if not ok.any():
        spaces = sorted(table["space_id"].astype(str).unique().tolist())
        what = (f"none of the knowledge base's {len(table)} complete trials" if from_store
                else f"none of the {len(table)} past trials")
        reason = (f"{what} has a finite value and an architecture of "
                  f"{type(space).__name__} {space.space_id!r}; they come from the spaces {spaces[:5]!r}. Warm starts and "
                  "transfer priors need past trials of the same space (or one whose architectures it contains).")
        raise NoPastTrialsError(f"{owner}({'space' if from_store else 'trials'}=...): {reason}", reason)
    kept = [a for a, k in zip(archs, ok) if k]
    search = table["search"].astype(str).to_numpy()[ok] if "search" in table.columns else np.full(int(ok.sum()), "")
    return pd.DataFrame({
        "task": table["task"].astype(str).to_numpy()[ok],
        "search": search,
        "arch_id": [a.id for a in kept],  # type: ignore[union-attr]
        "score": (values * sign)[ok],
        "value": values[ok],
        "arch_obj": kept,
    })


def task_quantiles(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (task, architecture): its best score on the task, the value recorded with it, that score's quantile
    among the task's architectures, ``(rank - 1/2) / n`` (ties share their mean rank), and the searches that
    recorded it."""
    best = rows.groupby(["task", "arch_id"], sort=True).agg(
        score=("score", "max"), arch_obj=("arch_obj", "first"),
        searches=("search", lambda s: sorted(set(x for x in s if x))))
    best = best.reset_index()
    if "value" in rows.columns:  # the recorded value of the best score (a loss, not its negation)
        at = rows.loc[rows.groupby(["task", "arch_id"], sort=True)["score"].idxmax(), ["task", "arch_id", "value"]]
        best = best.merge(at, on=["task", "arch_id"], how="left")
    best["quantile"] = best.groupby("task")["score"].transform(lambda s: (s.rank(method="average") - 0.5) / len(s))
    best["n_task"] = best.groupby("task")["score"].transform("size")
    return best


@dataclass(frozen=True)
class _Candidate:
    arch: Architecture
    score: float
    per_task: dict[str, dict[str, Any]]


def _aggregate(q: pd.DataFrame, weights: dict[str, float]) -> list[_Candidate]:
    """Every architecture with its weighted mean quantile over tasks, shrunk towards 1/2 by
    :data:`SHRINK_TASKS` tasks of the mean weight, best first (ties: more tasks, then id)."""
    w_mean = float(np.mean([w for w in weights.values() if w > 0]))
    shrink = SHRINK_TASKS * w_mean
    out = []
    for _, g in q.groupby("arch_id", sort=True):
        w = g["task"].map(weights).to_numpy(dtype=float)
        if not (w > 0).any():
            continue
        qs = g["quantile"].to_numpy(dtype=float)
        num = den = 0.0
        for wi, qi in zip(w.tolist(), qs.tolist()):  # sequential sums in task order (as the stored ranks' bincount)
            num += wi * qi
            den += wi
        score = (num + shrink * 0.5) / (den + shrink)
        per_task = {str(t): {"quantile": round(float(qq), 4), "score": float(s), "value": float(v), "n": int(n),
                             "weight": float(ww), "searches": list(se)}
                    for t, qq, s, v, n, ww, se in zip(g["task"], qs, g["score"], g["value"], g["n_task"], w, g["searches"])
                    if ww > 0}
        out.append(_Candidate(g["arch_obj"].iloc[0], score, per_task))
    out.sort(key=lambda c: (-c.score, -len(c.per_task), c.arch.id))
    return out


def check_space(owner: str, space: Any) -> SearchSpace:
    """``space`` when it is a SearchSpace, else an error naming ``owner(space=...)`` (not an AttributeError later)."""
    if not isinstance(space, SearchSpace):
        raise InvalidParameterTypeError(f"{owner}(space=...) must be a SearchSpace, e.g. task.space; got {space!r:.80} "
                                        f"of type {type(space).__name__}.")
    return space


def select_warm_start(trials: pd.DataFrame, space: SearchSpace, n: int = 10, *,
                      task_weights: Mapping[str, float] | None = None, diversify: bool = True,
                      mode: str | None = None, _owner: str = "select_warm_start",
                      _from_store: bool = False) -> list[tuple[Architecture, dict[str, Any]]]:
    """The ``n`` architectures of ``space`` to try first on a new task, from past trials on others.

    Each past task's scores become quantiles of that task (best = near 1); an architecture's
    score is the ``task_weights``-weighted mean of its quantiles over the tasks that recorded it,
    shrunk towards 1/2 by one task of mean weight (:data:`SHRINK_TASKS`). With ``diversify`` (the
    default), candidates are taken best first but never one edit away from one already taken
    (``space.neighbours``), so the seeds are ``n`` different bets, not ``n`` near-copies of one.

    Parameters
    ----------
    trials : pandas.DataFrame
        Past trials (see the module's docstring for the columns): rows of another space are
        translated when ``space`` contains their architectures, else left out.
    space : SearchSpace
        The space of the new search.
    n : int
        How many (fewer when the past trials hold fewer architectures).
    task_weights : mapping, optional
        ``{task: weight >= 0}``: similarity of each past task to the new one; tasks it does not name
        are left out. Default: every task alike.
    diversify : bool
        Skip candidates one edit away from a seed already chosen.
    mode : {"max", "min"}, optional
        Direction of every row's value; default each row's ``mode`` column, else ``"max"``.

    Returns
    -------
    list of (Architecture, dict)
        Best first. The dict (the provenance, JSON-serializable) holds ``rank`` (0-based position),
        ``score`` (the aggregated quantile), ``n_tasks`` and ``tasks``: per past task its
        ``quantile``, ``score`` (its best value there oriented higher-is-better: a loss negated),
        ``value`` (that value as recorded), the number ``n`` of architectures recorded there, its
        ``weight`` and the ``searches`` that recorded it.
    """
    n = check_int(_owner, "n", n, minimum=1)
    space = check_space(_owner, space)
    if not isinstance(diversify, bool):
        raise InvalidParameterTypeError(f"{_owner}(diversify=...) must be True or False; got {diversify!r}.")
    rows = past_trials(_owner, trials, space, mode, from_store=_from_store)
    weights = _check_weights(_owner, task_weights, sorted(rows["task"].unique()))
    cands = _aggregate(task_quantiles(rows), weights)
    chosen: list[_Candidate] = []
    blocked: set[str] = set()
    for c in cands:
        if len(chosen) >= n:
            break
        if c.arch.id in blocked:
            continue
        chosen.append(c)
        blocked.add(c.arch.id)
        if diversify:
            blocked.update(a.id for a in space.neighbours(c.arch))
    return [(c.arch, {"rank": i, "score": round(c.score, 6), "n_tasks": len(c.per_task), "tasks": c.per_task})
            for i, c in enumerate(chosen)]


class TransferPrior:
    """What past tasks say about any architecture of a space: a surrogate per past task, fitted on
    that task's rank-normal scores, averaged with the tasks' weights.

    ``prior.predict(archs)`` is higher for architectures that did better on the (weighted) past
    tasks, in rank-normal units, for every architecture of the space, recorded or not. It is what
    :class:`~nasbook.predictors.PriorPredictor` and ``strategies.BO(prior=...)`` take.

    Parameters
    ----------
    trials : pandas.DataFrame
        Past trials (see the module's docstring).
    space : SearchSpace
        The space to predict on.
    task_weights : mapping, optional
        ``{task: weight >= 0}``; default every task alike.
    mode : {"max", "min"}, optional
        See :func:`select_warm_start`.
    model : BasePredictor, optional
        The per-task surrogate (cloned per task); default a random forest of 100 trees on the
        space's graph features (``"auto"``), uncalibrated.
    min_trials : int
        Tasks with fewer finite trials are left out. Default 5.
    seed : int
        Seeds the surrogates.

    Attributes
    ----------
    kb_provenance : dict or None
        Set by ``Search(kb=kb, strategy="bo")``: which past searches (and how many of their trials)
        and which task weights the prior was fitted on, stored with the search so that
        ``load_search(..., kb=kb)`` rebuilds the same prior.
    """

    kb_provenance: dict[str, Any] | None = None

    def __init__(self, trials: pd.DataFrame, space: SearchSpace, *, task_weights: Mapping[str, float] | None = None,
                 mode: str | None = None, model: BasePredictor | None = None, min_trials: int = 5, seed: int = 0):
        from nasbook.predictors import BasePredictor, RandomForest

        min_trials = check_int("TransferPrior", "min_trials", min_trials, minimum=2)
        seed = check_int("TransferPrior", "seed", seed, minimum=0)
        if model is not None and not isinstance(model, BasePredictor):
            raise InvalidParameterTypeError(f"TransferPrior(model=...) must be a BasePredictor or None; got {model!r:.60}.")
        rows = past_trials("TransferPrior", trials, space, mode)
        self.space = space
        self.weights = _check_weights("TransferPrior", task_weights, sorted(rows["task"].unique()))
        template = model if model is not None else RandomForest(n_estimators=100, calibration="none", seed=seed)
        q = task_quantiles(rows)
        self._memo: dict[str, float] = {}
        self.models: dict[str, BasePredictor] = {}
        self.n_trials: dict[str, int] = {}
        for task, g in q.groupby("task", sort=True):
            if self.weights.get(str(task), 0.0) <= 0 or len(g) < min_trials:
                continue
            m = template.clone()
            if m.seed is None:
                m.seed = seed
            m.fit(list(g["arch_obj"]), g["quantile"].to_numpy(dtype=float), space=space)
            self.models[str(task)] = m
            self.n_trials[str(task)] = len(g)
        if not self.models:
            raise InvalidParameterError(
                f"TransferPrior(trials=...): no past task with a positive weight has {min_trials} or more finite "
                f"trials in {space.space_id!r} (per task: {q.groupby('task').size().to_dict()!r:.200}).")

    def predict_tasks(self, archs: Sequence[Architecture]) -> dict[str, np.ndarray]:
        """Each past task's prediction (its latent rank-normal units: higher is better).

        Parameters
        ----------
        archs : sequence of Architecture
            Architectures of the prior's space.

        Returns
        -------
        dict of str to numpy.ndarray
            ``{task: predictions}``, one value per architecture, for every task with a surrogate.
        """
        return {t: m.predict_latent(archs)[0] for t, m in self.models.items()}

    def predict(self, archs: Sequence[Architecture]) -> np.ndarray:
        """The weighted mean over past tasks of their predictions: higher is better.

        Remembered per architecture: a search asks for the same ones again and again.

        Parameters
        ----------
        archs : sequence of Architecture
            Architectures of the prior's space.

        Returns
        -------
        numpy.ndarray
            ``(len(archs),)`` float64, in rank-normal units.
        """
        archs = list(archs)
        memo = self._memo
        todo = list({a.id: a for a in archs if a.id not in memo}.values())
        if todo:
            per = self.predict_tasks(todo)
            w = np.array([self.weights[t] for t in per])
            values = (np.stack(list(per.values())).T @ w) / w.sum()
            memo.update(zip((a.id for a in todo), values.tolist()))
        return np.array([memo[a.id] for a in archs], dtype=np.float64)

    def landmarks(self, n: int = 20, *, by: str = "predictions", candidates: Sequence[Architecture] | None = None,
                  seed: int = 0, pick: str = "centre") -> list[Architecture]:
        """The ``n`` architectures of the space to measure first on a new task.

        They are chosen to cover what the past tasks predict (:func:`nasbook.knowledge.select_landmarks`):
        distinct, deterministic for a ``seed``.

        Parameters
        ----------
        n : int, default 20
            How many (at most the number of candidates).
        by : {"predictions", "encoding", "both", "disagreement"}, default "predictions"
            What k-means clusters: the past tasks' predictions, the space's encoding, both, or the
            encoding of the candidates the past tasks disagree on most.
        candidates : sequence of Architecture, optional
            Where to choose from; None: the space (a uniform sample of a large one).
        seed : int, default 0
            Seeds k-means (and the sample of a large space).
        pick : {"centre", "random"}, default "centre"
            Of each cluster, the member nearest its centre or one drawn at random.

        Returns
        -------
        list of Architecture
            ``n`` distinct architectures, largest cluster first.
        """
        from nasbook.knowledge._landmarks import select_landmarks

        return select_landmarks(self, n, by=by, candidates=candidates, seed=seed, pick=pick)

    def __repr__(self) -> str:
        tasks = ", ".join(f"{t} ({self.n_trials[t]}, w={self.weights[t]:.2g})" for t in self.models)
        return f"<TransferPrior over {type(self.space).__name__}: {len(self.models)} past tasks: {tasks}>"
