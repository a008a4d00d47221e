"""Per-trial CPU time of the durable loop, side by side across git revisions (issue 8's loop cost).

The loop of ``benchmarks/overhead.py`` (``Search(NasBenchGraph("cora"), strategy="random", budget=N,
storage=<fresh SQLite file>).run()``, one commit per trial) run from several checkouts, each run in a
fresh subprocess after a 200-trial warm-up, interleaved: every repeat runs each revision once, in an
order rotated from repeat to repeat so that no revision always runs first. What is compared is the
process's CPU time per trial (``time.process_time``: less sensitive than wall time to the other
jobs on a shared machine); wall time and trials/s are shown beside it.

Each revision is also audited once, untimed: every SQL statement of a 500-trial run is traced and
counted per trial, by kind (the first words of the statement).

Usage::

    python benchmarks/loop_cpu.py --rev b38f3a4 --rev . --trials 3000 --repeats 5 --json FILE
    python benchmarks/loop_cpu.py --rev b38f3a4 --rev . --cachegrind --repeats 5 --json FILE   # + instructions

``--rev REF`` is a git revision (its ``nasbook`` package is extracted with ``git archive`` into a
temporary folder) or ``.`` for the working tree; ``REF:noindex`` runs REF's loop on a store whose
``ix_nasbook_trials_best`` index (``035ccc1``, for ``kb.searches``) was dropped after the search was made:
an ablation, to see what maintaining that index costs the loop.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from _common import format_table, median, metadata, write_json

ROOT = Path(__file__).resolve().parents[1]

_RUN = """
import json, os, resource, sys, tempfile, time
import nasbook
from nasbook.tasks import NasBenchGraph
n, seed, audit = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
d = tempfile.mkdtemp(prefix="nasbook-loopcpu-")
task = NasBenchGraph("cora")
nasbook.Search(task, strategy="random", budget=200, seed=0, storage=os.path.join(d, "warm.db"), name="w").run(progress="none")
s = nasbook.Search(task, strategy="random", budget=n, seed=seed, storage=os.path.join(d, "x.db"), name="x")
if os.environ.get("LOOPCPU_DROP_BEST_INDEX") == "1":  # an ablation: the loop without ix_nasbook_trials_best
    s.storage.conn.exec_driver_sql("DROP INDEX ix_nasbook_trials_best")
    s.storage.conn.commit()
kinds = {}
if audit:
    import collections
    kinds = collections.Counter()
    def trace(stmt):
        words = stmt.split()
        kinds[" ".join(words[:3]).upper() if words[:1] != ["SELECT"] else "SELECT ... " + (
            words[words.index("FROM") + 1] if "FROM" in words else "")] += 1
    s.storage.conn.connection.dbapi_connection.set_trace_callback(trace)
c0, t0, o0 = time.process_time(), time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
s.run(progress="none")
dt, cpu, o1 = time.perf_counter() - t0, time.process_time() - c0, resource.getrusage(resource.RUSAGE_SELF)
assert s.n_trials == n
print(json.dumps({"n": n, "seconds": dt, "cpu_seconds": cpu, "user_seconds": o1.ru_utime - o0.ru_utime,
                  "system_seconds": o1.ru_stime - o0.ru_stime, "nasbook": nasbook.__file__, "statements": dict(kinds)}))
