"""Portfolio on NAS-Bench-Graph: ``strategies.Portfolio`` against each of its arms alone.

One run evaluates, on the same tables and with the same seeds, ``Portfolio(arms)`` and every arm
alone (default arms: random, evolution, local, bo; each with its defaults), through
``nasbook.Search`` (in-memory storage), budget = distinct architectures queried. Per dataset: the
mean valid regret (pp) at 25/50/100 queries and the test score of the returned architecture, and the
Portfolio's share of picks per arm.

Goals (issue 11): the Portfolio is never worse than its worst arm on any dataset, and its mean valid
regret over the nine datasets is within 0.05 pp of its best single arm's, or better.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/portfolio_nbg.py --seeds 10 --json FILE
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np
from _common import describe_machine, describe_package, format_table, mean_std, metadata, write_json

import nasbook
from nasbook.strategies import Portfolio
from nasbook.tasks import NasBenchGraph
from nasbook.tasks._nbg import NBG_DATASETS

ARMS = ("random", "evolution", "local", "bo")
CHECKPOINTS = (10, 20, 25, 30, 50, 100)
#: the issue's margin: mean regret within this of the best single arm
MARGIN_PP = 0.05


def run_one(dataset: str, strategy: Any, seed: int, budget: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    task = NasBenchGraph(dataset)
    _, vmax = task.optimum()
    search = nasbook.Search(task, strategy=strategy, budget=budget, seed=seed, storage=":memory:").run(progress="none")
    best = search.best
    assert best is not None and best.value is not None
    values = np.asarray([t.value if t.value is not None else -np.inf for t in search.trials], dtype=float)
    best_so_far = np.maximum.accumulate(values)
    out: dict[str, Any] = {
        "valid_regret_pp": 100.0 * (vmax - float(best.value)),
        "test_pct": 100.0 * float(best.attrs[task.test_metric]),
        "regret_at": {str(c): 100.0 * (vmax - float(best_so_far[c - 1])) for c in CHECKPOINTS if c <= len(values)},
        "best_arch": str(best.arch.id),
        "n_trials": len(values),
        "wall_s": time.perf_counter() - t0,
    }
    if isinstance(search.strategy, Portfolio):
        out["shares"] = search.strategy.shares_
        out["history"] = list(search.strategy.history_)
        arms = [t.attrs.get("portfolio_arm") for t in search.trials]
        assert arms == out["history"], "trial attrs portfolio_arm disagree with the choice history"
    return out


def _summarise(rows: dict[str, list[dict[str, Any]]], methods: list[str], budget: int) -> dict[str, Any]:
    sd: dict[str, Any] = {}
    for m in methods:
        rs = rows[m]
        sd[m] = {"valid_regret_pp_mean": mean_std([r["valid_regret_pp"] for r in rs])[0],
                 "test_pct_mean": mean_std([r["test_pct"] for r in rs])[0],
                 "regret_at": {str(c): float(np.mean([r["regret_at"][str(c)] for r in rs])) for c in CHECKPOINTS
                               if c <= budget and all(str(c) in r["regret_at"] for r in rs)},
                 "wall_s_mean": float(np.mean([r["wall_s"] for r in rs])), "n_seeds": len(rs)}
    for m in methods:
        if m.startswith("portfolio"):
            sd[m]["shares"] = {a: float(np.mean([r["shares"][a] for r in rows[m]])) for a in rows[m][0]["shares"]}
    return sd


def _report(summary: dict[str, Any], datasets: list[str], methods: list[str], arms: list[str], budget: int,
            n_seeds: int, no_arms: bool = False) -> tuple[dict[str, float], dict[str, float], dict[str, float], dict[str, Any]]:
    """Print the tables of a (possibly partial) run; return the means and the goals (per Portfolio variant)."""
    pfs = [m for m in methods if m.startswith("portfolio")]
    names = list(summary[datasets[0]][pfs[0]]["shares"])
    rows = []
    for d in datasets:
        sd = summary[d]
        reg = {m: sd[m]["valid_regret_pp_mean"] for m in methods}
        row = [d, *(f"{reg[m]:.3f}" for m in methods)]
        if not no_arms:
            worst = max(reg[m] for m in arms)
            row.append(" ".join("yes" if reg[p] <= worst else "NO" for p in pfs))
        row += [f"{sd[pfs[0]]['test_pct_mean']:.2f}"]
        rows.append(row)
    mean_reg = {m: float(np.mean([summary[d][m]["valid_regret_pp_mean"] for d in datasets])) for m in methods}
    mean_test = {m: float(np.mean([summary[d][m]["test_pct_mean"] for d in datasets])) for m in methods}
    mean_shares = {p: {a: float(np.mean([summary[d][p]["shares"][a] for d in datasets])) for a in names} for p in pfs}
    rows.append(["(mean)", *(f"{mean_reg[m]:.3f}" for m in methods), *([""] if not no_arms else []),
                 f"{mean_test[pfs[0]]:.2f}"])
    print()
    print(f"## Mean valid regret (pp) at {budget} queries, {n_seeds} seeds")
    heads = ["dataset", *methods, *([] if no_arms else [f"<= worst arm? ({', '.join(pfs)})"]), "test % pf"]
    print(format_table(heads, rows))
    print()
    print("## The Portfolio's picks per arm (% of asks), mean over seeds")
    print(format_table(["dataset", "variant", *(f"% {a}" for a in names)],
                       [[d, p, *(f"{100 * summary[d][p]['shares'][a]:.0f}" for a in names)] for d in datasets for p in pfs]
                       + [["(mean)", p, *(f"{100 * mean_shares[p][a]:.0f}" for a in names)] for p in pfs]))
    print()
    print("## Anytime: mean valid regret (pp) over the datasets after n distinct queries")
    cps = [c for c in CHECKPOINTS if c <= budget and str(c) in summary[datasets[0]][methods[0]]["regret_at"]]  # older JSONs: fewer
    print(format_table(["method", *(f"n={c}" for c in cps), "test %", "s/search"],
                       [[m, *(f"{np.mean([summary[d][m]['regret_at'][str(c)] for d in datasets]):.3f}" for c in cps),
                         f"{mean_test[m]:.2f}", f"{np.mean([summary[d][m]['wall_s_mean'] for d in datasets]):.2f}"]
                        for m in methods]))
    goals: dict[str, Any] = {}
    if not no_arms:
        best_arm = min(arms, key=lambda m: mean_reg[m])
        print()
        for p in pfs:
            never_worse = [d for d in datasets if summary[d][p]["valid_regret_pp_mean"]
                           <= max(summary[d][m]["valid_regret_pp_mean"] for m in arms)]
            within = mean_reg[p] <= mean_reg[best_arm] + MARGIN_PP
            goals[p] = {"never_worse_than_worst_arm_on": len(never_worse), "n_datasets": len(datasets),
                        "best_arm": best_arm, "best_arm_mean_pp": mean_reg[best_arm], "portfolio_mean_pp": mean_reg[p],
                        "within_margin": within}
            print(f"{p}: never worse than its worst arm on {len(never_worse)} of {len(datasets)} datasets "
                  f"({'met' if len(never_worse) == len(datasets) else 'MISSED'}); mean regret {mean_reg[p]:.3f} pp "
                  f"vs best arm {best_arm} {mean_reg[best_arm]:.3f} pp: within {MARGIN_PP} pp or better "
                  f"{'met' if within else 'MISSED'}")
    return mean_reg, mean_test, mean_shares, goals  # type: ignore[return-value]


def _paired(raw: dict[str, dict[str, list[dict[str, Any]]]], datasets: list[str], pf: str, arm: str) -> dict[str, Any]:
    """``pf`` against ``arm`` over the (dataset, seed) searches both ran (seed order): lower / higher / tied,
    the mean difference of valid regret (pp), a two-sided Wilcoxon signed-rank p (ties dropped), and how
    many searches gave every pick to ``arm`` and, of those, how many ran ``arm``'s own trial sequence
    (same best architecture and best-so-far curve as ``arm`` alone)."""
    from scipy.stats import wilcoxon

    diffs, only, same, mixed = [], 0, 0, []
    for d in datasets:
        for r, a in zip(raw[d][pf], raw[d][arm]):
            diff = r["valid_regret_pp"] - a["valid_regret_pp"]
            diffs.append(diff)
            if set(r["history"]) == {arm}:
                only += 1
                same += (r["best_arch"] == str(a["best_arch"]) and
                         all(abs(r["regret_at"][c] - a["regret_at"][c]) < 1e-9 for c in r["regret_at"]))
            else:
                mixed.append(diff)
    x = np.asarray(diffs)
    nz = x[np.abs(x) > 1e-9]
    p = float(wilcoxon(nz, alternative="two-sided").pvalue) if len(nz) else float("nan")
    return {"arm": arm, "n": len(x), "lower": int((x < -1e-9).sum()), "higher": int((x > 1e-9).sum()),
            "tied": int((np.abs(x) <= 1e-9).sum()), "mean_diff_pp": float(x.mean()) if len(x) else float("nan"),
            "sd_pp": float(x.std(ddof=1)) if len(x) > 1 else float("nan"), "wilcoxon_p": p,
            "all_picks_on_arm": only, "identical_to_arm": same, "n_mixed": len(mixed),
            "mean_diff_mixed_pp": float(np.mean(mixed)) if mixed else float("nan")}


def _print_paired(raw: dict[str, dict[str, list[dict[str, Any]]]], datasets: list[str], pfs: list[str],
                  arm: str) -> dict[str, Any]:
    out = {}
    for p in pfs:
        rows = []
        for d in datasets:
            sd = _paired(raw, [d], p, arm)
            rows.append([d, f"{sd['mean_diff_pp']:+.3f}", sd["lower"], sd["higher"], sd["tied"], sd["all_picks_on_arm"]])
        print(format_table(["dataset", f"{p} - {arm} (pp)", "lower", "higher", "tied", f"every pick {arm}"], rows))
        st = out[p] = _paired(raw, datasets, p, arm)
        print(f"{p} vs {arm} alone, paired over {st['n']} searches: lower on {st['lower']}, higher on {st['higher']}, "
              f"tied on {st['tied']}; mean difference {st['mean_diff_pp']:+.3f} pp (sd {st['sd_pp']:.3f}), two-sided "
              f"Wilcoxon p = {st['wilcoxon_p']:.3g}; every pick on {arm} in {st['all_picks_on_arm']} searches "
              f"({st['identical_to_arm']} of them {arm}'s own trials exactly); the other {st['n_mixed']}: mean "
              f"difference {st['mean_diff_mixed_pp']:+.3f} pp")
    return out


def _load_arms(path: str, arms: list[str], datasets: list[str], seeds: list[int]) -> dict[str, dict[str, dict[int, Any]]]:
    """Single-arm results of ``benchmarks/strategies_nbg.py`` (same seeds and budget): {dataset: {arm: {seed: row}}}."""
    import json

    with open(path) as f:
        raw = json.load(f)["raw"]
    out: dict[str, dict[str, dict[int, Any]]] = {}
    for d in raw:
        out[d] = {a: {int(r["seed"]): r for r in raw[d][a]} for a in arms if a in raw[d]}
    missing = [(d, a, s) for d in datasets for a in arms for s in seeds if s not in out.get(d, {}).get(a, {})]
    if missing:
        raise SystemExit(f"--arms-from {path}: no result for (dataset, arm, seed) {missing[:5]}...")
    return out


def _verify_arms(reuse: dict[str, dict[str, dict[int, Any]]], pairs: list[tuple[str, int]], arms: list[str],
                 budget: int) -> list[str]:
    """Rerun every arm on ``pairs`` now; the best-so-far curve (regret at every checkpoint) and the best
    architecture must equal the stored ones (table quality is deterministic given the seed)."""
    lines = []
    for d, seed in pairs:
        for a in arms:
            now = run_one(d, a, seed, budget)
            old = reuse[d][a][seed]
            same = (now["best_arch"] == str(old["best_arch"]) and
                    all(abs(now["regret_at"][c] - old["regret_at"][c]) < 1e-9 for c in now["regret_at"]))
            lines.append(f"{d} seed {seed} {a}: best {now['best_arch']} vs stored {old['best_arch']}, regret_at "
                         f"{now['regret_at']} vs {old['regret_at']}: {'identical' if same else 'DIFFERENT'}")
            print("  verify " + lines[-1], flush=True)
            if not same:
                raise SystemExit("stored single-arm results differ from a rerun; do not reuse them")
    return lines


def _lodo_prior(reuse: dict[str, dict[str, dict[int, Any]]], left_out: str, arms: list[str]) -> dict[str, float]:
    """portfolio_prior over the stored single-arm searches of every dataset but ``left_out``: which arm's
    search found the best architecture on each (ties share the win), one pseudo-win per dataset."""
    import pandas as pd

    from nasbook.strategies import portfolio_prior

    rows = [{"task": d, "search": f"{a}-{s}", "strategy": a, "value": r["best_valid"], "mode": "max"}
            for d in reuse if d != left_out for a in arms for s, r in reuse[d][a].items()]
    return portfolio_prior(pd.DataFrame(rows), arms=arms)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="all", help="'all' or a comma-separated list of " + ",".join(NBG_DATASETS))
    ap.add_argument("--arms", default=",".join(ARMS), help="comma-separated strategy names (default random,evolution,local,bo)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1, the same for every method (default 10)")
    ap.add_argument("--budget", type=int, default=100, help="distinct architectures per search (default 100)")
    ap.add_argument("--bandit", default="hedge", help="Portfolio(bandit=...): hedge, ts or ucb (default hedge, as Portfolio())")
    ap.add_argument("--discount", type=float, default=None, help="Portfolio(discount=...) (default: the class default)")
    ap.add_argument("--reward", default=None, help="Portfolio(reward=...) (default: the class default)")
    ap.add_argument("--exploration", type=float, default=None, help="Portfolio(exploration=...) (default: the class default)")
    ap.add_argument("--eta", type=float, default=None, help="Portfolio(eta=...), bandit 'hedge' (default: the class default)")
    ap.add_argument("--hedge-distinct", default=None, choices=["yes", "no"], help="Portfolio(hedge_distinct=...)")
    ap.add_argument("--hedge-reward", default=None, choices=["told", "round"], help="Portfolio(hedge_reward=...)")
    ap.add_argument("--prior", default=None, help="a fixed Portfolio(prior=...) for probes, e.g. bo=8")
    ap.add_argument("--discount-prior", default=None, choices=["yes", "no"], help="Portfolio(discount_prior=...)")
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first..first+N-1 (probes: 100 and up)")
    ap.add_argument("--arms-from", default=None,
                    help="reuse the single-arm results of this strategies_nbg.py JSON (same seeds, budget) after --verify")
    ap.add_argument("--verify", default="cora:0,physics:3,pubmed:9",
                    help="dataset:seed pairs on which every arm is rerun and must match --arms-from exactly")
    ap.add_argument("--lodo-prior", action="store_true",
                    help="also run 'portfolio-lodo': prior = which arm won each of the other datasets (needs --arms-from)")
    ap.add_argument("--lodo-only", action="store_true",
                    help="with --lodo-prior: run 'portfolio-lodo' only (the cold Portfolio's figures are known)")
    ap.add_argument("--no-arms", action="store_true", help="run the Portfolio only (tuning; no goals checked)")
    ap.add_argument("--json", default=None, help="write raw per-seed numbers, summaries and metadata here")
    ap.add_argument("--report", default=None, help="print the tables of a JSON written by an earlier (maybe partial) run")
    args = ap.parse_args(argv)
    if args.report:
        import json

        with open(args.report) as f:
            done = json.load(f)
        a = done["args"]
        summ = done["summary"]
        ds = list(summ)
        ms = list(summ[ds[0]])
        n = min(summ[d][next(m for m in ms if m.startswith("portfolio"))]["n_seeds"] for d in ds)
        print(f"# {done['meta']['command']}  ({n} seeds done{', partial' if done.get('partial') else ''})")
        arms_done = [m for m in ms if not m.startswith("portfolio")]
        _, _, _, goals = _report(summ, ds, ms, arms_done, a["budget"], n, a["no_arms"])
        if not a["no_arms"]:
            best = next(iter(goals.values()))["best_arm"]
            _print_paired(done["raw"], ds, [m for m in ms if m.startswith("portfolio")], best)
        return 0

    datasets = list(NBG_DATASETS) if args.datasets == "all" else [d.strip() for d in args.datasets.split(",") if d.strip()]
    for d in datasets:
        if d not in NBG_DATASETS:
            ap.error(f"unknown dataset {d!r}; choose from {', '.join(NBG_DATASETS)}")
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    if args.seeds < 1 or args.budget < 1 or not arms:
        ap.error("--seeds and --budget must be >= 1 and --arms non-empty")
    kw: dict[str, Any] = {"bandit": args.bandit}
    for key in ("discount", "reward", "exploration", "eta"):
        if getattr(args, key) is not None:
            kw[key] = getattr(args, key)
    if args.prior:
        kw["prior"] = {k: float(v) for k, v in (p.split("=") for p in args.prior.split(","))}
    if args.discount_prior is not None:
        kw["discount_prior"] = args.discount_prior == "yes"
    if args.hedge_distinct is not None:
        kw["hedge_distinct"] = args.hedge_distinct == "yes"
    if args.hedge_reward is not None:
        kw["hedge_reward"] = args.hedge_reward
    portfolio = Portfolio(arms, **kw)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    if args.lodo_prior and not args.arms_from:
        ap.error("--lodo-prior needs --arms-from (the other datasets' single-arm results)")
    reuse = _load_arms(args.arms_from, arms, datasets, seeds) if args.arms_from else None
    pfs = (["portfolio-lodo"] if args.lodo_prior and args.lodo_only else
           ["portfolio"] + (["portfolio-lodo"] if args.lodo_prior else []))
    methods = pfs + ([] if args.no_arms else arms)
    meta = metadata([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    print(f"# portfolio_nbg: {portfolio!r} vs {', '.join(arms)} on {', '.join(datasets)}; seeds {seeds[0]}..{seeds[-1]}; "
          f"budget {args.budget}", flush=True)
    print(f"# {meta['date_utc']}  {describe_machine(meta)}")
    print(f"# {describe_package(meta)}")
    print(f"# {meta['command']}", flush=True)
    verified: list[str] = []
    if reuse is not None:
        pairs = [(p.split(":")[0], int(p.split(":")[1])) for p in args.verify.split(",") if p.strip()]
        verified = _verify_arms(reuse, pairs, arms, args.budget)
        print(f"# single-arm results reused from {args.arms_from} (rerun identical on {len(pairs)} dataset/seed pairs)")
    priors = {d: _lodo_prior(reuse, d, arms) for d in datasets} if args.lodo_prior and reuse is not None else {}
    for d, pr in priors.items():
        print(f"# {d}: leave-one-dataset-out prior {pr}")

    raw: dict[str, dict[str, list[dict[str, Any]]]] = {d: {m: [] for m in methods} for d in datasets}
    summary: dict[str, dict[str, Any]] = {}
    extra = {"verified": verified, "lodo_priors": priors, "arms_from": args.arms_from}
    t_all = time.perf_counter()
    # seed-major: a run stopped early still has every dataset, with fewer seeds
    for seed in seeds:
        for d in datasets:
            for m in methods:
                if m == "portfolio":
                    strategy: Any = portfolio.clone()
                elif m == "portfolio-lodo":
                    strategy = portfolio.clone()
                    strategy.prior = priors[d]
                elif reuse is not None:
                    raw[d][m].append({**reuse[d][m][seed], "reused": True})
                    continue
                else:
                    strategy = m
                raw[d][m].append(run_one(d, strategy, seed, args.budget))
            print(f"  {d} seed {seed}: " + "  ".join(f"{m} {raw[d][m][-1]['valid_regret_pp']:.3f}" for m in methods)
                  + "".join(f"  ({p} shares {', '.join(f'{k} {v:.2f}' for k, v in raw[d][p][-1]['shares'].items())})"
                            for p in pfs) + f"  {time.perf_counter() - t_all:.0f} s", flush=True)
        summary = {d: _summarise(raw[d], methods, args.budget) for d in datasets}
        if args.json:  # after every seed: a long run leaves usable results if stopped
            write_json(args.json, {"meta": meta, "args": vars(args), "portfolio": repr(portfolio), "raw": raw, **extra,
                                   "summary": summary, "seeds_done": seed - seeds[0] + 1, "partial": seed != seeds[-1]})
    total_s = time.perf_counter() - t_all

    mean_reg, mean_test, mean_shares, goals = _report(summary, datasets, methods, arms, args.budget, len(seeds),
                                                      args.no_arms)
    paired = _print_paired(raw, datasets, pfs, next(iter(goals.values()))["best_arm"]) if goals else {}
    print(f"# total {total_s:.0f} s", flush=True)
    if args.json:
        write_json(args.json, {"meta": meta, "args": vars(args), "portfolio": repr(portfolio), "raw": raw, **extra,
                               "summary": summary, "mean_valid_regret_pp": mean_reg, "mean_test_pct": mean_test,
                               "mean_shares": mean_shares, "goals": goals, "paired_vs_best_arm": paired,
                               "total_s": total_s, "partial": False})
        print(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
