"""Growth on a table of learning curves, which cannot train past the epochs it recorded: settings that
would ask for more are refused when the search is made, not trials into the run (``fidelity['epochs']
18 > 9`` on DigitsTable, from continuing a 9-epoch member by 9 more)."""

import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.space import ChainSpace
from nasbook.strategies import Growth, MedianStopping, Portfolio
from nasbook.tasks import DigitsTable
from nasbook.testing import ToyTask


@pytest.mark.parametrize("strategy", ["growth", Growth(child_epochs=3), Growth(continue_epochs=1, start_epochs=3)])
def test_continuing_members_on_a_table_is_refused_before_anything_is_stored(strategy, tmp_path):
    db = tmp_path / "g.db"
    with pytest.raises(InvalidParameterError, match=r"Growth\(train_more=True, inherit=True\).*DigitsTable.* recorded 9 "
                                                    r"epochs per architecture.*pass train_more=False"):
        nasbook.Search(DigitsTable(), strategy=strategy, budget=40, seed=0, storage=str(db), name="g")
    assert not db.exists() or "g" not in nasbook.KnowledgeBase(str(db)).searches["search"].tolist()


@pytest.mark.parametrize("param", ["start_epochs", "child_epochs"])
def test_epochs_past_the_table_are_refused_naming_the_parameter_and_the_limit(param):
    with pytest.raises(InvalidParameterError, match=rf"Growth\({param}=12\) trains trials for 12 epochs, but "
                                                    rf"DigitsTable.* recorded 9 epochs.*pass {param}<=9"):
        nasbook.Search(DigitsTable(), strategy=Growth(train_more=False, **{param: 12}), budget=5, seed=0, storage=":memory:")


def test_a_nested_growth_is_checked_too():
    with pytest.raises(InvalidParameterError, match=r"^arm 1 of Portfolio: Growth\(train_more=True"):
        nasbook.Search(DigitsTable(), strategy=Portfolio(strategies=["random", Growth()]), budget=5, seed=0, storage=":memory:")
    with pytest.raises(InvalidParameterError, match=r"^the base of MedianStopping: Growth\(start_epochs=10\)"):
        nasbook.Search(DigitsTable(), strategy=MedianStopping(base=Growth(start_epochs=10, train_more=False)),
                       budget=5, seed=0, storage=":memory:")


def test_growth_within_the_tables_epochs_runs():
    search = nasbook.Search(DigitsTable(), strategy=Growth(train_more=False, start_epochs=5), budget=25, seed=0,
                            storage=":memory:").run(progress="none")
    assert search.n_trials == 25 and max(t.epochs for t in search.trials) <= 9
    assert nasbook.Search(DigitsTable(), strategy=Growth(inherit=False), budget=5, seed=0, storage=":memory:")


def test_a_training_task_may_train_past_its_max_epochs():  # only tables are refused: continuations stay allowed
    space = ChainSpace(kind="mlp", max_depth=3)
    search = nasbook.Search(space, ToyTask(space, epochs=4), strategy=Growth(population_size=3, start_epochs=4,
                            child_epochs=4, exploit="always"), budget=20, seed=0, storage=":memory:").run(progress="none")
    assert max(t.epochs for t in search.trials) > 4


def test_a_growth_search_stored_on_a_table_before_the_check_still_loads(tmp_path, monkeypatch):
    """Its trials stay readable (a small budget finished before any continuation): only Search() refuses."""
    import nasbook.search._search as search_mod

    path = str(tmp_path / "old.db")
    with monkeypatch.context() as m:
        m.setattr(search_mod, "_check_strategy_task", lambda *a, **k: None)  # what Search() did before
        nasbook.Search(DigitsTable(), strategy="growth", budget=3, seed=0, storage=path, name="old").run(progress="none")
    loaded = nasbook.load_search("old", path)
    assert loaded.strategy.alias == "growth" and loaded.n_trials == 3
