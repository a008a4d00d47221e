"""``kb.tasks``' best per task: one top-1 query per task (``nasbook.storage.best_counted``) against one window
statement for all tasks (``ROW_NUMBER() OVER (PARTITION BY task ORDER BY ...)``), same store, same process.

Stores: the ``kb_trials_scale.py`` ones (8 tasks, 10^5 or 10^6 trials; ``--db``), or ``build`` here: many
tasks of few trials each (``--tasks`` x ``--per``; one task in five in min mode, one search in four
multi-fidelity, ~5% failed, ties on purpose: values rounded to 2 decimals), where the statement count matters.

``compare`` alternates the two forms ``--rounds`` times (after one untimed call each) and checks that every
round's answers are equal (``{task key: (value, arch_id, search, epochs)}``; without the epochs on a package
from before they were shown).

``frames`` times the public tables, ``kb.tasks`` and ``kb.searches``, end to end (``--rounds`` times each, after
one untimed call each, alternating): run it with ``PYTHONPATH`` at two checkouts to compare packages.

``versus`` runs ``frames`` for two checkouts (``--old``, ``--new``) in turn, ``--turns`` times each (the order
swapped every turn), prints each turn's medians and the new/old ratio of each pair of turns, and checks with
``assert_frame_equal`` that both give the same ``kb.tasks`` and ``kb.searches``. ``postgres --old DIR`` does the
same on its throwaway stores (``--new``: this checkout).

``onepass`` (SQLite) times the package's passes for every search's best (``search_bests`` then
``best_of_searches``) against one statement (GROUP BY search, epochs, signed value with ``min(id)``, then per
(search, epochs) ``max`` with that id as SQLite's bare column), alternately, and checks they find the same trials.

Usage::

    python benchmarks/kb_tasks_best.py build --tasks 1000 --per 100 --out bench-results/kb_tasks_1000x100.db
    python benchmarks/kb_tasks_best.py compare --db bench-results/kb_trials_cache/kb_trials_1000000_0.db
    python benchmarks/kb_tasks_best.py frames --db bench-results/kb_tasks_1000x100.db --rounds 9
    python benchmarks/kb_tasks_best.py versus --db bench-results/kb_tasks_1000x100.db --old /tmp/main --new .
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa


def window_statement() -> sa.Select[Any]:
    """The best of every task in one statement: the window form (mode by a bound list of min-mode tasks)."""
    from nasbook.storage import top_fidelity_trials

    sub = top_fidelity_trials()
    key = sa.case((sub.c.task_key.in_(sa.bindparam("mins", expanding=True)), sub.c.value), else_=-sub.c.value)
    rn = sa.func.row_number().over(partition_by=sub.c.task_key, order_by=(key, sub.c.id)).label("rn")
    inner = sa.select(sub.c.task_key, sub.c.value, sub.c.arch_id, sub.c.search, sub.c.epochs, rn).subquery()
    return (sa.select(inner.c.task_key, inner.c.value, inner.c.arch_id, inner.c.search, inner.c.epochs)
            .where(inner.c.rn == 1))


def build(tasks: int, per: int, out: Path | str, seed: int = 0) -> None:
    from nasbook import KnowledgeBase
    from nasbook.space import CellSpace

    rng = np.random.default_rng(seed + 57)
    space = CellSpace(n_nodes=5)
    pool = list({repr(p): p for p in (space.sample(rng).to_dict() for _ in range(2000))}.values())
    if isinstance(out, Path):
        out.unlink(missing_ok=True)
    kb = KnowledgeBase(str(out))
    t0 = time.perf_counter()
    for i in range(tasks):
        idx = rng.integers(0, len(pool), per)
        u = rng.random(per)
        rows = [{"arch": pool[j], "value": float("nan") if u[n] < 0.05 else round(float(rng.uniform(0.5, 0.9)), 2),
                 "state": "failed" if u[n] < 0.05 else "complete", "number": n} for n, j in enumerate(idx)]
        if i % 4 == 1:
            for r in rows:
                r["epochs"] = int(rng.choice([1, 3, 9]))
        kb.ingest(rows, task=f"task-{i}", space=space, name=f"run-{i}", mode="min" if i % 5 == 2 else None)
    kb.close()
    print(f"# built {out}: {tasks} tasks x {per} trials in {time.perf_counter() - t0:.1f} s", flush=True)


def compare(db: Path | str, rounds: int) -> None:
    from nasbook import KnowledgeBase
    from nasbook.knowledge import _frames

    kb = KnowledgeBase(str(db))
    tasks = _frames._task_rows(kb)
    modes = {k: str(c.get("mode", "max")) for k, _, c, _, _ in tasks}
    mins = [k for k, m in modes.items() if m == "min"]
    stmt = window_statement()

    def per_task() -> dict[str, Any]:
        return _frames.best_per_task(kb, list(modes), modes)

    width = len(next(iter(per_task().values()), (0, 0, 0, 0)))  # 3 on a package from before the epochs were shown

    def window() -> dict[str, Any]:
        return {str(k): (float(v), str(a), str(s), None if e is None else int(e))[:width]
                for k, v, a, s, e in kb._rows(stmt, {"mins": mins}) if str(k) in modes}

    times: dict[str, list[float]] = {"per_task": [], "window": []}
    per_task(), window()
    for _ in range(rounds):
        got = {}
        for name, f in (("per_task", per_task), ("window", window)):
            t0 = time.perf_counter()
            got[name] = f()
            times[name].append((time.perf_counter() - t0) * 1000)
        assert got["per_task"] == got["window"], "the two forms disagree"
    n = kb._rows(sa.select(sa.func.count()).select_from(sa.table("nasbook_trials")))
    print(f"{Path(str(db)).name}: {len(modes)} tasks, {n[0][0]:,} trials, load {os.getloadavg()[0]:.1f}; equal in every round")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):,.0f} | {min(ts):,.0f} | {' / '.join(f'{t:.0f}' for t in ts)} |")
    kb.close()


def frames(db: Path | str, rounds: int, save: Path | None = None, out: Path | None = None) -> None:
    """``kb.tasks`` and ``kb.searches`` end to end, alternately, on one store and object; ``save``: pickle both
    frames there (to check two packages give equal frames)."""
    import nasbook
    from nasbook import KnowledgeBase

    kb = KnowledgeBase(str(db))
    times: dict[str, list[float]] = {"kb.tasks": [], "kb.searches": []}
    fns = {"kb.tasks": lambda: kb.tasks, "kb.searches": lambda: kb.searches}
    first = {name: f() for name, f in fns.items()}
    shapes = {name: df.shape for name, df in first.items()}
    if save is not None:
        pd.to_pickle(first, save)
    for _ in range(rounds):
        for name, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[name].append((time.perf_counter() - t0) * 1000)
    n = kb._rows(sa.select(sa.func.count()).select_from(sa.table("nasbook_trials")))
    print(f"{Path(str(db)).name}: nasbook at {Path(nasbook.__file__).parent.parent}, {n[0][0]:,} trials, "
          f"shapes {shapes}, load {os.getloadavg()[0]:.1f}")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):,.0f} | {min(ts):,.0f} | {' / '.join(f'{t:.0f}' for t in ts)} |")
    if out is not None:
        out.write_text(json.dumps(times))
    kb.close()


def versus(db: Path | str, old: Path, new: Path, turns: int, rounds: int) -> None:
    """``frames`` of checkouts ``old`` and ``new`` in turn (subprocesses, order swapped each turn): medians,
    new/old ratios per pair of turns, and the frames of both checked equal."""
    pkgs = {"old": Path(old).resolve(), "new": Path(new).resolve()}
    med: dict[str, dict[str, list[float]]] = {k: {"kb.tasks": [], "kb.searches": []} for k in pkgs}
    with tempfile.TemporaryDirectory() as tmp:
        for turn in range(turns):
            for who in (("old", "new") if turn % 2 == 0 else ("new", "old")):
                js, pkl = Path(tmp, f"{who}.json"), Path(tmp, f"{who}.pkl")
                env = {**os.environ, "PYTHONPATH": str(pkgs[who])}
                subprocess.run([sys.executable, __file__, "frames", "--db", str(db), "--rounds", str(rounds),
                                "--save", str(pkl), "--json", str(js)], env=env, check=True, stdout=subprocess.DEVNULL)
                for name, ts in json.loads(js.read_text()).items():
                    med[who][name].append(statistics.median(ts))
        a, b = pd.read_pickle(Path(tmp, "old.pkl")), pd.read_pickle(Path(tmp, "new.pkl"))
        for name in a:
            pd.testing.assert_frame_equal(a[name], b[name])
    print(f"{str(db).rsplit('/', 1)[-1]}: old {pkgs['old']}, new {pkgs['new']}, {turns} turns x {rounds} rounds, "
          f"load {os.getloadavg()[0]:.1f}; frames equal")
    for name in ("kb.tasks", "kb.searches"):
        o, n = med["old"][name], med["new"][name]
        ratios = [y / x for x, y in zip(o, n)]
        print(f"| {name} | {statistics.median(o):,.0f} ({min(o):,.0f}) | {statistics.median(n):,.0f} ({min(n):,.0f}) | "
              f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) |")


ONE_PASS = """SELECT search_id, epochs, max(k), first FROM (
  SELECT search_id, epochs, CASE WHEN {ok} AND search_id IN ({mins}) THEN -value WHEN {ok} THEN value END AS k,
         min(id) AS first FROM nasbook_trials GROUP BY search_id, epochs, k) GROUP BY search_id, epochs"""


def onepass(db: str, rounds: int) -> None:
    """The passes of ``nasbook.storage`` against :data:`ONE_PASS` on a SQLite store: the best trial's id per search."""
    from nasbook import KnowledgeBase
    from nasbook.storage import best_of_searches, search_bests

    kb = KnowledgeBase(db)
    modes = {r.id: str(r.config.get("mode", "max")) for r in kb.storage.list_searches()}
    ok = ("state = 'complete' AND value IS NOT NULL AND value >= -1.7976931348623157e308 "
          "AND value <= 1.7976931348623157e308")
    sql = sa.text(ONE_PASS.format(ok=ok, mins=",".join(str(s) for s, m in modes.items() if m == "min") or "NULL"))

    def passes() -> dict[int, int]:
        def run(conn: sa.Connection) -> dict[int, int]:
            rules = {s: r for s, (_, r) in search_bests(lambda q, p=None: conn.execute(q, p).all(), modes).items()}
            return {s: hash(v) for s, v in best_of_searches(conn, modes, bests=rules).items()}
        return kb._write(run)

    def one() -> dict[int, int]:
        best: dict[int, tuple[Any, ...]] = {}
        for sid, epochs, k, first in kb._rows(sql):
            if k is None:
                continue
            top, free = best.get(sid, (None, None))
            if epochs is None:
                free = (k, -first)
            elif top is None or epochs > top[0]:
                top = (epochs, k, -first)
            best[sid] = (top, free)
        ids = {s: -max(c for c in (None if t is None else t[1:], f) if c is not None)[1] for s, (t, f) in best.items()}
        rows = kb._rows(sa.text("SELECT t.search_id, t.value, t.arch_id, s.name, t.epochs FROM nasbook_trials t JOIN "
                                f"nasbook_searches s ON s.id = t.search_id WHERE t.id IN ({','.join(map(str, ids.values()))})"))
        return {int(s): hash((float(v), str(a), str(n), None if e is None else int(e))) for s, v, a, n, e in rows}

    assert passes() == one(), "the two forms disagree"
    times: dict[str, list[float]] = {"passes": [], "one statement": []}
    for _ in range(rounds):
        for name, f in (("passes", passes), ("one statement", one)):
            t0 = time.perf_counter()
            f()
            times[name].append((time.perf_counter() - t0) * 1000)
    print(f"{db.rsplit('/', 1)[-1]}: load {os.getloadavg()[0]:.1f}; the same trials")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):,.0f} | {min(ts):,.0f} |")
    kb.close()


