"""Multi-fidelity against full training on the shipped Digits learning-curve table.

One run searches :class:`~nasbook.tasks._table.DigitsTable` (``seed="mean"``: every curve is the
mean of the table's training seeds) with ``nasbook.Search`` (in-memory storage, local executor),
the same seeds for every method, under ``Budget(epochs=--budget)``:

* full training: ``RandomSearch`` and ``RegularizedEvolution``, every trial trained to the
  table's last epoch (no fidelity);
* ``ASHA``, ``SuccessiveHalving`` and ``Hyperband`` with ``base`` random and evolution,
  ``min_epochs=--min-epochs``, ``max_epochs`` = the table's epochs, ``eta=--eta``; promotions
  continue from the parent's checkpoint, so they cost only the extra epochs;
* ``MedianStopping`` (early stopping from the per-epoch reports) with ``base`` random and
  evolution, ``min_epochs=--min-epochs``, ``min_trials=3``: a trial below the median of the
  completed trials at the same epoch is stopped (PRUNED); its epochs count, it is never an
  incumbent.

Evolution (alone or as a base) uses ``population_size=5, sample_size=2``: the table holds about a
hundred architectures and a full-training search affords only a dozen or two trials, so the
default population of 30 would never get past its random start.

**What a method returns** (its incumbent, after every trial): for full training, the trial with
the best validation accuracy; for a multi-fidelity method, the best trial **at the highest rung
any trial has reached so far** (a 3-epoch score is not compared with a 9-epoch one). The naive
``search.best`` (best value whatever the epochs) is reported too.

**Regret** of an incumbent, in percentage points: the table's best final-epoch validation accuracy
minus the final-epoch validation accuracy of the incumbent's architecture (both seed means). So a
multi-fidelity incumbent that stopped at a low rung is scored by what its architecture reaches
when fully trained.

**Measures**, mean ± std over seeds: regret at equal epoch budgets (``--checkpoints``: the
incumbent among the trials whose cumulative epochs fit in the budget); epochs spent until the
incumbent's regret first falls to ``--targets`` pp (equal quality; runs that never get there within
``--budget`` are counted apart); final regret; trials; simulated training time (the table's
training time of the epochs run).

Usage::

    python benchmarks/multifidelity.py --seeds 20 --budget 200 --json bench-results/multifidelity.json
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from typing import Any

import numpy as np
from _common import describe_machine, describe_package, format_table, mean_std, metadata, pm, write_json

import nasbook
from nasbook.search import Budget, TrialState
from nasbook.strategies import (
    ASHA,
    BaseStrategy,
    Hyperband,
    MedianStopping,
    RandomSearch,
    RegularizedEvolution,
    SuccessiveHalving,
)
from nasbook.strategies._multifidelity import rung_epochs
from nasbook.tasks._table import DigitsTable

METHODS = (
    "full-random", "full-evolution",
    "asha-random", "asha-evolution",
    "sh-random", "sh-evolution",
    "hyperband-random", "hyperband-evolution",
    "median-random", "median-evolution",
)
POP, SAMPLE = 5, 2
MEDIAN_MIN_TRIALS = 3  # completed trials before the median stopping rule applies (Optuna's default is 5)


def make_strategy(method: str, max_epochs: int, min_epochs: int, eta: int) -> BaseStrategy:
    kind, base_name = method.split("-")
    base: BaseStrategy = RandomSearch() if base_name == "random" else RegularizedEvolution(population_size=POP, sample_size=SAMPLE)
    if kind == "full":
        return base
    if kind == "median":
        return MedianStopping(base=base, min_epochs=min_epochs, min_trials=MEDIAN_MIN_TRIALS)
    cls = {"asha": ASHA, "sh": SuccessiveHalving, "hyperband": Hyperband}[kind]
    return cls(base=base, min_epochs=min_epochs, max_epochs=max_epochs, eta=eta)  # type: ignore[abstract]


def run_one(task: DigitsTable, method: str, seed: int, budget: int, min_epochs: int, eta: int,
            final: np.ndarray, vmax: float, test: np.ndarray) -> dict[str, Any]:
    space = task.space
    strategy = make_strategy(method, task.max_epochs, min_epochs, eta)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = nasbook.Search(task, strategy=strategy, budget=Budget(epochs=budget), seed=seed, storage=":memory:").run(progress="none")
    wall = time.perf_counter() - t0
    exhausted = any("stopped early" in str(w.message) for w in caught)
    spent = 0
    sim_s = 0.0
    inc_epochs, inc_value, inc_row = -1, -math.inf, -1
    curve: list[tuple[int, float]] = []  # (cumulative epochs, incumbent regret pp) after each trial
    for t in search.trials:
        if t.state is TrialState.PRUNED:  # stopped early by the median rule: its epochs count, it is no incumbent
            spent += int(t.attrs["epochs_run"])
            sim_s += float(t.attrs["train_time_s"])
            continue
        if t.state is not TrialState.COMPLETE or t.value is None:
            continue
        spent += int(t.attrs["epochs_run"])
        sim_s += float(t.attrs["train_time_s"])
        e = int(t.epochs or 0)
        if e > inc_epochs or (e == inc_epochs and t.value > inc_value):
            inc_epochs, inc_value, inc_row = e, float(t.value), space.index(t.arch)
        curve.append((spent, 100.0 * (vmax - float(final[inc_row]))))
    if spent != search.epochs_spent:
        raise AssertionError(f"{method} seed {seed}: epochs_run sums to {spent}, search.epochs_spent is {search.epochs_spent}")
    naive = search.best
    assert naive is not None
    rungs = [int(t.epochs or 0) for t in search.trials]
    return {
        "method": method,
        "seed": seed,
        "epochs_spent": spent,
        "n_trials": len(search.trials),
        "n_distinct": len({t.arch.id for t in search.trials}),
        "n_full": sum(e == task.max_epochs for e in rungs),
        "n_pruned": sum(t.state is TrialState.PRUNED for t in search.trials),
        "final_regret": curve[-1][1],
        "final_epochs": inc_epochs,
        "final_test_accuracy": float(test[inc_row]),
        "naive_best_regret": 100.0 * (vmax - float(final[space.index(naive.arch)])),
        "naive_best_epochs": naive.epochs,
        "simulated_train_s": sim_s,
        "wall_s": wall,
        "exhausted": exhausted,
        "curve": curve,
    }


def pms(ms: Any, digits: int = 2) -> str:
    """``pm`` of a (mean, std) pair."""
    return pm(float(ms[0]), float(ms[1]), digits)


def regret_at(curve: list[tuple[int, float]], budget: int) -> float:
    """Incumbent regret among the trials that finished within ``budget`` epochs (nan if none)."""
    out = math.nan
    for spent, r in curve:
        if spent > budget:
            break
        out = r
    return out


def epochs_to(curve: list[tuple[int, float]], target: float) -> float:
    """Epochs spent when the incumbent's regret first was <= target (nan: never)."""
    for spent, r in curve:
        if r <= target + 1e-9:
            return float(spent)
    return math.nan


