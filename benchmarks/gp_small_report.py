"""Tables of gp_small_probe.py's cache: the GP alone and Predictor()'s four-member mixture, old
(length scale and noise within fixed bounds) against new (data-derived bounds), paired by
(dataset, seed) at each training size, and how often the fitted kernel degenerates.

    python benchmarks/gp_small_report.py --json bench-results/gpsmall.json
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from _common import format_table
from scipy import stats

#: Predictor()'s members in the probe's names: old GPs, and the new ones in their place
MIX_OLD = ("gp_nolink", "gp_adj", "et", "gbt")
MIX_NEW = ("gp_nolink_new", "gp_adj_new", "et", "gbt")
GPS = {"gp": "graf", "gp_nolink": "graf_nolink", "gp_adj": "adjacency"}


def _tau_of_mix(rec: dict, names: tuple[str, ...], y_test: np.ndarray) -> float:
    mean = np.mean([rec["members"][m]["test_mean"] for m in names], axis=0)
    t = stats.kendalltau(y_test, mean).statistic
    return float(t) if np.isfinite(t) else 0.0


def held_out_scores(pairs: list[str]) -> dict[str, np.ndarray]:
    """The held-out scores of each ``"dataset/seed"`` pair: the probe's split, re-read from the tables."""
    from nasbook.tasks import NasBenchGraph

    y_test = {}
    for d in sorted({p.split("/")[0] for p in pairs}):
        gt = NasBenchGraph(d).ground_truth()
        y_all = np.asarray(gt["value"].values, dtype=np.float64)
        y_all = y_all[np.isfinite(y_all)]
        n_test = min(2000, len(y_all) - 1000)
        for p in pairs:
            if p.startswith(d + "/"):
                seed = int(p.split("/")[1])
                y_test[p] = y_all[np.random.default_rng(seed).permutation(len(y_all))[:n_test]]
    return y_test


def read_probe(argv: list[str] | None, doc: str | None) -> tuple[dict, list[int], list[str], dict[str, np.ndarray]]:
    """``--json FILE`` of a GP probe: its records, training sizes, "dataset/seed" pairs and their held-out scores."""
    ap = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    ap.add_argument("--json", required=True)
    args = ap.parse_args(argv)
    records = json.loads(open(args.json).read())
    sizes = sorted({int(k.split("/")[2]) for k in records})
    pairs = sorted({"/".join(k.split("/")[:2]) for k in records})
    return records, sizes, pairs, held_out_scores(pairs)


