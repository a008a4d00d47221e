"""``predictors.evaluate``'s arguments: what is ambiguous or measures nothing is refused, naming the parameter,
before any predictor is fitted; numpy integers and floats are taken as the plain numbers they equal."""

from __future__ import annotations

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError
from nasbook.predictors import RandomForest, evaluate
from nasbook.tasks import DigitsTable


class NeverFitted(RandomForest):
    """Fails the test if ``evaluate`` fits anything: a refusal comes before the first fit."""

    def fit(self, archs, scores, *, space=None):
        raise AssertionError("evaluate fitted a predictor before refusing its arguments")


@pytest.fixture(scope="module")
def task():
    return DigitsTable()


def _evaluate(task, predictor=None, **kwargs):
    args = {"n_train": [10], "seeds": 1, "n_test": 50, "baselines": False, "progress": False, **kwargs}
    return evaluate(predictor if predictor is not None else RandomForest(n_estimators=4), task, **args)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(k=50), r"evaluate\(k=\.\.\.\): the top 50 of the n_test=50 held-out architectures is all of them.*below 50.*got k=50"),
    (dict(k=100), r"evaluate\(k=\.\.\.\): the top 50 of the n_test=50 .*got k=100"),  # was measured as the top 50 of 50
    (dict(k=np.int64(60)), r"the top 50 of the n_test=50 .*got k=60"),
    (dict(k=0.99), r"the top 50 of the n_test=50 .*got k=0\.99"),  # a fraction that rounds to all of them
    (dict(k=1.0), r"evaluate\(k=\.\.\.\) must be an int >= 1 .*a float strictly between 0 and 1.*got 1\.0\. A float is a "
                  r"fraction: 1\.0 would be the whole held-out set; for the top 1 pass k=1"),
    (dict(k=1.5), r"evaluate\(k=\.\.\.\) must be .*got 1\.5\.$"),
    (dict(k=True), r"evaluate\(k=\.\.\.\) must be .*got True"),
    (dict(k="5"), r"evaluate\(k=\.\.\.\) must be .*got '5'"),
    (dict(n_train=[10, 10]), r"evaluate\(n_train=\.\.\.\) must not repeat a size; got \[10, 10\]"),
    (dict(n_train=[np.int64(10), 20, 10]), r"evaluate\(n_train=\.\.\.\) must not repeat a size; got \[10, 20, 10\]"),
    (dict(n_train=np.array([20, 20])), r"must not repeat a size"),
    (dict(baselines=["#params", "#params"]), r"evaluate\(baselines=\.\.\.\) must not repeat a baseline; got \['#params', '#params'\]"),
    (dict(baselines=["onehot-gbt", "#params", "onehot-gbt"]), r"must not repeat a baseline"),
])
def test_ambiguous_or_empty_measurements_are_refused_before_any_fit(task, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        _evaluate(task, NeverFitted(), **kwargs)


def test_k_one_is_the_top_one_and_a_count_just_below_n_test_is_measured(task):
    assert _evaluate(task, k=1).attrs["top_k"] == 1
    assert _evaluate(task, k=49).attrs["top_k"] == 49


def test_numpy_numbers_are_stored_as_plain_numbers(task):
    ds = _evaluate(task, n_train=np.array([20, 10]), seeds=np.int64(1), n_test=np.int64(50), k=np.int64(5))
    plain = _evaluate(task, n_train=[10, 20], seeds=1, n_test=50, k=5)
    for key in ("k", "top_k", "n_test"):
        assert ds.attrs[key] == plain.attrs[key] and type(ds.attrs[key]) is int, key
    assert ds["n_train"].values.tolist() == [10, 20]
    np.testing.assert_array_equal(ds["kendall_tau"].values, plain["kendall_tau"].values)
    fraction = _evaluate(task, k=np.float32(0.1))
    assert type(fraction.attrs["k"]) is float and fraction.attrs["top_k"] == 5


def test_repeated_predictors_are_still_labelled_apart(task):
    """Unlike sizes and baselines, the same predictor twice is a deliberate comparison (two seeds' worth, or a control)."""
    ds = _evaluate(task, ["gp", "gp"])
    assert ds["predictor"].values.tolist() == ["gp", "gp #2"]
