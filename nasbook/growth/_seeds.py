"""Soft-landing seeds on a built network (torch) and the Lightning callback that drives them.

A :class:`Seed` hooks the modules of the new capacity ``g`` without changing the network's
structure, so its ``state_dict`` is always that of ``space.build(child)``:

- ``mode="lerp"`` (a new chain layer): ``out = x + alpha * (g(x) - x)``: ``x`` at ``alpha = 0``
  (the parent), exactly ``g(x)`` at ``alpha = 1`` (the child's own layer, no residual left over);
- ``mode="add"`` (a new cell edge): the edge contributes ``alpha * g(x)`` to its node's sum.

So the output is continuous at every stage change: stages only change while alpha stays put
(0 for DORMANT -> TRAINING -> BLENDING and CULLED, 1 for BLENDING -> ACTIVE).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn
from torch.nn import functional as F

from nasbook._errors import InvalidParameterError, check_int, unknown_choice
from nasbook.growth._stages import AlphaSchedule, Lifecycle, Stage, check_cycle, cycle_factor, settle_epochs

_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
MODES: tuple[str, ...] = ("lerp", "add")


def blend(x: torch.Tensor, gx: torch.Tensor, alpha: float | torch.Tensor, mode: str = "lerp") -> torch.Tensor:
    """``x + alpha * (gx - x)`` (``lerp``) or ``alpha * gx`` (``add``); exact at alpha 0 and 1.

    Parameters
    ----------
    x : torch.Tensor
        The input the seed's modules received (``lerp``: what the parent passed on).
    gx : torch.Tensor
        The seed's output.
    alpha : float or torch.Tensor
        The blend weight, 0 to 1.
    mode : {"lerp", "add"}, default "lerp"
        A new chain layer (``lerp``) or a new cell edge whose output is added to a sum (``add``).

    Returns
    -------
    torch.Tensor
        ``x`` itself at alpha 0 in ``lerp`` mode, ``gx`` itself at alpha 1.
    """
    if mode not in MODES:  # an unknown mode blended as "add", silently
        raise unknown_choice("growth.blend(mode=...)", mode, MODES)
    if not isinstance(alpha, torch.Tensor):
        if not (isinstance(alpha, (int, float, numbers.Real)) and 0.0 <= alpha <= 1.0):
            raise InvalidParameterError(f"growth.blend(alpha=...) must be a number from 0 to 1; got {alpha!r:.40}.")
        if alpha == 1.0:
            return gx
        if alpha == 0.0 and mode == "lerp":
            return x
    if mode == "lerp":
        return x + alpha * (gx - x)
    return alpha * gx


class Seed:
    """New capacity that lands softly; ``sites`` are ``{"mode", "first", "last"}`` module names.

    One seed may hold several sites that share one stage and alpha (a new edge in every cell).

    Parameters
    ----------
    name : str
        The seed's name; its logged metrics are ``<name>_stage``, ``<name>_alpha`` and ``<name>_health``.
    sites : sequence of dict
        Where it lands: ``{"mode": "lerp" | "add", "first": module name, "last": module name}``, the
        new capacity being the modules from ``first`` to ``last``. Several sites share one stage
        and alpha.
    schedule : AlphaSchedule
        How alpha ramps while BLENDING.
    stage : Stage, default Stage.DORMANT
        The stage to start in (a seed restored from a checkpoint).
    updates : int, default 0
        Alpha updates already made while BLENDING.
    """

    def __init__(self, name: str, sites: Sequence[dict[str, Any]], schedule: AlphaSchedule,
                 stage: Stage = Stage.DORMANT, updates: int = 0):
        for site in sites:
            if site.get("mode") not in MODES:
                raise InvalidParameterError(f"a seed site's mode must be one of {list(MODES)!r}; got {site!r}.")
        self.name = name
        self.sites = [dict(s) for s in sites]
        self.lifecycle = Lifecycle(schedule, stage, updates)
        self.shadow = False
        self.health = 0.0
        self.shadow_loss = 0.0
        self.epochs_in_stage = 0
        self._handles: list[Any] = []
        self._modules: list[nn.Module] = []
        self._inputs: dict[int, torch.Tensor] = {}

    @property
    def stage(self) -> Stage:
        """The seed's current :class:`Stage`."""
        return self.lifecycle.stage

    @property
    def alpha(self) -> float:
        """The alpha in effect (1 in a shadow pass, whatever the stage)."""
        return 1.0 if self.shadow else self.lifecycle.alpha

    def advance(self, to: Stage) -> None:
        """Move to stage ``to`` (see :meth:`Lifecycle.advance`); a CULLED seed's parameters stop training.

        Parameters
        ----------
        to : Stage
            The next stage.
        """
        self.lifecycle.advance(to)
        self.epochs_in_stage = 0
        if to is Stage.CULLED:
            for p in self.parameters():
                p.requires_grad_(False)

    def attach(self, net: nn.Module) -> Seed:
        """Hook the seed into ``net`` (a network of the child architecture).

        Parameters
        ----------
        net : torch.nn.Module
            The network; it must have the modules the sites name (an error names a missing one).

        Returns
        -------
        Seed
            ``self``, attached.
        """
        named = dict(net.named_modules())
        for k, site in enumerate(self.sites):
            missing = [site[key] for key in ("first", "last") if site[key] not in named]
            if missing:
                raise InvalidParameterError(f"seed {self.name!r}: the network has no module {missing[0]!r}.")
            first, last = named[site["first"]], named[site["last"]]
            self._modules += _span(net, site["first"], site["last"])
            if site["mode"] == "lerp":
                self._handles.append(first.register_forward_pre_hook(self._pre(k)))
            self._handles.append(last.register_forward_hook(self._post(k, site["mode"])))
        return self

    def detach(self) -> None:
        """Remove the seed's hooks: the network then computes the child architecture at full strength."""
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def _pre(self, k: int) -> Any:
        def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
            self._inputs[k] = args[0]
        return hook

    def _post(self, k: int, mode: str) -> Any:
        def hook(module: nn.Module, args: tuple[Any, ...], out: torch.Tensor) -> torch.Tensor:
            x = self._inputs.pop(k, None) if mode == "lerp" else out
            return blend(x, out, self.alpha, mode)  # type: ignore[arg-type]
        return hook

    def modules(self) -> list[nn.Module]:
        """The modules of the new capacity, over all sites.

        Returns
        -------
        list of torch.nn.Module
            Filled by :meth:`attach`.
        """
        return list(self._modules)

    def parameters(self) -> list[nn.Parameter]:
        """The parameters of the new capacity (what the shadow passes train).

        Returns
        -------
        list of torch.nn.Parameter
            Over :meth:`modules`.
        """
        return [p for m in self._modules for p in m.parameters()]

    def to_dict(self) -> dict[str, Any]:
        """The seed as plain data, for a checkpoint (the weights live in the network's own state).

        Returns
        -------
        dict
            ``{"name", "sites", "schedule", "stage", "updates"}``, what :meth:`from_dict` takes.
        """
        return {"name": self.name, "sites": self.sites, "schedule": self.lifecycle.schedule.to_dict(),
                "stage": int(self.stage), "updates": self.lifecycle.updates}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Seed:
        """Rebuild a seed from :meth:`to_dict` (not attached).

        Parameters
        ----------
        d : dict
            As :meth:`to_dict` returns it.

        Returns
        -------
        Seed
            A new, detached seed in the stored stage.
        """
        return cls(d["name"], d["sites"], AlphaSchedule(**d["schedule"]), Stage(int(d["stage"])), int(d["updates"]))

    def __repr__(self) -> str:
        return f"Seed({self.name!r}, {self.stage.name}, alpha={self.alpha:.3g}, health={self.health:.3g})"


