"""Similar architectures at the level of a knowledge base: trials (a DataFrame) in, neighbours with
their recorded scores out. Pure functions over ``kb.trials()``'s frame, so they know no store."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int, unknown_choice
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
    check_int("similar_archs", "k", k, minimum=1)
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


class ArchSummary:
    """What :func:`similar_archs` reads of one space's trials, computed once: each architecture's spec
    (first recorded order), each task's architectures, and :func:`task_quantiles`. ``KnowledgeBase.similar``
    keeps one per space until the store changes, so a repeated query reads no trial; the answer is that
    of :func:`similar_archs` over the same trials (which builds one per call).

    Parameters
    ----------
    rows : pandas.DataFrame
        ``kb.trials()`` rows of one space (task, space_id, arch_id, arch, value, mode, ...).
    """

    def __init__(self, rows: Any) -> None:
        self.n_rows = len(rows)
        #: one row per architecture, in first-recorded order: what sync_index indexes
        self.archs = rows.drop_duplicates("arch_id")[["space_id", "arch_id", "arch"]]
        #: the recorded task names (``str`` of each), sorted: the choices of ``task=``
        self.tasks = sorted(map(str, rows["task"].unique()))
        ids = rows["arch_id"].astype(str)
        self._filters = {t: frozenset(a) for t, a in ids.groupby(rows["task"], sort=False).unique().items()}
        per = task_quantiles(rows)  # quantiles need every architecture of each task, not only the neighbours
        self.per = per.assign(arch_id=per["arch_id"].astype(str))
        self._rows_of = {str(a): np.asarray(i) for a, i in self.per.groupby("arch_id", sort=False).indices.items()}
        self.specs = self.archs.assign(arch_id=self.archs["arch_id"].astype(str)).set_index("arch_id")["arch"]
        self._fast: tuple[Any, ...] | None = None

    def _fast_tables(self) -> tuple[Any, ...]:
        """Per architecture, what :meth:`answer` computes from its rows of ``per``, by the same pandas
        operations (a group's sum and mean depend on its own rows only), for :meth:`answer_fast`."""
        if self._fast is None:
            by = self.per.groupby("arch_id", sort=False)
            self._fast = (by["n_trials"].sum().to_dict(), by.size().to_dict(), by["quantile"].mean().to_dict(),
                          self.per["task"].to_numpy(dtype=object), self.per["value"].to_numpy(dtype=np.float64),
                          self.per["quantile"].to_numpy(dtype=np.float64), self.per["n_trials"].to_numpy(dtype=np.int64),
                          self.specs.to_dict())
        return self._fast

    def answer_fast(self, idx: ArchIndex, space: SearchSpace, arch: Architecture | Any, k: int, task: str | None) -> Any:
        """:meth:`answer` for a knowledge base's repeated queries: the same frame, assembled from per-architecture
        tables (:meth:`_fast_tables`) for the ``k`` neighbours instead of grouping and merging frames."""
        import pandas as pd

        near = idx.similar(arch, k, filter=self._filter(task))
        if near.empty:
            return self.answer(idx, space, arch, k, task, near=near)
        n_sum, n_size, q_mean, tasks, values, quants, counts, specs = self._fast_tables()
        ids = near["arch_id"].tolist()
        pos = [self._rows_of.get(a) for a in ids]
        nan = float("nan")
        scores = [dict(zip(tasks[p].tolist(), values[p].tolist())) if p is not None else {} for p in pos]
        n_tasks = [int(n_size.get(a, 0)) for a in ids]
        if task is not None:
            on_task = [next((int(i) for i in p if tasks[i] == task), None) if p is not None else None for p in pos]
            result = pd.DataFrame({
                "arch_id": near["arch_id"].array, "distance": near["distance"].to_numpy(dtype=np.float64),
                "task": [task] * len(ids),  # inferred as pandas infers the scalar answer() assigns
                "value": np.array([values[i] if i is not None else nan for i in on_task], dtype=np.float64),
                "quantile": np.array([quants[i] if i is not None else nan for i in on_task], dtype=np.float64),
                "n_trials": np.array([int(n_sum.get(a, 0)) for a in ids], dtype=np.int64),
                "n_tasks": np.array(n_tasks, dtype=np.int64), "scores": _objects(scores),
                "arch": _objects([copy.deepcopy(specs.get(a, nan)) for a in ids])})
        else:  # long form: one row per (neighbour, task), nearest first, then by task name
            dist = near["distance"].to_numpy(dtype=np.float64)
            own = [copy.deepcopy(specs.get(a, nan)) for a in ids]  # the caller's own (the summary is kept), one per neighbour
            c: dict[str, list[Any]] = {name: [] for name in ("arch_id", "distance", "task", "value", "quantile",
                                                            "n_trials", "n_tasks", "scores", "arch")}
            for j, (a, p) in enumerate(zip(ids, pos)):
                rows = sorted(p.tolist(), key=lambda i: tasks[i]) if p is not None else [None]
                for i in rows:
                    c["arch_id"].append(a)
                    c["distance"].append(dist[j])
                    c["task"].append(tasks[i] if i is not None else nan)
                    c["value"].append(values[i] if i is not None else nan)
                    c["quantile"].append(quants[i] if i is not None else nan)
                    c["n_trials"].append(counts[i] if i is not None else 0)
                    c["n_tasks"].append(n_tasks[j])
                    c["scores"].append(scores[j])
                    c["arch"].append(own[j])
            result = pd.DataFrame({
                "arch_id": pd.array(c["arch_id"], dtype=near["arch_id"].dtype),
                "distance": np.array(c["distance"], dtype=np.float64),
                "task": pd.Series(c["task"], dtype=object), "value": np.array(c["value"], dtype=np.float64),
                "quantile": np.array(c["quantile"], dtype=np.float64),
                "n_trials": np.array(c["n_trials"], dtype=np.int64), "n_tasks": np.array(c["n_tasks"], dtype=np.int64),
                "scores": _objects(c["scores"]), "arch": _objects(c["arch"])})
        result.attrs.update({"space_id": space.space_id, "kind": idx.kind, "encoding_version": idx.encoding_version,
                             "task": task, "query": getattr(arch, "id", None), "index": idx.kind_built_})
        return result

    def _filter(self, task: str | None) -> Any:
        if task is None:
            return None
        filt = self._filters.get(task)
        return frozenset() if filt is None else filt  # a task none is recorded under: no candidate

    def check_task(self, task: str | None, space: SearchSpace) -> None:
        """Raise the error :func:`similar_archs` gives for a ``task`` with no trial in the space."""
        if task is not None and task not in self.tasks:
            raise unknown_choice(f"task of similar_archs(task=...) in space {space.space_id!r}", task, self.tasks)

    def answer(self, idx: ArchIndex, space: SearchSpace, arch: Architecture | Any, k: int, task: str | None, *,
               near: Any = None) -> Any:
        """:func:`similar_archs`'s answer, with ``idx`` already synced to these trials."""
        import pandas as pd

        if near is None:
            near = idx.similar(arch, k, filter=self._filter(task))
        hits = [self._rows_of[a] for a in dict.fromkeys(near["arch_id"]) if a in self._rows_of]
        per = self.per.iloc[np.sort(np.concatenate(hits))] if hits else self.per.iloc[:0]
        by = per.groupby("arch_id", sort=False)
        out = near.copy()
        out["n_trials"] = out["arch_id"].map(by["n_trials"].sum()).fillna(0).astype(int)
        out["n_tasks"] = out["arch_id"].map(by.size()).fillna(0).astype(int)
        out["quantile"] = out["arch_id"].map(by["quantile"].mean())
        scores = {a: dict(zip(g["task"], g["value"])) for a, g in by}
        out["scores"] = out["arch_id"].map(lambda a: scores.get(a, {}))
        if task is not None:
            on_task = per[per["task"] == task].set_index("arch_id")
            out["task"] = task
            out["value"] = out["arch_id"].map(on_task["value"])
            out["quantile"] = out["arch_id"].map(on_task["quantile"])
        else:  # long form: one row per (neighbour, task), nearest first, then by task name
            out = out.drop(columns=["quantile", "n_trials"]).assign(order=np.arange(len(out)))
            per_task = per[["arch_id", "task", "value", "quantile", "n_trials"]].astype({"task": object})
            out = out.merge(per_task, on="arch_id", how="left").sort_values(["order", "task"], kind="stable")
            out["n_trials"] = out["n_trials"].fillna(0).astype(int)
        out["arch"] = out["arch_id"].map(self.specs)
        cols = ["arch_id", "distance", "task", "value", "quantile", "n_trials", "n_tasks", "scores", "arch"]
        result = pd.DataFrame(out[cols]).reset_index(drop=True)
        result.attrs.update({"space_id": space.space_id, "kind": idx.kind, "encoding_version": idx.encoding_version,
                             "task": task, "query": getattr(arch, "id", None), "index": idx.kind_built_})
        return result


def _objects(items: list[Any]) -> Any:
    """An object array of ``items`` (dicts stay whole)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
