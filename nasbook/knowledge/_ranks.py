"""Warm starts from the ranks the store keeps (schema version 4), without reading every trial.

:func:`stored_warm_start` answers what :func:`~nasbook.knowledge.select_warm_start` answers over
``kb.trials()`` (same architectures, same order, same provenance), from ``nasbook_task_ranks``: per
past task, every architecture's best value and its quantile among the task's architectures, kept by
the store as trials are written (:mod:`nasbook.storage`'s ``_stats``) and re-ranked per task on the
first read after a write. The aggregation over tasks is one ``bincount`` over the stored
(task, architecture) cells.

It declines (returns None, and the caller ranks the trials itself) where the stored ranks cannot
give the same answer: past trials in another space (translated through their specs by
``select_warm_start``), two tasks under one name, or an excluded search that has finished trials.

**Multi-fidelity searches.** Warm starts count only each search's complete trials at its most epochs
(:mod:`nasbook.knowledge._fidelity`), while the stored best values (``nasbook_arch_stats``) and the
ranks stored from them are over every complete trial. So a task holding a search whose complete trials
have different epochs (ASHA, Hyperband, ...: asked once per task and write, by the task's ``changed``
counter) is not read from its stored ranks: its (architecture, best value both ways, searches) cells are
aggregated from its top-fidelity trials by one grouped read (:func:`_top_cells`) and ranked here, and
that is remembered on the knowledge base object at the task's ``changed`` counter, so repeated warm
starts read nothing more until the task is written again. Its stored rows are left as they are
(:func:`~nasbook.storage.refresh_ranks` skips it): nothing written to the store changes meaning, so a
store of any version of schema 4, and any process reading it, never mixes fidelities into an answer.
A search whose top epochs rises (a new rung) bumps the counter with its write, and the task's cells
are aggregated again: its lower-rung values never count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import sqlalchemy as sa

from nasbook._errors import InvalidParameterTypeError, check_int
from nasbook.knowledge._warm import SHRINK_TASKS, _check_weights
from nasbook.space import Architecture, SearchSpace
from nasbook.storage import (
    TABLES,
    loads,
    mixed_fidelity_tasks,
    quantiles,
    ranked_tasks,
    read_ranks,
    refresh_ranks,
    top_fidelity_cells,
)

if TYPE_CHECKING:
    from nasbook.knowledge._kb import KnowledgeBase

_S, _T, _K = TABLES["searches"], TABLES["trials"], TABLES["tasks"]
_CHUNK = 500  # ids per IN (...) list


Seen = dict[tuple[str, str], tuple[int, bool]]
Tops = dict[tuple[str, str], tuple[int, "_Cells"]]


class _Cells(NamedTuple):
    """A task's (architecture, best values, searches) cells over its top-fidelity trials, ranked both ways."""

    nos: np.ndarray  # int32: the architectures' ``no``
    vmax: np.ndarray
    vmin: np.ndarray
    searches: list[str]  # ",3,17,": the searches that recorded each architecture at their most epochs
    qmax: np.ndarray
    qmin: np.ndarray


def _mixed_fidelity(conn: sa.Connection, space_id: str, seen: Seen) -> dict[str, int]:
    """``{task key: its changed counter}`` of the tasks of ``space_id`` with a search whose complete trials
    have different epochs; ``seen`` remembers each (space, task)'s answer at its ``changed`` counter, so only
    tasks written since are asked."""
    changed = {str(k): int(c) for k, c in conn.execute(sa.text(
        "SELECT task_key, changed FROM nasbook_task_ranks WHERE space_id = :sp"), {"sp": space_id}).all()}
    stale = sorted(k for k, c in changed.items() if seen.get((space_id, k), (None, False))[0] != c)
    for lo in range(0, len(stale), _CHUNK):
        part = stale[lo:lo + _CHUNK]
        mixed = mixed_fidelity_tasks(conn, space_id, part)
        seen.update({(space_id, k): (changed[k], k in mixed) for k in part})
    return {k: c for k, c in changed.items() if seen[(space_id, k)][1]}