def postgres(shapes: list[tuple[int, int]], rounds: int, old: Path | None = None, new: Path = Path("."),
             turns: int = 3) -> None:
    """Each ``(tasks, per)`` store built in a fresh database of a throwaway PostgreSQL server, ANALYZEd, compared."""
    from nasbook.testing._postgres import find_postgres, fresh_database, postgres_server

    with postgres_server(find_postgres()) as server:
        for tasks, per in shapes:
            url = fresh_database(server)
            build(tasks, per, url)
            with sa.create_engine(url).connect() as conn:
                conn.execute(sa.text("ANALYZE"))
                conn.commit()
            print(f"PostgreSQL, {tasks} x {per}:")
            if old is not None:
                versus(url, old, new, turns, rounds)
                continue
            compare(url, rounds)
            frames(url, rounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--tasks", type=int, default=1000)
    b.add_argument("--per", type=int, default=100)
    b.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare")
    c.add_argument("--db", required=True, help="a SQLite file or a storage URL")
    c.add_argument("--rounds", type=int, default=5)
    f = sub.add_parser("frames")
    f.add_argument("--db", required=True, help="a SQLite file or a storage URL")
    f.add_argument("--rounds", type=int, default=5)
    f.add_argument("--save", type=Path, default=None, help="pickle {'kb.tasks': ..., 'kb.searches': ...} there")
    f.add_argument("--json", type=Path, default=None, help="write {table: [ms, ...]} there")
    o = sub.add_parser("onepass")
    o.add_argument("--db", required=True)
    o.add_argument("--rounds", type=int, default=7)
    v = sub.add_parser("versus")
    v.add_argument("--db", required=True)
    v.add_argument("--old", type=Path, required=True)
    v.add_argument("--new", type=Path, default=Path("."))
    v.add_argument("--turns", type=int, default=4)
    v.add_argument("--rounds", type=int, default=5)
    g = sub.add_parser("postgres")
    g.add_argument("--shapes", default="8x12500,1000x100", help="tasks x trials per task, comma-separated")
    g.add_argument("--rounds", type=int, default=5)
    g.add_argument("--old", type=Path, default=None, help="a checkout to compare with --new (versus)")
    g.add_argument("--new", type=Path, default=Path("."))
    g.add_argument("--turns", type=int, default=3)
    args = ap.parse_args()
    if args.cmd == "postgres":
        postgres([(int(a), int(b)) for a, b in (s.split("x") for s in args.shapes.split(","))], args.rounds,
                 args.old, args.new, args.turns)
    elif args.cmd == "frames":
        frames(args.db, args.rounds, args.save, args.json)
    elif args.cmd == "onepass":
        onepass(args.db, args.rounds)
    elif args.cmd == "versus":
        versus(args.db, args.old, args.new, args.turns, args.rounds)
    elif args.cmd == "build":
        build(args.tasks, args.per, args.out)
    else:
        compare(args.db, args.rounds)


if __name__ == "__main__":
    main()
