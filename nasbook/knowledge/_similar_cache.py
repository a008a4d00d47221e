"""What ``KnowledgeBase.similar`` keeps per (space, encoding) between calls, and how it follows the store.

Kept: the space's :class:`~nasbook.knowledge._arch_summary.ArchSummary`, its :class:`ArchIndex`, the store's
change token (:func:`nasbook.storage.trials_token`) they were read at, the largest trial id read (``top``),
the ids of the space's trials that were not complete then (``pending``) and, per search, how many rows
(any state) it had up to ``top`` (``counts``).

On a call the token is read (a few small queries, none over the trials):

* equal: the kept summary and index answer (no trial read);
* only appended or completed in place: the task counters or the largest id moved, and no search row
  changed or went and the rewrite counter did not move (:func:`nasbook.storage.mark_rewritten`: a complete
  trial overwritten or removed, a completion where no counter is kept): read the rows with ids in
  ``(top, new top]`` (by primary key) and the ``pending`` ones now complete, merge them into the summary
  (their tasks recomputed) and add their new architectures to the index. On PostgreSQL, where a row of a
  lower id can commit after a higher one, the rows per search up to the new top are counted too, and a
  count that differs from what was read means a full read;
* anything else (or no token: a database without the aggregates): the space's trials are read again.

A new ``KnowledgeBase`` object starts from what an earlier one saved (:mod:`._similar_store`: next to a SQLite
file, in this user's cache folder for a server database), brought up to the current token the same way; a full
read saves it again, and so does a merge once the summary holds 10% more rows than saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook._gc import gc_paused
from nasbook.knowledge import _frames, _similar_store
from nasbook.knowledge._arch_summary import ArchSummary, object_array
from nasbook.knowledge._index import ArchIndex
from nasbook.knowledge._vectors import check_kind

if TYPE_CHECKING:
    from nasbook.space import SearchSpace

#: ids per ``IN (...)`` list of pending trials
CHUNK = 500
#: a merged summary is saved again (:mod:`._similar_store`) once it holds this many times the rows last saved
SAVE_GROWTH = 1.1


@dataclass
class Kept:
    token: Any
    summary: ArchSummary
    index: ArchIndex
    top: int
    pending: set[int] = field(default_factory=set)
    counts: dict[int, int] = field(default_factory=dict)
    #: how the last call got its summary: "kept", "merged", "loaded" or "read" (tests, benchmarks)
    how: str = "read"
    #: the summary's rows when it was last saved (:mod:`._similar_store`)
    saved_rows: int = 0


def _select(space_id: str) -> Any:
    """The space's trials, trial columns only (``COLUMNS``): the per-search ones (task, search, mode) are read
    once per search (:func:`_catalog`), and ``search_id IN (SELECT ...)`` rather than a join lets SQLite read
    each search's trials through the ``(search_id, number)`` index, already in the order a full read wants."""
    import sqlalchemy as sa

    from nasbook.storage import TABLES

    _S, _T = TABLES["searches"], TABLES["trials"]
    return (sa.select(_T.c.id, _T.c.search_id, _T.c.state, _T.c.arch_id, sa.type_coerce(_T.c.arch, sa.Text),
                      _T.c.value, _T.c.epochs, _T.c.number)
            .where(_T.c.search_id.in_(sa.select(_S.c.id).where(_S.c.space_id == space_id))))


def _catalog(kb: Any, space_id: str) -> dict[int, tuple[Any, Any]]:
    """``{search id: (task name, search name)}`` of the space's searches (the task None where none is stored)."""
    import sqlalchemy as sa

    from nasbook.storage import TABLES

    _S, _K = TABLES["searches"], TABLES["tasks"]
    q = (sa.select(_S.c.id, _K.c.name, _S.c.name).select_from(_S.outerjoin(_K, _K.c.key == _S.c.task_key))
         .where(_S.c.space_id == space_id))
    return {int(sid): (task, name) for sid, task, name in kb._rows(q)}


def _modes(kb: Any, token: Any) -> dict[int, str]:
    """Each search's ``mode`` (its configuration's; "max" unless told), from the token's catalogue rows."""
    if token is None:
        return {sid: str(c.get("mode", "max")) for sid, c in _frames._search_configs(kb).items()}
    out = {}
    for sid, name, _key, _task, text in token[1]:
        config = _frames.load_json(text, f"the configuration of search {name!r}")
        out[int(sid)] = str(config.get("mode", "max")) if isinstance(config, dict) else "max"
    return out


