"""benchmarks/loop_cpu.py runs end to end with tiny parameters (its figures are in docs/benchmarks.md; nothing
here checks speed): the working tree and its no-index ablation, one repeat, with the statement audit."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_loop_cpu_benchmark_smoke():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "loop_cpu.py"), "--rev", ".", "--rev", ".:noindex",
                          "--trials", "20", "--repeats", "1", "--audit-trials", "20"], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "## Durable loop, 20 trials, median of 1 (ratios to .)" in res.stdout
    # one trial row and one COMMIT per trial, with or without the index
    assert re.search(r"INSERT INTO NASBOOK_TRIALS +1\.000 +1\.000\n", res.stdout), res.stdout
