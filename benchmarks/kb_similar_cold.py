"""The first ``kb.similar(arch, 10)`` on a SQLite store with no saved summary (a full read of the space), old
against new code, interleaved in fresh worker processes (issue 11, docs/benchmarks.md 11s-kb3, 11s-cold).

``worker``: one process (``PYTHONPATH`` at one checkout) copies the store to a temporary folder (no
``.similar`` file next to it), imports pandas, faiss and nasbook, then times the first call on a fresh
``KnowledgeBase``; prints a JSON line with the time and a digest of the summary's arrays (``to_arrays``) and
of the answer (its repr), so old and new can be compared bit for bit. ``--profile`` runs it under cProfile. The
time is wall-clock (``ms``) and the process's CPU time (``cpu_ms``, all its threads: steadier on a shared machine).

``compare``: alternates workers (old, new, old, new, ...) ``--rounds`` times per store and prints a table: medians,
the old/new ratio of each round, the phases, and the digests (one value when old and new agree in every round).
``--old`` is a commit (its ``nasbook/`` is extracted with ``git archive`` into a temporary folder) or a folder
holding a ``nasbook/`` package; ``--new`` the same, default this checkout. Each worker reports the folder its
``nasbook`` was imported from, and the run stops if it is not the one asked for (an old worker that picked up the
checkout or the installed copy would compare the new code with itself).

    python kb_similar_cold.py compare --dbs ../bench-results/cache/kb_similar_100000_20_0.db --rounds 3 --old 8bfe9fa
    python kb_similar_cold.py compare --dbs ../bench-results/cache/kb_similar_100000_20_0.db --rounds 3 \
        --old /tmp/kbcold_old --new /work/wt/kbcold

``--saved``: the first call of a new process on a store *whose summary was saved* (``<db>.similar/``, what any
earlier process's first call leaves next to a SQLite file) instead: per store and code, one ``prepare`` worker
copies the store into a temporary folder and makes the first call there (each code saves its own file format);
every timed worker then copies the store and that ``.similar`` folder. Phase ``load`` is the time inside
``_similar_store.load`` (the file read, checked, and the index made from it).

``--pg N[,N...]``: the same on PostgreSQL (a throwaway server, ``nasbook.testing._postgres``), one database per
size filled as ``kb_similar_e2e.py`` fills its SQLite files (N trials over 20 tasks, N // 10 cells): per round an
old worker (no summary saved for a server database before issue 11's cache folder: a full read), a new worker
with the cache off (``NASBOOK_CACHE_DIR=off``: a full read), and a new worker whose summary the first new worker
saved in a cache folder of this run (``NASBOOK_CACHE_DIR``).

    python kb_similar_cold.py compare --pg 100000 --rounds 3 --old main
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


def worker(db: str, profile: bool, saved: bool = False, prepare: str | None = None) -> None:
    import faiss  # noqa: F401
    import numpy as np
    import pandas as pd  # noqa: F401

    import nasbook
    from nasbook.space import CellSpace

    query = CellSpace(n_nodes=5).sample(np.random.default_rng(1000))
    if prepare:  # the store and the summary file this code saves at its first call, for --saved workers
        copy = Path(prepare) / Path(db).name
        shutil.copyfile(db, copy)
        with nasbook.KnowledgeBase(str(copy)) as kb:
            kb.similar(query, 10)
        print(json.dumps({"prepared": str(copy), "nasbook": str(Path(nasbook.__file__).parent)}), flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / Path(db).name
        if "://" not in db:  # a SQLite file; a server database (--pg) is used as it is
            shutil.copyfile(db, copy)
        if saved:
            shutil.copytree(f"{db}.similar", f"{copy}.similar")
        kb = nasbook.KnowledgeBase(db if "://" in db else str(copy))
        phases = _time_phases()
        if profile:
            import cProfile
            import pstats

            pr = cProfile.Profile()
            pr.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        ans = kb.similar(query, 10)
        ms, cpu_ms = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
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
        print(json.dumps({"ms": ms, "cpu_ms": cpu_ms, **{f"{k}_ms": v for k, v in phases.items()}, "summary": h.hexdigest(), "answer": a, "rows": kept.summary.n_rows,
                          "how": kept.how, "nasbook": str(Path(nasbook.__file__).parent)}), flush=True)
        kb.close()


def _time_phases() -> dict[str, float]:
    """Wrap the index's ``add`` (encoding and FAISS) and the saving of the summary file with timers: the rest of the
    first call is the read (fetch, frame, summary), the part this benchmark's change is about."""
    from nasbook.knowledge import _index, _similar_store

    phases = {"index": 0.0, "save": 0.0, "load": 0.0, "index_cpu": 0.0, "save_cpu": 0.0, "load_cpu": 0.0}

    def timed(owner: object, name: str, phase: str) -> None:
        fn = getattr(owner, name)

        def wrapper(*a: object, **k: object) -> object:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                phases[phase] += (time.perf_counter() - t0) * 1000
                phases[phase + "_cpu"] += (time.process_time() - c0) * 1000

        setattr(owner, name, wrapper)

    timed(_index.ArchIndex, "add", "index")
    timed(_similar_store, "save", "save")
    timed(_similar_store, "load", "load")
    return phases


