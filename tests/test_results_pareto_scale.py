"""``ds.nas.pareto_front`` checks each trial against the front found so far (in lexicographic order), not
against every trial: the same front as the pairwise definition, ties, infinities and NaN included."""

import numpy as np
import pytest
import xarray as xr

import nasbook.results  # noqa: F401 - registers the .nas accessor


def _pairwise(cols):
    x = np.where(np.isnan(cols), np.inf, cols)
    return [i for i in range(len(x)) if not (np.all(x <= x[i], axis=1) & np.any(x < x[i], axis=1)).any()]


@pytest.mark.parametrize("seed", range(100, 110))
@pytest.mark.parametrize("n_objectives", [1, 2, 3])
def test_pareto_front_is_the_pairwise_one(seed, n_objectives):
    rng = np.random.default_rng(seed)
    n = 300
    data = {"value": rng.integers(0, 6, n).astype(float)}  # few levels: many ties
    for k in range(n_objectives - 1):
        col = rng.integers(0, 8, n).astype(float)
        col[rng.random(n) < 0.05] = np.inf
        col[rng.random(n) < 0.05] = np.nan
        data[f"c{k}"] = col
    trial = rng.permutation(n) + 1000
    ds = xr.Dataset({k: ("trial", v) for k, v in data.items()}, coords={"trial": trial}, attrs={"mode": "max"})
    minimize = [f"c{k}" for k in range(n_objectives - 1)]
    front = ds.nas.pareto_front(minimize=minimize, maximize=["value"])
    cols = np.stack([data[c] for c in minimize] + [-data["value"]], axis=1)
    assert front.trial.values.tolist() == trial[_pairwise(cols)].tolist()  # the same trials, in the same order
    assert len(front.trial) >= 1


def test_pareto_front_of_identical_trials_keeps_them_all():
    ds = xr.Dataset({"value": ("trial", np.ones(5)), "cost": ("trial", np.full(5, 2.0))}, coords={"trial": np.arange(5)})
    assert ds.nas.pareto_front(minimize=["cost"], maximize=["value"]).sizes["trial"] == 5
