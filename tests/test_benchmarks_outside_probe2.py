"""benchmarks/outside_probe2.py: its comparison runs end to end and its table reads what it wrote."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe2.py"


def test_outside_probe2_compare_smoke_and_table(tmp_path):
    pytest.importorskip("optuna")
    out = tmp_path / "c.json"
    subprocess.run([sys.executable, str(SCRIPT), "compare", "--datasets", "cs,digits", "--methods", "random,tpe,optuna-direct",
                    "--budgets", "4", "--seeds", "200-201", "--json", str(out)], check=True, capture_output=True, text=True)
    recs = json.loads(out.read_text())["compare"]
    assert len(recs) == 2 * (3 + 2)  # optuna-direct runs on NAS-Bench-Graph only
    assert all(r["n"] == 4 and r["regret_pp"] >= 0 for r in recs)
    table = subprocess.run([sys.executable, str(SCRIPT), "table", str(out)], check=True, capture_output=True, text=True).stdout
    assert "### budget 4, seeds 200..201" in table and "| cs |" in table and "tpe vs optuna-direct" in table


def test_outside_probe2_refuses_the_reporting_seeds(tmp_path):
    p = subprocess.run([sys.executable, str(SCRIPT), "compare", "--seeds", "0-3"], capture_output=True, text=True)
    assert p.returncode == 2 and "seeds >= 100" in p.stderr
