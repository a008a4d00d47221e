"""The local clusters nasbook starts stay quiet for their whole life, their shutdown included, and are
closed by nasbook itself when the interpreter exits (a script or a kernel that ends without
``search.close()``).

Two things made the exit of a script loud, about 15 ``distributed ... - INFO -`` lines on stderr:

* distributed silences a ``LocalCluster(silence_logs=...)`` by setting the level of the
  ``distributed`` logger's stream handlers, and sets the level it found back when that cluster
  closes. A second cluster alive at the same time finds the handlers silenced already and restores
  nothing; when the first one closes, the handlers speak INFO again while the second still runs, and
  its shutdown (``Retire worker``, ``Closing Nanny``, ``Lost all workers``, ``Closing scheduler``)
  is printed. That happens at exit (distributed's own atexit hook closes the clusters in any order)
  and after ``close()`` in the order the searches were made.
* Nothing of nasbook ran at exit: distributed's hook closed the cluster under the client nasbook
  still held.

Here the messages below ERROR from those handlers are dropped (a filter, the level the clusters'
``silence_logs`` asks for) while *any* cluster nasbook started is alive, counted, so the last one's
close lifts it; and an atexit hook, registered after distributed's (atexit runs hooks last-in
first-out, so it runs first), closes the executors still open as ``close()`` does. Errors still
show; warnings were already hidden by ``silence_logs`` while the clusters ran. (A search still running
in the background at exit is ended, and its executor closed, earlier: ``nasbook.search._background``.)

One ERROR comes from the workers themselves, at random, when such a cluster closes (about one exit in
eight here, on a loaded machine): ``distributed.worker - ERROR - Failed to communicate with scheduler
during heartbeat`` and a 40-line traceback. The cluster closes its workers before its scheduler; a
worker marks itself ``closing``, then closes its connection pool, which cancels a heartbeat still
connecting to the scheduler (the TLS handshake is slow), and the heartbeat logs that as an error. It
says nothing: the worker is going anyway, by its own close. :func:`dask_setup` (a preload of the
workers nasbook starts, :func:`nasbook.executors._cluster.training_worker_config`) drops that one
message while the worker logging it is closing or closed; the same message from a running worker (a
scheduler that went away) still shows, as does every other error.

And one from the scheduler, when it runs in this process (a local cluster): a trial that had just
finished when the search cancelled it (Ctrl-C, a timeout, the interpreter's exit) is being fetched by
the executor (``Client.gather``) while the cancel makes the scheduler forget it, and the scheduler
logs ``distributed.scheduler - ERROR - Couldn't gather keys: {KEY: 'forgotten'}``. The search meant
it: the trial is stored QUEUED and runs again. :func:`cancelled` records each key the executor
cancels, and that message is dropped when every key it names is one of them.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import weakref
from collections.abc import Mapping
from typing import Any

_lock = threading.Lock()
_held = 0
_handlers: list[logging.Handler] = []
_open: weakref.WeakSet[Any] = weakref.WeakSet()
_registered = False
_exiting = False


#: distributed.worker's message (the record's ``msg``) when a heartbeat fails with an OSError
HEARTBEAT_FAILED = "Failed to communicate with scheduler during heartbeat."
_CLOSING = frozenset({"closing", "closing_gracefully", "closed"})  # distributed.core.Status names


class _HeartbeatCutByClose(logging.Filter):
    """In a worker process: drops :data:`HEARTBEAT_FAILED` while that worker is closing (or closed)."""

    def __init__(self, worker: Any):
        super().__init__()
        self._worker = weakref.ref(worker)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != HEARTBEAT_FAILED:
            return True
        worker = self._worker()
        return worker is not None and getattr(getattr(worker, "status", None), "name", None) not in _CLOSING


def dask_setup(worker: Any) -> None:
    """A dask worker preload (the workers of the clusters nasbook starts): a heartbeat that the worker's own
    close cut short is not logged as an error (see the module's docstring)."""
    log = logging.getLogger("distributed.worker")
    for f in list(log.filters):  # a worker restarted in the same process: one filter, for the new worker
        if isinstance(f, _HeartbeatCutByClose):
            log.removeFilter(f)
    log.addFilter(_HeartbeatCutByClose(worker))


#: distributed.scheduler's message (the record's ``msg``) when a gather asks for keys it no longer has
GATHER_FAILED = "Couldn't gather keys: %s"
_MAX_CANCELLED = 10_000
_cancelled: dict[str, None] = {}  # trial keys nasbook cancelled, oldest first (unique per submission)
_gather_filtered = False


class _CancelledGather(logging.Filter):
    """Drops :data:`GATHER_FAILED` when each key it names is a trial this process cancelled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != GATHER_FAILED:
            return True
        failed = record.args  # logging keeps a lone mapping argument as the args themselves
        if not isinstance(failed, Mapping) or not failed:
            return True
        with _lock:
            return not all(key in _cancelled for key in failed)


def cancelled(key: str) -> None:
    """The executor cancels the trial under ``key``: a gather of it that fails now is expected."""
    global _gather_filtered
    with _lock:
        _cancelled[key] = None
        if len(_cancelled) > _MAX_CANCELLED:
            del _cancelled[next(iter(_cancelled))]
        if not _gather_filtered:
            _gather_filtered = True
            logging.getLogger("distributed.scheduler").addFilter(_CancelledGather())


class _BelowError(logging.Filter):
    """Drops records below ERROR (what ``LocalCluster(silence_logs=logging.ERROR)`` lets through)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


_FILTER = _BelowError()


def hold() -> None:
    """One more local cluster alive: quiet distributed's stream handlers (from the first one on)."""
    global _held
    with _lock:
        _held += 1
        if _held == 1:
            log = logging.getLogger("distributed")
            _handlers[:] = [h for h in log.handlers if isinstance(h, logging.StreamHandler)]
            for h in _handlers:
                h.addFilter(_FILTER)


def release() -> None:
    """One local cluster fewer, closed: the last one gives the handlers back as they were."""
    global _held
    with _lock:
        if _held == 0:
            return
        _held -= 1
        if _held == 0:
            for h in _handlers:
                h.removeFilter(_FILTER)
            _handlers.clear()


def held() -> int:
    """How many local clusters nasbook started are alive now (their logs quieted)."""
    return _held


def exiting() -> bool:
    """Whether the interpreter is exiting (nasbook's exit hook has run): no cluster starts now."""
    return _exiting


def register(executor: Any) -> None:
    """Close ``executor`` at interpreter exit if it is still open then (weakly held: one the program
    dropped is not kept alive). The exit hook is registered once, after distributed's, so it runs first."""
    global _registered
    with _lock:
        _open.add(executor)
        if not _registered:
            atexit.register(_close_at_exit)
            _registered = True


def unregister(executor: Any) -> None:
    """``executor`` was closed: nothing to do for it at exit."""
    with _lock:
        _open.discard(executor)


def _close_at_exit() -> None:
    global _exiting
    _exiting = True
    with _lock:
        executors = list(_open)
    for executor in executors:
        with contextlib.suppress(Exception):
            executor.close()
