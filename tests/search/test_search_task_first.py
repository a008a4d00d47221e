"""``Search(task, space=space)`` (the task first, as ``Search(task)`` is written, and the space by name) said only
Python's "multiple values for argument 'space'" (outside probe 6a); it now names both values and how to call."""

from __future__ import annotations

import pytest

import nasbook
from nasbook._errors import InvalidParameterTypeError, check_call
from nasbook.space import CellSpace
from nasbook.testing import ToyTask


def test_search_task_first_and_space_by_name_says_how_to_call_it():
    space = CellSpace()
    with pytest.raises(InvalidParameterTypeError) as err:
        nasbook.Search(ToyTask(space), space=space, budget=2, storage=":memory:")
    text = str(err.value)
    assert "'space' was given twice, by position (ToyTask(...)) and by name (CellSpace(...))" in text
    assert "Search(space, task, ...) takes the space first" in text and len(text.splitlines()) == 1


def test_the_right_orders_still_run():
    space = CellSpace()
    assert nasbook.Search(space, ToyTask(space), budget=2, seed=0, storage=":memory:").run(progress="none").n_trials == 2
    assert nasbook.Search(space=space, task=ToyTask(space), budget=2, seed=0, storage=":memory:").run(progress="none").n_trials == 2


def test_check_call_names_a_short_value_and_the_positional_parameters():
    def f(a, b=1, *, c=2):
        return a

    with pytest.raises(InvalidParameterTypeError, match=r"f\(\): 'a' was given twice, by position \(3\) and by name \(4\)\. "
                                                        r"Its parameters by position: a, b\.$"):
        check_call("f", f, (3,), {"a": 4})
