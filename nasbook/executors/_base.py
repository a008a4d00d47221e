"""The executor plug-in point: where trials run (in-process, a dask cluster, one GPU per worker)."""

from __future__ import annotations

import abc
import numbers
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasbook._errors import InvalidParameterError, TrialDiverged, TrialFailed
from nasbook.trial import Decision, Outcome, Result, TrialState

if TYPE_CHECKING:
    from nasbook.space import Architecture, SearchSpace
    from nasbook.tasks import Task


@dataclass(slots=True)
class ExecutorEvent:
    """What an executor reports: ``"report"`` (an epoch's metrics) or ``"done"`` (an Outcome).

    ``decision`` is set on a report that was already answered where the trial runs (an in-process
    executor asks the search's ``decide`` callback synchronously); None means the search decides
    now and, on ``Decision.STOP``, calls ``executor.stop(number)``.

    Attributes
    ----------
    kind : {"report", "done"}
        An epoch's report, or the trial's end.
    number : int
        The trial's number in its search.
    epoch : int or None
        The reported epoch (0-based, as the task counts them); None on ``"done"``.
    metrics : Mapping of str to float
        The metrics reported at that epoch; empty on ``"done"``.
    outcome : Outcome or None
        How the trial ended; set on ``"done"`` only.
    decision : Decision or None
        The answer already given to a report where the trial runs, or None (the search decides).
    """

    kind: Literal["report", "done"]
    number: int
    epoch: int | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    outcome: Outcome | None = None
    decision: Decision | None = None


#: ``decide(number, epoch, metrics) -> Decision``: the search's answer to a running trial's report.
Decide = Callable[[int, int, Mapping[str, float]], Decision]


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

    Parameters
    ----------
    task : Task
        What the trial is evaluated on.
    space : SearchSpace
        The space ``arch`` belongs to (tasks that train build the network with it).
    arch : Architecture
        The architecture to evaluate.
    number : int
        The trial's number, copied into the outcome.
    fidelity : Mapping, optional
        The budget of this evaluation, e.g. ``{"epochs": 3}`` from a multi-fidelity strategy;
        None evaluates at the task's full fidelity.
    report : callable, optional
        ``report(epoch, **metrics) -> Decision``, called by the task after each epoch; a
        ``Decision.STOP`` ends the trial as PRUNED. None answers every report with CONTINUE.

    Returns
    -------
    Outcome
        COMPLETE with the task's result; PRUNED when a report was answered STOP before the
        planned epochs (a STOP after the last one leaves it COMPLETE); DIVERGED when training
        diverged (with the epochs it reached) or the objective is NaN or infinite; FAILED with the
        reason (and the traceback of an unexpected error) otherwise.
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
        return Outcome(number, TrialState.DIVERGED, _partial_result(exc), str(exc), None, started, time.time())
    except TrialFailed as exc:
        return Outcome(number, TrialState.FAILED, None, str(exc), None, started, time.time())
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the search goes on; the reason is kept with the trial
        return Outcome(number, TrialState.FAILED, None, f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=8),
                       started, time.time())
    problem = _check_result(task, res)
    if problem is not None:  # a custom task's bug: this trial FAILS with the reason, the search goes on
        return Outcome(number, TrialState.FAILED, None, problem, None, started, time.time())
    value = float(res.value)
    if value != value or value in (float("inf"), float("-inf")):
        return Outcome(number, TrialState.DIVERGED, res, f"objective {task.metric} is {value}", None, started, time.time())
    if stopped:  # a STOP after the last planned epoch saved nothing: the trial is complete
        planned = (fidelity or {}).get("epochs", task.max_epochs)
        if planned is not None and res.epochs is not None and res.epochs >= planned:
            stopped = False
    return Outcome(number, TrialState.PRUNED if stopped else TrialState.COMPLETE, res, None, None, started, time.time())


def _check_result(task: Task, res: Any) -> str | None:
    """Why ``res`` is not a usable :class:`Result` (None when it is)."""
    if type(res) is Result and type(res.value) is float:  # the common case, without the ABC check below
        return None
    where = f"{type(task).__name__}.evaluate"
    if not isinstance(res, Result):
        return (f"{where} returned {_short(res)} of type {type(res).__name__}; it must return "
                "nasbook.trial.Result(value=...) (or raise nasbook.TrialFailed to fail the trial).")
    v = res.value
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return f"{where} returned Result(value={_short(v)}) of type {type(v).__name__}; value must be a real number."
    return None


