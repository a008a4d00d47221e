"""Run notebooks as a student does: default parameters, top to bottom, one at a time, default threads.

The test suite runs every notebook with small parameters (tests/notebooks); this runs them with the
parameters they ship with, through papermill, each in its own empty working directory, and records
per notebook: exit status, wall seconds, CPU seconds (user + sys of the kernel and the processes it
waited for, e.g. dask workers: the load-independent figure on a shared machine), the 1-minute load
average before and after, the files left in the working directory and papermill's own stderr. A
first cell is inserted that prints ``nasbook.__file__`` (the kernel inherits ``PYTHONPATH``: check
it imports the tree under test). Per-cell seconds are in each executed notebook's metadata.

Usage (from the repository root)::

    PYTHONPATH=$PWD nice -n 5 python benchmarks/notebooks_at_defaults.py TAG NOTEBOOK [NOTEBOOK ...]

writes ``bench-results/notebooks/TAG/<stem>/{in.ipynb,out.ipynb,cwd/}`` and appends one JSON line per
notebook to ``bench-results/notebooks/TAG/results.jsonl``. ``NB_TIMEOUT`` (seconds, default 1200)
stops a notebook that runs longer.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def cpu_of_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_one(rel: str, base: Path, timeout: int) -> dict:
    path = ROOT / rel
    out_dir = base / path.stem
    cwd = out_dir / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import nasbook, os; print('NASBOOK_FILE', nasbook.__file__, os.cpu_count())"))
    src = out_dir / "in.ipynb"
    nbformat.write(nb, src)
    cmd = [sys.executable, "-m", "papermill", str(src), str(out_dir / "out.ipynb"), "--cwd", str(cwd), "-k", "python3",
           "--no-progress-bar", "--log-level", "WARNING"]
    load0, cpu0, t0 = os.getloadavg(), cpu_of_children(), time.time()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        rc: int | str = done.returncode
        err = done.stderr[-3000:]
    except subprocess.TimeoutExpired as exc:
        rc, err = "timeout", str(exc.stderr or "")[-3000:]
    wall = time.time() - t0
    return {"nb": rel, "rc": rc, "wall_s": round(wall, 1), "cpu_s": round(cpu_of_children() - cpu0, 1),
            "load_start": load0, "load_end": os.getloadavg(),
            "files_left": sorted(str(p.relative_to(cwd)) for p in cwd.rglob("*")), "papermill_stderr": err}


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tag", help="bench-results/notebooks/TAG/ receives the runs")
    ap.add_argument("notebooks", nargs="+", help="notebook paths relative to the repository root")
    args = ap.parse_args(argv)
    tag, notebooks = args.tag, args.notebooks
    base = ROOT / "bench-results" / "notebooks" / tag
    base.mkdir(parents=True, exist_ok=True)
    timeout = int(os.environ.get("NB_TIMEOUT", "1200"))
    for rel in notebooks:
        rec = run_one(rel, base, timeout)
        with open(base / "results.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(json.dumps({k: rec[k] for k in ("nb", "rc", "wall_s", "cpu_s", "load_start", "load_end", "files_left")}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
