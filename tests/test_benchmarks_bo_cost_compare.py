"""benchmarks/bo_cost_compare.py runs end to end with tiny parameters (its figures are in
docs/benchmarks.md, section 1r; nothing here checks speed)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bo_cost_compare.py"), *args],
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.slow  # 10-26 s: a probe/benchmark process (keeps the default run under 20 min)
def test_two_versions_timed_side_by_side_with_their_proposals_compared(tmp_path):
    out = tmp_path / "c.json"
    # the checkout against itself, and against itself with other BO parameters: same / different proposals
    res = _run("--old", str(ROOT), "--datasets", "proteins", "--sizes", "20", "--asks", "2", "--json", str(out))
    assert res.returncode == 0, res.stderr
    (r,) = json.loads(out.read_text())["results"]
    assert r["same_proposals"] is True and len(r["old"]) == len(r["new"]) == 2 and len(r["ratio_new_old"]) == 2
    assert r["old_nasbook"] == r["new_nasbook"] == str(ROOT / "nasbook" / "__init__.py")
    res = _run("--old", str(ROOT), "--datasets", "proteins", "--sizes", "20", "--asks", "3",
               "--params", '{"acquisition": "ts"}', "--json", str(out))
    assert res.returncode == 0, res.stderr
    (r,) = json.loads(out.read_text())["results"]
    assert r["same_proposals"] is False and "acquisition='ts'" in r["new_strategy"]
