"""``Search``: a strategy over a space on a task, durable in a SQLAlchemy store.

``Search()`` and the public API live here; the configuration, store attachment and in-memory history
that ``Search()`` and :func:`~nasbook.load_search` share are in :mod:`nasbook.search._construct`
(``SearchState`` and ``Callback`` too, importable from here as before), the loop is in
:mod:`nasbook.search._loop`, resume and replay in :mod:`nasbook.search._resume`.
"""

from __future__ import annotations

import bisect
import os
import secrets
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nasbook._errors import (
    NasbookError,
    SearchLockedError,
    SpaceExhausted,
    StorageError,
    check_int,
    checked_signature,
)
from nasbook.executors import BaseExecutor
from nasbook.search import _background, _budget, _checkpoints, _checks, _fresh, _kb, _loop, _provenance, _resume, _warm
from nasbook.search._background import Background  # start, wait and stop: a search in a background thread
from nasbook.search._budget import BUDGET_HINTS as _BUDGET_HINTS
from nasbook.search._budget import Budget
from nasbook.search._checks import check_strategy_task as _check_strategy_task
from nasbook.search._checks import space_and_task as _space_and_task
from nasbook.search._construct import Callback, Construct, SearchState  # configuration, store row, history
from nasbook.search._extend import Extend  # extend(): more budget
from nasbook.search._readonly import ReadOnly  # a search loaded read-only: resumable, and the refusal
from nasbook.search._results import Results
from nasbook.space import SearchSpace
from nasbook.strategies import BaseStrategy, Proposal
from nasbook.tasks import Task
from nasbook.trial import Trial, Wait

if TYPE_CHECKING:

    from nasbook.knowledge import KnowledgeBase
    from nasbook.storage import Storage

