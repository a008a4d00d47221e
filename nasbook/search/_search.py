"""``Search``: the ask -> evaluate -> commit -> tell loop, durable in a SQLAlchemy store."""

from __future__ import annotations

import bisect
import json
import secrets
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from nasbook._errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    InvalidParameterTypeError,
    NasbookError,
    ReproducibilityWarning,
    SpaceExhausted,
    StorageError,
    check_int,
)
from nasbook._version import __version__
from nasbook.executors._base import BaseExecutor, LocalExecutor, Outcome, evaluate_trial
from nasbook.executors._dask import resolve_executor
from nasbook.search._budget import Budget
from nasbook.trial import Trial, TrialState
from nasbook.space import SearchSpace
from nasbook.strategies import BaseStrategy, Proposal, get_strategy
from nasbook.tasks import Task
from nasbook.trial import Decision

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from nasbook.storage import Storage

Callback = Callable[["Search", Trial], None]
_STATES = {s.value: s for s in TrialState}


class SearchState(str, Enum):
    CREATED = "created"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    DONE = "done"


_dumps = json.JSONEncoder(separators=(",", ":")).encode  # one encoder, not one per call


class Search:
    """A neural architecture search: a strategy over a space on a task, durable on disk.

    Every finished trial is committed to ``storage`` before the strategy hears of it, so a
    search killed at any point resumes from what was committed with
    :func:`nasbook.load_search`, and a seeded search then proposes exactly the trials an
    uninterrupted run would have.

    Parameters
    ----------
    space : SearchSpace, optional
        Where to search. Omit it for a task that fixes its space (``Search(task, ...)``).
    task : Task
        What each architecture is evaluated on.
    strategy : str or BaseStrategy
        ``"random"``, ``"evolution"``, ``"local"``, another registered name, or an instance.
    budget : int, dict or Budget
        Number of trials, or ``{"trials": ..., "epochs": ..., "seconds": ...}``.
    seed : int, optional
        Seeds the strategy. Drawn at random (and stored) when omitted, so resumes reproduce.
    storage : str, path or Storage
        SQLite file (default ``"nasbook.db"``), ``":memory:"`` for a throw-away search, or a
        database URL.
    name : str, optional
        Unique within the storage; generated when omitted.
    callbacks : list of callables, optional
        ``fn(search, trial)`` after each committed trial.
    executor : str or executor
        Where trials run: ``"local"`` (in this process, the default: right for tabular
        benchmarks), ``"dask"`` (a CPU ``LocalCluster`` on 127.0.0.1), ``"dask-cuda"`` (one worker
        per GPU), ``"auto"`` (dask-cuda when GPUs exist, else a CPU cluster), a scheduler address,
        a ``distributed.Client``, or an executor from :mod:`nasbook.executors`.
    trial_timeout_s : float, optional
        A trial running longer is stopped and FAILS with a reason (executors with workers).

    Examples
    --------
    >>> from nasbook.tasks import NasBenchGraph
    >>> search = Search(NasBenchGraph("cora"), strategy="evolution", budget=50, seed=0, storage=":memory:")
    >>> search.run().best.value > 0.8
    True
    """

    def __init__(
        self,
        space: SearchSpace | Task | None = None,
        task: Task | None = None,
        *,
        strategy: str | BaseStrategy = "random",
        budget: int | dict[str, Any] | Budget = 100,
        seed: int | None = None,
        storage: str | Storage = "nasbook.db",
        name: str | None = None,
        callbacks: Sequence[Callback] | None = None,
        executor: str | BaseExecutor | Any = "local",
        trial_timeout_s: float | None = None,
    ):
        if isinstance(space, Task) and task is None:
            space, task = None, space
        if task is None:
            raise InvalidParameterError("Search needs a task: Search(space, task, ...) or Search(task, ...) for a task that fixes its space.")
        if not isinstance(task, Task):
            raise InvalidParameterTypeError(f"Search(task=...) must be a nasbook Task; got {task!r} of type {type(task).__name__}.")
        if space is None:
            space = task.space
            if space is None:
                raise InvalidParameterError(f"{task!r} does not fix a search space; pass one: Search(space, task, ...).")
        if not isinstance(space, SearchSpace):
            raise InvalidParameterTypeError(f"Search(space=...) must be a SearchSpace; got {space!r} of type {type(space).__name__}.")
        if task.space is not None and task.space != space:
            raise InvalidParameterError(
                f"{task!r} is a benchmark over {task.space!r}; it cannot evaluate architectures of {space!r}."
            )
        check_int("Search", "seed", seed, minimum=0, allow_none=True)
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise InvalidParameterError(f"Search(name=...) must be a non-empty string; got {name!r}.")
        self.space = space
        self.task = task
        self.strategy = get_strategy(strategy)
        self.strategy._validate_params()
        self.budget = Budget.coerce(budget)
        if self.budget.epochs is not None and not getattr(task, "has_epochs", False):
            raise InvalidParameterError(
                f"budget in epochs needs a task that trains for epochs; {task!r} looks answers up. "
                "Give the budget in trials or seconds."
            )
        self.seed = seed if seed is not None else secrets.randbits(31)
        self.name = name if name is not None else f"search-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not callable(cb):
                raise InvalidParameterTypeError(f"Search(callbacks=...) must hold callables fn(search, trial); got {cb!r}.")
        self.executor = resolve_executor(executor)
        self.trial_timeout_s = _check_timeout(trial_timeout_s)
        check = getattr(task, "check", None)
        if callable(check):
            check()  # cheap set-up checks (no training) before anything is stored
        from nasbook.storage import open_storage

        self._storage = open_storage(storage)
        self._search_id = self._storage.create_search(self.name, self._config())
        self._init_state(SearchState.CREATED, elapsed_s=0.0)

    # -- construction helpers ------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "space": self.space.to_config(),
            "space_id": self.space.space_id,
            "task": self.task.to_config(),
            "strategy": self.strategy.to_config(),
            "budget": self.budget.to_dict(),
            "seed": self.seed,
            "executor": repr(self.executor),
            "metric": self.task.metric,
            "mode": self.task.mode,
            "nasbook_version": __version__,
        }

    def _init_state(self, state: SearchState, elapsed_s: float) -> None:
        self.state = state
        self._trials: list[Trial] = []
        self._elapsed_before = elapsed_s
        self._ready = False  # strategy set up and history replayed
        self._best: Trial | None = None
        self._n_told = 0
        self._requeue: list[Trial] = []
        self._live: dict[int, tuple[int, dict[str, float]]] = {}
        self._tell_seq: dict[int, int] = {}  # number -> order in which the strategy was told
        self._checkpoints: dict[int, bytes] = {}  # number -> state to continue from (in memory only)
        self._warned_parent = False
        self._epochs_spent = 0
        self._waiting = False
        self._stop_flag = False
        self._thread: threading.Thread | None = None
        self._bg_error: BaseException | None = None
        self._executor_started = False

    # -- public read API -------------------------------------------------------------------------
    @property
    def storage(self) -> Storage:
        return self._storage

    @property
    def trials(self) -> list[Trial]:
        """Committed trials, in trial-number order."""
        return list(self._trials)

    @property
    def n_trials(self) -> int:
        return len(self._trials)

    @property
    def best(self) -> Trial | None:
        """The best COMPLETE trial by the task's objective (None before any)."""
        return self._best

    @property
    def metric(self) -> str:
        return self.task.metric

    @property
    def mode(self) -> str:
        return self.task.mode

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from nasbook.display import repr_mimebundle

        return repr_mimebundle(self, include=include, exclude=exclude)

    def __repr__(self) -> str:
        best = "" if self._best is None else f", best {self._best.value:.6g} ({self._best.arch.id})"
        b = self.budget
        used = (f"{len(self._trials)} of {b.trials} trials" if b.trials is not None else
                f"{self._epochs_spent} of {b.epochs} epochs" if b.epochs is not None else
                f"{len(self._trials)} trials in {self._elapsed_before:.0f} of {b.seconds:g} s")
        return (
            f"<Search {self.name!r} {self.state.value}: {used}, "
            f"{self.strategy.alias or type(self.strategy).__name__} on {self.task.name}{best}>"
        )

    # -- the loop ------------------------------------------------------------------------------------
    def _better(self, a: float, b: float) -> bool:
        return a > b if self.task.mode == "max" else a < b

    def _record(self, trial: Trial) -> None:
        if trial.epochs:
            before = 0
            if trial.parent is not None:
                parent = self._trial_by_number(trial.parent)
                before = parent.epochs or 0 if parent is not None else 0
            self._epochs_spent += max(0, trial.epochs - before)
        trials = self._trials
        if not trials or trials[-1].number < trial.number:
            trials.append(trial)
        else:  # finished out of order (parallel workers): keep trial-number order
            bisect.insort(trials, trial, key=lambda t: t.number)
        if trial.state is TrialState.COMPLETE and trial.value is not None and trial.value == trial.value:
            if self._best is None or self._better(trial.value, self._best.value):  # type: ignore[arg-type]
                self._best = trial

    def _tell(self, trial: Trial) -> None:
        self.strategy.tell(self._blind(trial))
        self._tell_seq[trial.number] = self._n_told
        self._n_told += 1

    def _setup_strategy(self) -> None:
        """Set the strategy up and replay the committed history into it."""
        self.strategy.setup(self.space, seed=self.seed, mode=self.task.mode, metric=self.task.metric)
        asks = sorted(self._trials + self._requeue, key=lambda t: t.number)
        told = [t for t in self._trials if t.state.is_finished]
        seq = self._tell_seq
        told.sort(key=lambda t: (seq.get(t.number, 1 << 62), t.finished_at or 0.0, t.number))
        tell_iter = iter(told)
        n_told = 0
        mismatches = 0
        for trial in asks:
            while n_told < trial.n_told_before:
                nxt = next(tell_iter, None)
                if nxt is None:
                    break
                self.strategy.tell(self._blind(nxt))
                n_told += 1
            try:
                asked = self.strategy.ask()
                proposed = asked.arch if isinstance(asked, Proposal) else asked
            except SpaceExhausted:
                proposed = None
            if proposed is None or proposed.id != trial.arch.id:
                mismatches += 1
                self.strategy.seen_.add(trial.arch.id)
        for rest in tell_iter:
            self.strategy.tell(self._blind(rest))
            n_told += 1
        self._n_told = n_told
        if mismatches:
            warnings.warn(
                f"Search {self.name!r}: {mismatches} of {len(asks)} stored trials differ from what "
                f"{self.strategy!r} proposes with seed {self.seed}; the strategy was told the stored "
                "history, but later proposals may differ from an uninterrupted run.",
                ReproducibilityWarning,
                stacklevel=3,
            )
        self._ready = True

    @staticmethod
    def _blind(trial: Trial) -> Trial:
        """The trial as strategies see it: held-out ``attrs`` removed."""
        return Trial(trial.number, trial.arch, trial.state, trial.value, trial.metrics, {}, trial.epochs,
                     trial.started_at, trial.finished_at, trial.reason, trial.n_told_before, trial.curves, trial.parent)

    def _spent(self, t_start: float, n_running: int = 0) -> bool:
        if self._stop_flag:
            return True
        b = self.budget
        if b.trials is not None and len(self._trials) + n_running >= b.trials:
            return True
        if b.epochs is not None and self._epochs_spent >= b.epochs:
            return True
        if b.seconds is not None and self._elapsed_before + (time.monotonic() - t_start) >= b.seconds:
            return True
        return False

    def _trial_from(self, outcome: Outcome, proposal: Proposal, n_told_before: int) -> Trial:
        res = outcome.result
        arch = proposal.arch
        if res is not None and res.checkpoint is not None and self.strategy.continues_trials:
            self._checkpoints[outcome.number] = res.checkpoint  # ~1 MB for a small CNN: only when it may be used
        if proposal.parent is not None:  # continued: the child's checkpoint supersedes the parent's
            self._checkpoints.pop(proposal.parent, None)
        state = _STATES[outcome.state]
        attrs: dict[str, Any] = dict(res.attrs) if res is not None else {}
        if outcome.traceback:
            attrs["traceback"] = outcome.traceback
        value = None
        if res is not None and state in (TrialState.COMPLETE, TrialState.PRUNED):
            value = float(res.value)
        return Trial(
            outcome.number, arch, state, value,
            dict(res.metrics) if res is not None else {}, attrs,
            res.epochs if res is not None else None,
            outcome.started_at, outcome.finished_at, outcome.reason, n_told_before,
            {k: [float(x) for x in v] for k, v in res.curves.items()} if res is not None and res.curves else {},
            proposal.parent,
        )

    def _commit(self, trial: Trial, *, update: bool = False) -> None:
        """Insert (or, for a trial first stored as RUNNING, overwrite) the trial's row durably."""
        values = self._row(trial)
        if update:
            self._storage.finish_trial(self._search_id, values)
        else:
            self._storage.commit_trial(self._search_id, values)

    def _row(self, trial: Trial) -> tuple[Any, ...]:
        # values in storage.TRIAL_COLUMNS order
        return (
            trial.number,
            trial.state.value,
            trial.arch.id,
            trial.arch.to_json(),
            trial.value,
            _dumps(trial.metrics) if trial.metrics else "{}",
            _dumps(trial.attrs) if trial.attrs else "{}",
            trial.epochs,
            trial.n_told_before,
            self._n_told,
            trial.started_at,
            trial.finished_at,
            trial.reason,
            _dumps(trial.curves) if trial.curves else "{}",
            trial.parent,
        )

    def run(self, *, progress: Any = "none") -> Search:
        """Run until the budget is spent (or the strategy runs out of architectures). Returns self.

        Safe to call again: a finished search returns at once; after :meth:`extend` it goes on.
        Interrupting (Ctrl-C) stops after committing what finished and leaves the search
        resumable: trials still running are marked QUEUED and run first on the next ``run()``.

        Parameters
        ----------
        progress : {"none", "auto", "widget", "bar"} or bool
            ``"auto"`` (or True): a live widget in a notebook, a tqdm bar elsewhere.
        """
        if not self._ready:
            self._setup_strategy()
        if threading.current_thread() is not self._thread:
            self._stop_flag = False  # a fresh run() in the foreground clears an earlier stop()
        t_start = time.monotonic()
        self.state = SearchState.RUNNING
        self._storage.update_search(self._search_id, state=self.state.value)
        from nasbook.display._monitor import _Progress, make_progress

        pbar = progress if isinstance(progress, _Progress) else make_progress(self, progress)
        final = SearchState.INTERRUPTED
        try:
            if isinstance(self.executor, LocalExecutor) and not self._requeue:
                self._run_local(t_start, pbar)
            else:
                self._run_executor(t_start, pbar)
            final = SearchState.DONE
        finally:
            if final is SearchState.DONE and self._stop_flag:
                final = SearchState.INTERRUPTED  # stopped with stop(): resumable, not finished
            self.state = final
            if pbar is not None:
                pbar.close()
            try:
                self._elapsed_before += time.monotonic() - t_start
                self._storage.update_search(self._search_id, state=final.value, elapsed_s=self._elapsed_before)
            except StorageError:  # pragma: no cover - never hide the original error
                pass
        return self

    def start(self, *, progress: str | bool = "auto") -> Search:
        """Run in a background thread and return at once; the notebook stays usable.

        Look at ``search`` (its repr, ``trials``, ``best``, ``running``) while it runs;
        :meth:`wait` blocks until it ends, :meth:`stop` ends it after the trials in flight.
        """
        if self._thread is not None and self._thread.is_alive():
            raise NasbookError(f"Search {self.name!r} is already running in the background.")
        self._stop_flag = False
        self._bg_error = None

        from nasbook.display._monitor import make_progress

        # the widget is made here, in the notebook's own thread, so that the front-end hears of
        # it with this cell's output; the background thread only updates it
        view = make_progress(self, progress)

        def target() -> None:
            try:
                self.run(progress=view if view is not None else "none")
            except BaseException as exc:  # kept for wait(): a thread cannot raise into the notebook
                self._bg_error = exc

        self._thread = threading.Thread(target=target, name=f"nasbook-{self.name}", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout_s: float | None = None) -> Search:
        """Block until a search started with :meth:`start` ends; re-raise its error, if any."""
        if self._thread is not None:
            self._thread.join(timeout_s)
            if not self._thread.is_alive():
                self._thread = None
        if self._bg_error is not None:
            err, self._bg_error = self._bg_error, None
            raise err
        return self

    def stop(self) -> Search:
        """Stop a running search after the trials in flight; it stays resumable."""
        self._stop_flag = True
        return self.wait()

    def _ask(self) -> Proposal | None:
        """The next proposal; None when the strategy has nothing (more) to propose.

        ``self._waiting`` tells the two apart: True when the strategy waits for running trials
        (synchronous successive halving between rungs), False when it is exhausted.
        """
        self._waiting = False
        try:
            asked = self.strategy.ask()
        except SpaceExhausted as exc:
            warnings.warn(f"Search {self.name!r} stopped early: {exc}.", stacklevel=4)
            return None
        if asked is None:
            self._waiting = True
            return None
        proposal = asked if isinstance(asked, Proposal) else Proposal(asked)
        if proposal.arch.space_id != self.space.space_id:
            self.space.validate(proposal.arch)  # raises InvalidArchitectureError naming both spaces
        if proposal.epochs is not None and not getattr(self.task, "has_epochs", False):
            raise InvalidParameterError(
                f"{self.strategy!r} asked for {proposal.epochs} epochs, but {self.task!r} does not train for epochs."
            )
        return proposal

    def _fidelity(self, proposal: Proposal) -> dict[str, Any] | None:
        if proposal.epochs is None and proposal.parent is None:
            return None
        fidelity: dict[str, Any] = {}
        if proposal.epochs is not None:
            fidelity["epochs"] = proposal.epochs
        if proposal.parent is not None:
            ckpt = self._checkpoints.get(proposal.parent)
            if ckpt is not None:  # else (e.g. after a restart) it trains from scratch
                fidelity["checkpoint"] = ckpt
            elif not self.strategy.continues_trials and not self._warned_parent:
                self._warned_parent = True
                warnings.warn(f"{type(self.strategy).__name__} proposes continuations (Proposal(parent=...)) but does "
                              "not set the class attribute continues_trials = True, so no checkpoint was kept: "
                              "they train from scratch.", stacklevel=4)
        return fidelity

    def _finish(self, trial: Trial, pbar: Any, *, update: bool = False) -> None:
        self._commit(trial, update=update)  # durable first ...
        self._record(trial)
        self._tell(trial)  # ... then the strategy hears of it
        for cb in self.callbacks:
            cb(self, trial)
        if pbar is not None:
            pbar.trial_finished(trial)

    def _run_local(self, t_start: float, pbar: Any) -> None:
        """In-process, one trial at a time: a trial is stored once, when it has finished."""
        task, space, live, strategy = self.task, self.space, self._live, self.strategy
        while not self._spent(t_start):
            proposal = self._ask()
            if proposal is None:
                if self._waiting:
                    warnings.warn(f"Search {self.name!r} stopped: {self.strategy!r} waits for trials, but none is running.",
                                  stacklevel=3)
                return
            number, told = len(self._trials), self._n_told

            def report(epoch: int, _n: int = number, **metrics: float) -> Decision:
                live[_n] = (epoch, metrics)
                return strategy.on_report(_n, epoch, metrics)  # pruning: STOP ends the trial PRUNED

            outcome = evaluate_trial(task, space, proposal.arch, number, self._fidelity(proposal), report)
            live.pop(number, None)
            self._finish(self._trial_from(outcome, proposal, told), pbar)

    def _run_executor(self, t_start: float, pbar: Any) -> None:
        """Trials on workers: each is stored RUNNING when submitted and overwritten when it ends,
        so a crash leaves a record of what was running (re-queued on resume)."""
        ex = self.executor
        ex.start()
        self._executor_started = True
        if getattr(self.task, "has_epochs", False) and not isinstance(ex, LocalExecutor):
            ex.warm_up(("nasbook.training",))  # every worker imports Lightning at once, not trial by trial
        running: dict[int, tuple[Proposal, int, float]] = {}
        if isinstance(ex, LocalExecutor):  # in-process: the strategy answers each report directly
            ex.report_hook = lambda number, epoch, metrics: self.strategy.on_report(number, epoch, metrics)
        exhausted = False
        try:
            while True:
                while len(running) < ex.capacity and not self._spent(t_start, n_running=len(running)):
                    if self._requeue:
                        queued = self._requeue.pop(0)
                        proposal = Proposal(queued.arch, queued.epochs, queued.parent)
                        number, told = queued.number, queued.n_told_before
                        self._storage.finish_trial(self._search_id, self._row(_running_trial(number, proposal, told)))
                    else:
                        if exhausted:
                            break
                        maybe = self._ask()
                        if maybe is None:
                            if self._waiting and running:
                                break  # the strategy waits for a running trial to finish
                            if self._waiting:
                                warnings.warn(f"Search {self.name!r} stopped: {self.strategy!r} waits for trials, "
                                              "but none is running.", stacklevel=3)
                            exhausted = True
                            break
                        proposal, number, told = maybe, self._next_number(running), self._n_told
                        self._storage.commit_trial(self._search_id, self._row(_running_trial(number, proposal, told)))
                    ex.submit(number, self.task, self.space, proposal.arch, self._fidelity(proposal))
                    running[number] = (proposal, told, time.monotonic())
                if not running:
                    return
                for event in ex.poll(0.05):
                    if event.kind == "report" and event.number in running:
                        self._live[event.number] = (event.epoch or 0, dict(event.metrics))
                        if not isinstance(ex, LocalExecutor) and self.strategy.on_report(
                                event.number, event.epoch or 0, event.metrics) is Decision.STOP:
                            ex.stop(event.number)  # reaches the trial after its current epoch
                    elif event.kind == "done" and event.number in running and event.outcome is not None:
                        proposal, told, _ = running.pop(event.number)
                        self._live.pop(event.number, None)
                        self._finish(self._trial_from(event.outcome, proposal, told), pbar, update=True)
                if self.trial_timeout_s is not None:
                    now = time.monotonic()
                    for number, (proposal, told, t0) in list(running.items()):
                        if now - t0 > self.trial_timeout_s:
                            ex.cancel(number)
                            del running[number]
                            self._live.pop(number, None)
                            outcome = Outcome(number, "failed", None, f"timed out after {self.trial_timeout_s:g} s "
                                              "(trial_timeout_s)", started_at=time.time() - (now - t0), finished_at=time.time())
                            self._finish(self._trial_from(outcome, proposal, told), pbar, update=True)
        except BaseException:
            # interrupted (or the set-up is wrong): nothing finished is lost; what was running is
            # marked QUEUED so that the next run() re-runs it first
            for number, (proposal, told, _) in running.items():
                ex.cancel(number)
                queued = Trial(number, proposal.arch, TrialState.QUEUED, None, epochs=proposal.epochs,
                               n_told_before=told, parent=proposal.parent)
                try:
                    self._storage.finish_trial(self._search_id, self._row(queued))
                except StorageError:  # pragma: no cover
                    pass
                self._requeue.append(queued)
            self._live.clear()
            raise

    def _trial_by_number(self, number: int) -> Trial | None:
        trials = self._trials
        i = bisect.bisect_left(trials, number, key=lambda t: t.number)
        return trials[i] if i < len(trials) and trials[i].number == number else None

    @property
    def elapsed_s(self) -> float:
        """Seconds spent in ``run()`` over all sessions (a seconds budget counts this)."""
        return self._elapsed_before

    @property
    def epochs_spent(self) -> int:
        """Epochs trained over all trials (a continuation counts only its extra epochs)."""
        return self._epochs_spent

    def _next_number(self, running: dict[int, Any]) -> int:
        used = {t.number for t in self._trials} | set(running) | {t.number for t in self._requeue}
        n = len(used)
        while n in used:  # pragma: no cover - numbers are dense
            n += 1
        return n

    @property
    def running(self) -> dict[int, tuple[int, dict[str, float]]]:
        """Trials running now: ``{number: (last epoch reported, its metrics)}`` (live view)."""
        return dict(self._live)

    def close(self) -> None:
        """Release the executor's workers (a LocalCluster it started)."""
        if getattr(self, "_executor_started", False):
            self.executor.close()
            self._executor_started = False

    def extend(self, trials: int | None = None, *, epochs: int | None = None, seconds: float | None = None) -> Search:
        """Add budget (on top of the current one) to a search, e.g. a finished one. Returns self."""
        b = self.budget
        Budget(trials=trials, epochs=epochs, seconds=seconds)  # validates the increments
        def add(a: float | None, b: float | None) -> Any:
            return None if a is None and b is None else (a or 0) + (b or 0)

        self.budget = Budget(trials=add(b.trials, trials), epochs=add(b.epochs, epochs), seconds=add(b.seconds, seconds))
        self._storage.update_search(self._search_id, config=self._config())
        return self

    # -- results ---------------------------------------------------------------------------------------
    def to_dataframe(self) -> pd.DataFrame:
        """One row per trial: number, arch_id, state, value, metrics, attrs, epochs, timing, reason."""
        from nasbook.results import trials_dataframe

        return trials_dataframe(self)

    def to_xarray(self) -> xr.Dataset:
        """The trials as an ``xarray.Dataset`` with dim ``trial``; see :mod:`nasbook.results`."""
        from nasbook.results import trials_dataset

        return trials_dataset(self)


