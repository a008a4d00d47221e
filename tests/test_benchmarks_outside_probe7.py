"""benchmarks/outside_probe7.py: its curves, proxies and warm parts (on one seed) end with every check as a user
should get it (the defects the probe found stay fixed)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe7.py"


def _run(tmp_path, parts, seeds="900-900"):
    out = tmp_path / "p7.json"
    subprocess.run([sys.executable, str(SCRIPT), "--parts", parts, "--seeds", seeds, "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=900)
    return json.loads(out.read_text())


@pytest.mark.slow  # 10-26 s: a probe/benchmark process (keeps the default run under 20 min)
def test_outside_probe7_has_no_defect(tmp_path):
    rec = _run(tmp_path, "curves,proxies,warm")
    checks = rec["checks"]
    assert len(checks) > 150 and rec["counts"]["defect"] == 0, "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert checks["curves: digits: LastValue pandas DataFrame of curves"]["outcome"] == "ok"
    assert checks["curves: Search(DigitsTable(), CurveStopping({'fallback': 'nope'}))"]["outcome"] == "refused"
    assert checks["proxies: compute(task_or_batch=42)"]["status"] == "ok"
    assert checks["warm: resume a warm-started search: no warm-start architecture proposed twice"]["outcome"] == "ok"


def test_outside_probe7_refuses_an_unknown_part_and_low_seeds():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "curves,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
    p = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "0-3"], capture_output=True, text=True)
    assert p.returncode == 2 and "900 <= A <= B" in p.stderr
