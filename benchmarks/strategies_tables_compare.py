"""Two ``strategies_tables.py --json`` runs (e.g. old and new code) side by side, paired by seed.

    python benchmarks/strategies_tables_compare.py OLD.json NEW.json [--labels old,new]

For each table, method and checkpoint both runs hold: mean valid regret (pp) of each run, new - old,
seeds where new is lower/higher/tied, two-sided Wilcoxon signed-rank p (ties dropped), and whether
the per-seed regrets are identical.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from scipy.stats import wilcoxon


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--labels", default="old,new")
    args = ap.parse_args(argv)
    lo, ln = args.labels.split(",")
    with open(args.old) as f:
        old = json.load(f)
    with open(args.new) as f:
        new = json.load(f)
    if old["config"]["seeds"] != new["config"]["seeds"]:
        ap.error("the two runs have different seeds")
    for t in (t for t in new["raw"] if t in old["raw"]):
        print(f"## {t}: {lo} ({(old['metadata']['package'].get('commit') or '?')[:7]}) vs {ln} "
              f"({(new['metadata']['package'].get('commit') or '?')[:7]}), {len(new['config']['seeds'])} seeds")
        print(f"{'method':<10} {'n':>4} {lo:>7} {ln:>7} {'new-old':>8} {'lower/higher/tied':>18} {'p':>7}  identical")
        for m in (m for m in new["raw"][t] if m in old["raw"][t]):
            for c in new["tables"][t]["checkpoints"]:
                a = np.array([r["regret_at"][str(c)] for r in old["raw"][t][m]])
                b = np.array([r["regret_at"][str(c)] for r in new["raw"][t][m]])
                d = np.round(b - a, 9)
                p = float(wilcoxon(b, a).pvalue) if np.any(d != 0) else float("nan")
                print(f"{m:<10} {c:>4} {a.mean():7.3f} {b.mean():7.3f} {d.mean():+8.3f} "
                      f"{f'{(d < 0).sum()}/{(d > 0).sum()}/{(d == 0).sum()}':>18} {p:7.3f}  {'yes' if not d.any() else 'no'}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
