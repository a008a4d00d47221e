"""Cost of the trial rows' owner token (schema 5): a search's wall time before and after, interleaved.

Each measurement is a fresh process that runs one ``Search(GraphSpace, ToyTask, "random", budget=N)``
into a new SQLite file and prints the seconds ``run()`` took; ``before`` imports the package of
``--baseline-rev`` (extracted with ``git archive``), ``after`` this checkout's. Rounds alternate the
order (before/after, after/before) and use seed = round number for both sides (a paired comparison).
Two executors: ``local`` (in process: one INSERT per trial, now with the owner column) and
``workers`` (a LocalExecutor that declares itself remote, so each trial is stored RUNNING first and
then finished by an UPDATE, now the compare-and-set on the owner token).

``--micro N`` also times this checkout's write of one worker trial alone (``add_trial`` RUNNING, then
``update_trial`` COMPLETE, each a COMMIT) with ``owner=`` (the compare-and-set) against without (the
statement the loop used before), N trials per repeat, alternating, into one fresh SQLite file each.

Usage::

    python benchmarks/trial_owner_cost.py --baseline-rev 9c03f3f --trials 300 --rounds 10 --micro 3000
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


MICRO = r"""
import sys, time, tempfile, os
import numpy as np
from nasbook.space import GraphSpace
from nasbook.storage import Storage
from nasbook.trial import Trial, TrialState
n, owned = int(sys.argv[1]), sys.argv[2] == "owner"
space = GraphSpace()
archs = [space.sample(np.random.default_rng(i)) for i in range(n)]
with tempfile.TemporaryDirectory() as d:
    st = Storage(os.path.join(d, "m.db")); sid = st.create_search("m", {})
    kw = {"owner": "run-0123456789abcdef0123456789abcdef"} if owned else {}
    t = time.perf_counter()
    for i, a in enumerate(archs):
        st.add_trial(sid, Trial(i, a, TrialState.RUNNING, None, {}, {}), **kw)
        st.update_trial(sid, Trial(i, a, TrialState.COMPLETE, 0.5, {}, {"params_m": 0.3}), tell_seq=i, **kw)
    dt = time.perf_counter() - t
    st.close()
print(dt / n * 1e6)
"""


def micro(n: int, repeats: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    us: dict[str, list[float]] = {"plain": [], "owner": []}
    for r in range(repeats):
        for side in (("plain", "owner") if r % 2 == 0 else ("owner", "plain")):
            out = subprocess.run([sys.executable, "-c", MICRO, str(n), side], env=env, capture_output=True, text=True,
                                 check=True).stdout
            us[side].append(float(out.strip().splitlines()[-1]))
    ratios = [o / p for o, p in zip(us["owner"], us["plain"])]
    print(f"\nper worker trial (add_trial RUNNING + update_trial COMPLETE), {n} trials x {repeats} repeats:")
    print("| write | median us/trial |\n|---|---|")
    print(f"| without owner (before's statements) | {statistics.median(us['plain']):.1f} |")
    print(f"| owner= (compare-and-set) | {statistics.median(us['owner']):.1f} |")
    print(f"owner/plain: median of paired ratios {statistics.median(ratios):.3f} ({min(ratios):.3f}..{max(ratios):.3f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-rev", default="9c03f3f")
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--micro", type=int, default=0, help="trials per repeat of the write micro-benchmark (0: none)")
    args = ap.parse_args()
    if args.micro:
        micro(args.micro, args.rounds)
        if not args.trials:
            return
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
