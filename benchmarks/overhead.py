"""Loop overhead per trial: nasbook's durable search loop against Optuna's ask/tell.

The task is a table look-up (NAS-Bench-Graph, cora), so what is timed is the framework: propose
an architecture, evaluate it (one dict look-up), commit the trial, tell the strategy.

Configurations, timed side by side and interleaved repeat by repeat:

* ``nasbook-sqlite``: ``Search(NasBenchGraph("cora"), strategy="random", budget=N, storage=FILE)``,
  a fresh SQLite file in a temporary directory; the durable store commits every trial (WAL,
  ``synchronous=NORMAL``). ``run()`` only is timed.
* ``nasbook-memory``: the same with ``storage=":memory:"``.
* ``optuna-sqlite``: ``optuna.create_study(storage="sqlite:///FILE", sampler=RandomSampler(seed))``
  (Optuna's defaults: rollback journal, ``synchronous=FULL``), ask/tell over the same space (link
  index over the nine canonical link patterns, four categorical ops); the objective is the same
  look-up of the canonicalised architecture. The ask/tell loop only is timed.
* ``optuna-sqlite-wal``: the same with nasbook's pragmas (WAL, ``synchronous=NORMAL``), for a
  like-for-like durability setting.
* ``optuna-memory``: Optuna's in-memory storage.

With ``--baseline REF`` (a git revision, e.g. the commit before a redesign), the durable nasbook
loop of REF and of the working tree run side by side, each in a fresh subprocess (so neither
inherits the other's warm caches), interleaved repeat by repeat: ``before@REF`` and ``after``,
and their ratio.

Usage::

    python benchmarks/overhead.py --trials 5000 --repeats 3 --json FILE
    python benchmarks/overhead.py --trials 5000 --repeats 5 --baseline ac955a9 --json FILE
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import describe_machine, describe_package, format_table, median, metadata, write_json

import nasbook
from nasbook._errors import InvalidArchitectureError
from nasbook.space._graph import LINKS
from nasbook.tasks import NasBenchGraph

GOAL_TRIALS_PER_S = 5000.0
DATASET = "cora"


# -- nasbook --------------------------------------------------------------------------------------------
def run_nasbook(n: int, seed: int, storage: str) -> dict[str, Any]:
    task = NasBenchGraph(DATASET)
    search = nasbook.Search(task, strategy="random", budget=n, seed=seed, storage=storage, name=f"overhead-{seed}")
    c0, t0 = time.process_time(), time.perf_counter()
    search.run(progress="none")
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert search.n_trials == n, (search.n_trials, n)
    out: dict[str, Any] = {"n": n, "seconds": dt, "cpu_seconds": cpu}
    if storage != ":memory:":
        # read back through a separate connection: what another process would find on disk
        with sqlite3.connect(storage) as con:
            out["rows_on_disk"] = con.execute("SELECT COUNT(*) FROM nasbook_trials").fetchone()[0]
    search.storage.close()
    return out


def nasbook_commit_audit(n: int, path: str) -> dict[str, Any]:
    """Untimed: trace every SQL statement of a nasbook run and count COMMITs per trial INSERT."""
    task = NasBenchGraph(DATASET)
    search = nasbook.Search(task, strategy="random", budget=n, seed=12345, storage=path, name="audit")
    dbapi = search.storage.conn.connection.dbapi_connection
    journal = dbapi.execute("PRAGMA journal_mode").fetchone()[0]
    synchronous = dbapi.execute("PRAGMA synchronous").fetchone()[0]
    commits: list[int] = []  # trial INSERTs in each committed transaction
    pending = [0]

    def trace(stmt: str) -> None:
        s = stmt.lstrip().upper()
        if s.startswith("INSERT INTO NASBOOK_TRIALS"):
            pending[0] += 1
        elif s.startswith("COMMIT"):
            commits.append(pending[0])
            pending[0] = 0

    dbapi.set_trace_callback(trace)
    search.run(progress="none")
    dbapi.set_trace_callback(None)
    search.storage.close()
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT COUNT(*) FROM nasbook_trials").fetchone()[0]
    with_trial = [c for c in commits if c > 0]
    return {
        "n": n,
        "journal_mode": journal,
        "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(synchronous, synchronous),
        "commits_total": len(commits),
        "commits_with_a_trial": len(with_trial),
        "max_trials_per_commit": max(with_trial, default=0),
        "rows_on_disk": rows,
        "ok": rows == n and len(with_trial) == n and max(with_trial, default=0) == 1,
    }


# -- before / after: the same durable loop from two checkouts, each in its own process ---------------------
_SUBPROCESS_RUN = """
import json, os, sys, tempfile, time
import nasbook
from nasbook.tasks import NasBenchGraph
n, seed = int(sys.argv[1]), int(sys.argv[2])
d = tempfile.mkdtemp(prefix="nasbook-overhead-sub-")
task = NasBenchGraph("cora")
nasbook.Search(task, strategy="random", budget=200, seed=0, storage=os.path.join(d, "warm.db"), name="w").run(progress="none")
s = nasbook.Search(task, strategy="random", budget=n, seed=seed, storage=os.path.join(d, "x.db"), name="x")
c0, t0 = time.process_time(), time.perf_counter()
s.run(progress="none")
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
assert s.n_trials == n
print(json.dumps({"n": n, "seconds": dt, "cpu_seconds": cpu, "nasbook": nasbook.__file__}))
"""


def checkout(ref: str, into: Path) -> Path:
    """The ``nasbook`` package of git revision ``ref``, extracted under ``into`` (no worktree left behind)."""
    import io
    import subprocess
    import tarfile

    root = Path(__file__).resolve().parents[1]
    data = subprocess.run(["git", "archive", "--format=tar", ref, "nasbook"], cwd=root, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_in_subprocess(code_root: Path, n: int, seed: int) -> dict[str, Any]:
    import json
    import os
    import subprocess
    import tempfile

    env = {**os.environ, "PYTHONPATH": str(code_root)}
    with tempfile.TemporaryDirectory() as cwd:  # `python -c` puts the working folder first on sys.path
        out = subprocess.run([sys.executable, "-c", _SUBPROCESS_RUN, str(n), str(seed)], env=env, cwd=cwd,
                             capture_output=True, text=True, check=True, timeout=600).stdout
    res = json.loads(out.strip().splitlines()[-1])
    assert str(res["nasbook"]).startswith(str(code_root)), res["nasbook"]
    return dict(res)


# -- Optuna ------------------------------------------------------------------------------------------------
def _optuna_rdb(url: str, wal: bool, trace: Any = None) -> Any:
    import sqlalchemy as sa
    from optuna.storages import RDBStorage

    storage = RDBStorage(url)
    if wal or trace is not None:

        def on_connect(dbapi_con: Any, _rec: Any) -> None:
            if wal:
                dbapi_con.execute("PRAGMA journal_mode=WAL")
                dbapi_con.execute("PRAGMA synchronous=NORMAL")
            if trace is not None:
                dbapi_con.set_trace_callback(trace)

        sa.event.listen(storage.engine, "connect", on_connect)
        storage.engine.dispose()  # drop the connection made while creating tables: new ones get the pragmas
    return storage


def run_optuna(n: int, seed: int, storage: Any) -> dict[str, Any]:
    import optuna
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import TrialState

    task = NasBenchGraph(DATASET)
    space, table = task.space, task.table
    dists: dict[str, Any] = {"link": CategoricalDistribution(list(range(len(LINKS))))}
    for i in range(4):
        dists[f"op{i + 1}"] = CategoricalDistribution(list(space.ops))
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed), storage=storage)
    valid, row = table.valid_l, table.row
    make = space.make
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        trial = study.ask(dists)
        p = trial.params
        try:
            arch = make(link=LINKS[p["link"]], ops=[p["op1"], p["op2"], p["op3"], p["op4"]])
        except InvalidArchitectureError:
            study.tell(trial, state=TrialState.FAIL)
            continue
        study.tell(trial, valid[row(int(arch.id))])
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"n": n, "seconds": dt, "cpu_seconds": cpu}


def optuna_commit_audit(n: int, url: str) -> dict[str, Any]:
    """Untimed: COMMITs Optuna's default SQLite storage issues per trial (for context)."""
    counts = {"commit": 0}

    def trace(stmt: str) -> None:
        if stmt.lstrip().upper().startswith("COMMIT"):
            counts["commit"] += 1

    storage = _optuna_rdb(url, wal=False, trace=trace)
    run_optuna(n, 4321, storage)
    storage.engine.dispose()
    with sqlite3.connect(url[len("sqlite:///"):]) as con:
        journal = con.execute("PRAGMA journal_mode").fetchone()[0]
    return {"n": n, "commits_total": counts["commit"], "commits_per_trial": counts["commit"] / n, "journal_mode": journal}


