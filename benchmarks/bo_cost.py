"""BO's own cost per ask on NAS-Bench-Graph: surrogate fit + acquisition, beside Optuna TPE's ms per trial.

For each size N (default 100 and 1,000 told trials) a ``BO`` strategy and an
``OptunaSampler(TPESampler)`` are told the same N uniformly drawn architectures with their table
scores; then ``--asks`` proposals are timed, each told before the next (a synchronous search).
BO's figure is fit + acquisition from its ``timings_`` (the whole ask is also given); TPE's is the
wall time of ask + tell. One thread (``OMP_NUM_THREADS=1`` and threadpoolctl), no other work in
the process.

Usage::

    python benchmarks/bo_cost.py --dataset cora --sizes 100,1000 --asks 5 --json FILE
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402 - the thread settings come first
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from _common import describe_machine, describe_package, format_table, mean_std, metadata, write_json  # noqa: E402

from nasbook.strategies import BO, OptunaSampler  # noqa: E402
from nasbook.tasks import NasBenchGraph  # noqa: E402
from nasbook.trial import Trial, TrialState  # noqa: E402


def _told(strategy: Any, task: NasBenchGraph, archs: list[Any]) -> None:
    for i, a in enumerate(archs):
        strategy.tell(Trial(i, a, TrialState.COMPLETE, task.evaluate(a).value, n_told_before=i))


def time_bo(task: NasBenchGraph, archs: list[Any], asks: int, seed: int, **params: Any) -> dict[str, Any]:
    s = BO(**params).setup(task.space, seed=seed, mode=task.mode)
    _told(s, task, archs)
    walls = []
    for k in range(asks):
        t0 = time.perf_counter()
        a = s.ask()
        walls.append(time.perf_counter() - t0)
        s.tell(Trial(len(archs) + k, a, TrialState.COMPLETE, task.evaluate(a).value))
    fit = [1e3 * f for _, f, _ in s.timings_]
    acq = [1e3 * q for _, _, q in s.timings_]
    return {"strategy": repr(BO(**params)), "fit_ms": fit, "acquisition_ms": acq, "ask_ms": [1e3 * w for w in walls]}


def time_tpe(task: NasBenchGraph, archs: list[Any], asks: int, seed: int) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    s = OptunaSampler(optuna.samplers.TPESampler(seed=seed)).setup(task.space, seed=seed, mode=task.mode)
    _told(s, task, archs)
    walls = []
    for k in range(asks):
        t0 = time.perf_counter()
        a = s.ask()
        s.tell(Trial(len(archs) + k, a, TrialState.COMPLETE, task.evaluate(a).value))
        walls.append(time.perf_counter() - t0)
    return {"trial_ms": [1e3 * w for w in walls]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="cora")
    ap.add_argument("--sizes", default="100,1000", help="told trials before the timed asks (comma-separated)")
    ap.add_argument("--asks", type=int, default=5, help="timed asks per size (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--candidates", default=None, help="BO(candidates=...) (default: BO's default)")
    ap.add_argument("--json", default=None, help="write the raw timings and metadata here")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    params: dict[str, Any] = {} if args.candidates is None else {"candidates": args.candidates}
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - scikit-learn installs it
        pass

    meta = metadata([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    print(f"# bo_cost: BO fit + acquisition per ask vs Optuna TPE per trial; NAS-Bench-Graph {args.dataset}; "
          f"{args.asks} timed asks after N told trials; one thread")
    print(f"# {meta['date_utc']}  {describe_machine(meta)}")
    print(f"# {describe_package(meta)}")
    task = NasBenchGraph(args.dataset)
    rng = np.random.default_rng(args.seed)
    everything = task.space.enumerate()
    time_bo(task, [everything[i] for i in rng.choice(len(everything), 12, replace=False)], 1, args.seed)  # warm-up
    results: dict[str, Any] = {}
    rows = []
    for n in sizes:
        archs = [everything[i] for i in rng.choice(len(everything), n, replace=False)]
        bo = time_bo(task, archs, args.asks, args.seed, **params)
        tpe = time_tpe(task, archs, args.asks, args.seed)
        results[str(n)] = {"bo": bo, "optuna-tpe": tpe}
        fit, acq, ask, trial = (mean_std(bo["fit_ms"]), mean_std(bo["acquisition_ms"]), mean_std(bo["ask_ms"]),
                                mean_std(tpe["trial_ms"]))
        rows.append([str(n), f"{fit[0]:.0f}", f"{acq[0]:.0f}", f"{fit[0] + acq[0]:.0f}", f"{ask[0]:.0f}", f"{trial[0]:.0f}"])
    print(format_table(["told N", "bo fit ms", "bo acquisition ms", "bo fit+acq ms", "bo ask ms", "tpe ms/trial"], rows))
    if args.json:
        write_json(args.json, {"benchmark": "bo_cost", "metadata": meta,
                               "config": {"dataset": args.dataset, "sizes": sizes, "asks": args.asks, "seed": args.seed,
                                          "bo": repr(BO(**params)), "threads": 1},
                               "results": results})
        print(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