def _running_trial(number: int, proposal: Proposal, told: int) -> Trial:
    return Trial(number, proposal.arch, TrialState.RUNNING, None, epochs=proposal.epochs, started_at=time.time(),
                 n_told_before=told, parent=proposal.parent)


def _check_timeout(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidParameterError(f"trial_timeout_s must be a number of seconds > 0 or None; got {value!r}.")
    return float(value)


# -- resume ------------------------------------------------------------------------------------------
def _rebuild_space(config: dict[str, Any]) -> SearchSpace:
    from nasbook import space as space_mod

    cls = getattr(space_mod, config.get("class", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, SearchSpace)):
        raise InvalidParameterError(
            f"the stored search uses space {config.get('class')!r}, which nasbook cannot rebuild; pass space=... to load_search."
        )
    params = dict(config.get("params", {}))
    return cls(**params)


def _rebuild_task(config: dict[str, Any]) -> Task:
    from nasbook import tasks as tasks_mod

    cls = getattr(tasks_mod, config.get("class", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, Task)) or config.get("class") not in {"NasBenchGraph", "Digits", "BreastCancer", "DigitsTable"}:
        raise InvalidParameterError(
            f"the stored search evaluates on {config.get('class')!r}, which nasbook cannot rebuild from storage "
            "(it may hold user data); pass task=... to load_search."
        )
    return cls(**config.get("params", {}))


def load_search(
    name: str,
    storage: str | Storage = "nasbook.db",
    *,
    task: Task | None = None,
    space: SearchSpace | None = None,
    strategy: BaseStrategy | None = None,
    budget: int | dict[str, Any] | Budget | None = None,
    callbacks: Sequence[Callback] | None = None,
    executor: str | BaseExecutor | Any = "local",
    trial_timeout_s: float | None = None,
) -> Search:
    """Load a stored search to inspect, resume or extend it.

    The space, task and strategy are rebuilt from the stored configuration (built-in ones; pass
    your own for custom classes). Committed trials are read back and, at the next ``run()``,
    replayed into a fresh strategy, so a seeded search goes on as if never interrupted.

    Parameters
    ----------
    budget : optional
        A new *total* budget (e.g. larger, to extend a finished search).
    """
    from nasbook.storage import open_storage

    st = open_storage(storage)
    search_id, config, state, elapsed = st.get_search(name)
    space = space if space is not None else (task.space if task is not None and task.space is not None else _rebuild_space(config["space"]))
    if space.space_id != config.get("space_id"):
        raise InvalidParameterError(
            f"search {name!r} was run over space {config.get('space_id')!r}; the space given is {space.space_id!r}."
        )
    task = task if task is not None else _rebuild_task(config["task"])
    if strategy is None:
        from nasbook.strategies import strategy_class

        scfg = config["strategy"]
        strategy = strategy_class(scfg.get("alias") or scfg["class"])(**scfg.get("params", {}))
    self = Search.__new__(Search)
    self.space, self.task, self.strategy = space, task, strategy
    self.budget = Budget.coerce(budget) if budget is not None else Budget.coerce(config["budget"])
    self.seed = int(config["seed"])
    self.name = name
    self.callbacks = list(callbacks or [])
    self.executor = resolve_executor(executor)
    self.trial_timeout_s = _check_timeout(trial_timeout_s)
    self._storage, self._search_id = st, search_id
    self._init_state(SearchState(state) if state != "running" else SearchState.INTERRUPTED, elapsed_s=elapsed)
    for row in st.iter_trials(search_id):
        try:
            arch = space.from_dict(row.arch)
        except InvalidArchitectureError as exc:
            raise StorageError(f"trial {row.number} of search {name!r} holds an architecture outside its space: {exc}") from exc
        if arch.id != row.arch_id:
            raise StorageError(
                f"trial {row.number} of search {name!r}: stored id {row.arch_id!r} but its architecture canonicalises "
                f"to {arch.id!r}; the space definition changed since it was stored."
            )
        trial = Trial(row.number, arch, TrialState(row.state), row.value, row.metrics, row.attrs, row.epochs,
                      row.started_at, row.finished_at, row.reason, row.n_told_before, row.curves, row.parent)
        if trial.state.is_finished:
            self._record(trial)
            if row.tell_seq is not None:
                self._tell_seq[row.number] = int(row.tell_seq)
        else:  # running when the process died, or interrupted: run it again first
            self._requeue.append(Trial(trial.number, arch, TrialState.QUEUED, None, epochs=trial.epochs,
                                       n_told_before=trial.n_told_before, parent=trial.parent))
    if budget is not None:
        st.update_search(search_id, config=self._config())
    return self
