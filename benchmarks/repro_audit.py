"""Reproducibility audit: seeds, resume and extend exactness, training determinism, predictor seeds.

    python benchmarks/repro_audit.py tables [--strategies random,bo,...]   # NAS-Bench-Graph cora + DigitsTable
    python benchmarks/repro_audit.py training --executor local|dask [--strategy random|evolution]
    python benchmarks/repro_audit.py training-resume                       # ASHA on Digits, interrupted and resumed
    python benchmarks/repro_audit.py predictors

Each line says whether two runs with the same seed gave identical trials (number, architecture,
state, value, epochs, parent), whether another seed differed, and whether an interrupted or extended
search equals the uninterrupted one. Seeds are 100 and 101 (probe seeds). Nothing is tuned here.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

import numpy as np

import nasbook
from nasbook.strategies import ASHA, Hyperband, RegularizedEvolution, SuccessiveHalving
from nasbook.tasks import DigitsTable, NasBenchGraph

ALL = ["random", "evolution", "local", "optuna", "bo", "portfolio", "asha", "sh", "hyperband", "median-stopping",
       "curve-stopping"]
MF = {"asha": lambda: ASHA(max_epochs=9), "sh": lambda: SuccessiveHalving(max_epochs=9),
      "hyperband": lambda: Hyperband(max_epochs=9)}
CURVES = {"asha", "sh", "hyperband", "median-stopping", "curve-stopping"}  # need a learning-curve table


def sig(s):
    return [(t.number, t.arch.id, t.state.value, t.value, t.epochs, t.parent) for t in sorted(s.trials, key=lambda t: t.number)]


class StopOnce:
    """A callback that raises KeyboardInterrupt (as Ctrl-C does) after the k-th committed trial."""

    def __init__(self, k: int):
        self.k, self.n = k, 0

    def __call__(self, search, trial) -> None:
        self.n += 1
        if self.n == self.k:
            raise KeyboardInterrupt


def tables(strategies: list[str]) -> None:
    tmp = tempfile.mkdtemp()
    for table in ("cora", "digits"):
        for name in strategies:
            if name in CURVES and table == "cora":
                continue
            task = NasBenchGraph("cora") if table == "cora" else DigitsTable()
            full_b, part_b, more = (25, 8, {"trials": 17}) if table == "cora" else ({"epochs": 120}, {"epochs": 40}, {"epochs": 80})
            make = (lambda n=name: MF[n]()) if name in MF else (lambda n=name: n)
            t0 = time.time()
            runs = [sig(nasbook.Search(task, strategy=make(), budget=full_b, seed=seed).run(progress="none"))
                    for seed in (100, 100, 101)]
            db = os.path.join(tmp, f"{table}-{name}.db")
            s = nasbook.Search(task, strategy=make(), budget=full_b, seed=100, storage=db, name="cut",
                               callbacks=[StopOnce(max(2, len(runs[0]) // 3))])
            try:
                s.run(progress="none")
            except KeyboardInterrupt:
                pass
            nasbook.load_search("cut", db).run(progress="none")
            resumed = sig(nasbook.load_search("cut", db))  # a finished search loads with its stored budget
            nasbook.Search(task, strategy=make(), budget=part_b, seed=100, storage=db, name="part").run(progress="none")
            loaded = sig(nasbook.load_search("part", db, budget=full_b).run(progress="none"))
            e = nasbook.Search(task, strategy=make(), budget=part_b, seed=100).run(progress="none")
            extended = sig(e.extend(**more).run(progress="none"))
            print(f"{table:6s} {name:16s} n={len(runs[0]):3d} same seed identical={runs[0] == runs[1]} "
                  f"other seed differs={runs[0] != runs[2]} interrupted+resumed={resumed == runs[0]} "
                  f"load_search(budget)={loaded == runs[0]} extend()={extended == runs[0]} ({time.time() - t0:.1f} s)",
                  flush=True)


def training(executor: str, strategy: str) -> None:
    from nasbook.executors import DaskExecutor
    from nasbook.space import CellSpace
    from nasbook.tasks import Digits

    space = CellSpace(channels=4, n_cells=1, n_stages=1)
    out = {}
    for i, seed in enumerate((100, 100, 101)):
        t0 = time.time()
        st = RegularizedEvolution(population_size=3, sample_size=2) if strategy == "evolution" else "random"
        ex = DaskExecutor(n_workers=2) if executor == "dask" else "local"
        s = nasbook.Search(space, Digits(max_epochs=2, batch_size=32), strategy=st, budget=8 if strategy == "evolution" else 4,
                           seed=seed, executor=ex)
        s.run(progress="none")
        s.close()
        out[i] = sig(s)
        print(executor, strategy, seed, [(n, a, None if v is None else round(v, 6)) for n, a, _, v, _, _ in out[i]],
              f"{time.time() - t0:.1f} s", flush=True)
    print(f"{executor} {strategy}: same seed identical={out[0] == out[1]} other seed differs={out[0] != out[2]}")


def training_resume() -> None:
    from nasbook.space import CellSpace
    from nasbook.tasks import Digits

    space = CellSpace(channels=4, n_cells=1, n_stages=1)
    tmp = tempfile.mkdtemp()

    def search(name, callbacks=None):
        return nasbook.Search(space, Digits(max_epochs=3, batch_size=64), strategy=ASHA(max_epochs=3, eta=3),
                              budget={"epochs": 14}, seed=100, storage=os.path.join(tmp, "t.db"), name=name,
                              callbacks=callbacks)

    full = sig(search("full").run(progress="none"))
    n = {"k": 0}

    def stop(s, t):
        n["k"] += 1
        if n["k"] == 4:
            raise KeyboardInterrupt

    try:
        search("cut", [stop]).run(progress="none")
    except KeyboardInterrupt:
        pass
    resumed = sig(nasbook.load_search("cut", os.path.join(tmp, "t.db"), task=Digits(max_epochs=3, batch_size=64)).run(progress="none"))
    print(f"ASHA on Digits: {len(full)} trials ({sum(t[5] is not None for t in full)} continued from a checkpoint); "
          f"interrupted after 4 + resumed equals uninterrupted: {resumed == full}")


def predictors() -> None:
    from sklearn.base import clone

    task = NasBenchGraph("cora")
    archs = task.space.enumerate()
    idx = np.random.default_rng(100).choice(len(archs), 60, replace=False)
    tr, te = [archs[i] for i in idx[:40]], [archs[i] for i in idx[40:]]
    y = np.asarray([task.evaluate(a, space=task.space).value for a in tr], dtype=float)

    def pred(p):
        ds = p.fit(tr, y).predict(te)
        return np.concatenate([ds["mean"].values, ds["std"].values])

    for model in ["auto", "gp", "random-forest", "extra-trees", "gbt", "mlp", "ensemble"]:
        for seed in (100, None):
            a, b = pred(nasbook.Predictor(model=model, seed=seed)), pred(nasbook.Predictor(model=model, seed=seed))
            p = nasbook.Predictor(model=model, seed=seed)
            p.fit(tr, y)
            c, d = pred(clone(p)), pred(p)
            other = "" if seed is None else f" other seed differs={not np.array_equal(a, pred(nasbook.Predictor(model=model, seed=101)))}"
            print(f"{model:14s} seed={seed}: same={np.array_equal(a, b)} clone+fit={np.array_equal(a, c)} "
                  f"refit={np.array_equal(a, d)}{other} max |diff|={np.max(np.abs(a - b)):.3g}", flush=True)


def main() -> None:
    warnings.simplefilter("ignore")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["tables", "training", "training-resume", "predictors"])
    ap.add_argument("--strategies", default=",".join(ALL))
    ap.add_argument("--executor", choices=["local", "dask"], default="local")
    ap.add_argument("--strategy", choices=["random", "evolution"], default="random")
    args = ap.parse_args()
    if args.what == "tables":
        tables(args.strategies.split(","))
    elif args.what == "training":
        training(args.executor, args.strategy)
    elif args.what == "training-resume":
        training_resume()
    else:
        predictors()


if __name__ == "__main__":
    main()
