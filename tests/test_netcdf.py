"""Every Dataset nasbook returns is written and read back by xarray's default netCDF engine.

Without a netCDF4 or h5netcdf engine xarray falls back to scipy's netCDF3 writer, which cannot
write a Dataset with a ``mode`` attribute (every search's) and narrows int64 and strings: saving
results, the commonest step after a search, failed. nasbook depends on h5netcdf for this.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import nasbook
import nasbook.viz
from nasbook.predictors import evaluate
from nasbook.tasks import DigitsTable, NasBenchGraph


def _round_trip(ds: xr.Dataset, path) -> xr.Dataset:
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        return back.load()


def _assert_same(ds: xr.Dataset, back: xr.Dataset) -> None:
    xr.testing.assert_equal(ds, back)
    assert set(back.attrs) == set(ds.attrs)
    for key, value in ds.attrs.items():
        # netCDF stores a one-element list attribute as a scalar, so compare them flattened
        assert np.array_equal(np.ravel(back.attrs[key]), np.ravel(value)), key
    for name in ds.variables:
        if ds[name].dtype.kind in "iufb":
            assert back[name].dtype == ds[name].dtype, name


@pytest.fixture(scope="module")
def cora_search():
    search = nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=12, seed=0, storage=":memory:")
    search.run(progress=False)
    return search


def test_a_search_round_trips_with_its_attributes(cora_search, tmp_path):
    ds = cora_search.to_xarray()
    assert ds.attrs["mode"] == "max"  # the attribute scipy's writer cannot store
    back = _round_trip(ds, tmp_path / "search.nc")
    _assert_same(ds, back)
    assert back.attrs["environment"] == ds.attrs["environment"]


def test_an_unseeded_search_round_trips(tmp_path):
    search = nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=3, storage=":memory:")
    search.run(progress=False)
    ds = search.to_xarray()
    _assert_same(ds, _round_trip(ds, tmp_path / "unseeded.nc"))


def test_predictions_evaluation_and_comparisons_round_trip(cora_search, tmp_path):
    predictor = nasbook.Predictor(model="random-forest", seed=0).fit_search(cora_search)
    produced = {
        "predict": predictor.predict(cora_search.space.enumerate()[:5]),
        "evaluate": evaluate("random-forest", NasBenchGraph("cora"), n_train=[20], seeds=1, n_test=40,
                             baselines=False, progress=False),
        "compare": nasbook.viz._compare_info(cora_search),
    }
    for name, ds in produced.items():
        _assert_same(ds, _round_trip(ds, tmp_path / f"{name}.nc"))


def test_knowledge_base_trials_and_ground_truth_round_trip(tmp_path):
    kb = nasbook.KnowledgeBase(tmp_path / "kb.db")
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=4, seed=1, storage=":memory:", kb=kb).run(progress=False)
    produced = {"kb": kb.to_xarray(), "nbg_truth": NasBenchGraph("cora").ground_truth(),
                "digits_truth": DigitsTable().ground_truth()}
    for name, ds in produced.items():
        _assert_same(ds, _round_trip(ds, tmp_path / f"{name}.nc"))
