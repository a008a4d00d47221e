"""Widening every narrow layer in one move (``widen_all``, ``Growth(choice="widen_all")``): a path of exact
widens, rebuilt and grown in by ``prepare_training``; bad paths raise clear errors."""

from __future__ import annotations

import pytest

from nasbook._errors import InvalidParameterError
from nasbook.growth import make_path, widen_all
from nasbook.space import ChainSpace
from nasbook.strategies import Growth, Proposal
from nasbook.trial import Trial, TrialState

SPACE = ChainSpace(kind="cnn", max_depth=4, widths=(8, 16, 32), ops=("conv3x3", "conv1x1", "sepconv3x3"))


def test_widen_all_widens_every_narrower_layer_in_order_and_the_path_rebuilds():
    arch = SPACE.make(layers=[["conv3x3", 8], ["sepconv3x3", 32], ["conv1x1", 16]])
    path = widen_all(SPACE, arch)
    assert [m.params for m in path] == [{"layer": 0, "width": 32}, {"layer": 2, "width": 32}]
    assert [w for _, w in path[-1].child["layers"]] == [32, 32, 32]
    assert widen_all(SPACE, path[-1].child) == []
    assert [w for _, w in widen_all(SPACE, arch, 16)[-1].child["layers"]] == [16, 32, 16]
    again = make_path(SPACE, arch, [m.to_dict() for m in path])
    assert again[-1].child == path[-1].child
    with pytest.raises(InvalidParameterError, match="width"):
        widen_all(SPACE, arch, 12)
    with pytest.raises(InvalidParameterError, match="path"):
        make_path(SPACE, arch, [])


@pytest.mark.parametrize("layers", [[["conv3x3", 8], ["sepconv3x3", 8]], [["conv1x1", 8], ["conv3x3", 32], ["sepconv3x3", 16]]])
def test_a_widen_all_child_computes_what_its_parent_computes(layers):
    torch = pytest.importorskip("torch")
    from nasbook.growth import prepare_training

    arch = SPACE.make(layers=layers)
    path = widen_all(SPACE, arch)
    torch.manual_seed(0)
    parent = SPACE.build(arch, (1, 40), 10)
    with torch.no_grad():  # trained-looking batch norms
        for m in parent.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5)
    child = SPACE.build(path[-1].child, (1, 40), 10)
    grow = {"parent": dict(arch.spec), "move": [m.to_dict() for m in path], "method": "zero", "rng": 5}
    state, callbacks = prepare_training(SPACE, path[-1].child, child, grow=grow, state={"model": parent.state_dict()},
                                        input_shape=(1, 40), n_classes=10)
    assert state is None and callbacks == []
    x = torch.randn(16, 1, 40)
    parent.eval()
    child.eval()
    with torch.no_grad():
        assert (child(x) - parent(x)).abs().max().item() < 1e-5
    bad = {**grow, "move": [{"kind": "deepen", "position": 1, "op": "conv3x3"}, {"kind": "widen", "layer": 0, "width": 32}]}
    with pytest.raises(InvalidParameterError, match="only the last"):
        prepare_training(SPACE, make_path(SPACE, arch, bad["move"])[-1].child, child, grow=bad,
                         state={"model": parent.state_dict()}, input_shape=(1, 40), n_classes=10)


def test_the_widen_all_choice_grows_a_narrow_chain_to_the_widest_width_in_one_child():
    st = Growth(population_size=5, sample_size=3, choice="widen_all")
    st.setup(SPACE, seed=2)
    asked = []
    for number in range(20):
        p = st.ask()
        p = p if isinstance(p, Proposal) else Proposal(p)
        asked.append(p)
        layers = p.arch["layers"]
        st.tell(Trial(number, p.arch, TrialState.COMPLETE, len(layers) + sum(w for _, w in layers) / 100,
                      {"growth_ready": 1.0}, epochs=p.epochs or 6, parent=p.parent, lineage=p.lineage))
    paths = [p for p in asked if p.grow and isinstance(p.grow["move"], list)]
    assert paths
    for p in paths:  # a path from a chain with several narrow layers: every layer at 32 in one child
        parent = asked[p.grow["from"]].arch
        assert sum(w < 32 for _, w in parent["layers"]) == len(p.grow["move"]) >= 2
        assert {w for _, w in p.arch["layers"]} == {32}
    with pytest.raises(Exception, match="choice"):
        Growth(choice="widest").setup(SPACE, seed=0)
