"""``viz.plot_tradeoff(search)`` with its default ``x`` on every kind of task (outside probe 3)."""

import pytest

import nasbook
from nasbook import viz
from nasbook._errors import InvalidParameterError
from nasbook.tasks import DigitsTable, NasBenchGraph


@pytest.mark.parametrize("task, size", [(NasBenchGraph("cora"), "params_m"), (DigitsTable(), "n_params")])
def test_the_default_x_is_the_size_the_task_reports(task, size):
    # before: the default x="params_m" refused every search whose task reports n_params (DigitsTable,
    # Digits, MNIST1D...): "plot_tradeoff(x=...) must be one of ...; got 'params_m' (did you mean 'n_params'?)"
    s = nasbook.Search(task, strategy="random", budget=6, seed=300, storage=":memory:").run(progress="none")
    info = viz.tradeoff_info(s)
    assert info.attrs["x"] == size
    plot = viz.plot_tradeoff(s)
    assert size in str(plot)
    with pytest.raises(InvalidParameterError, match=r"plot_tradeoff\(x=\.\.\.\) must be one of"):
        viz.plot_tradeoff(s, x="nope")
