"""benchmarks/outside_probe14.py: every capability of issues 9 (Predictor, strategy="bo", OptunaSampler) and 11
(KnowledgeBase, similarity, warm starts, Portfolio, run fingerprints, display) checked end to end from the public API,
with small budgets: no FAIL and no KNOWN (two were KNOWN before HealthCheck's divergence reference became the loss
before the first optimizer step, one until divergence_risk's scale became the spread of the runs that did not
diverge, on compressed entries; docs/benchmarks.md)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe14.py"


@pytest.mark.slow  # a probe process of about three minutes (PostgreSQL server, Digits trainings, NAS-Bench-Graph)
def test_outside_probe14_has_no_fail(tmp_path):
    out = tmp_path / "p14.json"
    p = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--workdir", str(tmp_path / "w"), "--json", str(out)],
                       capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0, p.stderr[-3000:]
    rec = json.loads(out.read_text())
    checks = rec["checks"]
    assert len(checks) >= 70 and rec["counts"]["defect"] == 0, "\n".join(
        f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert rec["counts"]["known"] == 0
    risk = "fingerprint: divergence_risk / flag_divergence: runs at lr=1e3 that diverged score above the healthy ones"
    assert checks[risk]["status"] == "ok"
    assert checks["fingerprint: a COMPLETE run's training loss ended below 10 times its first step's"]["status"] == "ok"
    assert "PASS" in p.stdout and "\nFAIL" not in p.stdout
    warm = checks["kb: warm_start=10 in a budget of 3: the 3 best warm starts, ranks 0-2, and the repr says 3 ran"]
    assert warm["status"] == "ok" and "(3 tried)" in warm["saw"]


def test_outside_probe14_refuses_unknown_parts():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "kb,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
