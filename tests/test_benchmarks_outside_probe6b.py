"""benchmarks/outside_probe6b.py: its parquet and filters parts (on one seed) end with every check as a user
should get it (the defects the probe found stay fixed); its fingerprint (Digits training), postgres, display
and viz parts too (slow)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe6b.py"


def _run(tmp_path, parts, seeds="800-800"):
    out = tmp_path / "p6b.json"
    subprocess.run([sys.executable, str(SCRIPT), "--parts", parts, "--seeds", seeds, "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=900)
    return json.loads(out.read_text())


def test_outside_probe6b_parquet_and_filters_have_no_defect(tmp_path):
    rec = _run(tmp_path, "parquet,filters")
    checks = rec["checks"]
    assert len(checks) > 100 and rec["counts"]["defect"] == 0, "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert sum(1 for k in checks if k.startswith("parquet: seed ")) == 5  # 5 checks on --seeds 800-800
    assert checks["filters: states=3"]["outcome"] == "refused"
    assert checks["filters: task=np.array(['ext'])"]["status"] == "ok"
    assert checks["parquet: import an export of a search, then a later export of it: the later trials added"]["outcome"] == "ok"


@pytest.mark.slow
def test_outside_probe6b_fingerprint_postgres_display_viz_have_no_defect(tmp_path):
    rec = _run(tmp_path, "fingerprint,postgres,display,viz")
    checks = rec["checks"]
    assert len(checks) > 200 and rec["counts"]["defect"] == 0, "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert checks["fingerprint: divergence_risk({'fp_loss_peak': inf}, past): the diverged side"]["status"] == "ok"
    assert checks["fingerprint: FingerprintStopping(past=a DataFrame): repr one line"]["status"] == "ok"
    assert checks["display: Search, 0 trials, <script> name: repr, _repr_mimebundle_, HTML escaped"]["outcome"] == "ok"


def test_outside_probe6b_refuses_an_unknown_part_and_low_seeds():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "parquet,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
    p = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "0-3"], capture_output=True, text=True)
    assert p.returncode == 2 and "800 <= A <= B" in p.stderr
