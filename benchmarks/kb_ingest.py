"""Bulk ingest into a KnowledgeBase: trials per second and bytes per trial, SQLite and PostgreSQL.

Feeds ``KnowledgeBase.ingest`` a pandas DataFrame of N trials of an "external run" over
NAS-Bench-Graph's space (GraphSpace, 26,206 architectures): each row an architecture *spec* (a dict,
checked against the space: each distinct one once), a value and two metrics, as a run exported from
another tool would arrive. Timed: the ``ingest`` call alone (the DataFrame is built first), into a
fresh SQLite file (WAL) and, when the server binaries are installed, a fresh database on a
throwaway PostgreSQL server (``nasbook.testing._postgres``: initdb + pg_ctl on 127.0.0.1, fsync
off, as in the tests). Bytes per trial: the SQLite file (plus its -wal) or
the sum of ``pg_total_relation_size`` over the ``nasbook_*`` tables (trials, their index and the
warm-start aggregates), over N. Also run by ``kb_scale.py --stages ingest``. Goal: >= 20,000 trials/s.

Usage::

    python benchmarks/kb_ingest.py --trials 1000000 --json FILE
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import format_table, metadata, write_json

from nasbook import KnowledgeBase
from nasbook.space import GNN_OPS, GraphSpace

GOAL = 20_000


def make_trials(n: int, seed: int = 0) -> Any:
    import pandas as pd

    space = GraphSpace(ops=GNN_OPS)
    rng = np.random.default_rng(seed)
    pool = [space.sample(rng).to_dict() for _ in range(4000)]
    pool = list({repr(p): p for p in pool}.values())
    idx = rng.integers(0, len(pool), n)
    values = rng.uniform(0.5, 0.9, n)
    tests = values - rng.uniform(0, 0.05, n)
    return space, pd.DataFrame({
        "arch": [pool[i] for i in idx],
        "value": values,
        "metrics": [{"test_accuracy": float(t), "latency_ms": float(v * 10)} for t, v in zip(tests, values)],
    }), len(pool)


def run(url: str, trials: Any, space: GraphSpace, size: Any) -> dict[str, Any]:
    kb = KnowledgeBase(url)
    gc.collect()
    t0 = time.perf_counter()
    name = kb.ingest(trials, task="external-benchmark", space=space, strategy="external")
    dt = time.perf_counter() - t0
    n = len(trials)
    t1 = time.perf_counter()
    stored = kb.storage.list_searches()[-1]
    assert stored.name == name and stored.n_trials == n, (stored, n)
    count_s = time.perf_counter() - t1
    nbytes = size(kb)
    kb.close()
    return {"trials": n, "seconds": dt, "trials_per_s": n / dt, "bytes": nbytes, "bytes_per_trial": nbytes / n,
            "count_check_s": count_s}


def measure(n_trials: int, backends: str = "sqlite,postgresql") -> dict[str, Any]:
    """Ingest ``n_trials`` into each backend: ``{"n_archs", "build_s", "results": {backend: figures}}``."""
    t0 = time.perf_counter()
    space, trials, n_archs = make_trials(n_trials)
    build_s = time.perf_counter() - t0
    print(f"# {n_trials:,} trials over {n_archs:,} distinct architectures built in {build_s:.1f} s", flush=True)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in backends:
            path = Path(tmp) / "kb.db"

            def sqlite_size(kb: KnowledgeBase) -> int:
                kb.storage.conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                return sum(p.stat().st_size for p in Path(tmp).glob("kb.db*"))

            results["sqlite"] = run(str(path), trials, space, sqlite_size)
            print(f"# sqlite: {results['sqlite']['trials_per_s']:,.0f} trials/s", flush=True)
        if "postgresql" in backends:
            from nasbook.testing._postgres import find_postgres, fresh_database, postgres_server

            if find_postgres() is None:
                results["postgresql"] = {"skipped": "PostgreSQL server binaries are not installed"}
            else:
                with postgres_server() as server:
                    def pg_size(kb: KnowledgeBase) -> int:
                        conn = kb.storage.conn
                        value = conn.exec_driver_sql(
                            "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relkind = 'r' "
                            "AND c.relname LIKE 'nasbook%%'").scalar()
                        conn.commit()
                        return int(value)

                    results["postgresql"] = run(fresh_database(server), trials, space, pg_size)
                    print(f"# postgresql: {results['postgresql']['trials_per_s']:,.0f} trials/s", flush=True)
    return {"n_trials": n_trials, "n_archs": n_archs, "build_s": build_s, "results": results}


def report(out: dict[str, Any]) -> None:
    rows = []
    for backend, r in out["results"].items():
        if "skipped" in r:
            rows.append([backend, "-", "-", "-", "-", r["skipped"]])
            continue
        ok = "met" if r["trials_per_s"] >= GOAL else "MISSED"
        rows.append([backend, f"{r['trials']:,}", f"{r['seconds']:.1f}", f"{r['trials_per_s']:,.0f}",
                     f"{r['bytes_per_trial']:.0f}", f"goal >= {GOAL:,}/s {ok}"])
    print(f"## KnowledgeBase.ingest: {out['n_trials']:,} trials over {out['n_archs']:,} architectures (DataFrame of arch "
          "specs, value, 2 metrics), one call")
    print(format_table(["backend", "trials", "s", "trials/s", "bytes/trial", ""], rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=1_000_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    meta = metadata()
    out = measure(args.trials, args.backends)
    report(out)
    if args.json:
        write_json(args.json, {"metadata": meta, "n_archs": out["n_archs"], "results": out["results"]})
        print(f"# wrote {args.json}")


if __name__ == "__main__":
    main()
