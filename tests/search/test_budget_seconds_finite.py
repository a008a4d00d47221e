"""A budget of ``{"seconds": inf}`` is refused like ``budget=inf`` (outside probe 5: it was taken, and a search
on NAS-Bench-Graph ran through all 26,206 architectures; on a training task it would never end)."""
import numpy as np
import pytest

import nasbook
from nasbook.tasks import NasBenchGraph


@pytest.mark.parametrize("seconds", [float("inf"), np.float64("inf")])
def test_an_infinite_seconds_budget_is_refused_before_anything_is_stored(seconds):
    with pytest.raises(nasbook.InvalidParameterError, match=r"budget seconds must be a finite number > 0.*got inf"):
        nasbook.Search(NasBenchGraph("cora"), budget={"trials": 3, "seconds": seconds}, storage=":memory:")
    with pytest.raises(nasbook.InvalidParameterError, match="finite"):
        nasbook.Budget(seconds=seconds)


def test_a_finite_seconds_budget_still_runs():
    s = nasbook.Search(NasBenchGraph("cora"), budget={"trials": 3, "seconds": 1e9}, seed=1, storage=":memory:").run(progress="none")
    assert s.n_trials == 3
