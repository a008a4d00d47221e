"""Where bo's regret comes from on NAS-Bench-Graph (diagnostics for method work, seeds >= 100 only).

``--misses dataset:seed,...``: run ``BO(candidates="local")`` (the same choices as the default in the
probes of docs/benchmarks.md 1e) and print, for the table's ten best architectures, their edit
distance from the returned one, the final surrogate's predicted rank and whether they were evaluated.

``--surrogates dataset,...``: Kendall tau over the whole space of candidate surrogates fitted on 100
random architectures (splits ``--splits``), with fit and whole-space prediction time.

Usage::

    python benchmarks/bo_diagnose.py --misses citeseer:101,physics:100
    python benchmarks/bo_diagnose.py --surrogates cora,citeseer --splits 100,101
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import nasbook
from nasbook.predictors import Ensemble, GaussianProcess, RandomForest
from nasbook.strategies import BO
from nasbook.tasks import NasBenchGraph

FEATS = ("graf", "adjacency")


def misses(dataset: str, seed: int) -> None:
    task = NasBenchGraph(dataset)
    sp = task.space
    s = nasbook.Search(task, strategy=BO(candidates="local"), budget=100, seed=seed, storage=":memory:").run(progress="none")
    every = sp.enumerate(limit=sp.cardinality)
    y = np.array([task.evaluate(a).value for a in every])
    best = s.best.arch
    dist = {best.id: 0}
    frontier = [best]
    for r in range(1, 4):
        nxt = []
        for a in frontier:
            for b in sp.neighbours(a):
                if b.id not in dist:
                    dist[b.id] = r
                    nxt.append(b)
        frontier = nxt
    model = s.strategy.predictor_
    mu, _ = model._predict_latent_features(model._encode(every))
    pred_rank = np.argsort(np.argsort(-mu))
    seen = {t.arch.id for t in s.trials}
    print(f"{dataset} seed {seed}: returned {best.id} {best.spec} valid {100 * s.best.value:.2f}, table best {100 * y.max():.2f}")
    for i in np.argsort(-y)[:10]:
        a = every[i]
        print(f"  top {a.id} {a.spec} {100 * y[i]:.2f}  edits from returned {dist.get(a.id, '>3')}  "
              f"predicted rank {pred_rank[i]}  evaluated {a.id in seen}")


def surrogates(dataset: str, splits: list[int]) -> None:
    makers = {
        "rf50 graf+adj": lambda: RandomForest(n_estimators=50, calibration="none", features=FEATS),
        "gp graf": lambda: GaussianProcess(calibration="none", features="graf"),
        "gp graf+adj": lambda: GaussianProcess(calibration="none", features=FEATS),
        "rf50+gp": lambda: Ensemble([RandomForest(n_estimators=50, features=FEATS), GaussianProcess(features="graf")],
                                    calibration="none", features=FEATS),
    }
    from scipy.stats import kendalltau

    task = NasBenchGraph(dataset)
    sp = task.space
    every = sp.enumerate(limit=sp.cardinality)
    y = np.array([task.evaluate(a).value for a in every])
    for split in splits:
        train = np.random.default_rng(split).choice(len(every), 100, replace=False)
        for name, make in makers.items():
            m = make()
            m.seed = 0
            t0 = time.perf_counter()
            m.fit([every[i] for i in train], y[train], space=sp)
            t1 = time.perf_counter()
            X = np.ascontiguousarray(m._encode(every), dtype=np.float32)
            t2 = time.perf_counter()
            mu, _ = m._predict_latent_features(X)
            t3 = time.perf_counter()
            print(f"{dataset} split {split} {name:14s} tau {kendalltau(mu, y)[0]:.3f}  fit {1e3 * (t1 - t0):.0f} ms  "
                  f"predict {len(every)} {1e3 * (t3 - t2):.0f} ms", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--misses", default=None, help="dataset:seed pairs (seeds >= 100)")
    ap.add_argument("--surrogates", default=None, help="datasets")
    ap.add_argument("--splits", default="100,101", help="training splits for --surrogates (>= 100)")
    args = ap.parse_args(argv)
    for pair in (args.misses or "").split(","):
        if pair:
            d, s = pair.split(":")
            if int(s) < 100:
                ap.error("diagnostic seeds must be >= 100 (0..99 are for reporting)")
            misses(d, int(s))
    splits = [int(x) for x in args.splits.split(",")]
    if min(splits) < 100:
        ap.error("diagnostic splits must be >= 100")
    for d in (args.surrogates or "").split(","):
        if d:
            surrogates(d, splits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