# -- driver -----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=5000, help="trials per nasbook run and per Optuna in-memory run (default 5000)")
    ap.add_argument("--optuna-trials", type=int, default=1000,
                    help="trials per Optuna SQLite run (default 1000: Optuna's SQLite storage is slow; "
                         "per-trial figures stay comparable)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats of every configuration (default 3)")
    ap.add_argument("--audit-trials", type=int, default=1000, help="trials in the untimed commit audit (default 1000)")
    ap.add_argument("--json", default=None, help="write raw timings, summaries and metadata here")
    ap.add_argument("--baseline", default=None, metavar="REF",
                    help="also time the durable loop of git revision REF against the working tree, side by side")
    args = ap.parse_args(argv)
    if min(args.trials, args.optuna_trials, args.repeats, args.audit_trials) < 1:
        ap.error("--trials, --optuna-trials, --repeats and --audit-trials must be >= 1")

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    meta = metadata([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    print(f"# overhead: random search on NAS-Bench-Graph {DATASET}; nasbook {args.trials} trials, "
          f"Optuna SQLite {args.optuna_trials} trials, Optuna in-memory {args.trials} trials; "
          f"{args.repeats} interleaved repeats")
    print(f"# {meta['date_utc']}  {describe_machine(meta)}")
    print(f"# {describe_package(meta)}")
    print(f"# {meta['command']}")

    tmp = tempfile.TemporaryDirectory(prefix="nasbook-overhead-")
    d = Path(tmp.name)

    # one-time costs, in this fresh process, then warm-up of every code path (untimed)
    one_time: dict[str, float] = {}
    t0 = time.perf_counter()
    task = NasBenchGraph(DATASET)
    _ = task.table
    one_time["table_load_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _ = task.space.keys
    one_time["key_enumeration_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    nasbook.Search(task, strategy="random", budget=100, seed=0, storage=":memory:").run(progress="none")
    one_time["first_search_100_trials_s"] = time.perf_counter() - t0
    warm, warm_optuna = min(200, args.trials), min(100, args.optuna_trials)  # never longer than the timed runs
    run_nasbook(warm, 0, str(d / "warm-nb.db"))
    run_nasbook(warm, 0, ":memory:")
    run_optuna(warm_optuna, 0, _optuna_rdb(f"sqlite:///{d / 'warm-op.db'}", wal=False))
    run_optuna(warm_optuna, 0, _optuna_rdb(f"sqlite:///{d / 'warm-opw.db'}", wal=True))
    run_optuna(warm, 0, None)
    print(f"one-time cost (excluded below): table load {one_time['table_load_s']:.2f} s, key enumeration "
          f"{one_time['key_enumeration_s']:.2f} s, first 100-trial search {one_time['first_search_100_trials_s']:.2f} s")

    configs = ["nasbook-sqlite", "optuna-sqlite", "nasbook-memory", "optuna-memory", "optuna-sqlite-wal"]
    roots: dict[str, Path] = {}
    if args.baseline:
        roots[f"before@{args.baseline}"] = checkout(args.baseline, d / "baseline")
        roots["after"] = Path(__file__).resolve().parents[1]
        configs += list(roots)
    raw: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    durable_ok = True
    for r in range(args.repeats):
        seed = 1000 + r
        for c in configs:  # interleaved: nasbook, optuna, nasbook, optuna, ...
            if c == "nasbook-sqlite":
                res = run_nasbook(args.trials, seed, str(d / f"nb-{r}.db"))
                durable_ok &= res["rows_on_disk"] == args.trials
            elif c == "nasbook-memory":
                res = run_nasbook(args.trials, seed, ":memory:")
            elif c == "optuna-sqlite":
                res = run_optuna(args.optuna_trials, seed, _optuna_rdb(f"sqlite:///{d / f'op-{r}.db'}", wal=False))
            elif c in roots:
                res = run_in_subprocess(roots[c], args.trials, seed)
            elif c == "optuna-sqlite-wal":
                res = run_optuna(args.optuna_trials, seed, _optuna_rdb(f"sqlite:///{d / f'opw-{r}.db'}", wal=True))
            else:
                res = run_optuna(args.trials, seed, None)
            res["repeat"] = r
            res["us_per_trial"] = 1e6 * res["seconds"] / res["n"]
            res["trials_per_s"] = res["n"] / res["seconds"]
            res["cpu_us_per_trial"] = 1e6 * res["cpu_seconds"] / res["n"]
            raw[c].append(res)
            print(f"  repeat {r}  {c:18s} {res['n']:6d} trials  {res['seconds']:7.3f} s wall  "
                  f"{res['cpu_seconds']:7.3f} s CPU  {res['trials_per_s']:9.0f} trials/s", flush=True)

    summary: dict[str, dict[str, float]] = {}
    for c in configs:
        us = median([x["us_per_trial"] for x in raw[c]])
        summary[c] = {
            "n": raw[c][0]["n"],
            "median_us_per_trial": us,
            "median_trials_per_s": 1e6 / us,
            "min_us_per_trial": min(x["us_per_trial"] for x in raw[c]),
            "max_us_per_trial": max(x["us_per_trial"] for x in raw[c]),
            "median_cpu_us_per_trial": median([x["cpu_us_per_trial"] for x in raw[c]]),
        }
    print()
    print(f"## Per-trial loop overhead (median of {args.repeats}; min..max in brackets)")
    rows = []
    for c in configs:
        s = summary[c]
        rows.append([c, str(s["n"]), f"{s['median_trials_per_s']:,.0f}", f"{s['median_us_per_trial']:.1f}",
                     f"[{s['min_us_per_trial']:.1f} .. {s['max_us_per_trial']:.1f}]",
                     f"{s['median_cpu_us_per_trial']:.1f}"])
    print(format_table(["configuration", "trials/run", "trials/s", "µs/trial", "µs/trial range", "CPU µs/trial"], rows))
    print("(trials/s and µs/trial: wall clock, median; CPU µs/trial: this process's CPU time, median; "
          "wall well above CPU means waiting on I/O or on a busy machine)")

    ratios = {
        "sqlite: nasbook / optuna (default)": summary["nasbook-sqlite"]["median_us_per_trial"] / summary["optuna-sqlite"]["median_us_per_trial"],
        "sqlite: nasbook / optuna (WAL, synchronous=NORMAL)": summary["nasbook-sqlite"]["median_us_per_trial"] / summary["optuna-sqlite-wal"]["median_us_per_trial"],
        "in-memory: nasbook / optuna": summary["nasbook-memory"]["median_us_per_trial"] / summary["optuna-memory"]["median_us_per_trial"],
        "nasbook: sqlite / in-memory": summary["nasbook-sqlite"]["median_us_per_trial"] / summary["nasbook-memory"]["median_us_per_trial"],
    }
    if roots:
        before, after = (summary[c] for c in roots)
        ratios[f"durable loop: after / before@{args.baseline}"] = after["median_us_per_trial"] / before["median_us_per_trial"]
        ratios[f"durable loop CPU: after / before@{args.baseline}"] = (
            after["median_cpu_us_per_trial"] / before["median_cpu_us_per_trial"])
    print()
    print("## Per-trial wall-time ratios (medians)")
    rows = []
    for k, v in ratios.items():
        reading = (f"nasbook {1 / v:.1f}x faster" if "optuna" in k else f"the durable store costs {v:.2f}x"
                   if "in-memory" in k else f"{'faster' if v < 1 else 'slower'} by {abs(1 - v):.0%}")
        rows.append([k, f"{v:.4f}", reading])
    print(format_table(["ratio", "value", "reading"], rows, align="lrl"))

    audit = nasbook_commit_audit(args.audit_trials, str(d / "audit-nb.db"))
    op_audit = optuna_commit_audit(min(args.audit_trials, args.optuna_trials), f"sqlite:///{d / 'audit-op.db'}")
    print()
    print("## Durability")
    print(f"nasbook SQLite: journal_mode={audit['journal_mode']}, synchronous={audit['synchronous']}; "
          f"audit of a {audit['n']}-trial run: {audit['commits_with_a_trial']} commits carry a trial "
          f"(at most {audit['max_trials_per_commit']} per commit), {audit['commits_total']} commits in all, "
          f"{audit['rows_on_disk']} trial rows on disk -> "
          f"{'one commit per trial: OK' if audit['ok'] else 'NOT one commit per trial'}")
    print(f"timed nasbook SQLite runs: trial rows read back from disk == {args.trials} in every repeat: "
          f"{'yes' if durable_ok else 'NO'}")
    print(f"Optuna default SQLite (journal_mode={op_audit['journal_mode']}): {op_audit['commits_per_trial']:.1f} "
          f"commits per trial ({op_audit['commits_total']} for {op_audit['n']} trials)")

    rate = summary["nasbook-sqlite"]["median_trials_per_s"]
    passed = rate >= GOAL_TRIALS_PER_S and audit["ok"] and durable_ok
    print()
    print(f"GOAL >= {GOAL_TRIALS_PER_S:,.0f} trials/s with durable commits: {'PASS' if passed else 'FAIL'} "
          f"(nasbook-sqlite median {rate:,.0f} trials/s, one commit per trial {'verified' if audit['ok'] else 'NOT verified'})")

    if args.json:
        write_json(args.json, {
            "benchmark": "overhead",
            "metadata": meta,
            "config": {
                "dataset": DATASET, "trials": args.trials, "optuna_sqlite_trials": args.optuna_trials,
                "optuna_memory_trials": args.trials, "repeats": args.repeats, "order": configs,
                "timed": "nasbook: Search.run() only; Optuna: the ask/tell loop only (study creation excluded)",
                "baseline": args.baseline,
            },
            "one_time": one_time,
            "raw": raw,
            "summary": summary,
            "ratios": ratios,
            "durability_audit": {"nasbook": audit, "optuna_default_sqlite": op_audit, "timed_runs_rows_ok": durable_ok},
            "goal": {"trials_per_s": GOAL_TRIALS_PER_S, "measured": rate, "pass": passed},
        })
        print(f"# wrote {args.json}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
