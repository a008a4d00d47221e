"""Build the shipped Digits learning-curve table (``nasbook/_data/digits_cells.{npz,json}``).

Trains ``--n-archs`` distinct ``CellSpace()`` architectures, drawn uniformly with a fixed seed,
on ``Digits(max_epochs=--epochs, seed=s)`` for each training seed ``s`` in ``range(--seeds)``,
through nasbook's own loop: one :class:`nasbook.Search` per seed with a strategy that proposes
exactly the listed architectures in order (so every seed trains the same ones), a
:class:`~nasbook.executors.DaskExecutor` with ``--workers`` single-threaded workers, and a
SQLite store per seed (``bench-results/<name>-seed<S>.db``, kept out of the package). Then it writes

- ``<out>.npz`` (numeric arrays only; ``np.load(path, allow_pickle=False)``):
  ``val_accuracy``, ``val_loss``, ``train_loss``: float32 ``(n_archs, n_seeds, n_epochs)``;
  ``test_accuracy``, ``train_time_s``: float32 ``(n_archs, n_seeds)``;
  ``n_params``, ``flops``: int64 ``(n_archs,)``;
- ``<out>.json``: the architectures (``ids``, canonical ``specs``) in row order, the space's
  config and id, and how the table was built (command, date, machine, commit, epochs, seeds,
  wall time).

Usage::

    python benchmarks/build_digits_table.py --n-archs 150 --seeds 2 --epochs 12 --workers 2 \\
        --out nasbook/_data/digits_cells

``--only-seed S`` trains one seed and writes no table, so seeds can run as parallel processes
(``--workers 1`` each); ``--from-db`` then writes the table from what the stores hold (an interrupted build: only the
architectures finished for every seed are kept, in the listed order).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import metadata  # noqa: E402

from nasbook import Search  # noqa: E402
from nasbook.executors import DaskExecutor  # noqa: E402
from nasbook.search import TrialState  # noqa: E402
from nasbook.space import Architecture, CellSpace  # noqa: E402
from nasbook.strategies import BaseStrategy  # noqa: E402
from nasbook.tasks import Digits  # noqa: E402

CURVES = ("val_accuracy", "val_loss", "train_loss")


class FixedList(BaseStrategy):
    """Proposes the given architectures in order, each once; then runs out (SpaceExhausted)."""

    alias = ""

    def __init__(self, specs: list[dict[str, Any]] | None = None, seed: int | None = None):
        super().__init__(seed=seed)
        self.specs = list(specs or [])

    def _setup(self) -> None:
        self._queue = [self.space_.from_dict(s) for s in self.specs]
        self._next = 0

    def _ask(self) -> Architecture:
        from nasbook._errors import SpaceExhausted

        while self._next < len(self._queue):
            arch = self._queue[self._next]
            self._next += 1
            if arch.id not in self.seen_:
                return arch
        raise SpaceExhausted("every listed architecture has been proposed")


def sample_archs(space: CellSpace, n: int, seed: int) -> list[Architecture]:
    """``n`` distinct architectures drawn uniformly (canonical forms) with ``seed``."""
    rng = np.random.default_rng(seed)
    out: list[Architecture] = []
    seen: set[str] = set()
    while len(out) < n:
        a = space.sample(rng)
        if a.id not in seen:
            seen.add(a.id)
            out.append(a)
    return out


def _search_name(seed: int) -> str:
    return f"digits-table-seed{seed}"


def write_table(out: Path, archs: list[Architecture], searches: dict[int, Search], epochs: int,
                meta: dict[str, Any], wall_s: float, space: CellSpace, task_params: dict[str, Any]) -> None:
    seeds = sorted(searches)
    per_seed: dict[int, dict[str, Any]] = {}
    for s in seeds:
        per_seed[s] = {t.arch.id: t for t in searches[s].trials
                       if t.state is TrialState.COMPLETE and t.epochs == epochs and len(t.curves.get("val_accuracy", [])) == epochs}
    keep = [a for a in archs if all(a.id in per_seed[s] for s in seeds)]
    dropped = [a.id for a in archs if a not in keep]
    n, k = len(keep), len(seeds)
    arrays: dict[str, np.ndarray] = {c: np.full((n, k, epochs), np.nan, dtype=np.float32) for c in CURVES}
    arrays["test_accuracy"] = np.full((n, k), np.nan, dtype=np.float32)
    arrays["train_time_s"] = np.full((n, k), np.nan, dtype=np.float32)
    arrays["n_params"] = np.zeros(n, dtype=np.int64)
    arrays["flops"] = np.zeros(n, dtype=np.int64)
    for i, a in enumerate(keep):
        for j, s in enumerate(seeds):
            t = per_seed[s][a.id]
            for c in CURVES:
                arrays[c][i, j] = np.asarray(t.curves[c], dtype=np.float32)
            arrays["test_accuracy"][i, j] = float(t.attrs.get("test_accuracy", np.nan))
            arrays["train_time_s"][i, j] = float(t.attrs.get("train_time_s", np.nan))
            arrays["n_params"][i] = int(t.attrs["n_params"])
            arrays["flops"][i] = int(t.attrs["flops"])
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out.with_suffix(".npz"), **arrays)  # type: ignore[arg-type]
    doc = {
        "format": 1,
        "description": "CellSpace() architectures trained on Digits: per-epoch curves for each training seed.",
        "space": {"config": space.to_config(), "space_id": space.space_id},
        "task": {"class": "Digits", "params": task_params},
        "epochs": epochs,
        "seeds": seeds,
        "n_archs": n,
        "ids": [a.id for a in keep],
        "specs": [a.to_dict() for a in keep],
        "arrays": {name: {"shape": list(v.shape), "dtype": str(v.dtype)} for name, v in arrays.items()},
        "dropped": dropped,
        "build": {**meta, "wall_s": round(wall_s, 1),
                  "searches": {str(s): searches[s].name for s in seeds}},
    }
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out.with_suffix('.npz')} ({out.with_suffix('.npz').stat().st_size / 1e3:.0f} kB) and "
          f"{out.with_suffix('.json')} ({out.with_suffix('.json').stat().st_size / 1e3:.0f} kB): "
          f"{n} archs x {k} seeds x {epochs} epochs; dropped {len(dropped)}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-archs", type=int, default=150)
    p.add_argument("--seeds", type=int, default=2, help="training seeds 0..SEEDS-1")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--arch-seed", type=int, default=0, help="seed of the uniform draw of architectures")
    p.add_argument("--out", default="nasbook/_data/digits_cells")
    p.add_argument("--db", default=None, help="SQLite store name (default bench-results/<out name>.db); one file per seed, <stem>-seed<S>.db")
    p.add_argument("--from-db", action="store_true", help="only (re)write the table from the store")
    p.add_argument("--note", default=None, help="free text stored in the JSON's build metadata (e.g. how the seeds were run)")
    p.add_argument("--only-seed", type=int, default=None,
                   help="train only this seed and write no table (run one process per seed, then --from-db)")
    args = p.parse_args(argv)

    out = Path(args.out)
    db_base = Path(args.db) if args.db else Path("bench-results") / f"{out.name}.db"
    db_base.parent.mkdir(parents=True, exist_ok=True)
    space = CellSpace()
    archs = sample_archs(space, args.n_archs, args.arch_seed)
    specs = [a.to_dict() for a in archs]
    meta = metadata(sys.argv if argv is None else ["benchmarks/build_digits_table.py", *argv])
    meta["arch_seed"] = args.arch_seed
    meta["workers"] = args.workers
    if args.note:
        meta["note"] = args.note
    task_params: dict[str, Any] = {}
    searches: dict[int, Search] = {}
    t0 = time.monotonic()
    from nasbook import load_search

    for s in range(args.seeds):
        if args.only_seed is not None and s != args.only_seed:
            continue
        task = Digits(max_epochs=args.epochs, seed=s)
        task_params = {k: v for k, v in task.get_params().items() if k != "seed"}
        name = _search_name(s)
        db = db_base.with_name(f"{db_base.stem}-seed{s}{db_base.suffix}")  # one file per seed: seeds may run in parallel
        try:
            search = (load_search(name, storage=f"sqlite:///{db}", strategy=FixedList(specs),
                                  executor=DaskExecutor(n_workers=args.workers, torch_threads=1))
                      if db.exists() else None)
        except Exception:  # not there yet
            search = None
        if args.from_db:
            if search is None:
                raise SystemExit(f"no search {name!r} in {db}")
            searches[s] = search
            continue
        if search is None:
            search = Search(space, task, strategy=FixedList(specs), budget=len(archs), seed=0,
                            storage=f"sqlite:///{db}", name=name,
                            executor=DaskExecutor(n_workers=args.workers, torch_threads=1))
        else:
            print(f"resuming {name}: {search.n_trials} trials stored", flush=True)
            if (search.budget.trials or 0) < len(archs):  # a longer list than the stored run had
                search.extend(trials=len(archs) - (search.budget.trials or 0))
        ts = time.monotonic()
        n_done = [0]

        def progress(srch: Search, trial: Any, _s: int = s, _ts: float = ts, n_done: list[int] = n_done) -> None:
            n_done[0] += 1
            if n_done[0] % 10 == 0:
                print(f"  seed {_s}: {n_done[0]} trials, {time.monotonic() - _ts:.0f} s, last "
                      f"val_acc={trial.value}", flush=True)

        search.callbacks = [*getattr(search, "callbacks", []), progress]
        search.run(progress="none")
        search.close()
        print(f"seed {s}: {search.n_trials} trials in {time.monotonic() - ts:.0f} s", flush=True)
        searches[s] = search
    wall = time.monotonic() - t0
    if args.only_seed is not None:
        print(f"seed {args.only_seed} done in {wall:.0f} s; write the table with --from-db", flush=True)
        return
    if args.from_db:  # time during which some trial was training, over every seed (a resumed build's pause excluded)
        times = sorted((t.started_at, t.finished_at) for srch in searches.values() for t in srch.trials
                       if t.started_at is not None and t.finished_at is not None)
        wall, end = 0.0, float("-inf")
        for st, fin in times:  # length of the union of the trials' intervals
            if fin > end:
                wall += fin - max(st, end)
                end = fin
        wall = wall if times else float("nan")
    write_table(out, archs, searches, args.epochs, meta, wall, space, task_params)


if __name__ == "__main__":
    main()
