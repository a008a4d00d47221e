"""The life of a soft-landing seed (no torch): stages, the transition table and alpha schedules.

A seed is new capacity ``g`` that enters the network as ``x + alpha * (g(x) - x)`` (a new layer)
or ``alpha * g(x)`` added to a sum (a new cell edge). ``alpha`` is 0 while the seed is DORMANT or
TRAINING (``g`` trains in the shadow, the output is the parent's), ramps to exactly 1 while it is
BLENDING, and the seed is ACTIVE once ``alpha == 1``: the network is then exactly the child
architecture. A seed whose shadow loss does not pay is CULLED, with ``alpha`` still 0.
"""

from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Callable
from typing import Any

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError, check_int, unknown_choice


class Stage(enum.IntEnum):
    """Stages of a seed; the value is what per-epoch curves record (``seed0_stage``)."""

    DORMANT = 0
    TRAINING = 1
    BLENDING = 2
    ACTIVE = 3
    CULLED = 4


#: allowed moves. BLENDING cannot be culled: alpha > 0 there, and dropping the seed would jump.
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.DORMANT: frozenset({Stage.TRAINING, Stage.CULLED}),
    Stage.TRAINING: frozenset({Stage.BLENDING, Stage.CULLED}),
    Stage.BLENDING: frozenset({Stage.ACTIVE}),
    Stage.ACTIVE: frozenset(),
    Stage.CULLED: frozenset(),
}


class IllegalTransitionError(NasbookError, ValueError):
    """A seed was asked to move between stages the transition table does not join."""


_SHAPES: dict[str, Callable[[float], float]] = {
    "linear": lambda t: t,
    "cosine": lambda t: 0.5 - 0.5 * math.cos(math.pi * t),
}
EVERY: tuple[str, ...] = ("epoch", "step")


class AlphaSchedule:
    """How alpha ramps from 0 to exactly 1 while a seed is BLENDING.

    Parameters
    ----------
    shape : {"linear", "cosine"} or callable
        ``alpha = shape(k / length)`` after ``k`` updates; a callable must map [0, 1] into [0, 1],
        be non-decreasing on the ``length`` update points and give exactly 1.0 at 1 (checked).
    length : int, default 20
        Updates from 0 to 1.
    every : {"step", "epoch"}, default "step"
        One update per optimizer step or per epoch.
    """

    def __init__(self, shape: str | Callable[[float], float] = "linear", length: int = 20, every: str = "step"):
        owner = "AlphaSchedule"
        length = check_int(owner, "length", length, minimum=1)
        if every not in EVERY:
            raise unknown_choice(f"{owner}(every=...)", every, EVERY)
        if isinstance(shape, str):
            if shape not in _SHAPES:
                raise unknown_choice(f"{owner}(shape=...)", shape, tuple(_SHAPES))
            fn = _SHAPES[shape]
        elif callable(shape):
            fn = shape
        else:
            raise InvalidParameterError(f"{owner}(shape=...) must be 'linear', 'cosine' or a callable; got {shape!r}.")
        self.shape, self.length, self.every = shape, int(length), every
        values = []
        for k in range(1, self.length + 1):
            try:
                v = float(fn(k / self.length))
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(f"{owner}(shape=...) failed at t={k / self.length:g}: {exc}") from exc
            values.append(v)
        prev = 0.0
        for k, v in enumerate(values, 1):
            if not (0.0 <= v <= 1.0) or v < prev:
                raise InvalidParameterError(
                    f"{owner}(shape=...) must rise monotonically within [0, 1]; got alpha={v!r} after update {k} "
                    f"of {self.length} (previous {prev!r})."
                )
            prev = v
        if values[-1] != 1.0:
            raise InvalidParameterError(
                f"{owner}(shape=...) must end at exactly alpha=1 (the seed is then the child's own layer, so the "
                f"output does not jump when it becomes ACTIVE); it ends at {values[-1]!r}."
            )
        self.values: tuple[float, ...] = tuple(values)

    def alpha(self, k: int) -> float:
        """Alpha after ``k`` updates (0 before the first, 1 from ``length`` on).

        Parameters
        ----------
        k : int
            Updates made while BLENDING.

        Returns
        -------
        float
            In [0, 1].
        """
        return 0.0 if k <= 0 else self.values[min(k, self.length) - 1]

    def to_dict(self) -> dict[str, Any]:
        """The schedule as plain data, to store with a proposal; a callable ``shape`` cannot be stored (an error).

        Returns
        -------
        dict
            ``{"shape": str, "length": int, "every": str}``, the constructor's arguments.
        """
        if not isinstance(self.shape, str):
            raise InvalidParameterError("an AlphaSchedule with a callable shape cannot be stored; use 'linear' or 'cosine'.")
        return {"shape": self.shape, "length": self.length, "every": self.every}

    def __repr__(self) -> str:
        return f"AlphaSchedule({self.shape!r}, length={self.length}, every={self.every!r})"