def _top_cells(conn: sa.Connection, space_id: str, task_key: str) -> _Cells:
    """The task's cells over the trials that count (:func:`~nasbook.knowledge.top_fidelity`'s rule in SQL:
    per search, the complete finite trials at its most epochs, and those without epochs), ranked as
    :func:`~nasbook.storage.refresh_ranks` ranks the stored cells."""
    table = np.array(top_fidelity_cells(conn, space_id, task_key), dtype=np.float64).reshape(-1, 4).T
    no = table[0].astype(np.int64)
    first = np.flatnonzero(np.r_[True, no[1:] != no[:-1]]) if len(no) else np.zeros(0, dtype=np.int64)
    vmax = np.maximum.reduceat(table[2], first) if len(no) else np.zeros(0)
    vmin = np.minimum.reduceat(table[3], first) if len(no) else np.zeros(0)
    sids = table[1].astype(np.int64).tolist()
    ends = np.r_[first[1:], len(no)].tolist()
    searches = ["," + ",".join(map(str, sids[lo:hi])) + "," for lo, hi in zip(first.tolist(), ends)]
    return _Cells(no[first].astype(np.int32), vmax, vmin, searches, quantiles(vmax), quantiles(-vmin))


def _state(conn: sa.Connection, space_id: str, exclude: str | None, seen: Seen, tops: Tops) -> Any:
    """({task key: architectures ranked}, {task key: (name, mode)}, {task key: its top-fidelity cells}) after
    re-ranking the tasks written since their last ranking, or None when the stored ranks cannot answer."""
    spaces = set(conn.execute(sa.text("SELECT DISTINCT space_id FROM nasbook_task_ranks")).scalars().all())
    if spaces - {space_id}:
        return None
    if exclude is not None:
        done = conn.execute(sa.select(_T.c.id).select_from(_T.join(_S, _S.c.id == _T.c.search_id))
                            .where(_S.c.name == exclude, _T.c.state == "complete").limit(1)).first()
        if done is not None:
            return None
    mixed = _mixed_fidelity(conn, space_id, seen)
    refresh_ranks(conn, space_id, skip=mixed)
    ranks = {k: n for k, n in ranked_tasks(conn, space_id).items() if k not in mixed}
    cells = {}
    for key, changed in mixed.items():
        hit = tops.get((space_id, key))
        if hit is None or hit[0] != changed:
            hit = tops[(space_id, key)] = (changed, _top_cells(conn, space_id, key))
        if len(hit[1].nos):
            cells[key] = hit[1]
            ranks[key] = len(hit[1].nos)
    tasks = {}
    for key, name, config in conn.execute(sa.select(_K.c.key, _K.c.name, sa.type_coerce(_K.c.config, sa.Text))
                                          .where(_K.c.key.in_(list(ranks)))).all():
        mode = loads(config).get("mode", "max") if config else "max"
        tasks[str(key)] = (str(name), mode if mode in ("max", "min") else "max")
    names = [v[0] for v in tasks.values()]
    if not ranks or set(ranks) - set(tasks) or len(set(names)) != len(names):
        return None
    return ranks, tasks, cells


def past_task_names(kb: KnowledgeBase, space: SearchSpace) -> list[str] | None:
    """The sorted names of the tasks with stored ranks when they are all in ``space``; None otherwise."""
    from nasbook.storage import _stats

    if not _stats.supported(kb.storage.conn.dialect.name):
        return None
    rows = kb._rows(sa.text("SELECT DISTINCT r.space_id, k.name FROM nasbook_task_ranks r LEFT JOIN nasbook_tasks k "
                            "ON k.key = r.task_key"))
    if not rows or any(sp != space.space_id or name is None for sp, name in rows):
        return None
    return sorted({str(name) for _, name in rows})


