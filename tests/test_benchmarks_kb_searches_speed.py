"""``benchmarks/kb_searches_speed.py`` runs end to end on a tiny store, this checkout as both old and new code
(nothing here checks speed)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_kb_searches_speed_benchmark_smoke(tmp_path):
    out = tmp_path / "s.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "kb_searches_speed.py"), "compare", "--sizes", "2000",
                          "--rounds", "1", "--repeat", "2", "--ingest", "300", "--old", str(ROOT), "--new", str(ROOT),
                          "--cache", str(tmp_path / "cache"), "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "| 2,000 | searches_ms |" in res.stdout and "| True |" in res.stdout  # frames equal, old and new
    data = json.loads(out.read_text())
    runs = data["sizes"]["2000"]
    assert runs["old"][0]["rows"] == runs["new"][0]["rows"] == 20
    assert runs["new"][0]["ingest_per_s"] > 0 and runs["old"][0]["digest"] == runs["new"][0]["digest"]