def settle_epochs(patience: int, schedule: AlphaSchedule, delay_epochs: int = 0) -> int:
    """The fewest epochs of training after which every seed has left ``alpha = 0`` or been culled.

    A seed waits ``delay_epochs`` epochs (DORMANT), then shadow-trains; its gate runs at the end of
    each TRAINING epoch and may first pass at the last one before it is culled (epoch ``patience``).
    Alpha only moves in the epochs after that: per step, from the first step of the next epoch;
    per epoch, one update at the end of each, so the seed lands ``length`` epochs later. A training
    shorter than this may end with the seed still TRAINING, or BLENDING at ``alpha = 0``: the network
    is then exactly its parent, and a grown child is a silent copy of it.

    Parameters
    ----------
    patience : int
        Epochs a seed may shadow-train without passing the gate before it is culled.
    schedule : AlphaSchedule
        The seed's ramp while BLENDING.
    delay_epochs : int, default 0
        Epochs the seed stays DORMANT before it starts shadow-training.

    Returns
    -------
    int
        ``delay_epochs + patience + 1`` for a per-step ramp (alpha > 0 at the end, at ``length``
        steps it is 1), ``delay_epochs + patience + length`` for a per-epoch ramp (the seed is ACTIVE).
    """
    owner = "growth.settle_epochs"
    patience = check_int(owner, "patience", patience, minimum=1)  # a wrong bound made SeedController accept too few epochs
    delay_epochs = check_int(owner, "delay_epochs", delay_epochs, minimum=0)
    check_schedule(owner, schedule)
    return delay_epochs + patience + (schedule.length if schedule.every == "epoch" else 1)


def check_schedule(owner: str, schedule: object) -> None:
    """Refuse a ``schedule`` that is not an :class:`AlphaSchedule` (a shape name is one of its arguments)."""
    if not isinstance(schedule, AlphaSchedule):
        raise InvalidParameterTypeError(f"{owner}(schedule=...) must be an AlphaSchedule, e.g. AlphaSchedule({schedule!r:.40}) "
                                        f"for a shape name; got {schedule!r:.60} of type {type(schedule).__name__}.")


