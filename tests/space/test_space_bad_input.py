"""Bad input to spaces: refused with a nasbook error naming it (found by benchmarks/probe_bad_input.py)."""

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NotBuildableError
from nasbook.space import CellSpace, ChainSpace, GraphSpace, SearchSpace, SubsetSpace

SPACES = [CellSpace(), ChainSpace(), GraphSpace()]


@pytest.mark.parametrize("space", [*SPACES, SubsetSpace(GraphSpace(), [GraphSpace().sample(np.random.default_rng(0))] * 1)],
                         ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("rng", [0, None, "seed"])
def test_sample_and_mutate_refuse_anything_but_a_generator(space, rng):
    arch = space.sample(np.random.default_rng(0))
    with pytest.raises(InvalidParameterTypeError, match=r"sample\(rng=...\) must be a numpy.random.Generator"):
        space.sample(rng)
    with pytest.raises(InvalidParameterTypeError, match=r"mutate\(rng=...\) must be a numpy.random.Generator"):
        space.mutate(arch, rng)


def test_a_tabular_space_cannot_build_and_says_so_with_a_nasbook_error():
    space = GraphSpace()
    with pytest.raises(NotBuildableError, match="GraphSpace is a tabular benchmark space") as info:
        space.build(space.sample(np.random.default_rng(0)), (3,), 2)
    assert isinstance(info.value, NotImplementedError)  # what it raised before


def test_a_misspelt_constructor_argument_suggests_the_right_one():
    with pytest.raises(InvalidParameterTypeError, match="did you mean 'n_nodes'"):
        CellSpace(n_node=5)


def test_from_config_names_a_parameter_the_space_does_not_take():
    with pytest.raises(InvalidParameterError, match="bogus") as info:
        SearchSpace.from_config({"class": "CellSpace", "params": {"bogus": 1}})
    assert info.value.__cause__ is None and (info.value.__context__ is None or info.value.__suppress_context__)
