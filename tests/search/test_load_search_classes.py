"""``load_search(..., strategy=RandomSearch)`` (a class) is refused naming load_search's parameter and what to pass.

Before, the error said "must be a BaseStrategy or None; got <class ...> of type ABCMeta", without saying that an
instance, ``RandomSearch(...)``, was wanted; a ``Search(strategy=...)`` message named another function's parameter.
"""

import pytest

import nasbook
from nasbook._errors import InvalidParameterTypeError
from nasbook.space import SubsetSpace
from nasbook.strategies import RandomSearch
from nasbook.tasks import DigitsTable


@pytest.mark.parametrize("param, value, base", [("strategy", RandomSearch, "BaseStrategy"), ("task", DigitsTable, "Task"),
                                                ("space", SubsetSpace, "SearchSpace")])
def test_a_class_given_to_load_search_is_refused_naming_its_parameter(tmp_path, param, value, base):
    path = tmp_path / "s.db"
    nasbook.Search(DigitsTable(), budget=2, seed=0, storage=path, name="s").run(progress="none").close()
    with pytest.raises(InvalidParameterTypeError, match=rf"^load_search\({param}=\.\.\.\) must be a {base} instance or "
                       rf"None; got <class '[\w.]+\.{value.__name__}'> \(a class: pass {value.__name__}\(\.\.\.\)\)\.$"):
        nasbook.load_search("s", path, **{param: value})
    again = nasbook.load_search("s", path, strategy=RandomSearch())  # an instance is taken
    assert again.n_trials == 2
    again.close()
