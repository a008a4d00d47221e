"""Outside-evaluator probe 14: does every capability issues 9 (Predictor, ``strategy="bo"``, OptunaSampler) and
11 (KnowledgeBase, similarity, warm starts, Portfolio, run fingerprints, display) promise in their "Build" lists
exist, work end to end and say what it promises?

Written from the public API and its docs only (docstrings, README, tutorials 04 and 06), on small data
(NAS-Bench-Graph tables through ``nasbook.tasks.NasBenchGraph``, ``DigitsTable``, a few real ``Digits`` trainings),
with tiny budgets. Bad input (probe 12) and the KnowledgeBase's bad files (probe 13) are not repeated. Each check
prints PASS or FAIL with the figure it saw; ``--json FILE`` writes every record (``status`` ok = PASS, defect =
FAIL).

Parts (all by default; ``--parts predictor,bo,kb,fingerprint,display``):

``predictor``   issue 9 items 1-4: the scikit-learn mould (fit returns self, learned state ends in ``_``, predict
                gives ``mean`` and ``std`` over ``arch``, score is Kendall tau, unfitted use refused, rich repr
                with a plot once scored, ``fit_search``); graph features in every built-in space's encode API,
                versioned (a version bump refuses a fitted model); every surrogate family fits with a spread and
                a measured coverage; ``evaluate`` with baselines and its plot.
``bo``          issue 9 items 5-6: ``strategy="bo"`` with no repeats, batch proposals (asked, not told), exact
                resume, its cost in ``timings_`` and its repr; ``OptunaSampler`` with TPE and Optuna's random sampler.
``kb``          issue 11 items 1-6: store and tables, PostgreSQL (a throwaway server), FAISS index by size, exactly
                k neighbours after filters, an encoding version bump re-indexes, task similarity with ``why``,
                ``cluster_tasks``, warm-start provenance in repr and results, the transfer prior ``bo`` uses,
                Portfolio rewards and KB priors.
``fingerprint`` issue 11 item 7: fingerprints stored with trials, runs at a huge learning rate flagged, and
                ``FingerprintStopping`` able to stop them.
``display``     issue 11 item 8: the KB's repr (counts per task and space, best per task), task map and
                neighbourhood plots; both tutorials present and executed by the tests.

    export PYTHONPATH=$PWD OMP_NUM_THREADS=1
    nice -n 5 python benchmarks/outside_probe14.py --json bench-results/probe14.json [--quick]
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Wrong, same  # noqa: E402

PARTS = ("predictor", "bo", "kb", "fingerprint", "display")
RESULTS: dict[str, dict[str, Any]] = {}
QUICK = False
#: checks that fail for a reason judged a design change, left as found (docs/benchmarks.md, probe 14's section)
KNOWN: dict[str, str] = {}
# Until branch h-fprisk "fingerprint: divergence_risk / flag_divergence: runs at lr=1e3 that diverged score above the
# healthy ones" was KNOWN here: divergence_risk scaled each entry by its std among all past runs, which the two runs
# stopped at step 1 (loss peaks 18 and 39) inflated, so the run that blew up over 17 steps lay nearer the healthy
# ones. Entries are now compressed (sign * log1p) and scaled by the runs that did not diverge; it passes.
# Until branch h-health a second check was KNOWN here, "a COMPLETE run's training loss ended below 10 times its first
# step's": HealthCheck's reference was the first epoch's mean loss, which held a blow-up inside epoch 0. It passes.
ROOT = Path(__file__).resolve().parent.parent


def check(part: str, name: str, fn: Any) -> Any:
    """Run ``fn`` (which returns the figure it saw, or raises); print PASS / FAIL with that figure."""
    import time
    import traceback
    import warnings

    key = f"{part}: {name}"
    t0 = time.perf_counter()
    value = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn()
            rec: dict[str, Any] = {"outcome": "ok", "status": "ok", "why": "", "saw": " ".join(repr(value).split())[:300]}
        except Exception as exc:  # noqa: BLE001 - the probe records every failure
            rec = {"outcome": "wrong" if isinstance(exc, Wrong) else "raised", "status": "defect",
                   "why": "wrong answer" if isinstance(exc, Wrong) else "raised",
                   "error": f"{type(exc).__name__}: {str(exc)[:400]}"}
            if not isinstance(exc, Wrong):
                rec["traceback"] = traceback.format_exc(limit=-8)[-3000:]
    rec["warnings"] = sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught
                              if not issubclass(w.category, (DeprecationWarning, FutureWarning))})
    rec["wall_s"] = round(time.perf_counter() - t0, 3)
    if rec["status"] != "ok" and key in KNOWN:
        rec["status"], rec["why"] = "known", f"{rec['why']}; known: {KNOWN[key]}"
    RESULTS[key] = rec
    said = rec.get("saw") if rec["status"] == "ok" else rec["error"]
    label = {"ok": "PASS", "known": "KNOWN (left as found)", "defect": "FAIL"}[rec["status"]]
    print(f"{label} [{part}] {name}: {str(said)[:220]}", flush=True)
    return value


def need(cond: Any, msg: str) -> None:
    if not cond:
        raise Wrong(msg)


def _nbg(dataset: str = "cora") -> Any:
    from nasbook.tasks import NasBenchGraph

    return NasBenchGraph(dataset)


def _split(task: Any, n_train: int, n_test: int, seed: int = 0) -> tuple[list[Any], Any, list[Any], Any]:
    import numpy as np

    truth = task.ground_truth()
    archs = task.space.enumerate()
    y = truth["value"].values
    fin = np.flatnonzero(np.isfinite(y))
    order = fin[np.random.default_rng(seed).permutation(len(fin))]
    tr, te = order[:n_train], order[n_train:n_train + n_test]
    return [archs[i] for i in tr], y[tr], [archs[i] for i in te], y[te]


# --------------------------------------------------------------------------------------------------- predictor

def part_predictor(workdir: Path) -> None:
    import numpy as np
    from scipy import stats

    import nasbook
    from nasbook import Predictor
    from nasbook.predictors import available_predictors, evaluate

    P = "predictor"
    task = _nbg("cora")
    xtr, ytr, xte, yte = _split(task, 60, 400)

    def mould() -> str:
        p = Predictor(seed=0)
        before = set(vars(p))
        got = p.fit(xtr, ytr)
        need(got is p, "fit did not return self")
        new = set(vars(p)) - before
        bad = sorted(a for a in new if not a.endswith("_") and not a.startswith("_"))  # scikit-learn's rule
        need(not bad, f"public state learned by fit without a trailing _: {bad}")
        need(p.n_train_ == len(xtr), f"n_train_ {p.n_train_}")
        return f"fit returns self; {sum(a.endswith('_') for a in new)} learned public attributes, all ending in _"
    check(P, "Predictor().fit(archs, scores) returns self; learned state ends in _", mould)
    pred = Predictor(seed=0).fit(xtr, ytr)

    def predict() -> str:
        ds = pred.predict(xte[:50])
        need(set(ds.data_vars) >= {"mean", "std"}, f"variables {list(ds.data_vars)}")
        need(ds["mean"].dims == ("arch",) and ds["std"].dims == ("arch",), f"dims {ds['mean'].dims}")
        need(list(ds["arch"].values) == [a.id for a in xte[:50]], "arch coordinate is not the ids asked")
        s = ds["std"].values
        need(np.all(np.isfinite(s)) and np.all(s > 0), f"std min {np.nanmin(s)}")
        return f"Dataset mean/std over arch ({ds.sizes['arch']}); std {s.min():.4f}..{s.max():.4f}"
    check(P, "predict(archs) -> xarray Dataset with mean and std over dim arch", predict)

    def score() -> str:
        tau = pred.score(xte, yte)
        m = pred.predict(xte)["mean"].values
        want = stats.kendalltau(m, yte).statistic
        need(abs(tau - want) < 1e-9, f"score {tau} != scipy Kendall tau {want}")
        need({"coverage_68", "coverage_95"} <= set(pred.scores_), f"scores_ {sorted(pred.scores_)}")
        return f"tau {tau:.3f} (scipy {want:.3f}); coverage_68 {pred.scores_['coverage_68']:.2f}"
    check(P, "score(archs, scores) is Kendall tau by default (as scipy's)", score)

    def unfitted() -> str:
        try:
            Predictor().predict(xte[:3])
        except nasbook.NotFittedError as exc:
            need("fit" in str(exc), f"message: {exc}")
            return str(exc)[:120]
        raise Wrong("predict before fit answered")
    check(P, "predict before fit raises NotFittedError naming fit", unfitted)

    def rich_repr() -> str:
        p = Predictor(seed=0).fit(xtr, ytr)
        b0 = p._repr_mimebundle_()
        h0 = b0.get("text/html", "")
        need("<svg" not in h0 and "<img" not in h0, "a plot before scoring")
        p.score(xte, yte)
        b = p._repr_mimebundle_()
        text = b.get("text/plain", "") + b.get("text/html", "")
        for w in ("60", "graf", "kendall"):
            need(w in text.lower(), f"repr lacks {w!r}")
        need("<svg" in b.get("text/html", "") or "<img" in b.get("text/html", ""), "no predicted-vs-true plot once scored")
        return f"html {len(b['text/html'])} chars: model, 60 trained, graf, kendall, a plot"
    check(P, "rich repr: model, training size, features, last scores, a plot once scored", rich_repr)

    def fit_search() -> str:
        s = nasbook.Search(task, strategy="random", budget=25, seed=3, storage=":memory:").run(progress="none")
        p = Predictor(model="random-forest", seed=0).fit_search(s)
        need(p.n_train_ == 25, f"n_train_ {p.n_train_}")
        return f"n_train_ {p.n_train_}"
    check(P, "Predictor().fit_search(search) fits the search's trials", fit_search)

    names = available_predictors()
    check(P, "available_predictors() lists GP, forests, boosted trees, MLP ensemble, ensemble",
          lambda: (need(all(any(k in n for n in names) for k in ("gp", "forest", "extra", "gb", "mlp", "ensemble")),
                        f"{names}"), names)[1])

    def features() -> str:
        from nasbook.space import ChainSpace, GraphSpace

        out = []
        for sp in (GraphSpace(), ChainSpace(kind="mlp"), task.space, nasbook.tasks.DigitsTable().space,
                   nasbook.tasks.MNIST1DTable().space):
            need("graf" in sp.encodings, f"{type(sp).__name__} lacks graf: {sp.encodings}")
            a = sp.sample(np.random.default_rng(0))
            v = sp.encode(a, "graf")
            need(len(v) == sp.encoding_size("graf") == len(sp.feature_names("graf")), "encoding size disagrees")
            ver = sp.encoding_version("graf")
            need(ver.startswith("graf/"), ver)
            out.append(f"{type(sp).__name__}:{len(v)}")
        return ", ".join(out)
    check(P, "graph features ('graf') in every built-in space's encode API, versioned", features)

    def version_bump() -> str:
        p = Predictor(model="random-forest", seed=0).fit(xtr, ytr)
        cls = type(task.space)
        old = dict(cls.ENCODING_VERSIONS)
        cls.ENCODING_VERSIONS = {**old, "graf": int(old["graf"]) + 1}
        try:
            p.predict(xte[:3])
        except nasbook.NasbookError as exc:
            need("encoding" in str(exc), str(exc))
            return str(exc)[:160]
        finally:
            cls.ENCODING_VERSIONS = old
        raise Wrong("a model fitted on graf/v predicted on graf/v+1")
    check(P, "a fitted model refuses a space whose encoding version changed", version_bump)


    def pickled() -> str:
        p = Predictor(model="random-forest", seed=0).fit(xtr, ytr)
        q = pickle.loads(pickle.dumps(p))
        same(q.predict(xte[:20])["mean"].values.tolist(), p.predict(xte[:20])["mean"].values.tolist(), "means")
        cls = type(task.space)
        old = dict(cls.ENCODING_VERSIONS)
        cls.ENCODING_VERSIONS = {**old, "graf": int(old["graf"]) + 1}
        try:
            q.predict(xte[:3])
        except nasbook.NasbookError as exc:
            return f"same means after pickling; after a bump: {str(exc)[:100]}"
        finally:
            cls.ENCODING_VERSIONS = old
        raise Wrong("a stored model predicted on another encoding version")
    check(P, "a stored (pickled) model predicts the same, and tells it was fitted on another encoding", pickled)

    def sk_params() -> str:
        from nasbook.predictors import get_predictor

        p = Predictor(model="gp", seed=3)
        c = p.clone() if hasattr(p, "clone") else None
        need(c is not None and c.get_params() == p.get_params(), "clone")
        p.set_params(model="extra-trees")
        same(p.get_params()["model"], "extra-trees", "set_params")
        p.fit(xtr, ytr)
        return f"get/set_params, clone; {get_predictor('gp')!r}"[:160]
    check(P, "get_params / set_params / clone as in scikit-learn", sk_params)

    def other_spaces() -> str:
        from nasbook.tasks import DigitsTable, MNIST1DTable

        out = []
        for t in (DigitsTable(), MNIST1DTable()):
            a, y, b, z = _split(t, 40, 80)
            p = Predictor(seed=0).fit(a, y)
            tau = p.score(b, z)
            need(np.isfinite(tau), f"tau {tau}")
            out.append(f"{t.name}: {p.features_} tau {tau:.2f}")
        return "; ".join(out)
    check(P, "Predictor() default fits and scores on a cell table and a chain table", other_spaces)

    fams = [n for n in ("gp", "random-forest", "extra-trees", "gbt", "mlp", "ensemble") if n in names]
    for name in fams:
        def fam(name: str = name) -> str:
            p = Predictor(model=name, seed=0).fit(xtr, ytr)
            tau = p.score(xte[:200], yte[:200])
            s = p.predict(xte[:50])["std"].values
            need(np.all(np.isfinite(s)) and np.all(s > 0), f"std {s[:5]}")
            c68, c95 = p.scores_["coverage_68"], p.scores_["coverage_95"]
            need(np.isfinite(c68) and np.isfinite(c95) and c68 <= c95, f"coverage {c68} {c95}")
            return f"tau {tau:.3f}, coverage 68% {c68:.2f}, 95% {c95:.2f}"
        check(P, f"Predictor(model={name!r}): fits, spread > 0, 68%/95% coverage measured", fam)

    def calib() -> str:
        c = pred.scores_["coverage_68"], pred.scores_["coverage_95"]
        need(0.45 <= c[0] <= 0.9 and 0.75 <= c[1] <= 1.0, f"coverage {c}")
        return f"68% covers {c[0]:.2f}, 95% covers {c[1]:.2f} of 400 held out (60 trained)"
    check(P, "Predictor() default: 68% and 95% intervals roughly calibrated on held-out archs", calib)

    def harness() -> Any:
        ds = evaluate("random-forest", task, n_train=[20, 40], seeds=2, n_test=200, progress="none")
        want = {"kendall_tau", "spearman", "top_k_overlap", "coverage_68", "coverage_95"}
        need(want <= set(ds.data_vars), f"variables {sorted(ds.data_vars)}")
        times = [v for v in ds.data_vars if v in ("fit_s", "predict_s")]
        need(len(times) >= 2, f"no fit/predict times: {sorted(ds.data_vars)}")
        preds = [str(p) for p in ds["predictor"].values]
        need("#params" in preds and any("onehot" in p for p in preds), f"baselines {preds}")
        need(set(ds["n_train"].values.tolist()) == {20, 40} and ds.sizes["seed"] == 2, f"{dict(ds.sizes)}")
        return ds
    scores = check(P, "evaluate(): tau, spearman, top-k, coverage, times vs n_train with #params and one-hot GBT", harness)

    def ceiling() -> str:
        from nasbook.tasks import DigitsTable

        ds = evaluate("random-forest", DigitsTable(), n_train=[20], seeds=1, progress="none")
        keys = [k for k in list(ds.attrs) + list(ds.data_vars) if "ceiling" in k or "noise" in k]
        need(keys, f"no noise ceiling on DigitsTable (3 training seeds per cell): attrs {sorted(ds.attrs)}")
        return f"{keys}"
    check(P, "evaluate() gives the task's noise ceiling where it has one (DigitsTable)", ceiling)

    def plot() -> str:
        import holoviews as hv

        import nasbook.viz as viz
        need(scores is not None, "no evaluate result")
        obj = viz.plot_predictor_scores(scores, metric="kendall_tau")
        need(isinstance(obj, hv.core.Dimensioned), type(obj))
        return type(obj).__name__
    check(P, "viz.plot_predictor_scores(evaluate(...)) draws", plot)


# --------------------------------------------------------------------------------------------------- bo

def part_bo(workdir: Path) -> None:
    import numpy as np

    import nasbook
    from nasbook import load_search
    from nasbook.strategies import BO, OptunaSampler, Proposal, clone
    from nasbook.trial import Trial, TrialState

    B = "bo"
    task = _nbg("citeseer")
    n = 16 if QUICK else 24

    def run_bo() -> str:
        s = nasbook.Search(task, strategy="bo", budget=n, seed=0, storage=":memory:").run(progress="none")
        ids = [t.arch.id for t in s.trials]
        need(len(ids) == n == len(set(ids)), f"{len(ids)} trials, {len(set(ids))} distinct")
        return f"{n} trials, all distinct; best {s.best.value:.4f}"
    check(B, "Search(strategy='bo') runs and never repeats an architecture", run_bo)

    def batch() -> str:
        truth = task.ground_truth()["value"].to_series()
        st = BO(seed=0)
        st.setup(task.space, seed=0, mode="max")
        told = []
        for i in range(12):
            a = st.ask()
            a = a.arch if isinstance(a, Proposal) else a
            st.tell(Trial(i, a, TrialState.COMPLETE, float(truth[a.id]), n_told_before=i))
            told.append(a.id)
        pend = []
        for _ in range(4):
            a = st.ask()
            a = a.arch if isinstance(a, Proposal) else a
            need(a is not None and hasattr(a, "id"), f"asked {a!r}")
            pend.append(a.id)
        need(len(set(pend)) == 4 and not set(pend) & set(told), f"batch {pend} vs told")
        return f"4 pending proposals after 12 told, all distinct and new: {pend}"
    check(B, "BO: 4 asks without tells (a parallel batch) give 4 distinct new architectures", batch)

    def resume() -> str:
        db = workdir / "bo-resume.db"
        whole = nasbook.Search(task, strategy="bo", budget=n, seed=5, storage=":memory:").run(progress="none")
        nasbook.Search(task, strategy="bo", budget=n // 2 + 1, seed=5, storage=str(db), name="r").run(progress="none").close()
        s = load_search("r", storage=str(db), budget=n)
        s.run(progress="none")
        a, b = [t.arch.id for t in whole.trials], [t.arch.id for t in s.trials]
        same(b, a, "resumed vs uninterrupted")
        return f"{n} trials identical after resuming at {n // 2 + 1}"
    check(B, "BO resumes exactly: stopped and loaded = uninterrupted", resume)

    def cost() -> str:
        st = BO(seed=0)
        s = nasbook.Search(task, strategy=st, budget=14, seed=0, storage=":memory:").run(progress="none")
        tm = s.strategy.timings_
        need(len(tm) >= 3 and all(len(r) == 3 and r[1] >= 0 and r[2] >= 0 for r in tm), f"timings_ {tm}")
        r = repr(s.strategy)
        need("ms_per_ask" in r and "n_fits" in r, r[-200:])
        return f"{len(tm)} timed asks; {r[r.index('n_fits'):][:40]}"
    check(B, "BO measures its own cost: timings_ (n_told, fit_s, acquisition_s) and ms per ask in repr", cost)

    def cloned() -> str:
        st = BO(seed=1, acquisition="ucb")
        c = clone(st)
        same(c.get_params(), st.get_params(), "params")
        pickle.loads(pickle.dumps(st))
        return "clone keeps params; pickles"
    check(B, "BO clones and pickles (strategy contract)", cloned)

    def optuna_tpe() -> str:
        import optuna

        sampler = optuna.samplers.TPESampler(seed=0, n_startup_trials=5)
        s = nasbook.Search(task, strategy=OptunaSampler(sampler), budget=14, seed=0, storage=":memory:").run(progress="none")
        ids = [t.arch.id for t in s.trials]
        need(len(ids) == 14 == len(set(ids)), f"{len(ids)} trials, {len(set(ids))} distinct")
        need("TPESampler" in repr(s.strategy) or "TPE" in repr(s), repr(s.strategy)[:200])
        return f"14 distinct trials; {repr(s.strategy)[:80]}"
    check(B, "OptunaSampler(optuna TPESampler) runs in nasbook's loop and repr", optuna_tpe)

    def optuna_random_table() -> str:
        import optuna

        from nasbook.tasks import DigitsTable

        s = nasbook.Search(DigitsTable(), strategy=OptunaSampler(optuna.samplers.RandomSampler(seed=0)), budget=10,
                           seed=0, storage=str(workdir / "optuna.db"), name="o").run(progress="none")
        s.close()
        back = load_search("o", storage=str(workdir / "optuna.db"))
        need(back.n_trials == 10, f"{back.n_trials}")
        return f"10 trials stored and loaded; {type(back.strategy).__name__}"
    check(B, "OptunaSampler(RandomSampler) on DigitsTable: stored, loaded back", optuna_random_table)

    def acquisitions() -> str:
        out = []
        for acq in ("ucb", "ts"):
            s = nasbook.Search(task, strategy=BO(acquisition=acq, n_initial=5), budget=10, seed=1, storage=":memory:").run(progress="none")
            ids = [t.arch.id for t in s.trials]
            need(len(set(ids)) == 10, f"{acq}: {len(set(ids))} distinct")
            out.append(f"{acq} {s.best.value:.3f}")
        return ", ".join(out)
    check(B, "BO(acquisition='ucb' / 'ts') run without repeats", acquisitions)

    def liars() -> str:
        truth = task.ground_truth()["value"].to_series()
        out = []
        for liar in ("min", "max", "mean"):
            st = BO(seed=0, liar=liar, n_initial=5)
            st.setup(task.space, seed=0, mode="max")
            for i in range(6):
                a = st.ask()
                a = a.arch if isinstance(a, Proposal) else a
                st.tell(Trial(i, a, TrialState.COMPLETE, float(truth[a.id]), n_told_before=i))
            pend = []
            for _ in range(5):
                a = st.ask()
                pend.append((a.arch if isinstance(a, Proposal) else a).id)
            need(len(set(pend)) == 5, f"liar={liar}: {pend}")
            out.append(liar)
        return f"5 distinct pending proposals with liar {out}"
    check(B, "BO batch proposals distinct with every liar (min / max / mean)", liars)

    def exhaust() -> str:
        from nasbook.space import GraphSpace, SubsetSpace
        from nasbook.testing import ToyTask

        g = GraphSpace()
        sub = SubsetSpace(g, [g.sample(np.random.default_rng(i)) for i in range(12)])
        n_members = len(sub.enumerate())
        s = nasbook.Search(sub, ToyTask(sub), strategy=BO(n_initial=3), budget=n_members + 4, seed=0,
                           storage=":memory:").run(progress="none")
        ids = [t.arch.id for t in s.trials]
        need(len(ids) == len(set(ids)) == n_members, f"{len(ids)} trials, {len(set(ids))} distinct of {n_members}")
        return f"all {n_members} members once, then stopped"
    check(B, "BO on a 12-architecture space with budget 16: every member once, no repeat", exhaust)

    def bo_chain_table() -> str:
        from nasbook.tasks import MNIST1DTable

        s = nasbook.Search(MNIST1DTable(), strategy="bo", budget=14, seed=0, storage=":memory:").run(progress="none")
        ids = [t.arch.id for t in s.trials]
        need(len(set(ids)) == 14, f"{len(set(ids))} distinct")
        return f"14 distinct; best {s.best.value:.3f}"
    check(B, "strategy='bo' on a chain table (MNIST1DTable): no repeats", bo_chain_table)

    def resume_optuna() -> str:
        import optuna

        db = workdir / "tpe-resume.db"
        mk = lambda: OptunaSampler(optuna.samplers.TPESampler(seed=0, n_startup_trials=4))  # noqa: E731
        whole = nasbook.Search(task, strategy=mk(), budget=12, seed=2, storage=":memory:").run(progress="none")
        nasbook.Search(task, strategy=mk(), budget=6, seed=2, storage=str(db), name="t").run(progress="none").close()
        try:
            load_search("t", storage=str(db), budget=12)
        except nasbook.SearchNotResumableError as exc:
            need("strategy=" in str(exc), str(exc))
        s = load_search("t", storage=str(db), budget=12, strategy=mk())
        s.run(progress="none")
        same([t.arch.id for t in s.trials], [t.arch.id for t in whole.trials], "resumed vs uninterrupted")
        return "a sampler instance is not stored: load_search says strategy=...; with it, 12 trials as uninterrupted"
    check(B, "OptunaSampler(TPE) resumed (load_search(strategy=...)) = uninterrupted", resume_optuna)


# --------------------------------------------------------------------------------------------------- kb

def _fill(kb: Any, datasets: tuple[str, ...], budget: int) -> None:
    import nasbook

    for d in datasets:
        nasbook.Search(_nbg(d), strategy="random", budget=budget, seed=1000, kb=kb, name=f"{d}-random").run(progress="none")


def part_kb(workdir: Path) -> None:
    import numpy as np
    import pandas as pd
    import xarray as xr

    import nasbook
    from nasbook import KnowledgeBase
    from nasbook.knowledge import ArchIndex, nbg_meta_features, sync_index
    from nasbook.strategies import Portfolio, portfolio_prior

    K = "kb"
    datasets = ("cora", "citeseer", "pubmed", "computers")
    budget = 20 if QUICK else 30
    db = workdir / "kb.db"
    kb = KnowledgeBase(db)
    _fill(kb, datasets, budget)

    def store() -> str:
        need(len(kb.searches) == len(datasets), f"searches {len(kb.searches)}")
        need(len(kb.tasks) == len(datasets), f"tasks {len(kb.tasks)}")
        t = kb.trials()
        need(isinstance(t, pd.DataFrame) and len(t) == budget * len(datasets), f"trials {len(t)}")
        x = kb.to_xarray()
        need(isinstance(x, xr.Dataset), type(x))
        return f"{len(kb.searches)} searches, {len(kb.tasks)} tasks, {len(t)} trials; to_xarray {dict(x.sizes)}"
    check(K, "Search(kb=kb) records; kb.searches / tasks / trials() / to_xarray()", store)

    def parquet() -> str:
        back = KnowledgeBase.import_(kb.export(workdir / "kb.parquet"))
        same(len(back.trials()), len(kb.trials()), "trials")
        return f"{len(back.trials())} trials back"
    check(K, "export to Parquet, import_ back", parquet)

    check(K, "PostgreSQL: a throwaway server records searches, similar() and warm_start answer", lambda: _postgres(workdir))

    space = _nbg("cora").space
    rng = np.random.default_rng(0)

    def index_by_size() -> str:
        archs = [space.sample(rng) for _ in range(400)]
        small = ArchIndex(space).add(archs[:50])
        big = ArchIndex(space, exact_max=100).add(archs)
        hn = ArchIndex(space, method="hnsw").add(archs)
        kinds = [type(i._index).__name__ if hasattr(i, "_index") else repr(i) for i in (small, big, hn)]
        r = [repr(i) for i in (small, big, hn)]
        need("flat" in r[0].lower() and "ivf" in r[1].lower() and "hnsw" in r[2].lower(), f"{r}")
        q = archs[7]
        exact = set(ArchIndex(space, method="flat").add(archs).similar(q, k=10)["arch_id"])
        got = set(big.similar(q, k=10)["arch_id"])
        return f"{r}; IVF recall@10 {len(exact & got) / 10:.1f}; {kinds}"
    check(K, "ArchIndex chosen by size: exact for small, IVF above exact_max; HNSW on request", index_by_size)

    cora = kb.trials(task="nbg-cora")
    recorded = set(cora["arch_id"])
    m = len(recorded)
    q = next(a for a in space.enumerate()[::97] if a.id not in set(kb.trials()["arch_id"]))
    for label, k, want in (("k < recorded", 5, 5), ("k = recorded", m, m), ("k > recorded", m + 7, m)):
        def exact_k(k: int = k, want: int = want) -> str:
            df = kb.similar(q, k=k, task="nbg-cora")
            same(len(df), want, f"rows for k={k} with {m} recorded on nbg-cora")
            need(set(df["arch_id"]) <= recorded and df["value"].notna().all(), "rows not of nbg-cora, or without values")
            need(list(df["distance"]) == sorted(df["distance"]), "not nearest first")
            return f"k={k}: {len(df)} rows, values {df['value'].min():.3f}..{df['value'].max():.3f}"
        check(K, f"similar(arch, k, task='nbg-cora'), {label} ({m} recorded): exactly min(k, {m}) rows with scores", exact_k)

    def exact_k_recorded() -> str:
        a = space.make(**cora["arch"].iloc[0])
        df = kb.similar(a, k=m, task="nbg-cora")
        same(len(df), m - 1, "rows (the query itself left out)")
        return f"{len(df)} rows for k={m}: all others"
    check(K, "similar(a recorded arch, k=all on task): every other one, itself left out", exact_k_recorded)

    def exact_k_no_task() -> str:
        df = kb.similar(q, k=6)
        same(df["arch_id"].nunique(), 6, "distinct neighbours without task filter")
        return f"6 neighbours over {len(df)} (neighbour, task) rows"
    check(K, "similar(arch, k=6) without task: exactly 6 distinct neighbours (long form)", exact_k_no_task)

    def exact_k_proteins_filter() -> str:
        # a task of another space: the filter leaves none of this space
        try:
            df = kb.similar(q, k=3, task="no-such-task")
        except nasbook.NasbookError as exc:
            return f"refused: {str(exc)[:120]}"
        same(len(df), 0, "rows")
        return "0 rows"
    check(K, "similar(arch, k, task=a task never recorded): none or refused", exact_k_proteins_filter)

    def persisted() -> str:
        import subprocess

        want = kb.similar(q, k=5, task="nbg-cora")["arch_id"].tolist()
        folder = db.with_name(db.name + ".similar")
        files = sorted(folder.glob("*")) if folder.exists() else []
        need(files, f"no saved index next to the store ({folder})")
        code = ("import sys, json; from nasbook import KnowledgeBase; from nasbook.tasks import NasBenchGraph\n"
                "kb = KnowledgeBase(sys.argv[1]); a = NasBenchGraph('cora').space.make(**json.loads(sys.argv[2]))\n"
                "print(','.join(kb.similar(a, k=5, task='nbg-cora')['arch_id']))\n")
        import json

        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))

        def other() -> list[str]:
            p = subprocess.run([sys.executable, "-c", code, str(db), json.dumps(q.spec)], env=env, capture_output=True,
                               text=True, timeout=300)
            if p.returncode:
                raise Wrong(p.stderr.strip().splitlines()[-1][:300])
            return p.stdout.strip().split(",")
        same(other(), want, "a new process with the saved index")
        for f in files:
            f.write_bytes(b"not an index" * 10)
        same(other(), want, "a new process after the saved files were overwritten with garbage")
        for f in folder.glob("*"):
            f.unlink()
        same(other(), want, "a new process after the saved files were deleted")
        return f"{len(files)} saved file(s) in {folder.name}; same 5 neighbours saved, garbled and deleted"
    check(K, "the similar() index is persisted next to the store and rebuilt transparently (new processes)", persisted)

    def bump() -> str:
        before = kb.similar(q, k=5, task="nbg-cora")
        old_bytes = sync_index(kb.trials(), space)[0].to_bytes()
        cls = type(space)
        old = dict(cls.ENCODING_VERSIONS)
        cls.ENCODING_VERSIONS = {**old, "graf": int(old["graf"]) + 1}
        try:
            idx, changed = sync_index(kb.trials(), space, old_bytes)
            need(changed and idx.encoding_version == space.encoding_version("graf"), f"changed={changed}, {idx!r}")
            stale = ArchIndex.from_bytes(old_bytes)
            need(stale.is_stale(space), "the old index does not know it is stale")
            after = kb.similar(q, k=5, task="nbg-cora")
            same(after["arch_id"].tolist(), before["arch_id"].tolist(), "neighbours after the bump")
            fresh = KnowledgeBase(db).similar(q, k=5, task="nbg-cora")  # a new object: the saved index is stale
            same(fresh["arch_id"].tolist(), before["arch_id"].tolist(), "neighbours from a new KnowledgeBase")
            try:
                stale.add([space.sample(rng)])
            except Exception as exc:  # noqa: BLE001
                mixed = f"refused ({type(exc).__name__})"
            else:
                raise Wrong("a stale index accepted vectors of the new layout")
        finally:
            cls.ENCODING_VERSIONS = old
        return f"rebuilt to {idx.encoding_version}; same 5 neighbours; old index {mixed}"
    check(K, "an encoding version bump re-indexes (sync_index, kb.similar, a new kb) and never mixes", bump)

    new_task = _nbg("photo")

    def index_follows() -> str:
        n0 = len(kb.similar(q, k=10_000, task="nbg-cora"))
        nasbook.Search(_nbg("cora"), strategy="random", budget=5, seed=77, kb=kb, name="cora-more").run(progress="none")
        n1 = len(kb.similar(q, k=10_000, task="nbg-cora"))
        want = kb.trials(task="nbg-cora")["arch_id"].nunique() - (q.id in set(kb.trials(task="nbg-cora")["arch_id"]))
        same(n1, want, "neighbours after 5 more trials")
        need(n1 > n0, f"{n0} -> {n1}")
        return f"{n0} -> {n1} neighbours on nbg-cora after a search of 5 more"
    check(K, "kb.similar follows trials recorded after its index was built (same object)", index_follows)

    def adjacency_kind() -> str:
        df = kb.similar(q, k=7, task="nbg-cora", kind="adjacency")
        same(len(df), 7, "rows")
        return f"7 rows, distances {df['distance'].min():.2f}..{df['distance'].max():.2f}"
    check(K, "similar(kind='adjacency'): exactly k rows too", adjacency_kind)

    def warm_more_than_budget() -> str:
        s = nasbook.Search(new_task, strategy="evolution", budget=3, seed=8, kb=kb, warm_start=10, name="photo-short")
        s.run(progress="none")
        ranks = [t.attrs.get("warm_start_rank") for t in s.trials]
        same(ranks, [0, 1, 2], "warm_start_rank of a 3-trial search with warm_start=10")
        need("(3 tried)" in repr(s) or "warm-started with 3" in repr(s), f"the repr claims more warm starts than ran: {s!r}")
        return f"{ranks}; {s!r}"[:150]
    check(K, "warm_start=10 in a budget of 3: the 3 best warm starts, ranks 0-2, and the repr says 3 ran", warm_more_than_budget)


    for d in datasets:
        kb.add_task_meta(_nbg(d), meta_features=nbg_meta_features(d))

    def task_sim() -> Any:
        probes = kb.probes(8)
        kb.measure_landmarks(new_task, probes=probes)
        near = kb.similar_tasks(new_task, k=3)
        same(len(near), 3, "rows")
        need({"task", "distance", "landmark_rho", "why"} <= set(near.columns), f"columns {list(near.columns)}")
        need(any(c.startswith("meta:") for c in near.columns), "no meta:<feature> columns")
        need(all(isinstance(w, str) and len(w) > 10 for w in near["why"]), f"why {near['why'].tolist()}")
        need(list(near["distance"]) == sorted(near["distance"]), "not nearest first")
        return f"{near['task'].tolist()}; why[0] = {near['why'].iloc[0][:120]!r}"
    check(K, "similar_tasks(new task, k=3) with landmarks and meta-features says why", task_sim)

    def clusters() -> str:
        c = kb.cluster_tasks()
        need({"task", "cluster"} <= set(c.columns), list(c.columns))
        need(set(c["task"]) >= {f"nbg-{d}" for d in datasets}, f"{c['task'].tolist()}")
        return f"{len(c)} tasks in {c['cluster'].nunique()} clusters"
    check(K, "cluster_tasks() groups every recorded task", clusters)

    def tasks_k() -> str:
        near = kb.similar_tasks(new_task, k=50)
        n_other = len(kb.tasks) - (1 if "nbg-photo" in set(kb.tasks["task"]) else 0)
        need(len(near) <= n_other and "nbg-photo" not in set(near["task"]), f"{near['task'].tolist()}")
        c = kb.cluster_tasks(n_clusters=2)
        same(c["cluster"].nunique(), 2, "clusters")
        return f"similar_tasks(k=50): {len(near)} tasks; cluster_tasks(n_clusters=2): 2 clusters"
    check(K, "similar_tasks(k > tasks) gives those there are (not itself); cluster_tasks(n_clusters=2)", tasks_k)

    warm = check(K, "Search(kb=kb, warm_start=4) runs", lambda: nasbook.Search(
        new_task, strategy="evolution", budget=8, seed=0, kb=kb, warm_start=4, name="photo-warm").run(progress="none"))

    def prov_repr() -> str:
        need(warm is not None, "no warm search")
        text = repr(warm)
        b = warm._repr_mimebundle_() if hasattr(warm, "_repr_mimebundle_") else {"text/html": warm._repr_html_()}
        html = b.get("text/html", "")
        need("warm" in text.lower(), f"repr {text}")
        past = {f"nbg-{d}" for d in datasets}
        need(any(p in html for p in past), "the HTML repr names no past task a warm start came from")
        return f"{text[:100]}; html names {sorted(p for p in past if p in html)}"
    check(K, "the warm search's repr says where its warm starts came from", prov_repr)

    def prov_results() -> str:
        need(warm is not None, "no warm search")
        x = warm.to_xarray()
        need("warm_start_from" in x and "warm_start_rank" in x, f"variables {list(x.data_vars)}")
        frm = [str(v) for v in x["warm_start_from"].values[:4]]
        need(all(f.startswith("nbg-") for f in frm), f"from {frm}")
        need(all(str(v) == "" for v in x["warm_start_from"].values[4:]), "provenance on trials that are no warm start")
        ids = set(kb.trials()["arch_id"])
        need(all(a in ids for a in x["arch_id"].values[:4]), "a warm start that was never recorded")
        return f"warm_start_from {frm[0]!r}...; attrs warm_start {'warm_start' in x.attrs}"
    check(K, "the results (to_xarray) say where each warm-start architecture came from", prov_results)

    def warm_reload() -> str:
        need(warm is not None, "no warm search")
        warm.close()
        back = nasbook.load_search("photo-warm", storage=kb.storage)
        x = back.to_xarray()
        same([str(v) for v in x["warm_start_from"].values], [str(v) for v in warm.to_xarray()["warm_start_from"].values],
             "warm_start_from after load_search")
        need("warm" in repr(back).lower(), f"repr after load: {back!r}")
        return f"provenance kept after load_search; {repr(back)[:90]}"
    check(K, "the provenance survives load_search (repr and results)", warm_reload)

    def warm_true() -> str:
        s = nasbook.Search(new_task, strategy="random", budget=12, seed=4, kb=kb, warm_start=True, name="photo-warm-true")
        s.run(progress="none")
        ranks = [t.attrs.get("warm_start_rank") for t in s.trials]
        n = sum(r is not None for r in ranks)
        need(n >= 1, f"ranks {ranks}")
        need(str(n) in repr(s), f"repr {s!r}")
        return f"{n} warm starts; {repr(s)[:100]}"
    check(K, "warm_start=True seeds from the kb and the repr counts them", warm_true)

    def diversified() -> str:
        ws = kb.warm_start(space, n=6)
        archs = [a for a, _ in ws]
        close = [(a.id, b.id) for i, a in enumerate(archs) for b in archs[i + 1:]
                 if any(n.id == b.id for n in space.neighbours(a))] if hasattr(space, "neighbours") else []
        need(not close, f"warm starts one edit apart: {close}")
        need(all(isinstance(p, dict) and p for _, p in ws), "a warm start without provenance")
        return f"{len(ws)} warm starts, none one edit from another; provenance keys {sorted(ws[0][1])}"
    check(K, "kb.warm_start(space, n=6): diversified (no two one edit apart), each with provenance", diversified)

    def duplicates() -> str:
        nasbook.Search(_nbg("cora"), strategy="random", budget=budget, seed=1000, kb=kb, name="cora-random-again").run(progress="none")
        t = kb.trials(task="nbg-cora")
        uniq = t["arch_id"].nunique()
        need(len(t) > uniq, "the repeat search recorded no architecture twice")
        df = kb.similar(q, k=uniq, task="nbg-cora")
        same(len(df), uniq, "rows (distinct architectures)")
        same(df["arch_id"].nunique(), len(df), "distinct rows")
        mean = t.groupby("arch_id")["value"].mean()
        need(np.allclose(df.set_index("arch_id")["value"], mean[df["arch_id"]].values), "value is not the mean")
        return f"{len(t)} trials of {uniq} architectures on nbg-cora: {len(df)} rows, one per architecture"
    check(K, "similar(k=all, task) with each architecture recorded twice: one row per architecture, its mean", duplicates)

    def other_space_filter() -> str:
        kb2 = KnowledgeBase(workdir / "kb2.db")
        _fill(kb2, ("cora", "proteins"), 10)
        try:
            df = kb2.similar(q, k=3, task="nbg-proteins")
        except nasbook.NasbookError as exc:
            return f"refused: {str(exc)[:140]}"
        finally:
            kb2.close()
        same(len(df), 0, "rows of a task in another space")
        return "0 rows"
    check(K, "similar(arch of the 9-op space, task='nbg-proteins' of another space): 0 rows or refused", other_space_filter)

    def portfolio_bandits() -> str:
        out = []
        for bandit in ("ts", "hedge"):
            s = nasbook.Search(new_task, strategy=Portfolio(["random", "evolution"], bandit=bandit, seed=0),
                               budget=10, seed=0, storage=":memory:").run(progress="none")
            r = [x[2] for x in s.strategy.rewards_]
            need(r and all(np.isfinite(r)) and all(0 <= v <= 1 for v in r), f"{bandit}: rewards {r}")
            need(sum(s.strategy.arm_counts_.values()) == 10, f"{bandit}: counts {s.strategy.arm_counts_}")
            out.append(f"{bandit}: {len(r)} rewards in [0, 1]")
        return "; ".join(out)
    check(K, "Portfolio(bandit='ts' / 'hedge'): rewards finite and in [0, 1]", portfolio_bandits)

    def cold_refusal() -> str:
        from nasbook.tasks import DigitsTable

        try:
            nasbook.Search(DigitsTable(), strategy="random", budget=3, seed=0, kb=kb, warm_start=True, name="digits-warm")
        except nasbook.NasbookError as exc:
            text = str(exc)
            need(text.startswith("Search(") and "warm_start" in text.split(":")[0], f"names another call: {text[:120]}")
            need("cold start" in text and "\n" not in text, f"says not what to do: {text[-160:]}")
            need("digits-warm" not in set(kb.searches["search"]), "the refused search was stored")
            return text[:160]
        raise Wrong("a warm start from a kb without trials of the space was accepted")
    check(K, "Search(DigitsTable, kb=kb of NAS-Bench-Graph only, warm_start=True): refused naming Search's "
             "warm_start, saying how to start cold, nothing stored", cold_refusal)

    def given() -> str:
        archs = [new_task.space.sample(np.random.default_rng(i)) for i in range(3)]
        s = nasbook.Search(new_task, strategy="evolution", budget=5, seed=0, storage=":memory:", warm_start=archs).run(progress="none")
        frm = [str(v) for v in s.to_xarray()["warm_start_from"].values]
        same(frm, ["given"] * 3 + ["", ""], "warm_start_from of a given list")
        need("3 architectures given" in s._repr_mimebundle_()["text/plain"], "the repr does not say they were given")
        return f"{frm}; {s!r}"[:160]
    check(K, "warm_start=[3 architectures] (no kb): results and repr say 'given'", given)

    def bo_warm() -> str:
        s = nasbook.Search(new_task, strategy="bo", budget=12, seed=0, kb=kb, warm_start=3, name="photo-bo-warm").run(progress="none")
        ranks = [t.attrs.get("warm_start_rank") for t in s.trials][:4]
        same(ranks, [0, 1, 2, None], "warm_start_rank")
        need(s.strategy.prior is not None, "no prior")
        return f"ranks {ranks}; prior {str(s.strategy.prior)[:80]}"
    check(K, "Search(kb=kb, strategy='bo', warm_start=3): warm starts first, then the prior-guided bo", bo_warm)

    def prior() -> str:
        from nasbook.knowledge import TransferPrior

        s = nasbook.Search(new_task, strategy="bo", budget=12, seed=0, kb=kb, name="photo-bo")
        pr = getattr(s.strategy, "prior", None)
        need(isinstance(pr, TransferPrior), f"prior {pr!r}")
        s.run(progress="none")
        prov = pr.kb_provenance
        need(prov and set(prov["searches"]) >= {f"{d}-random" for d in datasets}, f"provenance {prov}")
        cold = nasbook.Search(new_task, strategy="bo", budget=12, seed=0, storage=":memory:")
        need(getattr(cold.strategy, "prior", None) is None, "a prior without a kb")
        ids_w = [t.arch.id for t in s.trials]
        cold.run(progress="none")
        ids_c = [t.arch.id for t in cold.trials]
        need(ids_w != ids_c, "the same proposals with and without the prior")
        s.close()
        back = nasbook.load_search("photo-bo", storage=kb.storage, kb=kb)
        need(isinstance(back.strategy.prior, TransferPrior), f"loaded prior {back.strategy.prior!r}")
        return f"TransferPrior over {len(prov['searches'])} searches; proposals differ from cold bo"
    check(K, "Search(kb=kb, strategy='bo') fits and uses a transfer prior (recorded, rebuilt on load)", prior)

    def portfolio() -> str:
        s = nasbook.Search(new_task, strategy=Portfolio(["random", "evolution", "local"], bandit="ucb", seed=0),
                           budget=15, seed=0, storage=":memory:").run(progress="none")
        st = s.strategy
        r = [x[2] for x in st.rewards_]
        need(len(r) == 15 and all(np.isfinite(r)) and all(0 <= v <= 1 for v in r), f"rewards {r}")
        need(r[0] == 0.5 and 0 < st.discount < 1, f"first reward {r[0]}, discount {st.discount}")
        return f"{len(r)} rewards in [0, 1], first {r[0]}, discount {st.discount}; shares {st.shares_}"
    check(K, "Portfolio: normalised finite rewards from the first trial, discounted", portfolio)

    def portfolio_kb() -> str:
        for d in datasets[:2]:
            nasbook.Search(_nbg(d), strategy="evolution", budget=budget, seed=1000, kb=kb,
                           name=f"{d}-evolution").run(progress="none")
        pr = portfolio_prior(kb.trials(), arms=["random", "evolution"])
        need(pr and all(np.isfinite(v) for v in pr.values()), f"{pr}")
        s = nasbook.Search(new_task, strategy=Portfolio(["random", "evolution"], seed=0), budget=6, seed=0, kb=kb,
                           name="photo-portfolio")
        need(s.strategy.prior is not None, "Search(kb=kb) gave the Portfolio no prior")
        s.run(progress="none")
        need("kb" in repr(s.strategy), f"repr {repr(s.strategy)[:200]}")
        return f"portfolio_prior {pr}; Search(kb=kb) prior {s.strategy.prior}"
    check(K, "Portfolio gets priors from the kb's record of which strategy won (portfolio_prior, Search(kb=kb))",
          portfolio_kb)
    kb.close()


def _postgres(workdir: Path) -> str:
    import subprocess

    from nasbook.testing._postgres import find_postgres, fresh_database, postgres_server

    if find_postgres() is None:
        raise Wrong("no PostgreSQL binaries on this machine")
    import nasbook
    from nasbook import KnowledgeBase

    with postgres_server() as server:
        url = fresh_database(server)
        kb = KnowledgeBase(url)
        code = ("import sys; import nasbook; from nasbook.tasks import DigitsTable\n"
                "nasbook.Search(DigitsTable(), strategy='random', budget=int(sys.argv[3]), seed=int(sys.argv[2]),"
                " storage=sys.argv[1], name='p'+sys.argv[2]).run(progress='none')\n")
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
        n = 30
        procs = [subprocess.Popen([sys.executable, "-c", code, url, str(i), str(n)], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for i in (1, 2)]
        for p in procs:
            _o, e = p.communicate(timeout=300)
            if p.returncode:
                raise Wrong(e.strip().splitlines()[-1][:300])
        t = kb.trials()
        same(len(t), 2 * n, "trials from two processes")
        from nasbook.tasks import DigitsTable

        d = DigitsTable()
        a = d.space.make(**t["arch"].iloc[0])
        sim = kb.similar(a, k=4, task=t["task"].iloc[0])
        same(len(sim), 4, "similar rows")
        ws = kb.warm_start(d.space, n=3)
        same(len(ws), 3, "warm starts")
        s = nasbook.Search(d, strategy="random", budget=3, seed=9, kb=kb, name="via-kb").run(progress="none")
        same(s.n_trials, 3, "trials")
        kb.close()
        return f"{2 * n} trials from 2 processes, similar 4, warm_start 3, Search(kb=kb) on {url.split('@')[-1]}"


# --------------------------------------------------------------------------------------------------- fingerprint

def part_fingerprint(workdir: Path) -> None:
    import numpy as np

    import nasbook
    from nasbook import KnowledgeBase
    from nasbook.space import ChainSpace
    from nasbook.strategies import FingerprintStopping, divergence_risk, fingerprint_frame, flag_divergence
    from nasbook.tasks import Digits

    F = "fingerprint"
    space = ChainSpace(kind="mlp")
    kb = KnowledgeBase(workdir / "fp.db")
    good = check(F, "Digits(max_epochs=2): 3 healthy runs recorded with fingerprints", lambda: _fp_run(
        nasbook.Search(space, Digits(max_epochs=2), strategy="random", budget=3, seed=11, kb=kb, name="good")))
    bad = check(F, "Digits(max_epochs=2, lr=1e3): 3 runs at a huge learning rate, some DIVERGED", lambda: _fp_run(
        nasbook.Search(space, Digits(max_epochs=2, lr=1e3), strategy="random", budget=3, seed=12, kb=kb, name="bad"),
        diverged=True))

    def stored() -> str:
        t = kb.trials(states=None)
        fp = [c for c in t.columns if c.startswith("fp_")]
        if not fp and "metrics" in t:
            fp = sorted({k for m in t["metrics"] if isinstance(m, dict) for k in m if k.startswith("fp_")})
        need(len(fp) >= 4, f"no fp_* in kb.trials(states=None): {list(t.columns)}")
        return f"{len(t)} trials, {len(fp)} fp_* entries stored"
    check(F, "fingerprints stored with the trials in the kb", stored)

    def flagged() -> str:
        need(good is not None and bad is not None, "runs failed")
        frame = fingerprint_frame([*good.trials, *bad.trials])
        need(frame["diverged"].any() and (~frame["diverged"]).any(), f"diverged {frame['diverged'].tolist()}")
        risk = {}
        for i in range(len(frame)):
            row = frame.iloc[i]
            fp = {c: float(row[c]) for c in frame.columns if c.startswith("fp_")}
            risk[i] = divergence_risk(fp, frame.drop(frame.index[i]), k=3)
        div = [risk[i] for i in range(len(frame)) if frame["diverged"].iloc[i]]
        healthy = [risk[i] for i in range(len(good.trials))]  # the runs at the default learning rate
        need(min(div) > max(healthy), f"risk of diverged runs {div} vs healthy {healthy}")
        fp0 = {c: float(frame.iloc[len(good.trials)][c]) for c in frame.columns if c.startswith("fp_")}
        need(flag_divergence(fp0, frame.drop(frame.index[len(good.trials)]), k=3, threshold=min(div)), "not flagged")
        need(not flag_divergence({c: float(frame.iloc[0][c]) for c in fp0}, frame.drop(frame.index[0]), k=3,
                                 threshold=min(div)), "a healthy run flagged")
        return f"leave-one-out risk (k=3): diverged {[round(r, 2) for r in div]} > healthy {[round(r, 2) for r in healthy]}"
    check(F, "divergence_risk / flag_divergence: runs at lr=1e3 that diverged score above the healthy ones", flagged)

    def labels() -> str:
        import math

        need(bad is not None, "runs failed")
        out = []
        for t in [*good.trials, *bad.trials] if good is not None else bad.trials:
            if t.state.value != "complete":
                continue
            first = math.expm1(t.metrics["fp_loss_first"])
            last = t.metrics["train_loss"]
            out.append(round(last / first, 1))
            need(last < 10 * first, f"trial {t.number} COMPLETE with train_loss {last:.4g}, {last / first:.3g} times "
                                    f"its first step's {first:.3g}")
        return f"final / first training loss of the complete runs: {out}"
    check(F, "a COMPLETE run's training loss ended below 10 times its first step's", labels)

    def from_kb() -> str:
        past = kb.trials(states=None)
        need(bad is not None, "runs failed")
        div = [t for t in bad.trials if t.state.value == "diverged"]
        need(div, "no diverged run")
        fp = {k: v for k, v in div[0].metrics.items() if k.startswith("fp_")} if hasattr(div[0], "metrics") else {}
        need(fp, "the diverged trial carries no fp_* metrics")
        r = divergence_risk(fp, past, k=3)
        need(np.isfinite(r) and r > 0, f"risk {r}")
        return f"risk {r:.2f} against kb.trials(states=None)"
    check(F, "divergence_risk against the kb's trials: a diverged fingerprint has risk > 0", from_kb)

    def stopping() -> str:
        need(good is not None, "runs failed")
        past = fingerprint_frame(good.trials)
        past["diverged"] = True  # a past in which runs with these fingerprints all diverged
        fs = FingerprintStopping(past=past, k=1)
        s = nasbook.Search(space, Digits(max_epochs=3), strategy=fs, budget=2, seed=13, storage=":memory:").run(progress="none")
        states = [t.state.value for t in s.trials]
        need(states == ["pruned", "pruned"] and len(fs.stopped_) == 2, f"states {states}, stopped_ {fs.stopped_}")
        return f"states {states}; stopped_ {fs.stopped_}"
    check(F, "FingerprintStopping stops new runs whose fingerprints resemble past diverged ones (PRUNED)", stopping)
    kb.close()


def _fp_run(search: Any, diverged: bool = False) -> Any:
    search.run(progress="none")
    states = [t.state.value for t in search.trials]
    if diverged:
        need("diverged" in states, f"states {states}")
    else:
        need(all(s == "complete" for s in states), f"states {states}")
    return search


# --------------------------------------------------------------------------------------------------- display

def part_display(workdir: Path) -> None:
    import holoviews as hv

    import nasbook
    from nasbook import KnowledgeBase

    D = "display"
    kb = KnowledgeBase(workdir / "display.db")
    datasets = ("cora", "citeseer", "pubmed", "proteins")
    _fill(kb, datasets, 12)
    nasbook.Search(_nbg("cora"), strategy="evolution", budget=8, seed=1, kb=kb, name="cora-evo").run(progress="none")

    def kb_repr() -> str:
        b = kb._repr_mimebundle_() if hasattr(kb, "_repr_mimebundle_") else {"text/html": kb._repr_html_()}
        html = b.get("text/html", "")
        text = b.get("text/plain", repr(kb))
        tasks = kb.tasks
        for _, row in tasks.iterrows():
            need(row["task"] in html, f"html lacks task {row['task']}")
            need(f"{row['best']:.6g}" in html, f"html lacks the best of {row['task']}: {row['best']}")
        need("2 spaces" in text or "2 spaces" in html, f"repr {text}")
        need(str(int(tasks.loc[tasks['task'] == 'nbg-cora', 'n_trials'].iloc[0])) in html, "no per-task trial count")
        return f"{text[:100]}; html names {len(tasks)} tasks with best and counts"
    check(D, "KnowledgeBase repr: counts per task and space, best per task", kb_repr)

    def per_space() -> str:
        b = kb._repr_mimebundle_() if hasattr(kb, "_repr_mimebundle_") else {"text/html": kb._repr_html_()}
        html = b.get("text/html", "")
        sp = kb.spaces
        ids = list(sp["space_id"]) if "space_id" in sp else list(sp.index)
        need(len(ids) == 2, f"spaces {sp}")
        need(all(str(i) in html for i in ids), f"html lacks a space id of {ids}")
        return f"spaces {ids} in the html"
    check(D, "KnowledgeBase repr: each space named with its counts", per_space)

    def task_map_refused() -> str:
        try:
            kb.plot_task_map()
        except nasbook.NasbookError as exc:
            need("add_task_meta" in str(exc) and len(str(exc).splitlines()) == 1, str(exc))
            return str(exc)[:140]
        return "drawn"
    check(D, "plot_task_map() of tasks in two spaces without meta-features: drawn, or refused saying what to add",
          task_map_refused)
    from nasbook.knowledge import nbg_meta_features

    for d in datasets:
        kb.add_task_meta(_nbg(d), meta_features=nbg_meta_features(d))

    def task_map() -> str:
        obj = kb.plot_task_map()
        need(isinstance(obj, hv.core.Dimensioned), type(obj))
        return type(obj).__name__
    check(D, "plot_task_map() draws (meta-features stored, two spaces)", task_map)

    def neighbourhood() -> str:
        t = kb.trials(task="nbg-cora")
        a = _nbg("cora").space.make(**t["arch"].iloc[0])
        obj = kb.plot_neighbourhood(a, k=6, task="nbg-cora")
        need(isinstance(obj, hv.core.Dimensioned), type(obj))
        data = obj.data if hasattr(obj, "data") else None
        n = len(data) if data is not None and hasattr(data, "__len__") else None
        return f"{type(obj).__name__} with {n} points"
    check(D, "plot_neighbourhood(arch, k=6, task) draws", neighbourhood)

    def neighbourhood_all() -> str:
        a = _nbg("cora").space.make(**kb.trials(task="nbg-cora")["arch"].iloc[0])
        obj = kb.plot_neighbourhood(a, k=6)
        n = len(obj.data)
        same(n, 6, "points for k=6 over every task (one per neighbour, mean quantile)")
        return f"{type(obj).__name__} with {n} points"
    check(D, "plot_neighbourhood(arch, k=6) over all tasks: 6 points", neighbourhood_all)

    for nb, title, test in (("04_predicting_architecture_quality.ipynb", "predicting architecture quality", "04_"),
                            ("06_searches_that_remember.ipynb", "searches that remember", "06_")):
        def tut(nb: str = nb, title: str = title, test: str = test) -> str:
            import json

            path = ROOT / "tutorials" / nb
            need(path.exists(), f"{path} missing")
            cells = json.loads(path.read_text())["cells"]
            need(title in "".join(cells[0]["source"]).lower(), "title")
            tests = [p for p in (ROOT / "tests").rglob("*.py")
                     if nb in p.read_text() or 'glob("tutorials/*.ipynb")' in p.read_text()]
            need(tests, "no test executes it")
            return f"{len(cells)} cells; executed by {', '.join(p.name for p in tests)[:120]}"
        check(D, f"tutorial {nb} exists and the tests execute it", tut)
    kb.close()


def main() -> None:
    global QUICK
    from _common import probe_args, run_probe

    argv = sys.argv[1:]
    QUICK = "--quick" in argv
    argv = [a for a in argv if a != "--quick"]
    args, parts, _, workdir = probe_args((__doc__ or "") + "\n--quick: smaller budgets (the smoke test passes it)",
                                         PARTS, range(0, 1), "the probe (its checks are not random)",
                                         "nasbook-probe14-", argv)
    run_probe(RESULTS, args, parts, workdir, {"predictor": part_predictor, "bo": part_bo, "kb": part_kb,
                                              "fingerprint": part_fingerprint, "display": part_display})
    counts = {k: sum(r["status"] == v for r in RESULTS.values()) for k, v in (("PASS", "ok"), ("FAIL", "defect"),
                                                                              ("KNOWN", "known"))}
    print(f"# PASS {counts['PASS']}, FAIL {counts['FAIL']}, KNOWN {counts['KNOWN']}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
