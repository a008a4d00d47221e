"""Checkpoint files a finished multi-fidelity search leaves beside its SQLite file, on the Digits table.

Each of ``ASHA``, ``SuccessiveHalving`` and ``Hyperband`` (``min_epochs=1, max_epochs=9, eta=3``, seed 0; ``--etas``
and ``--seeds`` for others: eta 2 and 4 use ``max_epochs=8``) runs on
``DigitsTable()`` (300 architectures, curves looked up: seconds) for each ``--budgets`` number of trials, in a
temporary folder; printed per run: the trials run, the checkpoint files left in ``<db>.checkpoints/search-1/`` and
their bytes, ``epochs_spent``, and a fingerprint of the decisions (each trial's number, architecture, epochs,
parent and ``epochs_run``): equal fingerprints between two trees mean the same trials ran, and no promotion found
its parent's checkpoint gone (it would have trained from scratch: another ``epochs_run``).

Usage (pick the tree with ``PYTHONPATH``)::

    PYTHONPATH=$PWD python benchmarks/checkpoint_files_left.py --budgets 40 60 400
    PYTHONPATH=$PWD python benchmarks/checkpoint_files_left.py --budgets 500 --etas 2 3 4 --seeds 1 2
"""

from __future__ import annotations

import argparse
import hashlib
import pathlib
import tempfile
import warnings

from _common import format_table


def run(strategy: str, budget: int, eta: int = 3, seed: int = 0) -> list[object]:
    """One search to ``budget`` trials: its row of the table."""
    import nasbook
    from nasbook.strategies import ASHA, Hyperband, SuccessiveHalving
    from nasbook.tasks import DigitsTable

    kinds = {"asha": ASHA, "sh": SuccessiveHalving, "hyperband": Hyperband}
    task = DigitsTable()
    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*stopped early")  # (the table's architectures used up)
        s = nasbook.Search(task.space, task, strategy=kinds[strategy](min_epochs=1, max_epochs=9 if eta == 3 else 8, eta=eta),
                           budget=budget, seed=seed, storage=f"{d}/s.db").run(progress="none")
        files = list(pathlib.Path(f"{d}/s.db.checkpoints").rglob("trial-*.ckpt"))
        size = sum(f.stat().st_size for f in files)
        decisions = [(t.number, t.arch.id, t.epochs, t.parent, t.attrs.get("epochs_run")) for t in s.trials]
        s.storage.close()
    return [strategy, eta, seed, budget, len(decisions), len(files), size, s.epochs_spent,
            hashlib.sha1(repr(decisions).encode()).hexdigest()[:10]]


def main() -> None:
    """Parse the arguments, run every search and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[40, 60, 400], help="trials per search")
    parser.add_argument("--strategies", nargs="+", default=["asha", "sh", "hyperband"],
                        choices=["asha", "sh", "hyperband"])
    parser.add_argument("--etas", type=int, nargs="+", default=[3], help="eta of every strategy")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="the searches' seeds")
    args = parser.parse_args()
    rows = [run(strategy, budget, eta, seed) for seed in args.seeds for eta in args.etas for budget in args.budgets
            for strategy in args.strategies]
    print(format_table(["strategy", "eta", "seed", "budget", "trials", "files", "bytes", "epochs_spent", "decisions"], rows))


if __name__ == "__main__":
    main()
