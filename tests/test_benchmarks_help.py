"""Every benchmark script still starts against the current package: ``--help`` exits 0 and names the
script's options (found by glob, so a new script is covered without editing this file), and the scripts
no other test runs make a tiny run. The figures in docs/benchmarks.md come with the commands that
produced them; these tests make a rename or a removed module in nasbook show up here rather than as a
traceback for a reader who reruns a documented command."""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if not p.name.startswith("_"))
HELPERS = sorted(p.stem for p in BENCH.glob("_*.py"))

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def _run(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=_env())


def _options(source: str) -> tuple[set[str], list[str]]:
    """The ``--long`` option strings of the script's ``add_argument`` calls (not those hidden with
    ``argparse.SUPPRESS``) and the names of its sub-commands (``add_parser("name")``)."""
    opts: set[str] = set()
    subs: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "add_parser" and node.args and isinstance(node.args[0], ast.Constant):
            subs.append(str(node.args[0].value))
        if node.func.attr != "add_argument":
            continue
        if any(k.arg == "help" and isinstance(k.value, ast.Attribute) and k.value.attr == "SUPPRESS"
               for k in node.keywords):
            continue
        opts.update(a.value for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("--"))
    return opts, subs


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_help(script):
    res = _run(script, "--help", timeout=60)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "usage:" in res.stdout, res.stdout[-1000:]
    opts, subs = _options((BENCH / script).read_text())
    text = res.stdout
    for sub in subs:
        done = _run(script, sub, "--help", timeout=60)
        assert done.returncode == 0, (sub, done.stderr[-2000:])
        text += done.stdout
    missing = sorted(o for o in opts if o not in text)
    assert not missing, f"{script} --help does not name {missing}"


