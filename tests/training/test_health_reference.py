"""HealthCheck's divergence reference is the loss before the first optimizer step, not the first epoch's mean.

Outside probe 14 (docs/benchmarks.md): a ``Digits(max_epochs=2, lr=1e3)`` run blew up within its first epoch and
ended COMPLETE at a training loss 3.8e4 times its first step's, because the reference was the first epoch's mean
loss, which already held the blow-up. Such a run was then a "healthy" past run for ``divergence_risk``.
"""

import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest

from nasbook._errors import TrialDiverged

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="needs lightning")


def _trainer(epoch=0, step=0):
    return SimpleNamespace(current_epoch=epoch, global_step=step, sanity_checking=False)


def _module():
    import torch
    from torch import nn

    p = nn.Parameter(torch.zeros(2))
    p.grad = torch.ones(2)
    return SimpleNamespace(parameters=lambda: iter([p]))


def _epoch(check, losses, epoch):
    """One epoch of steps: backward on each loss, then an optimizer step (so only the first loss is untrained)."""
    import torch

    trainer = _trainer(epoch)
    check.on_train_epoch_start(trainer, None)
    for loss in losses:
        check.on_before_backward(trainer, None, torch.tensor(loss))
        check.on_before_optimizer_step(trainer, _module(), None)
    check.on_train_epoch_end(trainer, None)


BLOWN = [2.3, 9.5e3, 1.5e4, 2.7e4, 2.4e4, 3.4e4]  # probe 14's lr=1e3 run: only the first step is untrained


def test_a_blow_up_inside_the_first_epoch_is_flagged():
    from nasbook.training import HealthCheck

    check = HealthCheck()
    with pytest.raises(TrialDiverged, match=r"training diverged: mean training loss 1.825e\+04 at epoch 0 exceeds 23 "
                                            r"\(the reference loss before the first optimizer step, 2.3, "):
        _epoch(check, BLOWN, 0)
        _epoch(check, [8.9e3] * 6, 1)  # the old reference (epoch 0's mean, 1.8e4) never flagged this
    assert check.reference_loss == pytest.approx(2.3)


def test_a_falling_or_noisy_loss_is_not_flagged():
    from nasbook.training import HealthCheck

    check = HealthCheck()
    for epoch in range(4):
        _epoch(check, [2.3 - 0.1 * epoch - 0.01 * i for i in range(6)], epoch)
    spiky = HealthCheck()  # a spike of a few steps inside epoch 0, then recovery: the mean stays within 10x
    _epoch(spiky, [2.3, 30.0, 2.0, 1.9, 1.8, 1.7], 0)
    _epoch(spiky, [1.5] * 6, 1)
    small = HealthCheck()  # a small first loss: the margin of 1.0 still applies
    _epoch(small, [0.05, 0.9, 0.8, 0.7], 0)


def test_the_reference_is_the_median_of_the_losses_before_the_first_step():
    import torch

    from nasbook.training import HealthCheck

    check = HealthCheck()  # gradient accumulation: three batches before the first optimizer step
    trainer = _trainer()
    check.on_train_epoch_start(trainer, None)
    for loss in (2.0, 2.6, 2.4):
        check.on_before_backward(trainer, None, torch.tensor(loss))
    check.on_before_optimizer_step(trainer, _module(), None)
    check.on_before_backward(trainer, None, torch.tensor(500.0))
    assert check.reference_loss == pytest.approx(2.4)


def _blobs():
    from nasbook.training import ArrayDataModule

    class Blobs(ArrayDataModule):
        def load(self):
            rng = np.random.default_rng(0)
            y = np.arange(300) % 3
            x = rng.normal(size=(300, 4)).astype(np.float32) + 3 * np.eye(3, 4, dtype=np.float32)[y]
            return x, y.astype(np.int64)

    return Blobs(batch_size=16)


def _mlp():
    from torch import nn

    from nasbook.training import seeded

    with seeded(0):
        return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))


def test_a_real_run_blowing_up_in_epoch_0_is_diverged_and_a_resumed_one_too():
    from nasbook.training import train

    health = {"max_grad_norm": 1e30}  # the gradient check off: the loss alone must say it
    with pytest.raises(TrialDiverged, match=r"training diverged: .* at epoch 0 exceeds"):
        train(_mlp(), _blobs(), max_epochs=2, lr=1e3, health=health, test=False)
    # one epoch without the checks, continued with them: the checkpoint keeps the untrained loss as the reference
    first = train(_mlp(), _blobs(), max_epochs=1, lr=1e3, health=False, test=False)
    assert first["curves"]["train_loss"][0] > 100
    with pytest.raises(TrialDiverged, match=r"training diverged: .* at epoch 1 exceeds"):
        train(_mlp(), _blobs(), max_epochs=2, lr=1e3, health=health, test=False, checkpoint=first["checkpoint"])
    sane = train(_mlp(), _blobs(), max_epochs=2, lr=1e-2, test=False)
    assert sane["curves"]["train_loss"][-1] < sane["curves"]["train_loss"][0]
