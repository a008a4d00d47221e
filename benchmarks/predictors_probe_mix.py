"""Mixtures of the members cached by predictors_probe.py, scored on the same held-out sets.

Each mixture is members joined by ``+``; ``how`` is ``mean`` (the mean of the members' latent means,
as ``Ensemble``) or ``rank`` (the mean of the members' normal scores of their held-out ranks), ``z`` (means scaled to unit
spread), ``prec`` / ``prec_rel`` (per-architecture inverse-variance weights; relative: each member's stds
divided by their median).
Prints per mixture: mean Kendall tau over the (dataset, seed) pairs holding all its members, the
paired difference against ``--base`` and on how many pairs it is higher, and the per-dataset means.

    python benchmarks/predictors_probe_mix.py --json bench-results/probe3.json --base gp+gp_adj+et+gbt \\
        --mixes gp+gp_adj+et+gbt:rank gp_sum+et+gbt
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

import numpy as np
from scipy import stats


def _select(rec: dict, names: str, how: str) -> list[str] | None:
    """Per-fit selection by the training set's out-of-fold Kendall tau (the calibration's 5 folds):
    ``a|b+c|d:sel`` picks, in each slot, the alternative with the higher out-of-fold tau;
    ``:selmix`` picks the combination of alternatives whose out-of-fold mixture has the higher tau."""
    import itertools

    slots = [s.split("|") for s in names.split("+")]
    if any(m not in rec["members"] for s in slots for m in s):
        return None
    y = np.asarray(rec["y_train"])

    def oof(ms: list[str]) -> float:
        return float(stats.kendalltau(y, np.mean([rec["members"][m]["oof_mean"] for m in ms], axis=0)).statistic)

    if how == "sel":
        return [max(s, key=lambda m: oof([m])) for s in slots]
    return list(max(itertools.product(*slots), key=lambda ms: oof(list(ms))))


def mix_tau(rec: dict, spec: str) -> float | None:
    names, _, how = spec.partition(":")
    if how in ("sel", "selmix"):
        picked = _select(rec, names, how)
        if picked is None:
            return None
        names, how = "+".join(picked), "mean"
    members = names.split("+")
    if any(m not in rec["members"] for m in members):
        return None
    yt = np.asarray(rec["y_test"])
    means = [np.asarray(rec["members"][m]["test_mean"]) for m in members]
    stds = [np.maximum(np.asarray(rec["members"][m]["test_std"]), 1e-9) for m in members]
    if how == "rank":
        means = [stats.norm.ppf((stats.rankdata(m) - 0.5) / len(m)) for m in means]
    elif how == "z":  # each member's means scaled to unit spread over the held-out set
        means = [m / max(float(np.std(m)), 1e-12) for m in means]
    elif how in ("prec", "prec_rel"):  # per architecture, inverse-variance weights (relative: member's median)
        if how == "prec_rel":
            stds = [s / np.median(s) for s in stds]
        w = np.array([1 / s**2 for s in stds])
        return float(stats.kendalltau(yt, (w * np.array(means)).sum(0) / w.sum(0)).statistic)
    elif how not in ("", "mean"):
        raise SystemExit(f"unknown how {how!r} in {spec!r}: mean, rank, z, prec or prec_rel")
    return float(stats.kendalltau(yt, np.mean(means, axis=0)).statistic)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--base", default="gp+gp_adj+et+gbt")
    ap.add_argument("--mixes", nargs="+", required=True)
    args = ap.parse_args(argv)
    doc = json.loads(open(args.json).read())
    for spec in [args.base, *args.mixes]:
        diffs, taus, per = [], [], defaultdict(list)
        for key, rec in doc.items():
            t, b = mix_tau(rec, spec), mix_tau(rec, args.base)
            if t is None or b is None:
                continue
            taus.append(t)
            diffs.append(t - b)
            per[key.split("/")[0]].append(t)
        if not taus:
            print(f"{spec}: no pair holds all its members")
            continue
        d = np.asarray(diffs)
        line = " ".join(f"{k} {np.mean(v):.3f}" for k, v in sorted(per.items()))
        print(f"{spec:40s} tau {np.mean(taus):.4f}  vs base {d.mean():+.4f}  higher {int((d > 0).sum())}/{len(d)}  | {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
