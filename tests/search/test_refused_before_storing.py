"""Mistakes that Search() accepted and that failed (or did nothing) only once trials ran, after the
search was stored: refused by Search() itself, naming the parameter, with nothing written (task "early")."""

from typing import ClassVar

import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.space import GraphSpace
from nasbook.strategies import (
    ASHA,
    CurveStopping,
    Growth,
    MedianStopping,
    Portfolio,
    RandomSearch,
    RegularizedEvolution,
)
from nasbook.tasks import DigitsTable, NasBenchGraph
from nasbook.testing import ToyTask


def _nothing_written(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("strategy, name", [
    ("asha", "ASHA"), ("sh", "SuccessiveHalving"), ("hyperband", "Hyperband"),
    ("growth", "Growth"), ("median-stopping", "MedianStopping"), ("curve-stopping", "CurveStopping"),
    ("fingerprint-stopping", "FingerprintStopping"),
])
def test_a_strategy_that_needs_epochs_is_refused_on_a_table_of_final_scores(tmp_path, strategy, name):
    # before: asha/sh/hyperband were stored and failed at their first trial; growth and the stopping
    # rules ran as the random search they wrap (growth leaving a .checkpoints directory by the store)
    with pytest.raises(InvalidParameterError) as info:
        nasbook.Search(NasBenchGraph("cora"), strategy=strategy, budget=3, seed=0, storage=str(tmp_path / "s.db"))
    msg = str(info.value)
    assert msg.startswith(f"{name} ") and "NasBenchGraph(dataset='cora') does not train for epochs" in msg
    assert "DigitsTable" in msg and "Digits" in msg and "'evolution'" in msg  # what works instead
    assert _nothing_written(tmp_path)  # no database, no checkpoint directory


@pytest.mark.parametrize("strategy, where", [
    (lambda: CurveStopping(base="asha"), "CurveStopping "),  # the outer one is named first
    (lambda: Portfolio([RandomSearch(), Growth(population_size=4)]), "Growth (arm 1 of Portfolio)"),
    (lambda: Portfolio(["random", Growth()]), "Growth (arm 1 of Portfolio)"),
    (lambda: Portfolio(["random", "growth"]), "Growth (arm 1 of Portfolio)"),
    (lambda: ASHA(base="growth"), "ASHA "),
    (lambda: MedianStopping(base=Portfolio(["random", "growth"])), "MedianStopping "),
])
def test_a_nested_strategy_that_needs_epochs_is_refused_too(tmp_path, strategy, where):
    with pytest.raises(InvalidParameterError, match="does not train for epochs") as info:
        nasbook.Search(NasBenchGraph("cora"), strategy=strategy(), budget=3, seed=0, storage=str(tmp_path / "s.db"))
    assert str(info.value).startswith(where)
    assert _nothing_written(tmp_path)


def test_a_strategy_of_ones_own_says_it_needs_epochs_with_needs_epochs(tmp_path):
    class Pruner(RandomSearch):
        needs_epochs: ClassVar[str] = "prunes running trials"

    with pytest.raises(InvalidParameterError, match="Pruner prunes running trials, but ToyTask"):
        nasbook.Search(GraphSpace(), ToyTask(GraphSpace(), epochs=0), strategy=Pruner(), storage=str(tmp_path / "s.db"))
    assert _nothing_written(tmp_path)
    # on a task that trains for epochs it runs
    search = nasbook.Search(GraphSpace(), ToyTask(GraphSpace(), epochs=3), strategy=Pruner(), budget=2, seed=0,
                            storage=":memory:")
    assert search.run(progress="none").n_trials == 2


def test_a_misspelt_base_names_the_parameter_the_allowed_names_and_the_nearest(tmp_path):
    # before: "Unknown strategy 'evolutoin'", without saying it was ASHA's base
    with pytest.raises(InvalidParameterError) as info:
        nasbook.Search(DigitsTable(), strategy=ASHA(base="evolutoin", max_epochs=9), storage=str(tmp_path / "s.db"))
    msg = str(info.value)
    assert msg.startswith("ASHA(base=...) must be a registered strategy name or a BaseStrategy instance; got 'evolutoin'")
    assert "did you mean 'evolution'?" in msg and "'random'" in msg
    assert "'asha'" not in msg and "'median-stopping'" not in msg  # a base must propose: wrappers are not offered
    assert _nothing_written(tmp_path)


@pytest.mark.parametrize("strategy, start, nearest", [
    (lambda: MedianStopping(base="rnadom"), "MedianStopping(base=...)", "random"),
    (lambda: CurveStopping(base="ahsa"), "CurveStopping(base=...)", "asha"),  # CurveStopping may wrap a scheduler
    (lambda: Portfolio(["random", "evolutoin"]), "Portfolio(strategies=...) entry 1", "evolution"),
])
def test_every_parameter_that_takes_a_strategy_name_names_itself(strategy, start, nearest):
    with pytest.raises(InvalidParameterError) as info:
        strategy().setup(GraphSpace(), seed=0)
    msg = str(info.value)
    assert msg.startswith(start) and f"did you mean {nearest!r}?" in msg


@pytest.mark.parametrize("strategy, start", [
    (lambda: MedianStopping(base=RegularizedEvolution(population_size=0)),
     "MedianStopping(base=...): RegularizedEvolution(population_size=...) must be an int >= 2; got 0."),
    (lambda: ASHA(base=RegularizedEvolution(population_size=0), max_epochs=9),
     "ASHA(base=...): RegularizedEvolution(population_size=...)"),
    (lambda: Portfolio([RegularizedEvolution(population_size=0), "random"]),
     "Portfolio(strategies=...) entry 0: RegularizedEvolution(population_size=...)"),
    (lambda: CurveStopping(base=ASHA(base="evolutoin", max_epochs=9)),
     "CurveStopping(base=...): ASHA(base=...) must be a registered strategy name"),
])
def test_a_bad_parameter_of_a_nested_strategy_is_refused_before_storing(tmp_path, strategy, start):
    # before: only the outer strategy was validated; the inner one failed when the run set it up
    with pytest.raises(InvalidParameterError) as info:
        nasbook.Search(DigitsTable(), strategy=strategy(), budget=3, seed=0, storage=str(tmp_path / "s.db"))
    assert str(info.value).startswith(start)
    assert _nothing_written(tmp_path)


def test_a_search_stored_before_the_check_still_loads(tmp_path, monkeypatch):
    """A median-stopping search on NAS-Bench-Graph ran (as random search) before it was refused: it must load."""
    import nasbook.search._search as search_mod

    path = str(tmp_path / "old.db")
    with monkeypatch.context() as m:
        m.setattr(search_mod, "_check_strategy_task", lambda *a, **k: None)  # what Search() did before
        nasbook.Search(NasBenchGraph("cora"), strategy="median-stopping", budget=2, seed=0, storage=path, name="old")
    assert nasbook.load_search("old", path).strategy.alias == "median-stopping"


@pytest.mark.parametrize("strategy, match", [
    (lambda: ASHA(max_epochs=3), "ASHA .*NasBenchGraph\\(dataset='cora'\\) does not train for epochs"),
    (lambda: MedianStopping(base=RegularizedEvolution(population_size=3, sample_size=2)), "MedianStopping .*does not train"),
])
def test_a_strategy_given_to_load_search_is_checked_before_it_is_stored(tmp_path, strategy, match):
    # before: load_search(name, storage, strategy=ASHA(...)) of a NAS-Bench-Graph search stored ASHA
    # (with budget=...), failed at its first ask, and every later load_search(name, storage).run() failed too
    path = str(tmp_path / "s.db")
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=3, seed=0, storage=path, name="x").run(progress="none")
    with pytest.raises(InvalidParameterError, match=match):
        nasbook.load_search("x", path, strategy=strategy(), budget=6)
    again = nasbook.load_search("x", path)
    assert isinstance(again.strategy, RandomSearch) and again.budget.trials == 3
    assert again.extend(3).run(progress="none").n_trials == 6


def test_growth_given_to_load_search_on_a_table_is_refused_naming_train_more(tmp_path):
    # before: Growth(train_more=True) was accepted on DigitsTable by load_search (Search() refuses it)
    # and failed once a member outgrew the table's 9 epochs
    path = str(tmp_path / "s.db")
    nasbook.Search(DigitsTable(), strategy="random", budget=3, seed=0, storage=path, name="y").run(progress="none")
    with pytest.raises(InvalidParameterError, match="train_more=False"):
        nasbook.load_search("y", path, strategy=Growth(), budget=6)
    grown = nasbook.load_search("y", path, strategy=Growth(population_size=3, sample_size=2, train_more=False), budget=6)
    assert grown.run(progress="none").n_trials == 6
