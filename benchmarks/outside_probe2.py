"""Outside-evaluator probe 2: nasbook measured only through its documented public API.

Written from README.md, docs/ and the docstrings (``help(nasbook.Search)``, ...), as an outside
evaluator would, on probe seeds >= 200 that nothing was tuned on. Two parts:

``compare``
    One search per (method, dataset, budget, seed), each a separate ``Search(...).run()`` at that
    budget (not one long search read at prefixes): ``strategy="random"``, ``"evolution"``,
    ``"local"``, ``"bo"``, ``Portfolio()``, ``OptunaSampler(TPESampler(seed=s))``, and Optuna's TPE
    driven directly (``optuna.create_study`` + ``space.suggest``, no nasbook loop: ``n`` lookups, a
    repeated architecture counts as a lookup, as in a plain Optuna study; NAS-Bench-Graph only, since
    the tables' spaces are subsets that ``space.suggest`` mostly misses). Regret in percentage
    points: the task's best ``ground_truth()["value"]`` minus the best value the search found.

``calls``
    Calling styles: ``run()`` twice; ``run(10)``; a budget grown in chunks with ``extend``; a SQLite
    file then ``load_search`` and more; a budget above the space's size; ``{"seconds": ...}``;
    ``Predictor().fit_search`` and ``nasbook.predictors.evaluate`` with unusual ``n_train`` and
    ``seeds``; a knowledge base warm start (``warm_start=3``) and its resume; numpy integers and
    strings where ints are expected; the same seed in a subprocess and through ``nasbook search``.
    Each check records ``ok`` (and what it saw) or the exception's type and first line.

    export PYTHONPATH=$PWD OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    nice -n 5 python benchmarks/outside_probe2.py compare --json bench-results/probe2_compare.json
    nice -n 5 python benchmarks/outside_probe2.py calls --json bench-results/probe2_calls.json
    python benchmarks/outside_probe2.py table bench-results/probe2_compare.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

NBG = ("pubmed", "computers", "cs")
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"
TABLES = ("digits", "mnist1d")
METHODS = ("random", "evolution", "local", "bo", "portfolio", "tpe", "optuna-direct")


def _task(name: str) -> Any:
    from nasbook.tasks import DigitsTable, MNIST1DTable, NasBenchGraph

    if name == "digits":
        return DigitsTable()
    if name == "mnist1d":
        return MNIST1DTable()
    return NasBenchGraph(name)


def _strategy(method: str, seed: int) -> Any:
    import optuna

    from nasbook.strategies import OptunaSampler, Portfolio

    if method == "portfolio":
        return Portfolio()
    if method == "tpe":
        return OptunaSampler(optuna.samplers.TPESampler(seed=seed))
    return method


def _optuna_direct(task: Any, budget: int, seed: int) -> tuple[float, int, int]:
    """Optuna's TPE on the table through ``space.suggest``: best value, lookups, distinct."""
    import optuna

    from nasbook import InvalidArchitectureError

    truth = task.ground_truth()["value"].to_series()
    seen: list[str] = []

    def objective(trial: Any) -> float:
        try:
            arch = task.space.suggest(lambda n, c: trial.suggest_categorical(n, c))
        except InvalidArchitectureError:
            return float("nan")  # Optuna stores it FAILED: not a lookup
        seen.append(arch.id)
        return float(truth[arch.id])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    while len(seen) < budget:
        study.optimize(objective, n_trials=budget - len(seen))
    return float(max(truth[a] for a in seen)), len(seen), len(set(seen))


