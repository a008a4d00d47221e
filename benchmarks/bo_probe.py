"""Probe BO variants on NAS-Bench-Graph (method tuning, never on the reported seeds 0..9).

Each variant is ``NAME=PYTHON-KWARGS`` (evaluated with ``BO``, ``RandomForest``, ``ExtraTrees`` and ``Ensemble`` in
scope), run through ``nasbook.Search`` on every (dataset, seed); the script refuses seeds < 100 so the
reported seeds stay unseen by tuning. Prints the mean valid regret (pp) at 25/50/100 queries per
variant and dataset, and ms per ask.

Usage::

    python benchmarks/bo_probe.py --datasets citeseer,computers,physics --seeds 100-103 \\
        base='{}' ts='dict(acquisition="ts")' --json FILE
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np
from _common import format_table, write_json

import nasbook
from nasbook.predictors import Ensemble, ExtraTrees, RandomForest
from nasbook.strategies import BO
from nasbook.tasks import NasBenchGraph

CHECKPOINTS = (25, 50, 100)


def run(dataset: str, kwargs: dict[str, Any], seed: int, budget: int) -> dict[str, Any]:
    task = NasBenchGraph(dataset)
    _, vmax = task.optimum()
    t0 = time.perf_counter()
    search = nasbook.Search(task, strategy=BO(**kwargs), budget=budget, seed=seed, storage=":memory:").run(progress="none")
    wall = time.perf_counter() - t0
    vals = np.asarray([t.value if t.value is not None else -np.inf for t in search.trials], dtype=float)
    bsf = np.maximum.accumulate(vals)
    best = search.best
    rec = search.strategy.recommend()
    by_id = {t.arch.id: t for t in search.trials}
    rec_trial = by_id[rec.id] if rec is not None else best
    return {"regret_at": {c: 100 * (vmax - bsf[c - 1]) for c in CHECKPOINTS if c <= len(vals)},
            "valid_regret_pp": 100 * (vmax - bsf[-1]),
            "test_pct": 100 * float(best.attrs[task.test_metric]), "wall_s": wall,
            "test_rec_pct": 100 * float(rec_trial.attrs[task.test_metric]),
            "ms_per_ask": search.strategy.ms_per_ask}


def run_ref(dataset: str, method: str, seed: int, budget: int) -> dict[str, Any]:
    """A reference method of ``strategies_nbg.py`` (evolution, optuna-tpe, ...) on the same search."""
    from strategies_nbg import run_nasbook, run_optuna

    r = run_optuna(dataset, method, seed, budget, 10) if method.startswith("optuna") else run_nasbook(dataset, method, seed, budget)
    _, vmax = NasBenchGraph(dataset).optimum()
    return {"valid_regret_pp": 100 * (vmax - r["best_valid"]), "test_pct": 100 * r["test"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="citeseer,computers,physics")
    ap.add_argument("--seeds", default="100-103", help="FIRST-LAST, both >= 100")
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--json", default=None)
    ap.add_argument("--refs", default="", help="reference methods of strategies_nbg.py on the same searches, e.g. evolution,optuna-tpe")
    ap.add_argument("variants", nargs="+", help="NAME=KWARGS")
    args = ap.parse_args(argv)
    lo, hi = (int(x) for x in args.seeds.split("-"))
    if lo < 100:
        ap.error("probe seeds must be >= 100 (0..99 are for reporting)")
    seeds = list(range(lo, hi + 1))
    datasets = args.datasets.split(",")
    variants = {}
    for v in args.variants:
        name, _, spec = v.partition("=")
        variants[name] = eval(spec, {"BO": BO, "RandomForest": RandomForest, "ExtraTrees": ExtraTrees, "Ensemble": Ensemble,
                                 "dict": dict})
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {n: {d: [] for d in datasets} for n in variants}
    refs = [m for m in args.refs.split(",") if m]
    ref_raw: dict[str, dict[str, list[dict[str, Any]]]] = {m: {d: [] for d in datasets} for m in refs}
    for d in datasets:
        for s in seeds:
            for m in refs:
                ref_raw[m][d].append(run_ref(d, m, s, args.budget))
            for n, kw in variants.items():
                r = run(d, kw, s, args.budget)
                raw[n][d].append(r)
                print(f"  {d} seed {s} {n}: regret@{args.budget} {r['valid_regret_pp']:.3f}  test {r['test_pct']:.2f} "
                      f"(recommended {r['test_rec_pct']:.2f})  ({r['ms_per_ask']:.0f} ms/ask)", flush=True)
    rows = []
    cps = [c for c in CHECKPOINTS if c < args.budget]
    per_d_all: list[list[float]] = []
    for n in variants:
        per_d = [np.mean([r["valid_regret_pp"] for r in raw[n][d]]) for d in datasets]
        at = [np.mean([r["regret_at"][c] for d in datasets for r in raw[n][d]]) for c in cps]
        ms = np.mean([r["ms_per_ask"] for d in datasets for r in raw[n][d]])
        rows.append([n, *(f"{x:.3f}" for x in per_d), *(f"{x:.3f}" for x in at), f"{ms:.0f}"])
        per_d_all.append([r["valid_regret_pp"] for d in datasets for r in raw[n][d]])
    print(format_table(["variant", *datasets, *(f"all@{c}" for c in cps), f"all@{args.budget}", "ms/ask"],
                       [[*r[:-1], f"{np.mean(per_d_all[k]):.3f}", r[-1]] for k, r in enumerate(rows)]))
    test_rows = []
    for m in refs:
        test_rows.append([m, *(f"{np.mean([r['test_pct'] for r in ref_raw[m][d]]):.2f}" for d in datasets), "", ""])
    for n in variants:
        for key, label in (("test_pct", "best valid"), ("test_rec_pct", "recommend()")):
            per = [np.mean([r[key] for r in raw[n][d]]) for d in datasets]
            wins = sum(all(p >= np.mean([r["test_pct"] for r in ref_raw[m][d]]) for m in refs) for p, d in zip(per, datasets))
            test_rows.append([f"{n} ({label})", *(f"{x:.2f}" for x in per), f"{np.mean(per):.2f}",
                              f"{wins}/{len(datasets)}" if refs else ""])
    print("\n## test % of the returned architecture (mean over seeds); '>= refs': datasets where at least every reference")
    print(format_table(["method", *datasets, "mean", ">= refs"], test_rows))
    if args.json:
        write_json(args.json, {"variants": {n: repr(kw) for n, kw in variants.items()}, "seeds": seeds, "raw": raw,
                               "refs": ref_raw})
    return 0


if __name__ == "__main__":
    sys.exit(main())