def stored_warm_start(kb: KnowledgeBase, space: SearchSpace, n: int = 10, *,
                      task_weights: Mapping[str, float] | None = None, diversify: bool = True,
                      mode: str | None = None, exclude: str | None = None,
                      owner: str = "select_warm_start") -> list[tuple[Architecture, dict[str, Any]]] | None:
    """``select_warm_start(kb.trials(), space, n, ...)`` (less the trials of search ``exclude``)
    from the stored ranks; None where they cannot give that answer (see the module docstring)."""
    from nasbook.storage import _stats

    n = check_int(owner, "n", n, minimum=1)
    if not isinstance(diversify, bool):
        raise InvalidParameterTypeError(f"{owner}(diversify=...) must be True or False; got {diversify!r}.")
    if not isinstance(space, SearchSpace):
        raise InvalidParameterTypeError(f"{owner}(space=...) must be a SearchSpace; got {space!r:.60}.")
    conn = kb.storage.conn
    if not _stats.supported(conn.dialect.name):
        return None
    state = kb._write(lambda c: _state(c, space.space_id, exclude, kb._fidelity_seen, kb._fidelity_cells))
    if state is None:
        return None
    counts, tasks, cells = state
    order = sorted(counts, key=lambda k: tasks[k][0])  # tasks by name, as select_warm_start groups them
    weights = _check_weights(owner, task_weights, sorted(tasks[k][0] for k in order))
    w_mean = float(np.mean([w for w in weights.values() if w > 0]))
    shrink = SHRINK_TASKS * w_mean
    used = [k for k in order if weights[tasks[k][0]] > 0]
    modes = {k: mode or tasks[k][1] for k in used}
    stored = {k: m for k, m in modes.items() if k not in cells}
    ranks = kb._write(lambda c: read_ranks(c, space.space_id, stored)) if stored else {}
    ranks.update({k: (cells[k].nos, cells[k].qmax if m == "max" else cells[k].qmin)
                  for k, m in modes.items() if k in cells})
    if set(ranks) != set(used):  # re-ranked to nothing in between (a failed ingest removed): the slow path
        return None
    nos = np.concatenate([ranks[k][0] for k in used]).astype(np.int64)
    w = np.concatenate([np.full(len(ranks[k][0]), weights[tasks[k][0]]) for k in used])
    q = np.concatenate([ranks[k][1] for k in used])
    size = int(nos.max()) + 1
    num = np.bincount(nos, w * q, minlength=size)  # sequential sums in task order: select_warm_start's
    den = np.bincount(nos, w, minlength=size)
    cnt = np.bincount(nos, minlength=size)
    present = np.flatnonzero(cnt > 0)
    score = (num[present] + shrink * 0.5) / (den[present] + shrink)
    chosen = _choose(kb, space, n, diversify, present, score, cnt[present])
    return _provenance(kb, space, chosen, ranks, tasks, used, weights, modes, cells)


def _choose(kb: KnowledgeBase, space: SearchSpace, n: int, diversify: bool, present: np.ndarray, score: np.ndarray,
            cnt: np.ndarray) -> list[tuple[Architecture, float, int]]:
    """(architecture, score, its ``no``): the first ``n`` of (-score, -tasks, id) order, skipping neighbours of
    those taken with ``diversify``."""
    m = min(len(present), max(32, 4 * n))
    while True:
        if m < len(present):
            cut = -np.partition(-score, m - 1)[m - 1]
            top = np.flatnonzero(score >= cut)  # ties at the cut come along: the id decides among them
        else:
            top = np.arange(len(present))
        found = _archs(kb, space, present[top].tolist())
        cands = sorted(((-float(score[i]), -int(cnt[i]), found[int(present[i])], float(score[i]), int(present[i]))
                        for i in top), key=lambda c: (c[0], c[1], c[2].id))
        chosen: list[tuple[Architecture, float, int]] = []
        blocked: set[str] = set()
        for _, _, arch, s, no in cands:
            if len(chosen) >= n:
                break
            if arch.id in blocked:
                continue
            chosen.append((arch, s, no))
            blocked.add(arch.id)
            if diversify:
                blocked.update(a.id for a in space.neighbours(arch))
        if len(chosen) >= n or len(top) == len(present):
            return chosen
        m = min(len(present), m * 8)


