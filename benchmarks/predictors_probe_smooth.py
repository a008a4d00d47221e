"""Probe for Predictor() round 5 (not the reporting benchmark): smoothing the ensemble's predictions over
the search space's neighbourhood graph (graph-based semi-supervised learning on the unlabeled space).

NAS-Bench-Graph enumerates every architecture, so the ensemble (round 3's four members, fitted on the
training set's rank-normal targets as in predictors_probe.py) can predict all of them; each architecture's
latent mean is then mixed with the mean of its neighbours' (``space.neighbours``: one op or one link
changed, about 44 each): ``m' = (1 - a) m + a W m`` (``s<a>``), optionally with the training
architectures clamped to their targets first (``c<a>``: label propagation, Zhou et al. 2004's
local-and-global consistency, one step). Scored by Kendall tau on the held-out set of the split of
``evaluate`` (seeds >= 100 only). No held-out score is read before scoring.

    python benchmarks/predictors_probe_smooth.py --seeds 100,101,102,103,104,105 --json bench-results/smooth5.json
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from predictors_probe import scored_archs  # noqa: E402
from scipy import sparse, stats  # noqa: E402

from nasbook.tasks._nbg import NBG_DATASETS  # noqa: E402

ALPHAS = (0.2, 0.35, 0.5)


def main() -> int:
    from threadpoolctl import threadpool_limits

    from nasbook.predictors._models import ExtraTrees, GaussianProcess, GradientBoosting

    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="all")
    ap.add_argument("--seeds", default="100,101,102")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    datasets = list(NBG_DATASETS) if args.datasets == "all" else args.datasets.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    out = json.loads(open(args.json).read()) if os.path.exists(args.json) else {}
    W = None
    for d in datasets:
        space, archs, y_all, _, n_test = scored_archs(d)
        n_all = len(y_all)
        # the neighbourhood graph of the architectures with a score (the same space for every dataset)
        pos = {a.id: i for i, a in enumerate(archs)}
        rows, cols = [], []
        for i, a in enumerate(archs):
            for b in space.neighbours(a):
                j = pos.get(b.id)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
        W = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_all, n_all))
        deg = np.asarray(W.sum(axis=1)).ravel()
        W = sparse.diags(1.0 / np.maximum(deg, 1)) @ W
        G = space.encode_many(archs, "graf")
        A = space.encode_many(archs, "adjacency")
        names = space.feature_names("graf")
        nolink = np.array([i for i, nm in enumerate(names) if not nm.startswith(("level_count", "link_pattern"))])
        for seed in seeds:
            key = f"{d}/{seed}"
            if key in out:
                continue
            perm = np.random.default_rng(seed).permutation(n_all)
            test, train = perm[:n_test], perm[n_test: n_test + args.n]
            y, yt = y_all[train], y_all[test]
            z = stats.norm.ppf((stats.rankdata(y) - 0.5) / len(y))
            t0 = time.perf_counter()
            means = []
            with threadpool_limits(1):
                for model, X in ((GaussianProcess(seed=seed), G[:, nolink]), (GaussianProcess(seed=seed), A),
                                 (ExtraTrees(seed=seed), G), (GradientBoosting(seed=seed), G)):
                    model._validate_params()
                    model._fit(X[train], z)
                    means.append(model._predict(X)[0])
            m = np.mean(means, axis=0)
            rec = {"base": float(stats.kendalltau(yt, m[test]).statistic)}
            for a in ALPHAS:
                rec[f"s{a}"] = float(stats.kendalltau(yt, ((1 - a) * m + a * (W @ m))[test]).statistic)
                mc = m.copy()
                mc[train] = z
                rec[f"c{a}"] = float(stats.kendalltau(yt, ((1 - a) * m + a * (W @ mc))[test]).statistic)
            m2 = 0.5 * m + 0.5 * (W @ (0.5 * m + 0.5 * (W @ m)))
            rec["s0.5x2"] = float(stats.kendalltau(yt, m2[test]).statistic)
            rec["fit_s"] = time.perf_counter() - t0
            out[key] = rec
            print(key, " ".join(f"{k} {v:.4f}" for k, v in rec.items()), flush=True)
            with open(args.json + ".tmp", "w") as f:
                json.dump(out, f)
            os.replace(args.json + ".tmp", args.json)
    keys = [k for k in out if k != "fit_s"]
    base = np.array([out[k]["base"] for k in keys])
    print(f"pairs {len(keys)}: base {base.mean():.4f}")
    for v in [k for k in out[keys[0]] if k not in ("base", "fit_s")]:
        t = np.array([out[k][v] for k in keys])
        print(f"{v:8s} {t.mean():.4f} diff {np.mean(t - base):+.4f} higher {int((t > base).sum())}/{len(keys)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
