"""``ArchModule``: a LightningModule around any classifier ``torch.nn.Module``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn
from torch.nn import functional as F

from nasbook._errors import InvalidParameterError, unknown_choice

#: Optimizers :class:`ArchModule` can create.
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd")


def check_optimizer(owner: str, optimizer: object, lr: object, weight_decay: object) -> None:
    """Raise :class:`InvalidParameterError` naming ``owner(param=...)`` for a bad optimizer setting."""
    if optimizer not in OPTIMIZERS:
        raise unknown_choice("optimizer", optimizer, OPTIMIZERS, f"Pass {owner}(optimizer=...) one of them.")
    for name, value, low_ok in (("lr", lr, False), ("weight_decay", weight_decay, True)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and value != float("inf")
        if not ok or value < 0 or (value == 0 and not low_ok):  # type: ignore[operator]
            allowed = "a finite number >= 0" if low_ok else "a finite number > 0"
            raise InvalidParameterError(f"{owner}({name}=...) must be {allowed}; got {value!r}.")


class ArchModule(pl.LightningModule):
    """Trains a network that maps ``(batch, *input_shape)`` to ``(batch, n_classes)`` logits.

    The loss is cross-entropy on integer class labels. Logged once per epoch (averaged over
    samples): ``train_loss``; ``val_loss`` and ``val_accuracy`` on the validation split;
    ``test_loss`` and ``test_accuracy`` on the test split.

    Parameters
    ----------
    net : torch.nn.Module
        The network, e.g. ``space.build(arch, input_shape, n_classes)``.
    optimizer : {"adam", "adamw", "sgd"}, default "adam"
        ``"sgd"`` uses Nesterov momentum 0.9.
    lr : float, default 1e-3
        Learning rate.
    weight_decay : float, default 0.0
        Weight decay (L2 penalty) of the optimizer.
    optimizer_state : dict, optional
        A ``state_dict`` of the same optimizer (from a checkpoint), loaded into the optimizer this
        module creates, so training continues where it stopped.

    Examples
    --------
    >>> from torch import nn
    >>> module = ArchModule(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), optimizer="sgd", lr=0.1)
    >>> type(module.configure_optimizers()).__name__
    'SGD'
    """

    def __init__(
        self,
        net: nn.Module,
        *,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer_state: Mapping[str, Any] | None = None,
    ):
        super().__init__()
        check_optimizer("ArchModule", optimizer, lr, weight_decay)
        self.net = net
        self.optimizer_name = optimizer
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.optimizer_state = optimizer_state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x)
        return out

    def _loss(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, y = batch[0], batch[1]
        logits = self.net(x)
        y = y.long()
        return F.cross_entropy(logits, y), logits, y

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss, _, y = self._loss(batch)
        self.log("train_loss", loss.detach(), on_step=False, on_epoch=True, batch_size=y.shape[0])
        return loss

    def _eval_step(self, batch: Any, stage: str) -> dict[str, torch.Tensor]:
        loss, logits, y = self._loss(batch)
        preds = logits.argmax(dim=1)
        n = y.shape[0]
        self.log(f"{stage}_loss", loss, on_step=False, on_epoch=True, batch_size=n)
        self.log(f"{stage}_accuracy", (preds == y).float().mean(), on_step=False, on_epoch=True, batch_size=n)
        # HealthCheck counts predicted classes from these to detect a collapse to one class
        return {"preds": preds.detach(), "target": y.detach()}

    def validation_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        return self._eval_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        return self._eval_step(batch, "test")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        params = [p for p in self.parameters() if p.requires_grad]
        opt: torch.optim.Optimizer
        if self.optimizer_name == "sgd":
            opt = torch.optim.SGD(params, lr=self.lr, momentum=0.9, nesterov=True, weight_decay=self.weight_decay)
        elif self.optimizer_name == "adamw":
            opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        else:
            opt = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        if self.optimizer_state is not None:
            opt.load_state_dict(dict(self.optimizer_state))
            self.optimizer_state = None  # loaded once; the optimizer owns it now
        return opt
