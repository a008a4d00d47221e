"""Pseudo-wins per strategy from a knowledge base's past trials: :func:`portfolio_prior`, the ``prior``
of :class:`~nasbook.strategies.Portfolio`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int

if TYPE_CHECKING:
    import pandas as pd


def portfolio_prior(trials: pd.DataFrame, *, arms: Sequence[str] | None = None, budget: int | None = None,
                    weight: float = 1.0, task_weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """Pseudo-wins per strategy from past trials: which strategy won each task.

    ``trials`` has one row per trial with columns ``task``, ``search``, ``strategy``, ``value`` and
    ``mode`` ("max" or "min"), e.g. ``KnowledgeBase.trials()`` filtered to tasks similar to the new
    one. For every task, each search's best value (over its first ``budget`` trials, in row order,
    when given) is taken, and the strategy whose searches reach the best mean of them wins the task
    (ties share it): with several searches per strategy (seeds), the strategy that does better on
    average, not the one that got the single luckiest search (with one search each, the best search). Only
    the strategies in ``arms`` compete when it is given (the Portfolio's arm names). The result,
    times ``weight``, is a ``prior`` for :class:`Portfolio`: ``{strategy: tasks won}``. With
    ``task_weights`` (``{task: weight}``, e.g. the similarity of each past task to the new one) a
    task's win counts its weight (tasks it does not name count 1). Every trial counts, low rungs of a multi-fidelity
    search too, as in its ``best`` and a trials budget (not :func:`~nasbook.knowledge.top_fidelity`: no quality aggregate).

    Parameters
    ----------
    trials : pandas.DataFrame
        Past trials, one row each, with columns ``task`` (a task's name or key), ``search`` (which
        search the trial belongs to), ``strategy`` (the arm name that ran it), ``value`` (the score;
        non-numeric and non-finite values are skipped) and ``mode`` (``"max"`` or ``"min"``, per row).
    arms : sequence of str, optional
        Only trials of these strategies count and compete (e.g. ``Portfolio.arm_names``); None: every
        strategy in ``trials``.
    budget : int >= 1, optional
        Judge each search on its first ``budget`` trials (in row order) only, e.g. the new search's
        budget; None: on all of them.
    weight : float, default 1.0
        Pseudo-wins per task won (a task's win is shared equally by tied strategies).
    task_weights : Mapping of str to float, optional
        ``{task: weight}`` multiplying each task's win, e.g. its similarity to the new task; tasks it
        does not name weigh 1.

    Returns
    -------
    dict of str to float
        ``{strategy: weighted tasks won}`` for the strategies that won at least one task (share of
        ties included); empty when no search has a finite value. Pass it as ``Portfolio(prior=...)``.

    Examples
    --------
    >>> import pandas as pd
    >>> past = pd.DataFrame({"task": ["a", "a", "b", "b"], "search": [1, 2, 3, 4], "mode": "max",
    ...                      "strategy": ["bo", "random", "bo", "random"], "value": [0.9, 0.8, 0.5, 0.7]})
    >>> portfolio_prior(past)
    {'bo': 1.0, 'random': 1.0}
    """
    import pandas as pd

    if not isinstance(trials, pd.DataFrame):
        raise InvalidParameterTypeError(
            f"portfolio_prior(trials=...) must be a pandas DataFrame of past trials; got {type(trials).__name__}."
        )
    missing = [c for c in ("task", "search", "strategy", "value", "mode") if c not in trials.columns]
    if missing:
        raise InvalidParameterError(
            f"portfolio_prior(trials=...) needs columns task, search, strategy, value and mode; missing {missing}; "
            f"found {list(trials.columns)}."
        )
    budget = check_int("portfolio_prior", "budget", budget, minimum=1, allow_none=True)  # np.int64 too
    if arms is not None:
        trials = trials[trials["strategy"].isin(list(arms))]
    wins: dict[str, float] = {}
    for task, task_rows in trials.groupby("task", sort=True):
        bests: dict[str, list[float]] = {}
        for _, rows in task_rows.groupby("search", sort=True):
            if budget is not None:
                rows = rows.iloc[:budget]
            vals = pd.to_numeric(rows["value"], errors="coerce").to_numpy(dtype=float)
            sign = -1.0 if str(rows["mode"].iloc[0]) == "min" else 1.0
            vals = sign * vals[np.isfinite(vals)]
            if len(vals):
                strategy = str(rows["strategy"].iloc[0])
                bests.setdefault(strategy, []).append(float(vals.max()))
        best = {k: float(np.mean(v)) for k, v in bests.items()}
        if not best:
            continue
        top = max(best.values())
        winners = [s for s, v in best.items() if v == top]
        w = weight * (float(task_weights.get(str(task), 1.0)) if task_weights is not None else 1.0)
        for s in winners:
            wins[s] = wins.get(s, 0.0) + w / len(winners)
    return wins
