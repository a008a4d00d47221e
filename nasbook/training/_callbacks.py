"""Lightning callbacks: reporting to the search loop, and training-health checks."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import lightning.pytorch as pl
import torch

from nasbook._errors import InvalidParameterError, TrialDiverged, did_you_mean
from nasbook.trial import Decision, Reporter


def _scalars(metrics: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in metrics.items():
        if isinstance(v, torch.Tensor) and v.numel() == 1:
            out[k] = float(v.item())
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = float(v)
    return out


class NasbookCallback(pl.Callback):
    """Records every epoch's metrics and reports them to the search loop.

    Called at the end of every training epoch. Lightning runs the epoch's validation before
    that point, and only there are epoch-averaged training metrics (``train_loss``) final; at
    ``on_validation_epoch_end`` they would still hold the previous epoch's value. The epoch's
    metrics (everything logged, as floats) are appended to :attr:`curves`, then passed to
    ``report(epoch, **metrics)``; when it answers :attr:`Decision.STOP <nasbook.tasks.Decision>`
    the trainer stops after this epoch and :attr:`stopped` is set.

    Parameters
    ----------
    report : callable, optional
        ``report(epoch: int, **metrics) -> Decision``; ``None`` (or a report returning None)
        means continue.
    monitor : str, default "val_accuracy"
        The objective. After the first epoch, a monitor that was never logged raises
        :class:`~nasbook._errors.InvalidParameterError` listing what was logged.
    epoch_offset : int, default 0
        Epochs trained before this fit (continuing from a checkpoint): reported epochs are
        ``epoch_offset + trainer.current_epoch``, counted from 0.
    curves : mapping of str to list of float, optional
        Earlier epochs' curves (from a checkpoint), continued by this fit.
    extra : callable, optional
        ``extra() -> {name: float}``: more numbers to report with each epoch's metrics but not
        recorded as curves (the run's fingerprint so far, :class:`RunFingerprint`).
    """

    def __init__(
        self,
        report: Reporter | None = None,
        monitor: str = "val_accuracy",
        *,
        epoch_offset: int = 0,
        curves: Mapping[str, Sequence[float]] | None = None,
        extra: Callable[[], Mapping[str, float]] | None = None,
    ):
        self.report = report
        self.extra = extra
        self.monitor = monitor
        self.epoch_offset = int(epoch_offset)
        self.curves: dict[str, list[float]] = {k: [float(x) for x in v] for k, v in (curves or {}).items()}
        self.stopped = False
        self.epochs_run = 0

    @property
    def epochs(self) -> int:
        """Epochs trained in all, earlier ones included."""
        return self.epoch_offset + self.epochs_run

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        metrics = _scalars(trainer.callback_metrics)
        epoch = self.epoch_offset + trainer.current_epoch
        if self.monitor not in metrics:
            logged = sorted(metrics)
            raise InvalidParameterError(
                f"metric {self.monitor!r} was never logged; logged metrics: {logged!r}"
                f"{did_you_mean(self.monitor, logged)}. Pass one of them as metric=..."
            )
        n_before = self.epochs_run + self.epoch_offset
        for k in metrics.keys() | self.curves.keys():
            curve = self.curves.setdefault(k, [math.nan] * n_before)
            curve.append(metrics.get(k, math.nan))
        self.epochs_run += 1
        extra = dict(self.extra()) if self.extra is not None else {}
        if self.report is not None and self.report(epoch, **{**extra, **metrics}) == Decision.STOP:
            trainer.should_stop = True
            self.stopped = True


class HealthCheck(pl.Callback):
    """Ends a trial whose training is broken, raising :class:`~nasbook._errors.TrialDiverged`.

    Checks, each with a reason that names the epoch (counted from 0) and step:

    - **NaN/inf loss**: a training batch's loss is not finite (checked before backward).
    - **Exploding gradients**: the total L2 norm of the gradients exceeds ``max_grad_norm``,
      or is not finite.
    - **Vanishing gradients**: the total gradient norm stays below ``min_grad_norm`` for every
      step of an epoch while that epoch's mean training loss is above ``min_loss`` (a model
      that has fit its data perfectly may have no gradient left; that is not an error).
    - **Divergence**: an epoch's mean training loss (the first epoch's included) exceeds *both*
      ``divergence_factor`` times the *reference loss* and that loss plus ``divergence_margin``.
      The reference is the median of the training losses computed before the first optimizer
      step (one batch, or ``accumulate_grad_batches`` of them): the untrained network's loss,
      which a blow-up inside the first epoch cannot have raised (the first epoch's mean, the
      reference before, could: a run at ``lr=1e3`` ended 3.8e4 times its first loss unflagged).
      Trials stored before that change keep the state they were stored with (no migration).
      The margin keeps a small first loss (0.05, say) from flagging ordinary noise (0.5 would be
      ten times it); the factor keeps a large first loss from needing a huge absolute jump.
    - **Collapse to one class**: from epoch ``collapse_after_epoch`` on, one class is
      predicted for at least ``collapse_fraction`` of the validation samples although the
      validation labels hold at least two classes and no class has more than
      ``max_majority`` of them (so predicting one class is clearly wrong).

    Parameters
    ----------
    divergence_factor : float, default 10.0
        Divergence: an epoch's mean loss above this many times the reference loss (and above the margin).
    divergence_margin : float, default 1.0
        Divergence also needs the loss above the reference loss plus this, in loss units.
    max_grad_norm : float, default 1e4
        Exploding gradients: a total gradient L2 norm above this.
    min_grad_norm : float, default 1e-12
        Vanishing gradients: every step of an epoch below this total norm (while the loss is above ``min_loss``).
    min_loss : float, default 1e-3
        A mean training loss at or below this never counts as vanishing gradients (the data is fit).
    collapse_fraction : float, default 0.99
        Collapse: the share of validation samples predicted as one class from which training has collapsed.
    collapse_after_epoch : int, default 2
        Collapse is checked from this epoch on (0-based): early epochs may predict one class.
    max_majority : float, default 0.9
        Collapse is checked only when no class holds more than this share of the validation labels.
    min_val_samples : int, default 20
        Fewer validation samples than this skip the collapse check.
    epoch_offset, step_offset : int, default 0
        Epochs and optimizer steps trained before this fit (continuing from a checkpoint).
    reference_loss : float, optional
        The reference loss when the run began in an earlier fit (``train`` keeps it in the
        checkpoint); None measures it in this fit.
    """

    def __init__(
        self,
        *,
        divergence_factor: float = 10.0,
        divergence_margin: float = 1.0,
        max_grad_norm: float = 1e4,
        min_grad_norm: float = 1e-12,
        min_loss: float = 1e-3,
        collapse_fraction: float = 0.99,
        collapse_after_epoch: int = 2,
        max_majority: float = 0.9,
        min_val_samples: int = 20,
        epoch_offset: int = 0,
        step_offset: int = 0,
        reference_loss: float | None = None,
    ):
        self.divergence_factor = float(divergence_factor)
        self.divergence_margin = float(divergence_margin)
        self.max_grad_norm = float(max_grad_norm)
        self.min_grad_norm = float(min_grad_norm)
        self.min_loss = float(min_loss)
        self.collapse_fraction = float(collapse_fraction)
        self.collapse_after_epoch = int(collapse_after_epoch)
        self.max_majority = float(max_majority)
        self.min_val_samples = int(min_val_samples)
        self.epoch_offset = int(epoch_offset)
        self.step_offset = int(step_offset)
        self.reference_loss = None if reference_loss is None or not math.isfinite(reference_loss) else float(reference_loss)
        self._init_losses: list[float] = []  # losses before the first optimizer step: the reference
        self._reset_epoch()
        self._reset_val()

    #: keyword arguments accepted from ``TrainingTask(health={...})``
    PARAMS: tuple[str, ...] = (
        "divergence_factor", "divergence_margin", "max_grad_norm", "min_grad_norm", "min_loss",
        "collapse_fraction", "collapse_after_epoch", "max_majority", "min_val_samples",
    )

    def _reset_epoch(self) -> None:
        self._loss_sum = 0.0
        self._loss_n = 0
        self._max_norm = 0.0
        self._n_norms = 0

    def _reset_val(self) -> None:
        self._pred_counts: torch.Tensor | None = None
        self._target_counts: torch.Tensor | None = None

    def _where(self, trainer: pl.Trainer) -> str:
        return f"epoch {self.epoch_offset + trainer.current_epoch}, step {self.step_offset + trainer.global_step}"

    # -- training steps ---------------------------------------------------------------------------
    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._reset_epoch()

    def on_before_backward(self, trainer: pl.Trainer, pl_module: pl.LightningModule, loss: torch.Tensor) -> None:
        value = float(loss.detach())
        if not math.isfinite(value):
            raise TrialDiverged(f"training loss became {_name(value)} at {self._where(trainer)}")
        self._loss_sum += value
        self._loss_n += 1
        if self.reference_loss is None and len(self._init_losses) < _MAX_INIT_LOSSES:
            self._init_losses.append(value)

    def _fix_reference(self) -> None:
        if self.reference_loss is None and self._init_losses:
            self.reference_loss = float(statistics.median(self._init_losses))

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any) -> None:
        self._fix_reference()  # before this step the losses were the untrained network's
        grads = [p.grad for p in pl_module.parameters() if p.grad is not None]
        if not grads:
            return
        norm = float(torch.nn.utils.get_total_norm(grads, norm_type=2.0))
        if not math.isfinite(norm):
            raise TrialDiverged(f"gradient norm became {_name(norm)} at {self._where(trainer)}")
        if norm > self.max_grad_norm:
            raise TrialDiverged(
                f"gradient norm exploded to {norm:.3g} (max_grad_norm={self.max_grad_norm:g}) at {self._where(trainer)}"
            )
        self._max_norm = max(self._max_norm, norm)
        self._n_norms += 1

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._loss_n:
            return
        epoch = self.epoch_offset + trainer.current_epoch
        mean = self._loss_sum / self._loss_n
        if self._n_norms and self._max_norm < self.min_grad_norm and mean > self.min_loss:
            raise TrialDiverged(
                f"gradients vanished: the gradient norm stayed below {self.min_grad_norm:g} for all "
                f"{self._n_norms} steps of epoch {epoch} while the training loss was {mean:.4g}"
            )
        self._fix_reference()  # no optimizer step in the epoch: the median of its losses
        ref = self.reference_loss
        if ref is None:
            return
        limit = max(self.divergence_factor * ref, ref + self.divergence_margin)
        if mean > limit:
            raise TrialDiverged(
                f"training diverged: mean training loss {mean:.4g} at epoch {epoch} exceeds {limit:.4g} "
                f"(the reference loss before the first optimizer step, {ref:.4g}, "
                f"times divergence_factor={self.divergence_factor:g}, "
                f"and plus divergence_margin={self.divergence_margin:g})"
            )

    # -- validation: collapse to one class -----------------------------------------------------------
    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._reset_val()

    def on_validation_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(outputs, Mapping) or "preds" not in outputs or "target" not in outputs:
            return
        self._pred_counts = _add_counts(self._pred_counts, outputs["preds"])
        self._target_counts = _add_counts(self._target_counts, outputs["target"])

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = self.epoch_offset + trainer.current_epoch
        preds, targets = self._pred_counts, self._target_counts
        if trainer.sanity_checking or epoch < self.collapse_after_epoch or preds is None or targets is None:
            return
        n = int(targets.sum())
        if n < self.min_val_samples or int((targets > 0).sum()) < 2:
            return
        majority = float(targets.max()) / n
        top = int(preds.argmax())
        share = float(preds[top]) / n
        if share >= self.collapse_fraction and majority <= self.max_majority:
            raise TrialDiverged(
                f"predictions collapsed to one class: class {top} for {share:.1%} of {n} validation samples "
                f"at epoch {epoch} (the most common true class is {majority:.1%} of them)"
            )


#: at most this many losses before the first optimizer step make the reference (their median)
_MAX_INIT_LOSSES = 64


def _add_counts(counts: torch.Tensor | None, labels: torch.Tensor) -> torch.Tensor:
    new = torch.bincount(labels.detach().reshape(-1).long().cpu())
    if counts is None:
        return new
    if len(new) > len(counts):
        new[: len(counts)] += counts
        return new
    counts[: len(new)] += new
    return counts


def _name(value: float) -> str:
    return "NaN" if value != value else ("inf" if value > 0 else "-inf")
