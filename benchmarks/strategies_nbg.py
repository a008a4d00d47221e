"""Strategy quality on NAS-Bench-Graph: nasbook's strategies against Optuna's samplers.

One run evaluates, on the same tables and with the same seeds, nasbook's ``random``,
``evolution``, ``local`` and ``bo`` strategies and Optuna's ``TPESampler`` and ``RandomSampler``, all
through ``nasbook.Search`` (in-memory storage); the Optuna samplers through
``nasbook.strategies.OptunaSampler(sampler)``. The budget is the number of DISTINCT architectures
queried, as in nasbook, whose strategies never repeat one.

Optuna's view of the space (``GraphSpace.suggest``; documented in docs/benchmarks.md):

* ``link``: categorical over the index (0..8) of the nine canonical link patterns
  ``nasbook.space.LINKS`` (NAS-Bench-Graph's own ``link`` choices);
* ``op1``..``op4``: categorical over the dataset's op list (``task.space.ops``: nine ops, five on
  proteins).

A proposal is canonicalised with ``task.space.make(link=..., ops=...)``. An all-skip proposal
(not an architecture) is told as FAIL and does not count; a proposal of an architecture already
queried is told its cached value and does not count either; after ``--max-retries`` such
proposals in a row the strategy proposes an unseen neighbour of Optuna's last proposal itself
(Optuna is told its value), so every run terminates. Duplicates, failures and these fall-backs
are recorded.

Usage::

    python benchmarks/strategies_nbg.py --datasets all --seeds 20 --budget 100 --json FILE
    # bo alone with other parameters, the other methods' searches taken from an earlier run's JSON
    python benchmarks/strategies_nbg.py --methods bo --bo-params 'dict(regions=2)' --seeds 10 --merge OLD.json --json FILE
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

import numpy as np
from _common import describe_machine, describe_package, format_table, mean_std, metadata, pm, write_json

import nasbook
from nasbook.tasks import NasBenchGraph
from nasbook.tasks._nbg import NBG_DATASETS

NASBOOK_METHODS = ("random", "evolution", "local", "bo")
OPTUNA_METHODS = ("optuna-tpe", "optuna-random")
ALL_METHODS = NASBOOK_METHODS + OPTUNA_METHODS
#: a search "found the best" when its best valid score is within this of the table's maximum
#: (cora's table has two architectures whose 3-seed mean valid scores differ by ~1e-16)
HIT_TOL = 1e-9
CHECKPOINTS = (10, 25, 50, 100, 200, 500)


def _curve_points(best_so_far: list[float], vmax: float) -> dict[str, float]:
    """Valid regret (pp) after the checkpoint numbers of distinct queries."""
    return {str(c): 100.0 * (vmax - best_so_far[c - 1]) for c in CHECKPOINTS if c <= len(best_so_far)}


def run_nasbook(dataset: str, method: str | nasbook.strategies.BaseStrategy, seed: int, budget: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    task = NasBenchGraph(dataset)
    search = nasbook.Search(task, strategy=method, budget=budget, seed=seed, storage=":memory:").run(progress="none")
    wall = time.perf_counter() - t0
    best = search.best
    assert best is not None and best.value is not None
    ids = [t.arch.id for t in search.trials]
    if len(set(ids)) != len(ids):  # nasbook's contract: strategies never repeat an architecture
        raise AssertionError(f"nasbook {method} repeated an architecture on {dataset}, seed {seed}")
    values = [t.value if t.value is not None else -math.inf for t in search.trials]
    best_so_far = np.maximum.accumulate(np.asarray(values, dtype=float)).tolist()
    return {
        "best_arch": best.arch.id,
        "best_valid": float(best.value),
        "test": float(best.attrs[task.test_metric]),
        "n_distinct": len(set(ids)),
        "n_trials": len(ids),
        "n_duplicates": 0,
        "n_failed": sum(t.value is None for t in search.trials),
        "wall_s": wall,
        "best_so_far": best_so_far,
    }


def run_optuna(dataset: str, method: str, seed: int, budget: int, max_retries: int) -> dict[str, Any]:
    import optuna

    from nasbook.strategies import OptunaSampler

    if method == "optuna-tpe":
        sampler: optuna.samplers.BaseSampler = optuna.samplers.TPESampler(seed=seed)
    elif method == "optuna-random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:  # pragma: no cover
        raise ValueError(method)
    strategy = OptunaSampler(sampler, max_retries=max_retries)
    r = run_nasbook(dataset, strategy, seed, budget)
    study = strategy.study_
    n_failed = sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials)
    # n_trials: Optuna's proposals (the fall-backs were added to the study, not proposed by it)
    r.update(n_trials=len(study.trials) - strategy.n_fallbacks_, n_failed=n_failed, n_duplicates=strategy.n_rejected_ - n_failed,
             n_fallbacks=strategy.n_fallbacks_)
    return r


def _wilcoxon(a: list[float], b: list[float]) -> tuple[float, str]:
    """Two-sided paired Wilcoxon signed-rank p-value of a vs b (rounded to 1e-9 pp), with a note."""
    from scipy.stats import wilcoxon

    d = np.round(np.asarray(a) - np.asarray(b), 9)
    nz = int(np.count_nonzero(d))
    if nz == 0:
        return 1.0, "all ties"
    try:
        res = wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        p = float(res.pvalue)
    except ValueError as exc:  # pragma: no cover - scipy versions differ on degenerate input
        return math.nan, f"wilcoxon failed: {exc}"
    note = f"{len(d) - nz} tied pairs dropped" if nz < len(d) else ""
    return p, note


def _bo_versus(raw: dict[str, Any], summary: dict[str, Any], datasets: list[str], methods: list[str]) -> dict[str, Any]:
    """bo against evolution and Optuna TPE, dataset by dataset: mean valid regret and test score of the
    returned architecture (the issue's acceptance: lower regret than both on >= 8 of 9 datasets)."""
    rivals = [m for m in ("evolution", "optuna-tpe") if m in methods]
    if "bo" not in methods or not rivals:
        return {}
    out: dict[str, Any] = {}
    rows = []
    for d in datasets:
        sd = summary[d]
        reg = {m: sd[m]["valid_regret_pp_mean"] for m in ["bo", *rivals]}
        tst = {m: sd[m]["test_pct_mean"] for m in ["bo", *rivals]}
        ps = {m: _wilcoxon([r["valid_regret_pp"] for r in raw[d]["bo"]], [r["valid_regret_pp"] for r in raw[d][m]])[0]
              for m in rivals}
        beats = all(reg["bo"] < reg[m] for m in rivals)
        test_ok = all(tst["bo"] >= tst[m] for m in rivals)
        out[d] = {"valid_regret_pp": reg, "test_pct": tst, "wilcoxon_p_vs": ps, "bo_beats_all": beats,
                  "bo_test_at_least": test_ok}
        rows.append([d, *(f"{reg[m]:.3f}" for m in ["bo", *rivals]), *(f"{ps[m]:.3f}" for m in rivals),
                     "yes" if beats else "no", *(f"{tst[m]:.2f}" for m in ["bo", *rivals]), "yes" if test_ok else "no"])
    wins = sum(out[d]["bo_beats_all"] for d in datasets)
    test_wins = sum(out[d]["bo_test_at_least"] for d in datasets)
    out["(summary)"] = {"bo_beats_all_on": wins, "bo_test_at_least_on": test_wins, "n_datasets": len(datasets)}
    print()
    print(f"## bo vs {' and '.join(rivals)}: mean valid regret (pp), p = paired two-sided Wilcoxon against each; "
          "test % of the returned architecture")
    print(format_table(["dataset", "bo", *rivals, *(f"p vs {m}" for m in rivals), "bo lowest?", "test bo",
                        *(f"test {m}" for m in rivals), "test >=?"], rows))
    print(f"bo has the lowest mean regret on {wins} of {len(datasets)} datasets; its test score is at least theirs "
          f"on {test_wins} of {len(datasets)}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="all", help="'all' or a comma-separated list of " + ",".join(NBG_DATASETS))
    ap.add_argument("--methods", default=",".join(ALL_METHODS), help="comma-separated subset of " + ",".join(ALL_METHODS))
    ap.add_argument("--seeds", type=int, default=20, help="number of seeds, 0..N-1, the same for every method (default 20)")
    ap.add_argument("--budget", type=int, default=100, help="distinct architectures queried per search (default 100)")
    ap.add_argument("--max-retries", type=int, default=10,
                    help="Optuna proposals in a row that are seen or no architecture before OptunaSampler proposes "
                         "an unseen neighbour itself (default 10, the strategy's default)")
    ap.add_argument("--json", default=None, help="write raw per-seed numbers, summaries and metadata here")
    ap.add_argument("--bo-params", default="{}",
                    help="keyword arguments of BO for the method 'bo', as a Python dict, e.g. 'dict(regions=2)' (default: BO())")
    ap.add_argument("--merge", default=None,
                    help="an earlier run's JSON: every method in it that --methods leaves out is taken from it (its searches "
                         "on the same datasets and seeds, not rerun) and reported beside the methods run here")
    args = ap.parse_args(argv)

    datasets = list(NBG_DATASETS) if args.datasets == "all" else [d.strip() for d in args.datasets.split(",") if d.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for d in datasets:
        if d not in NBG_DATASETS:
            ap.error(f"unknown dataset {d!r}; choose from {', '.join(NBG_DATASETS)}")
    for m in methods:
        if m not in ALL_METHODS:
            ap.error(f"unknown method {m!r}; choose from {', '.join(ALL_METHODS)}")
    if args.seeds < 1 or args.budget < 1 or args.max_retries < 0:
        ap.error("--seeds and --budget must be >= 1, --max-retries >= 0")
    seeds = list(range(args.seeds))
    bo_params = eval(args.bo_params, {"dict": dict})  # noqa: S307 - a command-line option of a benchmark script
    if not isinstance(bo_params, dict):
        ap.error(f"--bo-params must be a dict of BO's keyword arguments; got {args.bo_params!r}")
    merged: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}  # dataset -> method -> seed -> record
    if args.merge:
        import json

        with open(args.merge) as fh:
            old = json.load(fh)
        extra = [m for m in next(iter(old["raw"].values())) if m not in methods]
        for d in datasets:
            for m in extra:
                by_seed = {int(r["seed"]): r for r in old["raw"].get(d, {}).get(m, [])}
                if not all(s in by_seed for s in seeds):
                    ap.error(f"--merge {args.merge} lacks {m} on {d} for seeds 0..{args.seeds - 1}")
                merged.setdefault(d, {})[m] = by_seed
        methods += extra

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    meta = metadata([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    print(f"# strategies_nbg: {', '.join(methods)} on {', '.join(datasets)}; seeds 0..{args.seeds - 1}; "
          f"budget {args.budget} distinct architectures")
    print(f"# {meta['date_utc']}  {describe_machine(meta)}")
    print(f"# {describe_package(meta)}")
    print(f"# {meta['command']}")

    # warm-up, not timed: table loads, key enumeration and the canonicalisation cache, once per process
    t0 = time.perf_counter()
    for d in datasets:
        task = NasBenchGraph(d)
        _ = task.table, task.space.keys
        nasbook.Search(task, strategy="random", budget=5, seed=0, storage=":memory:").run(progress="none")
    warmup_s = time.perf_counter() - t0

    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    t_all = time.perf_counter()
    for d in datasets:
        task = NasBenchGraph(d)
        _, vmax = task.optimum()
        raw[d] = {m: [] for m in methods}
        t_d = time.perf_counter()
        # interleave methods within each seed, so machine noise spreads evenly over methods
        for s in seeds:
            for m in methods:
                if m in merged.get(d, {}):
                    raw[d][m].append(merged[d][m][s])
                    continue
                if m == "bo" and bo_params:
                    r = run_nasbook(d, nasbook.strategies.BO(**bo_params), s, args.budget)
                elif m in NASBOOK_METHODS:
                    r = run_nasbook(d, m, s, args.budget)
                else:
                    r = run_optuna(d, m, s, args.budget, args.max_retries)
                bsf = r.pop("best_so_far")
                r["seed"] = s
                r["valid_regret_pp"] = 100.0 * (vmax - r["best_valid"])
                r["test_pct"] = 100.0 * r["test"]
                r["hit"] = bool(r["best_valid"] >= vmax - HIT_TOL)
                r["ms_per_trial"] = 1e3 * r["wall_s"] / args.budget
                r["regret_at"] = _curve_points(bsf, vmax)
                raw[d][m].append(r)
        summary[d] = {}
        rows = []
        for m in methods:
            rs = raw[d][m]
            reg = mean_std([r["valid_regret_pp"] for r in rs])
            tst = mean_std([r["test_pct"] for r in rs])
            ms = mean_std([r["ms_per_trial"] for r in rs])
            hit = sum(r["hit"] for r in rs) / len(rs)
            n_tr = sum(r["n_trials"] for r in rs)
            dup = sum(r["n_duplicates"] for r in rs) / n_tr
            fail = sum(r["n_failed"] for r in rs)
            short = sum(r["n_distinct"] < args.budget for r in rs)
            fallbacks = sum(r.get("n_fallbacks", 0) for r in rs)
            summary[d][m] = {
                "valid_regret_pp_mean": reg[0], "valid_regret_pp_std": reg[1],
                "test_pct_mean": tst[0], "test_pct_std": tst[1],
                "hit_fraction": hit,
                "ms_per_trial_mean": ms[0], "ms_per_trial_std": ms[1],
                "duplicate_fraction_of_proposals": dup, "failed_proposals": fail,
                "seeds_short_of_budget": short, "fallbacks": fallbacks,
            }
            rows.append([m, pm(*reg), pm(*tst), f"{hit:.2f}", pm(*ms, digits=2),
                         f"{100 * dup:.1f}%" if m in OPTUNA_METHODS else "-",
                         str(fail) if m in OPTUNA_METHODS else "-", str(fallbacks) if m in OPTUNA_METHODS else "-",
                         str(short)])
        print()
        print(f"## {d}  (table max valid {100 * vmax:.2f}%, {len(task.table.keys)} architectures; "
              f"{time.perf_counter() - t_d:.1f} s)")
        print(format_table(
            ["method", "valid regret pp", f"test {task.test_metric.split('_', 1)[1]} %", "hit", "ms/trial",
             "dup prop.", "fails", "fallbk", "short"],
            rows))
        sys.stdout.flush()
    total_s = time.perf_counter() - t_all

    # across datasets
    print()
    print(f"## Mean over {len(datasets)} datasets (mean of per-dataset means; {args.seeds} seeds, budget {args.budget})")
    rows = []
    overall: dict[str, dict[str, float]] = {}
    for m in methods:
        reg = [summary[d][m]["valid_regret_pp_mean"] for d in datasets]
        tst = [summary[d][m]["test_pct_mean"] for d in datasets]
        hit = [summary[d][m]["hit_fraction"] for d in datasets]
        ms = [summary[d][m]["ms_per_trial_mean"] for d in datasets]
        overall[m] = {"valid_regret_pp": sum(reg) / len(reg), "test_pct": sum(tst) / len(tst),
                      "hit_fraction": sum(hit) / len(hit), "ms_per_trial": sum(ms) / len(ms)}
        rows.append([m, f"{overall[m]['valid_regret_pp']:.2f}", f"{overall[m]['test_pct']:.2f}",
                     f"{overall[m]['hit_fraction']:.2f}", f"{overall[m]['ms_per_trial']:.2f}"])
    print(format_table(["method", "mean valid regret pp", "mean test %", "mean hit", "ms/trial"], rows))

    checkpoints = [c for c in CHECKPOINTS if c <= args.budget]
    anytime: dict[str, dict[str, float]] = {}
    for m in methods:
        anytime[m] = {}
        for c in checkpoints:
            per_d = [sum(r["regret_at"].get(str(c), r["valid_regret_pp"]) for r in raw[d][m]) / len(raw[d][m]) for d in datasets]
            anytime[m][str(c)] = sum(per_d) / len(per_d)
    print()
    print(f"## Anytime: mean valid regret (pp) over {len(datasets)} datasets after n distinct queries")
    print(format_table(["method", *(f"n={c}" for c in checkpoints)],
                       [[m, *(f"{anytime[m][str(c)]:.2f}" for c in checkpoints)] for m in methods]))

    comparison: dict[str, dict[str, Any]] = {}
    if "evolution" in methods and "optuna-tpe" in methods:
        print()
        print("## nasbook evolution vs Optuna TPE: mean valid regret (pp), paired over seeds, "
              "two-sided Wilcoxon signed-rank")
        rows = []
        for d in datasets:
            a = [r["valid_regret_pp"] for r in raw[d]["evolution"]]
            b = [r["valid_regret_pp"] for r in raw[d]["optuna-tpe"]]
            ma, mb = sum(a) / len(a), sum(b) / len(b)
            p, note = _wilcoxon(a, b)
            beats = ma < mb
            comparison[d] = {"evolution_mean": ma, "tpe_mean": mb, "evolution_beats_tpe": beats,
                             "wilcoxon_p_two_sided": p, "note": note}
            rows.append([d, f"{ma:.3f}", f"{mb:.3f}", "yes" if beats else "no", f"{p:.3f}", note])
        a_pool = [r["valid_regret_pp"] for d in datasets for r in raw[d]["evolution"]]
        b_pool = [r["valid_regret_pp"] for d in datasets for r in raw[d]["optuna-tpe"]]
        p_pool, note_pool = _wilcoxon(a_pool, b_pool)
        comparison["(pooled)"] = {"evolution_mean": sum(a_pool) / len(a_pool), "tpe_mean": sum(b_pool) / len(b_pool),
                                  "evolution_beats_tpe": sum(a_pool) < sum(b_pool), "wilcoxon_p_two_sided": p_pool,
                                  "note": f"{len(a_pool)} (dataset, seed) pairs; {note_pool}".rstrip("; ")}
        rows.append(["(pooled)", f"{sum(a_pool) / len(a_pool):.3f}", f"{sum(b_pool) / len(b_pool):.3f}",
                     "yes" if sum(a_pool) < sum(b_pool) else "no", f"{p_pool:.3f}", comparison["(pooled)"]["note"]])
        wins = sum(c["evolution_beats_tpe"] for k, c in comparison.items() if k in datasets)
        sig = sum(c["wilcoxon_p_two_sided"] < 0.05 for k, c in comparison.items() if k in datasets)
        print(format_table(["dataset", "evolution", "optuna-tpe", "evo better?", "p", "note"], rows,
                           align="lrrrrl"))
        print(f"evolution has the lower mean regret on {wins} of {len(datasets)} datasets; "
              f"p < 0.05 on {sig} of {len(datasets)}")

    bo_vs = _bo_versus(raw, summary, datasets, methods)

    print()
    print(f"# total {total_s:.1f} s (+ {warmup_s:.1f} s warm-up: table loads and key enumeration)")

    if args.json:
        write_json(args.json, {
            "benchmark": "strategies_nbg",
            "metadata": meta,
            "config": {
                "datasets": datasets, "methods": methods, "seeds": seeds, "budget": args.budget,
                "max_retries": args.max_retries, "hit_tolerance": HIT_TOL,
                "bo_params": args.bo_params, "merged_from": args.merge,
                "merged_methods": sorted({m for per in merged.values() for m in per}),
                "optuna_space": "link: categorical over index of the 9 canonical LINKS; op1..op4: categorical over task.space.ops",
                "optuna_samplers": {"optuna-tpe": "OptunaSampler(TPESampler(seed=seed)) (defaults)",
                                    "optuna-random": "OptunaSampler(RandomSampler(seed=seed))"},
                "nasbook_strategies": {m: repr(nasbook.strategies.BO(**bo_params) if m == "bo" and bo_params
                                               else nasbook.strategies.get_strategy(m))
                                       for m in methods if m in NASBOOK_METHODS and m not in merged.get(datasets[0], {})},
                "bo_default_predictor": repr(nasbook.strategies.get_strategy("bo")._build_predictor()),
                "budget_counts": "distinct architectures; Optuna duplicates are told their cached value and do not count; "
                                 "after max_retries in a row OptunaSampler proposes an unseen neighbour (a fallback)",
                "ms_per_trial": "wall time of the whole method run (task + search/study construction + loop) / budget",
            },
            "table_max_valid": {d: float(NasBenchGraph(d).optimum()[1]) for d in datasets},
            "raw": raw,
            "summary": summary,
            "overall": overall,
            "anytime_mean_regret_pp": anytime,
            "evolution_vs_tpe": comparison,
            "bo_versus": bo_vs,
            "total_s": total_s,
            "warmup_s": warmup_s,
        })
        print(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