def _frame(rows: Any, modes: dict[int, str], space_id: str, pending: set[int], counts: dict[int, int] | None,
           catalog: dict[int, tuple[Any, Any]]) -> Any:
    """The complete rows of ``rows`` (``_select``'s columns) as a summary reads them; the others' ids go to
    ``pending``, every row counts in ``counts`` (when given). Rows of a search not in ``catalog`` (removed
    since) are left out, as the join with the searches left them out. Built column by column (numpy, pandas'
    hash tables): the same frame, dtypes and Python objects as a loop over the rows gave (tests)."""
    import pandas as pd

    names = ("tid", "sid", "state", "arch_id", "arch", "value", "epochs", "number")
    n = len(rows)
    col = dict(zip(names, (object_array(c) for c in zip(*rows)))) if n else {c: object_array([]) for c in names}
    sid = col["sid"].astype(np.int64)
    codes, uniq = pd.factorize(sid)
    known = np.array([int(s) in catalog for s in uniq], dtype=bool)
    keep = known[codes] if n and not known.all() else None
    if keep is not None:  # a search removed between the reads: as the inner join did, its rows are not there
        col = {c: v[keep] for c, v in col.items()}
        sid, codes = sid[keep], pd.factorize(sid[keep])[0]
        uniq = pd.unique(sid)
    if counts is not None:
        for s, c in zip(*np.unique(sid, return_counts=True)):
            counts[int(s)] = counts.get(int(s), 0) + int(c)
    done = col["state"] == "complete"
    if not done.all():
        pending.update(col["tid"][~done].astype(np.int64).tolist())
        col = {c: v[done] for c, v in col.items()}
        codes = codes[done]
    per = [catalog[int(s)] for s in uniq]
    task = object_array([t for t, _ in per])[codes]
    search = object_array([s for _, s in per])[codes]
    mode = object_array([modes.get(int(s), "max") for s in uniq])[codes]
    m = len(codes)
    df = pd.DataFrame({"task": pd.Series(task, dtype=object), "search": pd.Series(search, dtype=object),
                       "space_id": pd.Series(object_array([space_id] * m), dtype=object),
                       "state": pd.Series(col["state"], dtype=object), "arch_id": pd.Series(col["arch_id"], dtype=object),
                       "arch": pd.Series(col["arch"], dtype=object),  # JSON text, decoded when shown (ArchSummary.spec)
                       "value": pd.Series(col["value"], dtype=object).astype("float64"),
                       "mode": pd.Series(mode, dtype=object),
                       "epochs": pd.Series(col["epochs"], dtype=object).astype("Int64"),
                       "_sid": col["sid"].astype(np.int64), "_num": col["number"].astype(np.int64)})
    return df


def summary_for(kb: Any, space: SearchSpace, kind: str | None) -> tuple[ArchSummary | None, ArchIndex | None]:
    """The space's summary (None: no complete trial) and its synced index, kept on ``kb`` (``_similar_kept``)."""
    key = (space.space_id, kind)
    kept_all: dict[Any, Kept] = kb.__dict__.setdefault("_similar_kept", {})
    token = kb._similar_token(space.space_id)  # read before the trials: a write in between changes the next one
    kept = kept_all.get(key)
    path = _similar_store.path_for(kb, space.space_id, kind) if token is not None else None
    store = _similar_store.store_of(kb) if path is not None else None
    if kept is None and path is not None:  # a new object: what an earlier one saved, if it checks out
        kept = _similar_store.load(path, space, kind, store, lambda top: _similar_store.anchor(kb, top))
    if kept is not None and not kept.index.is_stale(space) and token is not None:
        kept.index.space = space
        if kept.token == token:
            kept.how = "kept" if kept_all.get(key) is kept else "loaded"
            kept_all[key] = kept
            return kept.summary, kept.index
        if _merge(kb, kept, token, space):
            kept.how = "merged"
            kept_all[key] = kept
            if path is not None and kept.summary.n_rows > SAVE_GROWTH * kept.saved_rows:
                _save(kb, path, kept, space.space_id, kind, store)
            return kept.summary, kept.index
    fresh = _read(kb, space, kind, token, kept.index if kept is not None else None)
    if fresh is None:
        kept_all.pop(key, None)
        return None, None
    kept_all[key] = fresh
    if path is not None:
        _save(kb, path, fresh, space.space_id, kind, store)
    return fresh.summary, fresh.index


