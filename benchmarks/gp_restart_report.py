"""Tables of gp_small_probe.py's cache for section 1q-pred: the GP members with optimiser restarts
(r2, r5) or a MAP fit under BoTorch's hyperpriors (ln, gp) against the default ML-II fit, alone and
in Predictor()'s four-member mixture, paired by (dataset, seed), with a two-sided Wilcoxon
signed-rank test (zero differences dropped), fit seconds and the adoption bar's verdict.

    python benchmarks/gp_restart_report.py --json bench-results/gprestart.json
"""

from __future__ import annotations

import sys

import numpy as np
from _common import format_table
from gp_small_report import _tau_of_mix, read_probe
from scipy import stats

BASE = "new"  # gp_small_probe.py's names of the default GPs: gp_nolink_new, gp_adj_new
CANDIDATES = ("r2", "r5", "ln", "ga")
LABELS = {"new": "default (ML-II, 1 start)", "r2": "n_restarts=2", "r5": "n_restarts=5",
          "ln": "hyperprior='lognormal'", "ga": "hyperprior='gamma'"}


def _mix(tag: str) -> tuple[str, ...]:
    return (f"gp_nolink_{tag}", f"gp_adj_{tag}", "et", "gbt")


def _wilcoxon(diff: np.ndarray) -> float:
    nz = diff[np.abs(diff) > 1e-12]
    return float(stats.wilcoxon(nz).pvalue) if len(nz) >= 2 else 1.0


def _paired_row(n: int, label: str, a: np.ndarray, b: np.ndarray, extra: list) -> list:
    d = a - b
    return [n, label, len(d), f"{b.mean():.4f}", f"{a.mean():.4f}", f"{d.mean():+.4f}", f"{np.std(d, ddof=1):.4f}",
            f"{int((d > 0).sum())}/{int((d != 0).sum())}", f"{_wilcoxon(d):.3g}", *extra]


