"""Search(warm_start=...): the seeds come first, say where they came from, and survive a resume."""

import json

import numpy as np
import pandas as pd
import pytest

import nasbook
from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.knowledge import select_warm_start
from nasbook.predictors import RandomForest
from nasbook.search import _warm
from nasbook.space import CellSpace
from nasbook.strategies import BO, RegularizedEvolution
from nasbook.tasks import NasBenchGraph


@pytest.fixture
def task():
    return NasBenchGraph("cora")


@pytest.fixture
def seeds(task):
    rng = np.random.default_rng(3)
    return [task.space.sample(rng) for _ in range(6)]


def _past(task, seeds):
    rows = [{"task": t, "search": f"{t}-evo", "space_id": a.space_id, "arch_id": a.id, "arch": a.to_dict(),
             "value": float(v), "mode": "max"} for t in ("p", "q") for v, a in enumerate(seeds)]
    return pd.DataFrame(rows)


def cheap_bo(**kw):
    return BO(predictor=RandomForest(n_estimators=8, calibration="none"), n_initial=4, **kw)


@pytest.mark.parametrize("strategy", ["random", "evolution", "local", "bo"])
def test_the_first_trials_are_the_seeds_with_their_origin(task, seeds, strategy):
    strat = cheap_bo() if strategy == "bo" else strategy
    s = nasbook.Search(task, strategy=strat, budget=12, seed=0, storage=":memory:", warm_start=seeds).run(progress="none")
    ids = [t.arch.id for t in s.trials]
    assert ids[:6] == [a.id for a in seeds]
    assert len(set(ids)) == 12
    for i, t in enumerate(s.trials):
        if i < 6:
            assert t.attrs["warm_start_rank"] == i and t.attrs["warm_start_from"] == "given"
        else:
            assert "warm_start_rank" not in t.attrs
    assert "warm-started with 6" in repr(s)
    ds = s.to_xarray()
    assert [d["id"] for d in json.loads(ds.attrs["warm_start"])] == [a.id for a in seeds]
    rank = ds["warm_start_rank"].values
    assert list(rank[:6]) == list(range(6)) and np.isnan(rank[6:]).all()


def test_evolution_mutates_its_seeds_at_once(task, seeds):
    s = nasbook.Search(task, strategy=RegularizedEvolution(population_size=30, sample_size=3), budget=16, seed=1,
                       storage=":memory:", warm_start=seeds).run(progress="none")
    # no random initial population: every trial after the seeds is a mutation (it has a parent)
    assert all(t.lineage for t in s.trials[6:])
    cold = nasbook.Search(task, strategy=RegularizedEvolution(population_size=30, sample_size=3), budget=16, seed=1,
                          storage=":memory:").run(progress="none")
    assert not any(t.lineage for t in cold.trials)


def test_selected_seeds_carry_their_provenance(task, seeds):
    chosen = select_warm_start(_past(task, seeds), task.space, 3, diversify=False)
    s = nasbook.Search(task, budget=4, seed=0, storage=":memory:", warm_start=chosen).run(progress="none")
    assert [t.arch.id for t in s.trials[:3]] == [a.id for a in seeds[::-1][:3]]
    first = s.trials[0].attrs
    assert first["warm_start_from"].startswith("p q=0.92") and first["warm_start_score"] == pytest.approx(
        chosen[0][1]["score"])


def test_warm_start_n_selects_from_a_source(task, seeds):
    df = _past(task, seeds)
    got = _warm.resolve(4, task.space, lambda n: select_warm_start(df, task.space, n, diversify=False))
    assert [a.id for a, _ in got] == [a.id for a in seeds[::-1][:4]]
    assert len(_warm.resolve(True, task.space, lambda n: select_warm_start(df, task.space, n))) <= _warm.DEFAULT_N


