"""Predictor calls an outside evaluator made (benchmarks/outside_probe3.py, docs/benchmarks.md
"Outside-evaluator probe 3")."""

import numpy as np
import pandas as pd
import pytest

import nasbook
from nasbook import Predictor
from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.strategies import ASHA
from nasbook.tasks import DigitsTable, NasBenchGraph


@pytest.fixture(scope="module")
def task():
    return NasBenchGraph("cora")  # held for the module: architectures know their space by id, and spaces are held weakly


@pytest.fixture(scope="module")
def data(task):
    return task.space.enumerate()[:40], task.ground_truth()["value"].values[:40]


def test_fit_and_predict_take_a_numpy_array_or_pandas_series_of_architectures(data):
    # before: "must be a list of Architectures; got 0  Architecture(... of type Series" for a frame's column
    archs, y = data
    ref = Predictor(model="gp", seed=300).fit(archs[:20], y[:20]).predict(archs[20:25])
    p = Predictor(model="gp", seed=300).fit(pd.Series(archs[:20], index=range(100, 120)), pd.Series(y[:20]))
    got = p.predict(np.array(archs[20:25], dtype=object))
    np.testing.assert_array_equal(got["mean"].values, ref["mean"].values)
    assert list(got["arch"].values) == [a.id for a in archs[20:25]]
    assert p.score(pd.Series(archs[20:]), y[20:]) == pytest.approx(
        Predictor(model="gp", seed=300).fit(archs[:20], y[:20]).score(archs[20:], y[20:]))


def test_a_frame_of_architectures_is_refused_on_one_line(data):
    archs, y = data
    with pytest.raises(InvalidParameterTypeError, match=r"must be a list of Architectures; got .* of type DataFrame") as err:
        Predictor().fit(pd.DataFrame({"arch": archs[:5]}), y[:5])
    assert "\n" not in str(err.value)
    with pytest.raises(InvalidParameterTypeError, match="of type ndarray"):
        Predictor().fit(np.array(archs[:4], dtype=object).reshape(2, 2), y[:4])


def test_fit_search_of_a_multi_fidelity_search_says_what_its_counts_are():
    # 20 epochs: one promotion reaches 9 (an epochs budget is never exceeded now; 12 stopped at 3 epochs)
    s = nasbook.Search(DigitsTable(), strategy=ASHA(base="random", max_epochs=9), budget={"epochs": 20}, seed=303,
                       storage=":memory:").run(progress="none")
    # before: "has 1 at its most epochs (9; 11 at any)"
    with pytest.raises(InvalidParameterError, match=r"has 1 at its most epochs, 9 \(11 completed at any epochs\)"):
        Predictor().fit_search(s)