class Search(Construct, Background, Extend, Results, ReadOnly):
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
        Number of trials (numpy integers too), or ``{"trials": ..., "epochs": ..., "seconds": ...}``.
    seed : int, optional
        Seeds the strategy (numpy integers too). Drawn at random (and stored) when omitted, so resumes reproduce.
    storage : str, path or Storage, optional
        SQLite file (default ``"nasbook.db"``, or the knowledge base's store when ``kb`` is given),
        ``":memory:"`` for a throw-away search, or a database URL.
    name : str, optional
        Unique within the storage; generated when omitted.
    callbacks : list of callables, optional
        ``fn(search, trial)`` after each committed trial.
    executor : str or executor
        Where trials run: ``"local"`` (in this process, the default: right for tabular
        benchmarks), ``"dask"`` (a CPU ``LocalCluster`` on 127.0.0.1), ``"dask-cuda"`` (one worker
        per GPU), ``"auto"`` (dask-cuda when GPUs exist, else a CPU cluster), a scheduler address
        (``"tcp://host:8786"``, or ``"host:8786"`` as dask reads it), a ``distributed.Client``, a dask
        cluster object (``LocalCluster``, ``LocalCUDACluster``, dask-jobqueue's, ...: left running by
        :meth:`close`), or an executor from :mod:`nasbook.executors`.
    trial_timeout_s : float, optional
        A trial running longer is stopped and FAILS with a reason; with ``executor="local"`` it is stopped at its
        first epoch report past the limit (a trial that never reports is failed once it ends). None or ``math.inf``:
        no limit. Stored with the search: a resumed search keeps it (``load_search(trial_timeout_s=math.inf)`` drops it).
    kb : KnowledgeBase, optional
        Record the search in this knowledge base; with a ``storage`` of its own, each committed
        trial is also copied there (see :mod:`nasbook.search._kb`).
    warm_start : bool, int or list, optional
        Architectures proposed first, each trial recording where it came from: a list (of them, or of
        ``(arch, provenance)`` from ``knowledge.select_warm_start``), or True (10) / ``n`` from ``kb``.
    checkpoints : str or path, optional
        A folder for the training checkpoints that ASHA, successive halving, Hyperband and Growth continue from
        (``search-<id>/`` in it), instead of ``<file>.checkpoints/`` beside a SQLite file or, for ``":memory:"``
        and a database URL, a temporary folder deleted by :meth:`close` (a resume in another process then
        trains the promotions of earlier trials from scratch). Stored with the search, so
        :func:`~nasbook.load_search` finds it again (and makes it again, with a warning, if it was deleted).
        A ``":memory:"`` search, which cannot be resumed once its process ends, keeps a folder of its own in it
        (``nasbook-memory-search-<id>-<random>/``), deleted by :meth:`close` as the temporary one is.

    Examples
    --------
    >>> from nasbook.tasks import NasBenchGraph
    >>> search = Search(NasBenchGraph("cora"), strategy="evolution", budget=50, seed=0, storage=":memory:")
    >>> search.run().best.value > 0.8
    True
    """

    @checked_signature(hints={"twice": "Search(space, task, ...) takes the space first (Search(CellSpace(), Digits()) or "
                                       "Search(space=..., task=...)); Search(task, ...) only for a task that fixes its space."})
    def __init__(
        self,
        space: SearchSpace | Task | None = None,
        task: Task | None = None,
        *,
        strategy: str | BaseStrategy = "random",
        budget: int | dict[str, Any] | Budget = 100,
        seed: int | None = None,
        storage: str | os.PathLike[str] | Storage | None = None,
        name: str | None = None,
        callbacks: Sequence[Callback] | None = None,
        executor: str | BaseExecutor | Any = "local",
        trial_timeout_s: float | None = None,
        kb: KnowledgeBase | None = None,
        warm_start: bool | int | Sequence[Any] | None = None,
        checkpoints: str | os.PathLike[str] | None = None,
    ):
        space, task = _space_and_task(space, task)
        _checks.check_name(name)
        seed = check_int("Search", "seed", seed, minimum=0, allow_none=True)  # np.int64 -> int
        self._configure(
            space, task, strategy=strategy, budget=budget,
            seed=seed if seed is not None else secrets.randbits(31),
            name=name if name is not None else f"search-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}",
            callbacks=callbacks, executor=executor, trial_timeout_s=trial_timeout_s,
        )
        # here, not in _configure: a search stored before this check must still load
        _check_strategy_task(self.strategy, self.task)
        self._ckpt = _checkpoints.given("Search", checkpoints)  # checked (no file made) before anything is stored
        if kb is not None:
            _kb.check_kb(kb, "Search")
            _kb.give_prior(self, kb)
            _kb.give_portfolio_prior(self, kb)
        source = _kb.warm_source(self, kb) if kb is not None else None
        _warm.set_seeds(self, _warm.resolve(warm_start, self.space, source))
        self.task.check()  # cheap set-up checks (no training) before anything is stored
        self.executor.check()  # e.g. a script that cannot start worker processes
        storage_ = _kb.storage_for(storage, kb)
        self._environment = _provenance.environment()
        self._attach(storage_, storage_.create_search(self.name, self._config()), SearchState.CREATED.value, 0.0)
        self._owns_storage = _kb.opened_for(storage_, storage, kb)
        self._kb = _kb.link(self, kb)

    # -- public read API -------------------------------------------------------------------------
    @property
    def storage(self) -> Storage:
        """The :class:`~nasbook.storage.Storage` every trial is committed to (``storage=``, or the ``kb``'s store)."""
        return self._storage

    @property
    def trials(self) -> list[Trial]:
        """Committed trials, in trial-number order."""
        return list(self._trials)

    @property
    def n_trials(self) -> int:
        """Number of committed trials, of every state (``len(search.trials)``)."""
        return len(self._trials)

    @property
    def best(self) -> Trial | None:
        """The best COMPLETE trial by the task's objective (None before any) at the most epochs trained.

        Of a multi-fidelity search (ASHA, Hyperband, ...) only the complete trials with a finite value at the
        most epochs reached so far count (and those with no epochs recorded), so a lucky 1-epoch score never
        beats the top rung; ties go to the trial recorded first. The same rule gives ``nasbook list``,
        :meth:`Storage.list_searches <nasbook.storage.Storage.list_searches>` and ``KnowledgeBase.searches``
        (:class:`nasbook.storage.TopFidelityBest`). A single-fidelity search: its best complete trial."""
        return self._best

    @property
    def metric(self) -> str:
        """Name of the objective, the task's ``metric`` (e.g. ``"val_accuracy"``): what ``trial.value`` holds."""
        return self.task.metric

    @property
    def mode(self) -> str:
        """``"max"`` or ``"min"``: whether a higher or a lower :attr:`metric` is better (the task's ``mode``)."""
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
        queued = self._queued_note()
        used += f", {queued}" if queued else ""
        warm = ""
        if self._warm:  # seeded, and how many of them ran (a budget smaller than warm_start runs only the first)
            tried = sum(1 for t in self._trials if "warm_start_rank" in t.attrs)
            warm = f", warm-started with {len(self._warm)}" + (f" ({tried} tried)" if tried < len(self._warm) else "")
        return (
            f"<Search {self.name!r} {self.state.value}{', closed' if self._closed else ''}: {used}, "
            f"{self.strategy.alias or type(self.strategy).__name__} on {self.task.name}{warm}{best}{self._read_only_note()}>"
        )

    def _queued_note(self) -> str:  # proposals the budget had no room for, run after extend(): repr and progress
        return _budget.queued_note(self)

    # -- the loop --------------------------------------------------------------------------------------
    def _better(self, a: float, b: float) -> bool:
        return a > b if self.task.mode == "max" else a < b

    def _record(self, trial: Trial) -> None:
        _loop.record(self, trial)

    def _spent(self, t_start: float, n_running: int = 0, epochs_running: int = 0) -> bool:
        if self._stop_flag:
            return True
        b = self.budget
        if b.trials is not None and len(self._trials) + n_running >= b.trials:
            return True
        if b.epochs is not None and self._epochs_spent + epochs_running >= b.epochs:
            return True
        if b.seconds is not None and self._elapsed_before + (time.monotonic() - t_start) >= b.seconds:
            return True
        return False

    def _take_number(self) -> int:
        number = self._next_number
        self._next_number += 1
        return number

    def _ask(self) -> Proposal | Wait | SpaceExhausted:
        """The next proposal, ``WAIT`` (the strategy waits for running trials) or the strategy's
        ``SpaceExhausted`` (the loop waits for a running trial if there is one, else ends the run and warns)."""
        return _loop.ask(self)

    def _finish(self, trial: Trial, pbar: Any, *, update: bool = False) -> None:
        """Commit a finished trial (durable first), then record it, tell the strategy, call back."""
        _loop.finish(self, trial, pbar, update=update)

    @checked_signature(hints=_BUDGET_HINTS)
    def run(self, *, progress: Any = "auto") -> Search:
        """Run until the budget is spent (or the strategy runs out of architectures). Returns self.

        Safe to call again: a finished search returns at once; after :meth:`extend` it goes on.
        Not re-entrant: called while this object's run is in progress, from one of its callbacks
        (or the task or strategy it runs) or from another thread, it raises NasbookError and runs
        nothing; in a callback, :meth:`stop` ends the run and :meth:`extend` makes it go on.
        Interrupting (Ctrl-C) stops after committing what finished and leaves the search
        resumable: trials still running are stored QUEUED, and the next ``run()`` (in this process
        or another, via :func:`load_search`) re-reads the store, replays it into a fresh strategy
        and goes on exactly as an uninterrupted seeded run would.

        Parameters
        ----------
        progress : {"auto", "none", "widget", "bar"} or bool
            ``"auto"`` (the default): a live widget in a notebook, a tqdm bar on stderr elsewhere (a
            script behaves like a notebook). ``"widget"`` asks for the widget; where none can render (a
            script, a terminal IPython) it prints a one-line summary when the run starts and ends instead of
            the widget's markup. ``"none"`` (or False) silences it.

        Returns
        -------
        Search
            ``self``, its state ``done`` (or ``interrupted`` after :meth:`stop`), so that
            ``Search(...).run().best`` reads the best trial.
        """
        if self._thread is not None and self._thread.is_alive() and threading.current_thread() is not self._thread:
            raise NasbookError(f"Search {self.name!r} is running in the background (start()): wait() or stop() it first.")
        _background.check_not_running(self, "run()")  # a callback of this run, or another thread during it
        self._check_resumable("run()")  # loaded read-only (its strategy not rebuilt): refused before any write
        self._closed = False  # used again: the store reconnects, the executor starts again
        if self._stale:
            _resume.read_trials(self)
        if threading.current_thread() is not self._thread:
            self._stop_flag = False  # a fresh run() in the foreground clears an earlier stop()
        from nasbook.display import Progress, make_progress

        claim = _background.claim_executor(self)  # another search runs on this executor object now: refused
        try:
            pbar = progress if isinstance(progress, Progress) else make_progress(self, progress)
            beat = _fresh.acquire(self, _loop.LEASE_TTL_S, _loop.HEARTBEAT_S)  # refused to a stale object; renewed by a thread
        except BaseException:
            _background.release_executor(claim)
            raise
        t_start = time.monotonic()
        final, refused, n_before = SearchState.INTERRUPTED, None, len(self._trials)
        _background.began(self)  # a close() from another thread now stops this run and waits for it
        try:
            _loop.run_trials(self, t_start, pbar, beat)  # its set-up (replay, state) too: _loop.set_up
            final = SearchState.DONE
        except BaseException as exc:
            self._stale = True  # the next run() starts from what the store holds, like a resume
            if isinstance(exc, _background.InterpreterExiting) and threading.current_thread() is not self._thread:
                raise SystemExit(str(exc)) from None  # ended at exit in a user's daemon thread: quietly, as sys.exit()
            raise
        finally:
            beat.stop()  # before the lease is given back: no heartbeat thread outlives the run
            try:
                if final is SearchState.DONE and self._stop_flag:
                    final = SearchState.INTERRUPTED  # stopped with stop(): resumable, not finished
                self.state = final
                if pbar is not None:
                    pbar.close()
                try:
                    if self._overtaken is None:
                        self._elapsed_before += time.monotonic() - t_start
                        config = self._config() if _provenance.note_session(self) else None  # e.g. CUDA, once it trained on a GPU
                        self._storage.update_search(self._search_id, state=final.value, elapsed_s=self._elapsed_before,
                                                    config=config, **self._owned_search)  # only while the lease is ours
                        try:  # its mirror too, before the lease goes: a run that takes it next writes after this
                            if self._kb is not None:
                                self._kb.state(final.value, self._elapsed_before)
                        finally:  # (whatever the kb's store did, the lease goes)
                            self._storage.release_lease(self._search_id, self._owner)
                    else:  # the other run's state and elapsed time stand (_fresh.py)
                        _fresh.adopt_stored(self)
                        self._storage.release_lease(self._search_id, self._owner)
                except SearchLockedError as exc:  # taken over before the heartbeat saw it: the other run's row stands
                    refused = _fresh.refused_end(self, len(self._trials) - n_before, exc)
                except (StorageError, OSError):  # pragma: no cover - never hide the original error
                    pass
            finally:
                _background.release_executor(claim)
                _background.ended(self)
        if refused is not None:  # the run itself ended well (an error of its own propagates, and stays the one raised)
            raise refused
        return self

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
        """Epochs trained over all trials, each counted by :meth:`Trial.epochs_trained <nasbook.trial.Trial.epochs_trained>`
        as ``plot_history(x="epochs")`` counts it (a continuation only its extra epochs, unless its task says it trained
        from scratch), including those trained by attempts lost with a dask worker that died mid-trial
        (``trial.lost_attempt_epochs``: dask ran the trial again elsewhere, and ``trial.epochs`` is the successful
        attempt's), also of a trial interrupted while it ran (stored QUEUED with them, run again first) or running when
        the process died (its RUNNING row has them from the poll that found the loss)."""
        return self._epochs_spent

    @property
    def running(self) -> dict[int, tuple[int, dict[str, float]]]:
        """Trials running now: ``{number: (last epoch reported, its metrics)}`` (live view)."""
        return dict(self._live)

    def close(self) -> None:
        """Release the executor's workers (a LocalCluster it started) and close the store it opened.

        A run in another thread (:meth:`start`, or a user's thread) is stopped and waited for, then released: the
        search ends ``interrupted`` and resumable, as after :meth:`stop` (an error of the run stays for
        :meth:`wait`), but its trials in flight are not trained to their end: one training in this process stops
        at its next report (an epoch) and is run again by the next ``run()``, one on a worker is cancelled and
        stored QUEUED (run first next time); a trial that never reports is waited for and stored. From the run's
        own thread (a callback) it raises NasbookError: stop() there.
        An executor object that another search is running on now is left open for that search's ``close()``.

        Only a store the search opened from a path or URL is closed (not a ``Storage`` or a knowledge
        base's store given to it, nor ``":memory:"``): on SQLite that folds the WAL into the file, so
        no ``-wal``/``-shm`` files stay. The search can still be read and run: the store reconnects. Its reprs
        say ``closed`` until :meth:`run` or :meth:`start` uses it again.
        On ``":memory:"`` or a server database without ``checkpoints=``, the temporary folder holding the
        multi-fidelity (or Growth) checkpoints is deleted: a later ``run()`` trains the promotions of trials
        finished before it from scratch (their ``epochs_run`` says so); so is a ``":memory:"`` search's own
        folder in the one given as ``checkpoints=``.
        """
        _background.end_for_close(self)
        _checkpoints.release(self)
        if getattr(self, "_executor_started", False):
            if not _background.executor_in_use(self):  # another search runs on it now: its own close() releases it
                self.executor.close()
            self._executor_started = False
        if getattr(self, "_owns_storage", False):
            self._storage.close()
        self._closed = True
