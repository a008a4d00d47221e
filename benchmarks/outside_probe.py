"""An outside evaluator's probe of nasbook's strategies on NAS-Bench-Graph (docs/benchmarks.md,
"Outside-evaluator probe").

Written the way a researcher would from the README and the docstrings, not with the benchmark harness:
``nasbook.Search(NasBenchGraph(d), strategy=..., budget=..., seed=..., storage=":memory:").run()``. Three parts:

* ``budgets``: budgets other than 100 (and above the space's size on proteins, 2,021 architectures):
  trials stored, distinct architectures, valid regret, and the strategy's own cost (``ask`` + ``tell``, timed
  around the strategy instance the search holds) in ms per trial, overall and over the last tenth of the run;
* ``calls``: calling styles: a name vs an instance, ``extend`` in chunks vs one run, ``DaskExecutor(n_workers=2)``
  vs local, a SQLite file vs ``":memory:"``, ``load_search`` mid-way: same seed, same trials?
* ``compare``: mean valid regret of bo, evolution, Portfolio() and Optuna's TPE at other budgets.

Seeds are probe seeds (>= 100). Every figure is printed; ``--json FILE`` writes them all.

    python benchmarks/outside_probe.py budgets --datasets cora,proteins --budgets 10,20,50,300,1000 --seeds 100
    python benchmarks/outside_probe.py calls --dataset cora --seed 100
    python benchmarks/outside_probe.py compare --datasets cora,citeseer,photo --budgets 50,200 --seeds 100-104
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import format_table, mean_std, metadata, write_json  # noqa: E402

import nasbook  # noqa: E402
from nasbook import strategies  # noqa: E402
from nasbook.tasks import NasBenchGraph  # noqa: E402

STRATEGIES = ("random", "evolution", "local", "bo", "portfolio", "optuna-tpe")
_TASKS: dict[str, NasBenchGraph] = {}


def task_of(dataset: str) -> NasBenchGraph:
    if dataset not in _TASKS:
        _TASKS[dataset] = NasBenchGraph(dataset)
    return _TASKS[dataset]


def make_strategy(name: str, seed: int) -> Any:
    """What a user passes as ``strategy=``: a name, or an instance for the Portfolio and Optuna's TPE."""
    if name == "portfolio":
        return strategies.Portfolio()
    if name == "optuna-tpe":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return strategies.OptunaSampler(optuna.samplers.TPESampler(seed=seed))
    return name


class Timer:
    """Times the ask and tell of the strategy a search holds (instance attributes shadow the methods)."""

    def __init__(self, search: nasbook.Search):
        self.ask_s: list[float] = []
        self.tell_s: list[float] = []
        strat = search.strategy
        ask, tell = strat.ask, strat.tell

        def timed_ask() -> Any:
            t = time.perf_counter()
            try:
                return ask()
            finally:
                self.ask_s.append(time.perf_counter() - t)

        def timed_tell(trial: Any) -> None:
            t = time.perf_counter()
            try:
                tell(trial)
            finally:
                self.tell_s.append(time.perf_counter() - t)

        strat.ask = timed_ask  # type: ignore[method-assign]
        strat.tell = timed_tell  # type: ignore[method-assign]

    def ms_per_trial(self, n: int, last_fraction: float = 1.0) -> float:
        k = max(1, int(round(n * last_fraction)))
        return 1000 * (sum(self.ask_s[-k:]) + sum(self.tell_s[-k:])) / k if n else float("nan")


def regret_pp(dataset: str, best: float | None) -> float:
    _, top = task_of(dataset).optimum()
    return float("nan") if best is None else 100 * (top - best)


def one_search(dataset: str, name: str, budget: int, seed: int, **kw: Any) -> dict[str, Any]:
    task = task_of(dataset)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = nasbook.Search(task, strategy=make_strategy(name, seed), budget=budget, seed=seed,
                                storage=kw.pop("storage", ":memory:"), **kw)
        timer = Timer(search)
        search.run(progress="none")
    wall = time.perf_counter() - t0
    ids = [t.arch.id for t in search.trials]
    best = search.best.value if search.best is not None else None
    n = len(ids)
    out = {
        "dataset": dataset, "strategy": name, "budget": budget, "seed": seed, "n_trials": n,
        "distinct": len(set(ids)), "regret_pp": regret_pp(dataset, best), "wall_s": wall,
        "strategy_ms": timer.ms_per_trial(n), "ask_s": timer.ask_s, "tell_s": timer.tell_s, "strategy_ms_last10pct": timer.ms_per_trial(n, 0.1),
        "warnings": sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught}),
        "ids": ids,
    }
    search.close()
    return out


