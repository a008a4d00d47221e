"""Outside-evaluator probe 12: the Predictor and the model-based strategies as a demanding new user drives them.

Written from ``help(nasbook.Predictor)``, ``help(nasbook.predictors.evaluate)``, ``help(nasbook.strategies.BO)``,
``help(nasbook.strategies.OptunaSampler)``, ``help(nasbook.strategies.Portfolio)`` and docs/predictors.md, through
the public API only, on the shipped tables (``DigitsTable``, ``MNIST1DTable``) and NAS-Bench-Graph. Each check runs
one call and is classified as in probe 5 (``benchmarks/outside_probe5.py``): ``ok`` an answer (and where the check
states it, that answer) or a one-line ``NasbookError`` whose message holds the words listed (the parameter, what is
allowed, what was received); ``defect`` anything else.

Parts (all by default; ``--parts predictor,evaluate``):

``predictor``  issue 9's bad inputs (0 or 1 architecture, lengths that differ, NaN / infinite / text scores,
               another space's architectures, predict before fit, an unknown model, features the space lacks,
               bad target / calibration / seed / metric), a refused call leaves a fitted predictor as it was;
               round trips (fit -> predict -> score, ``fit_search`` on a finished search, on one with failed and
               pruned trials, on a running one and on a resumed one), pickle of a fitted predictor (one this
               process made), clone, reprs unfitted / fitted / scored, ``viz.plot_predictions``.
``strategies`` ``"bo"``, ``OptunaSampler`` and ``Portfolio`` at budgets 1, 2 and 5, on a 3-architecture subset space
               (budget above the space; more asks than it holds), resume after a stop proposing what an
               uninterrupted run proposes, bad parameters (negative, zero, wrong type, unknown names).
``evaluate``   ``evaluate()`` with ``n_train`` above the table, ``[0]``, duplicates, ``seeds=0``, bad ``n_test``; a
               small run on Digits and on NAS-Bench-Graph cora and ``viz.plot_predictor_scores`` of it.

``--quick`` leaves out the NAS-Bench-Graph checks and the 5-trial budgets (the smoke test's setting).

    export PYTHONPATH=$PWD OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    nice -n 5 python benchmarks/outside_probe12.py --json bench-results/probe12.json
"""

from __future__ import annotations

import math
import os
import pickle
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Wrong, make_check, same  # noqa: E402

PARTS = ("predictor", "strategies", "evaluate")
RESULTS: dict[str, dict[str, Any]] = {}
#: checks judged out of scope, with the reason
KNOWN: dict[str, str] = {}
QUICK = False

check = make_check(RESULTS, KNOWN)


def _table(name: str = "digits") -> Any:
    from nasbook.tasks import DigitsTable, MNIST1DTable

    return DigitsTable() if name == "digits" else MNIST1DTable()


def _data(task: Any, n: int, offset: int = 0) -> tuple[list[Any], list[float]]:
    """``n`` architectures of a table and their values, as a user reads them from ``ground_truth()``."""
    gt = task.ground_truth()
    ids = [str(i) for i in gt["arch"].values]
    by_id = {a.id: a for a in task.space.enumerate()}
    vals = gt["value"].values
    pairs = [(by_id[i], float(v)) for i, v in zip(ids, vals) if i in by_id and math.isfinite(float(v))]
    pairs = pairs[offset:offset + n]
    return [a for a, _ in pairs], [v for _, v in pairs]


def _state(p: Any) -> tuple[Any, ...]:
    archs, _ = _data(_table(), 8, offset=100)
    mean, std = p.predict_mean_std(archs)
    return (p.n_train_, tuple(p.features_), tuple(round(float(x), 12) for x in mean), tuple(round(float(x), 12) for x in std))


def _unchanged(p: Any, fn: Any) -> Any:
    """``fn()`` must raise; the fitted predictor ``p`` predicts as before it."""
    before = _state(p)
    try:
        fn()
    except Exception:
        after = _state(p)
        if after != before:
            raise Wrong(f"a refused call changed the fitted predictor: {before[:2]} -> {after[:2]}") from None
        raise
    raise Wrong("accepted")


def _fitted(n: int = 30, **kw: Any) -> Any:
    from nasbook import Predictor

    archs, scores = _data(_table(), n)
    return Predictor(seed=0, **kw).fit(archs, scores)


def _reprs(p: Any, says: tuple[str, ...]) -> str:
    r = repr(p)
    html = p._repr_html_() if hasattr(p, "_repr_html_") else p._repr_mimebundle_().get("text/html", "")
    if not r or "\n" in r.strip() and len(r) > 2000:
        raise Wrong(f"repr {r[:200]!r}")
    if not html or "Traceback" in html:
        raise Wrong(f"html {html[:200]!r}")
    missing = [w for w in says if w.lower() not in (r + html).lower()]
    if missing:
        raise Wrong(f"reprs lack {missing}: {r[:200]!r}")
    return f"repr {len(r)} chars, html {len(html)} chars"


def _search(task: Any = None, budget: int = 6, strategy: Any = "random", **kw: Any) -> Any:
    from nasbook import Search

    return Search(task if task is not None else _table(), strategy=strategy, budget=budget, seed=0,
                  storage=kw.pop("storage", ":memory:"), **kw)


def _flaky_task() -> Any:
    from nasbook import TrialFailed
    from nasbook.tasks import DigitsTable

    class FlakyDigits(DigitsTable):
        def evaluate(self, arch: Any, **kw: Any) -> Any:
            if int(arch.id[:4], 16) % 3 == 0:
                raise TrialFailed("flaky: this one fails")
            return super().evaluate(arch, **kw)

    return FlakyDigits()