def main(argv: list[str] | None = None) -> int:
    doc, sizes, pairs, y_test = read_probe(argv, __doc__)

    rows_gp, rows_fit, rows_mix = [], [], []
    for n in sizes:
        recs = [(p, doc[f"{p}/{n}"]) for p in pairs if f"{p}/{n}" in doc]
        for old, view in GPS.items():
            new = old + "_new"
            both = [(p, r) for p, r in recs if old in r["members"] and new in r["members"]]
            if not both:
                continue
            a = np.array([r["members"][new]["tau"] for _, r in both])
            b = np.array([r["members"][old]["tau"] for _, r in both])
            if old == "gp":
                rows_gp.append([n, len(both), f"{b.mean():.3f}", f"{a.mean():.3f}", f"{(a - b).mean():+.4f}",
                                f"{np.std(a - b, ddof=1):.4f}", f"{int((a > b).sum())}/{int((a != b).sum())}"])
            for tag, name in (("old", old), ("new", new)):
                fits = [(r["members"][name], r.get("nn", {}).get(view)) for _, r in both]
                # (a fit at the new lower bound sits at 0.5 nn up to rounding: 1% tolerance)
                short = [f["ls"] < 0.5 * nn * 0.99 for f, nn in fits if nn]
                rows_fit.append([
                    n, old, tag, f"{np.mean([f['tau'] for f, _ in fits]):.3f}",
                    f"{100 * np.mean(short):.0f}" if short else "-",
                    f"{100 * np.mean([f['ls_lo'] for f, _ in fits]):.0f}",
                    f"{100 * np.mean([f['ls_hi'] for f, _ in fits]):.0f}",
                    f"{100 * np.mean([f['noise_share'] > 0.5 for f, _ in fits]):.0f}",
                    f"{100 * np.mean([f['amp_lo'] for f, _ in fits]):.0f}",
                    f"{100 * np.mean([f['noise_lo'] for f, _ in fits]):.0f}",
                    f"{100 * np.mean([f['noise_hi'] for f, _ in fits]):.0f}",
                    f"{100 * np.mean([f['mean_sd'] < 0.01 for f, _ in fits]):.0f}",
                    f"{np.median([f['mean_sd'] for f, _ in fits]):.3f}",
                    f"{100 * np.mean([f['std_finite'] for f, _ in fits]):.0f}",
                ])
        mixed = [(p, r) for p, r in recs if all(m in r["members"] for m in {*MIX_OLD, *MIX_NEW})]
        if mixed:
            a = np.array([_tau_of_mix(r, MIX_NEW, y_test[p]) for p, r in mixed])
            b = np.array([_tau_of_mix(r, MIX_OLD, y_test[p]) for p, r in mixed])
            rows_mix.append([n, len(mixed), f"{b.mean():.4f}", f"{a.mean():.4f}", f"{(a - b).mean():+.4f}",
                             f"{np.std(a - b, ddof=1):.4f}", f"{int((a > b).sum())}/{int((a != b).sum())}"])
    print("## GP alone (model='gp', all graf columns): Kendall tau, old (fixed bounds) vs new, paired by (dataset, seed)")
    print(format_table(["n_train", "pairs", "old", "new", "new - old", "sd", "new higher (of differing)"], rows_gp))
    print()
    print("## The fitted kernels (% of fits): length scale < half the median nearest-neighbour distance (correlation "
          "with the nearest training architecture < 0.14), at its lower / upper bound (old: 0.01 / 1e4; new: nn/2 / "
          "1e4); noise > amplitude; amplitude at its lower bound (1e-3); noise at its lower (1e-6) / upper bound "
          "(old: 10; new: half the targets' variance); near-constant predictions (sd of the latent means < 0.01); "
          "median sd of latent means; finite std")
    print(format_table(["n_train", "GP", "bounds", "tau", "ls < nn/2", "ls at min", "ls at max", "noise > amp",
                        "amp at min", "noise at min", "noise at max", "near-constant", "sd(means)", "std finite"],
                       rows_fit))
    print()
    print("## Predictor()'s four members (graf GP without level_count/link_pattern, adjacency GP, extra trees, "
          "quantile boosting), mean of their means: Kendall tau, old GPs vs new GPs, paired by (dataset, seed)")
    print(format_table(["n_train", "pairs", "old", "new", "new - old", "sd", "new higher (of differing)"], rows_mix))
    small = [n for n in sizes if n <= 20]
    if small:
        rows = []
        for d in sorted({p.split("/")[0] for p in pairs}):
            row = [d]
            for n in sizes:
                recs = [r for p, r in ((p, doc.get(f"{p}/{n}")) for p in pairs if p.startswith(d + "/")) if r]
                a = [r["members"]["gp_new"]["tau"] for r in recs if "gp_new" in r["members"] and "gp" in r["members"]]
                b = [r["members"]["gp"]["tau"] for r in recs if "gp_new" in r["members"] and "gp" in r["members"]]
                row.append(f"{np.mean(b):.3f} -> {np.mean(a):.3f}" if a else "-")
            rows.append(row)
        print()
        print("## GP alone per dataset: old -> new Kendall tau, mean over the seeds")
        print(format_table(["dataset", *(f"n={n}" for n in sizes)], rows))
    rows = []
    for d in sorted({p.split("/")[0] for p in pairs}):
        row = [d]
        for n in sizes:
            recs = [(p, doc[f"{p}/{n}"]) for p in pairs if p.startswith(d + "/") and f"{p}/{n}" in doc]
            recs = [(p, r) for p, r in recs if all(m in r["members"] for m in {*MIX_OLD, *MIX_NEW})]
            a = [_tau_of_mix(r, MIX_NEW, y_test[p]) for p, r in recs]
            b = [_tau_of_mix(r, MIX_OLD, y_test[p]) for p, r in recs]
            row.append(f"{np.mean(b):.3f} -> {np.mean(a):.3f}" if a else "-")
        rows.append(row)
    print()
    print("## Predictor()'s mixture per dataset: old -> new Kendall tau, mean over the seeds")
    print(format_table(["dataset", *(f"n={n}" for n in sizes)], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
