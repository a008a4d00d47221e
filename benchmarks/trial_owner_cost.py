"""Cost of the trial rows' owner token (schema 5): a search's wall time before and after, interleaved.

Each measurement is a fresh process that runs one ``Search(GraphSpace, ToyTask, "random", budget=N)``
into a new SQLite file and prints the seconds ``run()`` took; ``before`` imports the package of
``--baseline-rev`` (extracted with ``git archive``), ``after`` this checkout's. Rounds alternate the
order (before/after, after/before) and use seed = round number for both sides (a paired comparison).
Two executors: ``local`` (in process: one INSERT per trial, now with the owner column) and
``workers`` (a LocalExecutor that declares itself remote, so each trial is stored RUNNING first and
then finished by an UPDATE, now the compare-and-set on the owner token).

Usage::

    python benchmarks/trial_owner_cost.py --baseline-rev 9c03f3f --trials 300 --rounds 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time, tempfile, os
import nasbook
from nasbook.executors import LocalExecutor
from nasbook.space import GraphSpace
from nasbook.testing import ToyTask
class Workers(LocalExecutor):
    in_process = False
    def __repr__(self): return "Workers()"
kind, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
space = GraphSpace()
with tempfile.TemporaryDirectory() as d:
    s = nasbook.Search(space, ToyTask(space), strategy="random", budget=n, seed=seed, storage=os.path.join(d, "b.db"),
                       name="b", executor=Workers() if kind == "workers" else None)
    t = time.perf_counter(); s.run(progress="none"); dt = time.perf_counter() - t
    assert s.n_trials == n
    s.storage.close()
print(dt)
"""


def extract(rev: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "nasbook"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def one(tree: Path, kind: str, n: int, seed: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(n), str(seed)], env=env, capture_output=True,
                         text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-rev", default="9c03f3f")
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": extract(args.baseline_rev, Path(tmp)), "after": ROOT}
        print(f"before = {args.baseline_rev}, after = {ROOT} (HEAD "
              f"{subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()})")
        print("| executor | before median s | after median s | after/before (median of paired ratios) | min..max ratio |")
        print("|---|---|---|---|---|")
        for kind in ("local", "workers"):
            times: dict[str, list[float]] = {"before": [], "after": []}
            ratios = []
            for r in range(args.rounds):
                order = ("before", "after") if r % 2 == 0 else ("after", "before")
                got = {side: one(trees[side], kind, args.trials, r) for side in order}
                for side in order:
                    times[side].append(got[side])
                ratios.append(got["after"] / got["before"])
            print(f"| {kind} | {statistics.median(times['before']):.3f} | {statistics.median(times['after']):.3f} | "
                  f"{statistics.median(ratios):.3f} | {min(ratios):.3f}..{max(ratios):.3f} |", flush=True)


if __name__ == "__main__":
    main()
