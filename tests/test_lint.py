"""The code base stays ruff-clean and type-checks (mypy strict where configured)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    if shutil.which("ruff") is None and subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True).returncode:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "nasbook", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_clean():
    pytest.importorskip("mypy")
    res = subprocess.run([sys.executable, "-m", "mypy", "nasbook"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