def _short(obj: Any, n: int = 60) -> str:
    text = repr(obj)
    return text if len(text) <= n else text[: n - 3] + "..."


def _partial_result(exc: TrialDiverged) -> Result | None:
    """The epochs and curves a diverged training reached (``nasbook.training.train`` attaches them)."""
    curves = getattr(exc, "curves", None) or {}
    epochs = getattr(exc, "epochs", None)
    extra = getattr(exc, "metrics", None) or {}  # the run's fingerprint
    if not curves and not epochs and not extra:
        return None
    curves = {str(k): [float(x) for x in v] for k, v in curves.items()}
    last = {k: v[-1] for k, v in curves.items() if v}
    last.update({str(k): float(v) for k, v in extra.items()})
    return Result(float("nan"), last, {}, int(epochs) if epochs else None, curves)


class BaseExecutor(abc.ABC):
    """Runs trials somewhere and streams back their per-epoch reports and outcomes.

    The search drives every executor through the same calls, in this order:

    1. ``start(decide)`` once per ``run()``: start (or reconnect to) workers. ``decide`` is the
       search's answer to a report; executors that run trials in this process call it from the
       trial's ``report`` so a STOP reaches the trial at once; remote executors need not.
    2. ``warm_up(modules)`` when the task names :attr:`~nasbook.tasks.Task.worker_imports`.
    3. ``submit(...)`` while fewer than :attr:`capacity` trials run.
    4. ``poll(timeout_s)`` to collect :class:`ExecutorEvent` s: reports (``decision`` None: the
       search decides and may call ``stop(number)``) and ``done`` outcomes.
    5. ``cancel(number)`` for a trial past its timeout or when the search is interrupted; its
       outcome is then never reported.
    6. ``close()`` when the search is closed.

    Executors never know which strategy asked for a trial. An executor that loses its workers
    raises :class:`~nasbook.ExecutorError` from ``submit``/``poll``; the search then stores the
    trials in flight as QUEUED and re-runs them first on the next ``run()``.
    """

    #: trials this executor runs at once (set by ``start``)
    capacity: int = 1
    #: True when ``submit`` runs the trial to its end before returning: nothing can be left
    #: running elsewhere by a crash, so the search stores such a trial once, when it has finished,
    #: instead of storing it RUNNING first (half the writes on the tabular hot path).
    in_process: ClassVar[bool] = False

    def start(self, decide: Decide | None = None) -> None:
        """Start (or reconnect to) workers; idempotent. ``decide`` answers reports (see the class doc).

        Parameters
        ----------
        decide : callable, optional
            ``decide(number, epoch, metrics) -> Decision``, the search's answer to a running trial's
            report. In-process executors call it from the trial's ``report``; remote ones may ignore
            it and leave ``ExecutorEvent.decision`` None.
        """

    @abc.abstractmethod
    def submit(self, number: int, task: Task, space: SearchSpace, arch: Architecture,
               fidelity: Mapping[str, Any] | None = None) -> None:
        """Start trial ``number``: evaluate ``arch`` on ``task`` (use :func:`evaluate_trial`).

        Called while fewer than :attr:`capacity` trials run. It returns once the trial is on its way
        (or, for an :attr:`in_process` executor, finished); the outcome comes back from :meth:`poll`.

        Parameters
        ----------
        number : int
            The trial's number in its search; events carry it.
        task : Task
            What to evaluate the architecture on (pickled to remote workers).
        space : SearchSpace
            The space ``arch`` belongs to.
        arch : Architecture
            The architecture to evaluate.
        fidelity : Mapping, optional
            The budget of this evaluation (``{"epochs": n}`` from a multi-fidelity strategy); None for
            the task's full fidelity.
        """

    @abc.abstractmethod
    def poll(self, timeout_s: float = 0.1) -> list[ExecutorEvent]:
        """Events since the last poll, waiting up to ``timeout_s`` for the first one.

        Parameters
        ----------
        timeout_s : float, default 0.1
            Seconds to wait when no event is ready; an in-process executor never waits.

        Returns
        -------
        list of ExecutorEvent
            Reports and ``"done"`` outcomes, in the order they happened; empty when none came in time.
        """

    def stop(self, number: int) -> None:
        """Ask a running trial to stop at its next report (``Decision.STOP``).

        Parameters
        ----------
        number : int
            The trial to stop; its outcome still comes back (PRUNED, or COMPLETE when it had
            reached its last planned epoch).
        """

    def warm_up(self, modules: tuple[str, ...]) -> None:
        """Import ``modules`` where trials run, before the first trial (e.g. Lightning: seconds).

        Parameters
        ----------
        modules : tuple of str
            Module names, as the task's :attr:`~nasbook.tasks.Task.worker_imports` lists them.
        """

    def cancel(self, number: int) -> None:
        """Abandon a trial: its outcome will not be reported.

        Parameters
        ----------
        number : int
            The trial to abandon (past its timeout, or the search was interrupted).
        """

    def check(self) -> None:
        """Cheap checks before a search stores anything (e.g. a script that cannot start workers)."""

    @property
    def n_running(self) -> int:
        """Number of trials submitted whose outcome has not been polled yet (0 when idle)."""
        return 0

    def lost_epochs(self, number: int) -> int:
        """Epochs a running trial has trained in attempts lost so far, with a dask worker that died while
        running it (dask runs it again elsewhere). An epochs budget holds them while it runs; its
        outcome's ``lost_attempt_epochs`` has the final count.

        Parameters
        ----------
        number : int
            The running trial's number.

        Returns
        -------
        int
            The epochs its lost attempts reported; 0 here (an in-process trial is never re-run).
        """
        return 0

    def close(self) -> None:
        """Release workers this executor started."""

    def __enter__(self) -> BaseExecutor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        """A short description of where trials run, for reprs and logs.

        Returns
        -------
        str
            The class name here; dask executors add their cluster's address and size.
        """
        return type(self).__name__


