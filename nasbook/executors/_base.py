"""The executor plug-in point: where trials run (in-process, a dask cluster, one GPU per worker)."""

from __future__ import annotations

import abc
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nasbook._errors import InvalidParameterError, TrialDiverged, TrialFailed
from nasbook.trial import Decision, Outcome, Result, TrialState

if TYPE_CHECKING:
    from nasbook.space import Architecture, SearchSpace
    from nasbook.tasks import Task


@dataclass
class Outcome:
    """How one evaluation ended, built where it ran (plain data: it crosses processes).

    ``state`` is ``"complete"``, ``"pruned"`` (stopped by ``Decision.STOP``), ``"failed"`` or
    ``"diverged"``.
    """

    number: int
    state: str
    result: Result | None
    reason: str | None = None
    traceback: str | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    attempts: int = 1


@dataclass
class ExecutorEvent:
    """What an executor reports: ``"report"`` (an epoch's metrics) or ``"done"`` (an Outcome)."""

    kind: str
    number: int
    epoch: int | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    outcome: Outcome | None = None


def evaluate_trial(
    task: Task,
    space: SearchSpace,
    arch: Architecture,
    number: int,
    fidelity: Mapping[str, Any] | None = None,
    report: Callable[..., Decision] | None = None,
) -> Outcome:
    """Run ``task.evaluate`` and turn whatever happens into an :class:`Outcome`.

    Runs wherever the trial runs (the notebook process or a worker). Errors that are the
    user's set-up (``InvalidParameterError``: shapes that do not fit, a metric never logged)
    are raised, so the search stops with the message instead of failing every trial.
    """
    started = time.time()
    stopped = False

    def _report(epoch: int, **metrics: float) -> Decision:
        nonlocal stopped
        decision = report(epoch, **metrics) if report is not None else Decision.CONTINUE
        if decision is Decision.STOP:
            stopped = True
        return decision

    try:
        res = task.evaluate(arch, space=space, fidelity=fidelity, report=_report if report is not None else None)
    except InvalidParameterError:
        raise
    except TrialDiverged as exc:  # keep what it trained: the curves show how it went wrong
        return Outcome(number, "diverged", _partial_result(exc), str(exc), None, started, time.time())
    except TrialFailed as exc:
        return Outcome(number, "failed", None, str(exc), None, started, time.time())
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the search goes on; the reason is kept with the trial
        return Outcome(number, "failed", None, f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=8),
                       started, time.time())
    value = float(res.value)
    if value != value or value in (float("inf"), float("-inf")):
        return Outcome(number, "diverged", res, f"objective {task.metric} is {value}", None, started, time.time())
    if stopped:  # a STOP after the last planned epoch saved nothing: the trial is complete
        planned = (fidelity or {}).get("epochs", getattr(task, "max_epochs", None))
        if planned is not None and res.epochs is not None and res.epochs >= planned:
            stopped = False
    return Outcome(number, "pruned" if stopped else "complete", res, None, None, started, time.time())


def _partial_result(exc: TrialDiverged) -> Result | None:
    """The epochs and curves a diverged training reached (``nasbook.training.train`` attaches them)."""
    curves = getattr(exc, "curves", None) or {}
    epochs = getattr(exc, "epochs", None)
    if not curves and not epochs:
        return None
    curves = {str(k): [float(x) for x in v] for k, v in curves.items()}
    last = {k: v[-1] for k, v in curves.items() if v}
    return Result(float("nan"), last, {}, int(epochs) if epochs else None, curves)


class BaseExecutor(abc.ABC):
    """Runs trials somewhere and streams back their per-epoch reports and outcomes.

    The search calls ``start()`` once per ``run()``, ``submit`` while ``n_free`` > 0,
    ``poll(timeout_s)`` to collect :class:`ExecutorEvent` s, ``stop(number)`` to deliver
    ``Decision.STOP`` to a running trial, ``cancel(number)`` to abandon one, and ``close()``.
    Executors never know which strategy asked for a trial.
    """

    #: trials this executor runs at once (set by ``start``)
    capacity: int = 1

    def start(self) -> None:
        """Start (or reconnect to) workers; idempotent."""

    @abc.abstractmethod
    def submit(self, number: int, task: Task, space: SearchSpace, arch: Architecture, fidelity: Mapping[str, Any] | None = None) -> None:
        """Start trial ``number``."""

    @abc.abstractmethod
    def poll(self, timeout_s: float = 0.1) -> list[ExecutorEvent]:
        """Events since the last poll, waiting up to ``timeout_s`` for the first one."""

    def stop(self, number: int) -> None:
        """Ask a running trial to stop at its next report (``Decision.STOP``)."""

    def warm_up(self, modules: tuple[str, ...]) -> None:
        """Import ``modules`` where trials run, before the first trial (e.g. Lightning: seconds)."""

    def cancel(self, number: int) -> None:
        """Abandon a trial: its outcome will not be reported."""

    @property
    def n_running(self) -> int:
        return 0

    def close(self) -> None:
        """Release workers this executor started."""

    def __enter__(self) -> BaseExecutor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        return type(self).__name__


class LocalExecutor(BaseExecutor):
    """Runs each trial in the notebook process, one at a time (no workers, no pickling).

    The right choice for tabular benchmarks: a look-up costs microseconds, far less than any
    round trip to a worker.
    """

    capacity = 1

    def __init__(self) -> None:
        self._events: list[ExecutorEvent] = []
        self._stop: set[int] = set()
        self.report_hook: Callable[[int, int, Mapping[str, float]], Decision] | None = None

    def __repr__(self) -> str:
        return "LocalExecutor()"

    def submit(self, number: int, task: Task, space: SearchSpace, arch: Architecture, fidelity: Mapping[str, Any] | None = None) -> None:
        events = self._events

        def report(epoch: int, **metrics: float) -> Decision:
            events.append(ExecutorEvent("report", number, epoch, dict(metrics)))
            hook = self.report_hook
            if hook is not None and hook(number, epoch, metrics) is Decision.STOP:
                return Decision.STOP
            return Decision.STOP if number in self._stop else Decision.CONTINUE

        outcome = evaluate_trial(task, space, arch, number, fidelity, report)
        events.append(ExecutorEvent("done", number, outcome=outcome))

    def poll(self, timeout_s: float = 0.1) -> list[ExecutorEvent]:
        events, self._events = self._events, []
        return events

    def stop(self, number: int) -> None:
        self._stop.add(number)
