"""Collecting the test suite stays light: no torch, Lightning or plotting stack at collection time."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "lightning", "hvplot", "holoviews")


@pytest.mark.slow
def test_collecting_the_tests_imports_no_heavy_library():
    code = (
        "import sys, json, pytest\n"
        "rc = pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', 'tests'])\n"
        f"print('HEAVY=' + json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    line = [x for x in out.stdout.splitlines() if x.startswith("HEAVY=")]
    assert line, out.stdout[-2000:] + out.stderr[-2000:]
    assert json.loads(line[0][len("HEAVY="):]) == [], f"collection imported {line[0]}"
    assert "error" not in out.stdout.lower().split("collected")[-1], out.stdout[-2000:]
