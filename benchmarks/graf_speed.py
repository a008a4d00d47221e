"""CellSpace's ``graf`` features: the per-cell code of ``--old`` (default 7bfde3a) against this checkout's batch code.

Two parts, both interleaved (old, new, old, new, ... ``--rounds`` times) and checked bit for bit:

* ``features``: the feature function alone, in this process: the old ``graf(key, ...)`` (its module read with
  ``git show OLD:nasbook/space/_cell_features.py``) once per cell, against ``graf_many(keys, ...)``, on ``--sizes``
  distinct sampled cells of each space (``--spaces``); microseconds per cell and the ratio per round.
* ``encode_many``: ``space.encode_many(archs, "graf")`` on a fresh space of architectures it did not make (what
  ``ArchIndex.add`` pays on a knowledge base's first ``similar`` call: each validated, then encoded), and
  ``space.encode(arch, "graf")`` one cell at a time (``--single`` cells), each in a worker process with
  ``PYTHONPATH`` at the old code (``git archive OLD nasbook``) or at this checkout.

    OMP_NUM_THREADS=1 python benchmarks/graf_speed.py --sizes 1000,20000,100000 --rounds 3 --json out.json
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import describe_machine, describe_package, format_table, metadata, write_json

ROOT = Path(__file__).resolve().parent.parent
NO = "none"
SPACES = {  # name -> CellSpace keywords
    "cell5": {"n_nodes": 5},  # the knowledge base's benchmark space (kb_scale.py, kb_similar_e2e.py)
    "nb201": {},
    "cell6-7ops": {"n_nodes": 6, "ops": [NO, "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "nor_conv_5x5",
                                         "avg_pool_3x3", "max_pool_3x3"]},  # more than four ops: the group subsets
}


def _cells(name: str, n: int, seed: int) -> tuple[Any, list[Any]]:
    """The space and ``n`` distinct cells sampled from it (fewer when it has fewer)."""
    from nasbook.space import CellSpace

    space = CellSpace(**SPACES[name])
    n = min(n, space.cardinality)
    rng = np.random.default_rng(seed)
    seen: dict[str, Any] = {}
    while len(seen) < n:
        a = space.sample(rng)
        seen.setdefault(a.id, a)
    return space, list(seen.values())


def _digest(x: np.ndarray) -> str:
    return hashlib.blake2b(f"{x.dtype.str}|{x.shape}|".encode() + x.tobytes(), digest_size=12).hexdigest()


# -- part 1: the feature function, in this process --------------------------------------------------------------
def _old_module(commit: str) -> Any:
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:nasbook/space/_cell_features.py"],
                          check=True, capture_output=True, text=True).stdout
    tmp = Path(tempfile.mkdtemp(prefix="graf_old_")) / "old_cell_features.py"
    tmp.write_text(text)
    spec = importlib.util.spec_from_file_location("old_cell_features", tmp)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def features(args: argparse.Namespace) -> list[dict[str, Any]]:
    from nasbook.space import _cell_features as new

    old = _old_module(args.old)
    out = []
    for name in args.spaces.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            space, archs = _cells(name, size, args.seed)
            keys = [tuple(a["edges"]) for a in archs]
            call = (space.n_nodes, space.edges, space._live_ops)
            olds, news, same = [], [], True
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                a = np.stack([old.graf(k, *call) for k in keys])
                olds.append((time.perf_counter() - t0) / len(keys) * 1e6)
                t0 = time.perf_counter()
                b = new.graf_many(keys, *call)
                news.append((time.perf_counter() - t0) / len(keys) * 1e6)
                same = same and a.dtype == b.dtype and a.tobytes() == b.tobytes()
            row = {"space": name, "cells": len(keys), "old_us": statistics.median(olds), "new_us": statistics.median(news),
                   "ratios": [o / n for o, n in zip(olds, news)], "same": same, "load": os.getloadavg()[0]}
            print(f"# features {name} {len(keys):,}: old {row['old_us']:.1f} us, new {row['new_us']:.2f} us a cell, "
                  f"same {same}", flush=True)
            out.append(row)
    return out


# -- part 2: encode_many / encode in worker processes at each checkout ------------------------------------------
_WORKER = """
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from graf_speed import _cells, _digest
from nasbook.space import Architecture
import nasbook
name, size, seed, single = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
space, archs = _cells(name, size, seed)
fresh = type(space).from_config(space.to_config())
copies = [Architecture(a.space_id, a.id, a.spec) for a in archs]
t0 = time.perf_counter()
x = fresh.encode_many(copies, "graf")
many = (time.perf_counter() - t0) / len(copies) * 1e6
fresh = type(space).from_config(space.to_config())
copies = [Architecture(a.space_id, a.id, a.spec) for a in archs[:single]]
t0 = time.perf_counter()
y = np.stack([fresh.encode(a, "graf") for a in copies])
one = (time.perf_counter() - t0) / len(copies) * 1e6
print(json.dumps({"many_us": many, "single_us": one, "digest": _digest(x), "digest_single": _digest(y),
                  "nasbook": nasbook.__file__}))
