"""Growth with weight inheritance against the same evolution training every child from scratch.

For each task and seed, two searches with the same strategy, seed, space and number of trials
(in-memory storage, local executor, one thread):

* ``growth``: :class:`~nasbook.strategies.Growth` with ``inherit=True`` and ``start="small"``:
  the first ``--population`` trials (the smallest chains of the space: one or two layers of the
  smallest width) train ``--start-epochs`` epochs from scratch; every grown child starts from its
  parent's checkpoint (deepen: a soft-landing seed; widen: exact, new units with zero weight in the next
  layer, ``--method``) and trains
  ``--child-epochs`` epochs with one learning-rate cycle (``Growth(lr_cycle=...)``: a warm-up over
  ``--warmup`` of its steps from ``--floor`` times ``--lr`` to ``--lr``, then a cosine decay back to the
  floor; ``--no-lr-cycle``: the task's constant lr, as in round 3);
* ``scratch``: the same ``Growth`` with ``inherit=False``: the same initial population (same
  seed, same architectures) and the same rule for children (a tournament of ``--sample-size``
  among the members; the winner grows by a move chosen by ``--choice``: ``capacity`` widens a
  narrow chain to the widest width before deepening it), every trial trained from scratch for
  ``--epochs`` epochs. A winner that cannot grow (as large as the space allows) is trained
  ``--continue-epochs`` more epochs from its checkpoint in the growth run (``train_more``, counted as
  those extra epochs only) and mutated (a plain mutation, trained from scratch) in the scratch
  run; ``--no-train-more``: the tournament among the growable members only, as before. Both arms
  run with ``Growth(exploit=--exploit)``: ``always`` (the default since round 5): the population's best
  member is always the parent (grown while it can, then continued in the growth run, mutated in the
  scratch run); ``full`` (round 4): the best is the parent once it cannot grow, a tournament's winner
  before; ``off``: round 3's rule. The
  control ``--scratch-lr-cycle`` trains every scratch trial with the same learning-rate cycle
  (the task itself has a constant lr), to tell how much of a gap the schedule alone makes.
  ``--continue-epochs`` (``Growth(continue_epochs=...)``, growth run only): the epochs a continued
  full-size network trains (default: ``--epochs``, the task's ``max_epochs``);
  ``--deepen-op`` (``Growth(deepen_op=...)``, both runs): ``largest`` (the default since round 5)
  makes a deepen insert the op with the most weights (``conv3x3`` here), ``random`` any op.

Measures per seed, then mean ± std: the from-scratch run's final best validation accuracy (the
target); the training epochs (sum of ``trial.epochs`` in trial order) and the wall time (sum of
``train_time_s``) each run spent until its best validation accuracy first reached that target
(growth's goal: <= 50% of scratch's epochs); the final best validation accuracy of each (goal:
growth not worse). A run that never reaches the target is counted apart.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/growth.py --task mnist1d digits --seeds 3 --json bench-results/growth.json
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import format_table, mean_std, metadata, pm, write_json  # noqa: E402


def make_task(name: str, epochs: int, lr: float) -> Any:
    """The task, or None with a message when it is not available in this install."""
    import nasbook.tasks as tasks

    if name == "digits":
        return tasks.Digits(max_epochs=epochs, lr=lr)
    cls = getattr(tasks, "MNIST1D", None)
    if cls is None:
        print(f"[skip] task {name!r}: nasbook.tasks.MNIST1D is not importable in this install", flush=True)
        return None
    return cls(max_epochs=epochs, lr=lr)


@contextlib.contextmanager
def scratch_cycle(cycle: dict[str, float] | None) -> Iterator[None]:
    """The control ``--scratch-lr-cycle``: while it is open, every training call without callbacks (a trial
    trained from scratch) runs the same learning-rate cycle as a grown child (a ``SeedController`` with no seed)."""
    if cycle is None:
        yield
        return
    import nasbook.training as training
    from nasbook.growth import SeedController

    plain = training.train

    def train(*a: Any, **kw: Any) -> Any:
        if not kw.get("callbacks"):
            kw["callbacks"] = [SeedController([], cycle=cycle)]
        return plain(*a, **kw)

    training.train = train  # type: ignore[assignment]
    try:
        yield
    finally:
        training.train = plain  # type: ignore[assignment]


def one_run(task: Any, inherit: bool, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    from nasbook.search import Search
    from nasbook.space import ChainSpace
    from nasbook.strategies import Growth

    space = ChainSpace(kind="cnn", max_depth=args.max_depth, widths=(8, 16, 32), ops=("conv3x3", "conv1x1", "sepconv3x3"))
    strategy = Growth(population_size=args.population, sample_size=args.sample_size,
                      child_epochs=args.child_epochs if inherit else None,
                      start_epochs=args.start_epochs if inherit else None, inherit=inherit,
                      blend_length=args.blend_length, patience=args.patience, method=args.method,
                      choice=args.choice, train_more=not args.no_train_more,
                      exploit=args.exploit, continue_epochs=(args.continue_epochs or args.epochs) if inherit else None,
                      deepen_op=args.deepen_op,
                      lr_cycle=False if args.no_lr_cycle else {"warmup": args.warmup, "floor": args.floor})
    t0 = time.perf_counter()
    search = Search(space, task, strategy=strategy, budget=args.trials, seed=seed, storage=":memory:")
    with scratch_cycle({"warmup": args.warmup, "floor": args.floor} if not inherit and args.scratch_lr_cycle else None):
        search.run(progress="none")
    trials = sorted(search.trials, key=lambda t: t.number)
    by_number = {t.number: t for t in trials}

    def trained(t: Any) -> int:  # a continued trial (train_more) trained only the epochs beyond its parent's
        before = by_number[t.parent].epochs or 0 if t.parent is not None and t.parent in by_number else 0
        return max(0, (t.epochs or 0) - before)

    rows = [{"number": t.number, "epochs": trained(t), "value": t.value, "grown": bool(t.lineage),
             "train_time_s": float(t.attrs.get("train_time_s", 0.0)), "ready": t.metrics.get("growth_ready"),
             "stage": t.metrics.get("seed0_stage"),
             "continued": t.parent is not None, "arch": [list(x) for x in t.arch.spec.get("layers", [])]} for t in trials]
    best = max((r["value"] for r in rows if r["value"] is not None), default=float("nan"))
    return {"trials": rows, "best": best, "wall_s": time.perf_counter() - t0, "moves": dict(strategy.moves_used_)}


def to_reach(run: dict[str, Any], target: float) -> tuple[int | None, float | None]:
    epochs, secs, best = 0, 0.0, float("-inf")
    for r in run["trials"]:
        epochs += r["epochs"]
        secs += r["train_time_s"]
        if r["value"] is not None:
            best = max(best, r["value"])
        if best >= target - 1e-9:
            return epochs, secs
    return None, None


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", nargs="+", default=["digits"], choices=["digits", "mnist1d"])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--trials", type=int, default=16)
    p.add_argument("--population", type=int, default=5)
    p.add_argument("--sample-size", type=int, default=3)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--child-epochs", type=int, default=2)
    p.add_argument("--start-epochs", type=int, default=1)
    p.add_argument("--continue-epochs", type=int, default=None,
                   help="Growth(continue_epochs=...): epochs a continued full-size network trains (default: --epochs)")
    p.add_argument("--patience", type=int, default=1)
    p.add_argument("--blend-length", type=int, default=10)
    p.add_argument("--max-depth", type=int, default=4)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--method", default="zero", choices=["zero", "net2net"], help="how widen initialises new units")
    p.add_argument("--choice", default="capacity", choices=["capacity", "uniform", "widen_all"],
                   help="how a parent's move is chosen (both arms): widen narrow chains first, or a kind uniformly")
    p.add_argument("--deepen-op", default="largest", choices=["random", "largest"],
                   help="Growth(deepen_op=...) (both arms): a deepen inserts any op, or the one with the most weights")
    p.add_argument("--no-train-more", action="store_true",
                   help="Growth(train_more=False): tournament among growable members only, no continued trials")
    p.add_argument("--exploit", default="always", choices=["off", "full", "always"],
                   help="Growth(exploit=...) (both arms): when the population's best is the parent (off: round 3)")
    p.add_argument("--no-lr-cycle", action="store_true",
                   help="Growth(lr_cycle=False): grown and continued children keep the task's constant lr (round 3)")
    p.add_argument("--scratch-lr-cycle", action="store_true",
                   help="control: the scratch arm trains every trial with the same learning-rate cycle")
    p.add_argument("--warmup", type=float, default=0.1, help="lr cycle: warm-up fraction of a child's steps")
    p.add_argument("--floor", type=float, default=0.05, help="lr cycle: the lr at both ends, as a fraction of --lr")
    p.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1 (probes: 100)")
    p.add_argument("--json", required=True)
    return p


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    out: dict[str, Any] = {"meta": metadata(), "args": vars(args), "tasks": {}}
    for name in args.task:
        task = make_task(name, args.epochs, args.lr)
        if task is None:
            out["tasks"][name] = {"skipped": "nasbook.tasks.MNIST1D is not importable"}
            continue
        per_seed = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            scratch = one_run(task, False, seed, args)
            print(f"[{name} seed {seed}] scratch best {scratch['best']:.4f} in {scratch['wall_s']:.0f} s", flush=True)
            grown = one_run(task, True, seed, args)
            print(f"[{name} seed {seed}] growth  best {grown['best']:.4f} in {grown['wall_s']:.0f} s; moves "
                  f"{grown['moves']}", flush=True)
            target = scratch["best"]
            se, ss = to_reach(scratch, target)
            ge, gs = to_reach(grown, target)
            per_seed.append({"seed": seed, "target": target, "scratch": scratch, "growth": grown,
                             "scratch_epochs_to_target": se, "scratch_seconds_to_target": ss,
                             "growth_epochs_to_target": ge, "growth_seconds_to_target": gs,
                             "scratch_epochs_total": sum(r["epochs"] for r in scratch["trials"]),
                             "growth_epochs_total": sum(r["epochs"] for r in grown["trials"]),
                             "seeds_active": sum(1 for r in grown["trials"] if r["stage"] == 3.0),
                             "seeds_culled": sum(1 for r in grown["trials"] if r["stage"] == 4.0),
                             "seeds_unfinished": sum(1 for r in grown["trials"] if r["stage"] in (0.0, 1.0, 2.0))})
            out["tasks"][name] = {"seeds": per_seed, "partial": True}
            write_json(args.json, out)  # after every seed: a stopped run keeps what it finished
        out["tasks"][name] = {"seeds": per_seed}
        reached = [s for s in per_seed if s["growth_epochs_to_target"] is not None]
        ratio = [s["growth_epochs_to_target"] / s["scratch_epochs_to_target"] for s in reached]
        tratio = [s["growth_seconds_to_target"] / s["scratch_seconds_to_target"] for s in reached]
        rows = [
            ["final best val acc", pm(*mean_std([s["scratch"]["best"] for s in per_seed]), 4),
             pm(*mean_std([s["growth"]["best"] for s in per_seed]), 4)],
            ["epochs in all", pm(*mean_std([s["scratch_epochs_total"] for s in per_seed]), 1),
             pm(*mean_std([s["growth_epochs_total"] for s in per_seed]), 1)],
            ["epochs to scratch's best", pm(*mean_std([s["scratch_epochs_to_target"] for s in per_seed]), 1),
             pm(*mean_std([s["growth_epochs_to_target"] for s in reached]), 1) if reached else "never"],
            ["train s to scratch's best", pm(*mean_std([s["scratch_seconds_to_target"] for s in per_seed]), 1),
             pm(*mean_std([s["growth_seconds_to_target"] for s in reached]), 1) if reached else "never"],
        ]
        print(f"\n{name}: {args.trials} trials, {args.seeds} seeds (growth reached scratch's best in {len(reached)} of "
              f"{len(per_seed)} seeds)")
        print(format_table(["", "scratch", "growth"], rows))
        if ratio:
            print(f"growth epochs / scratch epochs to scratch's best: {pm(*mean_std(ratio), 2)}; "
                  f"train time ratio {pm(*mean_std(tratio), 2)}")
        for s in per_seed:
            print(f"  seed {s['seed']}: target {s['target']:.4f}; epochs to it scratch {s['scratch_epochs_to_target']} "
                  f"growth {s['growth_epochs_to_target']}; train s scratch {s['scratch_seconds_to_target']:.0f} growth "
                  + (f"{s['growth_seconds_to_target']:.0f}" if s["growth_seconds_to_target"] is not None else "never")
                  + f"; final best scratch {s['scratch']['best']:.4f} growth {s['growth']['best']:.4f}; growth moves "
                  f"{s['growth']['moves']}, scratch moves {s['scratch']['moves']}")
        moves: dict[str, int] = {}
        for s in per_seed:
            for k, v in s["growth"]["moves"].items():
                moves[k] = moves.get(k, 0) + v
        total = sum(moves.values()) or 1
        print("growth run's moves: " + ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in sorted(moves.items())))
        print("seeds of grown children: active {}, culled {}, unfinished {}".format(
            sum(s["seeds_active"] for s in per_seed), sum(s["seeds_culled"] for s in per_seed),
            sum(s["seeds_unfinished"] for s in per_seed)), flush=True)
        out["tasks"][name]["summary"] = {"epoch_ratio": ratio, "time_ratio": tratio, "reached": len(reached),
                                         "moves": moves}
    write_json(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
