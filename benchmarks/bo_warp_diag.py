"""Where BO variants send their model-based queries on NAS-Bench-Graph: how close to the incumbent.

For every (dataset, seed) and variant (``NAME=PYTHON-KWARGS`` of ``BO``, as in ``bo_probe.py``), runs
the search and, for each query after the initial design, the edit distance (Hamming over the cell's
links and operations; one ``space.neighbours`` move changes one of them) from the best architecture
told before it. Prints, per variant: the share of model-based queries 1 edit / at most 2 edits from
the incumbent, the mean distance, how many distinct link patterns the model-based queries visit,
and how often the incumbent improved after the initial design. Probe seeds only (>= 100).

Usage::

    python benchmarks/bo_warp_diag.py --datasets cora,physics --seeds 100-101 base='{}' log='dict(warp="log")'
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
from _common import format_table

import nasbook
from nasbook.predictors import RandomForest
from nasbook.strategies import BO
from nasbook.tasks import NasBenchGraph


def edits(a: Any, b: Any) -> int:
    sa, sb = a.spec, b.spec
    return sum(x != y for x, y in zip(sa["link"], sb["link"])) + sum(x != y for x, y in zip(sa["ops"], sb["ops"]))


def trace(dataset: str, kwargs: dict[str, Any], seed: int, budget: int, n_initial: int) -> dict[str, Any]:
    task = NasBenchGraph(dataset)
    _, vmax = task.optimum()
    search = nasbook.Search(task, strategy=BO(**kwargs), budget=budget, seed=seed, storage=":memory:").run(progress="none")
    trials = [t for t in search.trials if t.value is not None]
    dist, improved = [], 0
    best = max(trials[:n_initial], key=lambda t: t.value)
    for t in trials[n_initial:]:
        dist.append(edits(t.arch, best.arch))
        if t.value > best.value:
            best, improved = t, improved + 1
    links = {tuple(t.arch.spec["link"]) for t in trials[n_initial:]}
    return {"dist": dist, "improved": improved, "links": len(links), "regret": 100 * (vmax - best.value)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="citeseer,computers,cora,physics,pubmed")
    ap.add_argument("--seeds", default="100-101", help="FIRST-LAST, both >= 100")
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("variants", nargs="+", help="NAME=KWARGS")
    args = ap.parse_args(argv)
    lo, hi = (int(x) for x in args.seeds.split("-"))
    if lo < 100:
        ap.error("probe seeds must be >= 100 (0..99 are for reporting)")
    variants = {}
    for v in args.variants:
        name, _, spec = v.partition("=")
        variants[name] = eval(spec, {"BO": BO, "RandomForest": RandomForest, "dict": dict})  # noqa: S307 - a benchmark's option
    out: dict[str, list[dict[str, Any]]] = {n: [] for n in variants}
    for d in args.datasets.split(","):
        for s in range(lo, hi + 1):
            for n, kw in variants.items():
                r = trace(d, kw, s, args.budget, int(kw.get("n_initial", 10)))
                out[n].append(r)
                print(f"  {d} seed {s} {n}: regret {r['regret']:.3f}  mean edits from incumbent {np.mean(r['dist']):.2f}  "
                      f"link patterns {r['links']}  improvements {r['improved']}", flush=True)
    rows = []
    for n, rs in out.items():
        dist = np.concatenate([r["dist"] for r in rs])
        rows.append([n, str(len(rs)), f"{np.mean(dist == 1):.2f}", f"{np.mean(dist <= 2):.2f}", f"{dist.mean():.2f}",
                     f"{np.mean([r['links'] for r in rs]):.1f}", f"{np.mean([r['improved'] for r in rs]):.1f}",
                     f"{np.mean([r['regret'] for r in rs]):.3f}"])
    print(format_table(["variant", "searches", "share 1 edit", "share <= 2 edits", "mean edits", "link patterns",
                        "improvements", "regret pp"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