def part_predictor(workdir: Path) -> None:
    from nasbook import Predictor, load_search

    Q = "predictor"
    digits, mnist = _table(), _table("mnist1d")
    a20, s20 = _data(digits, 20)
    m5, ms5 = _data(mnist, 5)
    check(Q, "fit on 0 architectures", lambda: Predictor().fit([], []), "refused", ("archs", "2", "0"))
    check(Q, "fit on 1 architecture", lambda: Predictor().fit(a20[:1], s20[:1]), "refused", ("archs", "2", "1"))
    check(Q, "fit with 5 archs and 4 scores", lambda: Predictor().fit(a20[:5], s20[:4]), "refused", ("scores", "5", "4"))
    check(Q, "fit with 6 archs and 5 scores (a longer list of archs)", lambda: Predictor().fit(a20[:6], s20[:5]), "refused", ("scores", "6", "5"))
    check(Q, "fit with a NaN score", lambda: Predictor().fit(a20[:10], s20[:9] + [math.nan]), "refused", ("scores", "nan"))
    check(Q, "fit with an infinite score", lambda: Predictor().fit(a20[:10], [math.inf] + s20[1:10]), "refused", ("scores", "inf"))
    check(Q, "fit with text scores", lambda: Predictor().fit(a20[:5], ["a", "b", "c", "d", "e"]), "refused", ("scores",))
    check(Q, "fit on architectures of two spaces", lambda: Predictor().fit(a20[:5] + m5, s20[:5] + ms5), "refused", ("space",))
    check(Q, "fit with a scalar for archs", lambda: Predictor().fit(a20[0], 0.5), "refused", ("archs",))
    check(Q, "predict before fit", lambda: Predictor().predict(a20[:3]), "refused", ("fit",))
    check(Q, "score before fit", lambda: Predictor().score(a20[:3], s20[:3]), "refused", ("fit",))
    check(Q, "Predictor(model='nope').fit", lambda: Predictor(model="nope").fit(a20, s20), "refused", ("model", "nope", "gp"))
    check(Q, "Predictor(model=3)", lambda: Predictor(model=3).fit(a20, s20), "refused", ("model", "3"))
    check(Q, "features='path' on MNIST-1D (which has adjacency and graf)",
          lambda: Predictor(features="path").fit(*_data(mnist, 20)), "refused", ("features", "path", "graf"))
    check(Q, "features='nope'", lambda: Predictor(features="nope").fit(a20, s20), "refused", ("features", "nope", "adjacency"))
    check(Q, "features=('graf', 'graf') (a repeat)", lambda: _repeat_features(a20, s20), "refused", ("features", "repeat", "graf"))
    check(Q, "fit(archs, scores=None)", lambda: Predictor().fit(a20, None), "refused", ("scores", "None"))
    check(Q, "fit(archs, scores=0.5) (one number)", lambda: Predictor().fit(a20, 0.5), "refused", ("scores", "0.5"))
    check(Q, "features=[] (none)", lambda: Predictor(features=[]).fit(a20, s20), "refused", ("features",))
    check(Q, "target='nope'", lambda: Predictor(target="nope").fit(a20, s20), "refused", ("target", "nope", "rank"))
    check(Q, "calibration='nope'", lambda: Predictor(calibration="nope").fit(a20, s20), "refused", ("calibration", "nope", "cv"))
    check(Q, "seed='x'", lambda: Predictor(seed="x").fit(a20, s20), "refused", ("seed", "x"))
    check(Q, "seed=-1", lambda: Predictor(seed=-1).fit(a20, s20), "refused", ("seed", "-1"))
    p = check(Q, "fit on 30 Digits architectures", lambda: _fitted(30))
    if p is None:
        return
    check(Q, "fitted: a refused fit([]) leaves the predictor as it was", lambda: _unchanged(p, lambda: p.fit([], [])), "refused", ("archs",))
    check(Q, "fitted: a refused fit with a NaN leaves it as it was",
          lambda: _unchanged(p, lambda: p.fit(a20[:10], s20[:9] + [math.nan])), "refused", ("scores",))
    check(Q, "fitted: a refused fit on MNIST-1D features='path' leaves it as it was",
          lambda: _unchanged(p, lambda: p.set_params(features="path").fit(*_data(mnist, 20))), "refused", ("features",))
    p.set_params(features="auto")
    check(Q, "fitted: a refused fit with unequal lengths leaves it as it was",
          lambda: _unchanged(p, lambda: p.fit(a20[:5], s20[:4])), "refused", ("scores",))
    check(Q, "fitted on Digits: predict MNIST-1D architectures", lambda: _unchanged(p, lambda: p.predict(m5)), "refused", ("space",))
    check(Q, "score(metric='nope')", lambda: p.score(a20[:10], s20[:10], metric="nope"), "refused", ("metric", "nope", "kendall_tau"))
    check(Q, "score on 1 architecture", lambda: p.score(a20[:1], s20[:1]), "refused", ("2",))
    check(Q, "score with unequal lengths", lambda: p.score(a20[:5], s20[:4]), "refused", ("scores", "5", "4"))
    check(Q, "predict(['131b8b3b73d4']) (ids, not architectures)", lambda: p.predict([a20[0].id]), "refused", ("archs", "str"))
    check(Q, "predict(one architecture, not a list)", lambda: p.predict(a20[0]), "refused", ("archs", "list"))
    check(Q, "score with a NaN true score", lambda: p.score(a20[:10], s20[:9] + [math.nan]), "refused", ("scores", "nan"))
    check(Q, "fit with scores as a numpy array and a pandas Series", lambda: _array_scores(a20, s20))
    check(Q, "fit with the same architecture twice (two seeds' scores)", lambda: _repeated(a20, s20), "either", ("archs",))
    check(Q, "set_params(nope=1)", lambda: Predictor().set_params(nope=1), "refused", ("nope", "model"))
    check(Q, "predict -> Dataset of mean, std over dim arch", lambda: _predicted(p))
    check(Q, "predict([]) -> an empty Dataset", lambda: _empty(p))
    check(Q, "score -> a tau in [-1, 1]; scores_ holds every metric", lambda: _scored(p))
    check(Q, "reprs of an unfitted Predictor", lambda: _reprs(Predictor(model="gp"), ("gp",)))
    check(Q, "reprs of a fitted Predictor", lambda: _reprs(_fitted(20), ("Predictor",)))
    check(Q, "reprs of a scored Predictor", lambda: _reprs(p, ("kendall",)))
    check(Q, "pickle a fitted Predictor (made here): same predictions", lambda: _pickled(p))
    check(Q, "clone of a fitted Predictor is unfitted", lambda: _cloned(p), "refused", ("fit",))
    check(Q, "fit_search on a finished 12-trial search", lambda: _fit_search(_search(budget=12).run(progress="none"), 12))
    check(Q, "fit_search on a search with failed trials: fitted on the completed ones",
          lambda: _fit_search(_search(_flaky_task(), budget=15).run(progress="none"), None))
    check(Q, "fit_search on an ASHA search (pruned trials): the most-epochs trials",
          lambda: _fit_search(_search(budget=20, strategy=__import__("nasbook.strategies").strategies.ASHA(max_epochs=9)).run(progress="none"), None))
    check(Q, "fit_search on a 1-trial search", lambda: Predictor().fit_search(_search(budget=1).run(progress="none")), "refused", ("2", "1"))
    check(Q, "fit_search on a search not run", lambda: Predictor().fit_search(_search(budget=5)), "refused", ("2",))
    check(Q, "fit_search on a running search (start())", lambda: _running(), "either", ("running",))
    check(Q, "fit_search on a stopped search and on it resumed (load_search)", lambda: _resumed(workdir, load_search))
    check(Q, "fit_search('not a search')", lambda: Predictor().fit_search("abc"), "refused", ("search",))
    check(Q, "viz.plot_predictions(fitted, archs, scores)", lambda: _plot_predictions(p))
    check(Q, "viz.plot_predictions(scored predictor) with no archs: its last score", lambda: type(__import__("nasbook.viz").viz.plot_predictions(p)).__name__)
    check(Q, "viz.plot_predictions(fitted, not scored) with no archs", lambda: __import__("nasbook.viz").viz.plot_predictions(_fitted(20)),
          "refused", ("score",))
    check(Q, "viz.plot_predictions(p, archs) without scores", lambda: __import__("nasbook.viz").viz.plot_predictions(p, a20), "refused", ("scores",))
    check(Q, "viz.predictions_info(p, archs, scores): a Dataset over point", lambda: _info(p))
    check(Q, "predict an architecture of the parent space that the table lacks", lambda: _parent_arch(p), "either", ("space",))
    check(Q, "fit on exactly 2 architectures (calibration needs 10)", lambda: Predictor(seed=0).fit(a20[:2], s20[:2]).n_train_)
    check(Q, "Predictor(model=GaussianProcess()) instance", lambda: _instance(a20, s20))
    check(Q, "fit on a generator of architectures", lambda: Predictor().fit((a for a in a20), s20), "either", ("archs",))
    check(Q, "fit(space=another space)", lambda: Predictor().fit(a20, s20, space=mnist.space), "refused", ("space",))
    check(Q, "score where every true score is equal: NaN tau", lambda: _nan_tau(p, a20))
    check(Q, "set_params(model__seed=1) on model='gp' (a name)", lambda: Predictor(model="gp").set_params(model__seed=1), "either", ("model",))
    check(Q, "sklearn.base.clone of a fitted Predictor: unfitted, same params", lambda: _sk_clone(p))
    check(Q, "fit_search on a search whose every trial failed", lambda: _all_failed(), "refused", ("2", "0"))
    check(Q, "fit_search on a closed search", lambda: _closed_search())
    check(Q, "predict the same architecture twice: two equal rows", lambda: _twice(p, a20))
    check(Q, "evaluate-free round trip on MNIST-1D: fit 40, score on 60 others", lambda: _mnist_round(mnist))
    check(Q, "viz.plot_predictions(unfitted)", lambda: __import__("nasbook.viz").viz.plot_predictions(Predictor(), a20, s20),
          "refused", ("fit",))