def compare_one(dataset: str, method: str, budget: int, seed: int) -> dict[str, Any]:
    import nasbook

    task = _task(dataset)
    best_possible = float(task.ground_truth()["value"].max())
    t0 = time.perf_counter()
    rec: dict[str, Any] = {"dataset": dataset, "method": method, "budget": budget, "seed": seed}
    if method == "optuna-direct":
        best, n, distinct = _optuna_direct(task, budget, seed)
    else:
        s = nasbook.Search(task, strategy=_strategy(method, seed), budget=budget, seed=seed,
                           storage=":memory:").run(progress="none")
        ds = s.to_xarray()
        done = ds.value.values[ds.state.values == "complete"]
        best, n, distinct = float(np.nanmax(done)), int(ds.sizes["trial"]), len(set(ds.arch_id.values))
    rec.update(regret_pp=100 * (best_possible - best), n=n, distinct=distinct,
               wall_s=time.perf_counter() - t0)
    return rec


def _wilcoxon(a: list[float], b: list[float]) -> tuple[int, int, int, float]:
    from scipy.stats import wilcoxon

    d = np.asarray(a) - np.asarray(b)
    lo, hi, tie = int((d < -1e-12).sum()), int((d > 1e-12).sum()), int((abs(d) <= 1e-12).sum())
    p = float(wilcoxon(a, b, zero_method="wilcox").pvalue) if lo + hi else 1.0
    return lo, hi, tie, p


def table(path: str) -> None:
    recs = json.loads(Path(path).read_text())["compare"]
    methods = [m for m in METHODS if any(r["method"] == m for r in recs)]
    datasets = list(dict.fromkeys(r["dataset"] for r in recs))
    for budget in sorted({r["budget"] for r in recs}):
        seeds = sorted({r["seed"] for r in recs if r["budget"] == budget})
        print(f"\n### budget {budget}, seeds {seeds[0]}..{seeds[-1]}: regret (pp), mean ± sd")
        print("| dataset | " + " | ".join(methods) + " |")
        print("|---" * (len(methods) + 1) + "|")
        for d in datasets + ["(NBG mean)", "(tables mean)"]:
            cells = []
            for m in methods:
                sel = [r["regret_pp"] for r in recs if r["budget"] == budget and r["method"] == m and (
                    r["dataset"] == d or (d == "(NBG mean)" and r["dataset"] not in TABLES)
                    or (d == "(tables mean)" and r["dataset"] in TABLES))]
                cells.append(f"{np.mean(sel):.3f} ± {np.std(sel):.3f}" if sel else "-")
            print(f"| {d} | " + " | ".join(cells) + " |")
        print("\n| pair (a vs b) | group | a | b | a lower / higher / tied | p (Wilcoxon) |")
        print("|---|---|---|---|---|---|")
        best_arm = {}
        for group in ("NBG", "tables"):
            def key(r: dict[str, Any], g: str = group, b: int = budget) -> bool:
                return r["budget"] == b and ((r["dataset"] in TABLES) == (g == "tables"))
            pairs = {m: {(r["dataset"], r["seed"]): r["regret_pp"] for r in recs if key(r) and r["method"] == m}
                     for m in methods}
            arms = [m for m in ("random", "evolution", "local", "bo") if pairs.get(m)]
            if not arms:
                continue
            best_arm[group] = min(arms, key=lambda m: np.mean(list(pairs[m].values())))
            for a, b in (("portfolio", best_arm[group]), ("bo", "tpe"), ("bo", "optuna-direct"),
                         ("portfolio", "tpe"), ("tpe", "optuna-direct")):
                common = sorted(set(pairs.get(a, {})) & set(pairs.get(b, {})))
                if len(common) < 2:
                    continue
                xa, xb = [pairs[a][k] for k in common], [pairs[b][k] for k in common]
                lo, hi, tie, p = _wilcoxon(xa, xb)
                print(f"| {a} vs {b} | {group} | {np.mean(xa):.3f} | {np.mean(xb):.3f} | {lo}/{hi}/{tie} | {p:.3f} |")


# ---------------------------------------------------------------- calling styles

