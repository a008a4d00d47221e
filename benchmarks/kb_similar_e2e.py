"""``KnowledgeBase.similar`` end to end on a store of N trials: ``kb_scale.py --stages kb-similar``.

``--trials`` trials (each size of ``--sim-sizes``, comma-separated) over ``--tasks`` tasks (one ingested
search each) of ``N // 10`` distinct ``CellSpace(n_nodes=5)`` cells (at most ``--archs``), uniform
values, in a SQLite file kept in ``--cache`` (built once per size and seed, so the old and the new
code time the same file: run the script with ``PYTHONPATH`` at each checkout). Timed on a fresh
KnowledgeBase object: the first ``kb.similar(arch, 10)`` (reads the trials, builds the index), the first
``kb.similar(arch, 10, task=...)``, then the median over ``--sim-repeats`` fresh query cells of each
(what a notebook pays per call while nothing is written), then the median over ``--sim-writes`` calls
each after an ingest of ``--sim-batch`` trials (one search; default 1) on task-00 (old code: the summary is
rebuilt, the index only synced; since 11s-kb2 the new rows are merged). The timed store is a copy
of the kept file (the writes change it). ``check``: the answers of the repeated calls
equal ``similar_archs(kb.trials(space=...), ...)`` for the first queries (over a fresh index).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _store(n: int, tasks: int, archs_max: int, seed: int, cache: Path) -> tuple[Path, list[Any]]:
    import pandas as pd

    from nasbook import KnowledgeBase
    from nasbook.space import CellSpace

    space = CellSpace(n_nodes=5)
    path = cache / f"kb_similar_{n}_{tasks}_{seed}.db"
    rng = np.random.default_rng(seed + 21)
    n_archs = max(10, min(archs_max, n // 10))
    if not path.exists():
        seen: dict[str, Any] = {}
        while len(seen) < n_archs:
            a = space.sample(rng)
            seen.setdefault(a.id, a)
        archs = list(seen.values())
        tmp = path.with_suffix(".tmp.db")
        tmp.unlink(missing_ok=True)
        kb = KnowledgeBase(str(tmp))
        t0 = time.perf_counter()
        for t in range(tasks):
            idx = rng.integers(0, len(archs), n // tasks)
            kb.ingest(pd.DataFrame({"arch": [archs[i] for i in idx], "value": rng.random(len(idx))}),
                      task=f"task-{t:02d}", space=space, name=f"run-{t:02d}", validate=False)
        kb.close()
        tmp.rename(path)
        print(f"# kb-similar: built {path.name} ({n:,} trials, {n_archs:,} cells) in {time.perf_counter() - t0:.1f} s",
              flush=True)
    qrng = np.random.default_rng(seed + 1000)
    return path, [space.sample(qrng) for _ in range(200)]


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000, out


def measure(n: int, args: Any) -> dict[str, Any]:


    cache = Path(args.cache) if args.cache else Path("bench-results/kb_similar_cache")
    cache.mkdir(parents=True, exist_ok=True)
    path, queries = _store(n, args.tasks, args.archs, args.seed, cache)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        return _measure(n, args, copy, queries)


def _measure(n: int, args: Any, path: Path, queries: list[Any]) -> dict[str, Any]:
    import pandas as pd

    import nasbook
    from nasbook import KnowledgeBase
    from nasbook.knowledge import similar_archs

    kb = KnowledgeBase(str(path))
    task = "task-00"
    out: dict[str, Any] = {"n_trials": n, "n_tasks": args.tasks, "nasbook": str(Path(nasbook.__file__).parent)}
    out["first_ms"], _ = _timed(lambda: kb.similar(queries[0], 10))
    out["first_task_ms"], _ = _timed(lambda: kb.similar(queries[1], 10, task=task))
    reps = args.sim_repeats
    plain = [_timed(lambda q=q: kb.similar(q, 10))[0] for q in queries[2:2 + reps]]
    on_task = [_timed(lambda q=q: kb.similar(q, 10, task=task))[0] for q in queries[2 + reps:2 + 2 * reps]]
    out.update(repeats=reps, median_ms=statistics.median(plain), median_task_ms=statistics.median(on_task),
               max_ms=max(plain), max_task_ms=max(on_task))
    after, hows = [], []
    batch = int(getattr(args, "sim_batch", 1) or 1)
    wrng = np.random.default_rng(args.seed + 2000)
    space = kb.space(queries[0].space_id)
    for i in range(args.sim_writes):  # one search of `batch` trials (fresh cells) on task-00, then one call
        cells = [queries[100 + i]] + [space.sample(wrng) for _ in range(batch - 1)]
        kb.ingest([{"arch": a, "value": float(wrng.random())} for a in cells], task=task, space=space,
                  name=f"one-more-{i}")
        after.append(_timed(lambda i=i: kb.similar(queries[150 + i], 10))[0])
        kept = getattr(kb, "_similar_kept", {}).get((space.space_id, None))
        hows.append(getattr(kept, "how", "read"))
    if after:
        out.update(writes=len(after), batch=batch, after_write_ms=statistics.median(after), after_write_all_ms=after,
                   after_write_how=hows)
    if args.sim_check:
        trials = kb.trials(space=queries[0].space_id)
        space = kb.space(queries[0].space_id)
        same = True
        for q in queries[2:4]:
            for t in (None, task):
                want = similar_archs(trials, space, q, 10, t)
                try:
                    pd.testing.assert_frame_equal(kb.similar(q, 10, task=t), want)
                except AssertionError:
                    same = False
        out["check"] = same
    kb.close()
    out["fresh_process_ms"], out["fresh_process_how"] = _fresh_process(path, queries[199])
    print(f"# kb-similar {n:,}: a new process's first call {out['fresh_process_ms']:.0f} ms "
          f"({out['fresh_process_how']})", flush=True)
    print(f"# kb-similar {n:,}: writes of {out.get('batch', 1)} trials ({out.get('after_write_how')}): "
          f"{[round(x, 1) for x in out.get('after_write_all_ms', [])]} ms", flush=True)
    print(f"# kb-similar {n:,}: first {out['first_ms']:.0f} ms, first task= {out['first_task_ms']:.0f} ms, "
          f"repeated median {out['median_ms']:.2f} ms, task= {out['median_task_ms']:.2f} ms, "
          f"after a write {out.get('after_write_ms', float('nan')):.0f} ms", flush=True)
    return out


_CHILD = """
import json, sys, time
import nasbook
from nasbook.space import CellSpace
arch = CellSpace(n_nodes=5).make(**json.loads(sys.argv[2]))
kb = nasbook.KnowledgeBase(sys.argv[1])
t0 = time.perf_counter()
kb.similar(arch, 10)
ms = (time.perf_counter() - t0) * 1000
kept = getattr(kb, "_similar_kept", {}).get((arch.space_id, None))
print(json.dumps({"ms": ms, "how": getattr(kept, "how", "read")}))
"""


def _fresh_process(path: Path, query: Any) -> tuple[float, str]:
    """The first ``kb.similar(arch, 10)`` of a new Python process on the store (imports not timed): what a
    notebook restarted after the writes pays (since 11s-kb2 it loads what the last object saved next to a
    SQLite file, and merges the trials written since)."""
    import json
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), json.dumps(query.spec)], capture_output=True,
                          text=True, timeout=1800, env=os.environ.copy())
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    got = json.loads(done.stdout.strip().splitlines()[-1])
    return float(got["ms"]), str(got["how"])


def kb_similar_stage(args: Any) -> list[dict[str, Any]]:
    return [measure(int(n), args) for n in str(args.sim_sizes).split(",")]


def report_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[f"{r['n_trials']:,}", f"{r['first_ms']:.0f}", f"{r['first_task_ms']:.0f}",
             f"{r['median_ms']:.2f} (max {r['max_ms']:.1f})", f"{r['median_task_ms']:.2f} (max {r['max_task_ms']:.1f})",
             f"{r['after_write_ms']:.1f}" if "after_write_ms" in r else "-",
             f"{r['fresh_process_ms']:.0f} ({r['fresh_process_how']})" if "fresh_process_ms" in r else "-", str(r["repeats"]),
             str(r.get("check", "-"))] for r in rows]


REPORT_HEADER = ["trials", "first similar(a,10) ms", "first task= ms", "repeated median ms", "repeated task= median ms",
                 "after a write ms", "new process first ms", "repeats", "same as similar_archs"]


if __name__ == "__main__":  # the stage runs from kb_scale.py (its options); this is `kb_scale.py --stages kb-similar`
    import sys

    import kb_scale

    kb_scale.main(["--stages", "kb-similar", *sys.argv[1:]])