def _array_scores(archs: list[Any], scores: list[float]) -> str:
    import numpy as np
    import pandas as pd

    from nasbook import Predictor

    a = Predictor(seed=0).fit(archs, np.asarray(scores))
    b = Predictor(seed=0).fit(archs, pd.Series(scores, index=range(100, 100 + len(scores))))
    same(_state(a), _state(b), "numpy vs pandas scores")
    return "same"


def _repeated(archs: list[Any], scores: list[float]) -> str:
    from nasbook import Predictor

    p = Predictor(seed=0).fit(archs + archs[:5], scores + [v - 0.01 for v in scores[:5]])
    mean, std = p.predict_mean_std(archs[:5])
    if not (all(math.isfinite(x) for x in mean) and all(x > 0 for x in std)):
        raise Wrong(f"mean {mean}, std {std}")
    return f"n_train_ {p.n_train_}"


def _repeat_features(archs: list[Any], scores: list[float]) -> Any:
    from nasbook import Predictor

    p = Predictor(model="gp", features=("graf", "graf"), seed=0).fit(archs, scores)
    return f"fitted on {p.features_}, {p.n_features_in_} columns"


def _nan_tau(p: Any, archs: list[Any]) -> str:
    tau = p.score(archs[:10], [0.5] * 10)
    if not math.isnan(tau):
        raise Wrong(f"tau {tau} for constant true scores (docs: NaN)")
    return "nan"


def _sk_clone(p: Any) -> str:
    from sklearn.base import clone

    c = clone(p)
    same(c.get_params(), p.get_params(), "params")
    if hasattr(c, "n_train_"):
        raise Wrong("the clone is fitted")
    return repr(c)


def _all_failed() -> Any:
    from nasbook import Predictor, TrialFailed
    from nasbook.tasks import DigitsTable

    class Broken(DigitsTable):
        def evaluate(self, arch: Any, **kw: Any) -> Any:
            raise TrialFailed("no GPU here")

    s = _search(Broken(), budget=4)
    try:
        s.run(progress="none")
    except Exception:  # noqa: BLE001 - a run that stops on repeated failures is fine here: the trials are stored
        pass
    return Predictor().fit_search(s)


