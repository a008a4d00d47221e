"""Can the epochs a killed dask worker trained be known? What it costs to know more (h-lostcrash, task 3).

A trial on a ``DaskExecutor`` reports each epoch with ``Worker.log_event`` (batched: the worker sends its messages
every 2 ms, no round trip). Measured here, on a ``LocalCluster`` of nanny-managed worker processes:

``window``  a task logs one report and SIGKILLs its own worker at once (the worst moment: within the batching
            interval; allowed-failures 0, so no re-run); how many of ``--kills`` reports reached the scheduler's
            event log. An epoch's report sent earlier than ~2 ms before the kill has left the worker; the
            probability a kill lands in that window is about 2 ms / the epoch's length.
``cost``    per report, on one worker: ``Worker.log_event`` (what nasbook does) against a synchronous
            ``distributed.Variable.set`` (a round trip to the scheduler that would close the window, blocking
            training each epoch), ``--reports`` times each.
``store``   what making a found loss durable costs: one ``Storage.update_trial`` of a RUNNING row with the
            owner compare-and-set, on a SQLite file, ``--reports`` times.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 nice python benchmarks/lost_report_window.py --kills 15 --reports 300 \
        --json /tmp/lost-report-window.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _report_then_die(i: int) -> str:
    """One report, then SIGKILL of its own worker process (not re-run: allowed-failures is 0)."""
    from distributed import get_worker

    get_worker().log_event("lost-report-window", {"i": i})
    os.kill(os.getpid(), signal.SIGKILL)
    return "unreachable"


def _cost(how: str, n: int) -> tuple[float, float]:
    from distributed import Variable, get_client, get_worker

    worker = get_worker()
    var = Variable("lost-report-window-cost", client=get_client()) if how == "variable" else None
    took = []
    for k in range(n):
        t = time.perf_counter()
        if var is None:
            worker.log_event("lost-report-window-cost", {"k": k})
        else:
            var.set(k)
        took.append(time.perf_counter() - t)
    return statistics.median(took) * 1e3, sorted(took)[int(0.9 * (n - 1))] * 1e3


def store_cost(n: int) -> dict[str, float]:
    import numpy as np

    import nasbook
    from nasbook.search._loop import running_trial
    from nasbook.space import GraphSpace
    from nasbook.space._graph import PROTEINS_OPS
    from nasbook.strategies import Proposal
    from nasbook.testing import ToyTask

    space = GraphSpace(ops=PROTEINS_OPS)
    with tempfile.TemporaryDirectory() as d:
        s = nasbook.Search(space, ToyTask(space, epochs=5), strategy="random", budget=1, seed=0,
                           storage=os.path.join(d, "u.db"), name="u")
        proposal = Proposal(space.sample(np.random.default_rng(0)))
        s.storage.add_trial(s._search_id, running_trial(0, proposal, 0), owner="run")
        took = []
        for k in range(n):
            t = time.perf_counter()
            s.storage.update_trial(s._search_id, running_trial(0, proposal, 0, lost=k + 1), owner="run")
            took.append(time.perf_counter() - t)
        s.close()
    return {"median_ms": statistics.median(took) * 1e3, "p90_ms": sorted(took)[int(0.9 * (n - 1))] * 1e3}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=15, help="workers killed right after a report (default 15)")
    ap.add_argument("--reports", type=int, default=300, help="reports (and store updates) timed (default 300)")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if args.kills < 1 or args.reports < 2:
        ap.error(f"--kills must be >= 1 and --reports >= 2; got {args.kills} and {args.reports}")
    import dask
    from distributed import Client, KilledWorker, LocalCluster

    dask.config.set({"distributed.scheduler.allowed-failures": 0})  # a killed task fails at once: no re-run to wait for
    out: dict[str, Any] = {"command": " ".join(sys.argv), "load": os.getloadavg()}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        for i in range(args.kills):
            try:
                client.submit(_report_then_die, i, pure=False).result(timeout=60)
            except KilledWorker:
                pass
            time.sleep(0.5)  # the nanny has restarted the worker before the next kill
        time.sleep(1.0)  # what was sent has reached the scheduler by now
        got = {e[1]["i"] for e in client.get_events("lost-report-window")}
        out["window"] = {"kills": args.kills, "reports_reached": len(got)}
        print(f"window: {len(got)} of {args.kills} reports sent right before a SIGKILL reached the scheduler", flush=True)
        for how in ("log_event", "variable"):
            med, p90 = client.submit(_cost, how, args.reports, pure=False).result(timeout=300)
            out[f"cost_{how}"] = {"median_ms": med, "p90_ms": p90}
            print(f"cost: {how}: per report median {med:.3f} ms, p90 {p90:.3f} ms", flush=True)
    out["store"] = store_cost(args.reports)
    print(f"store: update_trial of a RUNNING row (SQLite file): median {out['store']['median_ms']:.3f} ms, "
          f"p90 {out['store']['p90_ms']:.3f} ms", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
