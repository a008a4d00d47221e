"""numpy integers (``np.int64(20)``, what ``rng.integers`` and numpy arithmetic give) as arguments of the public API:
each case builds an object and runs it briefly twice, once with plain ints and once with numpy ints, and what a
user can see (a task's key, a space's id, reprs, stored configurations, results) must be the same and hold no
numpy scalar: ``ToyTask(seed=np.int64(3))`` once had another knowledge-base key than ``ToyTask(seed=3)``, and
``RegularizedEvolution(population_size=np.int64(20))`` failed inside its search."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import nasbook
from nasbook.space import CellSpace, ChainSpace, ConvDenseSpace
from nasbook.storage import task_key
from nasbook.testing import ToyTask

SPACE = ChainSpace(kind="mlp", max_depth=3)


def _plain(obj, where="result"):
    """Raise when ``obj`` holds a numpy scalar or a string that shows one (``np.int64(3)``)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            _plain(k, f"{where} key")
            _plain(v, f"{where}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _plain(v, f"{where}[{i}]")
    elif isinstance(obj, str):
        assert "np." not in obj and "numpy" not in obj, f"{where} shows a numpy scalar: {obj!r}"
    else:
        assert type(obj).__module__ != "numpy", f"{where} is a numpy {type(obj).__name__}: {obj!r}"


def _search(strategy, task, budget, seed):
    return nasbook.Search(task.space, task, strategy=strategy, budget=budget, seed=seed, storage=":memory:").run(progress="none")


def _seen(search):
    """What a finished search shows: its strategy's repr and config, its values and its task's key."""
    return {"repr": repr(search.strategy.clone()), "config": search.strategy.to_config(), "task_key": task_key(search.task.to_config()),
            "values": [t.value for t in search.trials], "seed": search.seed}


def _types(obj, names):
    return {n: type(getattr(obj, n)).__name__ for n in names}


# -- cases: each takes the int type n (int or np.int64) and returns what a user sees ------------------------------
def toy_task(n):
    task = ToyTask(SPACE, seed=n(3), epochs=n(2))
    return {"key": task_key(task.to_config()), "config": task.to_config(), "repr": repr(task), **_types(task, ["seed", "epochs"])}


def evolution_on_toy(n):
    strategy = nasbook.strategies.RegularizedEvolution(population_size=n(6), sample_size=n(3), seed=n(2))
    s = _search(strategy, ToyTask(SPACE, seed=n(3)), n(15), n(1))
    return {**_seen(s), **_types(s.strategy, ["population_size", "sample_size", "seed"])}


def evolution_on_nas_bench_graph(n):
    from nasbook.tasks import NasBenchGraph

    s = _search(nasbook.strategies.RegularizedEvolution(population_size=n(5), sample_size=n(2)), NasBenchGraph("cora"), n(15), n(4))
    return _seen(s)


def local_search(n):
    s = _search(nasbook.strategies.LocalSearch(n_initial=n(3)), ToyTask(SPACE, seed=1), n(10), n(0))
    return {**_seen(s), **_types(s.strategy, ["n_initial"])}


def bo(n):
    strategy = nasbook.strategies.BO(n_initial=n(4), n_candidates=n(30), radius=n(2), n_parents=n(2), regions=n(1))
    s = _search(strategy, ToyTask(SPACE, seed=1), n(6), n(0))
    return {**_seen(s), **_types(s.strategy, ["n_initial", "n_candidates", "radius", "n_parents", "regions"])}


def successive_halving(n):
    strategy = nasbook.strategies.SuccessiveHalving(min_epochs=n(1), max_epochs=n(9), eta=n(3), n_initial=n(9))
    s = _search(strategy, ToyTask(SPACE, epochs=n(9)), n(13), n(0))
    return {**_seen(s), "epochs": [t.epochs for t in s.trials], **_types(s.strategy, ["min_epochs", "max_epochs", "eta"])}


def median_stopping(n):
    strategy = nasbook.strategies.MedianStopping(min_epochs=n(1), min_trials=n(2))
    s = _search(strategy, ToyTask(SPACE, epochs=n(3)), n(6), n(0))
    return {**_seen(s), **_types(s.strategy, ["min_epochs", "min_trials"])}


def cell_space(n):
    space = CellSpace(n_nodes=n(4), channels=n(8), n_cells=n(2), n_stages=n(2))
    return {"id": space.space_id, "repr": repr(space), "n": len(space.enumerate(limit=n(20_000))),
            **_types(space, ["n_nodes", "channels", "n_cells", "n_stages"])}


def chain_space(n):
    space = ChainSpace(kind="mlp", min_depth=n(1), max_depth=n(3))
    return {"id": space.space_id, "repr": repr(space), **_types(space, ["min_depth", "max_depth"])}


def conv_dense_space(n):
    space = ConvDenseSpace(min_conv=n(0), max_conv=n(2), min_dense=n(1), max_dense=n(2))
    return {"id": space.space_id, "repr": repr(space), **_types(space, ["min_conv", "max_conv", "min_dense", "max_dense"])}


@pytest.fixture(scope="module")
def _cells():
    space = CellSpace()
    return space, space.enumerate()[:3000]


def _index_case(method, **params):
    def case(n, cells):
        from nasbook.knowledge import ArchIndex

        space, archs = cells
        index = ArchIndex(space, method=method, exact_max=n(100), **{k: n(v) for k, v in params.items()}).add(archs)
        near = index.similar(archs[7], n(5))
        return {"ids": near["arch_id"].tolist(), "built": index.kind_built_, **_types(index, ["exact_max", *params])}
    case.__name__ = f"arch_index_{method}"
    case.needs_cells = True  # type: ignore[attr-defined]
    return case


def knowledge_base(n, tmp_path):
    kb = nasbook.KnowledgeBase(tmp_path / f"kb-{n.__name__}.db")
    task = ToyTask(SPACE, seed=n(3))
    s = nasbook.Search(SPACE, task, budget=n(8), seed=n(0), kb=kb, name="a").run(progress="none")
    near = kb.similar(s.trials[0].arch, k=n(3), task=task)
    warm = kb.warm_start(SPACE, n=n(2))
    return {"near": near["arch_id"].tolist(), "warm": [a.id for a, _ in warm], "tasks": sorted(kb.tasks["key"].tolist()) if "key" in kb.tasks else len(kb.tasks)}


def _archs_and_values(n=30):
    task = ToyTask(SPACE, seed=5)
    archs = [SPACE.sample(np.random.default_rng(i)) for i in range(n)]
    return archs, np.array([task.evaluate(a).value for a in archs])


def random_forest(n):
    from nasbook.predictors import RandomForest

    archs, y = _archs_and_values()
    model = RandomForest(n_estimators=n(8), min_samples_leaf=n(1), seed=n(0)).fit(archs[:20], y[:20], space=SPACE)
    return {"params": model.get_params(), "repr": repr(model), "mean": model.predict_mean_std(archs[20:])[0].round(9).tolist()}


def gradient_boosting(n):
    from nasbook.predictors import GradientBoosting

    archs, y = _archs_and_values()
    model = GradientBoosting(max_iter=n(10), max_leaf_nodes=n(4), seed=n(0)).fit(archs[:20], y[:20], space=SPACE)
    return {"params": model.get_params(), "repr": repr(model), "mean": model.predict_mean_std(archs[20:])[0].round(9).tolist()}


def predictor_evaluate(n):
    from nasbook.predictors import evaluate
    from nasbook.tasks import DigitsTable

    ds = evaluate("gp", DigitsTable(), n_train=[n(10)], seeds=n(1), n_test=n(30), k=n(3), baselines=False, progress=False)
    attrs = {k: ds.attrs[k] for k in ("n_test", "top_k", "k", "n_archs")}
    return {"attrs": attrs, "tau": ds["kendall_tau"].values.round(9).ravel().tolist(), "n_train": [int(n) for n in ds["n_train"].values],
            "types": {k: type(v).__name__ for k, v in attrs.items()}}


def results_best(n):
    ds = _search(nasbook.strategies.RandomSearch(), ToyTask(SPACE, seed=1), 8, 0).to_xarray()
    return {"best": [int(n) for n in ds.nas.best(n(3))["trial"].values]}


def alpha_schedule(n):
    from nasbook.growth import AlphaSchedule

    schedule = AlphaSchedule(length=n(5))
    return {"schedule": schedule.to_dict(), "length": type(schedule.length).__name__}


def seed_controller(n):
    from nasbook.growth import SeedController  # imports Lightning (about 10 s)

    return _types(SeedController([], patience=n(2), delay_epochs=n(1)), ["patience", "delay_epochs"])


def latency(n):
    import torch

    from nasbook.proxies import latency as measure

    lat = measure(torch.nn.Linear(4, 2), (4,), batch_size=n(2), warmup=n(1), repeats=n(2), num_threads=n(1))
    return {"batch_size": lat.batch_size, "num_threads": lat.num_threads, **_types(lat, ["batch_size", "num_threads"])}


def options(n):
    with nasbook.set_options(display_max_rows=n(30), stop_after_failures=n(2)) as opts:
        seen = {k: nasbook.get_options()[k] for k in ("display_max_rows", "stop_after_failures")}
        return {**seen, "types": {k: type(v).__name__ for k, v in seen.items()}, "repr": repr(opts)}


def growth_moves(n):
    from nasbook.growth import deepen, widen

    chain = ChainSpace(kind="mlp", max_depth=4)
    a = chain.make(layers=[["relu", 32], ["relu", 64]])
    return {"deepen": deepen(chain, a, n(1)).to_dict(), "widen": widen(chain, a, n(0)).to_dict()}


CASES = [toy_task, evolution_on_toy, evolution_on_nas_bench_graph, local_search, bo, successive_halving, median_stopping,
         cell_space, chain_space, conv_dense_space, _index_case("flat"), _index_case("ivf", nprobe=4),
         _index_case("hnsw", ef_search=32), knowledge_base, random_forest, gradient_boosting, predictor_evaluate,
         results_best, alpha_schedule, pytest.param(seed_controller, marks=pytest.mark.slow), latency, options, growth_moves]


@pytest.mark.parametrize("case", CASES, ids=[getattr(c, "__name__", None) or c.values[0].__name__ for c in CASES])
def test_numpy_ints_behave_as_plain_ints(case, request, tmp_path):
    extra = []
    if getattr(case, "needs_cells", False):
        extra = [request.getfixturevalue("_cells")]
    elif case is knowledge_base:
        extra = [tmp_path]
    plain = case(int, *extra)
    with_numpy = case(np.int64, *extra)
    _plain(with_numpy)
    json.dumps(with_numpy)  # no default=: a numpy integer would raise here
    assert with_numpy == plain


def test_toy_task_refuses_what_is_not_a_seed():
    for bad in ("3", 1.5, -1, True, None):
        with pytest.raises(nasbook.InvalidParameterError, match=r"ToyTask\(seed=\.\.\.\) must be an int >= 0"):
            ToyTask(SPACE, seed=bad)
    with pytest.raises(nasbook.InvalidParameterError, match=r"ToyTask\(fail_ids=\.\.\.\) must be a collection"):
        ToyTask(SPACE, fail_ids="abc")  # a bare id once failed each of its letters
    for bad in (-0.1, math.inf, "1"):
        with pytest.raises(nasbook.InvalidParameterError, match=r"ToyTask\(epoch_s=\.\.\.\) must be a finite number"):
            ToyTask(SPACE, epochs=2, epoch_s=bad)


def test_numpy_floats_are_stored_as_plain_floats():
    task = ToyTask(SPACE, seed=3, epochs=1, epoch_s=np.float32(0.0))
    plain = ToyTask(SPACE, seed=3, epochs=1, epoch_s=0.0)
    assert task_key(task.to_config()) == task_key(plain.to_config()) and type(task.epoch_s) is float
    from nasbook.predictors import GradientBoosting

    model = GradientBoosting(learning_rate=np.float64(0.25))
    assert repr(model) == repr(GradientBoosting(learning_rate=0.25)) and type(model.get_params()["learning_rate"]) is float