def _closed_search() -> str:
    from nasbook import Predictor

    s = _search(budget=8).run(progress="none")
    s.close()
    p = Predictor(seed=0).fit_search(s)
    same(p.n_train_, 8, "n_train_")
    return "8"


def _twice(p: Any, archs: list[Any]) -> str:
    ds = p.predict([archs[0], archs[0]])
    same(ds.sizes["arch"], 2, "rows")
    same(float(ds["mean"][0]), float(ds["mean"][1]), "means")
    return "2 equal rows"


def _mnist_round(task: Any) -> str:
    from nasbook import Predictor

    a, s = _data(task, 100)
    p = Predictor(seed=0).fit(a[:40], s[:40])
    tau = p.score(a[40:], s[40:])
    if not -1 <= tau <= 1:
        raise Wrong(f"tau {tau}")
    return f"tau {tau:.3f}"


def _info(p: Any) -> str:
    from nasbook import viz

    archs, scores = _data(_table(), 30, offset=150)
    ds = viz.predictions_info(p, archs, scores)
    same(ds.sizes.get("point"), 30, "points (its docstring: dim point)")
    return f"{sorted(ds.data_vars)}"


def _parent_arch(p: Any) -> str:
    import numpy as np

    parent = _table().space.parent
    rng = np.random.default_rng(0)
    a = parent.sample(rng)
    mean, _ = p.predict_mean_std([a])
    return f"predicted {mean[0]:.4f}"


def _instance(archs: list[Any], scores: list[float]) -> str:
    from nasbook import Predictor
    from nasbook.predictors import GaussianProcess

    gp = GaussianProcess()
    p = Predictor(model=gp, seed=0).fit(archs, scores)
    if hasattr(gp, "n_train_"):
        raise Wrong("the instance given was fitted in place (the docs say: cloned at each fit)")
    return f"{p.n_train_}"


def _predicted(p: Any) -> str:
    import numpy as np
    import xarray as xr

    archs, _ = _data(_table(), 7, offset=100)
    ds = p.predict(archs)
    if not isinstance(ds, xr.Dataset):
        raise Wrong(f"{type(ds)}")
    same(sorted(ds.data_vars), ["mean", "std"], "variables")
    same(ds["mean"].dims, ("arch",), "dims")
    same(list(ds["arch"].values), [a.id for a in archs], "arch coordinate")
    if not (np.isfinite(ds["mean"]).all() and (ds["std"] > 0).all()):
        raise Wrong(f"mean {ds['mean'].values}, std {ds['std'].values}")
    return f"{dict(ds.sizes)}, attrs {sorted(ds.attrs)}"


def _empty(p: Any) -> str:
    ds = p.predict([])
    same(ds.sizes.get("arch", 0), 0, "size")
    same(sorted(ds.data_vars), ["mean", "std"], "variables")
    return "empty"


def _scored(p: Any) -> str:
    archs, scores = _data(_table(), 60, offset=100)
    tau = p.score(archs, scores)
    if not (-1 <= tau <= 1):
        raise Wrong(f"tau {tau}")
    if "kendall_tau" not in p.scores_ or "spearman" not in p.scores_:
        raise Wrong(f"scores_ {p.scores_}")
    return f"tau {tau:.3f}; scores_ {sorted(p.scores_)}"


def _pickled(p: Any) -> str:
    q = pickle.loads(pickle.dumps(p))
    same(_state(q), _state(p), "predictions after a pickle round trip")
    return "same"


def _cloned(p: Any) -> Any:
    c = p.clone()
    same(c.get_params(), p.get_params(), "params")
    return c.predict(_data(_table(), 3)[0])


def _fit_search(s: Any, n: int | None) -> str:
    from nasbook import Predictor

    done = [t for t in s.trials if t.value is not None and t.state.name == "COMPLETE"]
    p = Predictor(seed=0).fit_search(s)
    if n is not None:
        same(p.n_train_, n, "n_train_")
    if p.n_train_ > len(done) or p.n_train_ < 2:
        raise Wrong(f"n_train_ {p.n_train_} of {len(done)} completed of {s.n_trials}")
    ds = p.predict([t.arch for t in s.trials[:3]])
    same(ds.attrs.get("metric"), s.metric, "metric attr")
    return f"n_train_ {p.n_train_} of {s.n_trials} trials ({len(done)} complete)"


def _running() -> str:
    import time

    from nasbook import Predictor
    from nasbook.tasks import DigitsTable

    class Slow(DigitsTable):
        def evaluate(self, arch: Any, **kw: Any) -> Any:
            time.sleep(0.05)
            return super().evaluate(arch, **kw)

    s = _search(Slow(), budget=60)
    s.start(progress="none")
    try:
        t0 = time.time()
        while len([t for t in s.trials if t.value is not None]) < 4 and time.time() - t0 < 30:
            time.sleep(0.05)
        p = Predictor(seed=0).fit_search(s)
        if p.n_train_ < 4:
            raise Wrong(f"n_train_ {p.n_train_}")
        return f"fitted on {p.n_train_} while running"
    finally:
        s.stop()
        s.wait()
        s.close()


def _resumed(workdir: Path, load_search: Any) -> str:
    from nasbook import Predictor

    store = str(workdir / "resume.db")

    def stop_at_5(search: Any, trial: Any) -> None:
        if search.n_trials >= 5:
            search.stop()

    s = _search(budget=10, storage=store, name="r", callbacks=[stop_at_5]).run(progress="none")
    a = Predictor(seed=0).fit_search(s)
    s.close()
    back = load_search("r", store)
    try:
        b = Predictor(seed=0).fit_search(back)
        same(_state(b), _state(a), "fit_search before and after load_search")
        back.run(progress="none")
        c = Predictor(seed=0).fit_search(back)
        same(c.n_train_, 10, "n_train_ after the resumed run")
    finally:
        back.close()
    return f"{a.n_train_} stopped, {c.n_train_} resumed"


def _plot_predictions(p: Any) -> str:
    from nasbook import viz

    archs, scores = _data(_table(), 40, offset=100)
    fig = viz.plot_predictions(p, archs, scores)
    if fig is None:
        raise Wrong("no figure")
    return type(fig).__name__


