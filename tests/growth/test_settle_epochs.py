"""A grown child trained for fewer epochs than its seed's gate and ramp take ends at alpha 0 (exactly its
parent): :func:`settle_epochs` is that bound, checked against the controller's own stage changes, and both
Growth (child_epochs) and SeedController (the epochs it is asked to train) refuse a training shorter than it."""

from __future__ import annotations

import pytest

from nasbook.growth import AlphaSchedule, Stage, settle_epochs
from nasbook.space import ChainSpace
from nasbook.strategies import Growth

SPACE = ChainSpace(kind="cnn", max_depth=4, widths=(8, 16, 32), ops=("conv3x3", "conv1x1"))


class _Trainer:
    def __init__(self, epochs):
        self.max_epochs, self.current_epoch, self.num_training_batches, self.optimizers = epochs, 0, 3, []


class _Module:
    def log(self, *args, **kwargs):
        pass


def _late_controller(patience, schedule, delay):
    """A controller whose gate passes only at its last chance (the seed's worst case short of culling)."""
    pytest.importorskip("lightning")
    from nasbook.growth import Seed, SeedController

    class Late(SeedController):
        calls = 0

        def gate(self, losses, shadow, trunk):
            self.calls += 1
            return self.calls == self.patience

    return Late([Seed("seed0", [], schedule)], patience=patience, delay_epochs=delay)


def _train(ctl, epochs, batches=3):
    """The controller's hooks over ``epochs`` epochs of ``batches`` steps (no shadow pass: no batch buffered)."""
    for _ in range(epochs):
        for _ in range(batches):
            ctl.on_train_batch_end(_Trainer(epochs), _Module(), None, (None, None), 0)
        ctl.on_train_epoch_end(_Trainer(epochs), _Module())
    return ctl.seeds[0]


@pytest.mark.parametrize("patience,delay", [(1, 0), (2, 0), (3, 1)])
@pytest.mark.parametrize("every,length", [("step", 20), ("epoch", 3)])
def test_settle_epochs_is_the_worst_case_of_the_controller(patience, delay, every, length):
    schedule = AlphaSchedule("linear", length, every)
    need = settle_epochs(patience, schedule, delay)
    ctl = _late_controller(patience, schedule, delay)
    ctl.on_train_start(_Trainer(need), _Module())
    seed = _train(ctl, need)
    assert seed.alpha > 0 and (seed.stage is Stage.ACTIVE or every == "step")
    short = _late_controller(patience, schedule, delay)
    with pytest.raises(Exception, match=rf"needs at least {need} epochs.*runs {need - 1}"):
        short.on_train_start(_Trainer(need - 1), _Module())
    if delay == 0:  # the trap the refusal prevents: one epoch fewer and the seed ends at alpha 0
        trapped = _late_controller(patience, schedule, delay)
        trapped.seeds[0].advance(Stage.TRAINING)  # what on_train_start does, without its check
        seed = _train(trapped, need - 1)
        assert seed.stage not in (Stage.ACTIVE, Stage.CULLED) and (every == "epoch" or seed.alpha == 0.0)


def test_growth_refuses_a_child_too_short_for_its_seed_and_names_the_parameters():
    with pytest.raises(Exception, match=r"child_epochs.*at least patience \+ 1.*= 3.*got child_epochs=2 with patience=2"):
        Growth(child_epochs=2, patience=2).setup(SPACE)
    with pytest.raises(Exception, match=r"blend_length=3.*= 4.*child_epochs>=4 or patience<=0|child_epochs>=4"):
        Growth(child_epochs=3, patience=1, blend_every="epoch", blend_length=3).setup(SPACE)
    Growth(child_epochs=2, patience=1).setup(SPACE)
    Growth(child_epochs=4, patience=1, blend_every="epoch", blend_length=3).setup(SPACE)
    Growth(child_epochs=1, moves=("widen",)).setup(SPACE)  # a widen adds no seed: nothing to wait for
    Growth(child_epochs=1, inherit=False).setup(SPACE)  # children train from scratch: no seed
    Growth(patience=5).setup(SPACE)  # child_epochs=None: the task's max_epochs, checked when the child trains
