"""The learning-rate cycle a grown or continued child may run (``Growth(lr_cycle=...)``, the
controller's ``cycle``): its shape, bad input, the payload, and the trunk's lr while training."""

from __future__ import annotations

import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.growth import CYCLE_KEYS, check_cycle, cycle_factor
from nasbook.space import ChainSpace
from nasbook.strategies import Growth, Proposal

SPACE = ChainSpace(kind="cnn", max_depth=4, widths=(8, 16, 32), ops=("conv3x3", "conv1x1"))


@pytest.mark.parametrize("warmup, floor, total", [(0.1, 0.05, 100), (0.0, 0.0, 7), (0.5, 0.2, 10), (0.1, 1.0, 30)])
def test_the_cycle_rises_over_the_warm_up_then_falls_to_the_floor_at_the_last_step(warmup, floor, total):
    cycle = check_cycle({"warmup": warmup, "floor": floor})
    f = [cycle_factor(cycle, k, total) for k in range(total)]
    warm = int(warmup * total)
    assert max(f) == pytest.approx(1.0) and min(f) >= floor - 1e-12
    assert all(a <= b + 1e-12 for a, b in zip(f[:warm], f[1:warm]))  # up during the warm-up
    assert all(a >= b - 1e-12 for a, b in zip(f[warm:], f[warm + 1:]))  # then down
    assert f[-1] == pytest.approx(floor) and f[warm] == pytest.approx(1.0)


def test_bad_cycles_raise_clear_errors():
    assert check_cycle(None) is None and check_cycle({}) == CYCLE_KEYS
    for bad in [{"warm": 0.1}, {"warmup": 1.0}, {"floor": -0.1}, {"floor": True}, {"floor": "low"}, [0.1, 0.05]]:
        with pytest.raises(InvalidParameterError, match="cycle"):
            check_cycle(bad)
    with pytest.raises(InvalidParameterTypeError, match="lr_cycle"):
        Growth(lr_cycle="yes").setup(SPACE, seed=0)
    with pytest.raises(InvalidParameterError, match=r"Growth\(lr_cycle=...\)"):
        Growth(lr_cycle={"floor": 2.0}).setup(SPACE, seed=0)


def test_grown_children_carry_the_cycle_and_scratch_children_do_not():
    from nasbook.trial import Trial, TrialState

    for inherit, cycle in [(True, {"warmup": 0.2, "floor": 0.1}), (True, False), (False, True)]:
        st = Growth(population_size=3, sample_size=2, inherit=inherit, lr_cycle=cycle)
        st.setup(SPACE, seed=1)
        grown = []
        for number in range(8):
            p = st.ask()
            p = p if isinstance(p, Proposal) else Proposal(p)
            grown += [p] if p.grow else []
            st.tell(Trial(number, p.arch, TrialState.COMPLETE, float(number), {"growth_ready": 1.0}, epochs=p.epochs or 6,
                          parent=p.parent, lineage=p.lineage))
        if not inherit:
            assert not grown
        elif cycle:
            assert grown and all(p.grow["seed"]["cycle"] == {"warmup": 0.2, "floor": 0.1} for p in grown)
        else:
            assert grown and all("cycle" not in p.grow["seed"] for p in grown)


def test_the_controller_runs_the_trunks_lr_through_one_cycle_per_call_and_a_continuation_gets_its_own():
    pytest.importorskip("lightning")
    import lightning.pytorch as pl
    import torch

    from nasbook.growth import SeedController, prepare_training
    from nasbook.training import DigitsDataModule, load_checkpoint, train

    class Lrs(pl.Callback):
        def __init__(self):
            self.seen = []

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            self.seen.append(trainer.optimizers[0].param_groups[0]["lr"])

    space = ChainSpace(kind="mlp", max_depth=2, widths=(16,), ops=("relu",))
    arch = space.make(layers=[["relu", 16]])
    torch.manual_seed(0)
    net = space.build(arch, (1, 8, 8), 10)
    dm = DigitsDataModule(batch_size=256)
    lrs = Lrs()
    ctl = SeedController([], cycle={"warmup": 0.25, "floor": 0.1})
    out = train(net, dm, max_epochs=2, lr=1e-2, health=False, test=False, callbacks=[ctl, lrs])
    seen = lrs.seen
    top = seen.index(max(seen))
    assert 0 < top < len(seen) - 1 and max(seen) == pytest.approx(1e-2)
    assert seen[0] < 1e-2 and seen[-1] == pytest.approx(1e-3)  # up from near the floor, down to it at the end
    assert all(a >= b for a, b in zip(seen[top:], seen[top + 1:]))
    assert out["curves"]["growth_ready"] == [1.0, 1.0]  # no seed: the network is its architecture
    # continued from its checkpoint: the cycle is found there and runs again over the new call's steps
    state = load_checkpoint(out["checkpoint"])
    assert state["extra"]["growth"]["config"]["cycle"] == {"warmup": 0.25, "floor": 0.1}
    net2 = space.build(arch, (1, 8, 8), 10)
    state, callbacks = prepare_training(space, arch, net2, grow=None, state=state, input_shape=(1, 8, 8), n_classes=10)
    assert [type(c).__name__ for c in callbacks] == ["SeedController"] and callbacks[0].cycle is not None
    lrs2 = Lrs()
    train(net2, dm, max_epochs=4, lr=1e-2, checkpoint=state, health=False, test=False, callbacks=[*callbacks, lrs2])
    assert len(lrs2.seen) == len(seen) and lrs2.seen == pytest.approx(seen)  # the same cycle over 2 more epochs