def _save(kb: Any, path: Any, kept: Kept, space_id: str, kind: str | None, store: str | None) -> None:
    if _similar_store.save(path, kept, space_id, kind, store, _similar_store.anchor(kb, kept.top)):
        kept.saved_rows = kept.summary.n_rows


def _read(kb: Any, space: SearchSpace, kind: str | None, token: Any, index: ArchIndex | None) -> Kept | None:
    """Everything read again: the space's trials up to the token's largest id (all of them without a token).

    The garbage collector is off meanwhile (restored as found): its passes over the millions of new tuples,
    strings and arrays a large space's read makes found nothing to free, and cost as much as building the frame
    (docs/benchmarks.md 11s-kb3)."""
    with gc_paused():
        return _read_all(kb, space, kind, token, index)


def _read_all(kb: Any, space: SearchSpace, kind: str | None, token: Any, index: ArchIndex | None) -> Kept | None:
    from nasbook.storage import TABLES

    top = int(token[2] or 0) if token is not None else 0
    stmt = _select(space.space_id)
    if token is not None:
        stmt = stmt.where(TABLES["trials"].c.id <= top)
    rows = _frames.fetch_tuples(kb, stmt.order_by(TABLES["trials"].c.search_id, TABLES["trials"].c.number))
    pending: set[int] = set()
    counts: dict[int, int] = {}
    catalog = _catalog(kb, space.space_id) if rows else {}  # after the trials: each one's search is there
    frame = _frame(rows, _modes(kb, token) if rows else {}, space.space_id, pending, counts, catalog)
    del rows  # the driver's tuples: not kept while the summary and the index are built
    if frame.empty:
        return None
    summary = ArchSummary(frame)
    want = check_kind("KnowledgeBase.similar", space, kind if kind is not None else (index.kind if index is not None else None))
    if index is None or index.is_stale(space) or index.kind != want:
        index = ArchIndex(space, want)
    index.space = space
    known = set(summary.arch_ids())
    gone = [a for a in index._pos if a not in known]
    if gone:
        index.remove(gone)
    index.add(summary.architectures([a for a in summary.arch_ids() if a not in index._pos]))
    return Kept(token, summary, index, top, pending, counts, "read")


def _merge(kb: Any, kept: Kept, token: Any, space: SearchSpace) -> bool:
    """Bring ``kept`` up to ``token`` by reading only new and completed rows; False when that cannot be done."""
    import sqlalchemy as sa

    from nasbook.storage import TABLES

    old = kept.token
    if old is None or token[3] != old[3]:
        return False  # a complete trial overwritten or removed, or completed where no counter is kept
    now = {r[0]: r for r in token[1]}
    if any(now.get(r[0]) != r for r in old[1]):
        return False  # a search renamed, moved, reconfigured or removed
    top = int(token[2] or 0)
    if top < kept.top:
        return False
    _T = TABLES["trials"]
    base = _select(space.space_id)
    rows = list(_frames.fetch_tuples(kb, base.where(_T.c.id > kept.top, _T.c.id <= top).order_by(_T.c.id))) if top > kept.top else []
    waiting = sorted(kept.pending)
    for start in range(0, len(waiting), CHUNK):
        rows += _frames.fetch_tuples(kb, base.where(_T.c.id.in_(waiting[start:start + CHUNK]), _T.c.state == "complete"))
    catalog = _catalog(kb, space.space_id) if rows else {}
    rows = [r for r in rows if int(r[1]) in catalog]  # as the join with the searches: a removed search's rows go
    counts = dict(kept.counts)
    fresh = [r for r in rows if r[0] > kept.top]
    for r in fresh:
        counts[r[1]] = counts.get(r[1], 0) + 1
    if kb.storage.engine.dialect.name != "sqlite":  # a row of a lower id committed after a higher one: read all
        ids = sorted(int(r[0]) for r in token[1])
        stored = dict(kb._rows(sa.select(_T.c.search_id, sa.func.count()).where(_T.c.search_id.in_(ids), _T.c.id <= top)
                               .group_by(_T.c.search_id))) if ids else {}
        if {int(k): int(v) for k, v in stored.items()} != {int(k): int(v) for k, v in counts.items() if v}:
            return False
    pending = set(kept.pending)
    frame = _frame(rows, _modes(kb, token), space.space_id, pending, None, catalog)
    pending -= {int(r[0]) for r in rows if r[2] == "complete"}
    new = kept.summary.merge(frame)
    if new:
        kept.index.add(kept.summary.architectures([a for a in new if a not in kept.index._pos]))
    kept.token, kept.top, kept.pending, kept.counts = token, top, pending, counts
    return True
