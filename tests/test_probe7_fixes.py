"""Defects benchmarks/outside_probe7.py found: curves given as a pandas DataFrame were refused with a message
spanning many lines; CurveStopping's unknown fallback (and predictor) name did not name the parameter, and
min_epochs at or past max_epochs was accepted (nothing would ever be stopped); proxies.compute's refusals of a
bad batch or labels did not name task_or_batch / y."""
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from nasbook import InvalidParameterError, NasbookError
from nasbook.predictors import LastValue, ParametricCurves
from nasbook.strategies import CurveStopping
from nasbook.tasks import DigitsTable

CURVES = np.array([[0.2, 0.4, 0.5], [0.1, 0.3, 0.45], [0.3, 0.5, 0.55]])


@pytest.mark.parametrize("pred", [LastValue(), ParametricCurves()])
@pytest.mark.parametrize("wrap", [lambda c: pd.DataFrame(c, columns=[1, 2, 3]), lambda c: xr.DataArray(c, dims=("curve", "epoch")),
                                  lambda c: __import__("torch").tensor(c)], ids=["DataFrame", "DataArray", "tensor"])
def test_curves_as_a_dataframe_are_predicted_like_the_array(pred, wrap):
    got = pred.predict_arrays(wrap(CURVES), 9)
    want = pred.predict_arrays(CURVES, 9)
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1])


@pytest.mark.parametrize("curves", [pd.DataFrame({"a": ["x", "y"], "b": ["z", "w"]}), np.array([["a", "b"]])])
def test_curves_of_strings_are_refused_on_one_line(curves):
    with pytest.raises(NasbookError) as e:  # a raw ValueError before (and a DataFrame's repr over many lines)
        LastValue().predict(curves, 9)
    assert "\n" not in str(e.value) and "curves" in str(e.value)


@pytest.mark.parametrize("param", ["predictor", "fallback"])
def test_curve_stopping_names_the_parameter_of_an_unknown_predictor(param):
    with pytest.raises(InvalidParameterError, match=rf"Unknown curve predictor 'nope'.*CurveStopping\({param}=\.\.\.\)"):
        CurveStopping(**{param: "nope"}).setup(DigitsTable().space)


@pytest.mark.parametrize("min_epochs", [3, 5])
def test_curve_stopping_refuses_min_epochs_not_below_max_epochs(min_epochs):
    with pytest.raises(InvalidParameterError, match=r"CurveStopping\(min_epochs=\.\.\.\) must be below max_epochs=3"):
        CurveStopping(min_epochs=min_epochs, max_epochs=3).setup(DigitsTable().space)
    CurveStopping(min_epochs=2, max_epochs=3).setup(DigitsTable().space)


def test_proxies_compute_names_task_or_batch_and_y():
    from nasbook import proxies

    table = DigitsTable()
    archs = list(table.space.members[:1])
    x = np.random.default_rng(0).normal(size=(4, 1, 8, 8)).astype("float32")
    with pytest.raises(NasbookError, match=r"task_or_batch"):
        proxies.compute(table.space, archs, 42)
    with pytest.raises(InvalidParameterError, match=r"task_or_batch.*labels y"):
        proxies.compute(table.space, archs, (x, np.array([0, 1, -2, 3])))
    with pytest.raises(InvalidParameterError, match=r"task_or_batch.*labels y must lie in \[0, n_classes=10\)"):
        proxies.compute(table.space, archs, (x, np.array([0, 1, 12, 3])), n_classes=10)
