"""benchmarks/checkpoint_files_left.py runs end to end with a tiny budget and prints its table."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_checkpoint_files_left_prints_files_and_bytes_per_strategy():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "checkpoint_files_left.py"), "--budgets", "20",
                          "--strategies", "sh", "hyperband"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["strategy", "eta", "seed", "budget", "trials", "files", "bytes", "epochs_spent", "decisions"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"sh", "hyperband"} and all(row[4] == "20" for row in rows.values())