def part_budgets(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for dataset in args.datasets:
        for budget in args.budgets:
            for seed in args.seeds:
                for name in args.strategies:
                    if budget > args.max_bo_budget and name in ("bo", "portfolio"):
                        continue
                    r = one_search(dataset, name, budget, seed)
                    del r["ask_s"], r["tell_s"]
                    rows.append(r)
                    print(f"  {dataset} {name} budget {budget} seed {seed}: {r['n_trials']} trials "
                          f"({r['distinct']} distinct), regret {r['regret_pp']:.3f} pp, strategy "
                          f"{r['strategy_ms']:.2f} ms/trial (last tenth {r['strategy_ms_last10pct']:.2f}), "
                          f"wall {r['wall_s']:.1f} s {r['warnings'] or ''}", flush=True)
    table = [[r["dataset"], r["strategy"], r["budget"], r["seed"], r["n_trials"], r["distinct"],
              f"{r['regret_pp']:.3f}", f"{r['strategy_ms']:.2f}", f"{r['strategy_ms_last10pct']:.2f}",
              f"{r['wall_s']:.1f}", "; ".join(r["warnings"])[:70]] for r in rows]
    print("\n## budgets: trials stored, distinct, valid regret (pp), the strategy's ask+tell ms per trial "
          "(all / last tenth), wall s, warnings")
    print(format_table(["dataset", "strategy", "budget", "seed", "trials", "distinct", "regret", "ms/trial",
                        "ms last 10%", "wall s", "warnings"], table))
    return rows


def trial_ids(search: nasbook.Search) -> list[str]:
    return [t.arch.id for t in sorted(search.trials, key=lambda t: t.number)]


def run_dask(task: NasBenchGraph, name: str, seed: int, budget: int, ref: list[str], record: Any) -> None:
    """The same search on ``DaskExecutor(n_workers=2)``: two trials in flight, so proposals come before tells."""
    from nasbook.executors import DaskExecutor

    ex = DaskExecutor(n_workers=2)
    s = nasbook.Search(task, strategy=make_strategy(name, seed), budget=budget, seed=seed, storage=":memory:",
                       executor=ex)
    t0 = time.perf_counter()
    try:
        s.run(progress="none")
    finally:
        s.close()
    got = trial_ids(s)
    record("dask n_workers=2", name, ref, got, f"({time.perf_counter() - t0:.1f} s; same set {set(got) == set(ref)})")


def part_calls(args: argparse.Namespace) -> list[dict[str, Any]]:
    ds, seed, budget = args.dataset, args.seed, args.budget
    task = task_of(ds)
    rows: list[dict[str, Any]] = []

    def record(check: str, name: str, ref: list[str], got: list[str], note: str = "") -> None:
        same = ref == got
        rows.append({"check": check, "strategy": name, "n_ref": len(ref), "n_got": len(got),
                     "distinct": len(set(got)), "same_trials": same,
                     "first_diff": next((i for i, (a, b) in enumerate(zip(ref, got)) if a != b), None), "note": note})
        print(f"  {check} {name}: {len(got)} trials ({len(set(got))} distinct), same as one run: {same} {note}",
              flush=True)

    inst = {"random": strategies.RandomSearch(), "evolution": strategies.RegularizedEvolution(),
            "local": strategies.LocalSearch(), "bo": strategies.BO(), "portfolio": strategies.Portfolio()}
    for name in args.strategies:
        if args.dask_only:  # the local run is the reference only
            ref = trial_ids(nasbook.Search(task, strategy=make_strategy(name, seed), budget=budget, seed=seed,
                                           storage=":memory:").run(progress="none"))
            run_dask(task, name, seed, budget, ref, record)
            continue
        ref = trial_ids(nasbook.Search(task, strategy=make_strategy(name, seed), budget=budget, seed=seed,
                                       storage=":memory:").run(progress="none"))
        if name in inst:  # an instance with its default parameters is the name
            got = trial_ids(nasbook.Search(task, strategy=inst[name].clone(), budget=budget, seed=seed,
                                           storage=":memory:").run(progress="none"))
            record("instance", name, ref, got)
        s = nasbook.Search(task, strategy=make_strategy(name, seed), budget=budget // 4, seed=seed, storage=":memory:")
        s.run(progress="none")
        while s.n_trials < budget:  # chunks: extend then run, three more times
            s.extend(trials=budget // 4).run(progress="none")
        record("extend x4", name, ref, trial_ids(s))
        with tempfile.TemporaryDirectory() as tmp:
            db = str(Path(tmp) / "runs.db")
            s = nasbook.Search(task, strategy=make_strategy(name, seed), budget=budget // 2, seed=seed,
                               storage=db, name="half")
            s.run(progress="none")
            s.close()
            # an Optuna sampler instance is not stored: load_search says to pass it again, as done here
            again = {"strategy": make_strategy(name, seed)} if name == "optuna-tpe" else {}
            loaded = nasbook.load_search("half", db, budget=budget, **again)
            loaded.run(progress="none")
            record("load_search at half", name, ref, trial_ids(loaded))
            s2 = nasbook.Search(task, strategy=make_strategy(name, seed), budget=budget, seed=seed,
                                storage=db, name="file")
            record("file storage", name, ref, trial_ids(s2.run(progress="none")))
        if args.dask:
            run_dask(task, name, seed, budget, ref, record)
    print("\n## calling styles: each against one run of the same name, seed and budget")
    print(format_table(["check", "strategy", "trials", "distinct", "same trials", "first diff", "note"],
                       [[r["check"], r["strategy"], r["n_got"], r["distinct"], r["same_trials"], r["first_diff"],
                         r["note"]] for r in rows]))
    return rows


def part_compare(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    top = max(args.budgets)
    for seed in args.seeds:  # seed outermost: a run cut short still has every dataset for the seeds it finished
        for dataset in args.datasets:
            for name in args.strategies:
                r = one_search(dataset, name, top, seed)
                ids = r.pop("ids")
                del r["ask_s"], r["tell_s"]
                table = task_of(dataset).table
                best = float("-inf")
                curve = []
                for arch_id in ids:
                    best = max(best, table.valid_l[table.row(int(arch_id))])
                    curve.append(best)
                r["regret_at"] = {b: regret_pp(dataset, curve[min(b, len(curve)) - 1]) for b in args.budgets}
                rows.append(r)
                print(f"  {dataset} seed {seed} {name}: " + ", ".join(
                    f"n={b} {v:.3f}" for b, v in r["regret_at"].items()) + f" ({r['wall_s']:.1f} s)", flush=True)
    print("\n## mean valid regret (pp) after n distinct queries (the one search per seed, read at n)")
    for b in args.budgets:
        table = []
        for dataset in [*args.datasets, "(mean)"]:
            cells = [dataset]
            for name in args.strategies:
                vals = [r["regret_at"][b] for r in rows if r["strategy"] == name
                        and (dataset == "(mean)" or r["dataset"] == dataset)]
                m, sd = mean_std(vals)
                cells.append(f"{m:.3f} ± {sd:.3f}")
            table.append(cells)
        print(f"\n### n = {b}, seeds {args.seeds[0]}..{args.seeds[-1]}")
        print(format_table(["dataset", *args.strategies], table))
    return rows


def part_exhaust(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Budgets at and above the space's size. The model-based strategies start from ``warm_start``: all but
    ``--left`` architectures of the space (served first, without a fit), so their last asks, near and at
    exhaustion, are measured without fitting a forest 2,000 times."""
    task = task_of(args.dataset)
    card = task.space.cardinality
    rows = []
    for name in args.strategies:
        for budget in args.budgets:
            warm = None
            if name in ("bo", "portfolio", "optuna-tpe"):
                import numpy as np

                archs = task.space.enumerate()
                order = np.random.default_rng(args.seeds[0]).permutation(len(archs))
                warm = [archs[int(i)] for i in order[: card - args.left]]
            kw = {"warm_start": warm} if warm else {}
            r = one_search(args.dataset, name, budget, args.seeds[0], **kw)
            del r["ask_s"], r["tell_s"]
            r["warm_start"] = len(warm) if warm else 0
            r["expected"] = min(budget, card)
            rows.append(r)
            print(f"  {args.dataset} ({card} archs) {name} budget {budget} (warm start {r['warm_start']}): "
                  f"{r['n_trials']} trials ({r['distinct']} distinct), {r['wall_s']:.1f} s, strategy "
                  f"{r['strategy_ms']:.2f} ms/trial (last tenth {r['strategy_ms_last10pct']:.2f}); {r['warnings']}",
                  flush=True)
    print(f"\n## exhaustion: budgets at and above the space's {card} architectures")
    print(format_table(["strategy", "budget", "warm start", "trials", "distinct", "expected", "wall s",
                        "ms/trial last 10%", "warnings"],
                       [[r["strategy"], r["budget"], r["warm_start"], r["n_trials"], r["distinct"], r["expected"],
                         f"{r['wall_s']:.1f}", f"{r['strategy_ms_last10pct']:.2f}", "; ".join(r["warnings"])[:90]]
                        for r in rows]))
    return rows


def part_cost(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The strategy's own ms per trial after about N trials, without running N model fits first: a warm start of
    N - k uniform architectures (served first, no fit), then k asks of the strategy itself, timed."""
    import numpy as np

    rows = []
    for dataset in args.datasets:
        archs = task_of(dataset).space.enumerate()
        for n in args.sizes:
            order = np.random.default_rng(args.seeds[0]).permutation(len(archs))
            warm = [archs[int(i)] for i in order[: n - args.k]]
            for name in args.strategies:
                r = one_search(dataset, name, n, args.seeds[0], warm_start=warm)
                ask, tell = r.pop("ask_s"), r.pop("tell_s")
                r["k"] = args.k
                r["ms_last_k"] = 1000 * (sum(ask[-args.k:]) + sum(tell[-args.k:])) / args.k
                # the first model-based ask also encodes the whole space once: the median is the steady cost
                r["ms_median_last_k"] = 1000 * float(np.median([a + t for a, t in zip(ask[-args.k:], tell[-args.k:])]))
                rows.append(r)
                print(f"  {dataset} {name} after {n - args.k} trials: {r['ms_last_k']:.1f} ms per trial over the next "
                      f"{args.k} ({r['n_trials']} trials, {r['distinct']} distinct)", flush=True)
    print("\n## the strategy's ask + tell, ms per trial, over the k trials after a warm start of N - k")
    print(format_table(["dataset", "strategy", "N", "k", "mean ms/trial", "median ms/trial"],
                       [[r["dataset"], r["strategy"], r["budget"], r["k"], f"{r['ms_last_k']:.1f}",
                         f"{r['ms_median_last_k']:.1f}"] for r in rows]))
    return rows


def part_mf(args: argparse.Namespace) -> list[dict[str, Any]]:
    """ASHA, successive halving and Hyperband on the learning-curve tables, budgets in epochs from small to more
    than the table holds: epochs spent against the budget, trials, distinct architectures, a promotion that
    retrained an architecture from scratch (a repeat), wall time, warnings."""
    from nasbook.tasks import DigitsTable, MNIST1DTable

    rows = []
    for table in args.tables:
        task = DigitsTable() if table == "digits" else MNIST1DTable()
        max_epochs = int(task.max_epochs)
        for name in args.strategies:
            for budget in args.budgets:
                for seed in args.seeds:
                    strat = strategies.strategy_class(name)(base=args.base, max_epochs=max_epochs)
                    t0 = time.perf_counter()
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        search = nasbook.Search(task, strategy=strat, budget={"epochs": budget}, seed=seed,
                                                storage=":memory:")
                        search.run(progress="none")
                    trials = search.trials
                    fresh = [t for t in trials if t.parent is None]  # trained from scratch
                    r = {"table": table, "strategy": name, "base": args.base, "budget_epochs": budget, "seed": seed,
                         "epochs_spent": search.epochs_spent, "n_trials": len(trials),
                         "distinct": len({t.arch.id for t in trials}),
                         "scratch_repeats": len(fresh) - len({t.arch.id for t in fresh}),
                         "n_archs": task.space.cardinality, "wall_s": time.perf_counter() - t0,
                         "best": search.best.value if search.best is not None else None,
                         "warnings": sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught})}
                    rows.append(r)
                    print(f"  {table} {name}({args.base}) epochs {budget} seed {seed}: spent {r['epochs_spent']}, "
                          f"{r['n_trials']} trials, {r['distinct']} distinct of {r['n_archs']}, scratch repeats "
                          f"{r['scratch_repeats']}, {r['wall_s']:.1f} s {r['warnings'] or ''}", flush=True)
    print("\n## multi-fidelity on the curve tables: epochs spent / budget, trials, distinct architectures, "
          "architectures trained from scratch twice")
    print(format_table(["table", "strategy", "budget", "seed", "spent", "trials", "distinct", "scratch rep.",
                        "wall s", "warnings"],
                       [[r["table"], r["strategy"], r["budget_epochs"], r["seed"], r["epochs_spent"], r["n_trials"],
                         r["distinct"], r["scratch_repeats"], f"{r['wall_s']:.1f}", "; ".join(r["warnings"])[:80]]
                        for r in rows]))
    return rows


def seeds_arg(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(x) for x in text.split(",")]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="part", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", default=None, help="write every figure to this file")
    b = sub.add_parser("budgets", parents=[common])
    b.add_argument("--datasets", default="cora,proteins")
    b.add_argument("--budgets", default="10,20,50,300,1000")
    b.add_argument("--strategies", default="random,evolution,local,bo,portfolio")
    b.add_argument("--seeds", default="100")
    b.add_argument("--max-bo-budget", type=int, default=10**9, help="skip bo and portfolio above this budget")
    c = sub.add_parser("calls", parents=[common])
    c.add_argument("--dataset", default="cora")
    c.add_argument("--seed", default="100")
    c.add_argument("--budget", type=int, default=40)
    c.add_argument("--strategies", default="random,evolution,local,bo,portfolio")
    c.add_argument("--no-dask", dest="dask", action="store_false")
    c.add_argument("--dask-only", action="store_true", help="only the dask check (against one local run)")
    m = sub.add_parser("compare", parents=[common])
    m.add_argument("--datasets", default="cora,citeseer,photo")
    m.add_argument("--budgets", default="50,200")
    m.add_argument("--strategies", default="bo,evolution,portfolio,optuna-tpe")
    m.add_argument("--seeds", default="100-104")
    e = sub.add_parser("exhaust", parents=[common])
    e.add_argument("--dataset", default="proteins")
    e.add_argument("--budgets", default="2021,2500")
    e.add_argument("--strategies", default="random,evolution,local,bo,portfolio,optuna-tpe")
    e.add_argument("--seeds", default="100")
    e.add_argument("--left", type=int, default=30, help="architectures the warm start leaves unseen")
    k = sub.add_parser("cost", parents=[common])
    k.add_argument("--datasets", default="cora")
    k.add_argument("--sizes", default="100,1000")
    k.add_argument("--k", type=int, default=10)
    k.add_argument("--strategies", default="bo,portfolio,optuna-tpe,evolution")
    k.add_argument("--seeds", default="100")
    f = sub.add_parser("mf", parents=[common])
    f.add_argument("--tables", default="digits,mnist1d")
    f.add_argument("--strategies", default="asha,sh,hyperband")
    f.add_argument("--base", default="random")
    f.add_argument("--budgets", default="30,300,3000,100000")
    f.add_argument("--seeds", default="100")
    args = p.parse_args(argv)
    for key in ("datasets", "strategies", "tables"):
        if hasattr(args, key):
            setattr(args, key, getattr(args, key).split(","))
    for key in ("budgets", "sizes"):
        if hasattr(args, key):
            setattr(args, key, [int(x) for x in getattr(args, key).split(",")])
    args.seeds = seeds_arg(args.seeds) if hasattr(args, "seeds") else None
    if args.part == "calls":
        args.seed = int(args.seed)
    meta = metadata(argv)
    print(f"# outside_probe {args.part}; {meta['date_utc']}; load {meta['machine']['loadavg_at_start']}; "
          f"commit {meta['package'].get('commit', '?')[:10]}", flush=True)
    t0 = time.perf_counter()
    rows = {"budgets": part_budgets, "calls": part_calls, "compare": part_compare, "exhaust": part_exhaust, "cost": part_cost, "mf": part_mf}[args.part](args)
    print(f"\n# total {time.perf_counter() - t0:.1f} s")
    if args.json:
        for r in rows:
            r.pop("ids", None)
        write_json(args.json, {"meta": meta, "args": {k: v for k, v in vars(args).items()}, "rows": rows})


if __name__ == "__main__":
    main()