def main(argv: list[str] | None = None) -> int:
    doc, sizes, pairs, y_test = read_probe(argv, __doc__)

    def fit_s(r: dict, names: tuple[str, ...]) -> float:
        return float(sum(r["members"][m].get("fit_only_s", r["members"][m]["fit_s"]) for m in names))

    rows_mix, rows_gp, rows_kern, verdict = [], [], [], {}
    gains: dict[str, dict[int, tuple[float, float, float]]] = {}
    for n in sizes:
        for tag in CANDIDATES:
            need = {*_mix(BASE), *_mix(tag)}
            recs = [(p, doc[f"{p}/{n}"]) for p in pairs
                    if f"{p}/{n}" in doc and need <= set(doc[f"{p}/{n}"]["members"])]
            if not recs:
                continue
            a = np.array([_tau_of_mix(r, _mix(tag), y_test[p]) for p, r in recs])
            b = np.array([_tau_of_mix(r, _mix(BASE), y_test[p]) for p, r in recs])
            ta = np.mean([fit_s(r, _mix(tag)) for _, r in recs])
            tb = np.mean([fit_s(r, _mix(BASE)) for _, r in recs])
            rows_mix.append(_paired_row(n, LABELS[tag], a, b, [f"{tb:.3f}", f"{ta:.3f}", f"{ta / tb:.2f}"]))
            gains.setdefault(tag, {})[n] = (float((a - b).mean()), _wilcoxon(a - b), float(ta / tb))
            for view in ("nolink", "adj"):
                new, old = f"gp_{view}_{tag}", f"gp_{view}_{BASE}"
                ga = np.array([r["members"][new]["tau"] for _, r in recs])
                gb = np.array([r["members"][old]["tau"] for _, r in recs])
                t_a = np.mean([r["members"][new]["fit_only_s"] for _, r in recs])
                t_b = np.mean([r["members"][old]["fit_only_s"] for _, r in recs])
                rows_gp.append(_paired_row(n, f"{'graf' if view == 'nolink' else 'adjacency'} {tag}", ga, gb,
                                           [f"{t_b:.3f}", f"{t_a:.3f}", f"{t_a / t_b:.2f}"]))
        for tag in (BASE, *CANDIDATES):
            for view in ("nolink", "adj"):
                fits = [doc[f"{p}/{n}"]["members"].get(f"gp_{view}_{tag}") for p in pairs if f"{p}/{n}" in doc]
                fits = [f for f in fits if f]
                if not fits:
                    continue
                rows_kern.append([n, f"{'graf' if view == 'nolink' else 'adjacency'} {tag}", len(fits),
                                  f"{np.mean([f['tau'] for f in fits]):.3f}",
                                  f"{np.median([f['amp'] for f in fits]):.3g}",
                                  f"{np.median([f['ls'] for f in fits]):.3g}",
                                  f"{np.median([f['noise'] for f in fits]):.3g}",
                                  f"{100 * np.mean([f['ls_lo'] for f in fits]):.0f}",
                                  f"{100 * np.mean([f['noise_lo'] for f in fits]):.0f}",
                                  f"{100 * np.mean([f['noise_hi'] for f in fits]):.0f}",
                                  f"{np.median([f['mean_sd'] for f in fits]):.3f}"])
    head = ["n_train", "candidate", "pairs", "default", "candidate", "diff", "sd", "higher (of differing)",
            "Wilcoxon p", "fit s default", "fit s cand.", "ratio"]
    print("## Predictor()'s four members (both GPs as the candidate, extra trees, quantile boosting), mean of "
          "their means: Kendall tau, candidate vs default, paired by (dataset, seed); fit s = the four members' "
          "summed fit seconds, mean over pairs")
    print(format_table(head, rows_mix, align="rl" + "r" * (len(head) - 2)))
    print()
    print("## Each GP member alone: Kendall tau, candidate vs default, paired by (dataset, seed); fit s of the member")
    print(format_table(head, rows_gp, align="rl" + "r" * (len(head) - 2)))
    print()
    print("## The fitted kernels: median amplitude, length scale (standardised columns), noise; % of fits with the "
          "length scale at its lower bound (nn/2), the noise at its floor (1e-6) / cap (half the targets' "
          "variance); median sd of the latent means")
    print(format_table(["n_train", "GP", "fits", "tau", "amp", "ls", "noise", "ls at min", "noise at min",
                        "noise at max", "sd(means)"], rows_kern, align="rl" + "r" * 9))
    rows = []
    for d in sorted({p.split("/")[0] for p in pairs}):
        row = [d]
        for tag in (BASE, *CANDIDATES):
            recs = [(p, doc[f"{p}/100"]) for p in pairs if p.startswith(d + "/") and f"{p}/100" in doc]
            recs = [(p, r) for p, r in recs if set(_mix(tag)) <= set(r["members"])]
            row.append(f"{np.mean([_tau_of_mix(r, _mix(tag), y_test[p]) for p, r in recs]):.3f}" if recs else "-")
        rows.append(row)
    print()
    print("## Predictor()'s mixture per dataset at n_train = 100: Kendall tau, mean over the seeds")
    print(format_table(["dataset", *(LABELS[t] for t in (BASE, *CANDIDATES))], rows))
    print()
    print("## Against the bar (at 100: mean diff >= +0.002 and Wilcoxon p < 0.1; at 20 and 50: mean diff >= -0.001; "
          "mixture fit s at 100 <= 2x)")
    for tag, g in gains.items():
        checks = {"gain at 100": 100 in g and g[100][0] >= 0.002 and g[100][1] < 0.1,
                  "no loss at 20": 20 in g and g[20][0] >= -0.001, "no loss at 50": 50 in g and g[50][0] >= -0.001,
                  "fit time": 100 in g and g[100][2] <= 2.0}
        verdict[tag] = all(checks.values())
        print(f"{LABELS[tag]}: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in checks.items())
              + f" -> {'PASSES' if verdict[tag] else 'fails'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
