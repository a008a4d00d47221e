"""Growth on 1-D builds (Conv1d networks on MNIST-1D's ``(1, 40)`` sequences): every deepen and widen
move of a chain, and every new edge of a 1-D cell, keeps the parent's function at growth, and the
output stays continuous across every stage change of the seed."""

from __future__ import annotations

import numpy as np
import pytest

from nasbook.space import CellSpace, ChainSpace

TOL = 1e-5
SHAPE = (1, 40)


def _randomise(net):
    import torch

    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return net


def _check_move(space, move, seed, train_mode):
    import torch

    from nasbook.growth import AlphaSchedule, Stage, grow_network

    torch.manual_seed(seed)
    parent = _randomise(space.build(move.parent, SHAPE, 10)).train(train_mode)
    assert any(isinstance(m, torch.nn.Conv1d) for m in parent.modules())
    x = torch.randn(16, *SHAPE)

    def out(net):
        with torch.no_grad():
            return net(x)

    child, seeds = grow_network(space, move, parent, SHAPE, 10, schedule=AlphaSchedule("linear", 4), seed=seed)
    child.train(train_mode)
    assert (out(child) - out(parent)).abs().max().item() < TOL, f"{move} changed the function"
    assert (len(seeds) == 0) == (move.kind == "widen")  # widen is exact as it is; new layers/edges get a seed
    for s in seeds:
        s.advance(Stage.TRAINING)
        before = out(child)
        s.advance(Stage.BLENDING)
        assert (out(child) - before).abs().max().item() < TOL  # TRAINING -> BLENDING at alpha 0
        alphas = [s.alpha]
        while s.stage is Stage.BLENDING:
            s.shadow = True
            full = out(child)  # what alpha = 1 computes
            s.shadow = False
            s.lifecycle.step_alpha()
            alphas.append(s.alpha)
            if s.stage is Stage.ACTIVE:
                assert (out(child) - full).abs().max().item() < TOL  # BLENDING -> ACTIVE: no jump
        assert alphas == sorted(alphas) and alphas[0] == 0.0 and alphas[-1] == 1.0
    plain = space.build(move.child, SHAPE, 10).train(train_mode)
    plain.load_state_dict(child.state_dict())
    assert (out(plain) - out(child)).abs().max().item() < TOL  # ACTIVE: exactly the child architecture


@pytest.mark.slow
@pytest.mark.parametrize("train_mode", [False, True])
def test_every_chain_move_on_sequences_preserves_the_function_and_lands_continuously(train_mode):
    pytest.importorskip("torch")
    from nasbook.growth import growth_moves

    space = ChainSpace(kind="cnn", max_depth=4, widths=(4, 8, 16), ops=("conv3x3", "conv1x1", "sepconv3x3", "conv5x5"))
    arch = space.make(layers=[["sepconv3x3", 4], ["conv3x3", 8]])
    moves = growth_moves(space, arch)
    assert {m.kind for m in moves} == {"deepen", "widen"}
    for k, move in enumerate(moves):
        _check_move(space, move, k, train_mode)


def test_a_chain_grown_from_the_smallest_start_to_the_largest_stays_exact():
    pytest.importorskip("torch")
    from nasbook.growth import deepen, widen

    space = ChainSpace(kind="cnn", max_depth=3, widths=(4, 8), ops=("conv3x3", "sepconv3x3"))
    arch = space.make(layers=[["sepconv3x3", 4]])
    steps = [lambda a: deepen(space, a, 1, "conv3x3"), lambda a: widen(space, a, 0), lambda a: deepen(space, a, 2),
             lambda a: widen(space, a, 2)]
    for k, step in enumerate(steps):
        move = step(arch)
        _check_move(space, move, k, True)
        arch = move.child
    assert arch["layers"] == [["sepconv3x3", 8], ["conv3x3", 4], ["conv3x3", 8]]


def test_new_edges_of_a_one_d_cell_land_continuously():
    pytest.importorskip("torch")
    from nasbook.growth import growth_moves

    space = CellSpace(channels=4, n_cells=1, n_stages=1)
    rng = np.random.default_rng(0)
    arch = space.make(edges=["nor_conv_3x3", "none", "none", "none", "skip_connect", "none"])
    moves = growth_moves(space, arch)
    assert moves and {m.kind for m in moves} == {"add_edge"}
    for k in rng.choice(len(moves), size=min(4, len(moves)), replace=False):
        _check_move(space, moves[int(k)], int(k), False)


def test_conv_dense_space_is_refused_with_a_clear_error():
    from nasbook.growth import deepen, growth_moves
    from nasbook.space import ConvDenseSpace

    space = ConvDenseSpace()
    arch = space.make(conv=[["conv5_s2", 4]], dense=[32])
    assert growth_moves(space, arch) == []  # Growth falls back to plain mutations there
    with pytest.raises(Exception, match="ChainSpace or a CellSpace"):
        deepen(space, arch, 1)  # type: ignore[arg-type]
