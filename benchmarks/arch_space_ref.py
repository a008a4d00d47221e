"""What an architecture keeping its space costs: memory per architecture, ``enumerate``/``sample`` time, pickle sizes.

Each measurement runs in a fresh worker process with ``PYTHONPATH`` at ``--old`` (a tree of the code before, e.g.
``git archive main | tar -x -C /tmp/old``) or at this checkout, interleaved (old, new, old, new, ... ``--rounds``
times, the order swapped every other round). Times are CPU time of the worker (``time.process_time``: the machine
is shared, and wall time there counts the other processes' turns). A worker measures:

* ``GraphSpace().enumerate()`` (the 26,206 NAS-Bench-Graph architectures) on a fresh space, ``--reps`` times:
  CPU seconds (min of the reps), and under ``tracemalloc`` the bytes the list and its architectures hold, per
  architecture (the space's own caches included: the same on both sides but for the architectures), and the MB
  still held after ``del archs, space`` (what reference counts free) and after ``gc.collect()``, and by 1,000 of
  them kept when the list and the space are dropped (each keeps its space, and the space its cache of all 26,206);
* ``space.sample(rng)`` ``--samples`` times on a fresh ``CellSpace()`` (``make``, a canonical form each) and a
  fresh ``GraphSpace()``: CPU microseconds per call;
* ``Architecture(space_id, id, spec)`` of a cell ``--samples`` times, its space in memory (what a space of your own
  calls in ``make``; the new code looks that space up): CPU microseconds per call;
* ``pickle.dumps`` and ``cloudpickle.dumps`` (what dask uses) of one architecture of each, and of 1,000 graph
  architectures: bytes.

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD python benchmarks/arch_space_ref.py --old /tmp/old --rounds 6 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import describe_machine, describe_package, format_table, metadata, write_json

ROOT = Path(__file__).resolve().parent.parent


def _worker(reps: int, samples: int) -> dict[str, Any]:
    import gc
    import pickle
    import tracemalloc

    import numpy as np

    from nasbook.space import CellSpace, GraphSpace

    out: dict[str, Any] = {}
    times = []
    for _ in range(reps):
        space = GraphSpace()
        gc.collect()
        t = time.process_time()
        archs = space.enumerate()
        times.append(time.process_time() - t)
        del archs, space
    out["enumerate_s"] = min(times)
    gc.collect()
    GraphSpace().enumerate()  # module-level tables built once, outside the traced part
    gc.collect()
    tracemalloc.start()
    space = GraphSpace()
    archs = space.enumerate()
    current, _ = tracemalloc.get_traced_memory()
    out["n_archs"] = len(archs)
    out["bytes_per_arch"] = current / len(archs)
    del archs, space  # what dropping them frees at once (reference counts), before the cyclic collector runs
    out["MB_left_after_del"] = tracemalloc.get_traced_memory()[0] / 2**20
    gc.collect()
    out["MB_left_after_gc"] = tracemalloc.get_traced_memory()[0] / 2**20
    space = GraphSpace()
    archs = space.enumerate()
    kept = archs[:1000]  # a few kept, the list and the space dropped
    del archs, space
    gc.collect()
    out["MB_held_by_1000_kept"] = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    del kept
    space = GraphSpace()
    archs = space.enumerate()
    out["getsizeof_arch"] = sys.getsizeof(archs[0])
    try:
        import cloudpickle

        cp = cloudpickle.dumps
    except ImportError:  # pragma: no cover - dask brings it
        cp = None
    cell = CellSpace()
    one_cell = cell.sample(np.random.default_rng(0))
    out["pickle_graph_arch"] = len(pickle.dumps(archs[123]))
    out["pickle_cell_arch"] = len(pickle.dumps(one_cell))
    out["pickle_1000_graph_archs"] = len(pickle.dumps(archs[:1000]))
    if cp is not None:
        out["cloudpickle_graph_arch"] = len(cp(archs[123]))
        out["cloudpickle_cell_arch"] = len(cp(one_cell))
        out["cloudpickle_1000_graph_archs"] = len(cp(archs[:1000]))
    del archs, space
    for name, make in (("cell", CellSpace), ("graph", GraphSpace)):
        sp, rng = make(), np.random.default_rng(1)
        sp.sample(rng)  # caches and tables built
        gc.collect()
        t = time.process_time()
        for _ in range(samples):
            sp.sample(rng)
        out[f"sample_{name}_us"] = (time.process_time() - t) / samples * 1e6
    from nasbook.space import Architecture  # what a space of your own calls in make, its space in memory

    spec, sid = one_cell.spec, cell.space_id
    gc.collect()
    t = time.process_time()
    for _ in range(samples):
        Architecture(sid, "x", spec)
    out["Architecture()_us"] = (time.process_time() - t) / samples * 1e6
    return out


def _run_worker(tree: Path, reps: int, samples: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    res = subprocess.run([sys.executable, __file__, "--worker", "--reps", str(reps), "--samples", str(samples)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, help="a tree of the code before (omit to measure this checkout alone)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--reps", type=int, default=3, help="enumerate() calls per worker (min kept)")
    ap.add_argument("--samples", type=int, default=20000, help="sample() calls per space per worker")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.reps, args.samples)))
        return
    trees = {"new": ROOT} if args.old is None else {"old": args.old, "new": ROOT}
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in trees}
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(reversed(trees))
        for side in order:
            runs[side].append(_run_worker(trees[side], args.reps, args.samples))
    keys = [k for k in runs["new"][0] if k != "n_archs"]
    rows = []
    for k in keys:
        row: list[Any] = [k]
        for side in trees:
            vals = [run[k] for run in runs[side]]
            row.append(f"{statistics.median(vals):.4g} ({min(vals):.4g}-{max(vals):.4g})")
        if "old" in trees:
            ratios = [n[k] / o[k] for o, n in zip(runs["old"], runs["new"])]
            row.append(f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})")
        rows.append(row)
    meta = metadata()
    print(describe_machine(meta))
    print(describe_package(meta))
    print(f"{runs['new'][0]['n_archs']} architectures; median (range) over {args.rounds} worker(s) per side")
    headers = ["measure", *[f"{s} median (range)" for s in trees]] + (["new/old median (range)"] if "old" in trees else [])
    print(format_table(headers, rows))
    if args.json:
        write_json(args.json, {"meta": meta, "config": vars(args) | {"old": str(args.old), "json": str(args.json)},
                               "raw": runs})


if __name__ == "__main__":
    main()
