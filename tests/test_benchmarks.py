"""The benchmark scripts run end to end with tiny parameters (their figures are recorded in
docs/benchmarks.md from full runs; nothing here checks speed).

Each run is a new process, as ``python benchmarks/SCRIPT ARGS`` starts it (``__main__``, its argv, environment,
folder, exit status, stdout and stderr), forked from the fork server of ``_forked`` that has imported nasbook
and the libraries most scripts load: an interpreter start and those imports (~1 s) paid once, not ~25 times.
The fork server keeps its thread pools, so a script that sets ``OMP_NUM_THREADS`` before it imports numpy runs
here with the test run's setting (its figures are not checked)."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import _forked
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script, *args):
    """``python benchmarks/SCRIPT ARGS``: its exit status, stdout and stderr (a ``CompletedProcess``)."""
    argv = [str(ROOT / "benchmarks" / script), *args]
    if not _forked.FORKSERVER:  # (Windows) a new interpreter
        return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=300)
    with tempfile.TemporaryDirectory() as folder:  # not the test's folder: a script may list that one
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        code = _forked.call(_forked.run_script, argv, str(out), str(err), timeout=300)
        return subprocess.CompletedProcess([sys.executable, *argv], code, out.read_text(), err.read_text())


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


def test_import_time_benchmark_smoke(tmp_path):
    out = tmp_path / "i.json"
    res = _run("import_time.py", "--rounds", "1", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(out.read_text())
    assert set(data["median_s"]) == {"bare", "numpy+sqlalchemy", "nasbook"} and data["nasbook_over_deps"] > 0
    assert "nasbook / numpy+sqlalchemy" in res.stdout


def test_overhead_benchmark_smoke(tmp_path):
    pytest.importorskip("optuna")
    out = tmp_path / "o.json"
    res = _run("overhead.py", "--trials", "40", "--optuna-trials", "10", "--repeats", "1", "--audit-trials", "20", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "trials/s" in res.stdout and "one commit per trial" in res.stdout
    assert json.loads(out.read_text())


@pytest.mark.slow  # ~46 s: two benchmark processes
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


def test_curves_benchmark_smoke(tmp_path):
    out = tmp_path / "c.json"
    res = _run("curves.py", "--table", "digits", "mnist1d", "--seeds", "1", "--budget-factor", "4",
               "--methods", "full,asha,median,curve-last-value,curve-prior,curve-prior-asha-ranked", "--prior-quantile", "0.9", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "last-value" in res.stdout and "pow3" in res.stdout and "12.5%" in res.stdout and "x fewer than full" in res.stdout
    data = json.loads(out.read_text())
    digits = data["tables"]["digits"]
    assert set(digits["prediction"]["summary"]) >= {"last-value", "pow3", "parametric", "learned", "learned-arch"}
    assert digits["stopping"]["summary"]["full"]["median_x_fewer"] == 1.0  # full against itself
    assert set(digits["stopping"]["summary"]) == {"full", "asha", "median", "curve-last-value", "curve-prior",
                                                  "curve-prior-asha-ranked"}
    assert "best proposed stopped" in res.stdout and 0 <= digits["stopping"]["summary"]["curve-prior"]["best_proposed_stopped"] <= 1
    assert set(digits["stopping"]["prior_coverage_90"]) == {"1 ep", "2 ep", "3 ep"}
    assert "mnist1d" in data["tables"]  # run, or skipped with a message while the table is not merged


def test_portfolio_benchmark_smoke(tmp_path):
    out = tmp_path / "p.json"
    res = _run("portfolio_nbg.py", "--datasets", "proteins", "--seeds", "2", "--budget", "12", "--arms", "random,local",
               "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "<= worst arm?" in res.stdout and "% local" in res.stdout  # the goal column and the arm shares
    data = json.loads(out.read_text())
    assert data["partial"] is False and set(data["summary"]["proteins"]) == {"portfolio", "random", "local"}
    again = _run("portfolio_nbg.py", "--report", str(out))
    assert again.returncode == 0 and "% random" in again.stdout


def test_kb_ingest_benchmark_smoke(tmp_path):
    out = tmp_path / "kbi.json"
    res = _run("kb_ingest.py", "--trials", "2000", "--backends", "sqlite", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "trials/s" in res.stdout and "bytes/trial" in res.stdout
    data = json.loads(out.read_text())
    assert data["results"]["sqlite"]["trials"] == 2000 and data["results"]["sqlite"]["bytes_per_trial"] > 0


def test_kb_scale_benchmark_smoke(tmp_path):
    out = tmp_path / "kb.json"
    res = _run("kb_scale.py", "--source", "cell5", "--n", "1500", "--queries", "5", "--method", "ivf", "--nprobe", "2,4",
               "--hnsw-n", "300", "--ef", "16,32", "--trials", "3000", "--tasks", "4", "--archs", "200", "--top", "10",
               "--stages", "ingest,similar,warm,warm-synthetic", "--ingest-trials", "500", "--backends", "sqlite",
               "--warm-check", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "recall@10" in res.stdout and "nprobe sweep" in res.stdout and "warm-start aggregation" in res.stdout
    assert "trials/s" in res.stdout and "from the stored ranks" in res.stdout
    data = json.loads(out.read_text())
    assert data["index"]["kind"] == "ivf" and [r["nprobe"] for r in data["nprobe_sweep"]] == [2, 4]
    assert data["filtered"]["5%"]["exactly_k_in_filter"] is True  # 75 candidates: exactly 10 from them
    assert 0 <= data["similar"]["recall_at_10"] <= 1 and data["bytes_per_vector"] > 0
    assert set(data["methods_at"]) == {"ivf nprobe=2", "ivf nprobe=4", "hnsw ef_search=16", "hnsw ef_search=32", "flat"}
    assert data["methods_at"]["flat"]["recall_at_10"] == 1.0
    assert data["warm_start"]["numpy_matches_pandas"] is True and data["warm_start"]["stored_ranks_matches_pandas"] is True
    assert data["ingest"]["results"]["sqlite"]["trials"] == 500
    assert data["warm"]["same_as_query_time"] is True and data["warm"]["cells"] > 0


@pytest.mark.slow
def test_growth_benchmark_smoke(tmp_path):
    pytest.importorskip("lightning")
    out = tmp_path / "g.json"
    res = _run("growth.py", "--task", "digits", "mnist1d", "--seeds", "1", "--trials", "4", "--population", "2",
               "--sample-size", "2", "--epochs", "1", "--child-epochs", "2", "--max-depth", "2", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "epochs to scratch's best" in res.stdout and "final best val acc" in res.stdout
    data = json.loads(out.read_text())
    assert data["tasks"]["digits"]["seeds"][0]["target"] > 0


@pytest.mark.slow
def test_proxies_benchmark_smoke(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "px.json"
    res = _run("proxies.py", "--table", "digits", "mnist1d", "--limit", "25", "--proxy-seeds", "1", "--batch-size", "16",
               "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "blend - #params" in res.stdout and "ms per architecture" in res.stdout
    assert "omni predictor skipped: --limit 25" in res.stdout
    data = json.loads(out.read_text())
    rho = data["tables"]["digits"]["spearman"]
    for name in ("synflow", "naswot", "meco", "blend", "#params (table)", "FLOPs (table)"):
        assert -1 <= rho[name][0] <= 1, name
    assert data["tables"]["digits"]["per_seed"][0]["params_match_table"]
    if "mnist1d" not in data["tables"]:
        assert "skipping table 'mnist1d'" in res.stdout


@pytest.mark.slow
def test_proxies_speed_benchmark_smoke(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "ps.json"
    res = _run("proxies_speed.py", "--table", "digits", "--limit", "4", "--batch-size", "16", "--alone", "1", "--bare",
               "--jacobian-batch", "full", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "build + all proxies" in res.stdout and "goal <= 50" in res.stdout and "each proxy alone" in res.stdout
    digits = json.loads(out.read_text())["tables"]["digits"]
    assert digits["n_archs"] == 4 and set(digits["max_rel_diff"]) >= {"synflow", "zico", "flops"}
    assert max(digits["max_rel_diff"].values()) < 1e-9  # old and new compute the same values (jacobian_batch="full")
    assert digits["ms"]["total"]["new CPU mean"] > 0 and digits["ms"]["total"]["old CPU mean"] > 0
    assert set(digits["bare_cpu_mean"]) == {"halves (bare)", "jacobian (bare)"}


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


def test_bo_probe_benchmark_smoke_and_it_refuses_the_reported_seeds(tmp_path):
    out = tmp_path / "bp.json"
    res = _run("bo_probe.py", "--datasets", "proteins", "--seeds", "100-100", "--budget", "12",
               "base={}", 'loc=dict(candidates="local")', "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "all@12" in res.stdout and "loc" in res.stdout
    assert set(json.loads(out.read_text())["raw"]) == {"base", "loc"}
    res = _run("bo_probe.py", "--datasets", "proteins", "--seeds", "0-1", "base={}")
    assert res.returncode != 0 and "seeds must be >= 100" in res.stderr


def test_portfolio_benchmark_hedge_smoke(tmp_path):
    out = tmp_path / "ph.json"
    res = _run("portfolio_nbg.py", "--datasets", "proteins", "--seeds", "1", "--budget", "12", "--arms", "random,local",
               "--bandit", "hedge", "--eta", "2", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "bandit='hedge'" in res.stdout and "eta=2.0" in res.stdout
    assert json.loads(out.read_text())["partial"] is False



@pytest.mark.slow
def test_warmstart_benchmark_bo_part_alone_and_cold_bo_read_from_strategies_json(tmp_path):
    pytest.importorskip("optuna")
    cold = tmp_path / "s.json"
    res = _run("strategies_nbg.py", "--datasets", "cora", "--methods", "bo", "--seeds", "2", "--budget", "20",
               "--json", str(cold))
    assert res.returncode == 0, res.stderr[-2000:]
    common = ["--only", "bo", "--datasets", "cora", "--seeds", "1", "--bo-seeds", "1", "--first-seed", "1",
              "--budget", "20", "--past-budget", "20", "--store", str(tmp_path / "past.db")]
    rerun, read = tmp_path / "rerun.json", tmp_path / "read.json"
    res = _run("warmstart_nbg.py", *common, "--bo-variants", "bo,warm-bo-lm", "--json", str(rerun))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "warm-bo-lm@10" in res.stdout and "paired by (dataset, seed)" in res.stdout and "Kendall" not in res.stdout
    res = _run("warmstart_nbg.py", *common, "--bo-variants", "warm-bo-lm", "--bo-cold-from", str(cold), "--json", str(read))
    assert res.returncode == 0, res.stderr[-2000:]
    a, b = (json.loads(p.read_text()) for p in (rerun, read))
    runs_a, runs_b = a["raw"]["cora"]["runs"], b["raw"]["cora"]["runs"]
    assert not runs_a["evolution"] and not a["raw"]["cora"]["tau"]  # the bo part alone
    # seed 1 (not 0: --first-seed counts), read from the JSON: the same search as the rerun
    assert runs_b["bo"][0]["10"] == {"regret_pp": pytest.approx(runs_a["bo"][0]["10"]["regret_pp"])}
    assert runs_b["bo"][0]["20"] == pytest.approx(runs_a["bo"][0]["20"])  # the end: regret and test
    assert runs_a["warm-bo-lm"] == runs_b["warm-bo-lm"]
    assert b["bo_paired"]["warm-bo-lm"]["regret_pp"]["10"]["n"] == 1
    assert "test_pct" not in b["summary"]["cora"]["bo"]["10"]  # not stored by strategies_nbg
    merged = tmp_path / "merged.json"  # nothing rerun: both variants taken from the rerun's JSON
    res = _run("warmstart_nbg.py", *common, "--bo-variants", "", "--bo-merge", f"{read},{rerun}", "--json", str(merged))
    assert res.returncode == 0, res.stderr[-2000:]
    runs_m = json.loads(merged.read_text())["raw"]["cora"]["runs"]
    assert runs_m["bo"] == runs_b["bo"] and runs_m["warm-bo-lm"] == runs_a["warm-bo-lm"]  # the first file holding one
    res = _run("warmstart_nbg.py", *common, "--first-seed", "0", "--bo-variants", "", "--bo-merge", str(rerun),
               "--json", str(merged))
    assert res.returncode != 0 and "bo seeds 1..1 and budget 20 differ from this run's 0..0" in res.stderr
    res = _run("warmstart_nbg.py", *common, "--bo-variants", "bo,warm-bo", "--bo-cold-from", str(cold), "--json", str(read))
    assert res.returncode != 0 and "leave 'bo' out of --bo-variants" in res.stderr
    res = _run("warmstart_nbg.py", *common, "--bo-variants", "warm-bo-x", "--json", str(read))
    assert res.returncode != 0 and "--bo-variants: unknown ['warm-bo-x']" in res.stderr
    res = _run("warmstart_nbg.py", *common, "--first-seed", "5", "--bo-variants", "warm-bo", "--bo-cold-from", str(cold),
               "--json", str(read))
    assert res.returncode != 0 and "no bo search on cora for seeds [5]" in res.stderr

@pytest.mark.slow
def test_warmstart_benchmark_prior_part_alone(tmp_path):
    out = tmp_path / "p.json"
    res = _run("warmstart_nbg.py", "--only", "prior", "--datasets", "cora", "--seeds", "1", "--first-seed", "100",
               "--past-budget", "20", "--tau-test", "300", "--prior-models", "cold_forest,prior_rf_agree",
               "--store", str(tmp_path / "past.db"), "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "prior_rf_agree" in res.stdout and "warm@10" not in res.stdout  # no search ran, no search goal printed
    data = json.loads(out.read_text())
    assert set(data["raw"]["cora"]["tau"][0]) == {"cold_forest", "prior_rf_agree", "prior", "prior_alone"}
    assert not data["raw"]["cora"]["runs"]["evolution"]


@pytest.mark.slow
def test_warmstart_benchmark_prior_part_on_landmarks(tmp_path):
    out = tmp_path / "pl.json"
    res = _run("warmstart_nbg.py", "--only", "prior", "--datasets", "cora", "--seeds", "1", "--first-seed", "100",
               "--past-budget", "20", "--tau-test", "300", "--prior-models", "cold_forest,prior_rf_agree",
               "--landmarks", "predictions", "--store", str(tmp_path / "past.db"), "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "prior_rf_agree@landmarks" in res.stdout and "trained on 20 landmarks" in res.stdout
    tau = json.loads(out.read_text())["raw"]["cora"]["tau"][0]
    assert {"cold_forest@landmarks", "prior_rf_agree@landmarks"} <= set(tau) and -1 <= tau["cold_forest@landmarks"] <= 1


def test_bo_probe_reports_the_recommended_architecture_and_reference_methods(tmp_path):
    out = tmp_path / "bpr.json"
    res = _run("bo_probe.py", "--datasets", "proteins", "--seeds", "100-100", "--budget", "12", "--refs", "evolution",
               'km=dict(init="kmeans", explore_every=2)', "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "km (recommend())" in res.stdout and ">= refs" in res.stdout
    data = json.loads(out.read_text())
    assert "test_rec_pct" in data["raw"]["km"]["proteins"][0] and len(data["refs"]["evolution"]["proteins"]) == 1


def test_bo_test_ceiling_compares_the_valid_best_test_with_the_returned(tmp_path):
    from nasbook.tasks._nbg import NBG_DATASETS

    fake = {"raw": {d: {m: [{"test": 0.5}] for m in ("bo", "evolution", "optuna-tpe")} for d in NBG_DATASETS}}
    path = tmp_path / "fake.json"
    path.write_text(json.dumps(fake))
    res = _run("bo_test_ceiling.py", "--results", str(path))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "meets 'test at least theirs' on 9 of 9" in res.stdout  # every table's valid-best tests above 50%


def test_portfolio_benchmark_lodo_only(tmp_path):
    arms = tmp_path / "arms.json"
    res = _run("strategies_nbg.py", "--datasets", "proteins,cora", "--methods", "random,local", "--seeds", "1",
               "--budget", "12", "--json", str(arms))
    assert res.returncode == 0, res.stderr[-2000:]
    out = tmp_path / "pl.json"
    res = _run("portfolio_nbg.py", "--datasets", "proteins,cora", "--seeds", "1", "--budget", "12", "--arms", "random,local",
               "--arms-from", str(arms), "--verify", "proteins:0", "--lodo-prior", "--lodo-only", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(out.read_text())
    assert set(data["summary"]["proteins"]) == {"portfolio-lodo", "random", "local"}  # no cold Portfolio run
    assert "portfolio-lodo: never worse" in res.stdout


def test_bo_paired_compares_probe_files_against_a_base(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path, variant in ((a, "base={}"), (b, "tr2=dict(regions=2)")):
        res = _run("bo_probe.py", "--datasets", "proteins", "--seeds", "100-101", "--budget", "14", variant, "--json", str(path))
        assert res.returncode == 0, res.stderr[-2000:]
    res = _run("bo_paired.py", str(a), str(b))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "won/lost/tied" in res.stdout and "tr2" in res.stdout and "2 searches" in res.stdout
    res = _run("bo_paired.py", "--base", "nope", str(a), str(b))
    assert res.returncode != 0 and "no variant 'nope'" in res.stderr


def test_strategies_benchmark_runs_a_bo_variant_beside_merged_methods(tmp_path):
    pytest.importorskip("optuna")
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    res = _run("strategies_nbg.py", "--datasets", "proteins", "--methods", "evolution,optuna-tpe", "--seeds", "1",
               "--budget", "12", "--json", str(old))
    assert res.returncode == 0, res.stderr[-2000:]
    res = _run("strategies_nbg.py", "--datasets", "proteins", "--methods", "bo", "--bo-params", "dict(regions=2)",
               "--seeds", "1", "--budget", "12", "--merge", str(old), "--json", str(new))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "bo lowest?" in res.stdout
    data = json.loads(new.read_text())
    assert data["config"]["merged_methods"] == ["evolution", "optuna-tpe"] and "regions=2" in data["config"]["nasbook_strategies"]["bo"]
    assert data["raw"]["proteins"]["evolution"] == json.loads(old.read_text())["raw"]["proteins"]["evolution"]
    res = _run("strategies_nbg.py", "--datasets", "proteins", "--methods", "bo", "--seeds", "2", "--budget", "12",
               "--merge", str(old))
    assert res.returncode != 0 and "lacks evolution" in res.stderr


def test_nbg_needles_counts_the_architectures_near_the_best_and_the_searches_that_got_there(tmp_path):
    from nasbook.tasks._nbg import NBG_DATASETS

    # one search per method and table: "bo" at zero regret, "local" 1 pp away
    fake = {"raw": {d: {"bo": [{"valid_regret_pp": 0.0}], "local": [{"valid_regret_pp": 1.0}]} for d in NBG_DATASETS}}
    path = tmp_path / "fake.json"
    path.write_text(json.dumps(fake))
    out = tmp_path / "needles.json"
    res = _run("nbg_needles.py", "--results", str(path), "--methods", "bo,local", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(out.read_text())["datasets"]
    for d in NBG_DATASETS:
        w = data[d]["within"]
        assert 1 <= w["0"] <= w["0.35"] <= w["0.5"] <= w["1"] <= data[d]["n"]  # nested, the best itself counted
        assert data[d]["share_of_searches_within_goal"] == {"bo": 1.0, "local": 0.0}
    assert data["citeseer"]["n"] == 26206 and data["proteins"]["n"] == 2021


@pytest.mark.slow  # a 2-worker LocalCluster whose workers are SIGKILLed: ~10 s
def test_lost_report_window_benchmark_smoke(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "w.json"
    res = _run("lost_report_window.py", "--kills", "2", "--reports", "20", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["window"]["kills"] == 2 and 0 <= data["window"]["reports_reached"] <= 2
    assert data["cost_variable"]["median_ms"] > 0 and data["store"]["median_ms"] > 0
    assert "reports sent right before a SIGKILL reached the scheduler" in res.stdout
