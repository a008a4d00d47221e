"""A space as named categorical parameters (``suggest`` / ``parameters_of``), what Optuna-style samplers search."""

import numpy as np
import pytest

from nasbook._errors import InvalidArchitectureError, InvalidParameterTypeError
from nasbook.space import PROTEINS_OPS, CellSpace, ChainSpace, GraphSpace, SubsetSpace, has_parameters


def _spaces():
    cell = CellSpace()
    rng = np.random.default_rng(1)
    return [
        GraphSpace(), GraphSpace(ops=PROTEINS_OPS), cell, CellSpace(n_nodes=5, ops=("none", "skip_connect", "nor_conv_3x3")),
        ChainSpace(kind="mlp", max_depth=3), ChainSpace(min_depth=2, max_depth=2),
        SubsetSpace(cell, [cell.sample(rng) for _ in range(20)]),
    ]


@pytest.mark.parametrize("space", _spaces(), ids=lambda s: repr(s)[:40])
def test_parameters_read_back_and_suggest_give_the_same_architecture(space):
    rng = np.random.default_rng(0)
    assert has_parameters(space)
    for _ in range(60):
        arch = space.sample(rng)
        params = space.parameters_of(arch)
        asked = []

        def choose(name, choices, params=params, asked=asked):
            asked.append(name)
            assert choices == params[name][0] and params[name][1] in choices
            return params[name][1]

        assert space.suggest(choose) == arch
        assert asked == list(params)  # the same parameters, in the same order
        for choices, _ in params.values():
            assert all(c is None or type(c) in (str, int, float, bool) for c in choices)  # Optuna-friendly


def test_graph_parameters_are_the_link_pattern_index_and_four_ops():
    space = GraphSpace()
    arch = space.make(link=[0, 0, 1, 2], ops=["gcn", "gat", "sage", "fc"])
    params = space.parameters_of(arch)
    ops = arch["ops"]  # canonical: nodes 1 and 2 both read the input, so they may swap
    assert {k: v for k, (_, v) in params.items()} == {"link": 3, "op1": ops[0], "op2": ops[1], "op3": ops[2], "op4": ops[3]}
    assert params["link"][0] == tuple(range(9))


def test_chain_layers_exist_only_up_to_the_depth():
    space = ChainSpace(kind="mlp", max_depth=3)
    params = space.parameters_of(space.make(layers=[["relu", 64]]))
    assert list(params) == ["depth", "layer0_op", "layer0_width"]
    assert params["depth"] == ((1, 2, 3), 1)
    assert len(space.parameters_of(space.make(layers=[["relu", 64]] * 3))) == 7


@pytest.mark.parametrize("space, pick", [
    (GraphSpace(), lambda name, choices: "skip" if name.startswith("op") else 0),  # all-skip computes nothing
    (CellSpace(), lambda name, choices: "none"),  # no path from input to output
])
def test_combinations_that_are_no_member_raise(space, pick):
    with pytest.raises(InvalidArchitectureError):
        space.suggest(pick)


def test_a_subsets_non_members_raise():
    cell = CellSpace()
    member = cell.make(edges=["nor_conv_3x3"] * 6)
    sub = SubsetSpace(cell, [member])
    assert sub.suggest(lambda name, choices: "nor_conv_3x3") == sub.from_parent(member)
    with pytest.raises(InvalidArchitectureError, match="not one of the 1 architectures"):
        sub.suggest(lambda name, choices: "skip_connect")


def test_an_answer_outside_the_choices_is_no_architecture_and_numpy_scalars_are_accepted():
    space = ChainSpace(kind="mlp", max_depth=1)
    with pytest.raises(InvalidArchitectureError, match="layer0_width"):
        space.suggest(lambda name, choices: 33 if name.endswith("width") else choices[0])
    with pytest.raises(InvalidArchitectureError, match="depth"):
        space.suggest(lambda name, choices: True)  # True is not the depth 1
    arch = space.suggest(lambda name, choices: np.asarray(choices)[-1])
    assert arch["layers"] == [["tanh", 256]] and type(arch["layers"][0][1]) is int


def test_choose_must_be_a_function():
    with pytest.raises(InvalidParameterTypeError, match=r"suggest\(choose=...\) must be a function"):
        GraphSpace().suggest({"link": 0})
