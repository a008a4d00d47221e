"""benchmarks/storage_insert.py runs end to end with tiny parameters (nothing here checks speed)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_storage_insert_benchmark_smoke(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("the 'before' storage is read from git history")
    out = tmp_path / "si.json"
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "storage_insert.py"), "--trials", "50", "--repeats", "1", "--rich",
         "--json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "us/trial" in res.stdout and "after / before" in res.stdout
    data = json.loads(out.read_text())
    assert [r["n"] for r in data["runs"]["before"]] == [50] and [r["n"] for r in data["runs"]["after"]] == [50]
