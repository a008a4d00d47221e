"""Warm-start selection from the ranks a KnowledgeBase keeps (schema 4), at 10^6 trials: ``kb_scale.py --stages warm``.

``--trials`` trials over ``--tasks`` tasks (one ingested search each, a DataFrame of Architecture
objects and uniform values), ``--archs`` distinct ``CellSpace(n_nodes=5)`` cells drawn uniformly,
into a fresh SQLite file. Timed: the ingest (trials/s), bytes per trial (file after a checkpoint),
the first ``kb.warm_start(space, n)`` after the ingest (it re-ranks every task written since the
last read), then the median of repeated selections (what a new search pays) with uniform task
weights and with random ones. With ``--warm-check`` the same selection computed from ``kb.trials()``
by ``select_warm_start`` (ranking every trial at query time) is timed and compared. With
``--asha-tasks K`` the first K tasks' searches are multi-fidelity instead (ASHA-shaped: rungs of 1, 3
and 9 epochs, the best third of a rung promoted to the next, about the same number of trials).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

GOAL_WARM_MS = 100.0


def warm_stage(args: Any) -> dict[str, Any]:
    import pandas as pd

    from nasbook import KnowledgeBase
    from nasbook.knowledge import select_warm_start
    from nasbook.space import CellSpace

    space = CellSpace(n_nodes=5)
    rng = np.random.default_rng(args.seed + 11)
    t0 = time.perf_counter()
    seen: dict[str, Any] = {}
    while len(seen) < args.archs:
        a = space.sample(rng)
        seen.setdefault(a.id, a)
    archs = list(seen.values())
    per_task = args.trials // args.tasks
    frames = []
    asha = getattr(args, "asha_tasks", 0)
    for t in range(args.tasks):
        if t < asha:
            frames.append(_asha_frame(archs, per_task, rng))
            continue
        idx = rng.integers(0, len(archs), per_task)
        frames.append(pd.DataFrame({"arch": [archs[i] for i in idx], "value": rng.random(per_task)}))
    out: dict[str, Any] = {"n_trials": sum(len(f) for f in frames), "n_tasks": args.tasks, "n_archs": len(archs),
                           "n": args.warm_n, "asha_tasks": asha, "make_s": time.perf_counter() - t0}
    print(f"# warm: {out['n_trials']:,} trials, {args.tasks} tasks, {len(archs):,} cells made in {out['make_s']:.1f} s",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(str(Path(tmp) / "kb.db"))
        t0 = time.perf_counter()
        for t, df in enumerate(frames):
            kb.ingest(df, task=f"task-{t:02d}", space=space, name=f"run-{t:02d}")
        out["ingest_s"] = time.perf_counter() - t0
        out["ingest_trials_per_s"] = out["n_trials"] / out["ingest_s"]
        del frames
        kb.storage.conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        out["bytes_per_trial"] = sum(p.stat().st_size for p in Path(tmp).glob("kb.db*")) / out["n_trials"]
        cells = kb.storage.conn.exec_driver_sql("SELECT COUNT(*) FROM nasbook_arch_stats").scalar()
        kb.storage.conn.commit()
        out["cells"] = int(cells)
        print(f"# warm: ingested at {out['ingest_trials_per_s']:,.0f} trials/s, {out['bytes_per_trial']:.0f} B/trial, "
              f"{out['cells']:,} (task, arch) cells", flush=True)
        t0 = time.perf_counter()
        first = kb.warm_start(space, args.warm_n)
        out["first_ms"] = (time.perf_counter() - t0) * 1e3
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            again = kb.warm_start(space, args.warm_n)
            times.append((time.perf_counter() - t0) * 1e3)
        out["median_ms"], out["max_ms"] = float(np.median(times)), float(np.max(times))
        out["same_as_first"] = [a.id for a, _ in again] == [a.id for a, _ in first]
        weights = {f"task-{t:02d}": float(w) for t, w in enumerate(rng.random(args.tasks))}
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            weighted = kb.warm_start(space, args.warm_n, task_weights=weights)
            times.append((time.perf_counter() - t0) * 1e3)
        out["weighted_median_ms"] = float(np.median(times))
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            kb.warm_start(space, args.warm_n, diversify=False)
            times.append((time.perf_counter() - t0) * 1e3)
        out["plain_median_ms"] = float(np.median(times))
        print(f"# warm: first {out['first_ms']:.0f} ms, then median {out['median_ms']:.1f} ms (weighted "
              f"{out['weighted_median_ms']:.1f}, without diversify {out['plain_median_ms']:.1f})", flush=True)
        if args.warm_check:
            t0 = time.perf_counter()
            trials = kb.trials()
            out["check_read_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            want = select_warm_start(trials, space, args.warm_n)
            out["check_select_s"] = time.perf_counter() - t0
            want_w = select_warm_start(trials, space, args.warm_n, task_weights=weights)
            out["same_as_query_time"] = ([(a.id, p) for a, p in first] == [(a.id, p) for a, p in want]
                                         and [(a.id, p) for a, p in weighted] == [(a.id, p) for a, p in want_w])
            print(f"# warm: query-time path: kb.trials() {out['check_read_s']:.1f} s + select_warm_start "
                  f"{out['check_select_s']:.1f} s; same top {args.warm_n} and provenance: {out['same_as_query_time']}",
                  flush=True)
        # one more search of one trial on task-00 (multi-fidelity with --asha-tasks): what the next selection pays
        kb.ingest(pd.DataFrame({"arch": [archs[0]], "value": [0.5]}), task="task-00", space=space, name="one-more")
        t0 = time.perf_counter()
        kb.warm_start(space, args.warm_n)
        out["after_write_ms"] = (time.perf_counter() - t0) * 1e3
        print(f"# warm: after a write to task-00: {out['after_write_ms']:.0f} ms", flush=True)
        kb.close()
    return out


def _asha_frame(archs: list[Any], n: int, rng: Any) -> Any:
    """About ``n`` trials of one ASHA-shaped search: rung 1 over random architectures, the best third of
    each rung trained on to the next (3 then 9 epochs), each rung's value half the last one's, half noise."""
    import pandas as pd

    n1 = n * 9 // 13
    idx = rng.integers(0, len(archs), n1)
    vals = rng.random(n1)
    parts = [pd.DataFrame({"arch": [archs[i] for i in idx], "value": vals, "epochs": 1})]
    for epochs in (3, 9):
        keep = np.sort(np.argsort(-vals, kind="stable")[:max(1, len(idx) // 3)])
        idx, vals = idx[keep], 0.5 * vals[keep] + 0.5 * rng.random(len(keep))
        parts.append(pd.DataFrame({"arch": [archs[i] for i in idx], "value": vals, "epochs": epochs}))
    return pd.concat(parts, ignore_index=True)


def report_rows(w: dict[str, Any]) -> list[list[str]]:
    ok = "met" if w["median_ms"] <= GOAL_WARM_MS else "MISSED"
    mf = f", {w['asha_tasks']} of them ASHA-shaped" if w.get("asha_tasks") else ""
    rows = [[f"ingest {w['n_trials']:,} trials ({w['n_tasks']} searches{mf}, {w['n_archs']:,} cells)",
             f"{w['ingest_trials_per_s']:,.0f} trials/s", ""],
            ["bytes per trial (file, trials + aggregates)", f"{w['bytes_per_trial']:.0f}", ""],
            [f"first warm_start(n={w['n']}) after the ingest (re-ranks {w['n_tasks']} tasks, {w['cells']:,} cells)",
             f"{w['first_ms']:.0f} ms", ""],
            [f"warm_start(n={w['n']}) median (max)", f"{w['median_ms']:.1f} ({w['max_ms']:.1f}) ms", ok],
            *([["the next warm_start after one trial more on task-00", f"{w['after_write_ms']:.0f} ms", ""]]
              if "after_write_ms" in w else []),
            ["  with random task weights / without diversify",
             f"{w['weighted_median_ms']:.1f} / {w['plain_median_ms']:.1f} ms", ""]]
    if "same_as_query_time" in w:
        rows.append(["query-time path: kb.trials() + select_warm_start",
                     f"{w['check_read_s']:.1f} + {w['check_select_s']:.1f} s",
                     f"same answer: {w['same_as_query_time']}"])
    return rows


if __name__ == "__main__":  # the stage runs from kb_scale.py (its options); this is `kb_scale.py --stages warm`
    import sys

    import kb_scale

    kb_scale.main(["--stages", "warm", *sys.argv[1:]])
