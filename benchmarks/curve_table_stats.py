"""Figures of a learning-curve table: accuracy range, seed agreement, early-epoch rankings, size correlations.

Usage::

    python benchmarks/curve_table_stats.py --table nasbook/_data/mnist1d_chains --json bench-results/mnist1d_stats.json
    python benchmarks/curve_table_stats.py --table nasbook/_data/digits_cells

Prints and writes (``--json``): the number of architectures, seeds and epochs; the range of the
final val accuracy (seed mean) and of the test accuracy; Kendall tau between the two training
seeds' final val accuracy (the noise ceiling of any ranking); Kendall tau of the val accuracy after
epoch 1, 3, 25% and 50% of the epochs against the final one (both seed means); Spearman of
#params, FLOPs and (when the table has it) latency with the final accuracy; the accuracy by number
of conv layers for ``ConvDenseSpace`` tables; the build's wall time and the files' sizes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau, spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_json  # noqa: E402

from nasbook.tasks import load_curve_table  # noqa: E402


def stats(prefix: Path) -> dict[str, Any]:
    table = load_curve_table(prefix.with_suffix(".npz"), prefix.with_suffix(".json"))
    va = table.curves["val_accuracy"].astype(np.float64)
    n, k, e = va.shape
    final = va[:, :, -1].mean(axis=1)
    out: dict[str, Any] = {
        "table": str(prefix), "n_archs": n, "n_seeds": k, "n_epochs": e,
        "final_val_accuracy": {"min": final.min(), "median": float(np.median(final)), "max": final.max()},
        "test_accuracy": {"min": table.test_accuracy.mean(axis=1).min(), "max": table.test_accuracy.mean(axis=1).max()},
        "seed_tau_final": (float(np.mean([kendalltau(va[:, a, -1], va[:, b, -1]).statistic
                                          for a in range(k) for b in range(a + 1, k)])) if k > 1 else None),
        "seed_mean_abs_diff_pp": float(np.abs(va[:, 0, -1] - va[:, 1, -1]).mean() * 100) if k > 1 else None,
    }
    early: dict[str, float] = {}
    for label, epoch in (("epoch 1", 1), ("epoch 3", 3), ("25%", max(1, round(e * 0.25))), ("50%", max(1, round(e * 0.5)))):
        early[label if label.startswith("epoch") else f"{label} (epoch {epoch})"] = float(kendalltau(va[:, :, epoch - 1].mean(axis=1), final).statistic)
    out["early_tau_vs_final"] = early
    size = {"n_params": table.n_params, "flops": table.flops}
    if table.latency_ms is not None:
        size["latency_ms"] = table.latency_ms
        out["latency_ms"] = {"min": float(table.latency_ms.min()), "median": float(np.median(table.latency_ms)),
                             "max": float(table.latency_ms.max())}
    out["spearman_vs_final"] = {name: float(spearmanr(v, final).statistic) for name, v in size.items()}
    out["n_params"] = {"min": int(table.n_params.min()), "median": float(np.median(table.n_params)), "max": int(table.n_params.max())}
    specs = table.meta.get("specs", [])
    if specs and "conv" in specs[0]:
        n_conv = np.array([len(s["conv"]) for s in specs])
        n_dense = np.array([len(s["dense"]) for s in specs])
        out["by_n_conv"] = {int(c): {"n": int((n_conv == c).sum()), "min": final[n_conv == c].min(),
                                     "median": float(np.median(final[n_conv == c])), "max": final[n_conv == c].max()}
                            for c in np.unique(n_conv)}
        linear = (n_conv == 0) & (n_dense == 0)
        if linear.any():
            out["logistic_regression_final"] = float(final[linear].mean())
    out["build_wall_s"] = table.meta.get("build", {}).get("wall_s")
    out["bytes"] = {"npz": prefix.with_suffix(".npz").stat().st_size, "json": prefix.with_suffix(".json").stat().st_size}
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--table", default="nasbook/_data/mnist1d_chains", help="prefix of the .npz/.json pair")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    res = json.loads(json.dumps(stats(Path(args.table)), default=float))  # numpy scalars as plain floats
    print(json.dumps(res, indent=1))
    if args.json:
        write_json(args.json, res)


if __name__ == "__main__":
    main()
