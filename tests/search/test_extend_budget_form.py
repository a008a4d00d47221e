"""``search.extend({"epochs": 4})`` (a budget's dict, given where the number of trials goes) said only "budget
trials must be a positive int; got {'epochs': 4} of type dict" (outside probe 6a); it now names extend and the call
to make."""

from __future__ import annotations

import pytest

import nasbook
from nasbook import NasbookError
from nasbook.tasks import DigitsTable


@pytest.mark.parametrize("given, says", [({"epochs": 4}, "extend(epochs=4)"), ({"trials": 2, "seconds": 5}, "extend(trials=2, seconds=5)"),
                                         (nasbook.Budget(epochs=5), "extend(epochs=5)")])
def test_a_budget_form_where_trials_go_names_the_call_to_make(given, says):
    s = nasbook.Search(DigitsTable(), budget=2, seed=0, storage=":memory:").run(progress="none")
    with pytest.raises(NasbookError, match=r"^Search\.extend\(trials=\.\.\.\) takes a number of trials; got .*" + says.replace("(", r"\(").replace(")", r"\)")):
        s.extend(given)
    assert s.budget.trials == 2 and s.budget.epochs is None  # nothing changed


def test_the_named_increments_still_extend():
    s = nasbook.Search(DigitsTable(), budget=2, seed=0, storage=":memory:").run(progress="none")
    assert s.extend(epochs=4).budget.epochs == 4 and s.extend(3).budget.trials == 5
