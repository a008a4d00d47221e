"""benchmarks/arch_space_ref.py runs end to end with tiny parameters (its figures are in docs/benchmarks.md)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_arch_space_ref_benchmark_smoke(tmp_path):
    out = tmp_path / "a.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "arch_space_ref.py"), "--rounds", "1", "--reps", "1",
                          "--samples", "20", "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "bytes_per_arch" in res.stdout and "pickle_graph_arch" in res.stdout
    (run,) = json.loads(out.read_text())["raw"]["new"]
    assert run["n_archs"] == 26206 and run["pickle_graph_arch"] > 0
