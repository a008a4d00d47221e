"""The default predictor of one predictors_nbg run against another's, on the same splits (paired by
dataset and seed), at one training size.

Both runs must use the same seeds and held-out sets (same ``--n-test``, or a largest size that
leaves the same): ``evaluate``'s split depends only on the seed and ``n_test``, and the training
set of size n is the first n of the rest whatever the other sizes are. Prints per dataset the new
and old Kendall tau (mean over seeds), the paired difference and on how many seeds the new one
is higher, the old run's baselines, then the means over (dataset, seed) and the goals.

    python benchmarks/predictors_paired.py --new bench-results/r2_100_*.json --old bench-results/predictors_nbg.json --size 100
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from _common import format_table


def _load(paths: list[str]) -> dict[str, dict]:
    """dataset -> (config, raw[dataset]) over one or more predictors_nbg JSON files."""
    out: dict[str, dict] = {}
    for p in paths:
        doc = json.loads(open(p).read())
        for d, r in doc["raw"].items():
            out[d] = {"config": doc["config"], "raw": r}
    return out


def _series(rec: dict, label: str, var: str, size: int) -> np.ndarray:
    i = rec["config"]["sizes"].index(size)
    return np.asarray(rec["raw"]["metrics"][label][var][i], dtype=float)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--new", nargs="+", required=True)
    ap.add_argument("--old", nargs="+", required=True)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--goal", type=float, default=None, help="Kendall tau goal at this size (default: none)")
    args = ap.parse_args(argv)
    new, old = _load(args.new), _load(args.old)
    rows, all_new, all_old, cov, cov_old = [], [], [], [], []
    for d in sorted(new):
        if d not in old:
            continue
        rn, ro = new[d], old[d]
        if rn["config"]["seeds"] != ro["config"]["seeds"] or rn["raw"]["n_test"] != ro["raw"]["n_test"]:
            raise SystemExit(f"{d}: seeds or n_test differ between the runs; the splits are not the same")
        tn = _series(rn, rn["config"]["default"], "kendall_tau", args.size)
        to = _series(ro, ro["config"]["default"], "kendall_tau", args.size)
        c = _series(rn, rn["config"]["default"], "coverage_68", args.size)
        c_old = _series(ro, ro["config"]["default"], "coverage_68", args.size)
        fit = _series(rn, rn["config"]["default"], "fit_s", args.size)
        fit_old = _series(ro, ro["config"]["default"], "fit_s", args.size)
        base = [float(np.mean(_series(ro, b, "kendall_tau", args.size))) for b in ro["config"]["baselines"]]
        rows.append([d, f"{tn.mean():.3f}", f"{to.mean():.3f}", f"{(tn - to).mean():+.3f}", f"{int((tn > to).sum())}/{len(tn)}",
                     f"{c.mean():.3f}", f"{c_old.mean():.3f}", f"{fit.mean():.1f}", f"{fit_old.mean():.1f}",
                     *(f"{b:.3f}" for b in base)])
        all_new += tn.tolist()
        all_old += to.tolist()
        cov += c.tolist()
        cov_old += c_old.tolist()
    a_new, a_old = np.array(all_new), np.array(all_old)
    baselines = next(iter(old.values()))["config"]["baselines"]
    print(f"## Kendall tau at n_train = {args.size}: new default against old, paired by dataset and seed")
    print(format_table(["dataset", "new", "old", "new - old", "new higher", "cover 68% new", "old", "fit s new", "old",
                        *(f"{b} (old run)" for b in baselines)], rows))
    print()
    print(f"mean over {len(a_new)} (dataset, seed): new {a_new.mean():.3f}, old {a_old.mean():.3f}, "
          f"difference {(a_new - a_old).mean():+.4f} (std {np.std(a_new - a_old, ddof=1):.4f}), "
          f"new higher on {int((a_new > a_old).sum())}/{len(a_new)}; coverage 68% new {np.mean(cov):.3f}, old {np.mean(cov_old):.3f}")
    if args.goal is not None:
        print(f"goal tau >= {args.goal} at {args.size}: {a_new.mean():.3f} {'met' if a_new.mean() >= args.goal else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
