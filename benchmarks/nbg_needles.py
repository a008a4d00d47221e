"""How many NAS-Bench-Graph architectures lie within x pp of each table's best validation score, and
how often each method's 100-query searches ended there (from a ``strategies_nbg.py`` JSON): what a
mean valid regret of 0.35 pp at 100 queries (issue 9's goal for ``bo``) asks of a search.

Usage::

    python benchmarks/nbg_needles.py --results bench-results/strategies_nbg.json --json bench-results/nbg_needles.json
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from _common import format_table, metadata, write_json

from nasbook.tasks._nbg import NBG_DATASETS, load_table

#: a regret is "within x" when it is at most x plus this (table scores are means of 3 runs: thirds of a pp)
EPS = 1e-9


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", help="a strategies_nbg.py JSON: share of each method's searches within --goal")
    ap.add_argument("--methods", default="bo,local,evolution,optuna-tpe")
    ap.add_argument("--within", default="0,0.35,0.5,1.0", help="comma-separated regrets in pp")
    ap.add_argument("--goal", type=float, default=0.35)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    within = [float(x) for x in args.within.split(",")]
    res = json.load(open(args.results)) if args.results else None
    methods = args.methods.split(",") if res else []
    out: dict[str, dict] = {}
    rows = []
    for d in NBG_DATASETS:
        t = load_table(d)
        regret = 100 * (float(np.max(t.valid)) - np.asarray(t.valid, dtype=float))
        counts = {f"{x:g}": int(np.sum(regret <= x + EPS)) for x in within}
        shares = {}
        for m in methods:
            r = [s["valid_regret_pp"] for s in res["raw"][d][m]]  # type: ignore[index]
            shares[m] = float(np.mean([v <= args.goal + EPS for v in r]))
        out[d] = {"n": len(regret), "within": counts, "share_of_searches_within_goal": shares}
        rows.append(
            [d, len(regret)]
            + [f"{counts[k]} ({100 * counts[k] / len(regret):.2f}%)" for k in counts]
            + [f"{shares[m]:.2f}" for m in methods]
        )
    heads = ["dataset", "archs"] + [f"<= {x:g} pp" for x in within] + [f"{m} <= {args.goal:g}" for m in methods]
    print(f"## architectures within x pp of the table's best validation score; share of 100-query searches that ended within {args.goal:g} pp")
    print(format_table(heads, rows))
    if args.json:
        write_json(args.json, {"metadata": metadata(argv), "goal_pp": args.goal, "datasets": out})
        print(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
