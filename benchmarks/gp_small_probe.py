"""Probe (not the reporting benchmark): the Gaussian process at 10-100 training architectures on
NAS-Bench-Graph, alone and inside Predictor()'s ensemble, with its fitted kernel hyperparameters.

For each dataset, probe seed (100.. by default, never the reporting seeds 0..9) and training size,
the split is evaluate()'s (default_rng(seed).permutation; the first n_test held out, 1,021 on
proteins; the training set = the first n of the rest, nested over sizes). Members are fitted on the
rank-normal targets of the training set (as BasePredictor.fit does) and scored by Kendall tau of
their mean on the held-out set; a mixture (Predictor()'s four members) is the mean of its members'
means, which is what the ensemble predicts (the calibration scales the spread only, and the
quantile map back to scores is monotone, so neither changes tau). For each GP fit it records the
fitted amplitude, length scale and noise and whether any sits at its bound.

    python benchmarks/gp_small_probe.py --seeds 100,101,102,103,104,105 --sizes 10,15,20,50,100 \
        --members gp,gp_nolink,gp_adj,et,gbt --json bench-results/gpsmall.json
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

from nasbook.predictors._ensemble import GP_DROP  # noqa: E402
from nasbook.predictors._models import (  # noqa: E402
    ExtraTrees,
    GaussianProcess,
    GradientBoosting,
    _median_neighbour_distance,
    _scaled,
)
from nasbook.tasks import NasBenchGraph  # noqa: E402
from nasbook.tasks._nbg import NBG_DATASETS  # noqa: E402

#: member name -> (encoding, drop, factory(seed)); "old" = GaussianProcess(length_scale_bound="fixed"), the
#: maximum-likelihood fit within fixed bounds that every release before this probe had
MEMBERS = {
    "gp": ("graf", (), lambda s: GaussianProcess(length_scale_bound="fixed", seed=s)),
    "gp_nolink": ("graf", GP_DROP, lambda s: GaussianProcess(length_scale_bound="fixed", drop=GP_DROP, seed=s)),
    "gp_adj": ("adjacency", (), lambda s: GaussianProcess(length_scale_bound="fixed", seed=s)),
    "gp_new": ("graf", (), lambda s: GaussianProcess(seed=s)),
    "gp_nolink_new": ("graf", GP_DROP, lambda s: GaussianProcess(drop=GP_DROP, seed=s)),
    "gp_adj_new": ("adjacency", (), lambda s: GaussianProcess(seed=s)),
    "et": ("graf", (), lambda s: ExtraTrees(seed=s)),
    "gbt": ("graf", (), lambda s: GradientBoosting(seed=s)),
}
#: section 1q-pred's candidates against the default GPs (gp_nolink_new, gp_adj_new): optimiser restarts
#: (seeded) and MAP fits under BoTorch's hyperpriors; "<member>_<tag>"
CANDIDATES: dict[str, dict] = {"r2": {"n_restarts": 2}, "r5": {"n_restarts": 5},
                               "ln": {"hyperprior": "lognormal"}, "ga": {"hyperprior": "gamma"}}
for _tag, _kw in CANDIDATES.items():
    MEMBERS[f"gp_nolink_{_tag}"] = ("graf", GP_DROP, lambda s, kw=_kw: GaussianProcess(drop=GP_DROP, seed=s, **kw))
    MEMBERS[f"gp_adj_{_tag}"] = ("adjacency", (), lambda s, kw=_kw: GaussianProcess(seed=s, **kw))
#: the GP members' views: encoding and dropped column prefixes
VIEWS = {"graf": ("graf", ()), "graf_nolink": ("graf", GP_DROP), "adjacency": ("adjacency", ())}
BOUNDS_TOL = 1.02  # a fitted value within 2% (in ratio) of a bound counts as at the bound


def kernel_params(model: GaussianProcess) -> dict[str, float | bool]:
    """The fitted amplitude, length scale and noise of a GaussianProcess, and which sit at a bound."""
    k = model.model_.kernel_
    amp, base, white = k.k1.k1, k.k1.k2, k.k2
    out: dict[str, float | bool] = {"amp": float(amp.constant_value), "ls": float(np.ravel(base.length_scale)[0]),
                                    "noise": float(white.noise_level)}
    for name, hp, v in (("amp", amp.hyperparameter_constant_value, out["amp"]),
                        ("ls", base.hyperparameter_length_scale, out["ls"]),
                        ("noise", white.hyperparameter_noise_level, out["noise"])):
        lo, hi = np.ravel(hp.bounds)[:2] if np.ndim(hp.bounds) else (np.nan, np.nan)
        out[f"{name}_lo"] = bool(v <= lo * BOUNDS_TOL)
        out[f"{name}_hi"] = bool(v >= hi / BOUNDS_TOL)
    out["noise_share"] = out["noise"] / (out["amp"] + out["noise"])
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="all")
    ap.add_argument("--seeds", default="100,101,102,103,104,105")
    ap.add_argument("--sizes", default="10,15,20,50,100")
    ap.add_argument("--members", default="gp,gp_nolink,gp_adj,et,gbt")
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    datasets = list(NBG_DATASETS) if args.datasets == "all" else args.datasets.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = sorted(int(s) for s in args.sizes.split(","))
    members = args.members.split(",")
    out = json.loads(open(args.json).read()) if os.path.exists(args.json) else {}
    for d in datasets:
        task = NasBenchGraph(d)
        gt = task.ground_truth()
        space = task.space
        by_id = {a.id: a for a in space.enumerate(limit=100_000)}
        y_all = np.asarray(gt["value"].values, dtype=np.float64)
        keep = np.flatnonzero(np.isfinite(y_all))
        archs = [by_id[str(i)] for i in np.asarray(gt["arch"].values)[keep]]
        y_all = y_all[keep]
        n_test = min(2000, len(y_all) - 1000)
        names = {k: space.feature_names(k) for k in ("graf", "adjacency")}
        for seed in seeds:
            perm = np.random.default_rng(seed).permutation(len(y_all))
            test, rest = perm[:n_test], perm[n_test:n_test + max(sizes)]
            used = np.concatenate([test, rest])
            enc = {k: np.zeros((len(y_all), space.encoding_size(k))) for k in names}
            for k in names:
                enc[k][used] = space.encode_many([archs[i] for i in used], k)
            yt = y_all[test]
            for n in sizes:
                train = rest[:n]
                y = y_all[train]
                z = stats.norm.ppf((stats.rankdata(y) - 0.5) / len(y))
                rec = out.setdefault(f"{d}/{seed}/{n}", {"members": {}})
                nn = rec.setdefault("nn", {})
                for view, (feat, drop) in VIEWS.items():  # the training set's geometry, for the report
                    if view not in nn:
                        cols = [i for i, nm in enumerate(names[feat]) if not nm.startswith(tuple(drop))]
                        nn[view] = _median_neighbour_distance(_scaled(enc[feat][train][:, cols])[0])
                for name in members:
                    if name in rec["members"]:
                        continue
                    feat, drop, make = MEMBERS[name]
                    cols = [i for i, nm in enumerate(names[feat]) if not nm.startswith(tuple(drop))]
                    model = make(seed)
                    model._validate_params()
                    t0 = time.perf_counter()
                    with threadpool_limits(1):
                        model._fit(enc[feat][train][:, cols], z)
                        t_fit = time.perf_counter() - t0
                        tm, ts = model._predict(enc[feat][test][:, cols])
                    r: dict = {"tau": float(stats.kendalltau(yt, tm).statistic), "fit_s": time.perf_counter() - t0,
                               "fit_only_s": t_fit,
                               "mean_sd": float(np.std(tm)), "std_mean": float(np.mean(ts)),
                               "std_finite": bool(np.isfinite(ts).all()), "test_mean": np.round(tm, 5).tolist()}
                    if isinstance(model, GaussianProcess):
                        r.update(kernel_params(model))
                    if not np.isfinite(r["tau"]):
                        r["tau"] = 0.0  # constant predictions rank nothing
                    rec["members"][name] = r
                    extra = (f" amp {r['amp']:.3g} ls {r['ls']:.3g} noise {r['noise']:.3g}"
                             if "ls" in r else "")
                    print(f"{d}/{seed}/{n} {name}: tau {r['tau']:.3f} sd(mean) {r['mean_sd']:.3f}{extra}", flush=True)
            with open(args.json + ".tmp", "w") as f:  # atomic: a killed probe leaves the last good file
                json.dump(out, f)
            os.replace(args.json + ".tmp", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
