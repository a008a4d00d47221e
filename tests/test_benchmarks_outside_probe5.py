"""benchmarks/outside_probe5.py: its kb, strategies, search and options parts, and the viz part on 3 seeds, end
with every check as a user should get it (the defects the probe found stay fixed); its results part and the
report part (two notebook runs) too (all slow: probe processes)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe5.py"


def _run(tmp_path, parts, seeds="600-602"):
    out = tmp_path / "p5.json"
    subprocess.run([sys.executable, str(SCRIPT), "--parts", parts, "--seeds", seeds, "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.read_text())


@pytest.mark.slow  # 12-15 s: a probe process; its defects keep their own regression tests in the default run
def test_outside_probe5_kb_strategies_search_options_have_no_defect(tmp_path):
    rec = _run(tmp_path, "kb,strategies,search,options")
    checks = rec["checks"]
    assert len(checks) > 150 and rec["counts"]["defect"] == 0, "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert checks["kb: cluster_tasks(n_probes=0)"]["status"] == "ok"
    assert checks["kb: warm_start(None)"]["outcome"] == "refused"
    assert checks["search: budget={'seconds': inf}"]["outcome"] == "refused"
    assert checks["strategies: Portfolio() on 6 architectures: 6 trials, none twice"]["status"] == "ok"


@pytest.mark.slow
def test_outside_probe5_viz_results_report_have_no_defect(tmp_path):
    rec = _run(tmp_path, "viz,results,report")
    checks = rec["checks"]
    assert len(checks) > 100 and rec["counts"]["defect"] == 0, "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")
    assert sum(1 for k in checks if k.startswith("viz: seed ")) == 9  # 3 checks on each of --seeds 600-602
    assert checks["viz: compare_info(checkpoints=array([2, 5]))"]["status"] == "ok"
    assert checks["report: -o a file (not a folder): exit 2 before a kernel starts"]["status"] == "ok"


def test_outside_probe5_refuses_an_unknown_part_and_low_seeds():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "kb,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
    p = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "0-3"], capture_output=True, text=True)
    assert p.returncode == 2 and "600 <= A <= B" in p.stderr
