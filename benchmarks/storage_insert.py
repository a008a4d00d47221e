"""Per-trial cost of the durable insert: ``Storage.add_trial(Trial)`` against the schema-1 ``commit_trial(tuple)``.

Both write N trials, one INSERT + COMMIT each, into a fresh SQLite file (WAL, ``synchronous=NORMAL``)
in a temporary directory, timed side by side and interleaved repeat by repeat:

* ``before``: the storage code of the commit before schema 2 (read from git, ``--baseline-rev``),
  fed the way the search loop fed it: a positional tuple built from the Trial (JSON dumped by the
  caller, as ``Search._row`` did), then ``commit_trial``.
* ``after``: this checkout's ``Storage.add_trial(search_id, trial, tell_seq=...)``.

The trials look like a NAS-Bench-Graph look-up: a COMPLETE trial with a value and three held-out
attrs (test score, latency, #params). Set ``--rich`` to add metrics, curves and a lineage.

Usage::

    python benchmarks/storage_insert.py --trials 20000 --repeats 3 --json FILE
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import describe_machine, describe_package, format_table, median, metadata, write_json

from nasbook.space import GraphSpace
from nasbook.storage import Storage
from nasbook.trial import Trial, TrialState

ROOT = Path(__file__).resolve().parents[1]
GOAL_US = 100.0  # add_trial budget per trial (the durable loop's goal: >= 5,000 trials/s overall)


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout.strip()


def baseline_rev() -> str:
    """The parent of the commit that introduced schema version 2."""
    revs = _git("log", "--format=%H", "-S", 'SCHEMA_VERSION = "2"', "--", "nasbook/storage/_schema.py").split()
    if not revs:
        raise SystemExit("cannot find the schema-2 commit in git history; pass --baseline-rev")
    return f"{revs[-1]}^"


def load_baseline(rev: str, tmp: Path) -> Any:
    src = _git("show", f"{rev}:nasbook/storage/_sql.py")
    path = tmp / "nasbook_storage_baseline.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("nasbook_storage_baseline", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def make_trials(n: int, rich: bool) -> list[Trial]:
    space = GraphSpace()
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(200)]
    out = []
    for i in range(n):
        v = float(rng.random())
        out.append(Trial(
            i, archs[i % len(archs)], TrialState.COMPLETE, v,
            metrics={"train_loss": 1 - v, "val_loss": float("nan")} if rich else {},
            attrs={"test": v - 0.01, "latency": 0.0021, "params": 0.15},
            epochs=None, started_at=1.7e9 + i, finished_at=1.7e9 + i + 0.001, n_told_before=i,
            curves={"val_accuracy": [v / 2, v]} if rich else {},
            lineage=(max(0, i - 1),) if rich else (),
        ))
    return out


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=True)


def _row(t: Trial, tell_seq: int) -> tuple[Any, ...]:
    # exactly what Search._row built for commit_trial before schema 2
    return (t.number, t.state.value, t.arch.id, t.arch.to_json(), t.value,
            _dumps(t.metrics) if t.metrics else "{}", _dumps(t.attrs) if t.attrs else "{}", t.epochs,
            t.n_told_before, tell_seq, t.started_at, t.finished_at, t.reason,
            _dumps(t.curves) if t.curves else "{}", t.parent)


def run_before(mod: Any, trials: list[Trial], path: Path) -> dict[str, Any]:
    st = mod.Storage(path)
    sid = st.create_search("bench", {})
    t0, c0 = time.perf_counter(), time.process_time()
    for i, t in enumerate(trials):
        st.commit_trial(sid, _row(t, i))
    return _done(st, trials, path, t0, c0)


def run_after(trials: list[Trial], path: Path) -> dict[str, Any]:
    st = Storage(path)
    sid = st.create_search("bench", {})
    t0, c0 = time.perf_counter(), time.process_time()
    for i, t in enumerate(trials):
        st.add_trial(sid, t, tell_seq=i)
    return _done(st, trials, path, t0, c0)


def _done(st: Any, trials: list[Trial], path: Path, t0: float, c0: float) -> dict[str, Any]:
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    st.close()
    import sqlite3

    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT COUNT(*) FROM nasbook_trials").fetchone()[0]
    assert rows == len(trials), (rows, len(trials))
    return {"n": len(trials), "seconds": dt, "cpu_seconds": cpu, "us_per_trial": 1e6 * dt / len(trials)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20000, help="trials per run (default 20000)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats (default 3)")
    ap.add_argument("--rich", action="store_true", help="trials with metrics, curves and a lineage")
    ap.add_argument("--baseline-rev", default=None, help="git revision of the 'before' storage (default: "
                                                          "the parent of the schema-2 commit)")
    ap.add_argument("--json", metavar="FILE", default=None, help="write the raw figures and metadata here")
    args = ap.parse_args(argv)
    meta = metadata(argv)
    rev = args.baseline_rev or baseline_rev()
    trials = make_trials(args.trials, args.rich)
    results: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        before = load_baseline(rev, tmp)
        for r in range(args.repeats):
            results["before"].append(run_before(before, trials, tmp / f"before-{r}.db"))
            results["after"].append(run_after(trials, tmp / f"after-{r}.db"))
    print(f"storage insert: {args.trials} trials x {args.repeats} repeats, one INSERT + COMMIT each "
          f"({'rich' if args.rich else 'table look-up'} trials); before = {rev}")
    print(describe_machine(meta))
    print(describe_package(meta))
    rows = []
    summary: dict[str, Any] = {}
    for name, runs in results.items():
        us = median([x["us_per_trial"] for x in runs])
        cpu = median([1e6 * x["cpu_seconds"] / x["n"] for x in runs])
        summary[name] = {"us_per_trial_median": us, "cpu_us_per_trial_median": cpu, "trials_per_s": 1e6 / us}
        rows.append([name, f"{us:.1f}", f"{cpu:.1f}", f"{1e6 / us:,.0f}", " ".join(f"{x['us_per_trial']:.1f}" for x in runs)])
    print(format_table(["storage", "us/trial (median)", "cpu us/trial", "trials/s", "each repeat (us)"], rows))
    ratio = summary["after"]["us_per_trial_median"] / summary["before"]["us_per_trial_median"]
    ok = summary["after"]["us_per_trial_median"] <= GOAL_US
    print(f"after / before: {ratio:.2f}x; add_trial {'within' if ok else 'OVER'} the {GOAL_US:.0f} us goal")
    if args.json:
        write_json(args.json, {"metadata": meta, "baseline_rev": rev, "trials": args.trials, "rich": args.rich,
                               "runs": results, "summary": summary, "after_over_before": ratio, "goal_us": GOAL_US})
    return 0


if __name__ == "__main__":
    sys.exit(main())
