"""benchmarks/outside_probe9.py: its storage and widget parts end with every check as a user should get it (the
defects the probe found stay fixed); its postgres, executors and scale parts too (slow: a PostgreSQL server, dask
clusters, a 10,000-trial search)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "outside_probe9.py"


def _run(tmp_path, parts):
    out = tmp_path / "p9.json"
    subprocess.run([sys.executable, str(SCRIPT), "--parts", parts, "--workdir", str(tmp_path / "w"), "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=900)
    return json.loads(out.read_text())


def _defects(checks):
    return "\n".join(f"{k}: {r.get('error', r.get('saw'))}\n{r.get('traceback', '')}" for k, r in checks.items() if r["status"] == "defect")


@pytest.mark.slow  # 10-26 s: a probe/benchmark process (keeps the default run under 20 min)
def test_outside_probe9_storage_and_widget_have_no_defect(tmp_path):
    rec = _run(tmp_path, "storage,widget")
    checks = rec["checks"]
    assert len(checks) > 80 and rec["counts"]["defect"] == 0, _defects(checks)
    assert checks["storage: storage='   '"]["outcome"] == "refused"
    assert checks["storage: name='tab\\tinside'"]["outcome"] == "refused"
    assert checks["storage: '~/t.db' is $HOME/t.db (no folder named ~)"]["outcome"] == "ok"
    assert checks["widget: a script's run(progress='widget'): progress visible, no markup or traceback"]["status"] == "ok"


@pytest.mark.slow
def test_outside_probe9_postgres_executors_scale_have_no_defect(tmp_path):
    from nasbook.testing._postgres import find_postgres

    parts = "executors,scale" + (",postgres" if find_postgres() is not None else "")
    rec = _run(tmp_path, parts)
    checks = rec["checks"]
    assert len(checks) > 40 and rec["counts"]["defect"] == 0, _defects(checks)
    assert checks["executors: one LocalExecutor() given to two searches started at once: the second refused or both run"]["outcome"] == "refused"
    assert checks["executors: trial_timeout_s=0.3 with executor='local': trials of 6 epochs of 0.25 s FAIL, timed out (or refused)"]["outcome"] == "ok"
    if "postgres" in parts:
        assert checks["postgres: a wrong port: StorageError quickly, naming the server"]["status"] == "ok"


def test_outside_probe9_refuses_an_unknown_part():
    p = subprocess.run([sys.executable, str(SCRIPT), "--parts", "storage,nope"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown parts ['nope']" in p.stderr
