"""``compare_info(checkpoints=np.array([...]))`` is taken as the same list (outside probe 5: refused as "must be
a list", though ``np.arange`` is how checkpoints are usually written); a 2-D array is still refused."""
import numpy as np
import pytest

import nasbook
from nasbook import viz
from nasbook.tasks import NasBenchGraph


@pytest.fixture(scope="module")
def searches():
    task = NasBenchGraph("cora")
    return [nasbook.Search(task, budget=10, seed=s, storage=":memory:").run(progress="none") for s in (602, 607)]


def test_a_numpy_array_of_checkpoints_is_the_list(searches):
    as_list = viz.compare_info(*searches, checkpoints=[2, 5])
    for cps in (np.array([2, 5]), np.arange(2, 6, 3), np.array([2.0, 5.0])):
        assert viz.compare_info(*searches, checkpoints=cps).identical(as_list)


def test_a_2d_array_or_out_of_range_checkpoints_are_refused(searches):
    with pytest.raises(nasbook.InvalidParameterError, match=r"checkpoints=\.\.\.\) must be a list"):
        viz.compare_info(*searches, checkpoints=np.array([[2, 5]]))
    with pytest.raises(nasbook.InvalidParameterError, match=r"checkpoints=\.\.\.\) must be trials counts from"):
        viz.compare_info(*searches, checkpoints=np.array([0, 50]))
