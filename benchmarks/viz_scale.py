"""Every public ``nasbook.viz`` plot at 1,000 and 10,000 trials (or curves, points): build and render.

For each size, in one process per tree (old and new interleaved, so machine load hits both alike),
this script times what a notebook user waits for on ``display(plot)``: the ``plot_*`` call (build)
and ``holoviews.render(plot, backend="bokeh")`` (the Bokeh model the notebook front end receives).

* ``plot_curves``: ``Search(ToyTask(CellSpace(), epochs=9), strategy="random", budget=N, seed=100)``
  (every trial has a 9-epoch curve; the space has 8,764 architectures, so N=10,000 gives 8,764 curves),
  all curves, and ``top_k=10``.
* ``plot_history``, ``plot_tradeoff``, ``plot_op_frequency``: ``Search(NasBenchGraph("cora"),
  strategy="random", budget=N, seed=100)``.
* ``plot_compare``: 2 strategies x 3 seeds of N trials each on cora (``x="trials"``).
* ``plot_predictions``: a ``Predictor("ensemble")`` scored on N random cora architectures.
* ``plot_predictor_scores``: its input does not grow with trials (sizes x seeds x predictors); timed
  once on a 4-predictor, 5-size, 10-seed ``evaluate``-shaped Dataset for completeness.

Usage::

    python benchmarks/viz_scale.py --trees OLD_TREE NEW_TREE --sizes 1000 10000 --repeats 3 \
        --json bench-results/viz_scale.json

Each (tree, size) runs in a fresh subprocess with ``PYTHONPATH=tree``; the trees alternate
old, new, old, new... ``--repeats`` times; the table reports medians and new/old ratios. A plot
call over ``--limit-s`` seconds (build and render) is stopped (SIGALRM) and shown as ``> limit``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

SEED = 100


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def one(n: int, limit_s: int) -> dict[str, Any]:
    """Every plot at size ``n``, in this process: {name: [build_s, render_s]}, or the error (a call
    over ``limit_s`` seconds, build and render together, is stopped and reported as such)."""
    import warnings

    import holoviews as hv
    import numpy as np
    import xarray as xr

    import nasbook
    import nasbook.viz as viz
    from nasbook.space import CellSpace
    from nasbook.tasks import NasBenchGraph
    from nasbook.testing import ToyTask

    warnings.simplefilter("ignore")
    space = CellSpace()
    curves = nasbook.Search(space, ToyTask(space, epochs=9), strategy="random", budget=n, seed=SEED,
                            storage=":memory:").run(progress="none")
    cora = nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=n, seed=SEED, storage=":memory:").run(progress="none")
    runs = [nasbook.Search(NasBenchGraph("cora"), strategy=s, budget=n, seed=SEED + k, storage=":memory:").run(progress="none")
            for s in ("random", "evolution") for k in range(3)]
    pred = nasbook.Predictor("ensemble", seed=SEED)
    train = [t.arch for t in cora.trials[:200]]
    pred.fit(train, [t.value for t in cora.trials[:200]])
    archs = [t.arch for t in cora.trials]
    pred.score(archs, [t.value for t in cora.trials])
    rng = np.random.default_rng(SEED)
    sizes = [20, 40, 80, 160, 320]
    scores = xr.Dataset({m: (("predictor", "n_train", "seed"), rng.uniform(0.2, 0.8, (4, 5, 10)))
                         for m in ("kendall_tau", "spearman")},
                        coords={"predictor": ["a", "b", "c", "d"], "n_train": sizes, "seed": np.arange(10)},
                        attrs={"task": "cora"})
    # warm-up: plotting imports and holoviews' first renders
    small = nasbook.Search(space, ToyTask(space, epochs=9), strategy="random", budget=20, seed=SEED,
                           storage=":memory:").run(progress="none")
    hv.render(viz.plot_curves(small), backend="bokeh")
    hv.render(viz.plot_history(small), backend="bokeh")
    calls = {
        "plot_curves (all)": lambda: viz.plot_curves(curves),
        "plot_curves (top_k=10)": lambda: viz.plot_curves(curves, top_k=10),
        "plot_history": lambda: viz.plot_history(cora),
        "plot_tradeoff": lambda: viz.plot_tradeoff(cora),
        "plot_op_frequency": lambda: viz.plot_op_frequency(cora),
        "plot_compare (2x3 searches)": lambda: viz.plot_compare(*runs),
        "plot_predictions": lambda: viz.plot_predictions(pred),
        "plot_predictor_scores (fixed size)": lambda: viz.plot_predictor_scores(scores),
    }
    out: dict[str, Any] = {}

    def _alarm(*_: Any) -> None:
        raise TimeoutError(f"over {limit_s} s")

    signal.signal(signal.SIGALRM, _alarm)
    for name, fn in calls.items():
        signal.alarm(limit_s)  # build and render together; pure-Python holoviews code is interrupted
        try:
            build, plot = _timed(fn)
            render, _ = _timed(lambda plot=plot: hv.render(plot, backend="bokeh"))
            out[name] = [build, render]
        except Exception as exc:  # noqa: BLE001 - a failure (or the time limit) is a figure to report, not a crash
            out[name] = repr(exc)[:200]
        finally:
            signal.alarm(0)
    return out


def curves_build(n: int) -> None:
    """Print the seconds of one ``plot_curves`` call (build, no render) on the ``plot_curves`` search of size ``n``."""
    import warnings

    import nasbook
    import nasbook.viz as viz
    from nasbook.space import CellSpace
    from nasbook.testing import ToyTask

    warnings.simplefilter("ignore")
    space = CellSpace()
    search = nasbook.Search(space, ToyTask(space, epochs=9), strategy="random", budget=n, seed=SEED, storage=":memory:").run(progress="none")
    viz.plot_curves(nasbook.Search(space, ToyTask(space, epochs=9), strategy="random", budget=20, seed=SEED,
                                   storage=":memory:").run(progress="none"))  # warm-up
    seconds, plot = _timed(lambda: viz.plot_curves(search))
    print(f"{nasbook.__file__}: N={n}, {search.n_trials} trials, plot_curves build {seconds:.3f} s, {len(plot)} elements")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", nargs="+", required=False, default=[])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit-s", type=int, default=120, help="stop a plot call (build + render) after this long")
    ap.add_argument("--json")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--curves-build", type=int, metavar="N",
                    help="time plot_curves' build alone, once, at N trials, in this process (the tree on PYTHONPATH)")
    ap.add_argument("--table", metavar="JSON", help="print the table of a finished (or stopped) run's JSON")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.limit_s)))
        return
    if args.curves_build:
        curves_build(args.curves_build)
        return
    sys.path.insert(0, os.path.dirname(__file__))
    from _common import metadata, write_json

    if args.table:
        data = json.loads(open(args.table).read())
        trees = list(next(iter(data["runs"].values())))
        print(table(data["runs"], trees, args.limit_s))
        return

    runs: dict[str, Any] = {}
    meta = metadata()
    for n in args.sizes:
        for rep in range(args.repeats):
            for tree in args.trees:
                env = {**os.environ, "PYTHONPATH": tree}
                proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--limit-s", str(args.limit_s)], capture_output=True, text=True, env=env)
                if proc.returncode:
                    print(f"{tree} {n}: FAILED\n{proc.stderr[-3000:]}", flush=True)
                    continue
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                runs.setdefault(f"{n}", {}).setdefault(tree, []).append(r)
                if args.json:  # after every run, so a stopped benchmark keeps what it measured
                    write_json(args.json, {"meta": meta, "runs": runs})
                print(f"n={n} rep={rep} {tree}: " + ", ".join(
                    f"{k} {v[0]:.2f}+{v[1]:.2f}s" if isinstance(v, list) else f"{k} {v}" for k, v in r.items()), flush=True)
    print(table(runs, args.trees, args.limit_s))
    if args.json:
        write_json(args.json, {"meta": meta, "runs": runs})


def table(runs: dict[str, Any], trees: list[str], limit_s: int) -> str:
    """Medians per (size, plot, tree) of build and build + render seconds, and new/old when two trees."""
    from _common import format_table

    rows = []
    for n, by_tree in runs.items():
        names = list(next(iter(by_tree.values()))[0])
        for name in names:
            row = [n, name]
            meds: list[float | None] = []
            for tree in trees:
                vals = [r[name] for r in by_tree.get(tree, []) if isinstance(r.get(name), list)]
                stopped = sum(not isinstance(r.get(name), list) for r in by_tree.get(tree, []))
                if not vals:
                    row += [f"> {limit_s} (all {stopped} stopped)", f"> {limit_s}"]
                    meds.append(None)
                    continue
                row += [f"{statistics.median(v[0] for v in vals):.3f}", f"{statistics.median(v[0] + v[1] for v in vals):.3f}"]
                meds.append(statistics.median(v[0] + v[1] for v in vals))
            if len(trees) == 2:
                old, new = meds
                row.append(f"{new / old:.3f}" if old and new else f"< {new / limit_s:.4f}" if new else "")
            rows.append(row)
    heads = ["N", "plot"] + [f"{os.path.basename(t.rstrip('/'))} {w}" for t in trees for w in ("build s", "build+render s")]
    if len(trees) == 2:
        heads.append("new/old (build+render)")
    return format_table(heads, rows)


if __name__ == "__main__":
    main()