class LocalExecutor(BaseExecutor):
    """Runs each trial in the notebook process, one at a time (no workers, no pickling).

    The right choice for tabular benchmarks: a look-up costs microseconds, far less than any
    round trip to a worker. Reports are answered synchronously by the search's ``decide``.
    """

    capacity = 1
    in_process = True

    def __init__(self) -> None:
        self._events: list[ExecutorEvent] = []
        self._stop: set[int] = set()
        self._decide: Decide | None = None
        #: the search's ``trial_timeout_s`` (set by its loop): a trial here cannot be interrupted, so it is stopped
        #: at its first report past the limit (one that never reports runs to its end) and FAILS as on a worker
        self.trial_timeout_s: float | None = None

    def __repr__(self) -> str:
        return "LocalExecutor()"

    def start(self, decide: Decide | None = None) -> None:
        self._decide = decide

    def submit(self, number: int, task: Task, space: SearchSpace, arch: Architecture,
               fidelity: Mapping[str, Any] | None = None) -> None:
        events, decide, stops, limit = self._events, self._decide, self._stop, self.trial_timeout_s
        t0 = time.monotonic()

        def report(epoch: int, **metrics: float) -> Decision:
            decision = decide(number, epoch, metrics) if decide is not None else Decision.CONTINUE
            if number in stops or (limit is not None and time.monotonic() - t0 > limit):
                decision = Decision.STOP
            events.append(ExecutorEvent("report", number, epoch, metrics, decision=decision))
            return decision

        outcome = evaluate_trial(task, space, arch, number, fidelity, report)
        if limit is not None and time.monotonic() - t0 > limit:  # what the loop does to a worker's trial past it
            outcome = Outcome(number, TrialState.FAILED, None, f"timed out after {limit:g} s (trial_timeout_s)",
                              started_at=outcome.started_at, finished_at=outcome.finished_at)
        stops.discard(number)
        events.append(ExecutorEvent("done", number, outcome=outcome))

    def poll(self, timeout_s: float = 0.1) -> list[ExecutorEvent]:
        events, self._events = self._events, []
        return events

    def stop(self, number: int) -> None:
        self._stop.add(number)

    def cancel(self, number: int) -> None:
        self._events = [e for e in self._events if e.number != number]
        self._stop.discard(number)
