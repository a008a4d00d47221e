"""Probe for Predictor() round 2 (not the reporting benchmark): member-level predictions cached per
(dataset, seed) so that ways of combining members can be compared on the same fits.

For each dataset and probe seed (100.. by default, never the reporting seeds 0..9) the split is
evaluate()'s (default_rng(seed).permutation; first n_test held out; training set = next n). Each
candidate member is fitted on the 5 calibration folds (the same folds as BasePredictor._calibrate)
and on the whole training set, in the latent rank-normal units. Combinations are scored by Kendall
tau of their mean on the held-out set.

    python benchmarks/predictors_probe.py --seeds 100,101,102 --n 100 --json bench-results/probe.json
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
from scipy import stats  # noqa: E402

from nasbook.tasks import NasBenchGraph  # noqa: E402
from nasbook.tasks._nbg import NBG_DATASETS  # noqa: E402

#: GRAF feature subsets (column-name prefixes): GRAF's strongest groups (op counts, path lengths)
SUBSETS = {
    "graf_core": ("count[", "min_path[", "max_path["),
    "graf_core2": ("count[", "min_path[", "max_path[", "n_paths[", "min_hops[", "max_hops[", "mean_hops[", "depth",
                   "n_outputs"),
    "graf_nolevel": ("count[", "min_path[", "max_path[", "n_paths[", "min_hops[", "max_hops[", "mean_hops[",
                     "out_degree", "output_count[", "input_count[", "n_outputs", "depth", "input_out_degree",
                     "link_pattern["),
}
SUBSETS["graf_nodeg"] = tuple(p for p in SUBSETS["graf_nolevel"] if p != "out_degree")
SUBSETS["graf_nolink"] = tuple(p for p in SUBSETS["graf_nolevel"] if p != "link_pattern[")


def _members(seed, n_graf=138, n_adj=50):
    from _probe_members import GPX, EvidenceGP, GBTMean, LooGP, PairwiseGBT, PopGP, SelfTrainedET

    from nasbook.predictors._mlp import MLPEnsemble
    from nasbook.predictors._models import ExtraTrees, GaussianProcess, GradientBoosting, RandomForest

    blocks = [list(range(n_graf)), list(range(n_graf, n_graf + n_adj))]
    return {
        "gp": ("graf", GaussianProcess(seed=seed)),
        "et": ("graf", ExtraTrees(seed=seed)),
        "gbt": ("graf", GradientBoosting(seed=seed)),
        "rf": ("graf", RandomForest(seed=seed)),
        "gp_adj": ("adjacency", GaussianProcess(seed=seed)),
        "gp_both": ("both", GaussianProcess(seed=seed)),
        "et_leaf3": ("graf", ExtraTrees(min_samples_leaf=3, seed=seed)),
        "et_mf1": ("graf", ExtraTrees(max_features=1.0, seed=seed)),
        "gbt_lr1": ("graf", GradientBoosting(learning_rate=0.1, max_iter=100, max_leaf_nodes=7, seed=seed)),
        "gp_path": ("path", GaussianProcess(seed=seed)),
        "et_adj": ("adjacency", ExtraTrees(seed=seed)),
        "gbt_adj": ("adjacency", GradientBoosting(seed=seed)),
        # round 3 candidates
        "gp_ard": ("graf", GPX(ard=True, seed=seed)),
        "gp_adj_ard": ("adjacency", GPX(ard=True, seed=seed)),
        "gp_sum": ("both", GPX(blocks=blocks, seed=seed)),
        "gp_m15": ("graf", GPX(nu=1.5, seed=seed)),
        "gp_adj_m15": ("adjacency", GPX(nu=1.5, seed=seed)),
        "gp_rbf": ("graf", GPX(nu=float("inf"), seed=seed)),
        "et_path": ("path", ExtraTrees(seed=seed)),
        "et_both": ("both", ExtraTrees(seed=seed)),
        "gp_lin": ("graf", GPX(extra="linear", seed=seed)),
        "gp_adj_lin": ("adjacency", GPX(extra="linear", seed=seed)),
        "gp_adj_poly2": ("adjacency", GPX(extra="poly2", seed=seed)),
        "et_500": ("graf", ExtraTrees(n_estimators=500, seed=seed)),
        "mlp": ("graf", MLPEnsemble(seed=seed)),
        "pair_gbt": ("graf", PairwiseGBT(seed=seed)),
        "gp_core": ("graf_core", GaussianProcess(seed=seed)),
        "gp_core2": ("graf_core2", GaussianProcess(seed=seed)),
        "gp_nolevel": ("graf_nolevel", GaussianProcess(seed=seed)),
        "et_core2": ("graf_core2", ExtraTrees(seed=seed)),
        "et_nolevel": ("graf_nolevel", ExtraTrees(seed=seed)),
        "gbt_nolevel": ("graf_nolevel", GradientBoosting(seed=seed)),
        "gp_nodeg": ("graf_nodeg", GaussianProcess(seed=seed)),
        "gp_nolink": ("graf_nolink", GaussianProcess(seed=seed)),
        # round 4 candidates
        "gbt_ls": ("graf", GBTMean(seed=seed)),
        "gp_nolink_r3": ("graf_nolink", GaussianProcess(n_restarts=3, seed=seed)),
        "gp_adj_r3": ("adjacency", GaussianProcess(n_restarts=3, seed=seed)),
        "et_mf03": ("graf", ExtraTrees(max_features=0.3, seed=seed)),
        "et_nolink": ("graf_nolink", ExtraTrees(seed=seed)),
        # round 5 candidates: the unlabeled space (pool = the view of every architecture), per-fit selection
        "gp_nolink_pop": ("graf_nolink", PopGP(seed=seed)),
        "gp_adj_pop": ("adjacency", PopGP(seed=seed)),
        "gp_pca24": ("graf_nolink", PopGP(k=24, seed=seed)),
        "gp_pca16w": ("graf_nolink", PopGP(k=16, whiten=True, seed=seed)),
        "gp_pca40": ("graf", PopGP(k=40, seed=seed)),
        "gp_evid": ("graf", EvidenceGP(seed=seed)),
        "et_st300": ("both", SelfTrainedET(m=300, seed=seed)),
        "et_st1000": ("both", SelfTrainedET(m=1000, seed=seed)),
        "gp_nolink_loo": ("graf_nolink", LooGP(seed=seed)),
        "gp_adj_loo": ("adjacency", LooGP(seed=seed)),
        "gp_nolink_lootau": ("graf_nolink", LooGP(crit="tau", seed=seed)),
        "gp_adj_lootau": ("adjacency", LooGP(crit="tau", seed=seed)),
        "et_par": ("graf_par", ExtraTrees(seed=seed)),
        "gbt_par": ("graf_par", GradientBoosting(seed=seed)),
        "gp_nolink_par": ("graf_nolink_par", GaussianProcess(seed=seed)),
        "gp_adjfam": ("adjfam", GaussianProcess(seed=seed)),
        "gp_adjfam_pop": ("adjfam", PopGP(seed=seed)),
    }


def scored_archs(dataset):
    """``(space, archs, values, params, n_test)``: a NAS-Bench-Graph table's architectures with a
    finite validation score, in the ground truth's order, their parameter counts, and how many the
    probes hold out."""
    task = NasBenchGraph(dataset)
    gt = task.ground_truth()
    space = task.space
    by_id = {a.id: a for a in space.enumerate(limit=100_000)}
    y_all = np.asarray(gt["value"].values, dtype=np.float64)
    keep = np.flatnonzero(np.isfinite(y_all))
    archs = [by_id[str(i)] for i in np.asarray(gt["arch"].values)[keep]]
    params = np.asarray(gt["params"].values, dtype=np.float64)[keep]
    y_all = y_all[keep]
    return space, archs, y_all, params, min(2000, len(y_all) - 1000)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="all")
    ap.add_argument("--seeds", default="100,101,102")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--members", default="all")
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    datasets = list(NBG_DATASETS) if args.datasets == "all" else args.datasets.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    out = {}
    if os.path.exists(args.json):
        out = json.loads(open(args.json).read())
    for d in datasets:
        space, archs, y_all, params, n_test = scored_archs(d)
        n_all = len(y_all)
        for seed in seeds:
            perm = np.random.default_rng(seed).permutation(n_all)
            test, train = perm[:n_test], perm[n_test: n_test + args.n]
            y, yt = y_all[train], y_all[test]
            z = stats.norm.ppf((stats.rankdata(y) - 0.5) / len(y))
            folds = np.random.default_rng(seed).permutation(len(y)) % 5
            wanted = {f for f, _ in _members(seed).values()} if args.members == "all" else \
                {f for n, (f, _) in _members(seed).items() if n in args.members.split(",")}
            pooled = any(getattr(m, "needs_pool", False) for n, (_, m) in _members(seed).items()
                         if args.members == "all" or n in args.members.split(","))
            # the pool: every architecture of the table (no scores read), for the round-5 members
            used = np.arange(n_all) if pooled else np.concatenate([test, train])
            enc = {k: np.zeros((n_all, 1)) for k in ("graf", "adjacency", "path", "both")}
            for k in ("graf", "adjacency", "path"):
                if k == "path" and "path" not in wanted:
                    continue
                enc[k] = np.zeros((n_all, space.encoding_size(k)))
                enc[k][used] = space.encode_many([archs[i] for i in used], k)
            enc["both"] = np.hstack([enc["graf"], enc["adjacency"]])
            # round 5: log parameter count (a property of the architecture, no training) as one more column
            logp = np.log(params)[:, None]
            names = space._feature_names("graf")
            for view, prefixes in SUBSETS.items():
                enc[view] = enc["graf"][:, [i for i, nm in enumerate(names) if nm.startswith(prefixes)]]
            enc["graf_par"] = np.hstack([enc["graf"], logp])
            # round 5: the one-hot adjacency plus each node's op family (message passing, fc, skip): two cells
            # that differ in one GNN op (gcn -> gat) are nearer than cells that differ by gcn -> skip
            if "adjfam" in wanted:
                fam = {"fc": 1, "skip": 2}
                F = np.zeros((n_all, 12))
                for i in used:
                    for j, op in enumerate(archs[i].spec["ops"]):
                        F[i, 3 * j + fam.get(op, 0)] = 1.0
                enc["adjfam"] = np.hstack([enc["adjacency"], F])
            enc["graf_nolink_par"] = np.hstack([enc["graf_nolink"], logp])
            key = f"{d}/{seed}"
            rec = out.setdefault(key, {"y_train": y.tolist(), "y_test": yt.tolist(), "members": {}})
            for name, (feat, model) in _members(seed, space.encoding_size("graf"), space.encoding_size("adjacency")).items():
                if (args.members != "all" and name not in args.members.split(",")) or name in rec["members"]:
                    continue
                X, Xt = enc[feat][train], enc[feat][test]
                model._validate_params()
                if getattr(model, "needs_pool", False):
                    model.pool = enc[feat]
                    model.view_cols = {v: np.array([i for i, nm in enumerate(names) if nm.startswith(p)])
                                       for v, p in SUBSETS.items()}
                    model.view_cols["graf"] = np.arange(len(names))
                    model.view_cols["n_graf"] = len(names)
                t0 = time.perf_counter()
                oof_m, oof_s = np.zeros(len(y)), np.zeros(len(y))
                with threadpool_limits(1):
                    for k in range(5):
                        te = folds == k
                        model._fit(X[~te], z[~te])
                        m, s = model._predict(X[te])
                        oof_m[te], oof_s[te] = m, s
                    model._fit(X, z)
                    tm, ts = model._predict(Xt)
                dt = time.perf_counter() - t0
                rec["members"][name] = {"oof_mean": oof_m.tolist(), "oof_std": oof_s.tolist(),
                                        "test_mean": tm.tolist(), "test_std": ts.tolist(), "fit_s": dt}
                tau = stats.kendalltau(yt, tm).statistic
                print(f"{key} {name}: tau {tau:.3f} oof-tau {stats.kendalltau(y, oof_m).statistic:.3f} ({dt:.1f} s)",
                      flush=True)
            with open(args.json + ".tmp", "w") as f:  # atomic: a killed probe leaves the last good file
                json.dump(out, f)
            os.replace(args.json + ".tmp", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
