"""Monitor overhead: a tabular search with the live progress display on vs off.

Goal (issue): "a tabular search of 2,000 trials with the monitor on is at most 1.5x slower than
with it off".

``Search(NasBenchGraph("cora"), strategy="random", budget=N, seed=r, storage=S).run(progress=P)``
for ``S`` in ``":memory:"`` and a fresh SQLite file in a temporary folder, and ``P`` in:

* ``none``: no display (the baseline);
* ``widget``: the ipywidgets box (``nasbook.display._monitor.WidgetProgress``). Outside a Jupyter
  kernel ipywidgets still builds the widgets and every update still computes its state and its
  HTML (progress value, label, best trial, sparkline SVG over all trials) and sets the traits;
  the messages just have no front-end to go to. That computation is the cost measured here;
  serialising comm messages to a live kernel's front-end is not included. ``display()`` prints
  the box's repr outside a kernel, so stdout goes to ``os.devnull`` during the run;
* ``bar``: the tqdm bar (``BarProgress``), written to ``os.devnull`` (stderr redirected).

Only ``run()`` is timed (construction and storage creation are not). Configurations are
interleaved repeat by repeat (the order rotates), after one untimed warm-up of each (table
load, ipywidgets and tqdm imports). Reported: median wall and CPU seconds (``time.process_time``,
less disturbed by other jobs than wall time), the ratio of each display's median over ``none``'s
for the same storage, PASS/FAIL against 1.5x, and the load average around each run. As a
diagnostic, the cost of one ``refresh()`` of each display on a finished N-trial search is timed
too (the monitor refreshes at most 5 times a second).

Usage::

    python benchmarks/monitor_overhead.py --json bench-results/monitor_overhead.json
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import describe_machine, describe_package, format_table, median, metadata, write_json

import nasbook
from nasbook.tasks import NasBenchGraph

GOAL = 1.5
PROGRESS = ("none", "widget", "bar")
STORAGES = ("memory", "sqlite")


def _one(task: NasBenchGraph, trials: int, seed: int, storage: str, progress: str, tmp: Path) -> dict[str, float]:
    where = ":memory:" if storage == "memory" else os.fspath(tmp / f"s{seed}-{progress}-{time.monotonic_ns()}.db")
    search = nasbook.Search(task, strategy="random", budget=trials, seed=seed, storage=where)
    load0 = os.getloadavg()[0]
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
        c0, t0 = time.process_time(), time.perf_counter()
        search.run(progress=progress)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert search.n_trials == trials, (search.n_trials, trials)
    search.storage.close()
    return {"wall_s": wall, "cpu_s": cpu, "load1_start": load0, "load1_end": os.getloadavg()[0]}


def _refresh_cost(task: NasBenchGraph, trials: int) -> dict[str, float]:
    """Milliseconds per refresh() of each display on a finished search of ``trials`` trials."""
    from nasbook.display._monitor import BarProgress, WidgetProgress

    search = nasbook.Search(task, strategy="random", budget=trials, seed=12345, storage=":memory:").run(progress="none")
    out = {}
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
        for name, cls in (("widget", WidgetProgress), ("bar", BarProgress)):
            p = cls(search)
            n = 20
            t0 = time.perf_counter()
            for _ in range(n):
                p.refresh()
            out[name] = 1000 * (time.perf_counter() - t0) / n
            p.close()
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args(argv)

    meta = metadata()
    print(f"# {describe_machine(meta)}")
    print(f"# {describe_package(meta)}")
    print(f"# load average at start: {meta['machine']['loadavg_at_start']}")
    task = NasBenchGraph("cora")
    configs = [(s, p) for s in STORAGES for p in PROGRESS]
    runs: dict[str, list[dict[str, float]]] = {f"{s}/{p}": [] for s, p in configs}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for s, p in configs:  # warm-up: table load, ipywidgets / tqdm imports
            _one(task, min(args.trials, 200), 999, s, p, tmp)
        for r in range(args.repeats):
            k = r % len(configs)
            for s, p in configs[k:] + configs[:k]:
                runs[f"{s}/{p}"].append(_one(task, args.trials, r, s, p, tmp))
                print(f"  repeat {r + 1}/{args.repeats} {s}/{p}: {runs[f'{s}/{p}'][-1]['wall_s']:.3f} s", file=sys.stderr)
    refresh_ms = _refresh_cost(task, args.trials)

    rows, summary = [], {}
    for s, p in configs:
        key = f"{s}/{p}"
        wall = median([x["wall_s"] for x in runs[key]])
        cpu = median([x["cpu_s"] for x in runs[key]])
        base = runs[f"{s}/none"]
        ratio = wall / median([x["wall_s"] for x in base])
        cpu_ratio = cpu / median([x["cpu_s"] for x in base])
        verdict = "" if p == "none" else ("PASS" if ratio <= GOAL else "FAIL")
        loads = [x["load1_start"] for x in runs[key]]
        summary[key] = {"median_wall_s": wall, "median_cpu_s": cpu, "ratio_wall": ratio, "ratio_cpu": cpu_ratio,
                        "verdict": verdict, "runs": runs[key]}
        rows.append([s, p, f"{wall:.3f}", f"{cpu:.3f}", f"{1000 * wall / args.trials:.3f}",
                     f"{ratio:.2f}x", f"{cpu_ratio:.2f}x", verdict, f"{min(loads):.1f}-{max(loads):.1f}"])
    print(f"\nMonitor overhead: {args.trials} trials of random search on NasBenchGraph('cora'), "
          f"{args.repeats} interleaved repeats, medians; goal <= {GOAL}x of progress='none'.")
    print(format_table(["storage", "progress", "wall s", "cpu s", "ms/trial", "wall ratio", "cpu ratio", "goal", "load1"], rows))
    print(f"\nOne refresh() on a finished {args.trials}-trial search: widget {refresh_ms['widget']:.2f} ms, "
          f"bar {refresh_ms['bar']:.2f} ms (at most 5 refreshes per second of search).")
    verdicts = [v["verdict"] for v in summary.values() if v["verdict"]]
    overall = "PASS" if all(v == "PASS" for v in verdicts) else "FAIL"
    print(f"Overall: {overall} (widget and bar, both storages, wall-clock medians); "
          f"load average at end: {[round(x, 2) for x in os.getloadavg()]} on {os.cpu_count()} CPUs.")
    result = {"meta": meta, "goal_ratio": GOAL, "trials": args.trials, "repeats": args.repeats,
              "results": summary, "refresh_ms": refresh_ms, "overall": overall}
    if args.json:
        write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