def table_stats(task: DigitsTable) -> dict[str, Any]:
    """Accuracy distribution and how well epoch-k ranks predict final ranks."""
    from scipy.stats import kendalltau, spearmanr

    table = task.table
    e = table.n_epochs
    val = task.curve("val_accuracy")
    final = val[:, -1]
    q = np.percentile(final, [0, 10, 25, 50, 75, 90, 100])
    out: dict[str, Any] = {
        "n_archs": table.n_archs, "n_seeds": len(table.seeds), "epochs": e,
        "final_val_accuracy_percentiles": dict(zip(["min", "p10", "p25", "median", "p75", "p90", "max"], q.round(4).tolist())),
        "final_val_accuracy_mean_std": [float(final.mean()), float(final.std(ddof=1))],
        "test_accuracy_of_best_val": float(task._per_arch(table.test_accuracy)[int(np.argmax(final))]),
        "val_accuracy_mean_by_epoch": val.mean(axis=0).round(4).tolist(),
        "n_within_1pp_of_best": int((final >= final.max() - 0.01).sum()),
        "spearman_epoch_k_vs_final": {}, "kendall_epoch_k_vs_final": {},
    }
    for k in range(1, e):
        out["spearman_epoch_k_vs_final"][k] = float(spearmanr(val[:, k - 1], final).statistic)
        out["kendall_epoch_k_vs_final"][k] = float(kendalltau(val[:, k - 1], final).statistic)
    top = final >= np.quantile(final, 0.9)
    out["top10pct_kept_by_top_third_at_epoch_k"] = {
        k: float((val[top, k - 1] >= np.quantile(val[:, k - 1], 2 / 3)).mean()) for k in range(1, e)
    }
    if len(table.seeds) >= 2:
        a, b = table.curves["val_accuracy"][:, 0, -1], table.curves["val_accuracy"][:, 1, -1]
        out["spearman_seed0_vs_seed1_final"] = float(spearmanr(a, b).statistic)
        out["mean_abs_seed_diff_final_pp"] = float(100 * np.abs(a - b).mean())
        te = table.test_accuracy.astype(np.float64)
        out["spearman_val_vs_test_final"] = float(spearmanr(final, te.mean(axis=1)).statistic)
    tt = table.train_time_s.astype(np.float64)
    out["train_time_s_per_epoch_median"] = float(np.median(tt / e))
    out["n_params_range"] = [int(table.n_params.min()), int(table.n_params.max())]
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--budget", type=int, default=200, help="Budget(epochs=...) of every search")
    p.add_argument("--min-epochs", type=int, default=1)
    p.add_argument("--eta", type=int, default=3)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--checkpoints", default="27,54,90,135,200", help="epoch budgets for the equal-budget table")
    p.add_argument("--targets", default="0,0.5,1,2", help="regrets (pp) for the equal-quality table")
    p.add_argument("--table", default=None, help="prefix of another table (default: the shipped one)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    meta = metadata(sys.argv if argv is None else ["benchmarks/multifidelity.py", *argv])
    task = DigitsTable(seed="mean", path=args.table)
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise SystemExit(f"unknown method(s) {unknown}; choose from {list(METHODS)}")
    checkpoints = [int(c) for c in args.checkpoints.split(",") if c and int(c) <= args.budget]
    targets = [float(x) for x in args.targets.split(",") if x]
    final = task.values()
    best_arch, vmax = task.optimum()
    test = task._per_arch(task.table.test_accuracy)
    random_regret = 100.0 * (vmax - final)
    stats = table_stats(task)
    rungs = rung_epochs(args.min_epochs, task.max_epochs, args.eta)
    print(f"DigitsTable: {task.table.n_archs} architectures x {len(task.table.seeds)} seeds x {task.max_epochs} epochs; "
          f"best final val accuracy {100 * vmax:.2f}% ({best_arch.id}); rungs {rungs}")
    print(f"regret of one uniformly random architecture: mean {random_regret.mean():.2f} pp, median "
          f"{np.median(random_regret):.2f} pp; best test accuracy in the table {100 * test.max():.2f}%, "
          f"mean {100 * test.mean():.2f}%")
    print(f"{describe_machine(meta)}\n{describe_package(meta)}\n")
    print("## Table statistics (seed-mean curves)")
    pct = stats["final_val_accuracy_percentiles"]
    print("final val accuracy (%): " + ", ".join(f"{k} {100 * v:.2f}" for k, v in pct.items()))
    print(format_table(["epoch k", "mean val acc %", "Spearman(k, final)", "Kendall(k, final)", "top-10% kept by top third"], [
        [k, f"{100 * stats['val_accuracy_mean_by_epoch'][k - 1]:.2f}", f"{stats['spearman_epoch_k_vs_final'][k]:.3f}",
         f"{stats['kendall_epoch_k_vs_final'][k]:.3f}", f"{stats['top10pct_kept_by_top_third_at_epoch_k'][k]:.2f}"]
        for k in range(1, task.max_epochs)
    ]))
    if "spearman_seed0_vs_seed1_final" in stats:
        print(f"seed 0 vs seed 1 final val accuracy: Spearman {stats['spearman_seed0_vs_seed1_final']:.3f}, "
              f"mean |diff| {stats['mean_abs_seed_diff_final_pp']:.2f} pp; val vs test (final): Spearman "
              f"{stats['spearman_val_vs_test_final']:.3f}")
    print()

    t0 = time.perf_counter()
    runs: list[dict[str, Any]] = []
    for method in methods:
        for seed in range(args.seeds):
            runs.append(run_one(task, method, seed, args.budget, args.min_epochs, args.eta, final, vmax, test))
    total_wall = time.perf_counter() - t0

    summary: dict[str, Any] = {}
    for method in methods:
        rs = [r for r in runs if r["method"] == method]
        s: dict[str, Any] = {
            "final_regret": mean_std([r["final_regret"] for r in rs]),
            "naive_best_regret": mean_std([r["naive_best_regret"] for r in rs]),
            "final_test_accuracy_pct": mean_std([100 * r["final_test_accuracy"] for r in rs]),
            "epochs_spent": mean_std([r["epochs_spent"] for r in rs]),
            "n_trials": mean_std([r["n_trials"] for r in rs]),
            "n_distinct": mean_std([r["n_distinct"] for r in rs]),
            "n_full": mean_std([r["n_full"] for r in rs]),
            "simulated_train_min": mean_std([r["simulated_train_s"] / 60 for r in rs]),
            "n_exhausted": sum(r["exhausted"] for r in rs),
            "found_best": sum(r["final_regret"] <= 1e-9 for r in rs),
            "regret_at": {}, "epochs_to": {},
        }
        for c in checkpoints:
            vals = [regret_at(r["curve"], c) for r in rs]
            ok = [v for v in vals if not math.isnan(v)]
            s["regret_at"][c] = {"mean_std": mean_std(ok), "n_with_incumbent": len(ok)}
        for x in targets:
            vals = [epochs_to(r["curve"], x) for r in rs]
            ok = [v for v in vals if not math.isnan(v)]
            s["epochs_to"][x] = {"mean_std": mean_std(ok), "n_reached": len(ok),
                                 "median_all": float(np.median([v if not math.isnan(v) else math.inf for v in vals]))}
        summary[method] = s

    n = args.seeds
    print(f"## Equal epoch budget: incumbent regret (pp) after b epochs, mean ± std over {n} seeds")
    print(format_table(["method", *[f"b={c}" for c in checkpoints], "final", "naive best", "found best", "test acc %"], [
        [m, *[pm(*summary[m]["regret_at"][c]["mean_std"]) + ("" if summary[m]["regret_at"][c]["n_with_incumbent"] == n
                                                              else f" ({summary[m]['regret_at'][c]['n_with_incumbent']})")
              for c in checkpoints],
         pms(summary[m]["final_regret"]), pms(summary[m]["naive_best_regret"]), f"{summary[m]['found_best']}/{n}",
         pms(summary[m]["final_test_accuracy_pct"])]
        for m in methods
    ]))
    print("(n): seeds with an incumbent by then (a full-training trial costs the table's epochs)\n")
    print(f"## Equal quality: epochs until the incumbent's regret <= x pp: median over all {n} seeds [never within the "
          f"budget {args.budget} = inf]; mean ± std over the (k) seeds that got there")

    def quality_cell(e: dict[str, Any]) -> str:
        if not e["n_reached"]:
            return f"never (0/{n})"
        med = e["median_all"]
        return f"{'inf' if math.isinf(med) else f'{med:.0f}'}; {pms(e['mean_std'], 0)} ({e['n_reached']})"

    print(format_table(["method", *[f"x={x:g}" for x in targets]], [
        [m, *[quality_cell(summary[m]["epochs_to"][x]) for x in targets]] for m in methods
    ]))
    print("\n## Cost")
    print(format_table(["method", "epochs spent", "trials", "distinct archs", "full-epoch trials", "simulated train (min)", "ran out of archs"], [
        [m, pms(summary[m]["epochs_spent"], 0), pms(summary[m]["n_trials"], 1),
         pms(summary[m]["n_distinct"], 1), pms(summary[m]["n_full"], 1),
         pms(summary[m]["simulated_train_min"], 1), f"{summary[m]['n_exhausted']}/{n}"]
        for m in methods
    ]))
    print(f"\n{len(runs)} searches in {total_wall:.1f} s")
    if args.json:
        write_json(args.json, {
            "meta": meta,
            "config": {"seeds": n, "budget_epochs": args.budget, "min_epochs": args.min_epochs, "eta": args.eta,
                       "rungs": rungs, "methods": methods, "evolution": {"population_size": POP, "sample_size": SAMPLE},
                       "checkpoints": checkpoints, "targets": targets, "task": task.to_config(),
                       "table_build": task.table.meta.get("build", {})},
            "table": {"best_arch": best_arch.id, "best_final_val": vmax,
                      "random_arch_regret_pp_mean_median": [float(random_regret.mean()), float(np.median(random_regret))],
                      **stats},
            "summary": summary,
            "runs": runs,
            "wall_s": total_wall,
        })
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
