"""The same training in the notebook process, in a plain dask worker, and in a worker nasbook starts.

Dask gives every worker it spawns ``MALLOC_TRIM_THRESHOLD_=65536`` (its
``distributed.nanny.pre-spawn-environ``) and a statistical profiler sampling every thread 100
times a second. ``DaskExecutor`` starts its workers without either (``training_worker_config``).
This script measures what that is worth, side by side in one run: ``--repeats`` rounds, each
training ``--per-round`` times in every place, interleaved, on one fixed ``CellSpace()`` cell (two
3x3 convolutions, skip connections elsewhere) with ``Digits(max_epochs=--epochs)``, one torch
thread. The figure per training is ``attrs["train_time_s"]`` (Lightning's fit, measured inside
the trial), so round trips to the workers do not count. The plain cluster is started first, as
in a notebook that used dask before, so the variable it leaves in this process's environment is
there when nasbook's workers start.

Usage::

    python benchmarks/worker_training_speed.py --json bench-results/worker_training_speed.json
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import warnings
from typing import Any

from _common import describe_machine, describe_package, format_table, metadata, write_json


def train(n: int, epochs: int) -> dict[str, Any]:
    """Runs wherever it is called: ``n`` trainings of the fixed cell; fit seconds and the settings seen."""
    import dask
    import torch

    from nasbook.space import CellSpace
    from nasbook.tasks import Digits

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    space = CellSpace()
    arch = space.make(edges=["nor_conv_3x3", "nor_conv_3x3", "skip_connect", "skip_connect", "skip_connect", "skip_connect"])
    task = Digits(max_epochs=epochs, num_threads=1)
    fits = [float(task.evaluate(arch, space=space).attrs["train_time_s"]) for _ in range(n)]
    try:
        profiler = bool(dask.config.get("distributed.worker.profile.enabled"))
    except KeyError:
        profiler = None  # type: ignore[assignment]
    return {"fit_s": fits, "MALLOC_TRIM_THRESHOLD_": os.environ.get("MALLOC_TRIM_THRESHOLD_"), "profiler": profiler,
            "pid": os.getpid()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--per-round", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    meta = metadata([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    print(f"# {meta['command']}")
    print(f"# {meta['date_utc']}; {describe_machine(meta)}")
    print(f"# {describe_package(meta)}")
    print(f"# load average at start: {meta['machine']['loadavg_at_start']}")

    from distributed import Client, LocalCluster

    from nasbook.executors import DaskExecutor

    here = train(1, args.epochs)  # warm-up here, and the settings this process started with
    here["profiler"] = "n/a"

    plain = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    plain_client = Client(plain, set_as_default=False)
    ex = DaskExecutor(n_workers=1)
    ex.start()
    places = {
        "notebook process": lambda n: train(n, args.epochs),
        "plain dask worker": lambda n: plain_client.submit(train, n, args.epochs, pure=False).result(),
        "nasbook worker": lambda n: ex.dask_client.submit(train, n, args.epochs, pure=False).result(),
    }
    try:
        seen = {name: run(1) for name, run in places.items() if name != "notebook process"}  # warm-up
        seen["notebook process"] = here
        fits: dict[str, list[float]] = {name: [] for name in places}
        t0 = time.perf_counter()
        for r in range(args.repeats):
            names = list(places)
            for name in names[r % 3:] + names[: r % 3]:  # rotate the order round by round
                fits[name] += places[name](args.per_round)["fit_s"]
        wall = time.perf_counter() - t0
    finally:
        ex.close()
        plain_client.close()
        plain.close()
    base = statistics.median(fits["notebook process"])
    rows = []
    for name in places:
        v = fits[name]
        rows.append([name, seen[name]["MALLOC_TRIM_THRESHOLD_"] or "unset", str(seen[name]["profiler"]),
                     f"{statistics.median(v):.3f}", f"{min(v):.3f}..{max(v):.3f}", f"{statistics.median(v) / base:.2f}x"])
    print(f"\n## {args.epochs}-epoch Digits training of one CellSpace cell, {args.repeats} interleaved rounds x "
          f"{args.per_round} per place (fit seconds inside the trial)")
    print(format_table(["where", "MALLOC_TRIM_THRESHOLD_", "dask profiler", "median fit s", "min..max", "vs notebook"], rows))
    print(f"plain dask worker / nasbook worker = "
          f"{statistics.median(fits['plain dask worker']) / statistics.median(fits['nasbook worker']):.2f}x; "
          f"{wall:.0f} s; load average at end {tuple(round(x, 2) for x in os.getloadavg())}")
    if args.json:
        write_json(args.json, {"meta": meta, "fit_s": fits, "settings": seen, "wall_s": wall})
        print(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