ROOT = Path(__file__).resolve().parent.parent


def _code(which: str, given: str | None) -> tuple[Path, str]:
    """The folder to put on ``PYTHONPATH`` for ``--old`` / ``--new`` and how to name it: a folder as given, or a
    commit's ``nasbook/`` (``git archive``) in a new temporary folder."""
    if given is None:
        if which == "old":
            raise SystemExit("compare needs --old: a commit (e.g. main's) or a folder holding its nasbook/")
        return ROOT, f"this checkout ({_head(ROOT)})"
    if Path(given, "nasbook", "__init__.py").is_file():
        return Path(given).resolve(), given
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{given}^{{commit}}"],
                            capture_output=True, text=True)
    if commit.returncode:
        raise SystemExit(f"--{which} {given!r} is neither a folder holding nasbook/ nor a commit of {ROOT}")
    folder = Path(tempfile.mkdtemp(prefix=f"kbcold_{which}_"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit.stdout.strip(), "nasbook"], check=True,
                             capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder, f"commit {commit.stdout.strip()[:10]}"


def _head(root: Path) -> str:
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "nasbook"], capture_output=True,
                           text=True)
    return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def _run_worker(db: str, folder: Path, *extra: str, cache: str | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(folder), **({"NASBOOK_CACHE_DIR": cache} if cache else {})}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "worker", "--db", db, *extra], env=env,
                         capture_output=True, text=True, timeout=3600, cwd=tempfile.gettempdir())
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    got = json.loads(out.stdout.strip().splitlines()[-1])
    if Path(got["nasbook"]).resolve() != (folder / "nasbook").resolve():  # not the code asked for: stop
        raise RuntimeError(f"the worker imported nasbook from {got['nasbook']}, not from {folder}/nasbook")
    return got


def compare(args: argparse.Namespace) -> None:
    codes = {which: _code(which, getattr(args, which)) for which in ("old", "new")}
    try:
        _compare_pg(args, codes) if args.pg else _compare(args, codes)
    finally:  # the folders git archive filled for this run
        for folder, name in codes.values():
            if name.startswith("commit "):
                shutil.rmtree(folder, ignore_errors=True)


def _compare(args: argparse.Namespace, codes: dict[str, tuple[Path, str]]) -> None:
    for which, (folder, name) in codes.items():
        print(f"# {which}: {name} (PYTHONPATH={folder})", flush=True)
    every: dict[str, dict] = {"code": {w: name for w, (_, name) in codes.items()}}
    for store in (str(Path(d).resolve()) for d in args.dbs.split(",")):
        res: dict[str, list[dict]] = {"old": [], "new": []}
        dbs, extra = {"old": store, "new": store}, []
        if args.saved:  # each code's own summary file, saved once by its first call
            extra = ["--saved"]
            for code in ("old", "new"):
                folder = tempfile.mkdtemp(prefix=f"kbcold_saved_{code}_", dir=args.tmp)
                dbs[code] = _run_worker(store, codes[code][0], "--prepare", folder)["prepared"]
        db = store
        for r in range(args.rounds):
            for code in ("old", "new"):
                load = os.getloadavg()[0]
                got = _run_worker(dbs[code], codes[code][0], *extra)
                got["load"] = load
                res[code].append(got)
                print(f"# {Path(db).name} round {r} {code}: {got['ms']:.0f} ms (index {got['index_ms']:.0f}, save "
                      f"{got['save_ms']:.0f}, file load {got['load_ms']:.0f}, how {got['how']}) (load {load:.1f}) summary {got['summary'][:12]} answer "
                      f"{got['answer'][:12]} {got['nasbook']}", flush=True)
        for code in ("old", "new") if args.saved else ():
            shutil.rmtree(Path(dbs[code]).parent, ignore_errors=True)
        old, new = res["old"], res["new"]
        same = all(o["summary"] == new[0]["summary"] and o["answer"] == new[0]["answer"] for o in old + new)
        ratios = " / ".join(f"{o['ms'] / n['ms']:.1f}" for o, n in zip(old, new))
        for o in old + new:
            o["read_ms"] = o["ms"] - o["index_ms"] - o["save_ms"] - o["load_ms"]
            o["read_cpu_ms"] = o["cpu_ms"] - o["index_cpu_ms"] - o["save_cpu_ms"] - o["load_cpu_ms"]
        print("| store | rows | old ms | new ms | old/new per round | load | same |")
        print(f"| {Path(db).name} | {new[0]['rows']} | {statistics.median(o['ms'] for o in old):,.0f} | "
              f"{statistics.median(n['ms'] for n in new):,.0f} | {ratios} | "
              f"{min(x['load'] for x in old + new):.1f}-{max(x['load'] for x in old + new):.1f} | {same} |", flush=True)
        for ph in ("read", "index", "save", "load", "cpu", "read_cpu", "index_cpu", "save_cpu", "load_cpu"):
            print(f"|   {ph} | | {statistics.median(o[ph + '_ms'] for o in old):,.0f} | "
                  f"{statistics.median(n[ph + '_ms'] for n in new):,.0f} | "
                  + " / ".join(f"{o[ph + '_ms'] / n[ph + '_ms']:.1f}" if n[ph + '_ms'] else "-" for o, n in zip(old, new)) + " | | |", flush=True)
        for what in ("summary", "answer"):
            print(f"# {what} digests: old {sorted({o[what] for o in old})}, new {sorted({n[what] for n in new})}",
                  flush=True)
        every[Path(db).name] = res
        if args.json:
            Path(args.json).write_text(json.dumps(every, indent=1))


