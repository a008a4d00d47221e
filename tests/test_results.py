import numpy as np
import pandas as pd
import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.strategies import SuccessiveHalving
from nasbook.tasks import NasBenchGraph
from nasbook.testing import ToyTask


@pytest.fixture(scope="module")
def ds():
    return nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=60, seed=0, storage=":memory:").run().to_xarray()


def test_best_k(ds):
    top = ds.nas.best(5)
    assert top.sizes["trial"] == 5
    assert list(top["value"].values) == sorted(ds["value"].values, reverse=True)[:5]
    with pytest.raises(InvalidParameterError):
        ds.nas.best(0)


def test_pareto_front_against_brute_force(ds):
    front = ds.nas.pareto_front(minimize=["latency_ms"])
    v, lat = ds["value"].values, ds["latency_ms"].values
    expected = [
        int(ds.trial[i]) for i in range(len(v))
        if not any((v[j] >= v[i]) and (lat[j] <= lat[i]) and ((v[j] > v[i]) or (lat[j] < lat[i])) for j in range(len(v)))
    ]
    assert sorted(front.trial.values.tolist()) == sorted(expected)
    assert int(ds.trial[np.argmax(v)]) in front.trial.values  # the best is never dominated
    with pytest.raises(InvalidParameterError, match=r"'latency' is not a per-trial number.*'latency_ms'"):
        ds.nas.pareto_front(minimize=["latency"])


def test_curves_get_an_epoch_dimension():
    space = GraphSpace(ops=PROTEINS_OPS)
    s = nasbook.Search(space, ToyTask(space, epochs=9), strategy=SuccessiveHalving(max_epochs=9, n_initial=9),
                       budget=13, seed=0, storage=":memory:").run()
    ds = s.to_xarray()
    assert ds["curve_score"].dims == ("trial", "epoch") and ds.sizes["epoch"] == 9
    one_epoch = ds.where(ds["epochs"] == 1, drop=True)
    assert np.isnan(one_epoch["curve_score"].values[:, 1:]).all()
    promoted = ds.where(ds["parent"] >= 0, drop=True)
    assert promoted.sizes["trial"] == 4


def test_the_dataframe_shows_each_childs_lineage_as_the_dataset_does():
    from nasbook.strategies import RegularizedEvolution

    s = nasbook.Search(NasBenchGraph("cora"), strategy=RegularizedEvolution(population_size=5, sample_size=2),
                       budget=12, seed=0, storage=":memory:").run(progress="none")
    df, ds = s.to_dataframe(), s.to_xarray()
    lineage = [t.lineage[0] if t.lineage else None for t in s.trials]
    assert any(x is not None for x in lineage) and lineage[0] is None
    assert [None if x is pd.NA else int(x) for x in df["derived_from"]] == lineage
    assert ds["derived_from"].values.tolist() == [-1 if x is None else x for x in lineage]
    assert df["parent"].isna().all() and "parent" in ds


def test_integer_trial_attributes_stay_integers_in_the_dataframe():
    """A rank or a count (e.g. warm_start_rank) read 0.0, 1.0, ... after the NaN fill; pandas' nullable
    Int64 keeps it an integer, missing where a trial lacks it. The Dataset keeps floats (NaN)."""
    import pandas as pd

    from nasbook.search import Search
    from nasbook.space import GraphSpace
    from nasbook.testing._toy import ToyTask

    space = GraphSpace()
    s = Search(space, ToyTask(space), strategy="random", budget=4, seed=0, storage=":memory:").run(progress="none")
    for i, t in enumerate(s.trials):
        if i < 2:
            t.attrs["warm_start_rank"] = i
        t.attrs["flag"] = i % 2 == 0  # bools are not integers here
    df = s.to_dataframe()
    assert str(df["warm_start_rank"].dtype) == "Int64"
    assert df["warm_start_rank"].iloc[:2].tolist() == [0, 1] and df["warm_start_rank"].iloc[2:].isna().all()
    assert isinstance(df["warm_start_rank"].dtype, pd.Int64Dtype)
    assert s.to_xarray()["warm_start_rank"].dtype == float



def test_a_look_up_search_has_no_epochs_variable_and_a_search_that_trains_always_has_one(ds, tmp_path):
    """epochs was an all-NaN variable on NAS-Bench-Graph (it only looks final scores up); it is kept on
    a task with epochs even before any trial has them, so the variables do not change with the trials."""
    from nasbook.strategies import ASHA
    from nasbook.tasks import DigitsTable

    assert "epochs" not in ds and ds.attrs["schema_version"] == 2
    assert all(not np.isnan(ds[v].values).all() for v in ds.data_vars if ds[v].dtype.kind == "f")
    assert {"value", "best_so_far", "duration_s", "parent", "derived_from", "reason"} <= set(ds.data_vars)
    store = str(tmp_path / "s.db")
    first = nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=3, seed=0, storage=store, name="nbg").run()
    resumed = nasbook.load_search("nbg", store).extend(3).run()  # resumed: the same variables
    assert resumed.to_xarray().sizes["trial"] == 6 and set(resumed.to_xarray().data_vars) == set(first.to_xarray().data_vars)
    assert "epochs" in first.to_dataframe().columns  # the flat table keeps its fixed columns
    table = nasbook.Search(DigitsTable(), strategy=ASHA(max_epochs=9), budget=4, seed=0, storage=":memory:")
    assert "epochs" in table.to_xarray() and table.to_xarray().sizes["trial"] == 0  # before any trial
    assert np.isfinite(table.run().to_xarray()["epochs"].values).all()


def test_the_strategy_attr_shows_the_seed_run_gives_it_before_the_search_runs(tmp_path):
    # created or loaded and exported before run(): the strategy attr said seed=None while attrs["seed"] said 100
    space = GraphSpace(ops=PROTEINS_OPS)
    path = tmp_path / "seeded.db"
    created = nasbook.Search(space, ToyTask(space), strategy="evolution", budget=3, seed=100, storage=path, name="s")
    assert "seed=100" in created.to_xarray().attrs["strategy"]
    created.run(progress="none")
    ran = created.to_xarray().attrs["strategy"]
    loaded = nasbook.load_search("s", path, task=ToyTask(space))
    ds = loaded.to_xarray()
    assert ds.attrs["seed"] == 100
    assert ds.attrs["strategy"] == ran  # what the search that ran showed: seed=100
    assert "seed=None" not in ds.attrs["strategy"]
    assert repr(loaded.strategy).count("seed=None") == 1  # the object itself is left as stored (not set up)
    own = nasbook.Search(space, ToyTask(space), strategy=nasbook.strategies.RandomSearch(seed=7), budget=2, seed=100,
                         storage=":memory:")
    assert "seed=7" in own.to_xarray().attrs["strategy"]  # a strategy's own seed wins, as in setup
