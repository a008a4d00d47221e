"""BO's cost per ask, two versions of nasbook side by side: the same asks, interleaved, paired.

Each version runs in its own worker process (``PYTHONPATH`` = that version's checkout), and both
hold the same ``BO`` state: N architectures drawn uniformly (seeded) told with their table
scores, then one untimed ask (the one-off encoding of the space). Then ``--asks`` asks are
timed, one version after the other (which goes first alternates), each ask told before the next;
the parent checks that both versions propose the same architecture at every ask (``--params`` /
``--old-params`` may give each side its own BO parameters, e.g. a surrogate with ``n_jobs``; the
check then says whether the proposals still agree). One BLAS/OpenMP thread
(``OMP_NUM_THREADS=1``, as the predictors limit themselves), the load average printed per size.

Usage::

    git archive 2e81873 nasbook | tar -x -C bench-results/old_2e81873
    python benchmarks/bo_cost_compare.py --old bench-results/old_2e81873 --datasets cora,proteins \\
        --sizes 100,1000 --asks 8 --json bench-results/bo_cost_compare.json
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402 - the thread settings come first
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def worker(dataset: str, n: int, seed: int, params: dict[str, Any]) -> None:
    """One version's BO, driven by lines on stdin (``ask``, ``quit``); one JSON line per ask on stdout."""
    import numpy as np

    from nasbook.strategies import BO
    from nasbook.tasks import NasBenchGraph
    from nasbook.trial import Trial, TrialState

    task = NasBenchGraph(dataset)
    everything = task.space.enumerate()
    archs = [everything[i] for i in np.random.default_rng(seed).choice(len(everything), n, replace=False)]
    s = BO(**params).setup(task.space, seed=seed, mode=task.mode)
    for i, a in enumerate(archs):
        s.tell(Trial(i, a, TrialState.COMPLETE, task.evaluate(a).value, n_told_before=i))
    k = len(archs)

    def one() -> dict[str, Any]:
        nonlocal k
        t0 = time.perf_counter()
        a = s.ask()
        wall = time.perf_counter() - t0
        s.tell(Trial(k, a, TrialState.COMPLETE, task.evaluate(a).value))
        k += 1
        _, fit, acq = s.timings_[-1]
        return {"id": a.id, "ask_ms": 1e3 * wall, "fit_ms": 1e3 * fit, "acquisition_ms": 1e3 * acq}

    first = one()  # encodes the whole space once: not timed
    import nasbook

    print(json.dumps({"ready": True, "first": first, "strategy": repr(s), "nasbook": nasbook.__file__}), flush=True)
    for line in sys.stdin:
        if line.strip() != "ask":
            break
        print(json.dumps(one()), flush=True)


class Worker:
    def __init__(self, path: str, dataset: str, n: int, seed: int, params: dict[str, Any]):
        env = dict(os.environ, PYTHONPATH=str(Path(path).resolve()))
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", json.dumps([dataset, n, seed, params])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=str(ROOT / "benchmarks"))
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker exited ({self.proc.wait()})")
        return json.loads(line)  # type: ignore[no-any-return]

    def ask(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("ask\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--old", help="checkout (PYTHONPATH root) of the version compared against")
    ap.add_argument("--new", default=str(ROOT), help="checkout of the new version (default: this one)")
    ap.add_argument("--datasets", default="cora,proteins")
    ap.add_argument("--sizes", default="100,1000", help="told trials before the timed asks")
    ap.add_argument("--asks", type=int, default=8, help="timed asks per version and size")
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--params", default="{}", help="BO(...) parameters of the new side, JSON")
    ap.add_argument("--old-params", default="{}", help="BO(...) parameters of the old side, JSON")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    if args.worker:
        worker(*json.loads(args.worker))
        return 0
    if not args.old:
        ap.error("--old is required")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numpy as np
    from _common import describe_machine, describe_package, format_table, metadata, write_json

    meta = metadata([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    print(f"# bo_cost_compare: BO ms per ask, old ({args.old}) vs new ({args.new}), interleaved; "
          f"{args.asks} timed asks after N told; one thread; seed {args.seed}")
    print(f"# {meta['date_utc']}  {describe_machine(meta)}")
    print(f"# {describe_package(meta)}")
    print(f"# new params {args.params}; old params {args.old_params}")
    results, rows = [], []
    for dataset in [d for d in args.datasets.split(",") if d]:
        for n in [int(x) for x in args.sizes.split(",") if x.strip()]:
            load0 = os.getloadavg()
            old = Worker(args.old, dataset, n, args.seed, json.loads(args.old_params))
            new = Worker(args.new, dataset, n, args.seed, json.loads(args.params))
            print(f"  {dataset} N={n}: old imports {old.ready['nasbook']}, new {new.ready['nasbook']}", flush=True)
            same = old.ready["first"]["id"] == new.ready["first"]["id"]
            asks: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
            for k in range(args.asks):
                pair = (("old", old), ("new", new)) if k % 2 == 0 else (("new", new), ("old", old))
                for name, w in pair:
                    asks[name].append(w.ask())
                same = same and asks["old"][-1]["id"] == asks["new"][-1]["id"]
            old.close()
            new.close()
            load1 = os.getloadavg()
            ratio = [b["ask_ms"] / a["ask_ms"] for a, b in zip(asks["old"], asks["new"])]
            r = {"dataset": dataset, "n": n, "same_proposals": same, "load_before": load0, "load_after": load1,
                 "old": asks["old"], "new": asks["new"], "ratio_new_old": ratio,
                 "old_strategy": old.ready["strategy"], "new_strategy": new.ready["strategy"],
                 "old_nasbook": old.ready["nasbook"], "new_nasbook": new.ready["nasbook"]}
            results.append(r)

            def med(side: str, key: str, asks: dict[str, list[dict[str, Any]]] = asks) -> float:
                return float(np.median([x[key] for x in asks[side]]))

            rows.append([dataset, n, f"{med('old', 'ask_ms'):.0f}", f"{med('new', 'ask_ms'):.0f}",
                         f"{med('old', 'fit_ms'):.0f} / {med('new', 'fit_ms'):.0f}",
                         f"{med('old', 'acquisition_ms'):.0f} / {med('new', 'acquisition_ms'):.0f}",
                         f"{np.median(ratio):.2f} ({min(ratio):.2f}-{max(ratio):.2f})",
                         "yes" if same else "NO", f"{load0[0]:.1f} -> {load1[0]:.1f}"])
            print(f"  {dataset} N={n}: old {med('old', 'ask_ms'):.0f} ms, new {med('new', 'ask_ms'):.0f} ms per ask "
                  f"(median ratio {np.median(ratio):.2f}); same proposals: {same}; load {load0[0]:.1f} -> {load1[0]:.1f}",
                  flush=True)
    print("\n## ms per ask (median over the timed asks), old vs new, interleaved")
    print(format_table(["dataset", "told N", "old ms/ask", "new ms/ask", "fit ms old / new", "acquisition ms old / new",
                        "new / old per ask: median (range)", "same proposals", "load (1 min)"], rows))
    if args.json:
        write_json(args.json, {"benchmark": "bo_cost_compare", "metadata": meta,
                               "config": {k: v for k, v in vars(args).items() if k != "worker"}, "results": results})
        print(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
