"""Exhaustion on DaskExecutor(n_workers=2): proteins with bo, Portfolio() and evolution (budget 2,500 > 2,021; bo and
the Portfolio warm-started with 1,991 architectures), ASHA / SH / Hyperband on DigitsTable with an unbounded epoch
budget. Prints trials, distinct architectures and warnings (docs/benchmarks.md, outside-evaluator probe)."""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import nasbook
from nasbook import strategies
from nasbook.executors import DaskExecutor
from nasbook.tasks import DigitsTable, NasBenchGraph

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import metadata, write_json  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", default=None, help="write the rows to this file")
    args = parser.parse_args()
    rows = []
    t = NasBenchGraph("proteins")
    archs = t.space.enumerate()
    order = np.random.default_rng(100).permutation(len(archs))
    warm = [archs[int(i)] for i in order[:1991]]
    for name in ["bo", "portfolio", "evolution"]:
        strat = strategies.Portfolio() if name == "portfolio" else name
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s = nasbook.Search(t, strategy=strat, budget=2500, seed=100, storage=":memory:",
                               executor=DaskExecutor(n_workers=2), warm_start=warm if name != "evolution" else None)
            t0 = time.time()
            try:
                s.run(progress="none")
            finally:
                s.close()
        ids = [x.arch.id for x in s.trials]
        rows.append({"task": "proteins", "strategy": name, "trials": len(ids), "distinct": len(set(ids)),
                     "warnings": sorted({str(w.message) for w in caught})})
        print(name, len(ids), len(set(ids)), f"{time.time()-t0:.1f}s", sorted({str(w.message)[:90] for w in caught}), flush=True)
    task = DigitsTable()
    for cls in [strategies.ASHA, strategies.SuccessiveHalving, strategies.Hyperband]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s = nasbook.Search(task, strategy=cls(max_epochs=task.max_epochs), budget={"epochs": 10**6}, seed=100,
                               storage=":memory:", executor=DaskExecutor(n_workers=2))
            try:
                s.run(progress="none")
            finally:
                s.close()
        fresh = [x for x in s.trials if x.parent is None]
        last = max(s.trials, key=lambda x: x.number)
        rows.append({"task": "digits", "strategy": cls.__name__, "trials": len(s.trials), "fresh": len(fresh),
                     "epochs_spent": s.epochs_spent, "last_epochs": last.epochs,
                     "warnings": sorted({str(w.message) for w in caught})})
        print(cls.__name__, len(s.trials), len(fresh), len({x.arch.id for x in fresh}), s.epochs_spent, "last epochs", last.epochs,
              sorted({str(w.message)[:70] for w in caught}), flush=True)
    if args.json:
        write_json(args.json, {"meta": metadata(), "rows": rows})
