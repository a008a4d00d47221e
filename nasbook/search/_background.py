"""A :class:`~nasbook.search.Search` run in a background thread: ``start``, ``wait`` and ``stop``.

:class:`Background` is a mixin of ``Search``; the thread calls ``Search.run`` itself, so a search
started in the background commits, resumes and ends exactly as one run in the foreground.

A script (or a kernel) may end while such a search runs, without ``wait()`` or ``stop()``. The
thread is a daemon, so the interpreter does not wait for it, and Python ends a program in this
order: (1) ``threading``'s own exit hooks run, last registered first; one of them is
``concurrent.futures``' which shuts every ``ThreadPoolExecutor`` down, distributed's offload
executor included; (2) non-daemon threads are joined; (3) ``atexit`` hooks run, last registered
first (nasbook's closing of the clusters it started, then distributed's); (4) daemon threads are
frozen where they are. The search's thread ran on through (1) to (3): every trial it submitted after
(1) reached a scheduler (in this process, for a local cluster) that takes a submitted task in on that
offload pool, now shut: it logged ``ERROR - cannot schedule new futures after shutdown`` and erred
the task, so the trial was stored FAILED and lost to the budget (8 runs of 10 lost one or more; with
a user's own ``Client``, which distributed closes last, dozens), the search stayed ``running``, and
(3) closed its cluster under it.

:func:`_stop_at_exit` is therefore a ``threading`` exit hook, registered after ``concurrent.futures``'
(so it runs before it, while everything still works): it tells each background search to end
(:class:`InterpreterExiting` is raised in its thread at the loop's next turn, or at a trial's next
report in this process), and the run then ends as an interrupted one does: the trials in flight are
cancelled and stored QUEUED, the search ``interrupted`` and its lease given back, so
``nasbook.load_search(name, storage).run()`` re-runs them first and nothing committed is lost. The
hook waits for the threads (at most :data:`EXIT_WAIT_S`), then closes each stopped search's
executor as ``search.close()`` does: a cluster nasbook started is closed (and the client it opened on a
user's cluster object), a user's ``Client`` or cluster is not (distributed's own exit hook closes it, later).
A search still in a trial that never reports after that wait is left to the old order, and so is its temporary checkpoint folder (``":memory:"``, a server
database): the exit finalizer that deletes it is turned off (deleted under the run, its next checkpoint
write failed), and the next process that makes such a folder there sweeps it once this one is gone. The same
holds for a ``run()`` in a user's own daemon thread (``threading.Thread(target=search.run, daemon=True)``): every
run is tracked from :func:`began` to :func:`ended`, whatever its thread, and the hook ends each one still going in
a daemon thread as it ends ``start()``'s (the interpreter would freeze it mid-run, its search left ``running`` in
the store with a lease that only expires), waits for it, closes it, and keeps the folder of one still going after
that wait; its ``run()`` raises ``SystemExit`` there, so the user's thread ends quietly. A run in a non-daemon
thread is left alone: the interpreter joins it after the hook.
A run still in its set-up when the hook comes (its folder not made or not handed to the search yet) keeps the
folder made later (:func:`keep_folder`).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, cast

from nasbook._errors import ExecutorError, InvalidParameterError, NasbookError, checked_signature
from nasbook.search._budget import BUDGET_HINTS

if TYPE_CHECKING:
    from nasbook.search._search import Search


#: the most seconds the interpreter's exit waits for the searches running in the background to end
#: (a trial running in this process ends at its next epoch's report; a table look-up at once)
EXIT_WAIT_S = 30.0

_lock = threading.Lock()
_running: set[Background] = set()  # searches whose thread runs now (the thread holds them anyway)
_runs: set[Background] = set()  # searches whose run() is in progress, in any thread (began() to ended())
_hooked = False
_executors: dict[int, tuple[int, str]] = {}  # id() of an executor object -> (id, name) of the search whose run() uses it


class InterpreterExiting(BaseException):
    """Raised in the thread of a search running in a daemon thread (``start()``'s, or a user's
    ``Thread(target=search.run, daemon=True)``) when the interpreter exits: ends the run as Ctrl-C does.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on its way (a trial's
    own error handling, Lightning's) turns it into a failed trial. ``run()`` in a user's thread raises it on as
    a plain ``SystemExit``, so that the thread ends quietly (``threading`` prints a traceback for anything else).
    """


class Closing(BaseException):
    """Raised in a run's thread when ``close()`` is called from another thread (:func:`end_for_close`): at the
    loop's next turn, or at the next report of a trial training in the run's process, which stops there. The
    loop then ends as after Ctrl-C (trials in flight on workers cancelled and stored QUEUED) but returns, the
    search ``interrupted`` as after :meth:`~Background.stop`. A BaseException for the reason
    :class:`InterpreterExiting` is one."""


def check_not_running(s: Background, what: str) -> None:
    """Raise NasbookError for ``what`` (``"run()"``, ``"start()"``) while this object's ``run()`` is in progress.

    A ``run()`` from a callback of its own run (the same thread) ran a second loop inside the first: it
    ran the rest of the budget, stored the search ``done``, gave its lease back and added its time to
    ``elapsed_s``; the outer run then went on without the lease and added that time again (4 trials of
    0.1 s: 0.66 s counted in 0.46 s). On an executor with trials in flight, the inner loop would poll
    their results and skip them, as trials it had not submitted. From another thread it is a second
    runner of one object.
    """
    thread = s._run_thread
    if thread is None:
        return
    if thread is threading.current_thread():
        raise NasbookError(
            f"Search {s.name!r}: {what} was called from inside its own run() (a callback, or the task or strategy "
            "it runs), which would start a second loop over the same trials, executor and lease; nothing was run. "
            "In a callback, search.stop() ends the run and search.extend(...) makes it go on; call run() again "
            "after it has returned.")
    raise NasbookError(f"Search {s.name!r}: {what} was called from another thread while its run() is in progress "
                       f"(in thread {thread.name!r}); wait for that run() to return, or call search.stop() first.")


def claim_executor(s: Background, claim: bool = True) -> int:
    """Note that ``s``'s run uses its executor object (``claim=False``: only check that none does); returns the key
    :func:`release_executor` takes.

    One executor object serves one run at a time: it holds that run's events and trial numbers, so two searches
    running at once on it (``start()`` twice with one ``LocalExecutor()`` or ``DaskExecutor(client)``) took each
    other's results and both waited forever. Refused with :class:`~nasbook.ExecutorError` before anything runs.
    """
    ex = s.executor
    with _lock:
        other = _executors.get(id(ex))
        if other is not None and other[0] != id(s):
            raise ExecutorError(
                f"Search {s.name!r}: executor={ex!r} is running search {other[1]!r} now, and one executor object runs "
                "one search at a time (two would take each other's results); nothing was run. Give each search its "
                "own: executor='local', or executor=client (a distributed.Client), executor=cluster (a cluster object) or a "
                "DaskExecutor(...) each for the same dask cluster.")
        if claim:
            _executors[id(ex)] = (id(s), s.name)
    return id(ex)


def executor_in_use(s: Background) -> bool:
    """True while another search's run uses ``s``'s executor object (``s.close()`` then leaves it open: closing
    a search that ran on it earlier shut the workers under the running one, which then waited forever)."""
    with _lock:
        other = _executors.get(id(s.executor))
    return other is not None and other[0] != id(s)


def release_executor(key: int | None) -> None:
    """The run that :func:`claim_executor` noted has ended (safe to call twice, or with None)."""
    with _lock:
        _executors.pop(key, None)  # type: ignore[arg-type]


def _track(search: Background) -> None:
    with _lock:
        _running.add(search)
    _hook()


def _hook() -> None:
    """Register :func:`_stop_at_exit` as a ``threading`` exit hook, once (at the first ``start()`` or ``run()``)."""
    global _hooked
    with _lock:
        if _hooked:
            return
        _hooked = True
    # imported first, so that its exit hook (which shuts the thread pools down) is registered before
    # ours: threading runs them last registered first, and ours must run while the pools still work
    import concurrent.futures.thread  # noqa: F401

    register = getattr(threading, "_register_atexit", None)  # CPython >= 3.9; private but what concurrent.futures uses
    try:
        if register is not None:
            register(_stop_at_exit)
        else:  # pragma: no cover - another interpreter: at least before distributed's atexit hooks
            atexit.register(_stop_at_exit)
    except RuntimeError:  # pragma: no cover - started while the interpreter is already exiting
        pass


def _untrack(search: Background) -> None:
    with _lock:
        _running.discard(search)


def _in_daemon_run(s: Background, here: threading.Thread) -> threading.Thread | None:
    """The daemon thread (not ``here``) in which ``s``'s run is still going, if any."""
    thread = s._run_thread or s._thread
    if thread is None or thread is here or not thread.daemon or not thread.is_alive():
        return None
    return thread


def keep_folder(s: Any) -> None:
    """Keep the temporary checkpoint folder of ``s`` at the interpreter's exit, the one it holds now and one it makes
    later (a run still in its set-up: :func:`nasbook.search._checkpoints.open_store` hands it the folder then)."""
    s._keep_folder = True
    keep = getattr(getattr(s, "_checkpoints", None), "keep_at_exit", None)
    if keep is not None:  # swept by a later process once this one is gone
        keep()


def _keep_folders_of_daemon_runs() -> None:
    """Turn off the exit finalizer of the temporary checkpoint folder of every run still going in a daemon thread
    (``start()``'s or ``run()`` in a user's own ``Thread(daemon=True)`` that did not end in time): the interpreter
    does not wait for such a thread, and the folder deleted at exit under it failed its next checkpoint write. A run
    in a non-daemon thread is joined before the exit finalizers run: its folder is deleted as usual."""
    here = threading.current_thread()
    with _lock:
        runs = list(_runs | _running)
    for s in runs:
        if _in_daemon_run(s, here) is not None:
            keep_folder(s)


def _stop_at_exit() -> None:
    """End the searches still running in a daemon thread (``start()``'s, and ``run()`` in a user's daemon thread),
    store their state, then close them; keep the temporary checkpoint folders of the runs still going after the wait
    (:func:`_keep_folders_of_daemon_runs`)."""
    here = threading.current_thread()
    with _lock:
        searches = list(_running)
        runs = [s for s in _runs if s not in _running and _in_daemon_run(s, here) is not None]  # a user's thread
    if not searches and not runs:
        _keep_folders_of_daemon_runs()
        return
    for s in searches + runs:
        s._exiting = True  # their threads raise InterpreterExiting at the loop's next turn
    deadline = time.monotonic() + EXIT_WAIT_S
    try:
        for s in searches:
            thread = s._thread
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        for s in runs:  # the user's thread is the user's: wait for its run() to end, not for the thread
            s._run_idle.wait(max(0.0, deadline - time.monotonic()))
    except KeyboardInterrupt:  # Ctrl-C while waiting: exit now (what has not ended is left as it is)
        pass
    for s in searches + runs:
        thread = s._thread
        if s in runs and not s._run_idle.is_set():
            continue  # still in a trial that does not report: not closed under it, its folder kept (below)
        if s not in runs and thread is not None and thread.is_alive():  # still in a trial that does not report:
            continue  # its executor is not closed under it, nor its temporary checkpoint folder deleted (below)
        try:  # in this order: the search has stored its state; now its workers go (a user's Client stays)
            s.close()
        except Exception:  # an exit hook must not raise (the hooks after it would not run): said, not hidden
            logging.getLogger(__name__).exception("nasbook: closing the executor of search %r at exit failed", s.name)
    _keep_folders_of_daemon_runs()


def began(s: Background) -> None:
    """``run()`` begins in this thread: a ``close()`` from another one now stops it and waits (:func:`end_for_close`)."""
    s._run_idle.clear()
    s._run_thread = threading.current_thread()
    with _lock:
        _runs.add(s)
    _hook()  # (a run in a user's daemon thread is ended at exit, as start()'s is)


def ended(s: Background) -> None:
    """``run()`` has stored its state and given its lease back: a ``close()`` waiting for it goes on."""
    s._run_thread = None
    with _lock:
        _runs.discard(s)
    s._run_idle.set()


def end_for_close(s: Background) -> None:
    """``close()``: stop a run in another thread (``start()``'s, or ``run()`` in a user's thread) and wait for it,
    so its folder, workers and store are not released under the trials in flight (the run deleted its
    checkpoints' folder under them, then wrote new ones in a folder nothing deleted, and ran on to the end of
    its budget on a closed store). It ends as :meth:`stop` makes it, interrupted and resumable, but without
    training its trials in flight to their end (:class:`Closing`), as Ctrl-C ends a run: one training in the
    run's process stops at its next report (not stored: the next ``run()`` replays the strategy, which proposes
    it again), one on a worker is cancelled at the loop's next turn and stored QUEUED (run first next time).
    One that never reports is waited for, and stored. Refused from the run's own thread: it cannot wait for
    itself."""
    here = threading.current_thread()
    runner, bg = getattr(s, "_run_thread", None), s._thread
    if here is runner or here is bg:
        raise NasbookError(f"Search {s.name!r}: close() was called from its own run (a callback), which would release "
                           "its checkpoints, workers and store under it; call search.stop() there, and close() once "
                           "the run has returned. Nothing was released.")
    if runner is None and (bg is None or not bg.is_alive()):
        return
    s._stop_flag = True  # the run ends as with stop(): interrupted, resumable, ...
    s._closing = True  # ... without waiting for its trials in flight: stopped at their next report (Closing)
    try:
        if runner is not None:
            s._run_idle.wait()
        if bg is not None:
            bg.join()  # (its error, if any, stays for wait())
    finally:
        s._closing = False  # the search can run again after close()


class Background:
    """Mixin of :class:`~nasbook.search.Search`: run it in a thread while the notebook stays usable."""

    if TYPE_CHECKING:  # set by Search
        name: str
        executor: Any
        _thread: threading.Thread | None
        _bg_error: BaseException | None
        _stop_flag: bool
        _exiting: bool
        _closing: bool
        _closed: bool
        _run_thread: threading.Thread | None
        _run_idle: threading.Event

        def run(self, *, progress: Any = "auto") -> Search: ...

        def close(self) -> None: ...

        def _check_resumable(self, what: str) -> None: ...

    @checked_signature(hints=BUDGET_HINTS, owner="Search.start")
    def start(self, *, progress: str | bool = "auto") -> Search:
        """Run in a background thread and return at once; the notebook stays usable.

        Look at ``search`` (its repr, ``trials``, ``best``, ``running``) while it runs;
        :meth:`wait` blocks until it ends, :meth:`stop` ends it after the trials in flight.
        A script (or kernel) that ends while it runs ends it too, as Ctrl-C would: the trials in
        flight are stored QUEUED and ``nasbook.load_search(name, storage).run()`` goes on from there.

        Parameters
        ----------
        progress : {"auto", "none", "widget", "bar"} or bool, default "auto"
            As in :meth:`run`: ``"auto"`` shows a live widget in a notebook (made in the calling
            cell's output) and a tqdm bar on stderr elsewhere; ``"none"`` (or False) silences it.

        Returns
        -------
        Search
            ``self``, already running; a search still running in the background raises NasbookError.
        """
        if self._thread is not None and self._thread.is_alive():
            raise NasbookError(f"Search {self.name!r} is already running in the background.")
        check_not_running(self, "start()")  # a foreground run() in progress: its callback, or another thread
        self._check_resumable("start()")  # loaded read-only: refused here, not later in wait()
        claim_executor(self, claim=False)  # its executor runs another search now: refused here, not in wait()
        self._closed = False  # used again: a repr in this cell no longer says closed
        self._stop_flag = False
        self._exiting = False
        self._bg_error = None

        from nasbook.display import make_progress

        # the widget is made here, in the notebook's own thread, so that the front-end hears of
        # it with this cell's output; the background thread only updates it
        view = make_progress(cast("Search", self), progress)

        def target() -> None:
            try:
                self.run(progress=view if view is not None else "none")
            except BaseException as exc:  # kept for wait(): a thread cannot raise into the notebook
                self._bg_error = exc
            finally:
                _untrack(self)

        # a daemon: the interpreter does not wait for it, but its exit hook ends it (_stop_at_exit)
        self._thread = threading.Thread(target=target, name=f"nasbook-{self.name}", daemon=True)
        _track(self)
        try:
            self._thread.start()
        except BaseException:
            _untrack(self)
            raise
        return cast("Search", self)

    @checked_signature(owner="Search.wait")
    def wait(self, timeout_s: float | None = None) -> Search:
        """Block until a search started with :meth:`start` ends; re-raise its error, if any.

        Parameters
        ----------
        timeout_s : float or None, default None
            The most seconds to wait (>= 0); None waits until the search ends. After a timeout
            the search goes on running (``search.running`` and the repr show where it is).

        Returns
        -------
        Search
            ``self``; at once when nothing runs in the background. An error that ended the
            background run (``run``'s own) is raised here, once.
        """
        if timeout_s is not None and (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float))
                                      or not timeout_s >= 0):
            raise InvalidParameterError(f"Search.wait(timeout_s=...) must be a number of seconds >= 0 or None; "
                                        f"got {timeout_s!r}.")
        if self._thread is not None and self._thread is threading.current_thread():
            raise NasbookError(f"Search {self.name!r}: wait() was called from its own background run (a callback), "
                               "which would wait for itself; call search.stop() there to end the run.")
        if self._thread is not None:
            self._thread.join(timeout_s)
            if not self._thread.is_alive():
                self._thread = None
        if self._bg_error is not None:
            err, self._bg_error = self._bg_error, None
            raise err
        return cast("Search", self)

    def stop(self) -> Search:
        """Stop a running search after the trials in flight; it stays resumable.

        Called from a callback (``fn(search, trial)``), of a foreground or a background run, it
        returns at once and the run ends after the trials in flight.

        Returns
        -------
        Search
            ``self``, once the background run has ended (at once when none runs, or when called
            from the run's own thread): a stopped search is ``interrupted`` and resumable, and
            :meth:`run` or :meth:`start` goes on from there.
        """
        self._stop_flag = True
        if self._thread is not None and self._thread is threading.current_thread():
            return cast("Search", self)  # a callback of the background run: it cannot wait for itself
        return self.wait()
