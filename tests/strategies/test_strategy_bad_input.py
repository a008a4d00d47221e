"""Bad input to strategies: refused with a nasbook error naming it (found by benchmarks/probe_bad_input.py)."""

import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.space import GraphSpace
from nasbook.strategies import ASHA, RandomSearch, RegularizedEvolution, get_strategy


def test_allow_duplicates_must_be_a_bool():
    with pytest.raises(InvalidParameterTypeError, match="allow_duplicates"):
        RandomSearch(allow_duplicates="no").setup(GraphSpace())


@pytest.mark.parametrize("kwargs, match", [
    ({"space": "cora"}, r"setup\(space=...\) must be a SearchSpace"),
    ({"space": GraphSpace(), "mode": "maximize"}, "maximize"),
    ({"space": GraphSpace(), "seed": "0"}, r"setup\(seed=...\)"),
])
def test_setup_checks_its_arguments(kwargs, match):
    space = kwargs.pop("space")
    with pytest.raises(InvalidParameterError, match=match):
        RandomSearch().setup(space, **kwargs)


def test_a_wrapped_base_of_the_wrong_type_is_named_as_base():
    with pytest.raises(InvalidParameterTypeError, match=r"ASHA\(base=...\)"):
        ASHA(base=3).setup(GraphSpace())


def test_misspelt_strategy_parameters_suggest_the_right_one():
    with pytest.raises(InvalidParameterTypeError, match="did you mean 'population_size'"):
        RegularizedEvolution(pop_size=3)
    with pytest.raises(InvalidParameterTypeError, match="did you mean 'population_size'"):
        get_strategy("evolution", pop_size=3)


def test_a_strategy_whose_init_skips_super_says_to_call_it():
    import nasbook
    from nasbook.space import GraphSpace
    from nasbook.strategies import BaseStrategy

    class NoSuper(BaseStrategy):
        def __init__(self, p=1):
            self.p = p

        def _ask(self):
            return self._sample_new()

    with pytest.raises(nasbook.InvalidParameterError, match=r"NoSuper.__init__ did not call super\(\).__init__.*"
                                                              r"\['seed', 'allow_duplicates'\].*super\(\).__init__\(seed=seed, "
                                                              r"allow_duplicates=allow_duplicates\)"):
        NoSuper().setup(GraphSpace())