def _check(out: dict[str, Any], name: str, fn: Callable[[], Any]) -> None:
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = fn()
            rec = {"status": "ok", "saw": res}
        except Exception as exc:  # noqa: BLE001 - the probe records every failure
            tb = traceback.format_exc()
            rec = {"status": "raised", "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                   "message_lines": len(str(exc).splitlines()), "traceback_lines": len(tb.splitlines())}
    rec["warnings"] = sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught})
    rec["wall_s"] = round(time.perf_counter() - t0, 2)
    out[name] = rec
    print(f"{name}: {json.dumps(rec, default=str)[:600]}", flush=True)


def _trials(s: Any) -> list[tuple[str, float]]:
    ds = s.to_xarray()
    return [(str(a), round(float(v), 6)) for a, v in zip(ds.arch_id.values, ds.value.values)]


def calls(dataset: str, seed: int, workdir: Path) -> dict[str, Any]:
    import optuna

    import nasbook
    from nasbook.strategies import OptunaSampler, Portfolio
    from nasbook.tasks import DigitsTable, NasBenchGraph

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out: dict[str, Any] = {}
    task = NasBenchGraph(dataset)

    def one(strategy: Any, budget: Any = 40, **kw: Any) -> Any:
        return nasbook.Search(task, strategy=strategy, budget=budget, seed=seed, storage=":memory:", **kw)

    ref = {m: _trials(one(_strategy(m, seed)).run(progress="none")) for m in ("random", "evolution", "local", "bo", "portfolio", "tpe")}

    def twice(m: str) -> Any:
        s = one(_strategy(m, seed))
        s.run(progress="none")
        s.run(progress="none")
        return {"same": _trials(s) == ref[m], "n": len(_trials(s))}

    for m in ("bo", "portfolio"):
        _check(out, f"run() twice [{m}]", lambda m=m: twice(m))
    _check(out, "run(10)", lambda: one("evolution").run(10))
    _check(out, "run(n_trials=10)", lambda: one("evolution").run(n_trials=10))

    def chunks(m: str, sizes: tuple[int, ...]) -> Any:
        s = one(_strategy(m, seed), budget=sizes[0])
        s.run(progress="none")
        for k in sizes[1:]:
            s.extend(trials=k).run(progress="none")
        return {"same_as_one_call": _trials(s) == ref[m], "n": len(_trials(s))}

    for m in ("bo", "portfolio", "tpe", "evolution"):
        _check(out, f"extend in chunks 7+13+1+19 [{m}]", lambda m=m: chunks(m, (7, 13, 1, 19)))

    def stored(m: str) -> Any:
        db = workdir / f"calls-{m}.db"
        db.unlink(missing_ok=True)
        s = nasbook.Search(task, strategy=_strategy(m, seed), budget=15, seed=seed, storage=str(db), name="x")
        s.run(progress="none")
        kw = {"strategy": _strategy(m, seed)} if m == "tpe" else {}
        r = nasbook.load_search("x", str(db), budget=40, **kw).run(progress="none")
        again = nasbook.load_search("x", db, **kw)  # a Path, read back
        return {"same_as_one_call": _trials(r) == ref[m], "reread_same": _trials(again) == ref[m]}

    for m in ("bo", "portfolio", "tpe", "local"):
        _check(out, f"storage file, load_search(budget=40) [{m}]", lambda m=m: stored(m))
    _check(out, "load_search of a TPESampler-instance search without strategy=", lambda: nasbook.load_search(
        "x", workdir / "calls-tpe.db").n_trials)
    _check(out, "nasbook show of it (rc)", lambda: subprocess.run(
        [sys.executable, "-m", "nasbook", "show", "x", "--storage", str(workdir / "calls-tpe.db")],
        capture_output=True, text=True).returncode)

    def over(m: str) -> Any:
        t = DigitsTable()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            s = nasbook.Search(t, strategy=_strategy(m, seed), budget=450, seed=seed, storage=":memory:").run(progress="none")
        ds = s.to_xarray()
        return {"n": int(ds.sizes["trial"]), "distinct": len(set(ds.arch_id.values)), "state": s.state,
                "warnings": [str(x.message)[:120] for x in w]}

    for m in ("random", "bo", "portfolio", "tpe"):
        _check(out, f"budget 450 > 300 archs, DigitsTable [{m}]", lambda m=m: over(m))

    def seconds(budget: Any) -> Any:
        t0 = time.perf_counter()
        s = one("bo", budget=budget).run(progress="none")
        return {"n": len(_trials(s)), "wall_s": round(time.perf_counter() - t0, 2), "elapsed_s": round(s.elapsed_s, 2)}

    _check(out, "budget={'seconds': 3}", lambda: seconds({"seconds": 3}))
    _check(out, "budget={'seconds': 3, 'trials': 10}", lambda: seconds({"seconds": 3, "trials": 10}))
    _check(out, "budget={'time': 3}", lambda: seconds({"time": 3}))
    _check(out, "budget={'max_time': 3}", lambda: seconds({"max_time": 3}))

    # Predictor / evaluate
    from nasbook import Predictor
    from nasbook.predictors import evaluate

    s40 = one("evolution")
    s40.run(progress="none")

    def fitted() -> Any:
        a = Predictor().fit_search(s40).predict(task.space.enumerate()[:50])["mean"].values
        b = Predictor().fit_search(s40).predict(task.space.enumerate()[:50])["mean"].values
        return {"repeat_equal": bool(np.array_equal(a, b))}

    _check(out, "Predictor().fit_search twice", fitted)

    def ev(**kw: Any) -> Any:
        r = evaluate(Predictor(), kw.pop("task", task), progress="none", baselines=False, **kw)
        return {k: np.round(r[k].values, 3).tolist() for k in list(r.data_vars)[:2]}

    _check(out, "evaluate n_train=[5] seeds=[200]", lambda: ev(n_train=[5], seeds=[200], n_test=500))
    _check(out, "evaluate n_train=[3000] seeds=[201]", lambda: ev(n_train=[3000], seeds=[201], n_test=500))
    _check(out, "evaluate n_train=[5] DigitsTable (n_test default)",
           lambda: ev(task=DigitsTable(), n_train=[5], seeds=[200]))
    _check(out, "evaluate n_train=[3000] DigitsTable", lambda: ev(task=DigitsTable(), n_train=[3000], seeds=[200], n_test=None))
    _check(out, "evaluate n_train=[1] ", lambda: ev(n_train=[1], seeds=[200], n_test=100))
    _check(out, "evaluate n_train=5 (int) seeds=np.arange(200,202)",
           lambda: ev(n_train=5, seeds=np.arange(200, 202), n_test=100))
    _check(out, "evaluate n_train=np.array([10,20]) seeds=np.int64(2)",
           lambda: ev(n_train=np.array([10, 20]), seeds=np.int64(2), n_test=100))
    _check(out, "evaluate twice same seed equal",
           lambda: ev(n_train=[20], seeds=[202], n_test=300) == ev(n_train=[20], seeds=[202], n_test=300))

    # knowledge base warm start
    def kb_warm() -> Any:
        db = workdir / "kb.db"
        db.unlink(missing_ok=True)
        kb = nasbook.KnowledgeBase(str(db))
        nasbook.Search(NasBenchGraph("cora"), strategy="evolution", budget=30, seed=seed, kb=kb,
                       name="past").run(progress="none")
        kb.close()
        res = {}
        for m in ("bo", "evolution", "portfolio", "tpe"):
            # each run gets its own copy of the store holding the past search only: a search recorded in the
            # knowledge base becomes a past search of the next one (the warm start would differ by design)
            kbs = []
            for part_ in ("full", "part"):
                shutil.copy(db, workdir / f"kb-{m}-{part_}.db")
                kbs.append(nasbook.KnowledgeBase(str(workdir / f"kb-{m}-{part_}.db")))

            def mk(k: Any, budget: int, m: str = m) -> Any:
                return nasbook.Search(task, strategy=_strategy(m, seed), budget=budget, seed=seed, kb=k,
                                      warm_start=3, name=f"warm-{m}")
            full = mk(kbs[0], 20).run(progress="none")
            mk(kbs[1], 12).run(progress="none")
            kw = {"strategy": _strategy(m, seed)} if m == "tpe" else {}
            resumed = nasbook.load_search(f"warm-{m}", kb=kbs[1], budget=20, **kw).run(progress="none")
            first3 = [t.arch.id for t in full.trials[:3]]
            past = {t.arch.id for t in nasbook.load_search("past", str(db)).trials}
            res[m] = {"resume_same": _trials(resumed) == _trials(full), "n": len(_trials(full)),
                      "first3_from_past": all(a in past for a in first3)}
        return res

    _check(out, "KnowledgeBase warm_start=3, stop at 12, load_search to 20", kb_warm)

    # numpy / string parameters
    ref_bo = _trials(one("bo", budget=20).run(progress="none"))
    _check(out, "budget=np.int64(20), seed=np.int64", lambda: _trials(nasbook.Search(
        task, strategy="bo", budget=np.int64(20), seed=np.int64(seed), storage=":memory:").run(progress="none")) == ref_bo)
    _check(out, "budget='20' (papermill -r)", lambda: len(_trials(one("bo", budget="20").run(progress="none"))))
    _check(out, "seed='200' (papermill -r)", lambda: len(_trials(nasbook.Search(
        task, strategy="bo", budget=5, seed=str(seed), storage=":memory:").run(progress="none"))))
    _check(out, "budget=20.0 (float)", lambda: len(_trials(one("bo", budget=20.0).run(progress="none"))))
    _check(out, "NasBenchGraph(np.str_)", lambda: repr(NasBenchGraph(np.str_(dataset))))
    _check(out, "Portfolio(seed=np.int64)", lambda: len(_trials(one(Portfolio(seed=np.int64(3)), budget=10).run(progress="none"))))
    _check(out, "OptunaSampler(seed=np.int64)", lambda: len(_trials(one(OptunaSampler(seed=np.int64(3)), budget=10).run(progress="none"))))
    _check(out, "extend(trials=np.int64(5))", lambda: len(_trials(one("bo", budget=5).run(progress="none").extend(trials=np.int64(5)).run(progress="none"))))
    _check(out, "Budget(trials=np.int64(7))", lambda: len(_trials(one("random", budget=nasbook.search.Budget(trials=np.int64(7))).run(progress="none"))))
    _check(out, "budget={'trials': np.int64(7)}", lambda: len(_trials(one("random", budget={"trials": np.int64(7)}).run(progress="none"))))
    _check(out, "warm_start=np.int64(3) without kb", lambda: len(_trials(one("bo", budget=5, warm_start=np.int64(3)).run(progress="none"))))
    _check(out, "warm_start=[space.enumerate()[7]] + budget 5",
           lambda: _trials(one("bo", budget=5, warm_start=[task.space.enumerate()[7]]).run(progress="none"))[0][0] == task.space.enumerate()[7].id)

    # the same seed in another process: a papermill-like parameter script and the CLI
    script = workdir / "params_script.py"
    script.write_text(
        "import sys, json, nasbook\nfrom nasbook.tasks import NasBenchGraph\n"
        "dataset, strategy, budget, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])\n"
        "s = nasbook.Search(NasBenchGraph(dataset), strategy=strategy, budget=budget, seed=seed, storage=':memory:').run(progress='none')\n"
        "ds = s.to_xarray()\nprint(json.dumps([[str(a), round(float(v), 6)] for a, v in zip(ds.arch_id.values, ds.value.values)]))\n")

    def sub(m: str) -> Any:
        p = subprocess.run([sys.executable, str(script), dataset, m, "40", str(seed)], capture_output=True, text=True, check=True)
        got = [tuple(x) for x in json.loads(p.stdout.strip().splitlines()[-1])]
        return {"same_as_in_process": got == ref[m], "stderr_lines": len(p.stderr.splitlines())}

    for m in ("bo", "portfolio"):
        _check(out, f"subprocess script, same seed [{m}]", lambda m=m: sub(m))

    def cli(m: str) -> Any:
        db = workdir / f"cli-{m}.db"
        db.unlink(missing_ok=True)
        p = subprocess.run([sys.executable, "-m", "nasbook", "search", "--dataset", dataset, "--strategy", m,
                            "--budget", "40", "--seed", str(seed), "--storage", str(db), "--name", "c", "--quiet"],
                           capture_output=True, text=True)
        if p.returncode:
            return {"rc": p.returncode, "stderr": p.stderr[-400:]}
        return {"rc": 0, "same_as_in_process": _trials(nasbook.load_search("c", db)) == ref[m]}

    for m in ("bo", "portfolio", "evolution"):
        _check(out, f"nasbook search CLI, same seed [{m}]", lambda m=m: cli(m))

    def report(m: str) -> Any:  # papermill through the documented CLI; the notebook extends its search by 20
        db = workdir / f"report-{m}.db"
        p = subprocess.run([sys.executable, "-m", "nasbook", "report", str(NOTEBOOK), "-p", "dataset", dataset, "-p",
                            "strategy", m, "-p", "budget", "20", "-p", "seed", str(seed), "-p", "storage", str(db),
                            "-o", str(workdir / "reports")], capture_output=True, text=True)
        if p.returncode:
            return {"rc": p.returncode, "stderr": p.stderr[-600:]}
        return {"rc": 0, "same_as_in_process": _trials(nasbook.load_search("quickstart", db)) == ref[m],
                "stderr_lines": len(p.stderr.splitlines())}

    _check(out, "nasbook report quickstart -p budget 20 -p seed ... [bo]", lambda: report("bo"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--datasets", default=",".join(NBG + TABLES))
    c.add_argument("--methods", default=",".join(METHODS))
    c.add_argument("--budgets", default="20,60,150")
    c.add_argument("--seeds", default="200-203")
    c.add_argument("--json")
    k = sub.add_parser("calls")
    k.add_argument("--dataset", default="computers")
    k.add_argument("--seed", type=int, default=201)
    k.add_argument("--json")
    t = sub.add_parser("table")
    t.add_argument("path")
    a = ap.parse_args()
    if getattr(a, "json", None):
        a.json = str(Path(a.json).resolve())
    if a.cmd == "table":
        table(a.path)
        return
    if a.cmd == "calls":
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            res = calls(a.dataset, a.seed, Path(tmp))
        if a.json:
            Path(a.json).write_text(json.dumps({"calls": res}, indent=1, default=str))
        return
    lo, hi = (int(x) for x in a.seeds.split("-"))
    if lo < 100:
        ap.error("--seeds: a probe uses seeds >= 100 (0..9 are the reporting seeds)")
    recs: list[dict[str, Any]] = []
    prev = json.loads(Path(a.json).read_text())["compare"] if a.json and Path(a.json).exists() else []
    done = {(r["dataset"], r["method"], r["budget"], r["seed"]) for r in prev}
    recs.extend(prev)
    for seed in range(lo, hi + 1):
        for d in a.datasets.split(","):
            for budget in (int(x) for x in a.budgets.split(",")):
                for m in a.methods.split(","):
                    if m == "optuna-direct" and d in TABLES or (d, m, budget, seed) in done:
                        continue
                    r = compare_one(d, m, budget, seed)
                    recs.append(r)
                    print(json.dumps(r), flush=True)
                    if a.json:
                        Path(a.json).write_text(json.dumps({"compare": recs}, indent=1))


if __name__ == "__main__":
    main()
