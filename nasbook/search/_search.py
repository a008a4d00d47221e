"""``Search``: the ask -> evaluate -> commit -> tell loop, durable in a SQLAlchemy store."""

from __future__ import annotations

import json
import secrets
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from nasbook._errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    InvalidParameterTypeError,
    ReproducibilityWarning,
    SpaceExhausted,
    StorageError,
    TrialFailed,
    check_int,
)
from nasbook._version import __version__
from nasbook.search._budget import Budget
from nasbook.search._trial import Trial, TrialState
from nasbook.space import SearchSpace
from nasbook.strategies import BaseStrategy, get_strategy
from nasbook.tasks import Task

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from nasbook.space import Architecture
    from nasbook.storage import Storage

Callback = Callable[["Search", Trial], None]


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

    def __repr__(self) -> str:
        best = "" if self._best is None else f", best {self._best.value:.6g} ({self._best.arch.id})"
        return (
            f"<Search {self.name!r} {self.state.value}: {len(self._trials)} of {self.budget}, "
            f"{self.strategy.alias or type(self.strategy).__name__} on {self.task.name}{best}>"
        )

    # -- the loop ------------------------------------------------------------------------------------
    def _better(self, a: float, b: float) -> bool:
        return a > b if self.task.mode == "max" else a < b

    def _record(self, trial: Trial) -> None:
        self._trials.append(trial)
        if trial.state is TrialState.COMPLETE and trial.value is not None and trial.value == trial.value:
            if self._best is None or self._better(trial.value, self._best.value):  # type: ignore[arg-type]
                self._best = trial

    def _tell(self, trial: Trial) -> None:
        self.strategy.tell(self._blind(trial))
        self._n_told += 1

    def _setup_strategy(self) -> None:
        """Set the strategy up and replay the committed history into it."""
        self.strategy.setup(self.space, seed=self.seed, mode=self.task.mode)
        asks = sorted(self._trials, key=lambda t: t.number)
        told = [t for t in self._trials if t.state.is_finished]
        told.sort(key=lambda t: (t.finished_at or 0.0, t.number))
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
                proposed = self.strategy.ask()
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
                     trial.started_at, trial.finished_at, trial.reason, trial.n_told_before)

    def _spent(self, t_start: float) -> bool:
        b = self.budget
        if b.trials is not None and len(self._trials) >= b.trials:
            return True
        if b.epochs is not None and sum(t.epochs or 0 for t in self._trials) >= b.epochs:
            return True
        if b.seconds is not None and self._elapsed_before + (time.monotonic() - t_start) >= b.seconds:
            return True
        return False

    def _evaluate(self, number: int, arch: Architecture) -> Trial:
        started = time.time()
        try:
            res = self.task.evaluate(arch)
        except TrialFailed as exc:
            return Trial(number, arch, TrialState.FAILED, None, {}, {}, None, started, time.time(), str(exc), self._n_told)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # the search goes on; the reason is kept with the trial
            tb = traceback.format_exc(limit=5)
            return Trial(number, arch, TrialState.FAILED, None, {}, {"traceback": tb}, None, started, time.time(),
                         f"{type(exc).__name__}: {exc}", self._n_told)
        value = float(res.value)
        state = TrialState.COMPLETE
        reason: str | None = None
        if value != value or value in (float("inf"), float("-inf")):
            state, reason = TrialState.DIVERGED, f"objective {self.task.metric} is {value}"
        return Trial(number, arch, state, value if state is TrialState.COMPLETE else None, dict(res.metrics),
                     dict(res.attrs), res.epochs, started, time.time(), reason, self._n_told)

    def _commit(self, trial: Trial) -> None:
        # values in storage.TRIAL_COLUMNS order
        self._storage.commit_trial(self._search_id, (
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
        ))

    def run(self, *, show_progress: bool = False) -> Search:
        """Run until the budget is spent (or the strategy runs out of architectures). Returns self.

        Safe to call again: a finished search returns at once; after :meth:`extend` it goes on.
        Interrupting (Ctrl-C) stops after committing what finished and leaves the search resumable.
        """
        if not self._ready:
            self._setup_strategy()
        t_start = time.monotonic()
        self.state = SearchState.RUNNING
        self._storage.update_search(self._search_id, state=self.state.value)
        space, strategy, callbacks = self.space, self.strategy, self.callbacks
        pbar = None
        if show_progress and self.budget.trials is not None:
            from tqdm.auto import tqdm

            pbar = tqdm(total=self.budget.trials, initial=len(self._trials), desc=self.name, leave=True)
        final = SearchState.INTERRUPTED
        try:
            while not self._spent(t_start):
                try:
                    arch = strategy.ask()
                except SpaceExhausted as exc:
                    warnings.warn(f"Search {self.name!r} stopped early: {exc}.", stacklevel=2)
                    break
                if arch.space_id != space.space_id:
                    space.validate(arch)  # raises InvalidArchitectureError naming both spaces
                trial = self._evaluate(len(self._trials), arch)
                self._commit(trial)  # durable first ...
                self._record(trial)
                self._tell(trial)  # ... then the strategy hears of it
                for cb in callbacks:
                    cb(self, trial)
                if pbar is not None:
                    pbar.update(1)
                    if self._best is not None:
                        pbar.set_postfix_str(f"best {self._best.value:.4g}", refresh=False)
            final = SearchState.DONE
        finally:
            if pbar is not None:
                pbar.close()
            self.state = final
            try:
                self._elapsed_before += time.monotonic() - t_start
                self._storage.update_search(self._search_id, state=final.value, elapsed_s=self._elapsed_before)
            except StorageError:  # pragma: no cover - never hide the original error
                pass
        return self

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
    if not (isinstance(cls, type) and issubclass(cls, Task)) or config.get("class") not in {"NasBenchGraph"}:
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
                      row.started_at, row.finished_at, row.reason, row.n_told_before)
        self._record(trial)
    if budget is not None:
        st.update_search(search_id, config=self._config())
    return self
