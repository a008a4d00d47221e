"""benchmarks/outside_probe4.py: a few seeds of its settle part, and its proxies and KB parts, end
with every check as a user should get it (the defects the probe found stay fixed); its growth and extend parts
too (slow)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe4.py"


def _run(tmp_path, parts, seeds="400-402"):
    out = tmp_path / "p4.json"
    subprocess.run([sys.executable, str(SCRIPT), "--parts", parts, "--seeds", seeds, "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.read_text())


@pytest.mark.slow  # 10-26 s: a probe/benchmark process (keeps the default run under 20 min)
def test_outside_probe4_settle_proxies_kb_have_no_defect(tmp_path):
    rec = _run(tmp_path, "settle,proxies,kb")
    checks = rec["checks"]
    assert len(checks) > 60 and rec["counts"]["defect"] == 0, "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert sum(1 for k in checks if k.startswith("settle: seed ")) == 3  # --seeds 400-402
    assert checks["settle: settle_epochs(patience=-2)"]["outcome"] == "refused"
    assert checks["proxies: score(labels with -1)"]["status"] == "ok"
    assert checks["kb: import_(missing file, into=new.db): refused, new.db not created"]["status"] == "ok"


@pytest.mark.slow
def test_outside_probe4_growth_and_extend_have_no_defect(tmp_path):
    rec = _run(tmp_path, "growth,extend")
    checks = rec["checks"]
    assert len(checks) > 100 and rec["counts"]["defect"] == 0, "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert checks["growth: deepen(position=np.int64(1))"]["status"] == "ok"
    assert checks["growth: blend(mode='sum')"]["outcome"] == "refused"


def test_outside_probe4_refuses_an_unknown_part_and_low_seeds():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "kb,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
    p = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "0-3"], capture_output=True, text=True)
    assert p.returncode == 2 and "400 <= A <= B" in p.stderr
