"""Coverage of intervals of the mean regret over few seeds (the band of ``nasbook.viz.plot_compare``).

Population: probe seeds 100..299 of random and evolution on NAS-Bench-Graph cora and pubmed, 100
trials; the "true" mean regret at a checkpoint is the mean over the 200 searches. For n in (3, 5, 10)
seeds, 2000 random subsets: each 95% interval's coverage of the population mean, the share with a
lower end below 0 (regret cannot be negative) and the mean width. Intervals: Student t, t cut at 0,
percentile bootstrap of the mean (999 resamples).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/viz_interval_coverage.py

(the options only shrink it: ``--seeds 5 --reps 50 --datasets cora`` runs in seconds)
"""

import argparse
import time
import warnings

import numpy as np
from scipy import stats

import nasbook
from nasbook.tasks import NasBenchGraph

warnings.simplefilter("ignore")

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--seeds", type=int, default=200, help="searches per (dataset, strategy): seeds 100.. (default 200)")
ap.add_argument("--reps", type=int, default=2000, help="random subsets per n (default 2000)")
ap.add_argument("--datasets", default="cora,pubmed", help="NAS-Bench-Graph datasets, comma-separated")
args = ap.parse_args()
if args.seeds < 10:
    ap.error(f"--seeds must be at least 10 (subsets of up to 10 seeds are drawn without replacement), got {args.seeds}")
SEEDS = range(100, 100 + args.seeds)
BUDGET, CHECK = 100, (10, 20, 50, 100)
t0 = time.time()
pops = {}
for d in args.datasets.split(","):
    task = NasBenchGraph(d)
    opt = task.optimum()[1]
    for strat in ("random", "evolution"):
        rows = []
        for s in SEEDS:
            srch = nasbook.Search(task, strategy=strat, budget=BUDGET, seed=s, storage=":memory:").run(progress="none")
            v = np.array([t.value for t in srch.trials], dtype=float)
            rows.append(opt - np.maximum.accumulate(v))
        pops[(d, strat)] = np.stack(rows)
        print(d, strat, f"{time.time() - t0:.0f}s", flush=True)

rng = np.random.default_rng(100)
B, REPS, CONF = 999, args.reps, 0.95

def intervals(x):  # x: reps x n
    n = x.shape[1]
    m, sd = x.mean(1), x.std(1, ddof=1)
    h = stats.t.ppf((1 + CONF) / 2, n - 1) * sd / np.sqrt(n)
    out = {"t": (m - h, m + h), "t clipped at 0": (np.maximum(m - h, 0), m + h)}
    idx = rng.integers(0, n, size=(B, n))
    bm = x[:, idx].mean(2)  # reps x B
    out["percentile bootstrap"] = (np.quantile(bm, 0.025, axis=1), np.quantile(bm, 0.975, axis=1))
    return out

print(f"\n{'dataset':8} {'strategy':10} {'trials':>6} {'n':>3} {'skew':>5} | " +
      " | ".join(f"{k:>28}" for k in ("t", "t clipped at 0", "percentile bootstrap")))
print(f"{'':8} {'':10} {'':>6} {'':>3} {'':>5} | " + " | ".join(f"{'cover  low<0   width':>28}" for _ in range(3)))
summary = {}
for (d, strat), pop in pops.items():
    for c in CHECK:
        col = pop[:, c - 1]
        truth, skew = col.mean(), stats.skew(col)
        for n in (3, 5, 10):
            sub = np.stack([rng.choice(col, n, replace=False) for _ in range(REPS)])
            cells = []
            for k, (lo, hi) in intervals(sub).items():
                cover = np.mean((lo <= truth) & (truth <= hi))
                neg = np.mean(lo < 0)
                width = np.mean(hi - lo)
                summary.setdefault((k, n), []).append((cover, neg))
                cells.append(f"{cover:6.3f} {neg:6.3f} {width:8.4f}".rjust(28))
            print(f"{d:8} {strat:10} {c:6d} {n:3d} {skew:5.2f} | " + " | ".join(cells))
print(f"\nmean over the {len(pops) * len(CHECK)} (dataset, strategy, checkpoint) cells:")
for (k, n), v in sorted(summary.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    a = np.array(v)
    print(f"  n={n:2d} {k:22} coverage {a[:, 0].mean():.3f} (min {a[:, 0].min():.3f})  share low<0 {a[:, 1].mean():.3f}")
print(f"total {time.time() - t0:.0f}s")
