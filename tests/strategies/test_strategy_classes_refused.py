"""A strategy class is refused wherever a strategy is taken, as ``Search(strategy=RandomSearch)`` is.

Before, ``ASHA(base=RandomSearch)``, ``CurveStopping(base=...)`` and ``Portfolio([RandomSearch, ...])`` were made
without a word and refused only at ``Search()`` (or ``setup``) as "got <class ...> of type ABCMeta", and
``get_strategy(RandomSearch)`` (documented so) built one, while ``Search(strategy=RandomSearch)`` said "pass
RandomSearch(...) or its name 'random'". Now each is refused when it is called, with that message; names still work.
"""

import pytest

import nasbook
from nasbook._errors import InvalidParameterTypeError
from nasbook.strategies import (
    ASHA,
    BO,
    CurveStopping,
    FingerprintStopping,
    Hyperband,
    MedianStopping,
    Portfolio,
    RandomSearch,
    RegularizedEvolution,
    SuccessiveHalving,
    get_strategy,
)
from nasbook.tasks import DigitsTable

CLASS = r"got <class '[\w.]+\.{cls}'> \(a class: pass {cls}\(\.\.\.\) or its name '{name}'\)\.$"


@pytest.mark.parametrize("make, param, cls, name", [
    (lambda: ASHA(base=RandomSearch), r"ASHA\(base=\.\.\.\)", "RandomSearch", "random"),
    (lambda: SuccessiveHalving(base=RegularizedEvolution), r"SuccessiveHalving\(base=\.\.\.\)", "RegularizedEvolution",
     "evolution"),
    (lambda: Hyperband(base=BO), r"Hyperband\(base=\.\.\.\)", "BO", "bo"),
    (lambda: CurveStopping(base=RandomSearch), r"CurveStopping\(base=\.\.\.\)", "RandomSearch", "random"),
    (lambda: MedianStopping(base=RandomSearch), r"MedianStopping\(base=\.\.\.\)", "RandomSearch", "random"),
    (lambda: FingerprintStopping(base=RandomSearch), r"FingerprintStopping\(base=\.\.\.\)", "RandomSearch", "random"),
    (lambda: Portfolio([RandomSearch, "evolution"]), r"Portfolio\(strategies=\.\.\.\) entry 0", "RandomSearch", "random"),
    (lambda: Portfolio(("random", BO)), r"Portfolio\(strategies=\.\.\.\) entry 1", "BO", "bo"),
    (lambda: get_strategy(RandomSearch), r"get_strategy\(strategy=\.\.\.\)", "RandomSearch", "random"),
    (lambda: get_strategy(RegularizedEvolution, population_size=8, sample_size=3), r"get_strategy\(strategy=\.\.\.\)",
     "RegularizedEvolution", "evolution"),
])
def test_a_strategy_class_is_refused_when_called_saying_what_to_pass(make, param, cls, name):
    with pytest.raises(InvalidParameterTypeError, match=rf"^{param} must be a registered strategy name or a BaseStrategy "
                       rf"instance; {CLASS.format(cls=cls, name=name)}"):
        make()


def test_search_refuses_a_class_with_the_same_advice():
    with pytest.raises(InvalidParameterTypeError, match=rf"^Search\(strategy=\.\.\.\) .*{CLASS.format(cls='RandomSearch', name='random')}"):
        nasbook.Search(DigitsTable(), strategy=RandomSearch, budget=2, storage=":memory:")


def test_names_and_instances_are_still_taken():
    task = DigitsTable()
    for strategy in (ASHA(base="random", max_epochs=9), ASHA(base=RandomSearch(), max_epochs=9),
                     Portfolio(["random", RegularizedEvolution(population_size=8, sample_size=3), "RandomSearch"]),
                     get_strategy("evolution", population_size=8, sample_size=3)):
        s = nasbook.Search(task, strategy=strategy, budget=4, seed=0, storage=":memory:").run(progress="none")
        assert s.n_trials == 4
