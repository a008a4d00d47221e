"""benchmarks/graf_speed.py runs end to end with its smallest parameters, started from the repository root as its
docstring says (nothing here checks speed): each worker imports the nasbook it is meant to time, the old commit's
archive or this checkout, and old and new give the same features bit for bit."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_graf_speed_smallest_run_compares_the_old_commit_with_this_checkout(tmp_path):
    out = tmp_path / "graf.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "graf_speed.py"), "--sizes", "20", "--rounds", "1",
                          "--single", "5", "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    # the old-code worker once imported ./nasbook (python -c puts its working folder first) and failed its own check
    assert res.returncode == 0, res.stderr[-2000:]
    result = json.loads(out.read_text())
    (features,) = result["features"]
    (encode,) = result["encode_many"]
    assert features["cells"] == encode["cells"] == 20 and features["same"] is True and encode["same"] is True
    assert len(features["ratios"]) == len(encode["ratios_many_us"]) == len(encode["ratios_single_us"]) == 1
    assert "## graf features alone" in res.stdout and "## space.encode_many" in res.stdout
