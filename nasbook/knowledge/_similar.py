"""Similar architectures at the level of a knowledge base: trials (a DataFrame) in, neighbours with
their recorded scores out. Pure functions over ``kb.trials()``'s frame, so they know no store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int
from nasbook.knowledge._arch_summary import ArchSummary as ArchSummary
from nasbook.knowledge._index import ArchIndex, StaleIndexError
from nasbook.knowledge._vectors import check_kind, check_space
from nasbook.space import Architecture, SearchSpace

#: the columns of ``kb.trials()`` these functions read
TRIAL_COLUMNS: tuple[str, ...] = ("task", "space_id", "arch_id", "arch", "value", "mode")


def check_trials(owner: str, trials: Any, columns: Sequence[str] = TRIAL_COLUMNS) -> Any:
    import pandas as pd

    if not isinstance(trials, pd.DataFrame):
        raise InvalidParameterTypeError(f"{owner}(trials=...) must be a pandas DataFrame like kb.trials(); "
                                        f"got {type(trials).__name__}.")
    missing = [c for c in columns if c not in trials.columns]
    if missing:
        raise InvalidParameterError(f"{owner}(trials=...) lacks the columns {missing}; it needs {list(columns)} "
                                    f"(what kb.trials() gives); got {list(trials.columns)}.")
    return trials


def space_rows(owner: str, trials: Any, space: SearchSpace) -> Any:
    rows = trials[trials["space_id"] == space.space_id]
    if rows.empty:
        known = sorted(map(str, trials["space_id"].dropna().unique()))
        raise InvalidParameterError(
            f"{owner}: no trial is recorded in space {space.space_id!r} ({type(space).__name__}); the trials hold "
            f"the spaces {known}. Pass the space of a recorded task (task.space)."
        )
    return rows


def sync_index(trials: Any, space: SearchSpace, index: ArchIndex | bytes | None = None, *, kind: str | None = None,
               **index_kwargs: Any) -> tuple[ArchIndex, bool]:
    """An index of every architecture of ``space`` recorded in ``trials``.

    Reuses ``index`` (an :class:`ArchIndex` or its bytes) when it was built over the space's current
    encoding layout, adding the architectures recorded since and dropping those no longer recorded;
    rebuilds it from the recorded specs when it is stale (another encoding version or space), so
    vectors of two layouts never mix.

    Parameters
    ----------
    trials : pandas.DataFrame
        ``kb.trials()`` rows (``space_id``, ``arch_id``, ``arch``).
    space : SearchSpace
        The space whose architectures are indexed.
    index : ArchIndex or bytes, optional
        A previous index, or its :meth:`ArchIndex.to_bytes`; None builds a new one.
    kind : str, optional
        The encoding (one of ``space.encodings``); None: that of ``index``, else the space's default.
    **index_kwargs
        Passed to :class:`ArchIndex` when one is built.

    Returns
    -------
    index : ArchIndex
        Up to date with ``trials``.
    changed : bool
        True when it differs from ``index``: persist ``index.to_bytes()`` then.
    """
    check_trials("sync_index", trials, ("space_id", "arch_id", "arch"))
    space = check_space("sync_index", space)
    if isinstance(index, (bytes, bytearray, memoryview)):
        try:
            index = ArchIndex.from_bytes(index, space)
        except StaleIndexError:
            index = None
    elif index is not None and not isinstance(index, ArchIndex):
        raise InvalidParameterTypeError(f"sync_index(index=...) takes an ArchIndex, its bytes or None; got {type(index).__name__}.")
    want_kind = check_kind("sync_index", space, kind if kind is not None else (index.kind if index is not None else None))
    changed = False
    if index is None or index.is_stale(space) or index.kind != want_kind:
        index, changed = ArchIndex(space, want_kind, **index_kwargs), True
    index.space = space
    rows = space_rows("sync_index", trials, space).drop_duplicates("arch_id")
    ids = rows["arch_id"].astype(str)
    new = rows[~ids.isin(index._pos.keys()).to_numpy()]
    if len(new):
        sid = space.space_id
        index.add([Architecture(sid, str(a), spec) for a, spec in zip(new["arch_id"], new["arch"])])
        changed = True
    recorded = set(ids)
    gone = [a for a in index._pos if a not in recorded]
    if gone:
        index.remove(gone)
        changed = True
    return index, changed


def task_quantiles(trials: Any) -> Any:
    """Each (task, arch_id)'s mean value and its quantile among that task's architectures.

    The quantile is 1 for the best, whatever the task's mode, so it is comparable across tasks. Of
    a multi-fidelity search only the trials at its most epochs count (:mod:`nasbook.knowledge._fidelity`).

    Parameters
    ----------
    trials : pandas.DataFrame
        ``kb.trials()`` rows (task, arch_id, value, mode, ...).

    Returns
    -------
    pandas.DataFrame
        Columns task, arch_id, value, n_trials, quantile.
    """
    from nasbook.knowledge._fidelity import top_fidelity

    trials = top_fidelity(trials)
    g = trials.groupby(["task", "arch_id"], sort=False, observed=True)
    per = g["value"].mean().rename("value").to_frame()
    per["n_trials"] = g.size()
    per = per.reset_index()
    mode = trials.groupby("task", sort=False, observed=True)["mode"].first()
    sign = np.where(per["task"].map(mode).to_numpy() == "min", -1.0, 1.0)
    per["quantile"] = (per["value"] * sign).groupby(per["task"], sort=False).rank(pct=True, method="average")
    return per


def similar_archs(trials: Any, space: SearchSpace, arch: Architecture | Any, k: int = 10, task: str | None = None, *,
                  index: ArchIndex | bytes | None = None, kind: str | None = None) -> Any:
    """The ``k`` recorded architectures nearest to ``arch``, with what they scored.

    Parameters
    ----------
    trials : pandas.DataFrame
        ``kb.trials()``: columns task, space_id, arch_id, arch (spec dict), value, mode.
    space : SearchSpace
        The space of ``arch``.
    arch : Architecture or array
        The query: an architecture of ``space`` (left out of its own answer) or a raw encoding.
    k : int
        Exactly ``k`` rows come back when ``k`` recorded architectures exist after the filter.
    task : str, optional
        Only architectures recorded on this task, with their value there.
    index : ArchIndex or bytes, optional
        A stored index to reuse (see :func:`sync_index`); built from the trials when absent or stale.
    kind : str, optional
        The encoding (default: the index's, else ``"graf"`` where the space has it).

    Returns
    -------
    pandas.DataFrame
        Nearest first, the columns ``arch_id``, ``distance``, ``task``, ``value``, ``quantile``,
        ``n_trials``, ``n_tasks``, ``scores`` (task -> mean value), ``arch`` (spec). Values and quantiles
        count a multi-fidelity search's trials at its most epochs only (:func:`task_quantiles`).

        - With ``task``: one row per neighbour: ``value`` its mean value on ``task``, ``quantile`` its
          quantile among that task's architectures (1 = best), ``n_trials`` and ``n_tasks`` over every task.
        - Without ``task``: one row per (neighbour, task it has a value on), tasks in name order within a
          neighbour, so that ``value`` is always a value on the row's ``task`` (values of different tasks
          are different metrics and scales: they are never averaged into one column); ``quantile`` and
          ``n_trials`` are on that task, ``n_tasks`` and ``scores`` the neighbour's over all of them. A
          neighbour with no value that counts (only low rungs of a multi-fidelity search) keeps one row,
          with ``task``, ``value`` and ``quantile`` missing. To compare neighbours across tasks use
          ``quantile`` (``groupby("arch_id")["quantile"].mean()``); one task's rows (``df[df.task == name]``)
          carry the values ``task=name`` gives those neighbours (``task=name`` searches that task's
          architectures only, so its ``k`` neighbours may be others).
    """

    check_trials("similar_archs", trials)
    space = check_space("similar_archs", space)
    k = check_int("similar_archs", "k", k, minimum=1)
    if isinstance(arch, Architecture) and arch.space_id != space.space_id:
        raise InvalidParameterError(
            f"similar_archs(arch=...): architecture {arch.id!r} belongs to space {arch.space_id!r}, not to the "
            f"space passed ({space.space_id!r}); pass its own space."
        )
    rows = space_rows("similar_archs", trials, space)
    summary = ArchSummary(rows)
    summary.check_task(task, space)
    idx, _ = sync_index(summary.archs, space, index, kind=kind)
    return summary.answer(idx, space, arch, k, task)