def _span(net: nn.Module, first: str, last: str) -> list[nn.Module]:
    """The modules from ``first`` to ``last`` (siblings in one container, or one module)."""
    if first == last:
        return [dict(net.named_modules())[first]]
    parent_name, _, a = first.rpartition(".")
    _, _, b = last.rpartition(".")
    parent = dict(net.named_modules())[parent_name] if parent_name else net
    names = [n for n, _ in parent.named_children()]
    return [m for n, m in parent.named_children() if names.index(a) <= names.index(n) <= names.index(b)]


class SeedController(pl.Callback):
    """Drives seeds through their stages while Lightning trains the network.

    - DORMANT -> TRAINING when training starts (after ``delay_epochs`` epochs);
    - TRAINING: after every training batch (the batch is buffered at its start: training data
      only, never validation), a *shadow pass* runs the network with the seed at ``alpha = 1`` and
      steps the seed's own Adam optimizer on that loss; the trunk's batch norms keep their
      statistics. Other parameters are not touched by it.
    - at the end of an epoch the gate (:meth:`gate`) moves it to BLENDING when its shadow loss
      improved over the epoch and the epoch's mean shadow loss is within ``gate_tolerance`` of the
      trunk's mean training loss (the seed pays); after ``patience`` epochs without passing it is CULLED (alpha stays 0).
    - BLENDING: alpha follows the seed's :class:`AlphaSchedule` (per step or per epoch) and the
      seed trains with the trunk; it is ACTIVE when alpha reaches exactly 1.

    Logged every epoch (so they land in the trial's curves and metrics): ``<seed>_stage`` (the
    :class:`Stage` value), ``<seed>_alpha``, ``<seed>_health`` (trunk loss minus shadow loss at
    the last gate: > 0 means the seed helps) and ``growth_ready`` (1 when every seed is ACTIVE, so
    the network is exactly the child architecture).

    ``cycle`` (None: the trunk's learning rate is left alone): the trunk's learning rate runs one
    cycle over this training call, from ``floor`` times the task's ``lr`` up to the ``lr`` in the
    first ``warmup`` fraction of the steps (linear), then back down to ``floor`` times it (cosine):
    a warm restart after growth (Loshchilov & Hutter 2017, SGDR). It is kept in the checkpoint, so
    a continued trial (``Proposal(parent=...)``) runs a cycle of its own.

    Parameters
    ----------
    seeds : sequence of Seed
        The seeds, attached to the network being trained.
    lr : float, default 1e-3
        Learning rate of each seed's own Adam optimizer in its shadow passes (and the trunk's
        fallback when the module has no ``lr`` for the cycle).
    gate_tolerance : float, default 0.05
        How far above the trunk's mean training loss the shadow loss may be and still pass the
        gate, as a fraction of the trunk's loss (>= 0).
    patience : int, default 3
        Epochs a seed may spend TRAINING without passing the gate before it is CULLED (>= 1).
    delay_epochs : int, default 0
        Epochs a seed stays DORMANT before it starts TRAINING (>= 0).
    cycle : dict, optional
        ``{"warmup": ..., "floor": ...}`` (see above and :func:`check_cycle`); None: no cycle.
    """

    def __init__(self, seeds: Sequence[Seed], *, lr: float = 1e-3, gate_tolerance: float = 0.05, patience: int = 3,
                 delay_epochs: int = 0, cycle: dict[str, float] | None = None):
        patience = check_int("SeedController", "patience", patience, minimum=1)
        delay_epochs = check_int("SeedController", "delay_epochs", delay_epochs, minimum=0)
        if not isinstance(lr, (int, float, numbers.Real)) or isinstance(lr, bool) or not math.isfinite(lr) or lr <= 0:
            raise InvalidParameterError(f"SeedController(lr=...) must be a finite number > 0; got {lr!r:.40}.")
        if not isinstance(gate_tolerance, (int, float, numbers.Real)) or not math.isfinite(gate_tolerance) or gate_tolerance < 0:
            raise InvalidParameterError(f"SeedController(gate_tolerance=...) must be a finite number >= 0; got {gate_tolerance!r}.")
        self.seeds = list(seeds)
        self.lr, self.gate_tolerance, self.patience, self.delay_epochs = float(lr), float(gate_tolerance), patience, delay_epochs
        self.cycle = check_cycle(cycle)
        self._steps = [0, 0]  # this call's steps done, in all
        self._opts: dict[str, torch.optim.Optimizer] = {}
        self._batch: tuple[torch.Tensor, torch.Tensor] | None = None
        self._trunk = [0.0, 0]
        self._shadow: dict[str, list[float]] = {}
        self._halves: dict[str, list[list[float]]] = {}  # per seed: shadow losses of the epoch, in order

    # -- lightning hooks ---------------------------------------------------------------------------------
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        top = getattr(trainer, "max_epochs", None)
        if isinstance(top, int) and top > 0:  # (-1 or None: Lightning trains without an epoch limit)
            self.check_epochs(top - int(getattr(trainer, "current_epoch", 0) or 0))
        for seed in self.seeds:
            if seed.stage is Stage.DORMANT and self.delay_epochs == 0:
                seed.advance(Stage.TRAINING)
            params = [p for p in seed.parameters() if p.requires_grad]
            if params:
                self._opts[seed.name] = torch.optim.Adam(params, lr=self.lr)
        batches = getattr(trainer, "num_training_batches", 1)
        batches = int(batches) if math.isfinite(batches) else 1
        self._steps = [0, max(1, batches * int(getattr(trainer, "max_epochs", 1) or 1))]

    def check_epochs(self, epochs: int) -> None:
        """Refuse a training of ``epochs`` epochs too short for a seed that has not started blending to leave
        ``alpha = 0`` or be culled (:func:`~nasbook.growth.settle_epochs`): the network would end exactly as its
        parent, silently. Called when training starts.

        Parameters
        ----------
        epochs : int
            The epochs the training will run.

        Raises
        ------
        InvalidParameterError
            When ``epochs`` is below :func:`~nasbook.growth.settle_epochs` for a seed not yet blending.
        """
        for seed in self.seeds:
            if seed.stage not in (Stage.DORMANT, Stage.TRAINING):
                continue
            delay = self.delay_epochs if seed.stage is Stage.DORMANT else 0
            need = settle_epochs(self.patience, seed.lifecycle.schedule, delay)
            if epochs < need:
                ramp = (f"+ blend length={seed.lifecycle.schedule.length} epochs (every='epoch')"
                        if seed.lifecycle.schedule.every == "epoch" else "+ 1 epoch of per-step ramp")
                raise InvalidParameterError(
                    f"SeedController: seed {seed.name!r} ({seed.stage.name}) needs at least {need} epochs to leave "
                    f"alpha=0 or be culled (delay_epochs={delay} + patience={self.patience} {ramp}), but this training "
                    f"runs {epochs}: the network would end exactly as its parent. Train at least {need} epochs "
                    f"(Growth(child_epochs=...), or the task's max_epochs when child_epochs is None) or lower patience.")

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int) -> None:
        self._batch = (batch[0].detach(), batch[1].detach())
        if self.cycle is not None and trainer.optimizers:
            lr = float(getattr(pl_module, "lr", self.lr)) * cycle_factor(self.cycle, *self._steps)
            for group in trainer.optimizers[0].param_groups:
                group["lr"] = lr
            self._steps[0] += 1

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor):
            self._trunk[0] += float(loss.detach()) * len(batch[1])
            self._trunk[1] += len(batch[1])
        for seed in self.seeds:
            if seed.stage is Stage.TRAINING and self._batch is not None:
                self._shadow_step(pl_module, seed, *self._batch)
            elif seed.stage is Stage.BLENDING and seed.lifecycle.schedule.every == "step":
                seed.lifecycle.step_alpha()
        self._batch = None

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trunk = self._trunk[0] / self._trunk[1] if self._trunk[1] else math.nan
        for seed in self.seeds:
            stage = seed.stage
            seed.epochs_in_stage += 1
            if stage is Stage.DORMANT and seed.epochs_in_stage >= self.delay_epochs:
                seed.advance(Stage.TRAINING)
            elif stage is Stage.TRAINING:
                total, n = self._shadow.get(seed.name, [0.0, 0])
                shadow = total / n if n else math.inf
                seed.shadow_loss = shadow
                seed.health = trunk - shadow if math.isfinite(shadow) and math.isfinite(trunk) else 0.0
                if self.gate(self._halves.get(seed.name, [[]])[0], shadow, trunk):
                    seed.advance(Stage.BLENDING)
                elif seed.epochs_in_stage >= self.patience:
                    seed.advance(Stage.CULLED)
            elif stage is Stage.BLENDING and seed.lifecycle.schedule.every == "epoch":
                seed.lifecycle.step_alpha()
        self._trunk = [0.0, 0]
        self._shadow.clear()
        self._halves.clear()
        for key, value in self.metrics().items():
            pl_module.log(key, value, on_step=False, on_epoch=True)

    def gate(self, losses: Sequence[float], shadow: float, trunk: float) -> bool:
        """The quality signal: the shadow loss improved over the epoch and the seed pays.

        "Improved" means the mean of the second half of the epoch's shadow losses is below that of
        the first half; "pays" means the seed at full strength is within ``gate_tolerance`` of the
        trunk's loss.

        Parameters
        ----------
        losses : sequence of float
            The epoch's shadow-pass losses, in order.
        shadow : float
            The epoch's mean shadow loss (sample-weighted).
        trunk : float
            The trunk's mean training loss over the epoch.

        Returns
        -------
        bool
            True when the seed may move to BLENDING.
        """
        half = len(losses) // 2
        improving = half > 0 and sum(losses[half:]) / (len(losses) - half) < sum(losses[:half]) / half
        return bool(improving and shadow <= trunk * (1.0 + self.gate_tolerance))

    # -- the shadow pass --------------------------------------------------------------------------------
    def _shadow_step(self, pl_module: pl.LightningModule, seed: Seed, x: torch.Tensor, y: torch.Tensor) -> None:
        net = getattr(pl_module, "net", pl_module)
        own = {id(m) for root in seed.modules() for m in root.modules()}
        frozen = [m for m in net.modules() if isinstance(m, _BN) and id(m) not in own]
        momenta = [m.momentum for m in frozen]
        counts = [m.num_batches_tracked.clone() if m.num_batches_tracked is not None else None for m in frozen]
        for m in frozen:
            m.momentum = 0.0  # the trunk's running statistics are not the shadow pass's business
        seed.shadow = True
        try:
            with torch.enable_grad():
                loss = F.cross_entropy(net(x), y.long())
            params = [p for p in seed.parameters() if p.requires_grad]
            if params and seed.name in self._opts:
                grads = torch.autograd.grad(loss, params, allow_unused=True)
                opt = self._opts[seed.name]
                for p, g in zip(params, grads):
                    p.grad = g
                opt.step()
                for p in params:
                    p.grad = None
        finally:
            seed.shadow = False
            for m, mom, count in zip(frozen, momenta, counts):
                m.momentum = mom
                if count is not None:
                    m.num_batches_tracked.copy_(count)  # type: ignore[union-attr]
        self._halves.setdefault(seed.name, [[]])[0].append(float(loss.detach()))
        acc = self._shadow.setdefault(seed.name, [0.0, 0])
        acc[0] += float(loss.detach()) * len(y)
        acc[1] += len(y)

    # -- reading it out -----------------------------------------------------------------------------------
    def metrics(self) -> dict[str, float]:
        """The per-epoch metrics logged for every seed.

        Returns
        -------
        dict of str to float
            ``<seed>_stage``, ``<seed>_alpha`` and ``<seed>_health`` per seed, and ``growth_ready``
            (1.0 when every seed is ACTIVE).
        """
        out: dict[str, float] = {}
        for seed in self.seeds:
            out[f"{seed.name}_stage"] = float(int(seed.stage))
            out[f"{seed.name}_alpha"] = float(seed.alpha)
            out[f"{seed.name}_health"] = float(seed.health)
        out["growth_ready"] = float(all(s.stage is Stage.ACTIVE for s in self.seeds))
        return out

    def checkpoint_extra(self) -> dict[str, Any]:
        """What a checkpoint keeps so that a continued trial re-attaches its seeds where they were.

        Returns
        -------
        dict
            ``{"growth": {"seeds": [Seed.to_dict(), ...], "config": {lr, gate_tolerance, patience,
            delay_epochs[, cycle]}}}``.
        """
        return {"growth": {"seeds": [s.to_dict() for s in self.seeds],
                           "config": {"lr": self.lr, "gate_tolerance": self.gate_tolerance, "patience": self.patience,
                                      "delay_epochs": self.delay_epochs,
                                      **({"cycle": dict(self.cycle)} if self.cycle is not None else {})}}}

    def __repr__(self) -> str:
        return f"SeedController({', '.join(map(repr, self.seeds))})"
