"""Grow a trained network (the user-facing :func:`grow_network`) and the hook TrainingTask calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from nasbook._errors import InvalidParameterError, check_int
from nasbook.growth._moves import GrowthMove, make_path
from nasbook.growth._seeds import Seed, SeedController
from nasbook.growth._stages import AlphaSchedule, check_schedule
from nasbook.growth._weights import DEFAULT_METHOD, transfer
from nasbook.space import Architecture, SearchSpace

#: keys of ``Proposal.grow["seed"]``: the schedule and the controller's settings
SEED_KEYS: tuple[str, ...] = ("shape", "length", "every", "lr", "gate_tolerance", "patience", "delay_epochs",
                               "cycle")


def grow_network(space: SearchSpace, move: GrowthMove, parent_net: nn.Module, input_shape: Sequence[int],
                 n_classes: int, *, schedule: AlphaSchedule | None = None, method: str = DEFAULT_METHOD,
                 seed: int = 0) -> tuple[nn.Module, list[Seed]]:
    """The child network of ``move``, with ``parent_net``'s weights, and its seeds (hooked in, DORMANT).

    The child is ``space.build(move.child, input_shape, n_classes)``: its ``state_dict`` loads into
    any network of the child architecture. While its seeds are at ``alpha = 0`` (DORMANT, TRAINING,
    CULLED) it computes what ``parent_net`` computes; ``widen`` adds no seed (it is exact as it is).

    Parameters
    ----------
    space : SearchSpace
        The ChainSpace or CellSpace of the move.
    move : GrowthMove
        From :func:`growth_moves`, :func:`deepen`, :func:`widen` or :func:`add_edge`.
    parent_net : torch.nn.Module
        A network of ``move.parent`` (its train/eval mode is copied to the child).
    input_shape : sequence of int
        Shape of one input sample.
    n_classes : int
        Number of output logits.
    schedule : AlphaSchedule, optional
        The seeds' alpha ramp; None: ``AlphaSchedule()`` (linear over 20 steps).
    method : {"zero", "net2net"}, default "zero"
        How widened units are initialised (:data:`METHODS`).
    seed : int, default 0
        Seeds the child's fresh weights and the transfer.

    Returns
    -------
    net : torch.nn.Module
        The child network.
    seeds : list of Seed
        Its seeds, attached and DORMANT (empty for ``widen``; one seed for a new edge in every cell).
    """
    if not isinstance(move, GrowthMove):
        raise InvalidParameterError(f"grow_network(move=...) must be a GrowthMove (from growth_moves, deepen, widen or "
                                    f"add_edge); got {type(move).__name__}.")
    seed = check_int("grow_network", "seed", seed, minimum=0)
    if schedule is not None:  # (a widen adds no seed: its schedule was never looked at)
        check_schedule("grow_network", schedule)
    space.validate(move.parent)
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        child = space.build(move.child, input_shape, n_classes)
    child.train(parent_net.training)
    sites = transfer(space, move, parent_net, child, method=method, generator=gen)
    schedule = schedule if schedule is not None else AlphaSchedule()
    seeds = [Seed(f"seed{k}", [s], schedule) for k, s in enumerate(sites[:1])]
    if len(sites) > 1:  # one new edge in every cell: one seed, one alpha
        seeds = [Seed("seed0", sites, schedule)]
    for s in seeds:
        s.attach(child)
    return child, seeds


def _config(grow: Mapping[str, Any]) -> tuple[AlphaSchedule, dict[str, Any]]:
    cfg = dict(grow.get("seed") or {})
    unknown = sorted(set(cfg) - set(SEED_KEYS))
    if unknown:
        raise InvalidParameterError(f"grow['seed'] takes keys {list(SEED_KEYS)!r}; got unknown {unknown!r}.")
    schedule = AlphaSchedule(**{k: cfg.pop(k) for k in ("shape", "length", "every") if k in cfg})
    return schedule, cfg


def prepare_training(space: SearchSpace, arch: Architecture, net: nn.Module, *, grow: Mapping[str, Any] | None,
                     state: dict[str, Any] | None, input_shape: Sequence[int], n_classes: int,
                     owner: str = "TrainingTask.evaluate") -> tuple[dict[str, Any] | None, list[Any]]:
    """For TrainingTask: grow the child ``net`` from a parent's checkpoint, or re-attach a continued checkpoint's seeds.

    Parameters
    ----------
    space : SearchSpace
        The space of ``arch``.
    arch : Architecture
        The architecture being trained (the growth's child).
    net : torch.nn.Module
        A freshly built network of ``arch``.
    grow : Mapping or None
        ``fidelity["grow"]``: ``{"parent": spec, "move": move dict or path, "seed": {...},
        "method": ..., "rng": int}``; None when the trial does not grow.
    state : dict or None
        The loaded checkpoint (the parent's when growing, the trial's own when continuing); None
        without one (a grown trial whose parent checkpoint is gone then trains from scratch).
    input_shape : sequence of int
        Shape of one input sample.
    n_classes : int
        Number of output logits.
    owner : str, default "TrainingTask.evaluate"
        Who asks, as errors name it.

    Returns
    -------
    state : dict or None
        The checkpoint left for training to load: None when the weights were grown in here.
    callbacks : list
        The :class:`SeedController` to train with, or none.
    """
    if grow is not None:
        if state is None:  # the parent's checkpoint is gone (e.g. after a restart): train from scratch
            return None, []
        if not isinstance(grow, Mapping) or not {"parent", "move"} <= set(grow):
            raise InvalidParameterError(f"{owner}(fidelity['grow']=...) must hold 'parent' (its spec) and 'move'; got {grow!r:.120}.")
        parent = space.make(**dict(grow["parent"]))
        written_for = state.get("extra", {}).get("arch_id")
        if written_for is not None and written_for != parent.id:
            raise InvalidParameterError(f"{owner}: fidelity['checkpoint'] was written for {written_for!r}, not for the "
                                        f"parent {parent.id!r} named by fidelity['grow'].")
        path = make_path(space, parent, grow["move"])  # one move, or a path of them (widen_all)
        if path[-1].child != arch:
            raise InvalidParameterError(f"{owner}: growing {parent.id!r} by {grow['move']!r} gives {path[-1].child.id!r}, "
                                        f"not the architecture evaluated, {arch.id!r}.")
        if any(m.kind != "widen" for m in path[:-1]):
            raise InvalidParameterError(f"{owner}: in a path of growth moves only the last may add a seed (deepen, "
                                        f"add_edge); got {grow['move']!r:.120}.")
        schedule, cfg = _config(grow)
        parent_net = space.build(parent, input_shape, n_classes)
        parent_net.load_state_dict(state["model"])
        gen = torch.Generator().manual_seed(int(grow.get("rng", 0)))
        method = str(grow.get("method", DEFAULT_METHOD))
        for move in path[:-1]:  # each widen is exact, so the path is too
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(torch.randint(2**31, (1,), generator=gen)))
                step = space.build(move.child, input_shape, n_classes)
            step.train(parent_net.training)
            transfer(space, move, parent_net, step, method=method, generator=gen)
            parent_net = step
        sites = transfer(space, path[-1], parent_net, net, method=method, generator=gen)
        if not sites:  # (widen): no seed, but the learning-rate cycle when one is asked for
            return None, ([SeedController([], **cfg)] if cfg.get("cycle") is not None else [])
        seed = Seed("seed0", sites, schedule).attach(net)
        return None, [SeedController([seed], **cfg)]
    saved = (state or {}).get("extra", {}).get("growth")
    if saved:
        seeds = [Seed.from_dict(d).attach(net) for d in saved["seeds"]]
        return state, [SeedController(seeds, **saved.get("config", {}))]
    return state, []