def _archs(kb: KnowledgeBase, space: SearchSpace, nos: list[int]) -> dict[int, Architecture]:
    out = {}
    for lo in range(0, len(nos), _CHUNK):
        part = nos[lo:lo + _CHUNK]
        rows = kb._rows(sa.text(f"SELECT no, arch FROM nasbook_space_archs WHERE no IN ({', '.join(map(str, part))})"))
        for no, spec in rows:
            out[int(no)] = space.from_dict(loads(spec))
    return out


def _provenance(kb: KnowledgeBase, space: SearchSpace, chosen: list[tuple[Architecture, float, int]],
                ranks: dict[str, tuple[np.ndarray, np.ndarray]], tasks: dict[str, tuple[str, str]], used: list[str],
                weights: dict[str, float], modes: dict[str, str],
                cells: dict[str, _Cells]) -> list[tuple[Architecture, dict[str, Any]]]:
    """select_warm_start's answer: per chosen architecture and past task its quantile, best score, the
    task's number of architectures, the task's weight and the searches that recorded it (from the stored
    cells, or from ``cells`` for a task with a multi-fidelity search)."""
    if not chosen:
        return []
    nos = np.array([no for _, _, no in chosen], dtype=np.int32)
    ids = [a.id for a, _, _ in chosen]
    at: dict[str, dict[int, int]] = {}  # task key -> {no: position in ranks[task]}
    found: dict[tuple[str, str], tuple[float, float, str]] = {}  # (task key, arch id) -> (vmax, vmin, searches)
    starts = np.cumsum([0] + [len(ranks[k][0]) for k in used])
    every = np.concatenate([ranks[k][0] for k in used])
    hits = np.flatnonzero(np.isin(every, nos, kind="table"))  # one pass over every (task, architecture) cell
    for k in used:
        at[k] = {}
    for h in hits.tolist():
        t = int(np.searchsorted(starts, h, side="right")) - 1
        at[used[t]][int(every[h])] = h - int(starts[t])
    plain = [k for k in used if k not in cells]
    params = {"sp": space.space_id, **{f"a{i}": a for i, a in enumerate(ids)}, **{f"k{i}": k for i, k in enumerate(plain)}}
    for k, a, vmax, vmin, se in kb._rows(sa.text(  # the primary key (space, task, arch) with an IN list on both
            "SELECT task_key, arch_id, vmax, vmin, searches FROM nasbook_arch_stats WHERE space_id = :sp AND "
            f"task_key IN ({', '.join(f':k{i}' for i in range(len(plain)))}) AND "
            f"arch_id IN ({', '.join(f':a{i}' for i in range(len(ids)))})"), params) if plain else []:
        found[(str(k), str(a))] = (float(vmax), float(vmin), str(se))
    for k in (k for k in used if k in cells):  # a task with a multi-fidelity search: its top-fidelity cells
        c = cells[k]
        for arch, _, no in chosen:
            j = at[k].get(no)
            if j is not None:
                found[(k, arch.id)] = (float(c.vmax[j]), float(c.vmin[j]), c.searches[j])
    sids = {int(x) for _, _, se in found.values() for x in se.split(",") if x}
    names = {int(i): str(nm) for i, nm in kb._rows(sa.select(_S.c.id, _S.c.name).where(_S.c.id.in_(sorted(sids))))}
    out = []
    for rank, (arch, s, no) in enumerate(chosen):
        per_task = {}
        for k in used:
            j = at[k].get(no)
            if j is None:
                continue
            name = tasks[k][0]
            vmax, vmin, se = found[(k, arch.id)]
            here = [int(x) for x in se.split(",") if x]
            per_task[name] = {"quantile": round(float(ranks[k][1][j]), 4),
                              "score": vmax if modes[k] == "max" else -vmin,
                              "value": vmax if modes[k] == "max" else vmin, "n": len(ranks[k][0]),
                              "weight": float(weights[name]), "searches": sorted({names[i] for i in here if i in names})}
        out.append((arch, {"rank": rank, "score": round(s, 6), "n_tasks": len(per_task), "tasks": per_task}))
    return out