# --------------------------------------------------------------------------------------------------- strategies

def _tiny(n: int = 3) -> Any:
    from nasbook.space import SubsetSpace

    t = _table()
    return SubsetSpace(t.space.parent, [a.spec for a in _data(t, n)[0]])


def _strategy(kind: str, seed: int = 0) -> Any:
    from nasbook import strategies

    if kind == "bo":
        return strategies.BO(n_initial=2, seed=seed)
    if kind == "optuna":
        return strategies.OptunaSampler(seed=seed)
    if kind == "portfolio-ts":
        return strategies.Portfolio(strategies=("random", "evolution", "bo"), bandit="ts", seed=seed)
    if kind == "optuna-instance":
        import optuna

        return strategies.OptunaSampler(sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=2))
    return strategies.Portfolio(strategies=("random", "bo"), seed=seed)


def _budget(kind: str, n: int) -> str:
    s = _search(budget=n, strategy=_strategy(kind)).run(progress="none")
    ids = [t.arch.id for t in s.trials]
    same(len(ids), n, "trials")
    same(len(set(ids)), n, "distinct architectures")
    if s.best is None:
        raise Wrong("no best")
    return f"{n} trials, best {s.best.value:.4f}"


def _tiny_task() -> Any:
    """A task of the user's own (``nasbook.tasks.Task``: ``evaluate`` only) that scores any architecture."""
    from nasbook.tasks import Result, Task

    class Tiny(Task):
        metric = "score"
        mode = "max"

        def evaluate(self, arch: Any, **kw: Any) -> Any:
            return Result(value=int(arch.id[:6], 16) % 1000 / 1000)

    return Tiny()


def _table_subset(kind: str) -> str:
    from nasbook import Search

    s = Search(_tiny(3), _table(), strategy=_strategy(kind), budget=10, seed=0, storage=":memory:").run(progress="none")
    same(s.n_trials, 3, "trials")
    return "3 trials"


def _budget_with(strategy: Any, n: int, task: Any = None) -> str:
    s = _search(task, budget=n, strategy=strategy).run(progress="none")
    ids = [t.arch.id for t in s.trials]
    same(len(ids), n, "trials")
    same(len(set(ids)), n, "distinct architectures")
    return f"{n} trials, best {s.best.value:.4f}"


def _reused(strategy: Any) -> str:
    a = _search(budget=6, strategy=strategy).run(progress="none")
    b = _search(budget=6, strategy=strategy).run(progress="none")
    same([t.arch.id for t in b.trials], [t.arch.id for t in a.trials], "the second search's proposals")
    return "same 6"


def _exhaust(kind: str, executor: Any = "local") -> str:
    from nasbook import Search

    space = _tiny(3)
    s = Search(space, _tiny_task(), strategy=_strategy(kind), budget=10, seed=0, storage=":memory:", executor=executor)
    s.run(progress="none")
    s.close()
    ids = sorted(t.arch.id for t in s.trials)
    same(len(ids), 3, "trials on a 3-architecture space (budget 10)")
    same(ids, sorted(a.id for a in space.enumerate()), "all of them")
    return f"3 trials, state {getattr(s, 'state', '?')}"


def _asks(kind: str) -> str:
    """Five asks, none told, of a 3-architecture space: three distinct proposals, then SpaceExhausted (or WAIT)."""
    from nasbook import SpaceExhausted

    space = _tiny(3)
    st = _strategy(kind).setup(space, seed=0, mode="max")
    got: list[str] = []
    end = "none"
    for _ in range(5):
        try:
            a = st.ask()
        except SpaceExhausted:
            end = "SpaceExhausted"
            break
        if not hasattr(a, "id"):
            a = getattr(a, "arch", a)
        if not hasattr(a, "id"):
            end = repr(a)
            break
        got.append(a.id)
    if len(set(got)) != len(got):
        raise Wrong(f"a proposal repeated before any tell: {got}")
    if len(got) > 3:
        raise Wrong(f"{len(got)} proposals of a 3-architecture space")
    if end == "none":
        raise Wrong(f"5 asks answered {got} and never said the space was spent")
    return f"{len(got)} proposals then {end}"


def _extended(kind: str, workdir: Path) -> str:
    from nasbook import load_search

    full = _search(budget=8, strategy=_strategy(kind)).run(progress="none")
    store = str(workdir / f"ext-{kind}.db")
    _search(budget=5, strategy=_strategy(kind), storage=store, name=kind).run(progress="none").close()
    back = load_search(kind, store, budget=8)
    try:
        back.run(progress="none")
        same([t.arch.id for t in back.trials], [t.arch.id for t in full.trials], "proposals of the extended run")
    finally:
        back.close()
    return "same 8 proposals"


def _resume_same(kind: str, workdir: Path, at: int = 4) -> str:
    from nasbook import load_search

    full = _search(budget=8, strategy=_strategy(kind)).run(progress="none")
    store = str(workdir / f"res-{kind}-{at}.db")

    def stop_at_4(search: Any, trial: Any) -> None:
        if search.n_trials >= at:
            search.stop()

    s = _search(budget=8, strategy=_strategy(kind), storage=store, name=kind, callbacks=[stop_at_4]).run(progress="none")
    same(s.n_trials, at, "stopped at")
    s.close()
    # an Optuna sampler instance is not stored: the search says so and takes the strategy again (load_search(strategy=...))
    back = load_search(kind, store, strategy=_strategy(kind)) if kind == "optuna-instance" else load_search(kind, store)
    try:
        back.run(progress="none")
        same([t.arch.id for t in back.trials], [t.arch.id for t in full.trials], "proposals of the resumed run")
    finally:
        back.close()
    return "same 8 proposals"


