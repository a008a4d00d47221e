"""Growth: trained networks that grow new capacity with soft-landing seeds.

- moves (no torch): :func:`growth_moves`, :func:`deepen`, :func:`widen` (ChainSpace) and
  :func:`add_edge` (CellSpace) give a :class:`GrowthMove`: a parent, the child it grows into (a
  member of the same space) and what was added; :func:`widen_all` gives a path of widens (every
  narrower layer to one width) and :func:`make_path` rebuilds a move or a path from plain data;
- the life of a seed (no torch): :class:`Stage`, :data:`TRANSITIONS`, :class:`Lifecycle`,
  :class:`AlphaSchedule`, :class:`IllegalTransitionError`, :func:`settle_epochs` (the epochs a
  seed needs to leave alpha 0 or be culled); the learning-rate cycle a grown child
  may train with: :data:`CYCLE_KEYS`, :func:`check_cycle`, :func:`cycle_factor`;
- weights (torch, imported on first use): :func:`grow_network` copies a trained parent into the
  child network, :class:`Seed` hooks new capacity in as ``x + alpha * (g(x) - x)`` or
  ``alpha * g(x)``, :func:`blend`, :class:`SeedController` (a Lightning callback) drives the
  stages while training.

The strategy that searches this way is :class:`nasbook.strategies.Growth` (``strategy="growth"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nasbook.growth._moves import (
    KINDS,
    GrowthMove,
    add_edge,
    deepen,
    growth_moves,
    make_move,
    make_path,
    widen,
    widen_all,
)
from nasbook.growth._stages import (
    CYCLE_KEYS,
    TRANSITIONS,
    AlphaSchedule,
    IllegalTransitionError,
    Lifecycle,
    Stage,
    check_cycle,
    cycle_factor,
    settle_epochs,
)

if TYPE_CHECKING:
    from nasbook.growth._prepare import SEED_KEYS, grow_network, prepare_training
    from nasbook.growth._seeds import Seed, SeedController, blend
    from nasbook.growth._weights import METHODS, chain_segments

_LAZY = {
    "SEED_KEYS": "_prepare", "grow_network": "_prepare", "prepare_training": "_prepare",
    "Seed": "_seeds", "SeedController": "_seeds", "blend": "_seeds",
    "METHODS": "_weights", "chain_segments": "_weights",
}

__all__ = [
    "CYCLE_KEYS", "KINDS", "METHODS", "SEED_KEYS", "TRANSITIONS", "AlphaSchedule", "GrowthMove", "IllegalTransitionError",
    "Lifecycle", "Seed", "SeedController", "Stage", "add_edge", "blend", "chain_segments", "check_cycle", "cycle_factor", "deepen", "grow_network",
    "growth_moves", "make_move", "make_path", "prepare_training", "settle_epochs", "widen", "widen_all",
]


def __getattr__(name: str) -> Any:
    """The torch-side names, imported on first use (``import nasbook.growth`` stays torch-free)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"nasbook.growth.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'nasbook.growth' has no attribute {name!r}")
