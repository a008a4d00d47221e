"""benchmarks/outside_probe10.py on small parameters (one kill per stage on SQLite, random and ASHA; Ctrl-C; failing
trials; readers): every check as a user should get it (the defects the probe found stay fixed)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe10.py"


@pytest.mark.slow
def test_outside_probe10_has_no_defect(tmp_path):
    out = tmp_path / "p10.json"
    subprocess.run([sys.executable, str(SCRIPT), "--parts", "kill,sigint,faults,readers", "--kills", "2", "--backends", "sqlite",
                    "--strategies", "random,asha", "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=1200)
    rec = json.loads(out.read_text())
    checks = rec["checks"]
    assert len(checks) >= 20 and rec["counts"]["defect"] == 0, "\n".join(
        f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert checks["kill: sqlite random: after each SIGKILL nasbook list and kb.searches do not say running"]["status"] == "ok"
    assert checks["kill: sqlite asha: extend, 1 SIGKILLs, resume: = unkilled run extended"]["status"] == "ok"
    assert checks["sigint: Ctrl-C 0 after 2.06 s of run(): one clean message, no traceback wall"]["outcome"] == "ok"
    assert checks["faults: raises / NaN / hangs (trial_timeout_s=0.5): each recorded with a reason, the search goes on"]["status"] == "ok"


@pytest.mark.slow  # ~17 s on a loaded 2-core machine: a 2-worker dask cluster, two workers SIGKILLed mid-search
def test_outside_probe10_dask_part_has_no_defect(tmp_path):
    out = tmp_path / "p10d.json"
    subprocess.run([sys.executable, str(SCRIPT), "--parts", "dask", "--kills", "2", "--backends", "sqlite",
                    "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=300)
    rec = json.loads(out.read_text())
    checks = rec["checks"]
    assert len(checks) == 4 and rec["counts"]["defect"] == 0, "\n".join(
        f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    lost = [k for k in checks if "every epoch trained (lost attempts' too) in epochs_spent" in k]
    assert len(lost) == 1 and checks[lost[0]]["status"] == "ok"
    figures = rec["meta"]["figures"]["dask kills"]  # workers were killed, and the epochs they trained counted
    assert figures["killed (s, pid)"] and figures["epochs_spent"] >= figures["lost attempts' epochs"]


def test_outside_probe10_refuses_unknown_parts_and_no_kills():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "kill,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
    p = subprocess.run([sys.executable, str(SCRIPT), "--kills", "0"], capture_output=True, text=True)
    assert p.returncode == 2 and "--kills must be >= 1" in p.stderr
