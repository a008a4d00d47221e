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
show; warnings were already hidden by ``silence_logs`` while the clusters ran.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import weakref
from typing import Any

_lock = threading.Lock()
_held = 0
_handlers: list[logging.Handler] = []
_open: weakref.WeakSet[Any] = weakref.WeakSet()
_registered = False
_exiting = False


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
