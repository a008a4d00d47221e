"""Repeated ``kb.similar(arch, 10)`` calls (and with ``task="task-00"``) on a copy of a ``kb_similar_e2e`` store:
run once per checkout (``PYTHONPATH``), alternating, to compare two versions' per-call time back to back.

    python kb_similar_paired.py STORE.db N LABEL
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def main(store: str, n: int, label: str) -> None:
    from nasbook import KnowledgeBase
    from nasbook.space import CellSpace

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "kb.db"
        shutil.copyfile(store, copy)
        kb = KnowledgeBase(str(copy))
        space = CellSpace(n_nodes=5)
        rng = np.random.default_rng(300)
        queries = [space.sample(rng) for _ in range(n + 1)]
        kb.similar(queries[0], 10)
        plain, on_task = [], []
        for q in queries[1:]:
            t = time.perf_counter()
            kb.similar(q, 10)
            plain.append((time.perf_counter() - t) * 1000)
        for q in queries[1:]:
            t = time.perf_counter()
            kb.similar(q, 10, task="task-00")
            on_task.append((time.perf_counter() - t) * 1000)
        kb.close()
    print(f"{label} median {statistics.median(plain):.2f} min {min(plain):.2f} | task= median "
          f"{statistics.median(on_task):.2f} min {min(on_task):.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", help="a kb_similar_e2e store (copied; the copy is timed)")
    ap.add_argument("n", type=int, help="timed calls of each form")
    ap.add_argument("label", help="printed first on the result line")
    args = ap.parse_args()
    main(args.store, args.n, args.label)
