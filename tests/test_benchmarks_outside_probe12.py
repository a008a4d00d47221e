"""benchmarks/outside_probe12.py on its smallest setting (``--quick``: no NAS-Bench-Graph, no dask, budgets 1 and 2):
every check of the Predictor, the model-based strategies and ``evaluate`` as a user should get it (the defects the
probe found stay fixed)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe12.py"


@pytest.mark.slow  # a probe process of a few minutes
def test_outside_probe12_has_no_defect(tmp_path):
    out = tmp_path / "p12.json"
    subprocess.run([sys.executable, str(SCRIPT), "--quick", "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=1200)
    rec = json.loads(out.read_text())
    checks = rec["checks"]
    assert len(checks) >= 100 and rec["counts"]["defect"] == 0, "\n".join(
        f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert checks["predictor: fitted: a refused fit on MNIST-1D features='path' leaves it as it was"]["status"] == "ok"
    assert checks["predictor: predict -> Dataset of mean, std over dim arch"]["outcome"] == "ok"


def test_outside_probe12_refuses_unknown_parts():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "predictor,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
