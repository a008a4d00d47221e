"""A :class:`~nasbook.search.Search`'s construction, shared by ``Search()`` and :func:`~nasbook.load_search`.

:class:`Construct` is a mixin of ``Search``: it checks and sets the configuration (no I/O), attaches the
object to its row in the store, resets the in-memory history a run (or a resume) rebuilds, and writes the
configuration dict that is stored with the search. ``Search.__init__`` (in :mod:`nasbook.search._search`) adds
what only a new search does: the knowledge base, warm start, the set-up checks and creating the row.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from nasbook._errors import InvalidParameterError, SearchOvertaken, StorageError
from nasbook._version import __version__
from nasbook.executors import resolve_executor
from nasbook.search import _checkpoints, _checks, _fresh, _provenance, _warm
from nasbook.search._budget import Budget
from nasbook.space import SearchSpace
from nasbook.storage import TopFidelityBest, owner_kwargs, search_owner_kwargs
from nasbook.tasks import Task
from nasbook.trial import Trial

if TYPE_CHECKING:
    from nasbook.search._kb import KbLink
    from nasbook.search._search import Search
    from nasbook.storage import Storage

Callback = Callable[["Search", Trial], None]


class SearchState(str, Enum):
    CREATED = "created"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    DONE = "done"


class Construct:
    """Mixin of :class:`~nasbook.search.Search`: its configuration, store attachment and in-memory history."""

    _warm: list[tuple[Any, dict[str, Any]]]  # warm-start architectures and provenance (search._warm)
    _warm_by_id: dict[str, dict[str, Any]]
    _environment: dict[str, Any] | None  # where it was created (search._provenance), stored in its config
    _ckpt: _checkpoints.Folder | None  # the folder given as checkpoints= (search._checkpoints), stored in its config
    _kb: KbLink | None  # the knowledge base it is recorded in (search._kb)

    def _configure(self, space: SearchSpace, task: Task, *, strategy: Any, budget: Any, seed: int, name: str,
                   callbacks: Sequence[Callback] | None, executor: Any, trial_timeout_s: Any,
                   owner: str = "Search") -> None:
        """Validate and set the configuration (no I/O); an error names ``owner``'s parameter
        (``load_search`` passes its parameters through)."""
        if task.space is not None and task.space != space:
            raise InvalidParameterError(
                f"{task!r} is a benchmark over {task.space!r}; it cannot evaluate architectures of {space!r}."
            )
        self.space = space
        self.task = task
        self.strategy = _checks.strategy_instance(strategy, owner)  # a class refused, naming strategy=
        self.strategy._validate_params()
        _checks.check_strategy_epochs(self.strategy, task)
        self.budget = Budget.coerce(budget)
        if self.budget.epochs is not None:
            _checks.check_epochs_task(task, "budget in epochs")
        self.seed = seed
        self.name = name
        self.callbacks = _checks.check_callbacks(callbacks, owner)
        self.executor = resolve_executor(executor)
        self._executor_config: str | None = None  # load_search without executor=: the stored one, kept
        self.trial_timeout_s = _checks.check_timeout(trial_timeout_s, owner)
        self._changes: list[dict[str, Any]] = []
        self._kb = None
        self._environment = None
        self._environment_history: list[dict[str, Any]] = []  # sessions run elsewhere (search._provenance)
        self._session_entry: dict[str, Any] | None = None  # this object's entry there, if any
        self._owner = uuid.uuid4().hex  # this object's lease on the search while it runs
        self._thread: threading.Thread | None = None
        self._bg_error: BaseException | None = None
        self._executor_started = False
        self._stop_flag = False
        self._unfit_seen: tuple[Any, ...] | None = None  # what _budget.warn_unfit last warned of
        self._exiting = False  # set at interpreter exit on a search running in the background (_background.py)
        self._keep_folder = False  # its temporary checkpoint folder outlives the interpreter's exit (_background.py)
        self._closing = False  # set by close() from another thread while this object's run() runs (_background.py)
        self._run_thread: threading.Thread | None = None  # the thread in run() now, if any (close() waits for it)
        self._run_idle = threading.Event()  # set while no run() runs
        self._run_idle.set()
        self._closed = False  # close() released it; the reprs say so until run() or start() reopens it
        self._reset_history()
        _warm.set_seeds(cast("Search", self), [])

    def _attach(self, storage: Storage, search_id: int, state: str, elapsed_s: float) -> None:
        self._storage = storage
        self._owned = owner_kwargs(storage, self._owner)  # {"owner": token}; {} for a storage without owner=
        self._owned_search = search_owner_kwargs(storage, self._owner)  # a run's update_search: only while it holds the lease
        self._search_id = search_id
        self.state = SearchState(state) if state != "running" else SearchState.INTERRUPTED
        self._elapsed_before = elapsed_s

    def _reset_history(self) -> None:
        self._trials: list[Trial] = []
        self._best: Trial | None = None
        self._best_rule = TopFidelityBest(self.task.mode)
        self._n_told = 0
        self._requeue: list[Trial] = []
        self._live: dict[int, tuple[int, dict[str, float]]] = {}
        self._tell_seq: dict[int, int] = {}  # number -> order in which the strategy was told
        self._checkpoints: dict[int, bytes] = {}  # number -> state to continue from (in memory only)
        self._warned_parent = False
        self._unwritten: StorageError | None = None  # a checkpoint write that failed, raised once its trial is stored
        self._epochs_spent = 0
        self._next_number = 0
        self._ready = False  # strategy set up and history replayed
        self._stale = False  # a run ended by an exception: re-read the store before going on
        self._overtaken: SearchOvertaken | None = None  # another process took the search over mid-run

    def _config(self) -> dict[str, Any]:
        _fresh.keep_stored_budget(cast("Search", self))  # another object's extend() since this one read it is kept
        config = {
            "name": self.name,
            "space": self.space.to_config(),
            "space_id": self.space.space_id,
            "task": self.task.to_config(),
            "task_name": self.task.name,
            "strategy": self.strategy.to_config(),
            "budget": self.budget.to_dict(),
            "seed": self.seed,
            "executor": self._executor_config if self._executor_config is not None else repr(self.executor),
            "metric": self.task.metric,
            "mode": self.task.mode,
            "nasbook_version": __version__,
        }
        if self.trial_timeout_s is not None:  # load_search keeps it (a resumed search's hung trials are stopped too)
            config["trial_timeout_s"] = self.trial_timeout_s
        if self._changes:
            config["changes"] = self._changes
        self._budget_seen = config["budget"]
        me = cast("Search", self)
        return _checkpoints.with_config(me, _warm.with_config(me, _provenance.with_config(me, config)))

