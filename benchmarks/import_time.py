"""How long ``import nasbook`` takes in a fresh interpreter, beside the packages it cannot avoid.

Each round starts three fresh interpreters in turn: a bare one (``pass``: the interpreter's own start-up),
one importing ``numpy`` and ``sqlalchemy`` (what ``import nasbook`` loads besides the standard library,
tests/test_import.py), and one importing ``nasbook``. Times are from process start to exit, so the
ratio nasbook / dependencies is what this machine's load does not move much.

    python benchmarks/import_time.py --rounds 15 --json bench-results/import_time.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASES = {"bare": "pass", "numpy+sqlalchemy": "import numpy, sqlalchemy", "nasbook": "import nasbook"}


def _once(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = ap.parse_args(argv)
    times: dict[str, list[float]] = {k: [] for k in CASES}
    for _ in range(args.rounds):  # interleaved: a burst of load hits every case alike
        for name, code in CASES.items():
            times[name].append(_once(code))
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"rounds": args.rounds, "median_s": med,
           "nasbook_over_deps": med["nasbook"] / med["numpy+sqlalchemy"],
           "nasbook_own_s": med["nasbook"] - med["numpy+sqlalchemy"],
           "python": sys.version.split()[0]}
    print(f"{'case':<18} {'median s':>9} {'min s':>7} {'max s':>7}   ({args.rounds} interleaved rounds)")
    for k, v in times.items():
        print(f"{k:<18} {med[k]:>9.3f} {min(v):>7.3f} {max(v):>7.3f}")
    print(f"nasbook / numpy+sqlalchemy: {out['nasbook_over_deps']:.2f}x; nasbook's own share: {out['nasbook_own_s']:.3f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
