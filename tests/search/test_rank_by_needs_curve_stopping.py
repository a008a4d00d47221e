"""``ASHA(rank_by="prediction")`` (or ``"blend"``, and the same for successive halving and Hyperband) ranks its
rungs by the final values a wrapping CurveStopping predicts; without one it ran as plain ``ASHA()`` without a word
(outside probe 6a). Search refuses it, naming the fix, before anything is stored."""

from __future__ import annotations

import pytest

import nasbook
from nasbook import InvalidParameterError
from nasbook.strategies import ASHA, CurveStopping, Hyperband, SuccessiveHalving
from nasbook.tasks import DigitsTable


@pytest.fixture(scope="module")
def table():
    return DigitsTable()


@pytest.mark.parametrize("make", [lambda: ASHA(rank_by="prediction", max_epochs=9),
                                  lambda: SuccessiveHalving(rank_by="blend", max_epochs=9),
                                  lambda: Hyperband(rank_by="prediction", max_epochs=9)])
def test_prediction_ranks_without_curve_stopping_are_refused(tmp_path, table, make):
    strategy = make()
    with pytest.raises(InvalidParameterError, match=r"has rank_by='(prediction|blend)'.*no CurveStopping wraps it.*"
                                                    r"CurveStopping\(base="):
        nasbook.Search(table, strategy=strategy, budget=3, storage=str(tmp_path / "s.db"))
    assert list(tmp_path.iterdir()) == []


def test_under_curve_stopping_and_by_value_they_run(table):
    for strategy in (CurveStopping(base=ASHA(rank_by="prediction", max_epochs=9), max_epochs=9), ASHA(max_epochs=9)):
        s = nasbook.Search(table, strategy=strategy, budget={"epochs": 12}, seed=0, storage=":memory:")
        assert s.run(progress="none").n_trials >= 1
