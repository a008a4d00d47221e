"""Two ``strategies_nbg.py --json`` runs (e.g. old and new code) side by side, paired by seed.

    python benchmarks/strategies_nbg_compare.py OLD.json NEW.json [--labels old,new] [--at 100]

For each method both runs hold, per dataset and over all datasets (the per-seed mean over datasets):
mean valid regret (pp) after ``--at`` distinct queries in each run, new - old, seeds where new is
lower/higher/tied, a two-sided Wilcoxon signed-rank p (ties dropped), and whether the per-seed regrets
are identical.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from scipy.stats import wilcoxon


def _row(name: str, a: np.ndarray, b: np.ndarray) -> str:
    d = np.round(b - a, 9)
    p = float(wilcoxon(b, a).pvalue) if np.count_nonzero(d) else float("nan")
    return (f"| {name} | {a.mean():.3f} | {b.mean():.3f} | {d.mean():+.3f} | {(d < 0).sum()}/{(d > 0).sum()}/{(d == 0).sum()} "
            f"| {p:.3f} | {'yes' if not d.any() else 'no'} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--labels", default="old,new")
    ap.add_argument("--at", default="100", help="the checkpoint (distinct queries) compared (default 100)")
    args = ap.parse_args(argv)
    lo, ln = args.labels.split(",")
    with open(args.old) as f:
        old = json.load(f)
    with open(args.new) as f:
        new = json.load(f)
    if old["config"]["seeds"] != new["config"]["seeds"]:
        ap.error("the two runs have different seeds")
    datasets = [d for d in new["raw"] if d in old["raw"]]
    methods = [m for m in new["config"]["methods"] if m in old["config"]["methods"]]
    print(f"valid regret (pp) at n={args.at}, {len(new['config']['seeds'])} seeds; {lo} = "
          f"{(old['metadata']['package'].get('commit') or '?')[:7]}, {ln} = {(new['metadata']['package'].get('commit') or '?')[:7]}")
    print(f"| method / dataset | {lo} | {ln} | {ln} - {lo} | lower/higher/tied | p | identical |")
    print("|---|---|---|---|---|---|---|")
    for m in methods:
        per = []
        for d in datasets:
            a = np.array([r["regret_at"][args.at] for r in old["raw"][d][m]])
            b = np.array([r["regret_at"][args.at] for r in new["raw"][d][m]])
            per.append((a, b))
            print(_row(f"{m} / {d}", a, b))
        if len(per) > 1:  # each seed's mean over the datasets, paired
            print(_row(f"**{m} / mean of {len(per)}**", np.mean([a for a, _ in per], axis=0), np.mean([b for _, b in per], axis=0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
