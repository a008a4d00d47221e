"""benchmarks/outside_probe11.py on its smallest setting (``--quick``: a case or two per notebook family, and the
``nasbook report -p`` checks): every check as a user should get it (the defects the probe found stay fixed)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe11.py"


@pytest.mark.slow
@pytest.mark.notebook
def test_outside_probe11_has_no_defect(tmp_path):
    out = tmp_path / "p11.json"
    subprocess.run([sys.executable, str(SCRIPT), "--quick", "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=900)
    rec = json.loads(out.read_text())
    checks = rec["checks"]
    assert len(checks) >= 15 and rec["counts"]["defect"] == 0, "\n".join(
        f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert checks["cli: nasbook report notebooks/quickstart -p budget 12.5: refused before a kernel starts, exit 2"]["status"] == "ok"
    assert checks["notebooks: tutorials/03_multi_fidelity eta=1: refused early naming eta"]["status"] == "ok"


def test_outside_probe11_refuses_unknown_parts():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "notebooks,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
