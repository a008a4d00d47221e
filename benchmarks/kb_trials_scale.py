"""``KnowledgeBase.trials(...)``, ``searches``, ``tasks`` and the repr on a store of N trials, old code against new.

The store (built once per size into ``--cache``, then copied for each worker): 20 searches over 8 tasks and two
spaces (15 searches in ``GraphSpace(ops=GNN_OPS)`` over a pool of ~3,700 distinct architectures, as in section
11a; 5 in ``CellSpace(n_nodes=5)`` over 1,000), N / 20 trials each, ~90% complete, ~5% failed (no value), ~5%
pruned; each trial has two metrics; one search in four is multi-fidelity (its trials at 1, 3 or 9 epochs).

``compare`` runs worker processes alternately with ``PYTHONPATH`` at the old and at the new checkout
(``--old``, ``--new``), ``--rounds`` rounds, each timing every operation once on a fresh ``KnowledgeBase``
(one process per code and round, so both meet the same load); the first round of each code also writes a
digest of every frame (dtypes, index, each value's ``repr``), compared old against new. ``worker`` is one such
process; ``--profile OP`` runs cProfile over one operation instead.

Usage::

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/kb_trials_scale.py compare --sizes 100000,1000000 --rounds 3 \
        --old /tmp/nasbook_old --new . --cache bench-results/kb_trials_cache --json bench-results/kb_trials.json
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

OPS = ("trials", "trials_task", "trials_space", "trials_states_all", "searches", "tasks", "repr",
       "trials_value_arch", "trials_value")
NEW_ONLY = {"trials_value_arch", "trials_value"}


def build(n: int, cache: Path, seed: int = 0) -> Path:
    path = cache / f"kb_trials_{n}_{seed}.db"
    if path.exists():
        return path
    import pandas as pd

    from nasbook import KnowledgeBase
    from nasbook.space import GNN_OPS, CellSpace, GraphSpace

    rng = np.random.default_rng(seed + 31)
    graph, cell = GraphSpace(ops=GNN_OPS), CellSpace(n_nodes=5)
    pools = {}
    for space, size in ((graph, 4000), (cell, 1000)):
        pool = [space.sample(rng).to_dict() for _ in range(size)]
        pools[space.space_id] = list({repr(p): p for p in pool}.values())
    tmp = path.with_suffix(".tmp.db")
    tmp.unlink(missing_ok=True)
    kb = KnowledgeBase(str(tmp))
    t0 = time.perf_counter()
    per = n // 20
    for i in range(20):
        space = cell if i % 4 == 3 else graph
        pool = pools[space.space_id]
        idx = rng.integers(0, len(pool), per)
        values = rng.uniform(0.5, 0.9, per)
        u = rng.random(per)
        states = np.where(u < 0.05, "failed", np.where(u < 0.10, "pruned", "complete"))
        frame = pd.DataFrame({
            "arch": [pool[j] for j in idx], "value": np.where(states == "failed", np.nan, values),
            "state": states.tolist(), "number": np.arange(per),
            "metrics": [{"test_accuracy": float(v - 0.01), "latency_ms": float(v * 10)} for v in values]})
        if i % 4 == 1:
            frame["epochs"] = rng.choice([1, 3, 9], per)
        kb.ingest(frame, task=f"task-{i % 8}", space=space, name=f"run-{i:02d}",
                  mode="min" if i % 8 == 5 else None)
    kb.close()
    tmp.rename(path)
    print(f"# built {path.name}: {n:,} trials in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def digest(obj: Any) -> str:
    h = hashlib.sha256()
    if isinstance(obj, str):
        h.update(obj.encode())
        return h.hexdigest()
    h.update(repr(list(obj.dtypes.items())).encode())
    h.update(repr(obj.index.dtype).encode())
    h.update(repr(obj.index.tolist()).encode())
    for col in obj.columns:
        for v in obj[col].tolist():
            h.update(repr(v).encode())
            h.update(b"\0")
    return h.hexdigest()


def _op(kb: Any, op: str) -> Any:
    if op == "trials":
        return kb.trials()
    if op == "trials_task":
        return kb.trials(task="task-0")
    if op == "trials_space":
        return kb.trials(space=kb.searches["space_id"].iloc[3])
    if op == "trials_states_all":
        return kb.trials(states=None)
    if op == "searches":
        return kb.searches
    if op == "tasks":
        return kb.tasks
    if op == "repr":
        return repr(kb).replace(repr(kb.label), "LABEL")  # the copy's path differs per process
    if op == "trials_value_arch":
        return kb.trials(columns=["value", "arch"])
    if op == "trials_value":
        return kb.trials(columns=["value"])
    raise ValueError(op)


def worker(args: Any) -> None:
    import pandas  # noqa: F401  (imported before timing: every code pays it once per process)

    from nasbook import KnowledgeBase

    ops = [o for o in args.ops.split(",") if o]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "kb.db"
        shutil.copyfile(args.db, copy)
        kb = KnowledgeBase(str(copy))
        out: dict[str, Any] = {}
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            _op(kb, args.profile)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
            pstats.Stats(prof).sort_stats("tottime").print_stats(20)
            return
        for op in ops:
            gc.collect()
            t0 = time.perf_counter()
            res = _op(kb, op)
            ms = (time.perf_counter() - t0) * 1000
            out[op] = {"ms": ms, "rows": None if isinstance(res, str) else len(res)}
            if args.digest:
                out[op]["digest"] = digest(res)
            del res
        kb.close()
    print("RESULT " + json.dumps(out), flush=True)


def _run_worker(code: str, db: Path, ops: list[str], with_digest: bool) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(Path(code).resolve()))
    cmd = [sys.executable, __file__, "worker", "--db", str(db), "--ops", ",".join(ops)] + (["--digest"] if with_digest else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    raise RuntimeError(f"worker failed ({code}): {proc.stderr[-3000:]}")


def compare(args: Any) -> dict[str, Any]:
    from _common import metadata, write_json

    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"meta": metadata(), "old": str(args.old), "new": str(args.new), "sizes": {}}
    for n in (int(s) for s in args.sizes.split(",")):
        db = build(n, cache)
        ops = [o for o in args.ops.split(",") if o]
        runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
        for r in range(args.rounds):
            for code in ("old", "new"):
                which = [o for o in ops if code == "new" or o not in NEW_ONLY]
                load = os.getloadavg()[0]
                got = _run_worker(getattr(args, code), db, which, with_digest=(r == 0 and args.check))
                got["_load"] = load
                runs[code].append(got)
                print(f"# {n:,} round {r} {code} (load {load:.1f}): "
                      + ", ".join(f"{o} {v['ms']:.0f} ms" for o, v in got.items() if o != "_load"), flush=True)
        res["sizes"][str(n)] = runs
        if args.json:
            write_json(args.json, res)
    report(res)
    return res


def report(res: dict[str, Any]) -> None:
    for n, runs in res["sizes"].items():
        print(f"\n## {int(n):,} trials: median ms over {len(runs['new'])} interleaved rounds (old / new), ratio old/new "
              "(each round's pair), frames equal")
        print("| operation | rows | old ms | new ms | old/new per round | same |")
        print("|---|---:|---:|---:|---|---|")
        for op in OPS:
            new = [r[op] for r in runs["new"] if op in r]
            if not new:
                continue
            old = [r[op] for r in runs["old"] if op in r]
            ratios = [o["ms"] / w["ms"] for o, w in zip(old, new)]
            same = ("-" if not old or "digest" not in old[0] else str(old[0]["digest"] == new[0]["digest"]))
            old_ms = f"{statistics.median(o['ms'] for o in old):,.0f}" if old else "-"
            print(f"| `{op}` | {new[0]['rows'] if new[0]['rows'] is not None else '-'} | {old_ms} | "
                  f"{statistics.median(w['ms'] for w in new):,.0f} | "
                  f"{' / '.join(f'{x:.1f}' for x in ratios) or '-'} | {same} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--db", type=Path, required=True)
    w.add_argument("--ops", default=",".join(OPS))
    w.add_argument("--digest", action="store_true")
    w.add_argument("--profile", default=None, help="cProfile one operation instead of timing")
    c = sub.add_parser("compare")
    c.add_argument("--sizes", default="100000,1000000")
    c.add_argument("--rounds", type=int, default=3)
    c.add_argument("--ops", default=",".join(OPS))
    c.add_argument("--old", type=Path, required=True, help="a checkout whose nasbook/ is the old code")
    c.add_argument("--new", type=Path, default=Path(__file__).resolve().parents[1])
    c.add_argument("--check", action="store_true", help="compare digests of the frames in the first round")
    c.add_argument("--cache", type=Path, default=Path("bench-results/kb_trials_cache"))
    c.add_argument("--json", type=Path, default=None)
    b = sub.add_parser("build")
    b.add_argument("--sizes", default="100000,1000000")
    b.add_argument("--cache", type=Path, default=Path("bench-results/kb_trials_cache"))
    r = sub.add_parser("report")
    r.add_argument("json", type=Path)
    args = ap.parse_args()
    if args.cmd == "worker":
        worker(args)
    elif args.cmd == "compare":
        compare(args)
    elif args.cmd == "build":
        args.cache.mkdir(parents=True, exist_ok=True)
        for n in args.sizes.split(","):
            build(int(n), args.cache)
    else:
        report(json.loads(args.json.read_text()))


if __name__ == "__main__":
    main()
