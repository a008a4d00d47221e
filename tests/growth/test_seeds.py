"""Soft-landing seeds on real networks: continuity across growth and every stage change, culling,
gradcheck of the blend, and the Lightning controller driving a seed through its stages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasbook.space import CellSpace, ChainSpace

TOL = 1e-5
SPACES = [
    (ChainSpace(kind="cnn", max_depth=4, widths=(4, 8, 12)), (2, 6, 6)),
    (ChainSpace(kind="mlp", max_depth=3, widths=(8, 16), ops=("relu", "tanh", "gelu")), (12,)),
    (CellSpace(channels=4, n_cells=2, n_stages=1), (1, 6, 6)),
]


def _randomise(net):
    import torch

    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return net


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, len(SPACES) - 1), seed=st.integers(0, 10_000), train_mode=st.booleans())
def test_growth_and_every_stage_change_keep_the_output_continuous(which, seed, train_mode):
    torch = pytest.importorskip("torch")
    from nasbook.growth import AlphaSchedule, Stage, grow_network, growth_moves

    space, shape = SPACES[which]
    rng = np.random.default_rng(seed)
    arch = space.sample(rng)
    moves = growth_moves(space, arch)
    if not moves:
        return
    move = moves[int(rng.integers(len(moves)))]
    torch.manual_seed(seed)
    parent = _randomise(space.build(arch, shape, 5)).train(train_mode)
    x = torch.randn(8, *shape)
    child, seeds = grow_network(space, move, parent, shape, 5, schedule=AlphaSchedule("cosine", 3), seed=seed)
    child.train(train_mode)

    def out(net):
        with torch.no_grad():
            return net(x)

    assert (out(child) - out(parent)).abs().max().item() < TOL  # at the moment of growth
    for seed_ in seeds:  # every stage change keeps the output; only the alpha ramp moves it
        before = out(child)
        seed_.advance(Stage.TRAINING)
        seed_.advance(Stage.BLENDING)
        assert (out(child) - before).abs().max().item() < TOL
        alphas = [seed_.alpha]
        while seed_.stage is Stage.BLENDING:
            prev = out(child)
            seed_.shadow = True  # alpha = 1 in a shadow pass: what ACTIVE will compute
            full = out(child)
            seed_.shadow = False
            seed_.lifecycle.step_alpha()
            alphas.append(seed_.alpha)
            now = out(child)
            if seed_.stage is Stage.ACTIVE:
                assert (now - full).abs().max().item() < TOL  # no jump at activation
            del prev
        assert alphas[-1] == 1.0 and all(a <= b for a, b in zip(alphas, alphas[1:]))
    plain = space.build(move.child, shape, 5).train(train_mode)
    plain.load_state_dict(child.state_dict())
    assert (out(plain) - out(child)).abs().max().item() < TOL  # ACTIVE: exactly the child architecture


@settings(max_examples=15, deadline=None)
@given(which=st.integers(0, len(SPACES) - 1), seed=st.integers(0, 10_000))
def test_a_culled_seed_leaves_the_parents_function_intact(which, seed):
    torch = pytest.importorskip("torch")
    from nasbook.growth import Stage, grow_network, growth_moves

    space, shape = SPACES[which]
    rng = np.random.default_rng(seed)
    arch = space.sample(rng)
    moves = [m for m in growth_moves(space, arch) if m.kind != "widen"]
    if not moves:
        return
    torch.manual_seed(seed)
    parent = _randomise(space.build(arch, shape, 5)).eval()
    child, seeds = grow_network(space, moves[int(rng.integers(len(moves)))], parent, shape, 5)
    child.eval()
    (s,) = seeds
    s.advance(Stage.TRAINING)
    with torch.no_grad():  # the seed trained in the shadow, then did not pay
        for p in s.parameters():
            p.add_(torch.randn_like(p))
    s.advance(Stage.CULLED)
    x = torch.randn(6, *shape)
    with torch.no_grad():
        assert (child(x) - parent(x)).abs().max().item() < TOL
    assert all(not p.requires_grad for p in s.parameters())


def test_the_blend_passes_gradcheck_in_float64():
    torch = pytest.importorskip("torch")
    from nasbook.growth import blend

    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    gx = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    alpha = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: blend(a, b, c, "lerp"), (x, gx, alpha))
    assert torch.autograd.gradcheck(lambda b, c: blend(x.detach(), b, c, "add"), (gx, alpha))


def test_the_controller_drives_a_seed_to_active_and_records_it_per_epoch():
    pytest.importorskip("lightning")
    import torch

    from nasbook.growth import AlphaSchedule, SeedController, Stage, deepen, grow_network
    from nasbook.training import DigitsDataModule, train

    space = ChainSpace(kind="mlp", max_depth=3, widths=(32,), ops=("relu",))
    arch = space.make(layers=[["relu", 32]])
    torch.manual_seed(0)
    parent = space.build(arch, (1, 8, 8), 10)
    dm = DigitsDataModule(batch_size=64)
    first = train(parent, dm, max_epochs=3, lr=1e-2, health=False, test=False)
    child, seeds = grow_network(space, deepen(space, arch, 1), parent, (1, 8, 8), 10,
                                schedule=AlphaSchedule("linear", 5, "step"))
    ctl = SeedController(seeds, lr=1e-2, gate_tolerance=0.5, patience=2)  # 3 epochs: gate + ramp
    out = train(child, dm, max_epochs=3, lr=1e-2, health=False, test=False, callbacks=[ctl])
    curves = out["curves"]
    assert curves["seed0_stage"][-1] == float(Stage.ACTIVE) and curves["seed0_alpha"][-1] == 1.0
    assert curves["growth_ready"][-1] == 1.0
    assert all(a <= b for a, b in zip(curves["seed0_alpha"], curves["seed0_alpha"][1:]))
    assert ("TRAINING", "BLENDING") in seeds[0].lifecycle.history
    assert out["curves"]["val_accuracy"][-1] >= first["curves"]["val_accuracy"][-1] - 0.05


def test_the_shadow_pass_leaves_the_trunk_alone():
    pytest.importorskip("lightning")
    import torch

    from nasbook.growth import SeedController, Stage, deepen, grow_network

    space = SPACES[0][0]
    arch = space.make(layers=[["conv3x3", 4], ["conv3x3", 8]])
    parent = _randomise(space.build(arch, (2, 6, 6), 5)).train()
    child, (seed,) = grow_network(space, deepen(space, arch, 1), parent, (2, 6, 6), 5)
    seed.advance(Stage.TRAINING)
    ctl = SeedController([seed])
    ctl.on_train_start(None, None)  # type: ignore[arg-type]
    names = {n for n, m in child.named_modules() if any(m is s for s in seed.modules())}

    def mine(key):
        return key.rsplit(".", 1)[0] in names

    trunk = {k: v.clone() for k, v in child.state_dict().items() if not mine(k)}
    own = {k: v.clone() for k, v in child.state_dict().items() if mine(k)}
    assert own
    ctl._shadow_step(child, seed, torch.randn(8, 2, 6, 6), torch.randint(0, 5, (8,)))  # type: ignore[arg-type]
    after = child.state_dict()
    assert all(torch.equal(after[k], v) for k, v in trunk.items())
    assert any(not torch.equal(after[k], v) for k, v in own.items())
