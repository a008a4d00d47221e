"""The vocabulary every nasbook package speaks: trials, their states, proposals, decisions, results.

This module is the bottom layer: strategies, tasks, training, executors, storage and the search
loop import these types from here and from :mod:`nasbook.space`, never from each other's private
modules.

========================  ==================================================================
:class:`TrialState`       a trial's life cycle (QUEUED, RUNNING, COMPLETE, PRUNED, FAILED, ...)
:class:`Trial`            one architecture evaluated once, as committed to storage (immutable)
:class:`Proposal`         what a strategy's ``ask`` returns: an architecture plus its fidelity
:data:`WAIT`              what ``ask`` returns when it must wait for running trials
:class:`Decision`         a strategy's answer to a running trial's per-epoch report
:data:`Reporter`          ``report(epoch, **metrics) -> Decision``: how a trial talks to the loop
:class:`Result`           what ``Task.evaluate`` returns
:class:`Outcome`          how one evaluation ended, where it ran (crosses processes)
========================  ==================================================================
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from nasbook.space import Architecture

__all__ = ["WAIT", "Decision", "Outcome", "Proposal", "Reporter", "Result", "Trial", "TrialState", "Wait"]


class TrialState(str, Enum):
    """Life cycle of a trial.

    QUEUED: asked, to be (re-)run (e.g. it was running when its search was interrupted);
    RUNNING: on a worker; finished: COMPLETE, PRUNED (stopped early by a strategy's
    ``Decision.STOP``), FAILED (an error, a timeout, a lost worker), DIVERGED (training-health
    checks: NaN loss, divergence, collapse).
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

    @property
    def has_value(self) -> bool:
        """States whose trials carry an objective value (COMPLETE, and PRUNED with a partial one)."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED)


class Decision(Enum):
    """What a running trial should do after it reported an epoch."""

    CONTINUE = "continue"
    STOP = "stop"


#: ``report(epoch, **metrics) -> Decision``: how a training trial talks to the search loop.
Reporter = Callable[..., Decision]


class Wait:
    """The type of :data:`WAIT`: a strategy has nothing to propose until a running trial ends."""

    _instance: Wait | None = None

    def __new__(cls) -> Wait:  # a singleton, also after pickling
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "WAIT"

    def __reduce__(self) -> str:
        return "WAIT"


#: Returned by ``BaseStrategy.ask`` when the strategy must wait for running trials (e.g. synchronous
#: successive halving between rungs). With nothing running, the search stops with a warning.
WAIT: Final[Wait] = Wait()


@dataclass(frozen=True)
class Proposal:
    """What a strategy's ``ask`` returns (a bare :class:`~nasbook.space.Architecture` works too).

    Attributes
    ----------
    arch : Architecture
    epochs : int or None
        Train to this many epochs in all (multi-fidelity); None: the task's default.
    parent : int or None
        Number of an earlier trial of the same architecture to *continue training from* (its
        checkpoint), so a promotion trains only the extra epochs.
    lineage : tuple of int
        Numbers of the trials this architecture was derived from (an evolution child's parent),
        recorded with the trial. Independent of ``parent``: a mutated child has a lineage but
        trains from scratch.
    attrs : dict
        Recorded with the finished trial's ``attrs`` (e.g. ``portfolio_arm``: which arm of a
        :class:`~nasbook.strategies.Portfolio` proposed it); the task's own attrs win a clash.


    grow : dict or None
        Grow this architecture from another trial's trained weights instead of training it from
        scratch (:class:`nasbook.strategies.Growth`): ``{"from": number, "parent": spec, "move": ...}``,
        passed to the task as ``fidelity["grow"]`` with that trial's checkpoint. Plain data, stored
        with the trial (``attrs["grow"]``): a grown trial re-run after an interruption grows again
        from its parent (whose checkpoint the strategy keeps while the child is pending).
    """

    arch: Architecture
    epochs: int | None = None
    parent: int | None = None
    lineage: tuple[int, ...] = ()
    attrs: Mapping[str, Any] = field(default_factory=dict)


    grow: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Result:
    """What one evaluation returns (``Task.evaluate``).

    Attributes
    ----------
    value : float
        The objective (``task.metric``), what strategies optimise.
    metrics : dict
        Further metrics strategies may see (e.g. train loss).
    attrs : dict
        Recorded for the user but never shown to strategies: test score, latency, #params.
    epochs : int or None
        Epochs trained in all (None for a table look-up without a fidelity).
    curves : dict of lists
        Per-epoch values (``{"val_accuracy": [...], "train_loss": [...]}``), epoch = list index.
    checkpoint : bytes or None
        State to continue training from (``fidelity={"checkpoint": ...}``), written with
        ``torch.save`` and read back with ``torch.load(weights_only=True)``; never stored in the
        database.
    """

    value: float
    metrics: Mapping[str, float] = field(default_factory=dict)
    attrs: Mapping[str, Any] = field(default_factory=dict)
    epochs: int | None = None
    curves: Mapping[str, Sequence[float]] = field(default_factory=dict)
    checkpoint: bytes | None = field(default=None, repr=False)


@dataclass(slots=True)
class Outcome:
    """How one evaluation ended, built where it ran (plain data: it crosses processes).

    Attributes
    ----------
    number : int
        The trial's number in its search.
    state : TrialState
        COMPLETE, PRUNED (stopped by ``Decision.STOP``), FAILED or DIVERGED.
    result : Result or None
        What the task returned (for PRUNED and DIVERGED, what was reached); None when it failed
        before any result.
    reason : str, optional
        Why it failed or diverged, one line.
    traceback : str, optional
        The formatted traceback of a failure.
    started_at : float, default 0.0
        Start time, seconds since the epoch.
    finished_at : float, default 0.0
        End time, seconds since the epoch.
    attempts : int, default 1
        How many times it was started: above 1 on a trial whose dask worker died while it ran
        (dask re-ran it on another worker; it FAILS once that happened ``allowed-failures + 1`` times).
    worker_deaths : tuple of str, default ()
        What happened to each worker that died while it ran, from distributed's event log: its
        address and "ran out of memory (...)" or "died (...)". Stored in
        ``trial.attrs["worker_deaths"]``.
    lost_attempt_epochs : int, default 0
        Epochs those lost attempts had trained (each epoch one reported, before its worker died; on a
        FAILED trial, every attempt's). Not in ``result.epochs``, the successful attempt's: stored in
        ``trial.attrs["lost_attempt_epochs"]`` and counted by ``search.epochs_spent`` and an epochs budget.
    """

    number: int
    state: TrialState
    result: Result | None
    reason: str | None = None
    traceback: str | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    attempts: int = 1
    worker_deaths: tuple[str, ...] = ()
    lost_attempt_epochs: int = 0


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
        The trial this one continued training from (multi-fidelity promotion): its checkpoint.
    lineage : tuple of int
        The trials this architecture was derived from (e.g. an evolution child's parent).
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
    lineage: tuple[int, ...] = ()

    @property
    def lost_attempt_epochs(self) -> int:
        """Epochs trained by attempts of this trial lost with their dask worker (dask ran it again
        elsewhere), stored in ``attrs["lost_attempt_epochs"]``; 0 when none. Not in ``epochs``, its
        successful attempt's: ``search.epochs_spent``, an epochs budget and ``plot_history(x="epochs")``
        add them. A trial interrupted while it ran is stored QUEUED with them (``epochs_spent`` counts them
        then too), and its record, once it has run again, holds every run's."""
        n = self.attrs.get("lost_attempt_epochs")
        return int(n) if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0

    def epochs_trained(self, parent: Trial | None = None) -> int:
        """Epochs this trial cost: what ``search.epochs_spent``, an epochs budget and ``plot_history(x="epochs")``
        count for it (one function for all three).

        The task's own count of the epochs this evaluation trained (``epochs_run``, in ``attrs`` as nasbook's tasks
        record it, or in ``metrics``) when it gives one within ``epochs``: honest when a continuation's checkpoint
        was gone and it trained from scratch. Else its epochs beyond ``parent``'s (a continuation trains only
        those). Plus :attr:`lost_attempt_epochs`, trained by attempts lost with a dask worker.

        Parameters
        ----------
        parent : Trial, optional
            The trial it continued (``trial.parent``'s), when it is one; None for a trial trained from scratch.

        Returns
        -------
        int
            Epochs trained, 0 for a table look-up (``epochs`` None).
        """
        ran = self.attrs.get("epochs_run", self.metrics.get("epochs_run"))
        if (ran is not None and isinstance(ran, numbers.Integral) and not isinstance(ran, bool)  # (None: no ABC check,
                and 0 <= int(ran) <= (self.epochs or 0)):  # once per trial in the loop)
            own = int(ran)
        else:
            own = max(0, (self.epochs or 0) - ((parent.epochs or 0) if parent is not None else 0))
        return own + self.lost_attempt_epochs

    @property
    def duration_s(self) -> float | None:
        """Wall time from start to finish, in seconds; None unless both are recorded."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from nasbook.display import repr_mimebundle

        return repr_mimebundle(self, include=include, exclude=exclude)

    def __repr__(self) -> str:
        value = "" if self.value is None else f" value={self.value:.6g}"
        reason = f" reason={self.reason!r}" if self.reason else ""
        stages = ("dormant", "training", "blending", "active", "culled")  # nasbook.growth.Stage
        seeds = "".join(f" {k[:-6]}={stages[int(v)] if 0 <= v < 5 else v}(alpha={self.metrics.get(k[:-6] + '_alpha', 0):.3g},"
                        f"health={self.metrics.get(k[:-6] + '_health', 0):.3g})"
                        for k, v in self.metrics.items() if k.endswith("_stage") and k.startswith("seed"))
        return f"<Trial {self.number} {self.state.value} arch={self.arch.id}{value}{seeds}{reason}>"
