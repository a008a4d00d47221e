"""Where bo's regret comes from on NAS-Bench-Graph (diagnostics for method work, seeds >= 100 only).

``--misses dataset:seed,...``: run ``BO(candidates="local")`` (the same choices as the default in the
probes of docs/benchmarks.md 1e) and print, for the table's ten best architectures, their edit
distance from the returned one, the final surrogate's predicted rank and whether they were evaluated.

``--told dataset:seed,...``: run the default ``BO()`` for 100 queries, then refit candidate
surrogates (``TOLD_MAKERS``) on its told set (concentrated near the top, unlike a random split) and
print, over the unseen architectures: the valid regret of the best true architecture among each
surrogate's top 10 / top 50 predicted, the median predicted rank of the unseen table's ten best,
and Kendall tau over the unseen true top 1,000.

``--surrogates dataset,...``: Kendall tau over the whole space of candidate surrogates fitted on 100
random architectures (splits ``--splits``), with fit and whole-space prediction time.

Usage::

    python benchmarks/bo_diagnose.py --misses citeseer:101,physics:100
    python benchmarks/bo_diagnose.py --surrogates cora,citeseer --splits 100,101
    python benchmarks/bo_diagnose.py --told citeseer:101,physics:100,cora:101
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import nasbook
from nasbook.predictors import Ensemble, ExtraTrees, GaussianProcess, RandomForest
from nasbook.strategies import BO
from nasbook.tasks import NasBenchGraph

GP_DROP = ("level_count", "link_pattern")  # as Predictor()'s graph-feature members drop

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


TOLD_MAKERS = {
    "rf50 (bo)": lambda: RandomForest(n_estimators=50, calibration="none", features=FEATS),
    "rf50 mf0.2": lambda: RandomForest(n_estimators=50, max_features=0.2, calibration="none", features=FEATS),
    "rf50 mf1.0": lambda: RandomForest(n_estimators=50, max_features=1.0, calibration="none", features=FEATS),
    "rf50 leaf2": lambda: RandomForest(n_estimators=50, min_samples_leaf=2, calibration="none", features=FEATS),
    "rf50 leaf4": lambda: RandomForest(n_estimators=50, min_samples_leaf=4, calibration="none", features=FEATS),
    "rf200": lambda: RandomForest(n_estimators=200, calibration="none", features=FEATS),
    "et50 graf-drop": lambda: ExtraTrees(n_estimators=50, drop=GP_DROP, calibration="none", features="graf"),
    "rf50+et50": lambda: Ensemble([RandomForest(n_estimators=50, features=FEATS),
                                   ExtraTrees(n_estimators=50, drop=GP_DROP, features="graf")],
                                  calibration="none", features=FEATS),
}


def told(dataset: str, seed: int) -> None:
    from scipy.stats import kendalltau

    task = NasBenchGraph(dataset)
    sp = task.space
    s = nasbook.Search(task, strategy=BO(), budget=100, seed=seed, storage=":memory:").run(progress="none")
    every = sp.enumerate(limit=sp.cardinality)
    y = np.array([task.evaluate(a).value for a in every])
    seen = {t.arch.id for t in s.trials}
    archs = [t.arch for t in s.trials if t.value is not None]
    vals = [t.value for t in s.trials if t.value is not None]
    unseen = np.array([a.id not in seen for a in every])
    U = [a for a, u in zip(every, unseen) if u]
    yu = y[unseen]
    top10 = np.argsort(-yu)[:10]
    top1k = np.argsort(-yu)[:1000]
    print(f"{dataset} seed {seed}: bo regret {100 * (y.max() - max(vals)):.3f} pp; best unseen {100 * (y.max() - yu.max()):.3f} pp")
    for name, make in TOLD_MAKERS.items():
        m = make()
        m.seed = 0
        t0 = time.perf_counter()
        m.fit(archs, vals, space=sp)
        mu, _ = m._predict_latent_features(np.ascontiguousarray(m._encode(U), dtype=np.float32))
        dt = time.perf_counter() - t0
        order = np.argsort(-mu)
        rank = np.argsort(order)
        r10, r50 = (100 * (y.max() - yu[order[:k]].max()) for k in (10, 50))
        print(f"  {name:15s} regret top10 {r10:.3f}  top50 {r50:.3f}  median rank of unseen best-10 "
              f"{int(np.median(rank[top10]))}  tau top1k {kendalltau(mu[top1k], yu[top1k])[0]:.3f}  {1e3 * dt:.0f} ms",
              flush=True)


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
    ap.add_argument("--told", default=None, help="dataset:seed pairs (seeds >= 100)")
    ap.add_argument("--splits", default="100,101", help="training splits for --surrogates (>= 100)")
    args = ap.parse_args(argv)
    for pair in (args.misses or "").split(","):
        if pair:
            d, s = pair.split(":")
            if int(s) < 100:
                ap.error("diagnostic seeds must be >= 100 (0..99 are for reporting)")
            misses(d, int(s))
    for pair in (args.told or "").split(","):
        if pair:
            d, s = pair.split(":")
            if int(s) < 100:
                ap.error("diagnostic seeds must be >= 100 (0..99 are for reporting)")
            told(d, int(s))
    splits = [int(x) for x in args.splits.split(",")]
    if min(splits) < 100:
        ap.error("diagnostic splits must be >= 100")
    for d in (args.surrogates or "").split(","):
        if d:
            surrogates(d, splits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
