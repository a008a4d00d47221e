"""benchmarks/outside_probe15.py: the audit of resolved issues 8, 10 and 12 against their "Build" and "Must show"
lists (one loop and its contracts, curves / proxies / CurveStopping / the MNIST-1D table, Growth with soft-landing
seeds), with ``--quick`` (the two slowest checks left out): every capability is there and works end to end."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe15.py"


@pytest.mark.slow  # about two minutes: real 1-2 epoch trainings, a LocalCluster, subprocesses
def test_outside_probe15_has_no_fail(tmp_path):
    out = tmp_path / "p15.json"
    p = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)], capture_output=True, text=True,
                       timeout=900, cwd=tmp_path)
    rec = json.loads(out.read_text())
    fails = [f"{r['check']}: {r['figure']}" for r in rec["checks"] if r["result"] == "FAIL"]
    assert rec["n"] >= 45 and not fails, "\n".join(fails) + p.stdout[-2000:]
    assert {r["part"] for r in rec["checks"]} == {"i8", "i10", "i12"}


def test_outside_probe15_refuses_unknown_parts():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "i8,i9"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['i9']" in p.stderr
