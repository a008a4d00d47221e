"""Predictor quality on NAS-Bench-Graph: rank correlation and interval coverage against training-set size.

For every dataset and seed, ``nasbook.predictors.evaluate`` shuffles the table's architectures with
``numpy.random.default_rng(seed)``, holds the first ``--n-test`` out, and fits each predictor on the
first n of the rest for every n in ``--sizes`` (nested training sets, one held-out set per seed shared
by every size and predictor). It records Kendall tau, Spearman, precision@k (top 1%), the coverage of
the central 68% and 95% intervals, NLL and fit/predict wall time. The baselines run on the same
splits: ``#params`` (rank by parameter count; no training, no uncertainty) and ``onehot-gbt``
(``GradientBoosting(features="adjacency", target="standard")``).

proteins has 2,021 architectures: with a largest training set of 1,000 it holds out the 1,021 left
(the script says so and records ``n_test`` per dataset).

Every numeric library runs on one thread (set before numpy is imported), so times are per core and
runs repeat exactly.

Usage::

    python benchmarks/predictors_nbg.py --json FILE [--datasets all] [--seeds 10] \\
        [--sizes 20,50,100,200,1000] [--n-test 2000] [--predictors auto] [--baselines #params,onehot-gbt]

The full run takes hours on one core (Predictor() at 1,000 architectures: about 2 minutes a fit here).
Datasets are independent: run one process per dataset (``--datasets cora --json cora.json``...)
and combine them with ``--merge cora.json citeseer.json ... --json all.json``.
"""

from __future__ import annotations

import os

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
for _var in _THREAD_VARS:  # before numpy, scikit-learn or torch load their thread pools
    os.environ[_var] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from _common import describe_machine, describe_package, format_table, mean_std, metadata, pm, write_json  # noqa: E402

from nasbook.predictors import available_predictors, evaluate  # noqa: E402
from nasbook.predictors._evaluate import BASELINES, VARIABLES  # noqa: E402
from nasbook.tasks import NasBenchGraph  # noqa: E402
from nasbook.tasks._nbg import NBG_DATASETS  # noqa: E402

#: the sizes and coverage of the goal for Predictor(): tau >= 0.52 at 100, >= 0.64 at 1,000; 68% intervals cover 60-76%
GOAL_TAU = {100: 0.52, 1000: 0.64}
GOAL_COVERAGE_68 = (0.60, 0.76)
SUMMARY_VARS = ("kendall_tau", "spearman", "top_k_overlap", "coverage_68", "coverage_95", "fit_s")
_TORCH_MODELS = ("auto", "mlp", "ensemble")


def _finite(xs: Any) -> list[float]:
    return [float(x) for x in np.ravel(xs) if math.isfinite(float(x))]


def _cell(xs: list[float], digits: int = 3) -> str:
    if not xs:
        return "-"
    m, s = mean_std(xs)
    return pm(m, s, digits)


