"""benchmarks/search_row_cas_cost.py runs end to end with tiny parameters (its figures are in docs/benchmarks.md;
nothing here checks speed)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_search_row_cas_cost_benchmark_smoke():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "search_row_cas_cost.py"), "--calls", "5",
                          "--repeats", "2", "--trials", "3"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "| owner= (compare-and-set on the lease) |" in res.stdout
    # every search-row write of a run names its lease: set-up state, the executor once started, the end
    assert "calls in one run() of 3 trials: 3 [['owner', 'state'], ['config', 'owner'], ['elapsed_s', 'owner', 'state']]" in res.stdout