def part_strategies(workdir: Path) -> None:
    from nasbook import Search, strategies

    Q = "strategies"
    for kind in ("bo", "optuna", "portfolio"):
        for n in ((1, 2) if QUICK else (1, 2, 5)):
            check(Q, f"{kind} with budget {n}", lambda k=kind, b=n: _budget(k, b))
        check(Q, f"{kind} on a 3-architecture subset of the Digits table's space, with DigitsTable: runs 3 or refused naming it",
              lambda k=kind: _table_subset(k), "either", ("DigitsTable", "cannot evaluate"))
        check(Q, f"{kind} on a 3-architecture subset space (a task of the user's), budget 10: 3 trials", lambda k=kind: _exhaust(k))
        if not QUICK:
            check(Q, f"{kind} on a 3-architecture space with DaskExecutor(n_workers=4), budget 10: 3 trials",
                  lambda k=kind: _exhaust(k, __import__("nasbook.executors").executors.DaskExecutor(n_workers=4)))
        check(Q, f"{kind}: 5 asks of a 3-architecture space, none told", lambda k=kind: _asks(k))
        check(Q, f"{kind}: stopped at 4 of 8 and resumed: the proposals of an uninterrupted run", lambda k=kind: _resume_same(k, workdir))
    bad: list[tuple[str, Any, tuple[str, ...]]] = [  # (name, a strategy's maker or None for strategy='bayes', words)
        ("BO(n_initial=0)", lambda: strategies.BO(n_initial=0), ("n_initial", "0")),
        ("BO(n_initial=-3)", lambda: strategies.BO(n_initial=-3), ("n_initial", "-3")),
        ("BO(n_initial='5')", lambda: strategies.BO(n_initial="5"), ("n_initial",)),
        ("BO(acquisition='pi')", lambda: strategies.BO(acquisition="pi"), ("acquisition", "pi", "ei")),
        ("BO(kappa=-1)", lambda: strategies.BO(kappa=-1), ("kappa", "-1")),
        ("BO(n_candidates=0)", lambda: strategies.BO(n_candidates=0), ("n_candidates", "0")),
        ("BO(predictor='nope')", lambda: strategies.BO(predictor="nope"), ("predictor", "nope")),
        ("BO(liar='nope')", lambda: strategies.BO(liar="nope"), ("liar", "nope", "mean")),
        ("OptunaSampler(sampler='nope')", lambda: strategies.OptunaSampler(sampler="nope"), ("sampler", "nope")),
        ("OptunaSampler(max_retries=-1)", lambda: strategies.OptunaSampler(max_retries=-1), ("max_retries", "-1")),
        ("OptunaSampler(max_retries=2.5)", lambda: strategies.OptunaSampler(max_retries=2.5), ("max_retries", "2.5")),
        ("OptunaSampler(sampler='tpe', sampler_params={'bogus': 1})",
         lambda: strategies.OptunaSampler(sampler="tpe", sampler_params={"bogus": 1}), ("bogus",)),
        ("Portfolio(strategies=[])", lambda: strategies.Portfolio(strategies=[]), ("strategies",)),
        ("Portfolio(strategies=['random', 'nope'])", lambda: strategies.Portfolio(strategies=["random", "nope"]), ("nope",)),
        ("Portfolio(strategies='random')", lambda: strategies.Portfolio(strategies="random"), ("strategies",)),
        ("Portfolio(bandit='nope')", lambda: strategies.Portfolio(bandit="nope"), ("bandit", "nope", "hedge")),
        ("Portfolio(discount=0)", lambda: strategies.Portfolio(discount=0), ("discount", "0")),
        ("Portfolio(discount=1.5)", lambda: strategies.Portfolio(discount=1.5), ("discount", "1.5")),
        ("Portfolio(eta=-1)", lambda: strategies.Portfolio(eta=-1), ("eta", "-1")),
        ("Portfolio(prior={'nope': 1})", lambda: strategies.Portfolio(prior={"nope": 1.0}), ("prior", "nope")),
        ("Portfolio(reward='nope')", lambda: strategies.Portfolio(reward="nope"), ("reward", "nope")),
        ("BO(n_initial=True)", lambda: strategies.BO(n_initial=True), ("n_initial", "True")),
        ("BO(kappa='x')", lambda: strategies.BO(kappa="x"), ("kappa", "x")),
        ("BO(seed=-1)", lambda: strategies.BO(seed=-1), ("seed", "-1")),
        ("BO(candidates='nope')", lambda: strategies.BO(candidates="nope"), ("candidates", "nope")),
        ("BO(predictor=3)", lambda: strategies.BO(predictor=3), ("predictor", "3")),
        ("OptunaSampler(seed=1.5)", lambda: strategies.OptunaSampler(seed=1.5), ("seed", "1.5")),
        ("OptunaSampler(sampler=3)", lambda: strategies.OptunaSampler(sampler=3), ("sampler", "3")),
        ("OptunaSampler(sampler_params=[1])", lambda: strategies.OptunaSampler(sampler="tpe", sampler_params=[1]), ("sampler_params",)),
        ("Portfolio(seed='x')", lambda: strategies.Portfolio(seed="x"), ("seed", "x")),
        ("Portfolio(exploration=-1)", lambda: strategies.Portfolio(bandit="ucb", exploration=-1), ("exploration", "-1")),
        ("Portfolio(prior={'random': -1})", lambda: strategies.Portfolio(prior={"random": -1.0}), ("prior", "-1")),
        ("Portfolio(prior={'random': nan})", lambda: strategies.Portfolio(prior={"random": math.nan}), ("prior", "nan")),
        ("Portfolio(strategies=['random', 3])", lambda: strategies.Portfolio(strategies=["random", 3]), ("strategies", "3")),
        ("Portfolio(hedge_reward='nope')", lambda: strategies.Portfolio(hedge_reward="nope"), ("hedge_reward", "nope")),
        ("BO(explore_quantile=2)", lambda: strategies.BO(explore_quantile=2), ("explore_quantile", "2")),
        ("BO(regions=0)", lambda: strategies.BO(regions=0), ("regions", "0")),
        ("BO(warp='nope')", lambda: strategies.BO(warp="nope"), ("warp", "nope", "none")),
        ("BO(init='nope')", lambda: strategies.BO(init="nope"), ("init", "nope", "random")),
        ("BO(kappa=nan)", lambda: strategies.BO(kappa=math.nan), ("kappa", "nan")),
        ("BO(allow_duplicates='yes')", lambda: strategies.BO(allow_duplicates="yes"), ("allow_duplicates", "yes")),
        ("BO(predictor=Predictor(model='nope'))", lambda: strategies.BO(predictor=__import__("nasbook").Predictor(model="nope")), ("model", "nope")),
        ("OptunaSampler(sampler='TPE')", lambda: strategies.OptunaSampler(sampler="TPE"), ("sampler", "TPE", "tpe")),
        ("OptunaSampler(project='no')", lambda: strategies.OptunaSampler(project="no"), ("project", "no")),
        ("Portfolio(discount=nan)", lambda: strategies.Portfolio(discount=math.nan), ("discount", "nan")),
        ("Portfolio(prior={'random': 'x'})", lambda: strategies.Portfolio(prior={"random": "x"}), ("prior", "x", "random")),
        ("Portfolio(strategies=['random', 'asha'])", lambda: strategies.Portfolio(strategies=["random", "asha"]), ("strategies", "asha")),
        ("Search(strategy='bayes')", None, ("strategy", "bayes", "bo")),
    ]
    check(Q, "Portfolio(strategies=['bo', 'bo']): runs or refused naming the repeat",
          lambda: _budget_with(strategies.Portfolio(strategies=["bo", "bo"], seed=0), 4), "either", ("bo",))
    check(Q, "one BO instance given to two searches: the second proposes what the first did",
          lambda: _reused(strategies.BO(n_initial=2, seed=0)))
    check(Q, "one OptunaSampler instance given to two searches: the second proposes what the first did",
          lambda: _reused(strategies.OptunaSampler(seed=0)))
    check(Q, "OptunaSampler(sampler=optuna.samplers.TPESampler(seed=0)) stopped at 4 of 8 and resumed with load_search(strategy=the same): same proposals",
          lambda: _resume_same("optuna-instance", workdir))
    check(Q, "BO(n_initial=20) with budget 3", lambda: _budget_with(strategies.BO(n_initial=20, seed=0), 3))
    check(Q, "BO(predictor=Predictor(model='gp')) budget 5 on MNIST-1D", lambda: _budget_with(
        strategies.BO(predictor=__import__("nasbook").Predictor(model="gp"), n_initial=2, seed=0), 5, _table("mnist1d")))
    if not QUICK:
        from nasbook.tasks import NasBenchGraph

        for kind in ("bo", "optuna", "portfolio"):
            check(Q, f"{kind} on NAS-Bench-Graph cora, budget 12", lambda k=kind: _budget_with(_strategy(k), 12, NasBenchGraph("cora")))
    check(Q, "Search(strategy='bo', budget=1) by name", lambda: _budget_with("bo", 1))
    check(Q, "Search(strategy='portfolio', budget=3) on MNIST-1D (all four default arms)", lambda: _budget_with("portfolio", 3, _table("mnist1d")))
    check(Q, "Search(strategy='optuna', budget=5) on MNIST-1D (conditional layers)", lambda: _budget_with("optuna", 5, _table("mnist1d")))
    check(Q, "OptunaSampler(project_unseen=True) budget 5", lambda: _budget_with(strategies.OptunaSampler(project_unseen=True, seed=0), 5))
    for acq in ("ucb", "ts"):
        check(Q, f"BO(acquisition={acq!r}) budget 5", lambda a=acq: _budget_with(strategies.BO(acquisition=a, n_initial=2, seed=0), 5))
    check(Q, "Portfolio(bandit='ts') stopped at 4 of 8 and resumed: same proposals", lambda: _resume_same("portfolio-ts", workdir))
    check(Q, "BO stopped at 1 of 8 (inside its initial design) and resumed: same proposals", lambda: _resume_same("bo", workdir, at=1))
    for kind in ("bo", "optuna", "portfolio"):
        check(Q, f"{kind}: a finished 5-trial search extended to 8 (load_search(budget=8)): the proposals of an 8-trial run",
              lambda k=kind: _extended(k, workdir))
    def runs(make: Any) -> Any:
        strategy = "bayes" if make is None else make()
        return Search(_table(), strategy=strategy, budget=2, seed=0, storage=":memory:").run(progress="none")

    for name, make, says in bad:
        check(Q, f"{name}: refused by the time a search runs", lambda m=make: runs(m),
              "refused", says)


