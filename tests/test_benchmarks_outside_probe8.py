"""benchmarks/outside_probe8.py: its encodings, identity and bad parts (on one seed) end with every check as a user
should get it (the defects the probe found stay fixed); its spaces (sampling, moves) and tasks (tiny Digits and
MNIST-1D trainings) parts too (all slow: probe processes)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe8.py"


def _run(tmp_path, parts, seeds="1000-1000"):
    out = tmp_path / "p8.json"
    subprocess.run([sys.executable, str(SCRIPT), "--parts", parts, "--seeds", seeds, "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=900)
    return json.loads(out.read_text())


def _defects(checks):
    return "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")


@pytest.mark.slow  # 12-15 s: a probe process; its defects keep their own regression tests in the default run
def test_outside_probe8_encodings_identity_bad_have_no_defect(tmp_path):
    rec = _run(tmp_path, "encodings,identity,bad")
    checks = rec["checks"]
    assert len(checks) > 500 and rec["counts"]["defect"] == 0, _defects(checks)
    assert checks["encodings: CellSpace() graf: encode_many(a generator): an answer or refused"]["outcome"] == "ok"
    assert checks["bad: GraphSpace(): encode_many(one Architecture, not a list)"]["outcome"] == "refused"
    assert checks["identity: GraphSpace(ops in another order) == GraphSpace(ops)"]["status"] == "ok"
    assert checks["identity: ids, space ids, encodings, neighbours equal in 3 processes (other PYTHONHASHSEED)"]["outcome"] == "ok"
    assert checks["bad: SubsetSpace.index(42)"]["status"] == "ok"


@pytest.mark.slow
def test_outside_probe8_spaces_and_tasks_have_no_defect(tmp_path):
    rec = _run(tmp_path, "spaces,tasks")
    checks = rec["checks"]
    assert len(checks) > 250 and rec["counts"]["defect"] == 0, _defects(checks)
    assert checks["spaces: CellSpace() seed 1000: sampling uniform over canonical architectures (chi-square)"]["outcome"] == "ok"
    assert checks["tasks: Digits 2 epochs in one go = 1 epoch + continue from its checkpoint to 2"]["outcome"] == "ok"
    assert checks["tasks: Digits(split_seed=4294967296): trains (deterministically) or refused naming it"]["status"] == "ok"
    assert checks["tasks: Digits evaluate(report='x')"]["status"] == "ok"


def test_outside_probe8_refuses_an_unknown_part_and_low_seeds():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "spaces,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
    p = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "0-3"], capture_output=True, text=True)
    assert p.returncode == 2 and "1000 <= A <= B" in p.stderr
