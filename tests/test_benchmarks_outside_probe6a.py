"""benchmarks/outside_probe6a.py: its plugins part on 3 seeds and its contracts part end with every check as a
user should get it (the defects the probe found stay fixed); its training, dask and fidelity parts too (slow:
real training, a LocalCluster)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe6a.py"


def _run(tmp_path, parts, seeds="800-802"):
    out = tmp_path / "p6a.json"
    subprocess.run([sys.executable, str(SCRIPT), "--parts", parts, "--seeds", seeds, "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=900)
    return json.loads(out.read_text())


@pytest.mark.slow  # 10-26 s: a probe/benchmark process (keeps the default run under 20 min)
def test_outside_probe6a_plugins_and_contracts_have_no_defect(tmp_path):
    rec = _run(tmp_path, "plugins,contracts")
    checks = rec["checks"]
    assert len(checks) > 120 and rec["counts"]["defect"] == 0, "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert sum(1 for k in checks if k.startswith("plugins: seed ")) == 3
    assert checks["plugins: a strategy whose _ask returns forged"]["outcome"] == "refused"
    assert checks["plugins: a predictor NaNPredict: fit and predict"]["outcome"] == "refused"
    assert checks["plugins: Proposal(parent=99) (a trial that does not exist)"]["outcome"] == "refused"
    assert checks["contracts: StrategyContract on HillClimb (tutorial 08): passes"]["status"] == "ok"


@pytest.mark.slow
def test_outside_probe6a_training_dask_fidelity_have_no_defect(tmp_path):
    rec = _run(tmp_path, "training,dask,fidelity")
    checks = rec["checks"]
    assert len(checks) > 150 and rec["counts"]["defect"] == 0, "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert checks["training: Digits(weight_decay=np.float32(1e-04)): a 1-trial search"]["outcome"] == "ok"
    assert checks["fidelity: ASHA(rank_by='prediction') without CurveStopping in a search"]["outcome"] == "refused"
    assert checks["dask: ... each architecture's value equals the local training's (a seeded CPU training)"]["status"] == "ok"


def test_outside_probe6a_refuses_an_unknown_part_and_low_seeds():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "plugins,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
    p = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "0-3"], capture_output=True, text=True)
    assert p.returncode == 2 and "800 <= A <= B" in p.stderr
