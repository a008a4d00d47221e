"""benchmarks/strategies_tables.py (strategies on the Digits and MNIST-1D tables) runs end to end with
tiny settings and its numbers have the properties any search's must: regret >= 0 and non-increasing in
the queries, 0 once the whole table has been queried, the returned architecture's test accuracy read
from the table."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args):
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "strategies_tables.py"), *args],
                          capture_output=True, text=True, timeout=300)


def test_strategies_tables_small_run_structure_and_monotone_regret(tmp_path):
    pytest.importorskip("optuna")
    out = tmp_path / "t.json"
    methods = ["random", "evolution", "bo", "optuna-tpe", "portfolio", "optuna-tpe-nearest"]
    res = _run("--tables", "mnist1d", "--methods", ",".join(methods), "--seeds", "2", "--budget", "12",
               "--checkpoints", "5,10", "--json", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    assert "bo vs optuna-tpe" in res.stdout and "portfolio vs best arm" in res.stdout
    data = json.loads(out.read_text())
    info = data["tables"]["mnist1d"]
    assert info["n_archs"] == 210 and info["budget"] == 12 and info["checkpoints"] == [5, 10, 12]
    for m in methods:
        rs = data["raw"]["mnist1d"][m]
        assert [r["seed"] for r in rs] == [0, 1]
        for r in rs:
            regrets = [r["regret_at"][c] for c in ("5", "10", "12")]
            assert all(x >= -1e-9 for x in regrets)
            assert all(b <= a + 1e-12 for a, b in zip(regrets, regrets[1:])), (m, regrets)
            assert r["regret_at"]["12"] == pytest.approx(r["valid_regret_pp"])
            assert r["test_at"]["12"] == pytest.approx(r["test_pct"]) and 0 < r["test_pct"] <= 100
            assert r["hit"] == (r["valid_regret_pp"] <= 1e-7)
        s = data["summary"]["mnist1d"][m]
        assert s["regret_at_mean"]["12"] == pytest.approx(sum(r["valid_regret_pp"] for r in rs) / 2)
    pf = data["raw"]["mnist1d"]["portfolio"][0]
    assert set(pf["shares"]) == {"random", "evolution", "local", "bo"} and sum(pf["shares"].values()) == pytest.approx(1)
    assert len(pf["history"]) == 12
    tpe = data["summary"]["mnist1d"]["optuna-tpe"]
    assert tpe["proposals_per_query"] >= 1 and 0 <= tpe["fallback_share_of_queries"] <= 1
    near = data["summary"]["mnist1d"]["optuna-tpe-nearest"]
    assert near["failed_share_of_proposals"] == 0 and near["fallback_share_of_queries"] < 1
    comp = data["comparisons"]["mnist1d"]["12"]
    assert comp["portfolio vs best arm"]["arm"] in ("random", "evolution", "bo")  # the arms that ran
    st = comp["bo vs optuna-tpe"]
    assert st["lower"] + st["higher"] + st["tied"] == 2
    assert st["mean_diff_pp"] == pytest.approx(st["mean_a"] - st["mean_b"])


def test_strategies_tables_exhaustive_budget_reaches_zero_regret(tmp_path):
    out = tmp_path / "all.json"
    res = _run("--tables", "digits,mnist1d", "--methods", "random,local", "--seeds", "1", "--budget", "all",
               "--checkpoints", "50,all", "--json", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads(out.read_text())
    for t, n in (("digits", 300), ("mnist1d", 210)):
        info = data["tables"][t]
        assert info["budget"] == n and info["checkpoints"] == [50, n]
        for m in ("random", "local"):
            (r,) = data["raw"][t][m]
            assert r["regret_at"][str(n)] == 0 and r["hit"]
            assert r["regret_at"]["50"] >= 0
            # every architecture queried: the returned one is one of the table's best-validation architectures
            assert any(r["test_pct"] == pytest.approx(x) for x in info["test_of_each_best_valid_pct"])
