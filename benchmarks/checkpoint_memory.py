"""Memory held by the checkpoints a multi-fidelity search keeps to continue its trials.

Each configuration runs in a fresh subprocess (its peak RSS is its own):

* ``fake``: ``ToyTask(CellSpace(), epochs=9)`` whose checkpoints carry ``--mb`` MB of padding (a small CNN
  with its optimizer state: 0.5-2 MB on Digits), under ``ASHA``, ``SuccessiveHalving``, ``Hyperband`` and
  ``CurveStopping(base=ASHA)`` (all ``min_epochs=1, max_epochs=9, eta=3``), on ``":memory:"`` and on a
  SQLite file; ``--storages`` adds ``postgresql`` (a throwaway server, ``nasbook.testing._postgres``, a fresh
  database per configuration), and ``memory-dir`` / ``postgresql-dir`` (the same with ``checkpoints=<a folder>``).
  Without a folder, ``memory`` and ``postgresql`` held them in memory; since h-memckpt they go to a temporary
  folder of the search's own (``TMPDIR``), which ``held``/``disk_mb`` count.
* ``digits``: ``ASHA(min_epochs=1, max_epochs=9, eta=3)`` on ``Digits()`` over ``CellSpace()``: real
  networks trained with Lightning (checkpoints with Adam's state).

Every ``--every`` trials a callback records the checkpoints the search holds (how many, MB in memory, MB on
disk) and the process's RSS; at the end the peak RSS, and a fingerprint of the decisions (each trial's
number, architecture, epochs, parent and ``epochs_run``), so that two trees can be compared.

Usage::

    python benchmarks/checkpoint_memory.py --json bench-results/ckpt_old.json
    python benchmarks/checkpoint_memory.py --compare OLD.json NEW.json

Pick the tree with ``PYTHONPATH`` (the subprocesses inherit it).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import describe_machine, describe_package, format_table, metadata, write_json

SEED = 100
CONFIGS = ("asha", "sh", "hyperband", "curve-asha")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _held(s: Any) -> tuple[int, float, float]:
    """(checkpoints held, MB of them in memory, MB of them on disk)."""
    from nasbook.search._checkpoints import CheckpointDir

    held = s._checkpoints
    folder = getattr(held, "path", None)  # a CheckpointDir, or (newer trees) a TempCheckpoints once it made one
    in_memory = held if not isinstance(held, CheckpointDir) and folder is None else getattr(held, "memory", {})
    size = sum(p.stat().st_size for p in folder.glob("trial-*.ckpt")) if folder is not None else 0
    return len(held), sum(len(v) for v in in_memory.values()) / 2**20, size / 2**20


def _strategy(kind: str) -> Any:
    from nasbook.strategies import ASHA, CurveStopping, Hyperband, SuccessiveHalving

    kw = {"min_epochs": 1, "max_epochs": 9, "eta": 3}
    if kind == "asha":
        return ASHA(**kw)
    if kind == "sh":
        return SuccessiveHalving(**kw)
    if kind == "hyperband":
        return Hyperband(**kw)
    return CurveStopping(base=ASHA(**kw), predictor="last-value", k=50)


def one(kind: str, task_kind: str, storage: str, trials: int, mb: float, every: int) -> dict[str, Any]:
    import nasbook
    from nasbook.space import CellSpace
    from nasbook.testing import ToyTask

    space = CellSpace()
    if task_kind == "digits":
        from nasbook.tasks import Digits

        task: Any = Digits(max_epochs=9)
    else:
        pad = "x" * int(mb * 2**20)

        class Padded(ToyTask):  # a ToyTask whose checkpoints weigh as much as a small CNN's
            def evaluate(self, arch: Any, **kw: Any) -> Any:
                res = super().evaluate(arch, **kw)
                ckpt = json.loads(res.checkpoint)
                return dataclasses.replace(res, checkpoint=json.dumps({"curve": ckpt["curve"], "pad": pad}).encode())

        task = Padded(space, epochs=9)
    samples: list[dict[str, Any]] = []

    def watch(s: Any, trial: Any) -> None:
        if s.n_trials % every == 0:
            n, mem, disk = _held(s)
            samples.append({"trials": s.n_trials, "held": n, "mem_mb": round(mem, 1), "disk_mb": round(disk, 1),
                            "rss_mb": round(_rss_mb(), 1)})

    with tempfile.TemporaryDirectory() as tmp:
        if storage.startswith("postgresql"):
            from nasbook.testing._postgres import fresh_database

            store = fresh_database(os.environ["NASBOOK_BENCH_PG"])
        else:
            store = ":memory:" if storage.startswith("memory") else str(Path(tmp) / "s.db")
        folder = {"checkpoints": str(Path(tmp) / "ck")} if storage.endswith("-dir") else {}
        t0 = time.perf_counter()
        s = nasbook.Search(space, task, strategy=_strategy(kind), budget=trials, seed=SEED, storage=store,
                           name="ckpt", callbacks=[watch], **folder).run(progress="none")
        run_s = time.perf_counter() - t0
        n, mem, disk = _held(s)
        decisions = [(t.number, t.arch.id, t.epochs, t.parent, (t.attrs.get("epochs_run") or t.metrics.get("epochs_run")))
                     for t in s.trials]
        s.close()
    return {
        "kind": kind, "task": task_kind, "storage": storage, "trials": len(decisions), "run_s": round(run_s, 2),
        "held": n, "mem_mb": round(mem, 1), "disk_mb": round(disk, 1), "samples": samples,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "promoted": sum(d[3] is not None for d in decisions),
        "decisions": hashlib.sha256(json.dumps(decisions).encode()).hexdigest()[:16],
    }


def _run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    if any(st.startswith("postgresql") for st in args.storages) and "NASBOOK_BENCH_PG" not in os.environ:
        from nasbook.testing._postgres import postgres_server

        with postgres_server() as url:
            os.environ["NASBOOK_BENCH_PG"] = url  # the subprocesses inherit it
            try:
                return _run_all(args)
            finally:
                del os.environ["NASBOOK_BENCH_PG"]
    jobs = [(k, "fake", st, args.trials) for k in args.kinds for st in args.storages]
    if args.digits:
        jobs.append(("asha", "digits", "sqlite", args.digits))
    out = []
    for kind, task_kind, storage, trials in jobs:
        cmd = [sys.executable, __file__, "--one", kind, task_kind, storage, str(trials), str(args.mb), str(args.every)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"{kind}/{task_kind}/{storage} failed")
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{kind:10s} {task_kind:6s} {storage:14s} trials={rec['trials']} held={rec['held']} mem={rec['mem_mb']} MB "
              f"disk={rec['disk_mb']} MB peak RSS={rec['peak_rss_mb']} MB run={rec['run_s']} s", flush=True)
        out.append(rec)
    return out


ROW = ("kind", "task", "storage", "trials", "promoted", "held", "mem_mb", "disk_mb", "peak_rss_mb", "run_s", "decisions")


def _table(records: list[dict[str, Any]]) -> str:
    return format_table(ROW, [[r[c] for c in ROW] for r in records])


def _growth(records: list[dict[str, Any]]) -> str:
    rows = [[r["kind"], r["task"], r["storage"], s["trials"], s["held"], s["mem_mb"], s["disk_mb"], s["rss_mb"]]
            for r in records for s in r["samples"]]
    return format_table(("kind", "task", "storage", "after trials", "held", "mem_mb", "disk_mb", "rss_mb"), rows)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--one", nargs=6, help=argparse.SUPPRESS)
    p.add_argument("--kinds", nargs="+", default=list(CONFIGS))
    p.add_argument("--storages", nargs="+", default=["memory", "sqlite"])
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--mb", type=float, default=1.0, help="MB per checkpoint of the fake task")
    p.add_argument("--every", type=int, default=250)
    p.add_argument("--digits", type=int, default=0, help="also ASHA on Digits/CellSpace for this many trials")
    p.add_argument("--json")
    p.add_argument("--compare", nargs=2)
    args = p.parse_args()
    if args.one:
        kind, task_kind, storage, trials, mb, every = args.one
        print(json.dumps(one(kind, task_kind, storage, int(trials), float(mb), int(every))))
        return
    if args.compare:
        for path in args.compare:
            rec = json.loads(Path(path).read_text())
            print(f"# {path}: {describe_package(rec['meta'])}; {describe_machine(rec['meta'])}")
            print(_table(rec["records"]))
            print()
            print(_growth(rec["records"]))
            print()
        return
    meta = metadata()
    records = _run_all(args)
    print(_table(records))
    print()
    print(_growth(records))
    if args.json:
        write_json(args.json, {"meta": meta, "records": records})


if __name__ == "__main__":
    main()
