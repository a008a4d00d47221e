"""Trials: one architecture evaluated once."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nasbook.space import Architecture


class TrialState(str, Enum):
    """Life cycle of a trial.

    QUEUED: asked, to be (re-)run (e.g. it was running when its search was interrupted);
    RUNNING: on a worker; finished: COMPLETE, PRUNED (stopped early by a scheduler), FAILED,
    DIVERGED (training-health checks).
    """

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"
    DIVERGED = "diverged"

    @property
    def is_finished(self) -> bool:
        return self not in (TrialState.RUNNING, TrialState.QUEUED)


@dataclass(frozen=True, slots=True)
class Trial:
    """A trial as committed to storage (immutable).

    Attributes
    ----------
    number : int
        Position in the order the strategy asked (0-based, unique in a search).
    arch : Architecture
    state : TrialState
    value : float or None
        The task's objective; None unless COMPLETE (or PRUNED with a partial value).
    metrics : dict
        Other metrics the strategy may see.
    attrs : dict
        Held-out numbers (test score, latency, #params): recorded, never shown to strategies.
    epochs : int or None
        Epochs trained; None for table look-ups.
    started_at, finished_at : float
        Unix times.
    reason : str or None
        Why a trial FAILED or DIVERGED.
    n_told_before : int
        How many trials the strategy had been told when it proposed this one (for replay).
    curves : dict of lists
        Per-epoch metrics, e.g. ``{"val_accuracy": [...]}``.
    parent : int or None
        The trial this one continued training from (multi-fidelity promotion).
    """

    number: int
    arch: Architecture
    state: TrialState
    value: float | None
    metrics: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    epochs: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    reason: str | None = None
    n_told_before: int = 0
    curves: dict[str, list[float]] = field(default_factory=dict)
    parent: int | None = None

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from nasbook.display import repr_mimebundle

        return repr_mimebundle(self, include=include, exclude=exclude)

    def __repr__(self) -> str:
        value = "" if self.value is None else f" value={self.value:.6g}"
        reason = f" reason={self.reason!r}" if self.reason else ""
        return f"<Trial {self.number} {self.state.value} arch={self.arch.id}{value}{reason}>"
