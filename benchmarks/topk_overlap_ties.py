"""How much top_k_overlap's tie treatment changes precision@k on NAS-Bench-Graph: the new metric
(ties at the k-th place counted fractionally, the expected overlap over random tie-breaks) against
the old one (ties broken by position, a stable sort), on the very same predictions.

``evaluate`` runs as ``predictors_nbg.py`` would (nested splits of ``numpy.random.default_rng(seed)``,
top 1% of the held-out set); every call of the metric is recorded with both values. Cells are in
``evaluate``'s loop order: seed, then training size, then predictor.

Usage::

    python benchmarks/topk_overlap_ties.py --json bench-results/topk_ties.json [--datasets all] [--seeds 10]
    python benchmarks/topk_overlap_ties.py --summary bench-results/topk_ties.json
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from nasbook.predictors import _metrics, evaluate
from nasbook.tasks import NasBenchGraph
from nasbook.tasks._nbg import NBG_DATASETS

SIZES = [100, 1000]
PREDICTORS = {"rf": "random-forest", "gbt": "gbt"}


def by_position(y: np.ndarray, mean: np.ndarray, k: Any = None, mode: str = "max") -> float:
    """The metric before the change: ties broken by position (stable sort)."""
    kk = _metrics.top_k_count(k, len(y))
    sign = 1.0 if mode == "max" else -1.0
    true_top = set(np.argsort(-sign * y, kind="stable")[:kk].tolist())
    pred_top = set(np.argsort(-sign * mean, kind="stable")[:kk].tolist())
    return len(true_top & pred_top) / kk


def _tied_at_k(x: np.ndarray, kk: int) -> bool:
    kth = np.sort(x)[::-1][kk - 1]
    return bool((x >= kth).sum() > kk)


def run(datasets: list[str], seeds: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    fractional = _metrics.top_k_overlap

    def both(y: np.ndarray, mean: np.ndarray, k: Any = None, mode: str = "max") -> float:
        new = fractional(y, mean, k, mode)
        kk = _metrics.top_k_count(k, len(y))
        rows.append({"old": by_position(y, mean, k, mode), "new": new, "true_tie": _tied_at_k(y, kk), "pred_tie": _tied_at_k(mean, kk)})
        return new

    out: dict[str, Any] = {}
    _metrics.top_k_overlap = both  # evaluate calls _metrics.top_k_overlap
    try:
        for d in datasets:
            rows.clear()
            n_test = 1021 if d == "proteins" else 2000
            ds = evaluate(PREDICTORS, NasBenchGraph(d), n_train=SIZES, seeds=seeds, n_test=n_test, baselines=["#params"],
                          progress=False)
            out[d] = {"rows": list(rows), "order": [str(p) for p in ds.predictor.values], "seeds": seeds}
            old, new = np.array([r["old"] for r in rows]), np.array([r["new"] for r in rows])
            print(f"{d}: cells {len(rows)}, changed {int((old != new).sum())}, mean old {old.mean():.4f} new {new.mean():.4f}, "
                  f"max |diff| {np.abs(old - new).max():.3f}", flush=True)
    finally:
        _metrics.top_k_overlap = fractional
    return out


def summary(data: dict[str, Any]) -> None:
    labels = next(iter(data.values()))["order"]
    pooled: dict[tuple[str, int], list[tuple[np.ndarray, np.ndarray]]] = {}
    splits = ties = 0
    for v in data.values():
        rows, seeds = v["rows"], v.get("seeds", 10)
        for i_p, label in enumerate(labels):
            for i_n, n in enumerate(SIZES):
                cells = [rows[(s * len(SIZES) + i_n) * len(labels) + i_p] for s in range(seeds)]
                pooled.setdefault((label, n), []).append((np.array([c["old"] for c in cells]), np.array([c["new"] for c in cells])))
        splits += seeds
        ties += sum(rows[s * len(SIZES) * len(labels)]["true_tie"] for s in range(seeds))
    print("| predictor | n_train | old mean | new mean | new - old | cells changed | max abs diff | std over cells (new) |")
    print("|---|---|---|---|---|---|---|---|")
    for (label, n), xs in pooled.items():
        old, new = np.concatenate([x[0] for x in xs]), np.concatenate([x[1] for x in xs])
        print(f"| {label} | {n} | {old.mean():.4f} | {new.mean():.4f} | {new.mean() - old.mean():+.4f} | "
              f"{int((old != new).sum())}/{len(old)} | {np.abs(old - new).max():.3f} | {new.std(ddof=1):.3f} |")
    print(f"held-out sets with true scores tied at the k-th place: {ties} of {splits}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the cells here")
    ap.add_argument("--datasets", default="all")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--summary", help="print the tables of a written file")
    args = ap.parse_args()
    if args.summary:
        with open(args.summary) as fh:
            summary(json.load(fh))
        return
    datasets = list(NBG_DATASETS) if args.datasets == "all" else args.datasets.split(",")
    data = run(datasets, args.seeds)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(data, fh)
    summary(data)


if __name__ == "__main__":
    main()
