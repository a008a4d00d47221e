"""The mistakes a student new to NAS makes first get a message that says what to do (task "newuser")."""

import pytest

import nasbook
from nasbook import InvalidParameterError
from nasbook.tasks import NasBenchGraph


def test_a_multi_fidelity_strategy_on_a_table_of_final_scores_names_what_works():
    # refused by Search() itself, before anything is stored (it was refused at the first trial)
    with pytest.raises(InvalidParameterError) as info:
        nasbook.Search(NasBenchGraph("cora"), strategy="asha", budget=3, seed=0, storage=":memory:")
    msg = str(info.value)
    assert msg.startswith("ASHA trains trials for a few epochs")
    assert "seed=" not in msg  # not the strategy's whole repr: the parameter at fault is the strategy itself
    assert "DigitsTable" in msg and "'evolution'" in msg


@pytest.mark.parametrize("keyword", ["n_trials", "budget", "timeout"])
@pytest.mark.parametrize("method", ["run", "start"])
def test_a_budget_given_to_run_or_start_says_where_a_budget_goes(keyword, method):
    """Optuna's ``study.optimize(n_trials=...)`` habit: the refusal names Search's own methods and extend()."""
    search = nasbook.Search(NasBenchGraph("cora"), budget=3, storage=":memory:")
    with pytest.raises(InvalidParameterError) as info:
        getattr(search, method)(**{keyword: 5})
    msg = str(info.value)
    assert f"Search.{method}() got an unexpected keyword argument {keyword!r}" in msg
    assert "Search(..., budget=100)" in msg and "search.extend(trials=50)" in msg
    assert not search.trials  # nothing ran


@pytest.mark.parametrize("method", ["run", "start"])
def test_a_budget_given_by_position_to_run_or_start_says_where_a_budget_goes(method):
    """``search.run(10)`` (outside probe 2) said only "Pass these by name: progress=...; got 10 by position"."""
    search = nasbook.Search(NasBenchGraph("cora"), budget=3, storage=":memory:")
    with pytest.raises(InvalidParameterError) as info:
        getattr(search, method)(10)
    msg = str(info.value)
    assert "got 10 by position" in msg and "search.extend(trials=50)" in msg
    assert not search.trials
