"""Compare bo_probe.py variants from several JSON files, paired by (dataset, seed) against one base.

Prints the mean valid regret (pp) at 100 queries per dataset and variant, and for every variant
against the base: the mean paired difference with its standard error, the paired searches won /
lost / tied (lower / higher / equal regret), the two-sided Wilcoxon signed-rank p, the mean test %
of the returned architecture, and ms per ask (BO's own fit + acquisition, mean over searches).
Also says whether a variant passes the bar for a reporting run: mean lower by >= ``--bar`` pp and
more paired wins than losses (and, with ``--alpha``, a two-sided Wilcoxon p below it).

Usage::

    python benchmarks/bo_paired.py --base base bench-results/g_base.json bench-results/g_A.json
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from _common import format_table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", help="bo_probe.py JSON files")
    ap.add_argument("--base", default="base", help="the variant the others are paired against")
    ap.add_argument("--bar", type=float, default=0.05, help="pp a variant's mean must be lower by (default 0.05)")
    ap.add_argument("--alpha", type=float, default=None, help="also require Wilcoxon p < ALPHA to pass (default: not required)")
    args = ap.parse_args(argv)
    raw: dict[str, dict[str, list[dict]]] = {}
    seeds: dict[str, list[int]] = {}
    for f in args.files:
        with open(f) as fh:
            data = json.load(fh)
        for name, per_d in data["raw"].items():
            raw[name] = per_d
            seeds[name] = data["seeds"]
    if args.base not in raw:
        ap.error(f"no variant {args.base!r} in {args.files}")
    base = raw[args.base]
    datasets = list(base)
    names = [args.base, *(n for n in raw if n != args.base)]
    for n in names:
        if seeds[n] != seeds[args.base] or list(raw[n]) != datasets:
            ap.error(f"variant {n!r} ran other datasets or seeds than {args.base!r}; they cannot be paired")

    def reg(n: str) -> np.ndarray:
        return np.array([r["valid_regret_pp"] for d in datasets for r in raw[n][d]])

    rows = []
    for n in names:
        rows.append([n, *(f"{np.mean([r['valid_regret_pp'] for r in raw[n][d]]):.3f}" for d in datasets),
                     f"{reg(n).mean():.3f}"])
    print(f"## mean valid regret (pp) at 100 queries, seeds {seeds[args.base][0]}..{seeds[args.base][-1]}")
    print(format_table(["variant", *datasets, "all"], rows))

    from scipy.stats import wilcoxon

    b = reg(args.base)
    rows = []
    for n in names:
        v = reg(n)
        diff = v - b
        nz = np.round(diff, 9) != 0
        p = float(wilcoxon(diff[nz]).pvalue) if nz.sum() else 1.0
        wins, losses = int((np.round(diff, 9) < 0).sum()), int((np.round(diff, 9) > 0).sum())
        test = np.mean([r["test_pct"] for d in datasets for r in raw[n][d]])
        ms = np.mean([r["ms_per_ask"] for d in datasets for r in raw[n][d]])
        ok = n != args.base and diff.mean() <= -args.bar and wins > losses and (args.alpha is None or p < args.alpha)
        rows.append([n, f"{v.mean():.3f}", f"{diff.mean():+.3f} ± {diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else 0:.3f}",
                     f"{wins}/{losses}/{len(diff) - wins - losses}", f"{p:.3f}" if n != args.base else "",
                     f"{test:.2f}", f"{ms:.0f}", ("yes" if ok else "no") if n != args.base else ""])
    print(f"\n## against {args.base!r}, paired by (dataset, seed): {len(b)} searches")
    print(format_table(["variant", "mean pp", "diff pp ± se", "won/lost/tied", "wilcoxon p", "test %", "ms/ask",
                        f"passes (<= -{args.bar}, won > lost{'' if args.alpha is None else f', p < {args.alpha}'})"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
