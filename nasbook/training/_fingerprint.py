"""Run fingerprints: a compact vector of a training run's early behaviour (:class:`RunFingerprint`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch

from nasbook._errors import check_int

#: the fingerprint's entries, in order (all finite floats; the trial's ``metrics`` hold them)
FINGERPRINT_KEYS: tuple[str, ...] = (
    "fp_loss_first",     # log(1 + first finite training loss)
    "fp_loss_trend",     # log(mean loss of the last quarter / of the first quarter) of the steps seen: < 0 learns
    "fp_loss_peak",      # log(max loss / first loss), >= 0: how far the loss rose above where it started
    "fp_loss_rises",     # fraction of steps whose loss rose over the previous step's
    "fp_grad_median",    # log10 median gradient norm
    "fp_grad_max",       # log10 max gradient norm
    "fp_grad_trend",     # log10(median norm of the last quarter / of the first quarter)
    "fp_grad_spread",    # std / mean of log10 gradient norms
    "fp_nonfinite",      # 1.0 when a loss or a gradient norm was NaN or infinite, else 0.0
    "fp_steps",          # optimizer steps observed (<= steps)
)
#: the value of a log10 norm for a zero gradient
_LOG_ZERO = -30.0


def fingerprint(losses: Sequence[float], grad_norms: Sequence[float]) -> dict[str, float]:
    """The fingerprint of per-step training losses and total gradient norms (plain numbers, any length).

    Every entry is finite whatever the input (NaN and infinite values set ``fp_nonfinite`` and are
    left out of the statistics), so fingerprints can be compared with a distance.

    Parameters
    ----------
    losses : sequence of float
        The training loss of each step, in order.
    grad_norms : sequence of float
        The total L2 gradient norm of each step, in order (may differ in length from ``losses``).

    Returns
    -------
    dict of str to float
        One finite value per name of :data:`FINGERPRINT_KEYS` (loss level, trend, peak and
        rises; gradient median and max; ``fp_nonfinite`` 1.0 when any input was NaN or infinite).

    Examples
    --------
    >>> fp = fingerprint([2.3, 2.0, 1.5, 1.1], [1.0, 0.8, 0.7, 0.5])
    >>> fp["fp_loss_trend"] < 0, fp["fp_nonfinite"]
    (True, 0.0)
    """
    loss = np.asarray(losses, dtype=float)
    norms = np.asarray(grad_norms, dtype=float)
    nonfinite = bool((~np.isfinite(loss)).any() or (~np.isfinite(norms)).any())
    loss = loss[np.isfinite(loss)]
    norms = norms[np.isfinite(norms)]
    out = dict.fromkeys(FINGERPRINT_KEYS, 0.0)
    out["fp_nonfinite"] = 1.0 if nonfinite else 0.0
    out["fp_steps"] = float(max(len(losses), len(grad_norms)))
    if len(loss):
        pos = np.maximum(loss, 1e-12)
        out["fp_loss_first"] = math.log1p(max(float(loss[0]), 0.0))
        q = max(1, len(pos) // 4)
        out["fp_loss_trend"] = float(np.log(pos[-q:].mean() / pos[:q].mean()))
        out["fp_loss_peak"] = float(max(0.0, np.log(pos.max() / pos[0])))
        out["fp_loss_rises"] = float(np.mean(np.diff(pos) > 0)) if len(pos) > 1 else 0.0
    if len(norms):
        logs = np.where(norms > 0, np.log10(np.maximum(norms, 1e-300)), _LOG_ZERO)
        q = max(1, len(logs) // 4)
        out["fp_grad_median"] = float(np.median(logs))
        out["fp_grad_max"] = float(logs.max())
        out["fp_grad_trend"] = float(np.median(logs[-q:]) - np.median(logs[:q]))
        mean = float(np.mean(np.abs(logs)))
        out["fp_grad_spread"] = float(np.std(logs) / mean) if mean > 0 else 0.0
    return {k: (float(v) if math.isfinite(v) else 0.0) for k, v in out.items()}


class RunFingerprint(pl.Callback):
    """Records the training loss and the total gradient norm of the first ``steps`` optimizer steps,
    and summarises them as a :func:`fingerprint` (``features()``), at any time.

    Runs before :class:`~nasbook.training.HealthCheck` (``train`` puts it first), so the step whose
    loss or gradient is not finite is recorded before the health check ends the trial. After
    ``steps`` steps it records nothing more (no cost).

    Parameters
    ----------
    steps : int, default 50
        Optimizer steps fingerprinted, counted over the whole run (a continued run keeps the
        fingerprint of its first fit: pass ``state``).
    state : mapping, optional
        ``{"losses": [...], "grad_norms": [...]}`` recorded by an earlier fit (from a checkpoint).
    """

    def __init__(self, steps: int = 50, state: Mapping[str, Any] | None = None):
        steps = check_int("RunFingerprint", "steps", steps, minimum=1)
        self.steps = int(steps)
        self.losses: list[float] = [float(x) for x in (state or {}).get("losses", [])]
        self.grad_norms: list[float] = [float(x) for x in (state or {}).get("grad_norms", [])]

    @property
    def state(self) -> dict[str, list[float]]:
        """What a checkpoint keeps to continue the fingerprint (plain lists)."""
        return {"losses": list(self.losses), "grad_norms": list(self.grad_norms)}

    def features(self) -> dict[str, float]:
        """The fingerprint of the steps recorded so far (:data:`FINGERPRINT_KEYS`).

        Returns
        -------
        dict of str to float
            As :func:`fingerprint` gives it.
        """
        return fingerprint(self.losses, self.grad_norms)

    def on_before_backward(self, trainer: pl.Trainer, pl_module: pl.LightningModule, loss: torch.Tensor) -> None:
        if len(self.losses) < self.steps:
            self.losses.append(float(loss.detach()))

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any) -> None:
        if len(self.grad_norms) >= self.steps:
            return
        grads = [p.grad for p in pl_module.parameters() if p.grad is not None]
        if grads:
            self.grad_norms.append(float(torch.nn.utils.get_total_norm(grads, norm_type=2.0)))