@pytest.mark.parametrize("helper", HELPERS)
def test_benchmark_helper_imports(helper, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop(helper, None)
    importlib.import_module(helper)


# Tiny runs of the scripts no other test runs (each a few seconds; the full runs are in docs/benchmarks.md).


def _ok(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def test_checkpoint_memory_tiny(tmp_path):
    out = tmp_path / "c.json"
    text = _ok(_run("checkpoint_memory.py", "--kinds", "asha", "--storages", "memory", "--trials", "6", "--mb", "1",
                    "--json", str(out)))
    assert "mem_mb" in text and "disk_mb" in text
    rec = json.loads(out.read_text())["records"][0]
    assert (rec["kind"], rec["storage"], rec["trials"]) == ("asha", "memory", 6) and rec["held"] >= 1


def test_checkpoint_resume_tiny():
    text = _ok(_run("checkpoint_resume.py"))
    assert "trained from scratch: 0" in text and "promotions after the resume" in text


def test_epochs_budget_end_tiny(tmp_path):
    out = tmp_path / "e.json"
    _ok(_run("epochs_budget_end.py", "--budgets", "5", "--seeds", "1", "--executors", "local", "--json", str(out)))
    rows = json.loads(out.read_text())
    assert {r["strategy"] for r in rows} == {"random", "median", "curve", "asha", "sh", "hyperband"}
    assert all(r["budget"] == 5 and sum(r["spent"]) <= 5 for r in rows)


def test_gp_small_probe_and_report_tiny(tmp_path):
    out = tmp_path / "g.json"
    text = _ok(_run("gp_small_probe.py", "--datasets", "cora", "--seeds", "0", "--sizes", "20", "--members", "gp,et",
                    "--json", str(out)))
    assert "cora/0/20 gp: tau" in text
    members = json.loads(out.read_text())["cora/0/20"]["members"]
    assert set(members) == {"gp", "et"} and -1 <= members["gp"]["tau"] <= 1
    assert "Kendall tau" in _ok(_run("gp_small_report.py", "--json", str(out)))


def test_health_divergence_grid_tiny(tmp_path):
    out = tmp_path / "h.json"
    text = _ok(_run("health_divergence_grid.py", "--quick", "--epochs", "1", "--json", str(out)))
    assert "labelled diverged" in text
    data = json.loads(out.read_text())
    assert len(data["runs"]) == 5 and {"lr", "blown", "flagged"} <= set(data["runs"][0])


def test_kb_fidelity_sql_tiny(tmp_path):
    out = tmp_path / "k.json"
    _ok(_run("kb_fidelity_sql.py", "--trials", "2000", "--tasks", "4", "--archs", "200", "--asha-tasks", "2",
             "--repeats", "1", "--backends", "sqlite", "--json", str(out)))
    data = json.loads(out.read_text())
    assert set(data["sqlite"]) == {"cells", "mixed", "best"}
    assert all(v["same"] for v in data["sqlite"].values())  # the SQL answers equal the old path's


def test_monitor_overhead_tiny(tmp_path):
    out = tmp_path / "m.json"
    text = _ok(_run("monitor_overhead.py", "--trials", "20", "--repeats", "1", "--json", str(out)))
    assert "Overall:" in text
    data = json.loads(out.read_text())
    assert data["trials"] == 20 and set(data["results"]) == {f"{s}/{m}" for s in ("memory", "sqlite")
                                                             for m in ("none", "widget", "bar")}


def test_predictors_probe_tiny(tmp_path):
    out = tmp_path / "p.json"
    text = _ok(_run("predictors_probe.py", "--datasets", "cora", "--seeds", "0", "--n", "20", "--members", "gp,et",
                    "--json", str(out)))
    assert "cora/0 gp: tau" in text
    assert set(json.loads(out.read_text())["cora/0"]["members"]) == {"gp", "et"}


def test_predictors_probe_smooth_tiny(tmp_path):
    out = tmp_path / "s.json"
    _ok(_run("predictors_probe_smooth.py", "--datasets", "cora", "--seeds", "0", "--n", "20", "--json", str(out)))
    row = json.loads(out.read_text())["cora/0"]
    assert -1 <= row["base"] <= 1 and len(row) > 1  # the base mixture and its smoothed variants


def test_trial_owner_cost_tiny():
    text = _ok(_run("trial_owner_cost.py", "--trials", "0", "--rounds", "1", "--micro", "50"))
    assert "owner= (compare-and-set)" in text and "median of paired ratios" in text


def test_predictors_probe_mix_and_gp_restart_report_read_the_probes_json(tmp_path):
    probe, small = tmp_path / "p.json", tmp_path / "g.json"
    _ok(_run("predictors_probe.py", "--datasets", "cora", "--seeds", "0", "--n", "20", "--members", "gp,et",
             "--json", str(probe)))
    text = _ok(_run("predictors_probe_mix.py", "--json", str(probe), "--base", "gp+et", "--mixes", "gp"))
    assert "gp+et" in text and "vs base" in text
    _ok(_run("gp_small_probe.py", "--datasets", "cora", "--seeds", "0", "--sizes", "20", "--members", "gp",
             "--json", str(small)))
    assert "n_restarts=2" in _ok(_run("gp_restart_report.py", "--json", str(small)))


def test_viz_interval_coverage_tiny():
    text = _ok(_run("viz_interval_coverage.py", "--seeds", "12", "--reps", "50", "--datasets", "cora"))
    assert "mean over the 8 (dataset, strategy, checkpoint) cells" in text
    assert "n=10 percentile bootstrap" in text
    res = _run("viz_interval_coverage.py", "--seeds", "5")
    assert res.returncode == 2 and "--seeds must be at least 10" in res.stderr and "got 5" in res.stderr


def test_kb_warm_stage_tiny():
    text = _ok(_run("kb_warm.py", "--trials", "2000", "--tasks", "4", "--archs", "200", "--repeats", "1",
                    "--warm-check"))
    assert "warm_start(n=10) median" in text and "same answer: True" in text


def test_kb_similar_e2e_paired_and_cold_tiny(tmp_path):
    cache = tmp_path / "cache"
    text = _ok(_run("kb_similar_e2e.py", "--sim-sizes", "2000", "--tasks", "4", "--sim-repeats", "3", "--sim-writes",
                    "1", "--sim-check", "--cache", str(cache)))
    assert "KnowledgeBase.similar end to end" in text
    row = next(line for line in text.splitlines() if line.lstrip().startswith("2,000"))
    assert row.rstrip().endswith("True")  # the repeated answers equal similar_archs'
    store = cache / "kb_similar_2000_4_0.db"
    assert _ok(_run("kb_similar_paired.py", str(store), "3", "here")).startswith("here median")
    text = _ok(_run("kb_similar_cold.py", "compare", "--dbs", str(store), "--rounds", "1", "--new", str(ROOT),
                    "--old", str(ROOT)))
    digests = [line for line in text.splitlines() if line.startswith("# answer digests")]
    assert digests and digests[0].split("old ")[1].split(", new ")[0] == digests[0].split(", new ")[1]  # same answers


def test_close_in_flight_tiny():
    text = _ok(_run("close_in_flight.py", "--epochs", "10", "--epoch-s", "0.2", "--executors", "local"))
    assert "local  close()" in text and "state interrupted" in text


def test_bo_warp_diag_tiny():
    text = _ok(_run("bo_warp_diag.py", "--datasets", "cora", "--seeds", "100-100", "--budget", "15", "base={}"))
    assert "cora seed 100 base: regret" in text and "link patterns" in text


def test_strategy_matrix_tiny(tmp_path):
    out = tmp_path / "m.json"
    _ok(_run("strategy_matrix.py", "--strategies", "random", "--tasks", "digits", "--executors", "local", "--modes",
             "run", "--json", str(out)))
    (cell,) = json.loads(out.read_text())
    assert (cell["strategy"], cell["status"], cell["problems"]) == ("random", "ok", [])


def test_strategies_nbg_compare_tiny(tmp_path):
    pytest.importorskip("optuna")
    out = tmp_path / "s.json"
    _ok(_run("strategies_nbg.py", "--datasets", "cora", "--seeds", "1", "--budget", "15", "--json", str(out)))
    text = _ok(_run("strategies_nbg_compare.py", str(out), str(out), "--labels", "a,b", "--at", "10"))
    assert "| random / cora |" in text and "| yes |" in text


def test_strategies_tables_compare_tiny(tmp_path):
    pytest.importorskip("optuna")
    out = tmp_path / "t.json"
    _ok(_run("strategies_tables.py", "--tables", "digits", "--seeds", "1", "--budget", "10", "--checkpoints", "5,10",
             "--json", str(out)))
    text = _ok(_run("strategies_tables_compare.py", str(out), str(out), "--labels", "a,b"))
    assert "portfolio" in text and "yes" in text


def test_predictors_paired_tiny(tmp_path):
    out = tmp_path / "p.json"
    _ok(_run("predictors_nbg.py", "--datasets", "proteins", "--seeds", "1", "--sizes", "20,50", "--n-test", "100",
             "--predictors", "gp", "--json", str(out)))
    text = _ok(_run("predictors_paired.py", "--new", str(out), "--old", str(out), "--size", "50", "--goal", "0.5"))
    assert "difference +0.0000" in text and "goal tau >= 0.5 at 50" in text


def test_kb_tasks_best_tiny(tmp_path):
    db = tmp_path / "kb.db"
    _ok(_run("kb_tasks_best.py", "build", "--tasks", "20", "--per", "10", "--out", str(db)))
    assert "| kb.tasks |" in _ok(_run("kb_tasks_best.py", "frames", "--db", str(db), "--rounds", "1"))
    text = _ok(_run("kb_tasks_best.py", "versus", "--db", str(db), "--old", str(ROOT), "--turns", "1", "--rounds", "1"))
    assert "frames equal" in text


def test_kb_trials_scale_tiny(tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "k.json"
    _ok(_run("kb_trials_scale.py", "build", "--sizes", "2000", "--cache", str(cache)))
    text = _ok(_run("kb_trials_scale.py", "compare", "--sizes", "2000", "--rounds", "1", "--check", "--old", str(ROOT),
                    "--cache", str(cache), "--json", str(out)))
    assert "| `trials` | 1801 |" in text and "False" not in text  # the same code twice: every frame equal
    assert "| `tasks` |" in _ok(_run("kb_trials_scale.py", "report", str(out)))