# --------------------------------------------------------------------------------------------------- evaluate

def part_evaluate(workdir: Path) -> None:
    from nasbook.predictors import evaluate

    Q = "evaluate"
    d = _table()
    kw: dict[str, Any] = {"progress": False, "baselines": False}
    check(Q, "n_train=[500] on the 300-architecture Digits table", lambda: evaluate("gp", d, n_train=[500], seeds=1, **kw),
          "refused", ("n_train", "500", "300"))
    check(Q, "n_train=[290], n_test=50 (together above the table)", lambda: evaluate("gp", d, n_train=[290], seeds=1, n_test=50, **kw),
          "refused", ("n_test", "300"))
    check(Q, "n_train=[0]", lambda: evaluate("gp", d, n_train=[0], seeds=1, **kw), "refused", ("n_train", "0", "2"))
    check(Q, "n_train=[]", lambda: evaluate("gp", d, n_train=[], seeds=1, **kw), "refused", ("n_train",))
    check(Q, "n_train=[20, 20]", lambda: evaluate("gp", d, n_train=[20, 20], seeds=1, **kw), "refused", ("n_train", "20"))
    check(Q, "n_train=20.5", lambda: evaluate("gp", d, n_train=20.5, seeds=1, **kw), "refused", ("n_train", "20.5"))
    check(Q, "seeds=0", lambda: evaluate("gp", d, n_train=[20], seeds=0, **kw), "refused", ("seeds", "0"))
    check(Q, "seeds=-2", lambda: evaluate("gp", d, n_train=[20], seeds=-2, **kw), "refused", ("seeds", "-2"))
    check(Q, "seeds=[]", lambda: evaluate("gp", d, n_train=[20], seeds=[], **kw), "refused", ("seeds",))
    check(Q, "seeds=[1, 1]", lambda: evaluate("gp", d, n_train=[20], seeds=[1, 1], **kw), "either", ("seeds", "1"))
    check(Q, "n_test=1", lambda: evaluate("gp", d, n_train=[20], seeds=1, n_test=1, **kw), "refused", ("n_test", "1"))
    check(Q, "predictor='nope'", lambda: evaluate("nope", d, n_train=[20], seeds=1, **kw), "refused", ("nope", "gp"))
    check(Q, "predictor=[]", lambda: evaluate([], d, n_train=[20], seeds=1, **kw), "refused", ("predictor",))
    check(Q, "task=a Search space (not a tabular task)", lambda: evaluate("gp", d.space, n_train=[20], seeds=1, **kw), "refused", ("task",))
    check(Q, "k=1.0", lambda: evaluate("gp", d, n_train=[20], seeds=1, n_test=50, k=1.0, **kw), "refused", ("k", "1.0"))
    check(Q, "k=0", lambda: evaluate("gp", d, n_train=[20], seeds=1, n_test=50, k=0, **kw), "refused", ("k", "0"))
    check(Q, "k=60 with n_test=50", lambda: evaluate("gp", d, n_train=[20], seeds=1, n_test=50, k=60, **kw), "refused", ("k", "60", "50"))
    check(Q, "progress='nope'", lambda: evaluate("gp", d, n_train=[20], seeds=1, n_test=50, progress="nope", baselines=False),
          "refused", ("progress", "nope"))
    check(Q, "baselines=['nope']", lambda: evaluate("gp", d, n_train=[20], seeds=1, n_test=50, baselines=["nope"], progress=False),
          "refused", ("baselines", "nope", "#params"))
    check(Q, "baselines=['#params', '#params']", lambda: evaluate("gp", d, n_train=[20], seeds=1, n_test=50, baselines=["#params", "#params"],
                                                                   progress=False), "refused", ("baselines", "#params"))
    check(Q, "n_train=numpy.array([10, 20]), seeds=numpy.int64(1)", lambda: _evaluated(
        evaluate("gp", d, n_train=__import__("numpy").array([10, 20]), seeds=__import__("numpy").int64(1), n_test=40, **kw), 1, [10, 20], 1))
    check(Q, "n_train=[298], n_test=None: holds out the 2 left", lambda: _evaluated(
        evaluate("extra-trees", d, n_train=[298], seeds=1, n_test=None, **kw), 1, [298], 1).attrs["n_test"])
    check(Q, "n_train=[20] with the default n_test (2000) on the 300-architecture table: runs or refused naming n_test=None",
          lambda: evaluate("gp", d, n_train=[20], seeds=1, **kw), "either", ("n_test", "280", "n_test=None"))
    check(Q, "a dict with a label '' ", lambda: evaluate({"": "gp"}, d, n_train=[20], seeds=1, n_test=50, **kw), "either", ("predictor",))
    check(Q, "evaluate(Predictor(model='nope')): refused before any fit", lambda: evaluate(__import__("nasbook").Predictor(model="nope"), d,
          n_train=[20], seeds=1, n_test=50, **kw), "refused", ("model", "nope"))
    check(Q, "the same call twice: the same numbers (seeded by the split)", lambda: _twice_eval(evaluate, d))
    ds = check(Q, "Digits: gp and auto at n_train [10, 30], 2 seeds, n_test 100",
               lambda: _evaluated(evaluate({"gp": "gp", "auto": "auto"}, d, n_train=[30, 10], seeds=2, n_test=100, **kw), 2, [10, 30], 2))
    if ds is not None:
        check(Q, "viz.plot_predictor_scores of it", lambda: type(__import__("nasbook.viz").viz.plot_predictor_scores(ds)).__name__)
    check(Q, "MNIST-1D: extra-trees at n_train 20, seeds=[3], baselines", lambda: _evaluated(
        evaluate("extra-trees", _table("mnist1d"), n_train=20, seeds=[3], n_test=50, progress=False), None, [20], 1))
    if not QUICK:
        from nasbook.tasks import NasBenchGraph

        check(Q, "NAS-Bench-Graph cora: gp at n_train [20, 50], 1 seed, n_test 200",
              lambda: _evaluated(evaluate("gp", NasBenchGraph("cora"), n_train=[20, 50], seeds=1, n_test=200, **kw), 1, [20, 50], 1))


