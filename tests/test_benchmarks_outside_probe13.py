"""benchmarks/outside_probe13.py (its old-build checks need ``--old``, a git archive of 90bed0a, and are left out
here): every check of KnowledgeBase's bad inputs, its best-trial index on opening and its round trips as a user
should get it (the defects the probe found stay fixed)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe13.py"


@pytest.mark.slow  # a probe process of half a minute, with subprocesses
def test_outside_probe13_has_no_defect(tmp_path):
    out = tmp_path / "p13.json"
    subprocess.run([sys.executable, str(SCRIPT), "--quick", "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=600)
    rec = json.loads(out.read_text())
    checks = rec["checks"]
    assert len(checks) >= 45 and rec["counts"]["defect"] == 0, "\n".join(
        f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert checks["trips: fresh base: warm_start refused naming its space= (it has no trials= parameter)"]["status"] == "ok"


def test_outside_probe13_refuses_unknown_parts():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "bad,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