class Lifecycle:
    """Stage and alpha of one seed, moved only along :data:`TRANSITIONS`.

    Parameters
    ----------
    schedule : AlphaSchedule
        How alpha ramps while BLENDING.
    stage : Stage, default Stage.DORMANT
        The stage to start in (a restored seed's).
    updates : int, default 0
        Alpha updates already made while BLENDING (a restored seed's).
    """

    def __init__(self, schedule: AlphaSchedule, stage: Stage = Stage.DORMANT, updates: int = 0):
        check_schedule("Lifecycle", schedule)
        if stage not in set(Stage):
            raise unknown_choice("Lifecycle(stage=...)", stage, [s.name for s in Stage], "Pass a Stage, e.g. Stage.TRAINING.")
        self.schedule = schedule
        self.stage = Stage(stage)
        self.updates = check_int("Lifecycle", "updates", updates, minimum=0)  # alpha updates made while BLENDING
        self.history: list[tuple[str, str]] = []

    @property
    def alpha(self) -> float:
        """The seed's current alpha: 0 before BLENDING and when CULLED, the schedule's value while BLENDING, 1 when ACTIVE.
        """
        if self.stage is Stage.ACTIVE:
            return 1.0
        if self.stage is Stage.BLENDING:
            return self.schedule.alpha(self.updates)
        return 0.0

    def advance(self, to: Stage) -> None:
        """Move to stage ``to``; a move :data:`TRANSITIONS` does not allow raises IllegalTransitionError.

        Parameters
        ----------
        to : Stage
            The next stage (DORMANT -> TRAINING -> BLENDING -> ACTIVE, CULLED before blending).
        """
        to = Stage(to)
        if to not in TRANSITIONS[self.stage]:
            allowed = sorted(s.name for s in TRANSITIONS[self.stage]) or ["none: it is final"]
            raise IllegalTransitionError(
                f"a seed cannot go from {self.stage.name} to {to.name}; from {self.stage.name} it may go to "
                f"{', '.join(allowed)} (DORMANT -> TRAINING -> BLENDING -> ACTIVE, CULLED before blending)."
            )
        self.history.append((self.stage.name, to.name))
        self.stage = to

    def step_alpha(self) -> None:
        """One schedule update while BLENDING; becomes ACTIVE when alpha reaches 1."""
        if self.stage is not Stage.BLENDING:
            raise IllegalTransitionError(f"alpha only ramps while BLENDING; the seed is {self.stage.name}.")
        self.updates += 1
        if self.schedule.alpha(self.updates) == 1.0:
            self.advance(Stage.ACTIVE)


#: keys of a learning-rate ``cycle`` and their defaults
CYCLE_KEYS: dict[str, float] = {"warmup": 0.1, "floor": 0.05}


def check_cycle(cycle: Any, where: str = "SeedController(cycle=...)") -> dict[str, float] | None:
    """``cycle`` with its defaults filled in (None stays None); raises on unknown keys or values out of range.

    Parameters
    ----------
    cycle : dict or None
        ``{"warmup": fraction of the steps, "floor": fraction of the lr}``, keys from
        :data:`CYCLE_KEYS` (defaults 0.1 and 0.05), warmup in [0, 1), floor in [0, 1].
    where : str, default "SeedController(cycle=...)"
        The parameter's name, for the error.

    Returns
    -------
    dict of str to float or None
        Both keys set; None when ``cycle`` is None (no cycle).
    """
    if cycle is None:
        return None
    ok = isinstance(cycle, dict) and not set(cycle) - set(CYCLE_KEYS) and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) for v in cycle.values())  # numpy's too
    out = {**CYCLE_KEYS, **{k: float(v) for k, v in cycle.items()}} if ok else {}
    if not ok or not 0 <= out["warmup"] < 1 or not 0 <= out["floor"] <= 1:
        raise InvalidParameterError(f"{where} must be None or a dict with keys from {list(CYCLE_KEYS)!r}, warmup in "
                                    f"[0, 1) and floor in [0, 1] (fractions of the steps and of the lr); got {cycle!r}.")
    return out


def cycle_factor(cycle: dict[str, float], step: int, total: int) -> float:
    """The learning-rate factor at ``step`` of ``total``.

    Linear from ``floor`` to 1 over the warm-up, then cosine back down to ``floor`` at the last step.

    Parameters
    ----------
    cycle : dict of str to float
        As :func:`check_cycle` returns it.
    step : int
        The current step, 0-based.
    total : int
        Steps in the cycle.

    Returns
    -------
    float
        The factor the learning rate is multiplied by, in [floor, 1].
    """
    floor, warm = cycle["floor"], int(cycle["warmup"] * total)
    if step < warm:
        return floor + (1.0 - floor) * (step + 1) / warm
    rest = max(1, total - warm - 1)
    t = min(1.0, (step - warm) / rest)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * t))
