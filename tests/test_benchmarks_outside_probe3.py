"""benchmarks/outside_probe3.py: its results and knowledge-base parts run end to end, every check with the
outcome a user should get (the defects the probe found stay fixed), and it refuses an unknown part."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe3.py"


@pytest.mark.slow  # 10-26 s: a probe/benchmark process (keeps the default run under 20 min)
def test_outside_probe3_results_and_kb_parts_have_no_mismatch(tmp_path):
    out = tmp_path / "p3.json"
    subprocess.run([sys.executable, str(SCRIPT), "--parts", "results,kb", "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=600)
    checks = json.loads(out.read_text())["checks"]
    assert len(checks) > 100
    flagged = {k: r for k, r in checks.items() if r["flag"]}
    assert not flagged, flagged
    assert checks["kb: 1 task: similar(a, k=np.int64(3))"]["outcome"] == "ok"


def test_outside_probe3_refuses_an_unknown_part():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "kb,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