"""


def checkout(ref: str, into: Path) -> Path:
    """The ``nasbook`` package of git revision ``ref`` under ``into``; ``.`` is the working tree."""
    ref = ref.split(":")[0]
    if ref == ".":
        return ROOT
    data = subprocess.run(["git", "archive", "--format=tar", ref, "nasbook"], cwd=ROOT, capture_output=True,
                          check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_one(code_root: Path, n: int, seed: int, audit: bool = False, drop_index: bool = False) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code_root), "LOOPCPU_DROP_BEST_INDEX": "1" if drop_index else "0"}
    with tempfile.TemporaryDirectory() as cwd:  # `python -c` puts the working folder first on sys.path
        out = subprocess.run([sys.executable, "-c", _RUN, str(n), str(seed), "1" if audit else "0"], env=env,
                             cwd=cwd, capture_output=True, text=True, check=True, timeout=600).stdout
    res = json.loads(out.strip().splitlines()[-1])
    assert str(res["nasbook"]).startswith(str(code_root)), res["nasbook"]
    return dict(res)


def instructions_per_trial(code_root: Path, drop_index: bool, budgets: tuple[int, int]) -> float:
    """User-space instructions per trial under ``valgrind --tool=cachegrind`` (load-independent): the runs of
    ``budgets[0]`` and ``budgets[1]`` trials differ only by the trials, so (Ir1 - Ir0) / (n1 - n0) is a trial's."""
    counts = []
    for n in budgets:
        with tempfile.TemporaryDirectory() as cwd:
            out = Path(cwd) / "cg.out"
            env = {**os.environ, "PYTHONPATH": str(code_root), "LOOPCPU_DROP_BEST_INDEX": "1" if drop_index else "0",
                   "PYTHONHASHSEED": "0"}  # a random one moves the set-up's count by ~10k instructions per trial
            subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}",
                            sys.executable, "-c", _RUN, str(n), "1", "0"], env=env, cwd=cwd, capture_output=True,
                           check=True, timeout=1200)
            summary = [ln for ln in out.read_text().splitlines() if ln.startswith("summary:")]
            counts.append(int(summary[0].split()[1]))
    return (counts[1] - counts[0]) / (budgets[1] - budgets[0])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rev", action="append", default=[], help="git revision, or . for the working tree (repeatable)")
    p.add_argument("--trials", type=int, default=3000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--audit-trials", type=int, default=500, help="0: no statement audit")
    p.add_argument("--cachegrind", action="store_true",
                   help="also count instructions per trial under valgrind (500 and 2500 trials, ~1 min per revision)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    revs = args.rev or ["b38f3a4", "."]
    meta = metadata()
    tmp = Path(tempfile.mkdtemp(prefix="nasbook-loopcpu-src-"))
    roots = {r: checkout(r, tmp / r.replace("/", "_")) for r in revs}
    audits: dict[str, Any] = {}
    if args.audit_trials:
        for r in revs:
            a = run_one(roots[r], args.audit_trials, 999, audit=True, drop_index=r.endswith(":noindex"))
            audits[r] = {k: v / args.audit_trials for k, v in sorted(a["statements"].items())}
    instructions: dict[str, float] = {}
    if args.cachegrind:
        for r in revs:
            instructions[r] = instructions_per_trial(roots[r], r.endswith(":noindex"), (500, 2500))
            print(f"  {r:<10} {instructions[r] / 1e3:,.1f} k instructions per trial (cachegrind)", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {r: [] for r in revs}
    for rep in range(args.repeats):
        order = revs[rep % len(revs):] + revs[:rep % len(revs)]
        for r in order:
            res = run_one(roots[r], args.trials, 1000 + rep, drop_index=r.endswith(":noindex"))
            runs[r].append(res)
            print(f"  repeat {rep}  {r:<10} {res['n']} trials  {res['seconds']:.3f} s wall  {res['cpu_seconds']:.3f} s CPU"
                  f"  {1e6 * res['cpu_seconds'] / res['n']:.1f} CPU us/trial"
                  f" ({1e6 * res['user_seconds'] / res['n']:.0f} user, {1e6 * res['system_seconds'] / res['n']:.0f} sys)  {res['n'] / res['seconds']:,.0f} trials/s",
                  flush=True)
    rows, summary = [], {}
    base = revs[0]
    for r in revs:
        cpu = median([1e6 * x["cpu_seconds"] / x["n"] for x in runs[r]])
        wall = median([1e6 * x["seconds"] / x["n"] for x in runs[r]])
        cpus = sorted(1e6 * x["cpu_seconds"] / x["n"] for x in runs[r])
        user = median([1e6 * x["user_seconds"] / x["n"] for x in runs[r]])
        system = median([1e6 * x["system_seconds"] / x["n"] for x in runs[r]])
        summary[r] = {"cpu_us_per_trial": cpu, "user_us_per_trial": user, "system_us_per_trial": system, "wall_us_per_trial": wall, "trials_per_s": 1e6 / wall,
                      "cpu_us_range": [cpus[0], cpus[-1]]}
    for r in revs:
        s, b = summary[r], summary[base]
        rows.append([r, f"{s['cpu_us_per_trial']:.1f}", f"[{s['cpu_us_range'][0]:.1f} .. {s['cpu_us_range'][1]:.1f}]",
                     f"{s['cpu_us_per_trial'] / b['cpu_us_per_trial']:.3f}", f"{s['user_us_per_trial']:.0f}",
                     f"{s['system_us_per_trial']:.0f}", f"{s['wall_us_per_trial']:.1f}",
                     f"{s['trials_per_s']:,.0f}", f"{s['wall_us_per_trial'] / b['wall_us_per_trial']:.3f}"])
    print(f"\n## Durable loop, {args.trials} trials, median of {args.repeats} (ratios to {base})")
    print(format_table(["revision", "CPU us/trial", "CPU range", "CPU ratio", "user", "sys", "wall us/trial", "trials/s",
                        "wall ratio"], rows))
    if instructions:
        print("\n## Instructions per trial (cachegrind, user space; load-independent)")
        print(format_table(["revision", "k instructions/trial", "ratio"],
                           [[r, f"{instructions[r] / 1e3:,.1f}", f"{instructions[r] / instructions[base]:.3f}"]
                            for r in revs]))
    if audits:
        kinds = sorted({k for a in audits.values() for k in a})
        print(f"\n## SQL statements per trial ({args.audit_trials}-trial run, traced, untimed)")
        print(format_table(["statement", *revs], [[k, *(f"{audits[r].get(k, 0):.3f}" for r in revs)] for k in kinds]))
    if args.json:
        write_json(args.json, {"meta": meta, "revs": revs, "runs": runs, "summary": summary, "audits": audits,
                               "instructions_per_trial": instructions})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
