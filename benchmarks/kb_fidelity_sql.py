"""The top-fidelity queries before and after they became one SQLAlchemy definition, timed in one run.

A knowledge base of ``--trials`` trials over ``--tasks`` tasks (the first ``--asha-tasks`` ASHA-shaped, as
``kb_scale.py --stages warm --asha-tasks``), ``--archs`` ``CellSpace(n_nodes=5)`` cells, on SQLite and (when
the server binaries are installed) PostgreSQL. On the same store, alternating, ``--repeats`` times each:

* ``cells``: the top-fidelity cells of every ASHA task (what a warm start aggregates): the text SQL of
  ``nasbook.storage._stats.top_fidelity_cells`` before (copied below verbatim) against
  :func:`nasbook.storage.top_fidelity_cells`;
* ``mixed``: which tasks are multi-fidelity (all tasks): the text SQL before against
  :func:`nasbook.storage.mixed_fidelity_tasks`;
* ``best``: the best per task (``kb.tasks``): the SQLAlchemy query of ``knowledge._frames.best_per_task``
  before (copied below) against :func:`nasbook.storage.best_counted`.

Each pair's answers are compared (``same``). Before timing, PostgreSQL's tables are analysed (what
autovacuum does soon after a large ingest; before it the first calls take seconds whichever query runs)
and each query runs once untimed. Usage::

    OMP_NUM_THREADS=1 python benchmarks/kb_fidelity_sql.py --trials 100000 --tasks 20 --archs 10000 --asha-tasks 10
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from _common import format_table, metadata, write_json
from kb_warm import _asha_frame

from nasbook import KnowledgeBase
from nasbook.space import CellSpace
from nasbook.storage import TABLES, best_counted, mixed_fidelity_tasks, top_fidelity_cells

# -- before (09b5b38): text SQL in storage/_stats.py and a second statement of the rule in knowledge/_frames.py --
_OK = ("t.state = 'complete' AND t.value IS NOT NULL AND t.value >= -1.7976931348623157e308 AND "
       "t.value <= 1.7976931348623157e308 AND s.task_key IS NOT NULL AND s.space_id IS NOT NULL")
_FROM = "FROM nasbook_trials t JOIN nasbook_searches s ON s.id = t.search_id"


def old_mixed(conn: sa.Connection, space_id: str, task_keys: list[str]) -> set[str]:
    params = {"sp": space_id, **{f"k{i}": k for i, k in enumerate(task_keys)}}
    return {str(k) for k in conn.execute(sa.text(
        f"SELECT DISTINCT m.task_key FROM (SELECT s.task_key AS task_key {_FROM} WHERE s.space_id = :sp AND "
        f"s.task_key IN ({', '.join(f':k{i}' for i in range(len(task_keys)))}) AND {_OK} "
        "GROUP BY s.task_key, t.search_id HAVING MIN(t.epochs) < MAX(t.epochs)) m"), params).scalars().all()}


def old_cells(conn: sa.Connection, space_id: str, task_key: str) -> list[tuple[Any, ...]]:
    rows = conn.execute(sa.text(
        f"SELECT a.no, t.search_id, MAX(t.value), MIN(t.value) {_FROM} "
        f"JOIN (SELECT t.search_id AS sid, MAX(t.epochs) AS top {_FROM} WHERE s.space_id = :sp AND s.task_key = :tk "
        f"AND {_OK} GROUP BY t.search_id) f ON f.sid = t.search_id "
        "JOIN nasbook_space_archs a ON a.space_id = s.space_id AND a.arch_id = t.arch_id "
        f"WHERE s.space_id = :sp AND s.task_key = :tk AND {_OK} AND (t.epochs IS NULL OR t.epochs = f.top) "
        "GROUP BY a.no, t.search_id ORDER BY a.no, t.search_id"), {"sp": space_id, "tk": task_key}).all()
    return [tuple(r) for r in rows]


def old_best(conn: sa.Connection, key: str, mode: str) -> Any:
    _S, _T = TABLES["searches"], TABLES["trials"]
    valued = sa.and_(_T.c.state == "complete", _T.c.value.is_not(None), _T.c.value == _T.c.value)
    order = _T.c.value.desc() if mode == "max" else _T.c.value.asc()
    top = (sa.select(_T.c.search_id, sa.func.max(_T.c.epochs).label("top"))
           .select_from(_T.join(_S, _S.c.id == _T.c.search_id))
           .where(_S.c.task_key == key, valued).group_by(_T.c.search_id).subquery())
    q = (sa.select(_T.c.value, _T.c.arch_id, _S.c.name)
         .select_from(_T.join(_S, _S.c.id == _T.c.search_id).join(top, top.c.search_id == _T.c.search_id))
         .where(_S.c.task_key == key, valued)
         .where(sa.or_(_T.c.epochs.is_(None), _T.c.epochs == top.c.top))
         .order_by(order, _T.c.id).limit(1))
    return tuple(conn.execute(q).first() or ())


def new_best(conn: sa.Connection, key: str, mode: str) -> Any:
    return tuple(conn.execute(best_counted(mode), {"tk": key}).first() or ())[:3]  # (value, arch_id, search): not the epochs


def build(url: str, frames: list[Any], space: CellSpace) -> KnowledgeBase:
    kb = KnowledgeBase(url)
    for t, df in enumerate(frames):
        kb.ingest(df, task=f"task-{t:02d}", space=space, name=f"run-{t:02d}")
    return kb


def time_pairs(kb: KnowledgeBase, asha: int, repeats: int) -> dict[str, Any]:
    conn = kb.storage.conn
    _S = TABLES["searches"]
    rows = conn.execute(sa.select(_S.c.space_id, _S.c.task_key, _S.c.name).order_by(_S.c.name)).all()
    space_id = str(rows[0][0])
    keys = [str(r[1]) for r in rows]
    mf = keys[:asha]
    if conn.dialect.name == "postgresql":  # the planner's statistics of the fresh tables, as autovacuum would gather
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    cases = {
        "cells": (lambda: [old_cells(conn, space_id, k) for k in mf], lambda: [top_fidelity_cells(conn, space_id, k) for k in mf]),
        "mixed": (lambda: old_mixed(conn, space_id, keys), lambda: mixed_fidelity_tasks(conn, space_id, keys)),
        "best": (lambda: [old_best(conn, k, "max") for k in keys], lambda: [new_best(conn, k, "max") for k in keys]),
    }
    out: dict[str, Any] = {}
    for name, (old, new) in cases.items():
        times: dict[str, list[float]] = {"old": [], "new": []}
        answers = {}
        old(), new()  # untimed: caches warm for both
        conn.commit()
        for r in range(repeats):
            for label, fn in ((("old", old), ("new", new)) if r % 2 == 0 else (("new", new), ("old", old))):
                t0 = time.perf_counter()
                answers[label] = fn()
                times[label].append((time.perf_counter() - t0) * 1e3)
                conn.commit()
        same = answers["old"] == answers["new"]
        out[name] = {"old_ms": float(np.median(times["old"])), "new_ms": float(np.median(times["new"])),
                     "old_all": times["old"], "new_all": times["new"], "same": bool(same)}
        print(f"#   {name}: old {out[name]['old_ms']:.1f} ms, new {out[name]['new_ms']:.1f} ms (medians of {repeats}), "
              f"same answer: {same}", flush=True)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=100_000)
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--archs", type=int, default=10_000)
    ap.add_argument("--asha-tasks", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    import pandas as pd

    space = CellSpace(n_nodes=5)
    rng = np.random.default_rng(args.seed + 11)
    seen: dict[str, Any] = {}
    while len(seen) < args.archs:
        a = space.sample(rng)
        seen.setdefault(a.id, a)
    archs = list(seen.values())
    per_task = args.trials // args.tasks
    frames = []
    for t in range(args.tasks):
        if t < args.asha_tasks:
            frames.append(_asha_frame(archs, per_task, rng))
        else:
            idx = rng.integers(0, len(archs), per_task)
            frames.append(pd.DataFrame({"arch": [archs[i] for i in idx], "value": rng.random(per_task)}))
    res: dict[str, Any] = {"meta": metadata(), "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                           "n_trials": sum(len(f) for f in frames)}
    print(f"# {res['n_trials']:,} trials, {args.tasks} tasks ({args.asha_tasks} ASHA-shaped), {len(archs):,} cells", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in args.backends:
            print("# sqlite", flush=True)
            with build(str(Path(tmp) / "kb.db"), frames, space) as kb:
                res["sqlite"] = time_pairs(kb, args.asha_tasks, args.repeats)
        if "postgresql" in args.backends:
            from nasbook.testing._postgres import find_postgres, fresh_database, postgres_server

            if find_postgres() is None:
                res["postgresql"] = {"skipped": "PostgreSQL server binaries are not installed"}
            else:
                with postgres_server() as server:
                    print("# postgresql", flush=True)
                    with build(fresh_database(server), frames, space) as kb:
                        res["postgresql"] = time_pairs(kb, args.asha_tasks, args.repeats)
    rows = [[backend, name, f"{v['old_ms']:.1f}", f"{v['new_ms']:.1f}", f"{v['new_ms'] / v['old_ms']:.2f}", str(v["same"])]
            for backend in ("sqlite", "postgresql") if isinstance(res.get(backend), dict) and "skipped" not in res[backend]
            for name, v in res[backend].items()]
    print(format_table(["backend", "query", "before (ms)", "after (ms)", "after / before", "same answer"], rows))
    if args.json:
        write_json(args.json, res)
    return res


if __name__ == "__main__":
    main()
