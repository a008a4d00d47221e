"""Outside-evaluator probe 3: Predictor, evaluate, KnowledgeBase, the CLI and results objects.

Written from README.md, docs/ and the docstrings only (``help(nasbook.Predictor)``,
``help(nasbook.KnowledgeBase)``, ``nasbook --help``), as a demanding new user would try them, on probe
seeds >= 300 and on the tables nasbook ships or reads (NAS-Bench-Graph, ``DigitsTable``,
``MNIST1DTable``); the parts the first two probes left out (docs/benchmarks.md, "Outside-evaluator
probe" and "probe 2", "2c. Bad input a new user types"). Every check runs one call and records what
came back, or the exception's type and first line, next to what a user should get: ``ok`` (an answer)
or ``refused`` (a nasbook error naming the parameter). A check whose outcome differs from that is
printed as ``MISMATCH``; a refusal that is not a ``NasbookError``, or whose message spans several
lines, is printed as ``RAW``.

Parts (all by default; ``--parts predictor,evaluate,results,kb,cli,report``):

``predictor``  ``Predictor`` fit / predict / score / fit_search with numpy and pandas inputs, specs,
               one architecture, duplicates, constant scores, 2 and 3 training architectures, every
               model name, its text view before and after fit and score, a pickle round trip.
``evaluate``   ``predictors.evaluate`` with every model name on the two curve tables, its Dataset,
               ``viz.plot_predictor_scores``, repeated labels / sizes / seeds, ``k``.
``results``    ``to_xarray`` / ``to_dataframe`` / the plots / ``fit_search`` of searches with failed
               trials, with none or one completed, and of ASHA on ``DigitsTable``.
``kb``         ``KnowledgeBase``: empty, one, two and five tasks; ``similar`` / ``similar_tasks`` /
               ``cluster_tasks`` / the two plots; Parquet export / import round trip; two objects
               on one file; ``warm_start=`` values; a Portfolio with a prior from the base.
``cli``        ``nasbook list`` / ``show`` on those searches and on stores that are not one.
``report``     ``nasbook report tutorials/04_predicting_architecture_quality.ipynb`` with small ``-p``
               values (about 40 s).

    export PYTHONPATH=$PWD OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    nice -n 5 python benchmarks/outside_probe3.py --json bench-results/probe3.json
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("predictor", "evaluate", "results", "kb", "cli", "report")
RESULTS: dict[str, dict[str, Any]] = {}


def check(part: str, name: str, fn: Callable[[], Any], expect: str = "ok") -> Any:
    """Run ``fn``; record ok (what it returned, short) or refused (the error), and whether that was expected."""
    from nasbook import NasbookError

    t0 = time.perf_counter()
    value = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn()
            rec: dict[str, Any] = {"outcome": "ok", "saw": " ".join(repr(value).split())[:300]}
        except Exception as exc:  # noqa: BLE001 - the probe records every failure
            text = str(exc)
            rec = {"outcome": "refused", "error": f"{type(exc).__name__}: {text[:400]}",
                   "nasbook_error": isinstance(exc, NasbookError), "message_lines": len(text.splitlines())}
    rec["expect"] = expect
    rec["warnings"] = sorted({f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught
                              if not issubclass(w.category, (DeprecationWarning, FutureWarning))})
    rec["wall_s"] = round(time.perf_counter() - t0, 2)
    raw = rec["outcome"] == "refused" and (not rec["nasbook_error"] or rec["message_lines"] > 1)
    flag = "MISMATCH" if rec["outcome"] != expect else ("RAW" if raw else "")
    rec["flag"] = flag
    RESULTS[f"{part}: {name}"] = rec
    said = rec.get("saw") if rec["outcome"] == "ok" else rec["error"]
    print(f"[{part}] {name}: {rec['outcome']}{' ' + flag if flag else ''} ({rec['wall_s']} s) {said[:220]}", flush=True)
    return value


def _nbg(d: str) -> Any:
    from nasbook.tasks import NasBenchGraph

    return NasBenchGraph(d)


def _failing_tasks() -> tuple[type, type]:
    """A NAS-Bench-Graph task whose every third architecture fails, and one where every trial fails."""
    from nasbook import TrialFailed
    from nasbook.tasks import NasBenchGraph

    class Flaky(NasBenchGraph):
        def evaluate(self, arch: Any, **kw: Any) -> Any:
            if int(arch.id) % 3 == 0:
                raise TrialFailed("every third id fails")
            return super().evaluate(arch, **kw)

    class AllFail(NasBenchGraph):
        def evaluate(self, arch: Any, **kw: Any) -> Any:
            raise TrialFailed("always")

    return Flaky, AllFail


# ---------------------------------------------------------------------------------------- predictor
def part_predictor() -> None:
    import pandas as pd

    from nasbook import Predictor
    from nasbook.predictors import available_predictors

    P = "predictor"
    task = _nbg("cora")
    archs = task.space.enumerate()
    y = task.ground_truth()["value"].values
    gp = lambda: Predictor(model="gp", seed=300)  # noqa: E731 - a fresh one per check
    ref = gp().fit(archs[:20], y[:20]).predict(archs[20:25])["mean"].values
    same = lambda p: bool(np.array_equal(p.predict(archs[20:25])["mean"].values, ref))  # noqa: E731
    check(P, "fit(list, float64) (the reference)", lambda: ref.round(4).tolist())
    check(P, "fit(tuple, float32 scores)", lambda: gp().fit(tuple(archs[:20]), y[:20].astype(np.float32)).n_train_)
    check(P, "fit(list, int scores)", lambda: gp().fit(archs[:20], np.arange(20)).n_train_)
    check(P, "fit(pd.Series of archs, pd.Series of scores with another index) = reference",
          lambda: same(gp().fit(pd.Series(archs[:20]), pd.Series(y[:20], index=range(100, 120)))))
    check(P, "fit(np.array(archs, dtype=object), scores) = reference",
          lambda: same(gp().fit(np.array(archs[:20], dtype=object), y[:20])))
    check(P, "fit(xarray DataArray scores) = reference",
          lambda: same(gp().fit(archs[:20], task.ground_truth()["value"][:20])))
    check(P, "predict(pd.Series of archs)", lambda: gp().fit(archs[:20], y[:20]).predict(pd.Series(archs[20:25]))["mean"].size)
    check(P, "fit(DataFrame of archs)", lambda: gp().fit(pd.DataFrame({"arch": archs[:20]}), y[:20]), "refused")
    check(P, "fit(generator of archs)", lambda: gp().fit((a for a in archs[:20]), y[:20]), "refused")
    check(P, "fit(specs (dicts), space=...)", lambda: gp().fit([a.spec for a in archs[:20]], y[:20], space=task.space), "refused")
    check(P, "fit(one Architecture, one score)", lambda: gp().fit(archs[0], y[0]), "refused")
    check(P, "fit(scores of shape (n, 1))", lambda: gp().fit(archs[:20], y[:20].reshape(-1, 1)), "refused")
    check(P, "fit(5 archs, 4 scores)", lambda: gp().fit(archs[:5], y[:4]), "refused")
    check(P, "fit(scores with a NaN)", lambda: gp().fit(archs[:5], [0.1, 0.2, np.nan, 0.3, 0.4]), "refused")
    check(P, "Predictor(seed=np.int64(300)) = reference", lambda: same(Predictor(model="gp", seed=np.int64(300)).fit(archs[:20], y[:20])))
    check(P, "Predictor(seed=300.0)", lambda: Predictor(model="gp", seed=300.0).fit(archs[:20], y[:20]), "refused")
    check(P, "Predictor().fit(2 archs).predict(3)", lambda: Predictor(seed=301).fit(archs[:2], y[:2]).predict(archs[2:5])["std"].values.round(4).tolist())
    check(P, "Predictor().fit(3 archs).predict(3)", lambda: Predictor(seed=301).fit(archs[:3], y[:3]).predict(archs[3:6])["mean"].values.round(4).tolist())
    check(P, "fit(1 arch in a list)", lambda: Predictor().fit(archs[:1], y[:1]), "refused")
    check(P, "fit(each of 5 archs 3 times, 3 scores each)",
          lambda: Predictor(seed=302).fit(archs[:5] * 3, np.concatenate([y[:5], y[:5] + 0.01, y[:5] - 0.01])).predict(archs[10:13])["mean"].values.round(4).tolist())
    for m in ["auto", *available_predictors()]:
        def fit_one(m: str = m) -> Any:
            p = Predictor(model=m, seed=303).fit(archs[:12], y[:12])
            ds = p.predict(archs[100:105])
            return {"tau_on_200": round(p.score(archs[200:400], y[200:400]), 3),
                    "std_zero": int((ds["std"].values == 0).sum()), "std_min": float(ds["std"].values.min().round(5))}
        check(P, f"model={m!r}: fit 12, predict 5, score 200", fit_one)

        def const(m: str = m) -> Any:
            p = Predictor(model=m, seed=304).fit(archs[:10], np.full(10, 0.7))
            ds = p.predict(archs[100:103])
            return {"mean": ds["mean"].values.round(4).tolist(), "std": ds["std"].values.tolist(),
                    "tau": p.score(archs[200:220], y[200:220]), "nll": p.scores_["nll"]}
        check(P, f"model={m!r}: fit on 10 equal scores", const)
    p = gp()
    check(P, "text view before fit", lambda: p._repr_mimebundle_()["text/plain"].splitlines()[0])
    p.fit(archs[:20], y[:20])
    check(P, "text view after fit: 'trained on 20'", lambda: "trained on          20 architectures" in p._repr_mimebundle_()["text/plain"])
    check(P, "score(50 held out)", lambda: round(p.score(archs[30:80], y[30:80]), 4))
    check(P, "text view after score: 'Last score (50 architectures)'", lambda: "Last score (50 architectures)" in p._repr_mimebundle_()["text/plain"])
    check(P, "score(metric='tau')", lambda: p.score(archs[30:80], y[30:80], metric="tau"), "refused")
    check(P, "score(1 arch)", lambda: p.score(archs[30:31], y[30:31]), "refused")
    check(P, "score on equal true scores (tau NaN, as documented)", lambda: p.score(archs[30:40], np.full(10, 0.5)))
    check(P, "predict(one Architecture)", lambda: p.predict(archs[30]), "refused")
    check(P, "predict([]) (empty result)", lambda: p.predict([])["mean"].size)
    check(P, "predict([a, a]) (both rows)", lambda: p.predict([archs[30], archs[30]])["arch"].values.tolist())
    check(P, "pickle round trip predicts the same",
          lambda: bool(np.array_equal(pickle.loads(pickle.dumps(p)).predict(archs[30:35])["mean"].values, p.predict(archs[30:35])["mean"].values)))
    p.fit(archs[100:130], y[100:130])
    check(P, "refit: text view says 30 and drops the last score",
          lambda: ("trained on          30" in p._repr_mimebundle_()["text/plain"], "Last score" in p._repr_mimebundle_()["text/plain"], p.scores_))
    check(P, "viz.plot_predictions after a refit (no score yet)", lambda: __import__("nasbook.viz").viz.plot_predictions(p), "refused")
    check(P, "a save/load method", lambda: [n for n in ("save", "load", "to_file", "dump") if hasattr(p, n)])


# ---------------------------------------------------------------------------------------- evaluate
def part_evaluate() -> None:
    from nasbook import Predictor, viz
    from nasbook.predictors import GaussianProcess, available_predictors, evaluate
    from nasbook.tasks import Digits, DigitsTable, MNIST1DTable

    E = "evaluate"
    d = DigitsTable()
    kw: dict[str, Any] = {"progress": False, "baselines": False}
    names = ["auto", *available_predictors()]
    ds = check(E, f"every model name {names} on DigitsTable, n_train [5, 20], seeds [300, 301], n_test 100",
               lambda: evaluate(names, d, n_train=[5, 20], seeds=[300, 301], n_test=100, progress=False))
    if ds is not None:
        check(E, "Kendall tau, mean over seeds", lambda: ds["kendall_tau"].mean("seed").round(3).to_pandas().to_dict())
        check(E, "attrs: top_k, noise_ceiling", lambda: (ds.attrs["top_k"], round(ds.attrs["noise_ceiling"], 3)))
        check(E, "'auto' and 'ensemble' give the same numbers",
              lambda: bool(np.allclose(ds["kendall_tau"].sel(predictor="auto"), ds["kendall_tau"].sel(predictor="ensemble"))))
        for metric in ("kendall_tau", "coverage_68", "nll", "fit_s"):
            check(E, f"plot_predictor_scores(metric={metric!r})", lambda metric=metric: type(viz.plot_predictor_scores(ds, metric=metric)).__name__)
        check(E, "plot_predictor_scores(band='none')", lambda: type(viz.plot_predictor_scores(ds, band="none")).__name__)
        check(E, "plot_predictor_scores(band='ci99')", lambda: viz.plot_predictor_scores(ds, band="ci99"), "refused")
        check(E, "plot_predictor_scores of one seed", lambda: type(viz.plot_predictor_scores(ds.isel(seed=[0]))).__name__)
        check(E, "plot_predictor_scores of one size", lambda: type(viz.plot_predictor_scores(ds.isel(n_train=[0]))).__name__)
        check(E, "to_dataframe()", lambda: ds.to_dataframe().shape)
    check(E, "MNIST1DTable, Predictor(model='gp'), n_train=10 (an int), seeds=1, n_test=None",
          lambda: evaluate(Predictor(model="gp"), MNIST1DTable(), n_train=10, seeds=1, n_test=None, **kw)["kendall_tau"].values.round(3).ravel().tolist())
    check(E, "['gp', 'gp'] (labels made unique)", lambda: evaluate(["gp", "gp"], d, n_train=[10], seeds=[300], n_test=50, **kw)["predictor"].values.tolist())
    check(E, "[GaussianProcess(), GaussianProcess(nu=1.5), GaussianProcess()]",
          lambda: evaluate([GaussianProcess(), GaussianProcess(nu=1.5), GaussianProcess()], d, n_train=[10], seeds=[300], n_test=50, **kw)["predictor"].values.tolist())
    check(E, "n_train=[10, 10] (a repeated size)", lambda: evaluate("gp", d, n_train=[10, 10], seeds=[300], n_test=50, **kw), "refused")
    check(E, "baselines=['#params', '#params']",
          lambda: evaluate("gp", d, n_train=[10], seeds=[300], n_test=50, progress=False, baselines=["#params", "#params"]), "refused")
    check(E, "n_train=[20, 10] (sorted)", lambda: evaluate("gp", d, n_train=[20, 10], seeds=[300], n_test=50, **kw)["n_train"].values.tolist())
    check(E, "seeds=[300, 300]", lambda: evaluate("gp", d, n_train=[10], seeds=[300, 300], n_test=50, **kw), "refused")
    check(E, "n_train=np.array([10.0])", lambda: evaluate("gp", d, n_train=np.array([10.0]), seeds=[300], n_test=50, **kw), "refused")
    check(E, "n_train=np.array([10, 20]), seeds=np.arange(300, 302)",
          lambda: evaluate("gp", d, n_train=np.array([10, 20]), seeds=np.arange(300, 302), n_test=50, **kw)["kendall_tau"].shape)
    check(E, "baselines=['params']", lambda: evaluate("gp", d, n_train=[10], seeds=[300], n_test=50, progress=False, baselines=["params"]), "refused")
    check(E, "predictor=[]", lambda: evaluate([], d, n_train=[10], seeds=[300], n_test=50, **kw), "refused")
    for k in (5, 0.1, np.int64(5)):
        check(E, f"k={k!r} with n_test=50: attrs top_k, overlap",
              lambda k=k: (lambda r: (r.attrs["top_k"], float(r["top_k_overlap"].values.ravel()[0])))(
                  evaluate("gp", d, n_train=[10], seeds=[300], n_test=50, k=k, **kw)))
    for k in (1.0, 50, 100):  # 1.0 (a fraction: all of it, or the top 1?) and k >= n_test overlap fully whatever the ranking
        check(E, f"k={k!r} with n_test=50", lambda k=k: evaluate("gp", d, n_train=[10], seeds=[300], n_test=50, k=k, **kw), "refused")
    check(E, "k=0", lambda: evaluate("gp", d, n_train=[10], seeds=[300], n_test=50, k=0, **kw), "refused")
    check(E, "a training task (Digits)", lambda: evaluate("gp", Digits(), n_train=[10], seeds=[300], n_test=50, **kw), "refused")


# ---------------------------------------------------------------------------------------- results
def _search_views(part: str, label: str, s: Any, fit_expect: str, plots_expect: str, tradeoff: str = "ok") -> None:
    from nasbook import Predictor, viz

    check(part, f"{label}: repr", lambda: repr(s))
    check(part, f"{label}: text view 'trials' line",
          lambda: next(line for line in s._repr_mimebundle_()["text/plain"].splitlines() if line.strip().startswith("trials")).strip())
    check(part, f"{label}: best", lambda: s.best)
    check(part, f"{label}: to_xarray() (dims, states)", lambda: (dict(s.to_xarray().sizes), sorted(set(s.to_xarray()["state"].values.tolist()))))
    check(part, f"{label}: to_dataframe() (shape, NaN values)", lambda: (s.to_dataframe().shape, int(s.to_dataframe()["value"].isna().sum())))
    for name in ("plot_history", "plot_op_frequency", "plot_compare"):
        check(part, f"{label}: viz.{name}", lambda name=name: type(getattr(viz, name)(s)).__name__, plots_expect)
    check(part, f"{label}: viz.plot_tradeoff (default x)", lambda: type(viz.plot_tradeoff(s)).__name__, tradeoff)
    check(part, f"{label}: Predictor(model='gp').fit_search", lambda: Predictor(model="gp").fit_search(s).n_train_, fit_expect)


def part_results(workdir: Path) -> dict[str, str]:
    import nasbook
    from nasbook import viz
    from nasbook.strategies import ASHA
    from nasbook.tasks import DigitsTable

    R = "results"
    Flaky, AllFail = _failing_tasks()
    db = str(workdir / "results.db")
    nasbook.set_options(stop_after_failures=0)  # the all-failing search runs its budget
    try:
        flaky = nasbook.Search(Flaky("cora"), strategy="evolution", budget=15, seed=310, storage=db, name="flaky").run(progress="none")
        none = nasbook.Search(AllFail("cora"), strategy="random", budget=4, seed=311, storage=db, name="all-failed").run(progress="none")
    finally:
        nasbook.set_options(stop_after_failures=5)
    one = nasbook.Search(_nbg("citeseer"), strategy="random", budget=1, seed=312, storage=db, name="one-trial").run(progress="none")
    asha = nasbook.Search(DigitsTable(), strategy=ASHA(base="random", max_epochs=9), budget={"epochs": 60}, seed=313,
                          storage=db, name="asha").run(progress="none")
    asha_small = nasbook.Search(DigitsTable(), strategy=ASHA(base="random", max_epochs=9), budget={"epochs": 20}, seed=303,
                                storage=db, name="asha-20").run(progress="none")
    _search_views(R, "15 trials, some failed", flaky, "ok", "ok")
    _search_views(R, "4 trials, all failed", none, "refused", "refused", "refused")
    _search_views(R, "1 completed trial", one, "refused", "ok")
    _search_views(R, "ASHA on DigitsTable, 60 epochs", asha, "ok", "ok")
    check(R, "ASHA 60 epochs: trials per epoch count", lambda: asha.to_dataframe()["epochs"].value_counts().sort_index().to_dict())
    check(R, "ASHA 60 epochs: viz.plot_curves", lambda: type(viz.plot_curves(asha)).__name__)
    check(R, "ASHA 20 epochs: fit_search (1 trial at 9 epochs)", lambda: nasbook.Predictor().fit_search(asha_small), "refused")
    check(R, "15 trials, some failed: viz.plot_curves (a table without curves)", lambda: viz.plot_curves(flaky), "refused")
    check(R, "a NasBenchGraph subclass (Flaky) has NasBenchGraph's config and task key",
          lambda: (Flaky("cora").to_config()["class"], nasbook.KnowledgeBase.task_key(Flaky("cora")) == nasbook.KnowledgeBase.task_key(_nbg("cora"))))
    kb = nasbook.KnowledgeBase(db)
    check(R, "KnowledgeBase(results.db): trials per search and state (states=None)",
          lambda: {f"{k[0]}/{k[1]}": v for k, v in kb.trials(states=None).groupby(["search", "state"]).size().to_dict().items()})
    check(R, "KnowledgeBase(results.db).to_xarray(task='digits-table'): epochs", lambda: sorted(set(kb.to_xarray(task="digits-table")["epochs"].values.tolist())))
    check(R, "KnowledgeBase(results.db).tasks: n_trials per task (complete, top fidelity?)", lambda: kb.tasks.set_index("task")["n_trials"].to_dict())
    frame = asha.to_dataframe().reset_index()
    check(R, "kb.ingest(asha.to_dataframe() rows) into a new base",
          lambda: (lambda k: (k.ingest([{"arch": r.arch, "value": r.value, "epochs": int(r.epochs)} for r in frame.itertuples()],
                                       task=DigitsTable(), space=asha.space, name="asha-again"), k.trials().shape[0]))(nasbook.KnowledgeBase(":memory:")))
    return {"db": db}


# ---------------------------------------------------------------------------------------- knowledge base
def part_kb(workdir: Path) -> None:
    import pandas as pd

    import nasbook
    from nasbook import KnowledgeBase
    from nasbook.strategies import Portfolio, portfolio_prior

    K = "kb"
    a0 = _nbg("cora").space.enumerate()[0]
    empty = KnowledgeBase(str(workdir / "empty.db"))
    check(K, "empty: repr", lambda: repr(empty))
    check(K, "empty: text view", lambda: empty._repr_mimebundle_()["text/plain"].splitlines()[-1].strip())
    check(K, "empty: searches / tasks / trials / to_xarray", lambda: (empty.searches.shape, empty.tasks.shape, empty.trials().shape, dict(empty.to_xarray().sizes)))
    check(K, "empty: export then import_", lambda: KnowledgeBase.import_(empty.export(workdir / "empty.parquet")).trials().shape)
    for name, fn in (("similar_tasks(cora)", lambda: empty.similar_tasks(_nbg("cora"))), ("cluster_tasks()", empty.cluster_tasks),
                     ("plot_task_map()", empty.plot_task_map), ("similar(a, k=3)", lambda: empty.similar(a0, k=3)),
                     ("warm_start(space)", lambda: empty.warm_start(_nbg("cora").space)),
                     ("task_distances()", empty.task_distances), ("probes()", empty.probes)):
        check(K, f"empty: {name}", fn, "refused")

    db = str(workdir / "kb.db")
    kb = KnowledgeBase(db)
    nasbook.Search(_nbg("cora"), strategy="random", budget=10, seed=320, kb=kb, storage=db, name="cora-random").run(progress="none")
    check(K, "1 task: repr", lambda: repr(kb))
    check(K, "1 task: similar_tasks(cora), the one recorded", lambda: kb.similar_tasks(_nbg("cora")), "refused")
    check(K, "1 task: similar_tasks(pubmed), no meta-features", lambda: kb.similar_tasks(_nbg("pubmed")), "refused")
    check(K, "1 task: cluster_tasks()", kb.cluster_tasks, "refused")
    check(K, "1 task: plot_task_map()", kb.plot_task_map, "refused")
    check(K, "1 task: similar(a, k=100) (10 recorded)", lambda: kb.similar(a0, k=100).shape)
    check(K, "1 task: similar(a, k=np.int64(3))", lambda: kb.similar(a0, k=np.int64(3))["arch_id"].tolist())
    check(K, "1 task: similar(a, k=0)", lambda: kb.similar(a0, k=0), "refused")
    check(K, "1 task: similar(a, task=NasBenchGraph('cora'))", lambda: kb.similar(a0, k=3, task=_nbg("cora")).shape)
    check(K, "1 task: similar(a, task='cora2')", lambda: kb.similar(a0, k=3, task="cora2"), "refused")
    check(K, "1 task: similar(a, task=pubmed) (not recorded)", lambda: kb.similar(a0, k=3, task=_nbg("pubmed")), "refused")
    check(K, "1 task: plot_neighbourhood(a, k=5)", lambda: type(kb.plot_neighbourhood(a0, k=5)).__name__)
    check(K, "1 task: plot_neighbourhood(a, k=50, task='nbg-cora')", lambda: type(kb.plot_neighbourhood(a0, k=50, task="nbg-cora")).__name__)
    check(K, "1 task: warm_start(space, n=100) (10 recorded)", lambda: len(kb.warm_start(_nbg("cora").space, n=100)))
    nasbook.Search(_nbg("citeseer"), strategy="evolution", budget=10, seed=321, kb=kb, storage=db, name="citeseer-evolution").run(progress="none")
    check(K, "2 tasks without meta-features or landmarks: cluster_tasks()", kb.cluster_tasks, "refused")
    check(K, "2 tasks without meta-features or landmarks: plot_task_map()", kb.plot_task_map, "refused")
    check(K, "2 tasks: similar(a, k=1000)", lambda: kb.similar(a0, k=1000).shape)
    for i, d in enumerate(("pubmed", "photo", "computers")):
        for strat in ("random", "evolution"):
            nasbook.Search(_nbg(d), strategy=strat, budget=15, seed=322 + i, kb=kb, storage=db, name=f"{d}-{strat}").run(progress="none")
    for d in ("cora", "citeseer", "pubmed", "photo", "computers"):
        check(K, f"measure_landmarks({d})", lambda d=d: len(kb.measure_landmarks(_nbg(d))))
    check(K, "5 tasks: similar_tasks(cora)", lambda: kb.similar_tasks(_nbg("cora"))["task"].tolist())
    check(K, "5 tasks: similar_tasks('nbg-cora', k=np.int64(2))", lambda: kb.similar_tasks("nbg-cora", k=np.int64(2))["task"].tolist())
    check(K, "5 tasks: similar_tasks(cs) (new, meta-features only)", lambda: kb.similar_tasks(_nbg("cs"))["task"].tolist())
    check(K, "5 tasks: cluster_tasks()", lambda: kb.cluster_tasks().set_index("task")["cluster"].to_dict())
    for n in (1, 2, 5):
        check(K, f"5 tasks: cluster_tasks(n_clusters={n})", lambda n=n: sorted(set(kb.cluster_tasks(n_clusters=n)["cluster"])))
    check(K, "5 tasks: cluster_tasks(n_clusters=9)", lambda: kb.cluster_tasks(n_clusters=9), "refused")
    check(K, "5 tasks: plot_task_map()", lambda: type(kb.plot_task_map()).__name__)
    check(K, "5 tasks: plot_task_map(method='pca')", lambda: type(kb.plot_task_map(method="pca")).__name__)
    check(K, "5 tasks: plot_task_map(method='tsne')", lambda: kb.plot_task_map(method="tsne"), "refused")

    path = check(K, "export(file)", lambda: kb.export(workdir / "kb.parquet"))
    check(K, "export(folder)", lambda: kb.export(workdir), "refused")
    back = check(K, "KnowledgeBase.import_(file)", lambda: KnowledgeBase.import_(path))
    if back is not None:
        t1, t2 = kb.trials(), back.trials()
        check(K, "round trip: searches, tasks, trials (arch and metrics dicts too) equal",
              lambda: (kb.searches.equals(back.searches), kb.tasks.equals(back.tasks),
                       t1.drop(columns=["arch", "metrics"]).equals(t2.drop(columns=["arch", "metrics"])),
                       list(t1["arch"]) == list(t2["arch"]), list(t1["metrics"]) == list(t2["metrics"])))
        check(K, "round trip: landmarks, similar_tasks, similar equal",
              lambda: (back.landmarks("nbg-cora") == kb.landmarks("nbg-cora"),
                       back.similar_tasks("nbg-cora")["task"].tolist() == kb.similar_tasks("nbg-cora")["task"].tolist(),
                       back.similar(a0, k=5)[["arch_id", "distance", "value"]].equals(kb.similar(a0, k=5)[["arch_id", "distance", "value"]])))
        check(K, "import_parquet the same file again: trials stored once",
              lambda: (len(back.import_parquet(path)), back.trials().shape[0] == t1.shape[0]))
        check(K, "import_parquet(prefix='x-'): twice the trials", lambda: (back.import_parquet(path, prefix="x-")[0], back.trials().shape[0] == 2 * t1.shape[0]))
        check(K, "import_(file, into=SQLite file), re-export: same rows",
              lambda: pd.read_parquet(KnowledgeBase.import_(path, into=str(workdir / "copy.db")).export(workdir / "copy.parquet")).shape
              == pd.read_parquet(path).shape)
    check(K, "import_(a SQLite file)", lambda: KnowledgeBase.import_(db), "refused")
    check(K, "import_(missing file)", lambda: KnowledgeBase.import_(workdir / "nope.parquet"), "refused")

    a, b = KnowledgeBase(db), KnowledgeBase(db)
    a7 = _nbg("cora").space.enumerate()[7]
    before = a.similar(a7, k=3, task="nbg-cora")["arch_id"].tolist()
    nasbook.Search(_nbg("cora"), strategy="random", budget=30, seed=329, kb=b, storage=db, name="cora-more").run(progress="none")
    check(K, "two objects on one file: A's repr and similar see B's new search",
          lambda: (repr(a) == repr(b), before, a.similar(a7, k=3, task="nbg-cora")["arch_id"].tolist(),
                   a.similar(a7, k=3, task="nbg-cora")["arch_id"].tolist() == KnowledgeBase(db).similar(a7, k=3, task="nbg-cora")["arch_id"].tolist()))

    for ws, expect in ((True, "ok"), (3, "ok"), (np.int64(2), "ok"), (500, "ok"), (False, "ok"), (None, "ok"),
                       (0, "refused"), (-1, "refused"), (2.0, "refused"), ("3", "refused")):
        def warm(ws: Any = ws) -> Any:
            s = nasbook.Search(_nbg("cs"), strategy="evolution", budget=8, seed=330, kb=a, warm_start=ws, storage=":memory:")
            s.run(progress="none")
            return {"trials": s.n_trials, "warm-started": sum("warm_start_rank" in t.attrs for t in s.trials)}
        check(K, f"Search(cs, kb=kb, warm_start={ws!r}, budget=8)", warm, expect)
    prior = check(K, "portfolio_prior(kb.trials(), arms=Portfolio().arm_names)", lambda: portfolio_prior(a.trials(), arms=Portfolio().arm_names))
    check(K, "portfolio_prior(..., budget=np.int64(10))", lambda: portfolio_prior(a.trials(), budget=np.int64(10)))
    check(K, "Search(strategy=Portfolio(prior=that), kb=kb)", lambda: nasbook.Search(_nbg("cs"), strategy=Portfolio(prior=prior, seed=331), budget=10, seed=331, kb=a, storage=":memory:").run(progress="none").best)
    check(K, "Portfolio(prior={'tpe': 1.0}) run", lambda: nasbook.Search(_nbg("cs"), strategy=Portfolio(prior={"tpe": 1.0}), budget=3, seed=332, storage=":memory:").run(progress="none"), "refused")
    s = nasbook.Search(_nbg("cs"), strategy="portfolio", budget=6, seed=333, kb=a, storage=":memory:")
    check(K, "strategy='portfolio' with kb=: the repr says '(from kb)'", lambda: ("(from kb)" in repr(s.strategy), repr(s.strategy)[:200]))


# ---------------------------------------------------------------------------------------- CLI
def _cli(*args: str) -> tuple[int, str, str]:
    r = subprocess.run([sys.executable, "-m", "nasbook", *args], capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def part_cli(workdir: Path, db: str | None) -> None:
    C = "cli"
    if db is None:  # the results part makes the store
        db = part_results(workdir)["db"]

    def run(args: list[str], want: int) -> Any:
        rc, out, err = _cli(*args)
        if rc != want:
            raise RuntimeError(f"exit {rc}, expected {want}: {(err or out).strip()[:300]}")
        return {"exit": rc, "stdout_lines": len(out.splitlines()), "last": (out.strip().splitlines() or [""])[-1][:160],
                "stderr": " ".join(err.split())[:240]}

    check(C, "nasbook --help", lambda: run(["--help"], 0))
    check(C, "nasbook list --storage results.db", lambda: run(["list", "--storage", db], 0))
    for name in ("flaky", "all-failed", "one-trial", "asha"):
        check(C, f"nasbook show {name}", lambda name=name: run(["show", name, "--storage", db], 0))
    check(C, "nasbook show (no name: the list)", lambda: run(["show", "--storage", db], 0))
    check(C, "nasbook show nope (exit 2)", lambda: run(["show", "nope", "--storage", db], 2))
    check(C, "nasbook list --storage missing.db (exit 2)", lambda: run(["list", "--storage", str(workdir / "missing.db")], 2))
    check(C, "nasbook list --storage a folder (exit 2)", lambda: run(["list", "--storage", str(workdir)], 2))
    parquet = workdir / "kb.parquet"
    if parquet.exists():
        check(C, "nasbook list --storage kb.parquet (not SQLite: exit 1)", lambda: run(["list", "--storage", str(parquet)], 1))
    check(C, "nasbook list --storage :memory:", lambda: run(["list", "--storage", ":memory:"], 0))


def part_report(workdir: Path) -> None:
    nb = ROOT / "tutorials" / "04_predicting_architecture_quality.ipynb"
    out = workdir / "report04"

    def go() -> Any:
        rc, o, e = _cli("report", str(nb), "-p", "sizes", "[20, 50]", "-p", "n_seeds", "2", "-p", "n_train", "30",
                        "-p", "budget", "20", "-p", "seed", "300", "-o", str(out))
        if rc != 0:
            raise RuntimeError(f"exit {rc}: {e.strip()[-300:]}")
        return sorted(p.name for p in out.iterdir()), " ".join(e.split())[:200]
    check("report", "nasbook report tutorials/04 -p sizes '[20, 50]' -p n_seeds 2 -p n_train 30 -p budget 20 -p seed 300", go)
    check("report", "nasbook report tutorials/04 -p n_seeds two (exit 2)",
          lambda: (lambda r: r[0] if r[0] == 2 else (_ for _ in ()).throw(RuntimeError(f"exit {r[0]}")))(
              _cli("report", str(nb), "-p", "n_seeds", "two", "-o", str(workdir / "report04b"))))


# ---------------------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    ap.add_argument("--json", help="write every check's record here")
    ap.add_argument("--workdir", help="keep the stores and files here (default: a temporary folder, removed)")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import metadata

    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        ap.error(f"unknown parts {unknown}; choose among {', '.join(PARTS)}")
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="nasbook-probe3-"))
    workdir.mkdir(parents=True, exist_ok=True)
    meta = metadata()
    print(f"# {meta['command']}\n# {meta['date_utc']}; nasbook at {meta['package']}; load average {meta['machine']['loadavg_at_start']}", flush=True)
    t0 = time.perf_counter()
    db = None
    try:
        for part in parts:
            t = time.perf_counter()
            if part == "predictor":
                part_predictor()
            elif part == "evaluate":
                part_evaluate()
            elif part == "results":
                db = part_results(workdir)["db"]
            elif part == "kb":
                part_kb(workdir)
            elif part == "cli":
                part_cli(workdir, db)
            elif part == "report":
                part_report(workdir)
            print(f"# part {part}: {time.perf_counter() - t:.1f} s", flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    counts = {k: sum(1 for r in RESULTS.values() if r["flag"] == k) for k in ("", "MISMATCH", "RAW")}
    print(f"# {len(RESULTS)} checks in {time.perf_counter() - t0:.0f} s: {counts['']} as a user should get, "
          f"{counts['MISMATCH']} MISMATCH, {counts['RAW']} RAW", flush=True)
    for k, r in RESULTS.items():
        if r["flag"]:
            print(f"#   {r['flag']}: {k}: {r.get('error') or r.get('saw')}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"meta": meta, "checks": RESULTS}, indent=1, default=str))
        print(f"# wrote {args.json}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
