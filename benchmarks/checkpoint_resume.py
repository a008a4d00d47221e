"""ASHA interrupted and resumed in a new Search object (as a new process would): how many promotions after the
resume of trials finished before it trained from scratch, and ``epochs_spent`` against the epochs trained.

Usage: ``PYTHONPATH=<tree> python benchmarks/checkpoint_resume.py [--storage sqlite|postgresql] [--dir]``
(``postgresql``: a throwaway server, ``nasbook.testing._postgres``; ``--dir``: ``Search(checkpoints=<a folder>)``,
and the resume is a ``load_search`` in a new Python process, which finds the folder stored with the search).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pathlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
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


RESUME = """
import json, sys
import nasbook
from nasbook.space import CellSpace
from nasbook.testing import ToyTask
space = CellSpace()
r = nasbook.load_search("a", sys.argv[1], task=ToyTask(space, epochs=9), space=space).run(progress="none")
print(json.dumps([[t.number, t.epochs, t.parent, t.metrics["epochs_run"]] for t in r.trials] + [r.epochs_spent]))
r.close()
"""


@contextlib.contextmanager
def _store(kind: str, tmp: str) -> Iterator[str]:
    if kind == "sqlite":
        yield str(pathlib.Path(tmp) / "a.db")
        return
    from nasbook.testing._postgres import fresh_database, postgres_server

    with postgres_server() as url:
        yield fresh_database(url)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--storage", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--dir", action="store_true", help="Search(checkpoints=<a folder>)")
    args = p.parse_args()
    space = CellSpace()
    task = ToyTask(space, epochs=9)
    with tempfile.TemporaryDirectory() as tmp, _store(args.storage, tmp) as store:
        folder = {"checkpoints": str(pathlib.Path(tmp) / "ck")} if args.dir else {}
        s = nasbook.Search(space, task, strategy=ASHA(min_epochs=1, max_epochs=9, eta=3), budget=BUDGET, seed=SEED,
                           storage=store, name="a", callbacks=[stop], **folder)
        try:
            s.run(progress="none")
        except Stop:
            pass
        s.close()
        del s
        out = subprocess.run([sys.executable, "-c", RESUME, store], capture_output=True, text=True, check=True)
        *rows, spent = json.loads(out.stdout.strip().splitlines()[-1])
        by = {n: (epochs, parent, ran) for n, epochs, parent, ran in rows}
        late = [n for n, (_, parent, _) in by.items() if n > CUT and parent is not None and parent <= CUT]
        scratch = [n for n in late if by[n][2] != by[n][0] - by[by[n][1]][0]]
        trained = sum(ran for _, _, ran in by.values())
        print(f"storage {args.storage}{' + checkpoints=<folder>' if args.dir else ''}: trials {len(by)}; promotions "
              f"after the resume of trials finished before it: {len(late)}; trained from scratch: {len(scratch)}; "
              f"epochs_spent {spent} vs epochs trained {trained}")


if __name__ == "__main__":
    main()