def _fill_pg(url: str, n: int, tasks: int = 20, seed: int = 0) -> None:
    """``n`` trials over ``tasks`` tasks of ``n // 10`` cells, as ``kb_similar_e2e._store`` fills a SQLite file."""
    import numpy as np
    import pandas as pd

    from nasbook import KnowledgeBase
    from nasbook.space import CellSpace

    space, rng = CellSpace(n_nodes=5), np.random.default_rng(seed + 21)
    seen: dict = {}
    while len(seen) < max(10, min(100_000, n // 10)):
        a = space.sample(rng)
        seen.setdefault(a.id, a)
    archs = list(seen.values())
    with KnowledgeBase(url) as kb:
        for t in range(tasks):
            idx = rng.integers(0, len(archs), n // tasks)
            kb.ingest(pd.DataFrame({"arch": [archs[i] for i in idx], "value": rng.random(len(idx))}),
                      task=f"task-{t:02d}", space=space, name=f"run-{t:02d}", validate=False)


def _compare_pg(args: argparse.Namespace, codes: dict[str, tuple[Path, str]]) -> None:
    from nasbook.testing._postgres import fresh_database, postgres_server

    for which, (folder, name) in codes.items():
        print(f"# {which}: {name} (PYTHONPATH={folder})", flush=True)
    every: dict[str, dict] = {"code": {w: name for w, (_, name) in codes.items()}}
    with postgres_server() as server, tempfile.TemporaryDirectory(dir=args.tmp) as cache:
        for n in (int(x) for x in args.pg.split(",")):
            url = fresh_database(server)
            t0 = time.perf_counter()
            _fill_pg(url, n)
            print(f"# filled {n:,} trials in {time.perf_counter() - t0:.1f} s", flush=True)
            runs = {"old": (codes["old"][0], "off"), "new, cache off": (codes["new"][0], "off"),
                    "new, saved": (codes["new"][0], cache)}
            first = _run_worker(url, codes["new"][0], cache=cache)  # the new code's first call saves the summary
            print(f"# new, first call (saves): {first['ms']:.0f} ms, cpu {first['cpu_ms']:.0f} ms, save "
                  f"{first['save_ms']:.0f} ms, how {first['how']}", flush=True)
            res: dict[str, list[dict]] = {k: [] for k in runs}
            for r in range(args.rounds):
                for code, (folder, where) in runs.items():
                    load = os.getloadavg()[0]
                    got = {**_run_worker(url, folder, cache=where), "load": load}
                    res[code].append(got)
                    print(f"# {n} round {r} {code}: {got['ms']:.0f} ms, cpu {got['cpu_ms']:.0f} ms (file load "
                          f"{got['load_ms']:.0f}, how {got['how']}) (load {load:.1f}) summary {got['summary'][:12]} "
                          f"answer {got['answer'][:12]}", flush=True)
            print("| trials | code | how | ms (median) | cpu ms (median) | per round ms | load avg | summary, answer |")
            for code, got in res.items():
                print(f"| {n:,} | {code} | {got[0]['how']} | {statistics.median(g['ms'] for g in got):,.0f} | "
                      f"{statistics.median(g['cpu_ms'] for g in got):,.0f} | "
                      f"{' / '.join(format(g['ms'], ',.0f') for g in got)} | "
                      f"{min(g['load'] for g in got):.1f}-{max(g['load'] for g in got):.1f} | "
                      f"{sorted({g['summary'][:8] + ',' + g['answer'][:8] for g in got})} |", flush=True)
            every[str(n)] = {"first": first, **res}
            if args.json:
                Path(args.json).write_text(json.dumps(every, indent=1))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["worker", "compare"])
    p.add_argument("--db")
    p.add_argument("--dbs")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--saved", action="store_true", help="time a store whose summary was saved (see the docstring)")
    p.add_argument("--prepare", help="(worker) save the store's summary in this folder, time nothing")
    p.add_argument("--tmp", help="(compare --saved) where the prepared copies go (default: the system's)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--old")
    p.add_argument("--new")
    p.add_argument("--json")
    p.add_argument("--pg", help="compare on PostgreSQL databases of these trial counts (comma-separated)")
    args = p.parse_args()
    if args.mode == "worker":
        worker(args.db, args.profile, args.saved, args.prepare)
    else:
        compare(args)


if __name__ == "__main__":
    main()