def _twice_eval(evaluate: Any, d: Any) -> str:
    import numpy as np

    a = evaluate("extra-trees", d, n_train=[20, 40], seeds=2, n_test=60, progress=False, baselines=False)
    b = evaluate("extra-trees", d, n_train=[20, 40], seeds=2, n_test=60, progress=False, baselines=False)
    np.testing.assert_array_equal(a["kendall_tau"].values, b["kendall_tau"].values)
    return "same"


def _evaluated(ds: Any, n_pred: int | None, sizes: list[int], n_seeds: int) -> Any:
    import numpy as np

    if n_pred is not None:
        same(ds.sizes["predictor"], n_pred, "predictors")
    same([int(x) for x in ds["n_train"].values], sizes, "n_train")
    same(ds.sizes["seed"], n_seeds, "seeds")
    tau = ds["kendall_tau"].values
    if not np.isfinite(tau).all() or (abs(tau) > 1).any():
        raise Wrong(f"kendall_tau {tau}")
    return ds


def main() -> None:
    global QUICK
    from _common import probe_args, run_probe

    argv = sys.argv[1:]
    QUICK = "--quick" in argv
    argv = [a for a in argv if a != "--quick"]
    args, parts, _, workdir = probe_args((__doc__ or "") + "\n--quick: no NAS-Bench-Graph, no 5-trial budgets", PARTS,
                                         range(0, 1), "the probe (its checks are not random)", "nasbook-probe12-", argv)
    run_probe(RESULTS, args, parts, workdir, {"predictor": part_predictor, "strategies": part_strategies,
                                              "evaluate": part_evaluate})


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
