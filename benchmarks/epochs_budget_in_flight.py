"""Epochs spent against an epochs budget by ASHA, successive halving and Hyperband, on the local executor and on
two dask workers (separate processes), on the Digits and MNIST-1D learning-curve tables.

Before the loop held the epochs of the trials in flight, a budget of 10 epochs for ASHA on two dask workers spent
12-13. Run with the code to measure on the path (``PYTHONPATH=<checkout>``)::

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/epochs_budget_in_flight.py --budgets 10,25,60 --seeds 3
"""

from __future__ import annotations

import argparse
import json


def main() -> None:
    import nasbook
    from nasbook.executors import DaskExecutor, LocalExecutor
    from nasbook.strategies import ASHA, Hyperband, SuccessiveHalving
    from nasbook.tasks import DigitsTable, MNIST1DTable

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", default="10,25,60", help="epochs budgets, comma-separated")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--tasks", default="digits,mnist1d")
    ap.add_argument("--executors", default="local,dask")
    ap.add_argument("--json", help="write the raw figures here")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    tasks = {"digits": DigitsTable, "mnist1d": MNIST1DTable}
    makers = {"asha": ASHA, "sh": SuccessiveHalving, "hyperband": Hyperband}
    rows = []
    dask = None
    try:
        for ex_name in args.executors.split(","):
            if ex_name == "dask":
                dask = DaskExecutor(n_workers=2)
                dask.start()
            for task_name in args.tasks.split(","):
                task = tasks[task_name]()
                for name, make in makers.items():
                    for budget in budgets:
                        spent = []
                        for seed in range(args.seeds):
                            ex = dask if ex_name == "dask" else LocalExecutor()
                            s = nasbook.Search(task, strategy=make(min_epochs=1, max_epochs=task.max_epochs, eta=3),
                                               budget={"epochs": budget}, seed=seed, storage=":memory:", executor=ex)
                            spent.append(s.run(progress="none").epochs_spent)
                        rows.append({"executor": ex_name, "task": task_name, "strategy": name, "budget": budget,
                                     "spent": spent})
                        print(f"{ex_name:5s} {task_name:7s} {name:9s} budget {budget:4d}: spent {spent} "
                              f"(max {max(spent)}, over budget: {sum(x > budget for x in spent)} of {len(spent)})",
                              flush=True)
    finally:
        if dask is not None:
            dask.close()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