@pytest.mark.parametrize("strategy", ["evolution", "bo"])
def test_an_interrupted_warm_search_resumes_exactly(tmp_path, task, seeds, strategy):
    path = tmp_path / "warm.db"

    def make(**kw):
        strat = cheap_bo() if strategy == "bo" else strategy
        return nasbook.Search(task, strategy=strat, budget=20, seed=5, warm_start=seeds, **kw)

    class Stop(Exception):
        pass

    def stop_at(k):
        def cb(search, trial):
            if search.n_trials == k:
                raise Stop
        return cb

    full = make(storage=":memory:").run(progress="none")
    for k in (3, 11):  # inside the seeds, then after them
        name = f"w{k}"
        with pytest.raises(Stop):
            make(storage=path, name=name, callbacks=[stop_at(k)]).run(progress="none")
        strat = cheap_bo() if strategy == "bo" else None
        loaded = nasbook.load_search(name, path, strategy=strat)
        assert "warm-started with 6" in repr(loaded)
        resumed = loaded.run(progress="none")
        assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
        assert [t.attrs.get("warm_start_rank") for t in resumed.trials[:6]] == list(range(6))


def test_bad_warm_start_is_refused_clearly(task, seeds):
    def search(ws):
        return nasbook.Search(task, budget=3, storage=":memory:", warm_start=ws)

    with pytest.raises(InvalidParameterError, match="kb="):
        search(5)
    with pytest.raises(InvalidParameterError, match="kb="):
        search(True)
    with pytest.raises(InvalidParameterError, match=">= 1"):
        search(-2)
    with pytest.raises(InvalidParameterTypeError, match="warm_start"):
        search("cora")
    with pytest.raises(InvalidParameterTypeError, match="warm_start"):
        search(seeds[0])
    with pytest.raises(InvalidParameterTypeError, match="item 1"):
        search([seeds[0], "x"])
    other = CellSpace().sample(np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match="item 0 is not an architecture of the search's space"):
        search([other])
    with pytest.raises(InvalidParameterError, match="JSON"):
        search([(seeds[0], {"f": object()})])


def test_duplicate_seeds_run_once(task, seeds):
    s = nasbook.Search(task, budget=4, seed=0, storage=":memory:", warm_start=[seeds[0], seeds[0], seeds[1]])
    s.run(progress="none")
    assert [t.arch.id for t in s.trials[:2]] == [seeds[0].id, seeds[1].id]
    assert len({t.arch.id for t in s.trials}) == 4


def test_bo_with_a_prior_is_stored_as_unstored_and_resumes_when_given_again(tmp_path, task, seeds):
    prior = lambda archs: [float(len(set(a["ops"]))) for a in archs]  # noqa: E731 - any archs -> scores callable
    path = tmp_path / "bo.db"
    s = nasbook.Search(task, strategy=cheap_bo(prior=prior), budget=8, seed=2, storage=path, name="bo",
                       warm_start=seeds[:3]).run(progress="none")
    assert type(s.strategy.predictor_).__name__ == "PriorPredictor"
    read_only = nasbook.load_search("bo", path)  # reads, without its prior: not resumable
    assert not read_only.resumable and read_only.trials == s.trials
    with pytest.raises(InvalidParameterError, match="prior .* not stored"):
        read_only.run(progress="none")
    again = nasbook.load_search("bo", path, strategy=cheap_bo(prior=prior), budget=10).run(progress="none")
    assert again.n_trials == 10 and [t.arch.id for t in again.trials[:3]] == [a.id for a in seeds[:3]]
    with pytest.raises(InvalidParameterTypeError, match="prior"):
        nasbook.Search(task, strategy=cheap_bo(prior=3), budget=2, storage=":memory:")


def test_the_results_tables_say_where_each_seed_came_from(task, seeds):
    past = _past(task, seeds)
    picked = select_warm_start(past, task.space, n=4)
    s = nasbook.Search(task, budget=6, seed=0, storage=":memory:", warm_start=picked).run(progress="none")
    df = s.to_dataframe()
    origins = [t.attrs.get("warm_start_from", "") for t in s.trials]
    assert df["warm_start_from"].tolist() == origins and origins[0] != "" and origins[-1] == ""
    assert s.to_xarray()["warm_start_from"].values.tolist() == origins
