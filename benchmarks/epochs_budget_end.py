"""How close an epochs budget is spent, and what is left at the end, for early-stopping wrappers (median,
curve stopping), multi-fidelity schedulers (ASHA, successive halving, Hyperband) and random search, on the local
executor and on two dask workers, on the Digits learning-curve table.

An epochs budget is never exceeded (``over`` must be 0). Before the last trial could start with only the epochs
left, a stopping rule's run ended up to one full trial short (the next trial's ``max_epochs`` was held though it
would likely be stopped early) and left its proposal QUEUED without saying so. Run with the code to measure on the
path (``PYTHONPATH=<checkout>``)::

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/epochs_budget_end.py --budgets 30,60,100 --seeds 3
"""

from __future__ import annotations

import argparse
import json
import warnings


def strategies(task):  # noqa: ANN001, ANN201 - a benchmark's helper
    from nasbook.strategies import ASHA, CurveStopping, Hyperband, MedianStopping, RandomSearch, SuccessiveHalving

    m = task.max_epochs
    return {
        "random": lambda: RandomSearch(),
        "median": lambda: MedianStopping(min_trials=3),
        "curve": lambda: CurveStopping(k=3),
        "asha": lambda: ASHA(min_epochs=1, max_epochs=m, eta=3),
        "sh": lambda: SuccessiveHalving(min_epochs=1, max_epochs=m, eta=3),
        "hyperband": lambda: Hyperband(min_epochs=1, max_epochs=m, eta=3),
    }


def main() -> None:
    import nasbook
    from nasbook.executors import DaskExecutor, LocalExecutor
    from nasbook.tasks import DigitsTable

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", default="30,60,100", help="epochs budgets, comma-separated")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--strategies", default="random,median,curve,asha,sh,hyperband")
    ap.add_argument("--executors", default="local,dask")
    ap.add_argument("--json", help="write the raw figures here")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    task = DigitsTable()
    makers = strategies(task)
    rows = []
    dask = None
    warnings.simplefilter("ignore")  # e.g. a budget smaller than one trial: counted below, not printed
    try:
        for ex_name in args.executors.split(","):
            if ex_name == "dask":
                dask = DaskExecutor(n_workers=2)
                dask.start()
            for name in args.strategies.split(","):
                for budget in budgets:
                    spent, queued, cut = [], [], []
                    for seed in range(args.seeds):
                        ex = dask if ex_name == "dask" else LocalExecutor()
                        s = nasbook.Search(task, strategy=makers[name](), budget={"epochs": budget}, seed=seed,
                                           storage=":memory:", executor=ex)
                        s.run(progress="none")
                        spent.append(s.epochs_spent)
                        queued.append(len(s._requeue))  # proposals stored QUEUED for extend()
                        cut.append(sum(t.attrs.get("stopped_by") == "budget" for t in s.trials))
                        end = repr(s)
                    rows.append({"executor": ex_name, "strategy": name, "budget": budget, "spent": spent,
                                 "queued": queued, "cut_by_budget": cut})
                    print(f"{ex_name:5s} {name:9s} budget {budget:4d}: spent {spent} (over: "
                          f"{sum(x > budget for x in spent)}), queued {queued}, cut by budget {cut}  | {end}",
                          flush=True)
    finally:
        if dask is not None:
            dask.close()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
