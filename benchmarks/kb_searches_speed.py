"""``kb.searches`` (and ``Storage.list_searches``) on a SQLite store of N trials, old code against new, interleaved.

The store is ``kb_trials_scale.py``'s (20 searches over 8 tasks, ~90% complete, one search in four multi-fidelity,
one task in min mode), built once per size into ``--cache``. ``compare`` alternates worker processes (old, new,
old, new, ...; ``PYTHONPATH`` at each checkout), ``--rounds`` rounds; each worker copies the store, opens it
(``open_ms``: for the new code on a store made before ``ix_nasbook_trials_best`` this builds the index, once;
``reopen_ms`` a second open), then times the first ``kb.searches`` of the process (``first_ms``), the median of
``--repeat`` more (``searches_ms``) and of ``kb.storage.list_searches()`` (``list_ms``), with a digest of the frame
(dtypes, index, every value's repr), compared old against new. ``--ingest N`` also times ``kb.ingest`` of
``kb_ingest.make_trials(N)`` into a new store per worker (what the index costs a write).

    OMP_NUM_THREADS=1 nice python benchmarks/kb_searches_speed.py compare --sizes 100000,1000000 --rounds 3 \
        --old /tmp/old-kbperf --new . --cache bench-results/kb_trials_cache --ingest 100000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def worker(args: Any) -> None:
    import pandas  # noqa: F401  (imported before timing)
    from kb_trials_scale import digest

    import nasbook
    from nasbook import KnowledgeBase

    out: dict[str, Any] = {"nasbook": str(Path(nasbook.__file__).resolve().parents[1])}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "kb.db"
        shutil.copyfile(args.db, copy)
        t0 = time.perf_counter()
        KnowledgeBase(str(copy)).close()
        out["open_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        kb = KnowledgeBase(str(copy))
        out["reopen_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        df = kb.searches
        out["first_ms"] = (time.perf_counter() - t0) * 1000
        out["digest"], out["rows"] = digest(df), len(df)
        for name, fn in (("searches_ms", lambda: kb.searches), ("list_ms", kb.storage.list_searches)):
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1000)
            out[name] = statistics.median(times)
        kb.close()
        if args.ingest:
            from kb_ingest import make_trials

            space, trials, _ = make_trials(args.ingest)
            kb = KnowledgeBase(str(Path(tmp) / "ingest.db"))
            t0 = time.perf_counter()
            kb.ingest(trials, task="t", space=space, name="s")  # validated, as kb_ingest.py times it
            out["ingest_per_s"] = args.ingest / (time.perf_counter() - t0)
            kb.close()
    print("RESULT " + json.dumps(out), flush=True)


def _run(code: Path, db: Path, args: Any) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(code.resolve()))
    cmd = [sys.executable, __file__, "worker", "--db", str(db), "--repeat", str(args.repeat),
           "--ingest", str(args.ingest)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            got = dict(json.loads(line[7:]))
            if Path(got["nasbook"]) != code.resolve():
                raise RuntimeError(f"the worker imported nasbook from {got['nasbook']}, not {code}")
            return got
    raise RuntimeError(f"worker failed ({code}): {proc.stderr[-3000:]}")


KEYS = ("first_ms", "searches_ms", "list_ms", "open_ms", "reopen_ms", "ingest_per_s")


def compare(args: Any) -> dict[str, Any]:
    from _common import metadata, write_json
    from kb_trials_scale import build

    res: dict[str, Any] = {"meta": metadata(), "old": str(args.old), "new": str(args.new), "sizes": {}}
    for n in (int(s) for s in args.sizes.split(",")):
        Path(args.cache).mkdir(parents=True, exist_ok=True)
        db = build(n, Path(args.cache))
        runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
        for r in range(args.rounds):
            for code in ("old", "new"):
                got = _run(Path(getattr(args, code)), db, args)
                got["load"] = os.getloadavg()[0]
                runs[code].append(got)
                print(f"# {n:,} round {r} {code} (load {got['load']:.1f}): "
                      + ", ".join(f"{k} {got[k]:.1f}" for k in KEYS if k in got), flush=True)
        res["sizes"][str(n)] = runs
        if args.json:
            write_json(args.json, res)
    print("\n| trials | figure | old (median) | new (median) | old/new per round | frames equal |")
    print("|---:|---|---:|---:|---|---|")
    for n, runs in res["sizes"].items():
        same = all(o["digest"] == w["digest"] for o, w in zip(runs["old"], runs["new"]))
        for k in KEYS:
            if k not in runs["new"][0]:
                continue
            old, new = [r[k] for r in runs["old"]], [r[k] for r in runs["new"]]
            ratio = " / ".join(f"{a / b:.1f}" for a, b in zip(old, new))
            print(f"| {int(n):,} | {k} | {statistics.median(old):,.1f} | {statistics.median(new):,.1f} | {ratio} | {same} |")
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--db", type=Path, required=True)
    w.add_argument("--repeat", type=int, default=5)
    w.add_argument("--ingest", type=int, default=0)
    c = sub.add_parser("compare")
    c.add_argument("--sizes", default="100000,1000000")
    c.add_argument("--rounds", type=int, default=3)
    c.add_argument("--repeat", type=int, default=5)
    c.add_argument("--ingest", type=int, default=0, help="also time kb.ingest of this many trials (0: not)")
    c.add_argument("--old", type=Path, required=True, help="a folder whose nasbook/ is the old code")
    c.add_argument("--new", type=Path, default=Path(__file__).resolve().parents[1])
    c.add_argument("--cache", default="bench-results/kb_trials_cache")
    c.add_argument("--json")
    args = p.parse_args()
    worker(args) if args.cmd == "worker" else compare(args)


if __name__ == "__main__":
    main()
