"""The benchmark scripts run end to end with tiny parameters (their figures are recorded in
docs/benchmarks.md from full runs; nothing here checks speed)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script, *args):
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True, text=True, timeout=300)


def test_strategies_benchmark_smoke(tmp_path):
    pytest.importorskip("optuna")
    out = tmp_path / "s.json"
    res = _run("strategies_nbg.py", "--datasets", "proteins", "--seeds", "2", "--budget", "15", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "evolution" in res.stdout and "optuna-tpe" in res.stdout
    assert "bo lowest?" in res.stdout  # bo against evolution and TPE, dataset by dataset
    data = json.loads(out.read_text())
    assert data  # raw numbers plus metadata
    assert "proteins" in json.dumps(data)


def test_overhead_benchmark_smoke(tmp_path):
    pytest.importorskip("optuna")
    out = tmp_path / "o.json"
    res = _run("overhead.py", "--trials", "200", "--optuna-trials", "10", "--repeats", "1", "--audit-trials", "20", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "trials/s" in res.stdout and "one commit per trial" in res.stdout
    assert json.loads(out.read_text())


def test_predictors_benchmark_smoke(tmp_path):
    out = tmp_path / "p.json"
    res = _run("predictors_nbg.py", "--datasets", "proteins", "--seeds", "1", "--sizes", "20,50", "--n-test", "100",
               "--predictors", "gp,random-forest", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "#params" in res.stdout and "onehot-gbt" in res.stdout and "n_train = 50" in res.stdout
    data = json.loads(out.read_text())
    assert data["config"]["threads"]["OMP_NUM_THREADS"] == "1"
    taus = data["raw"]["proteins"]["metrics"]["gp"]["kendall_tau"]
    assert len(taus) == 2 and len(taus[0]) == 1 and -1 <= taus[1][0] <= 1
    assert data["raw"]["proteins"]["n_test"] == 100
    merged = tmp_path / "m.json"  # runs over different datasets (one process each) combine into one report
    res = _run("predictors_nbg.py", "--merge", str(out), "--json", str(merged))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "n_train = 50" in res.stdout
    assert json.loads(merged.read_text())["summary"] == data["summary"]
    res = _run("predictors_nbg.py", "--merge", str(out), str(out))
    assert res.returncode != 0 and "more than one file" in res.stderr


def test_bo_cost_benchmark_smoke(tmp_path):
    pytest.importorskip("optuna")
    out = tmp_path / "b.json"
    res = _run("bo_cost.py", "--dataset", "proteins", "--sizes", "20,40", "--asks", "2", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "bo fit+acq ms" in res.stdout and "tpe ms/trial" in res.stdout
    data = json.loads(out.read_text())
    assert len(data["results"]["40"]["bo"]["fit_ms"]) == 2


@pytest.mark.slow
def test_warmstart_benchmark_smoke(tmp_path):
    out = tmp_path / "w.json"
    res = _run("warmstart_nbg.py", "--datasets", "cora", "--seeds", "1", "--bo-seeds", "1", "--budget", "20",
               "--past-budget", "20", "--bo-predictor-trees", "5", "--store", str(tmp_path / "past.db"), "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "warm-evolution@10" in res.stdout and "naive@10" in res.stdout and "prior predictor" in res.stdout
    data = json.loads(out.read_text())
    assert data["past_trials"] == 9 * 2 * 20  # read back from the store
    runs = data["raw"]["cora"]["runs"]
    assert len(runs["warm-evolution"]) == 1 and len(runs["warm-bo"]) == 1 and set(runs["bo"][0]) == {"10", "20"}
    assert len(data["raw"]["cora"]["seeds"]) == 10 and "tasks" in data["raw"]["cora"]["seeds"][0]
    assert "warm10_reaches_cold_evolution100_on" in data["goals"]