"""


def _worker(path: Path, name: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(path))
    res = subprocess.run([sys.executable, "-c", _WORKER, str(Path(__file__).parent), name, str(size), str(args.seed),
                          str(args.single)], env=env, check=True, capture_output=True, text=True,
                         cwd=tempfile.gettempdir())  # python -c puts the folder it runs in first on sys.path
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert str(path) in out["nasbook"], (path, out["nasbook"])
    return out


def encode_many(args: argparse.Namespace) -> list[dict[str, Any]]:
    old_dir = Path(tempfile.mkdtemp(prefix="graf_old_pkg_"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.old, "nasbook"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(old_dir)], input=archive.stdout, check=True)
    out = []
    for name in args.spaces.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
            for _ in range(args.rounds):
                for which, path in (("old", old_dir), ("new", ROOT)):
                    runs[which].append(_worker(path, name, size, args))
            digests = {r["digest"] for rs in runs.values() for r in rs}
            singles = {r["digest_single"] for rs in runs.values() for r in rs}
            row = {"space": name, "cells": size, "same": len(digests) == 1 and len(singles) == 1, "load": os.getloadavg()[0]}
            for key in ("many_us", "single_us"):
                o, n = [r[key] for r in runs["old"]], [r[key] for r in runs["new"]]
                row[f"old_{key}"], row[f"new_{key}"] = statistics.median(o), statistics.median(n)
                row[f"ratios_{key}"] = [a / b for a, b in zip(o, n)]
            print(f"# encode_many {name} {size:,}: old {row['old_many_us']:.1f} us, new {row['new_many_us']:.1f} us a cell; "
                  f"encode one by one old {row['old_single_us']:.1f} us, new {row['new_single_us']:.1f} us; same {row['same']}",
                  flush=True)
            out.append(row)
    return out


def _ratios(xs: list[float]) -> str:
    return " / ".join(f"{x:.1f}" for x in xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,20000,100000", help="distinct cells per measurement (comma-separated)")
    ap.add_argument("--spaces", default="cell5", help=f"comma-separated, of {sorted(SPACES)}")
    ap.add_argument("--parts", default="features,encode_many")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--single", type=int, default=2000, help="cells encoded one at a time (encode_many part)")
    ap.add_argument("--old", default="7bfde3a", help="commit of the old code")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    meta = metadata()
    print(describe_machine(meta))
    print(describe_package(meta))
    result: dict[str, Any] = {"meta": meta, "old": args.old}
    parts = args.parts.split(",")
    if "features" in parts:
        result["features"] = rows = features(args)
        print("\n## graf features alone: old per cell vs graf_many (us a cell, median of rounds)")
        print(format_table(["space", "cells", "old us", "new us", "old/new per round", "load", "same"],
                           [[r["space"], f"{r['cells']:,}", f"{r['old_us']:.1f}", f"{r['new_us']:.2f}", _ratios(r["ratios"]),
                             f"{r['load']:.1f}", r["same"]] for r in rows]))
    if "encode_many" in parts:
        result["encode_many"] = rows = encode_many(args)
        print("\n## space.encode_many(archs, 'graf') on a fresh space (validation included), and encode() one at a time")
        print(format_table(["space", "cells", "old many us", "new many us", "old/new per round", "old one us",
                            "new one us", "old/new per round", "load", "same"],
                           [[r["space"], f"{r['cells']:,}", f"{r['old_many_us']:.1f}", f"{r['new_many_us']:.1f}",
                             _ratios(r["ratios_many_us"]), f"{r['old_single_us']:.1f}", f"{r['new_single_us']:.1f}",
                             _ratios(r["ratios_single_us"]), f"{r['load']:.1f}", r["same"]] for r in rows]))
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    main()
