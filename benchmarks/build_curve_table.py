"""Build a learning-curve table: the shipped MNIST-1D table (``nasbook/_data/mnist1d_chains``) or the Digits one.

``--table mnist1d`` trains ``--n-archs`` distinct ``ConvDenseSpace()`` networks on
``MNIST1D(max_epochs=--epochs, seed=s, lr=--lr, batch_size=--batch-size)``; ``--table digits``
trains ``CellSpace()`` cells on ``Digits`` (what ``build_digits_table.py`` does). Each training
seed ``s`` in ``range(--seeds)`` gets one :class:`nasbook.Search` over the same list of
architectures, with a strategy that proposes exactly that list in order, a
:class:`~nasbook.executors.DaskExecutor` of ``--workers`` single-threaded workers and a SQLite
store per seed (``bench-results/<out name>-seed<S>.db``, kept out of the package). The seeds take
turns in chunks of ``--chunk`` architectures, so an interrupted build holds both seeds of a
prefix of the list: ``--from-db`` writes the table from what the stores hold (only architectures
finished for every seed, in list order), and running the same command again resumes.

Architectures: ``digits`` draws uniformly; ``mnist1d`` draws stratified by the number of
convolution layers (every network without convolution -- logistic regression and the MLPs -- and
equal shares of 1, 2, 3, 4 convolution layers, each uniform inside its stratum), so that the
families that differ in kind are all in the table.

Writes ``<out>.npz`` (numeric arrays only: ``val_accuracy``, ``val_loss``, ``train_loss`` float32
``(n_archs, n_seeds, n_epochs)``; ``test_accuracy``, ``train_time_s`` float32 ``(n_archs, n_seeds)``;
``n_params``, ``flops`` int64 ``(n_archs,)``; with ``--latency`` also ``latency_ms`` float32
``(n_archs,)``: median ms of batch-1 CPU inference at one thread, measured with
``torch.utils.benchmark``) and ``<out>.json`` (ids, specs, space and task config, how it was built).

Usage::

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/build_curve_table.py --table mnist1d \\
        --n-archs 210 --seeds 2 --epochs 15 --lr 0.01 --batch-size 256 --workers 2 --out nasbook/_data/mnist1d_chains
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import metadata  # noqa: E402

from nasbook import Search, load_search  # noqa: E402
from nasbook.executors import DaskExecutor  # noqa: E402
from nasbook.search import TrialState  # noqa: E402
from nasbook.space import Architecture, CellSpace, ConvDenseSpace, SearchSpace  # noqa: E402
from nasbook.strategies import BaseStrategy  # noqa: E402
from nasbook.tasks import MNIST1D, Digits  # noqa: E402

CURVES = ("val_accuracy", "val_loss", "train_loss")

PRESETS: dict[str, dict[str, Any]] = {
    "digits": {"space": CellSpace, "task": Digits, "n_archs": 150, "epochs": 12, "lr": 1e-3, "batch_size": 64,
               "input_shape": (1, 8, 8), "out": "nasbook/_data/digits_cells", "search": "digits-table-seed{s}",
               "description": "CellSpace() architectures trained on Digits: per-epoch curves for each training seed."},
    "mnist1d": {"space": ConvDenseSpace, "task": MNIST1D, "n_archs": 210, "epochs": 15, "lr": 1e-2, "batch_size": 256,
                "input_shape": (1, 40), "out": "nasbook/_data/mnist1d_chains", "search": "mnist1d-table-seed{s}",
                "description": "ConvDenseSpace() networks (stratified by conv layers) trained on MNIST1D: "
                               "per-epoch curves for each training seed."},
}


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


def sample_archs(space: SearchSpace, n: int, seed: int) -> list[Architecture]:
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


def stratified_archs(space: ConvDenseSpace, n: int, seed: int) -> list[Architecture]:
    """``n`` distinct networks, equal shares per number of conv layers (a stratum smaller than its
    share is taken whole), uniform inside a stratum; shuffled so any prefix mixes the strata."""
    rng = np.random.default_rng(seed)
    convs = [(o, w) for o in space.conv_ops for w in space.conv_widths]
    dense_stacks = [list(d) for k in range(space.min_dense, space.max_dense + 1)
                    for d in np.ndindex(*([len(space.dense_widths)] * k))]
    strata = list(range(space.min_conv, space.max_conv + 1))
    sizes = {k: len(convs) ** k * len(dense_stacks) for k in strata}
    quota: dict[int, int] = {}
    left, rest = n, sorted(strata, key=lambda k: sizes[k])
    while rest:
        k = rest.pop(0)
        quota[k] = min(sizes[k], math.ceil(left / (len(rest) + 1)))
        left -= quota[k]
    out: list[Architecture] = []
    for k in strata:
        seen: set[str] = set()
        while len(seen) < quota[k]:
            conv = [list(convs[int(rng.integers(len(convs)))]) for _ in range(k)]
            dense = [space.dense_widths[i] for i in dense_stacks[int(rng.integers(len(dense_stacks)))]]
            a = space.make(conv=conv, dense=dense)
            if a.id not in seen:
                seen.add(a.id)
                out.append(a)
    return [out[i] for i in rng.permutation(len(out))][:n]


def measure_latency(space: SearchSpace, archs: list[Architecture], input_shape: tuple[int, ...], n_classes: int) -> np.ndarray:
    """Median ms of one batch-1 forward pass on CPU at one thread (``torch.utils.benchmark``), per architecture."""
    import torch
    from torch.utils import benchmark

    torch.set_num_threads(1)
    out = np.zeros(len(archs), dtype=np.float32)
    x = torch.randn(1, *input_shape)
    for i, a in enumerate(archs):
        torch.manual_seed(0)
        model = space.build(a, input_shape, n_classes).eval()
        with torch.inference_mode():
            model(x)  # warm-up
            timer = benchmark.Timer(stmt="model(x)", globals={"model": model, "x": x}, num_threads=1)
            out[i] = timer.blocked_autorange(min_run_time=0.05).median * 1e3
    return out


def write_table(out: Path, archs: list[Architecture], searches: dict[int, Search], epochs: int, meta: dict[str, Any],
                wall_s: float, space: SearchSpace, task_name: str, task_params: dict[str, Any], description: str,
                latency: bool = False, input_shape: tuple[int, ...] = (1, 40)) -> None:
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
    if latency and n:
        t0 = time.monotonic()
        arrays["latency_ms"] = measure_latency(space, keep, input_shape, 10)
        print(f"latency of {n} networks measured in {time.monotonic() - t0:.0f} s", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out.with_suffix(".npz"), **arrays)  # type: ignore[arg-type]
    doc = {
        "format": 1,
        "description": description,
        "space": {"config": space.to_config(), "space_id": space.space_id},
        "task": {"class": task_name, "params": task_params},
        "epochs": epochs,
        "seeds": seeds,
        "n_archs": n,
        "ids": [a.id for a in keep],
        "specs": [a.to_dict() for a in keep],
        "arrays": {name: {"shape": list(v.shape), "dtype": str(v.dtype)} for name, v in arrays.items()},
        "dropped": dropped,
        "build": {**meta, "wall_s": round(wall_s, 1), "searches": {str(s): searches[s].name for s in seeds}},
    }
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out.with_suffix('.npz')} ({out.with_suffix('.npz').stat().st_size / 1e3:.0f} kB) and "
          f"{out.with_suffix('.json')} ({out.with_suffix('.json').stat().st_size / 1e3:.0f} kB): "
          f"{n} archs x {k} seeds x {epochs} epochs; dropped {len(dropped)}", flush=True)


def _union_wall(searches: dict[int, Search]) -> float:
    """Time during which some trial was training, over every seed (a resumed build's pauses excluded)."""
    times = sorted((t.started_at, t.finished_at) for srch in searches.values() for t in srch.trials
                   if t.started_at is not None and t.finished_at is not None)
    wall, end = 0.0, float("-inf")
    for st, fin in times:
        if fin > end:
            wall += fin - max(st, end)
            end = fin
    return wall if times else float("nan")


def main(argv: list[str] | None = None, prog: str = "benchmarks/build_curve_table.py") -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--table", choices=sorted(PRESETS), default="mnist1d")
    p.add_argument("--n-archs", type=int, default=None, help="default: 210 (mnist1d), 150 (digits)")
    p.add_argument("--seeds", type=int, default=2, help="training seeds 0..SEEDS-1")
    p.add_argument("--epochs", type=int, default=None, help="default: 15 (mnist1d), 12 (digits)")
    p.add_argument("--lr", type=float, default=None, help="Adam's learning rate (default: 1e-2 mnist1d, 1e-3 digits)")
    p.add_argument("--batch-size", type=int, default=None, help="default: 256 (mnist1d), 64 (digits)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunk", type=int, default=30, help="architectures per seed before the other seed takes its turn")
    p.add_argument("--arch-seed", type=int, default=0, help="seed of the draw of architectures")
    p.add_argument("--out", default=None)
    p.add_argument("--db", default=None, help="SQLite store name (default bench-results/<out name>.db); one file per seed, <stem>-seed<S>.db")
    p.add_argument("--from-db", action="store_true", help="only (re)write the table from the stores")
    p.add_argument("--latency", action=argparse.BooleanOptionalAction, default=None, help="measure latency_ms (default: on for mnist1d)")
    p.add_argument("--note", default=None, help="free text stored in the JSON's build metadata")
    p.add_argument("--only-seed", type=int, default=None, help="train only this seed and write no table (then --from-db)")
    args = p.parse_args(argv)
    preset = PRESETS[args.table]
    n_archs = args.n_archs or preset["n_archs"]
    epochs = args.epochs or preset["epochs"]
    lr = args.lr if args.lr is not None else preset["lr"]
    batch_size = args.batch_size or preset["batch_size"]
    latency = args.latency if args.latency is not None else args.table == "mnist1d"
    out = Path(args.out or preset["out"])
    db_base = Path(args.db) if args.db else Path("bench-results") / f"{out.name}.db"
    db_base.parent.mkdir(parents=True, exist_ok=True)
    space = preset["space"]()
    archs = stratified_archs(space, n_archs, args.arch_seed) if args.table == "mnist1d" else sample_archs(space, n_archs, args.arch_seed)
    specs = [a.to_dict() for a in archs]
    meta = metadata([prog, *(sys.argv[1:] if argv is None else argv)])
    meta.update(arch_seed=args.arch_seed, workers=args.workers, chunk=args.chunk)
    if args.note:
        meta["note"] = args.note
    seeds = [s for s in range(args.seeds) if args.only_seed is None or s == args.only_seed]
    searches: dict[int, Search] = {}
    task_params: dict[str, Any] = {}
    for s in seeds:
        task_kwargs: dict[str, Any] = {"max_epochs": epochs, "seed": s, "lr": lr, "batch_size": batch_size}
        task = preset["task"](**task_kwargs)
        task_params = {k: v for k, v in task.get_params().items() if k != "seed"}
        name = preset["search"].format(s=s)
        db = db_base.with_name(f"{db_base.stem}-seed{s}{db_base.suffix}")
        executor = DaskExecutor(n_workers=args.workers, torch_threads=1)
        search = None
        if db.exists():
            try:
                search = load_search(name, storage=f"sqlite:///{db}", task=task, strategy=FixedList(specs), executor=executor)
                print(f"resuming {name}: {search.n_trials} trials stored", flush=True)
            except Exception:  # not there yet
                search = None
        if search is None:
            if args.from_db:
                raise SystemExit(f"no search {name!r} in {db}")
            search = Search(space, task, strategy=FixedList(specs), budget=min(args.chunk, len(archs)), seed=0,
                            storage=f"sqlite:///{db}", name=name, executor=executor)
        searches[s] = search
    t0 = time.monotonic()
    if not args.from_db:
        done = {s: 0 for s in seeds}
        for target in range(args.chunk, len(archs) + args.chunk, args.chunk):
            target = min(target, len(archs))
            for s in seeds:
                search = searches[s]
                if (search.budget.trials or 0) < target:
                    search.extend(trials=target - (search.budget.trials or 0))
                ts = time.monotonic()

                def progress(srch: Search, trial: Any, _s: int = s) -> None:
                    done[_s] += 1
                    if done[_s] % 10 == 0:
                        print(f"  seed {_s}: {done[_s]} trials this run, {time.monotonic() - t0:.0f} s, last val_acc={trial.value}", flush=True)

                search.callbacks = [cb for cb in getattr(search, "callbacks", []) if getattr(cb, "__name__", "") != "progress"] + [progress]
                search.run(progress="none")
                print(f"seed {s}: {search.n_trials} trials stored (target {target}), chunk in {time.monotonic() - ts:.0f} s", flush=True)
        for search in searches.values():
            search.close()
        print(f"trained in {time.monotonic() - t0:.0f} s", flush=True)
    if args.only_seed is not None:
        print(f"seed {args.only_seed} done; write the table with --from-db", flush=True)
        return
    write_table(out, archs, searches, epochs, meta, _union_wall(searches), space, preset["task"].__name__, task_params,
                preset["description"], latency=latency, input_shape=preset["input_shape"])


if __name__ == "__main__":
    main()
