"""OmniPredictor: extra per-architecture columns (proxies, early curves) beside the encoding."""

from __future__ import annotations

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.predictors import OmniPredictor, Predictor, RandomForest, evaluate
from nasbook.tasks import DigitsTable


@pytest.fixture(autouse=True)
def _one_thread():
    import sklearn.ensemble  # noqa: F401 - loads scikit-learn's OpenMP runtime, so that the limit reaches it
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def table():
    return DigitsTable()


def _extra(table, column):
    import xarray as xr

    return xr.Dataset({"col": ("arch", column)}, coords={"arch": [a.id for a in table.space.members]})


@pytest.mark.slow
def test_an_informative_extra_column_is_used_through_the_harness(table):
    """The final value itself as the extra column: the omni model must rank far better than the
    encoding alone (so the column reaches the model), with -inf and NaN handled."""
    final = table.values().copy()
    final[0] = -np.inf  # NASWOT's "worst": must not break the fit
    models = {"encoding": RandomForest(calibration="none", seed=0),
              "omni": OmniPredictor(extra=_extra(table, final), model=RandomForest(), calibration="none", seed=0)}
    ds = evaluate(models, table, n_train=[40], seeds=2, n_test=100, baselines=False, progress=False)
    tau = ds["kendall_tau"].mean("seed").sel(n_train=40)
    assert float(tau.sel(predictor="omni")) > float(tau.sel(predictor="encoding")) + 0.2
    assert float(tau.sel(predictor="omni")) > 0.6


def test_extra_columns_alone_and_other_formats(table):
    archs, y = table.space.members[:60], table.values()[:60]
    noise = np.random.default_rng(0).normal(size=len(table.space.members))
    as_dict = {a.id: [float(v), float(n)] for a, v, n in zip(table.space.members, table.values(), noise)}
    p = OmniPredictor(extra=as_dict, model=RandomForest(), encoding=False, calibration="none", seed=0).fit(archs[:40], y[:40])
    assert p.n_features_in_ == 2 and p.extra_names_ == ["extra[0]", "extra[1]"]
    assert p.score(archs[40:], y[40:]) > 0.5
    with_enc = OmniPredictor(extra=as_dict, model=RandomForest(), calibration="none", seed=0).fit(archs[:40], y[:40])
    assert with_enc.n_features_in_ > 2
    assert "60" not in repr(p) and "300 architectures x 2 columns" in repr(p)
    # the default ensemble: every member gets the extra columns, with or without the encoding
    alone = OmniPredictor(extra=as_dict, encoding=False, calibration="none", seed=0).fit(archs[:40], y[:40])
    assert alone.n_features_in_ == 2 and alone.model_.members_[0]._center.shape == (2,)
    assert len(alone.model_.members_) == 3  # both Gaussian processes would see the same two columns: fitted once
    assert alone.score(archs[40:], y[40:]) > 0.5
    both = OmniPredictor(extra=as_dict, calibration="none", seed=0).fit(archs[:40], y[:40])
    gp_own, gp_adj = both.model_.members_[:2]
    n_enc = sum(table.space.encoding_size(k) for k in both.features_)
    assert both.n_features_in_ == n_enc + 2
    assert gp_adj._center.shape == (table.space.encoding_size("adjacency") + 2,)
    clone = p.clone()
    assert clone.extra is p.extra


def test_missing_architectures_and_bad_extra_are_clear_errors(table):
    archs, y = table.space.members[:20], table.values()[:20]
    partial = {a.id: [1.0] for a in archs[:10]}
    with pytest.raises(InvalidParameterError, match=r"extra=...\) has no row for 10 architecture\(s\)"):
        OmniPredictor(extra=partial, model=RandomForest()).fit(archs, y)
    with pytest.raises(InvalidParameterTypeError, match=r"extra=...\) must be an xarray Dataset over dim 'arch'"):
        OmniPredictor(extra=[1, 2, 3]).fit(archs, y)
    with pytest.raises(InvalidParameterError, match=r"extra=...\) is required"):
        OmniPredictor().fit(archs, y)
    assert isinstance(OmniPredictor(extra=partial), Predictor)
