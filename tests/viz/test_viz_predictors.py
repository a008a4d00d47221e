"""Predictor plots: scores against training-set size (evaluate's result) and predicted vs true."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from scipy import stats

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.predictors import RandomForest, evaluate
from nasbook.tasks import DigitsTable
from nasbook.viz import plot_predictions, plot_predictor_scores, predictions_info, predictor_scores_info

needs_hvplot = pytest.mark.skipif(importlib.util.find_spec("hvplot") is None, reason="needs hvplot")


def _forest():
    return RandomForest(n_estimators=5, calibration="none")


@pytest.fixture(scope="module")
def scores_ds():
    return evaluate({"forest": _forest()}, DigitsTable(), n_train=[10, 30], seeds=3, n_test=60, baselines=["#params"],
                    progress=False)


@pytest.fixture(scope="module")
def scored():
    task = DigitsTable()
    archs = task.space.enumerate()
    y = task.values()
    p = _forest().fit(archs[:40], y[:40])
    p.score(archs[40:100], y[40:100])
    return p, archs, y


def test_scores_info_mean_and_bands(scores_ds):
    info = predictor_scores_info(scores_ds)
    assert info["mean"].dims == ("predictor", "n_train")
    tau = scores_ds["kendall_tau"].sel(predictor="forest", n_train=30).values
    assert info["mean"].sel(predictor="forest", n_train=30) == pytest.approx(tau.mean())
    half = stats.t.ppf(0.975, 2) * tau.std(ddof=1) / np.sqrt(3)
    assert info["hi"].sel(predictor="forest", n_train=30) == pytest.approx(tau.mean() + half)
    std = predictor_scores_info(scores_ds, band="std")
    assert std["lo"].sel(predictor="forest", n_train=30) == pytest.approx(tau.mean() - tau.std(ddof=1))
    assert info.attrs["reference"] == scores_ds.attrs["noise_ceiling"]


def test_scores_info_of_coverage_has_the_nominal_level_and_nan_baselines(scores_ds):
    info = predictor_scores_info(scores_ds, metric="coverage_68", band="none")
    assert info.attrs["reference"] == pytest.approx(0.6827)
    assert np.isnan(info["mean"].sel(predictor="#params")).all()
    assert (info["n_seeds"].sel(predictor="forest") == 3).all()
    assert (info["lo"] == info["mean"]).sel(predictor="forest").all()


def test_scores_info_errors(scores_ds):
    with pytest.raises(InvalidParameterError, match="did you mean 'kendall_tau'"):
        predictor_scores_info(scores_ds, metric="kendal_tau")
    with pytest.raises(InvalidParameterError, match="band"):
        predictor_scores_info(scores_ds, band="iqr")
    with pytest.raises(InvalidParameterTypeError, match="evaluate returned"):
        predictor_scores_info(scores_ds.isel(seed=0, drop=True))


def test_predictions_info(scored):
    p, archs, y = scored
    info = predictions_info(p)
    assert info.sizes["point"] == 60
    np.testing.assert_array_equal(info["true"].values, y[40:100])
    assert info.attrs["kendall_tau"] == pytest.approx(p.scores_["kendall_tau"])
    again = predictions_info(p, archs[100:130], y[100:130])  # scores them first
    assert again.sizes["point"] == 30


def test_predictions_info_errors(scored):
    _, archs, y = scored
    unscored = _forest().fit(archs[:20], y[:20])
    with pytest.raises(InvalidParameterError, match=r"call predictor.score\(archs, scores\) first"):
        predictions_info(unscored)
    with pytest.raises(InvalidParameterError, match="both or neither"):
        predictions_info(unscored, archs[:5])
    with pytest.raises(InvalidParameterTypeError, match="nasbook predictor"):
        predictions_info("gp")


@needs_hvplot
def test_predictor_plots_build(scores_ds, scored):
    import holoviews as hv

    for obj in (
        plot_predictor_scores(scores_ds),
        plot_predictor_scores(scores_ds, metric="coverage_95", band="std", width=500),
        plot_predictor_scores(scores_ds, metric="fit_s", band="none"),
        plot_predictions(scored[0]),
    ):
        assert isinstance(obj, hv.core.Dimensioned)
        assert not isinstance(obj, hv.DynamicMap)


@needs_hvplot
def test_predictor_scores_keep_the_legend_off_the_data_and_draw_the_reference_line(scores_ds):
    """In the notebook (bokeh) the legend sits beside the frame, the x axis reaches past the smallest and largest
    training sets (the dots at both ends were cut in half, and the legend sat on the last ones), and the y axis
    reaches the grey reference line the title names (bokeh ranged over the data alone, so it was not drawn)."""
    import holoviews as hv

    hv.extension("bokeh")
    for metric, reference in (("coverage_68", 0.6827), ("kendall_tau", None)):
        fig = hv.renderer("bokeh").get_plot(plot_predictor_scores(scores_ds, metric=metric)).state
        assert [type(x).__name__ for x in fig.right] == ["Legend"], "the legend is beside the frame"
        assert not [x for x in fig.center if type(x).__name__ == "Legend"], "no legend over the data"
        assert fig.x_range.start < 10 and fig.x_range.end > 30, (fig.x_range.start, fig.x_range.end)
        lo = float((scores_ds[metric].mean("seed")).min())
        assert fig.y_range.start < lo
        if reference is not None:
            assert fig.y_range.start < reference < fig.y_range.end
