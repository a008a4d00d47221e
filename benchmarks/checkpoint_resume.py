"""ASHA interrupted and resumed in a new Search object (as a new process would): how many promotions after the
resume of trials finished before it trained from scratch, and ``epochs_spent`` against the epochs trained.

Usage: ``PYTHONPATH=<tree> python benchmarks/checkpoint_resume.py``
"""

from __future__ import annotations

import pathlib
import tempfile
from typing import Any

import nasbook
from nasbook.space import CellSpace
from nasbook.strategies import ASHA
from nasbook.testing import ToyTask

CUT, BUDGET, SEED = 150, 400, 100


class Stop(Exception):
    pass


def stop(search: Any, trial: Any) -> None:
    if trial.number == CUT:
        raise Stop


def main() -> None:
    space = CellSpace()
    task = ToyTask(space, epochs=9)
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "a.db"
        s = nasbook.Search(space, task, strategy=ASHA(min_epochs=1, max_epochs=9, eta=3), budget=BUDGET, seed=SEED,
                           storage=path, name="a", callbacks=[stop])
        try:
            s.run(progress="none")
        except Stop:
            pass
        s.close()
        r = nasbook.load_search("a", path, task=task, space=space).run(progress="none")
        by = {t.number: t for t in r.trials}
        late = [t for t in r.trials if t.number > CUT and t.parent is not None and t.parent <= CUT]
        scratch = [t for t in late if t.metrics["epochs_run"] != t.epochs - by[t.parent].epochs]
        trained = sum(t.metrics["epochs_run"] for t in r.trials)
        print(f"trials {r.n_trials}; promotions after the resume of trials finished before it: {len(late)}; "
              f"trained from scratch: {len(scratch)}; epochs_spent {r.epochs_spent} vs epochs trained {trained}")
        r.close()


if __name__ == "__main__":
    main()
