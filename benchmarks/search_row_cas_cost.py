"""Cost of a run's search-row writes naming its lease (``update_search(owner=...)``, a compare-and-set).

Two figures, from this checkout, into a fresh SQLite file each (fresh processes, alternating order):

* one ``update_search(state=..., elapsed_s=...)`` with ``owner=`` (the UPDATE carries ``EXISTS`` on the
  lease row) against without (the statement a run used before), N calls per repeat, microseconds each;
* how many ``update_search`` calls a ``Search(GraphSpace, ToyTask, "random", budget=T).run()`` makes (with
  the executor described anew once started, as a dask cluster is), so the cost per trial is that count
  times the difference, divided by T. A trial's own writes are unchanged (``trial_owner_cost.py``).

Usage::

    python benchmarks/search_row_cas_cost.py --calls 3000 --repeats 8 --trials 300
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MICRO = r"""
import sys, time, tempfile, os
from nasbook.storage import Storage
n, owned = int(sys.argv[1]), sys.argv[2] == "owner"
with tempfile.TemporaryDirectory() as d:
    st = Storage(os.path.join(d, "m.db")); sid = st.create_search("m", {})
    token = "run-0123456789abcdef0123456789abcdef"
    st.acquire_lease(sid, token)
    kw = {"owner": token} if owned else {}
    t = time.perf_counter()
    for i in range(n):
        st.update_search(sid, state="running", elapsed_s=float(i), **kw)
    dt = time.perf_counter() - t
    st.close()
print(dt / n * 1e6)
"""

COUNT = r"""
import sys, tempfile, os
import nasbook
from nasbook.executors import LocalExecutor
from nasbook.space import GraphSpace
from nasbook.storage import Storage
from nasbook.testing import ToyTask
calls = []
class Counted(Storage):
    def update_search(self, search_id, **kw):
        calls.append(sorted(k for k, v in kw.items() if v is not None))
        super().update_search(search_id, **kw)
class Started(LocalExecutor):  # describes itself anew once started, as a dask cluster does
    started = False
    def start(self, decide=None):
        super().start(decide); self.started = True
    def __repr__(self): return "Started(1)" if self.started else "Started()"
n = int(sys.argv[1])
space = GraphSpace()
with tempfile.TemporaryDirectory() as d:
    st = Counted(os.path.join(d, "c.db"))
    s = nasbook.Search(space, ToyTask(space), strategy="random", budget=n, seed=0, storage=st, name="c", executor=Started())
    s.run(progress="none")
    st.close()
print(len(calls), calls)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--trials", type=int, default=300)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    us: dict[str, list[float]] = {"plain": [], "owner": []}
    for r in range(args.repeats):
        for side in (("plain", "owner") if r % 2 == 0 else ("owner", "plain")):
            out = subprocess.run([sys.executable, "-c", MICRO, str(args.calls), side], env=env, capture_output=True,
                                 text=True, check=True).stdout
            us[side].append(float(out.strip().splitlines()[-1]))
    ratios = [o / p for o, p in zip(us["owner"], us["plain"])]
    plain, owner = statistics.median(us["plain"]), statistics.median(us["owner"])
    print(f"update_search(state, elapsed_s) + COMMIT, SQLite, {args.calls} calls x {args.repeats} repeats:")
    print("| write | median us/call |\n|---|---|")
    print(f"| without owner (before) | {plain:.1f} |")
    print(f"| owner= (compare-and-set on the lease) | {owner:.1f} |")
    print(f"owner/plain: median of paired ratios {statistics.median(ratios):.3f} ({min(ratios):.3f}..{max(ratios):.3f})")
    out = subprocess.run([sys.executable, "-c", COUNT, str(args.trials)], env=env, capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    n_calls = int(out.split(" ", 1)[0])
    print(f"\nupdate_search calls in one run() of {args.trials} trials: {out}")
    print(f"cost per trial: {n_calls} x {owner - plain:.1f} us / {args.trials} = "
          f"{n_calls * (owner - plain) / args.trials:.3f} us")


if __name__ == "__main__":
    main()
