"""The first ``kb.similar(arch, 10)`` on a SQLite store with no saved summary (a full read of the space), old
against new code, interleaved in fresh worker processes (issue 11, docs/benchmarks.md 11s-kb3).

``worker``: one process (``PYTHONPATH`` at one checkout) copies the store to a temporary folder (no
``.similar`` file next to it), imports pandas, faiss and nasbook, then times the first call on a fresh
``KnowledgeBase``; prints a JSON line with the time and a digest of the summary's arrays (``to_arrays``) and
of the answer (its repr), so old and new can be compared bit for bit. ``--profile`` runs it under cProfile.

``compare``: alternates workers (old, new, old, new, ...) ``--rounds`` times per store and prints a table.

    python kb_similar_cold.py compare --dbs ../bench-results/cache/kb_similar_100000_20_0.db --rounds 3 \
        --old /tmp/kbcold_old --new /work/wt/kbcold
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def worker(db: str, profile: bool) -> None:
    import faiss  # noqa: F401
    import numpy as np
    import pandas as pd  # noqa: F401

    import nasbook
    from nasbook.space import CellSpace

    query = CellSpace(n_nodes=5).sample(np.random.default_rng(1000))
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / Path(db).name
        shutil.copyfile(db, copy)
        kb = nasbook.KnowledgeBase(str(copy))
        phases = _time_phases()
        if profile:
            import cProfile
            import pstats

            pr = cProfile.Profile()
            pr.enable()
        t0 = time.perf_counter()
        ans = kb.similar(query, 10)
        ms = (time.perf_counter() - t0) * 1000
        if profile:
            pr.disable()
            pstats.Stats(pr, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
            pstats.Stats(pr, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        kept = kb._similar_kept[(query.space_id, None)]
        h = hashlib.blake2b(digest_size=16)
        for name, arr in sorted(kept.summary.to_arrays().items()):
            h.update(name.encode())
            h.update(str(arr.dtype).encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(repr(sorted(kept.pending)).encode() + repr(sorted(kept.counts.items())).encode())
        h.update(repr(kept.index._pos).encode() if hasattr(kept.index, "_pos") else b"")
        a = hashlib.blake2b(pd.util.hash_pandas_object(ans.drop(columns=["scores", "arch"]), index=True).to_numpy()
                            .tobytes() + repr(ans.to_dict("list")).encode(), digest_size=16).hexdigest()
        print(json.dumps({"ms": ms, **{f"{k}_ms": v for k, v in phases.items()}, "summary": h.hexdigest(), "answer": a, "rows": kept.summary.n_rows,
                          "how": kept.how, "nasbook": str(Path(nasbook.__file__).parent)}), flush=True)
        kb.close()


def _time_phases() -> dict[str, float]:
    """Wrap the index's ``add`` (encoding and FAISS) and the saving of the summary file with timers: the rest of the
    first call is the read (fetch, frame, summary), the part this benchmark's change is about."""
    from nasbook.knowledge import _index, _similar_store

    phases = {"index": 0.0, "save": 0.0}

    def timed(owner: object, name: str, phase: str) -> None:
        fn = getattr(owner, name)

        def wrapper(*a: object, **k: object) -> object:
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                phases[phase] += (time.perf_counter() - t0) * 1000

        setattr(owner, name, wrapper)

    timed(_index.ArchIndex, "add", "index")
    timed(_similar_store, "save", "save")
    return phases


def compare(args: argparse.Namespace) -> None:
    here = Path(__file__).resolve()
    every: dict[str, dict] = {}
    for db in args.dbs.split(","):
        res: dict[str, list[dict]] = {"old": [], "new": []}
        for r in range(args.rounds):
            for code in ("old", "new"):
                env = {**os.environ, "PYTHONPATH": getattr(args, code)}
                load = os.getloadavg()[0]
                out = subprocess.run([sys.executable, str(here), "worker", "--db", db], env=env, capture_output=True,
                                     text=True, timeout=3600)
                if out.returncode:
                    raise RuntimeError(out.stderr[-3000:])
                got = json.loads(out.stdout.strip().splitlines()[-1])
                got["load"] = load
                res[code].append(got)
                print(f"# {Path(db).name} round {r} {code}: {got['ms']:.0f} ms (index {got['index_ms']:.0f}, save "
                      f"{got['save_ms']:.0f}) (load {load:.1f}) {got['nasbook']}",
                      flush=True)
        old, new = res["old"], res["new"]
        same = all(o["summary"] == new[0]["summary"] and o["answer"] == new[0]["answer"] for o in old + new)
        ratios = " / ".join(f"{o['ms'] / n['ms']:.1f}" for o, n in zip(old, new))
        for o in old + new:
            o["read_ms"] = o["ms"] - o["index_ms"] - o["save_ms"]
        for ph in ("read", "index", "save"):
            print(f"|   {ph} | | {statistics.median(o[ph + '_ms'] for o in old):,.0f} | "
                  f"{statistics.median(n[ph + '_ms'] for n in new):,.0f} | "
                  + " / ".join(f"{o[ph + '_ms'] / n[ph + '_ms']:.1f}" for o, n in zip(old, new)) + " | | |", flush=True)
        print(f"| {Path(db).name} | {new[0]['rows']} | {statistics.median(o['ms'] for o in old):,.0f} | "
              f"{statistics.median(n['ms'] for n in new):,.0f} | {ratios} | "
              f"{min(x['load'] for x in old + new):.1f}-{max(x['load'] for x in old + new):.1f} | {same} |", flush=True)
        every[Path(db).name] = res
        if args.json:
            Path(args.json).write_text(json.dumps(every, indent=1))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["worker", "compare"])
    p.add_argument("--db")
    p.add_argument("--dbs")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--old")
    p.add_argument("--new")
    p.add_argument("--json")
    args = p.parse_args()
    if args.mode == "worker":
        worker(args.db, args.profile)
    else:
        compare(args)


if __name__ == "__main__":
    main()
