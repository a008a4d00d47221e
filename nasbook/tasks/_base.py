"""The :class:`Task` protocol: what a trial is evaluated on."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from nasbook._params import Params
from nasbook.trial import Decision, Reporter, Result

if TYPE_CHECKING:
    import xarray as xr

    from nasbook.space import Architecture, SearchSpace

__all__ = ["Decision", "Reporter", "Result", "Task", "stored_class"]


def check_reporter(owner: str, report: object) -> None:
    """Refuse a ``report`` that is neither None nor callable, naming the parameter (it failed with a raw TypeError
    after the first epoch had trained).

    Parameters
    ----------
    owner : str
        What the message names, e.g. ``"Digits.evaluate"``.
    report : object
        The ``report`` argument of ``Task.evaluate``: None or ``report(epoch, **metrics) -> Decision``.
    """
    if report is not None and not callable(report):
        from nasbook._errors import InvalidParameterTypeError

        raise InvalidParameterTypeError(
            f"{owner}(report=...) must be None or a function report(epoch, **metrics) returning a Decision; "
            f"got {' '.join(repr(report).split())[:80]} of type {type(report).__name__}.")


class Task(Params, abc.ABC):
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
    #: Epochs of a full evaluation (None for tasks without epochs). The search reads it for budgets
    #: in epochs, and a ``Decision.STOP`` after this many epochs leaves a trial COMPLETE.
    max_epochs: int | None = None
    #: Modules a worker must import before its first trial of this task (an executor imports them
    #: on every worker at once, and again on a worker that restarts). Training tasks name
    #: ``("nasbook.training",)`` (Lightning: 6-12 s); a table look-up names nothing.
    worker_imports: tuple[str, ...] = ()

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
        """Short name of the task for reprs, tables and a knowledge base's task list (default: the class name)."""
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
        """Evaluate one architecture and return its :class:`Result`.

        Parameters
        ----------
        arch : Architecture
            The architecture of the trial.
        space : SearchSpace, optional
            The space ``arch`` belongs to; training tasks build the network with it. None for tasks
            that fix their own space (tabular benchmarks).
        fidelity : Mapping, optional
            How much to evaluate, e.g. ``{"epochs": 3}``, and what to continue from
            (``"checkpoint"``, ``"grow"``); None evaluates at full fidelity.
        report : Reporter, optional
            ``report(epoch, **metrics) -> Decision``, to call after every epoch (epoch counted from
            0); a ``Decision.STOP`` answer ends the evaluation there. None: nothing is reported.

        Returns
        -------
        Result
            ``value`` (the objective ``metric``), ``metrics``, ``attrs`` (held-out numbers strategies
            never see), and for tasks with epochs ``curves``, ``epochs`` and ``checkpoint``.
        """

    def check(self) -> None:
        """Cheap set-up checks (no training, no data loading beyond metadata), called by ``Search``
        before anything is stored; raise :class:`~nasbook.InvalidParameterError` naming the parameter.
        Default: nothing to check."""

    def ground_truth(self) -> xr.Dataset:
        """Every architecture's score, for tabular tasks (benchmarks, predictor evaluation; strategies never see it).

        Raises NasbookError here: a task that trains has no table.

        Returns
        -------
        xarray.Dataset
            Dims ``("arch",)`` (ids, in ``task.space.enumerate()`` order); variables ``value`` (the
            objective exactly as a search sees it) and, where known, ``test`` and ``params``; attrs
            ``metric``, ``mode`` and, where the task has one, ``noise_ceiling``.
        """
        from nasbook.tasks._truth import not_tabular

        raise not_tabular(self)

    def to_config(self) -> dict[str, Any]:
        """JSON description of the task, stored with every search.

        Returns
        -------
        dict
            ``{"class": <class name>, "params": get_params(), "metric": ..., "mode": ...}``; its hash is
            the task's key in a knowledge base.
        """
        return {"class": stored_class(type(self)), "params": self.get_params(), "metric": self.metric, "mode": self.mode}


def stored_class(task_type: type) -> str:
    """The class name a task's stored configuration records (``"class"``), which ``load_search`` rebuilds it by.

    One rule for every task:

    - a built-in task (``nasbook.tasks``): its class name, e.g. ``"Digits"``;
    - a class of the user's named like a built-in: ``"module.QualName"``, so that it is never rebuilt (nor
      counted by a knowledge base) as the built-in;
    - a subclass of :class:`~nasbook.tasks.NasBenchGraph`: ``"<Class>-NasBenchGraph"`` (``<Class>`` as above):
      it looks results up in the stock tables, but its ``evaluate`` may differ, so it is another task;
    - any other class: its class name, e.g. ``"MyTask"`` (what :func:`nasbook.tasks.register` finds it by).

    Parameters
    ----------
    task_type : type
        A :class:`Task` subclass.

    Returns
    -------
    str
        The name to store.
    """
    from nasbook.tasks._nbg import NasBenchGraph
    from nasbook.tasks._registry import builtin_tasks

    builtins = builtin_tasks()
    if builtins.get(task_type.__name__) is task_type:
        return task_type.__name__
    name = f"{task_type.__module__}.{task_type.__qualname__}" if task_type.__name__ in builtins else task_type.__name__
    return f"{name}-NasBenchGraph" if issubclass(task_type, NasBenchGraph) else name