def _report(raw: dict[str, dict[str, Any]], datasets: list[str], sizes: list[int], labels: list[str], default: str,
            seeds: list[int]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Print the tables across datasets and the goals; return (summary, goals)."""
    summary: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for i, n in enumerate(sizes):
        summary[str(n)] = {}
        rows = []
        for p in labels:
            pooled = {v: _finite([raw[d]["metrics"][p][v][i] for d in datasets]) for v in SUMMARY_VARS}
            summary[str(n)][p] = {v: dict(zip(("mean", "std"), mean_std(x))) for v, x in pooled.items()}
            rows.append([p, *(_cell(pooled[v], 2 if v != "fit_s" else 3) for v in SUMMARY_VARS)])
        print()
        print(f"## n_train = {n}: mean ± std over {len(datasets)} datasets x {len(seeds)} seeds")
        print(format_table(["predictor", "Kendall tau", "Spearman", "top-1% overlap", "coverage 68%", "coverage 95%", "fit s"], rows))

    shown = [n for n in (100, 1000) if n in sizes] or [sizes[-1]]
    print()
    print(f"## Kendall tau per dataset (mean ± std over {len(seeds)} seeds) at n_train = {', '.join(map(str, shown))}")
    rows = []
    for d in datasets:
        row = [d]
        for n in shown:
            i = sizes.index(n)
            row += [_cell(_finite(raw[d]["metrics"][p]["kendall_tau"][i])) for p in labels]
        rows.append(row)
    print(format_table(["dataset", *(f"{p} @{n}" for n in shown for p in labels)], rows))

    goals: dict[str, Any] = {}
    for n, goal in GOAL_TAU.items():
        if n in sizes:
            tau = summary[str(n)][default]["kendall_tau"]["mean"]
            goals[f"kendall_tau_at_{n}"] = {"value": tau, "goal": goal, "met": bool(tau >= goal)}
    cov = _finite([raw[d]["metrics"][default]["coverage_68"][i] for d in datasets for i in range(len(sizes))])
    if cov:
        c = float(np.mean(cov))
        goals["coverage_68_all_sizes"] = {"value": c, "goal": list(GOAL_COVERAGE_68),
                                          "met": bool(GOAL_COVERAGE_68[0] <= c <= GOAL_COVERAGE_68[1])}
    print()
    print(f"## Goals for {default!r} (mean over datasets and seeds)")
    for key, g in goals.items():
        print(f"{key}: {g['value']:.3f} (goal {g['goal']}) {'met' if g['met'] else 'NOT met'}")
    return summary, goals


def _merge(paths: list[str]) -> dict[str, Any]:
    """One document from several runs over different datasets (e.g. one process per dataset)."""
    import json

    docs = [json.loads(open(p).read()) for p in paths]
    keys = ("seeds", "sizes", "predictors", "baselines")
    first = docs[0]["config"]
    for p, doc in zip(paths, docs):
        if any(doc["config"][k] != first[k] for k in keys):
            raise SystemExit(f"--merge: {p} differs from {paths[0]} in {', '.join(keys)}; merge runs of one configuration")
    raw: dict[str, Any] = {}
    for p, doc in zip(paths, docs):
        for d, r in doc["raw"].items():
            if d in raw:
                raise SystemExit(f"--merge: dataset {d!r} appears in more than one file ({p})")
            raw[d] = r
    config = {**first, "datasets": [d for d in NBG_DATASETS if d in raw], "merged_from": paths}
    return {"config": config, "raw": raw, "metadata": [doc["metadata"] for doc in docs],
            "total_s": sum(doc["total_s"] for doc in docs)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="all", help="'all' or a comma-separated list of " + ",".join(NBG_DATASETS))
    ap.add_argument("--seeds", type=int, default=10, help="number of splits, seeds 0..N-1 (default 10)")
    ap.add_argument("--sizes", default="20,50,100,200,1000", help="training-set sizes (default 20,50,100,200,1000)")
    ap.add_argument("--n-test", type=int, default=2000,
                    help="held-out architectures per seed (default 2000; proteins holds out what the largest size leaves)")
    ap.add_argument("--predictors", default="auto",
                    help="comma-separated predictor names, the first one the default (default 'auto' = Predictor())")
    ap.add_argument("--baselines", default=",".join(BASELINES),
                    help=f"comma-separated baselines to run beside the predictors, or 'none' (default {','.join(BASELINES)})")
    ap.add_argument("--json", default=None, help="write per-seed numbers, summaries and metadata here")
    ap.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                    help="run nothing: combine the JSON files of runs over different datasets (same seeds, sizes, "
                         "predictors), print the tables across them and write --json")
    args = ap.parse_args(argv)
    if args.merge:
        doc = _merge(args.merge)
        c = doc["config"]
        print(f"# predictors_nbg: merged {len(args.merge)} runs: {', '.join(c['datasets'])}")
        summary, goals = _report(doc["raw"], c["datasets"], c["sizes"], [*c["predictors"], *c["baselines"]],
                                 c["default"], c["seeds"])
        if args.json:
            write_json(args.json, {"benchmark": "predictors_nbg", **doc, "summary": summary, "goals": goals})
            print(f"# wrote {args.json}")
        return 0

    datasets = list(NBG_DATASETS) if args.datasets == "all" else [d.strip() for d in args.datasets.split(",") if d.strip()]
    for d in datasets:
        if d not in NBG_DATASETS:
            ap.error(f"unknown dataset {d!r}; choose from {', '.join(NBG_DATASETS)}")
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        ap.error(f"--sizes must be comma-separated ints; got {args.sizes!r}")
    if not sizes or sizes[0] < 2:
        ap.error("--sizes must hold ints >= 2")
    names = [p.strip() for p in args.predictors.split(",") if p.strip()]
    known = {"auto", *available_predictors()}
    for p in names:
        if p not in known:
            ap.error(f"unknown predictor {p!r}; choose from {', '.join(sorted(known))}")
    if not names or len(set(names)) != len(names):
        ap.error("--predictors must name at least one predictor, each once")
    if args.seeds < 1 or args.n_test < 2:
        ap.error("--seeds must be >= 1 and --n-test >= 2")
    if any(p in _TORCH_MODELS for p in names):
        import torch

        torch.set_num_threads(1)
    baselines = [] if args.baselines.strip() == "none" else [b.strip() for b in args.baselines.split(",") if b.strip()]
    for b in baselines:
        if b not in BASELINES:
            ap.error(f"unknown baseline {b!r}; choose from {', '.join(BASELINES)} or 'none'")
    seeds = list(range(args.seeds))
    labels = [*names, *baselines]
    default = names[0]

    meta = metadata([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    print(f"# predictors_nbg: {', '.join(names)} + baselines {', '.join(baselines) or 'none'} on {', '.join(datasets)}; "
          f"seeds 0..{args.seeds - 1}; training sizes {', '.join(map(str, sizes))}; up to {args.n_test} held out")
    print(f"# {meta['date_utc']}  {describe_machine(meta)}; threads 1")
    print(f"# {describe_package(meta)}")
    print(f"# {meta['command']}")

    raw: dict[str, dict[str, Any]] = {}
    t_all = time.perf_counter()
    for d in datasets:
        task = NasBenchGraph(d)
        n_archs = task.space.cardinality
        n_test = min(args.n_test, n_archs - sizes[-1])
        if n_test < 2:
            ap.error(f"{d} has {n_archs} architectures: too few for a training set of {sizes[-1]} plus a held-out set")
        t_d = time.perf_counter()
        ds = evaluate(names, task, n_train=sizes, seeds=seeds, n_test=n_test, progress="none", baselines=baselines or False)
        wall = time.perf_counter() - t_d
        raw[d] = {
            "n_archs": n_archs, "n_test": n_test, "top_k": ds.attrs["top_k"], "wall_s": wall,
            "model": dict(zip(labels, map(str, ds["model"].values))),
            # per predictor and variable: [size][seed]
            "metrics": {p: {v: ds[v].sel(predictor=p).values.tolist() for v in VARIABLES} for p in labels},
        }
        note = f"; {n_test} held out (fewer than --n-test {args.n_test})" if n_test < args.n_test else f"; {n_test} held out"
        print()
        print(f"## {d}  ({n_archs:,} architectures{note}; {wall:.1f} s): Kendall tau, mean ± std over {len(seeds)} seeds")
        rows = [[p, *(_cell(_finite(ds["kendall_tau"].sel(predictor=p, n_train=n).values)) for n in sizes)] for p in labels]
        print(format_table(["predictor", *(f"n={n}" for n in sizes)], rows))
        sys.stdout.flush()
    total_s = time.perf_counter() - t_all

    summary, goals = _report(raw, datasets, sizes, labels, default, seeds)
    print()
    print(f"# total {total_s:.1f} s")

    if args.json:
        write_json(args.json, {
            "benchmark": "predictors_nbg",
            "metadata": meta,
            "config": {
                "datasets": datasets, "seeds": seeds, "sizes": sizes, "n_test_requested": args.n_test,
                "predictors": names, "baselines": baselines, "default": default,
                "threads": {v: os.environ.get(v) for v in _THREAD_VARS},
                "split": "nasbook.predictors.evaluate: per seed, default_rng(seed).permutation; the first n_test held "
                         "out; training sets are the first n of the rest (nested); same splits for every predictor",
                "metrics_layout": "raw[dataset]['metrics'][predictor][variable][size index][seed index]",
                "summary": "mean and sample std over (dataset, seed) pairs",
            },
            "raw": raw,
            "summary": summary,
            "goals": goals,
            "total_s": total_s,
        })
        print(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
