"""benchmarks/epochs_budget_in_flight.py runs end to end with tiny parameters (its figures: docs/benchmarks.md)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_epochs_budget_benchmark_smoke(tmp_path):
    out = tmp_path / "e.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "epochs_budget_in_flight.py"), "--budgets", "10",
                          "--seeds", "1", "--tasks", "digits", "--executors", "local", "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    rows = json.loads(out.read_text())
    assert [(r["strategy"], r["budget"]) for r in rows] == [("asha", 10), ("sh", 10), ("hyperband", 10)]
    assert all(max(r["spent"]) <= 10 for r in rows) and "over budget: 0 of 1" in res.stdout
