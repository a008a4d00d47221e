"""The :class:`Task` protocol: what a trial is evaluated on."""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from nasbook.trial import Decision, Reporter, Result

if TYPE_CHECKING:
    from nasbook.space import Architecture, SearchSpace

__all__ = ["Decision", "Reporter", "Result", "Task"]


class Task(abc.ABC):
    """What architectures are evaluated on: data, a metric to optimise and its direction.

    ``evaluate`` is called once per trial, possibly in another process (an executor's worker),
    so a task must be cheap to pickle. It returns a :class:`Result`; it raises
    :class:`~nasbook.TrialFailed` to end the trial as FAILED with a reason (``TrialDiverged``
    for DIVERGED). ``space`` is the space the architecture belongs to (training tasks build the
    network with it); ``fidelity`` holds e.g. ``{"epochs": 3, "checkpoint": ...}``; ``report`` is
    called after every epoch and may answer ``Decision.STOP``.
    """

    #: True when the task trains for epochs (so budgets and fidelities in epochs make sense)
    has_epochs: bool = False

    #: name of the objective, e.g. ``"val_accuracy"``
    metric: str = "value"
    #: ``"max"`` or ``"min"``
    mode: Literal["max", "min"] = "max"

    @property
    def space(self) -> SearchSpace | None:
        """The space this task fixes (tabular benchmarks), or None when any suitable space works."""
        return None

    @property
    def name(self) -> str:
        return type(self).__name__

    @abc.abstractmethod
    def evaluate(
        self,
        arch: Architecture,
        *,
        space: SearchSpace | None = None,
        fidelity: Mapping[str, Any] | None = None,
        report: Reporter | None = None,
    ) -> Result:
        """Evaluate one architecture and return its :class:`Result`."""

    def get_params(self) -> dict[str, Any]:
        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self" and hasattr(self, p)}

    def to_config(self) -> dict[str, Any]:
        """JSON description of the task, stored with every search."""
        return {"class": type(self).__name__, "params": self.get_params(), "metric": self.metric, "mode": self.mode}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
