"""The heartbeat of a run's lease: a daemon thread that renews it for as long as ``run()`` runs.

A run holds its search's lease (``nasbook_leases``, :mod:`nasbook.storage._lease`); a process on another
host takes a lease over once its heartbeat is older than ``LEASE_TTL_S`` (60 s). The loop renewed it only
between its polls (:mod:`._loop`), so whatever held the loop longer than that let a teammate's process (a
shared PostgreSQL, a SQLite file on a shared folder) take the search over while this run still ran, and
both then wrote trials and state: an in-process trial (``executor="local"``: real training takes minutes),
starting a dask cluster and importing on its workers, replaying a long search into its strategy, a slow
callback. On the run's own host a live process keeps its lease without heartbeats, which hid it.

A :class:`Heartbeat`, made once the run holds the lease (:func:`._fresh.acquire`), starts a daemon thread that renews it every ``interval_s``
on a connection of its own (:func:`~nasbook.storage.renew_lease_apart`: a SQLAlchemy connection is one
thread's at a time); :meth:`Heartbeat.stop` (first in ``run()``'s ``finally``) ends it and waits for it,
so no thread outlives the run and none renews a lease given back. A renewal that fails (the database busy
or unreachable for a moment) is logged and tried again at the next beat: the lease is taken over only
after ``LEASE_TTL_S`` without one. A renewal that finds the lease gone or another owner's ends the thread
and keeps the :class:`~nasbook.SearchLockedError`; :meth:`Heartbeat.check`, before the run's next write (each
of its set-up's writes, :func:`._loop.set_up`, and the loop's next poll), raises it, and the run stops as an
overtaken one does (:mod:`._fresh`): nothing more is written, and a trial that finished meanwhile is named
in :class:`~nasbook.SearchOvertaken`, not stored over the other run's rows. A trial training in the run's
process (``executor="local"``, which holds the loop in ``submit``) is stopped at its next report
(:meth:`Heartbeat.stop_trial` raises :class:`LeaseLost` there, as the interpreter's exit does; Lightning
passes it on), so the run ends within an epoch instead of training on for a result that is not stored; a
trial that never reports trains to its end, and its result is named, not stored.

Each renewal calls the store's own :meth:`~nasbook.storage.Storage.renew_lease`, so a subclass that overrides
it is heard at every beat, as it is in the loop; in the heartbeat's thread its ``self.conn`` is a connection
of that thread's own (:func:`~nasbook.storage.renew_lease_apart`).

An in-memory store gets no thread: no other process reaches it, and its one connection cannot be shared.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from nasbook._errors import SearchLockedError
from nasbook.storage import Storage, renew_lease_apart, renews_lease_apart

_log = logging.getLogger(__name__)

#: the most seconds :meth:`Heartbeat.stop` waits for a renewal in progress (the database's own timeouts,
#: SQLite's busy timeout and the server connect timeout, are 10 s each); the thread is a daemon either way
JOIN_S = 30.0


class LeaseLost(BaseException):
    """Raised in a trial training in the run's process, at its next report, once the heartbeat found the
    search's lease taken over (:meth:`Heartbeat.stop_trial`): the trial stops there instead of training to its
    end for a result that is not stored, and the loop ends the run with :class:`~nasbook.SearchOvertaken`.

    A BaseException, like :class:`~._background.InterpreterExiting`, so that no ``except Exception`` on its way
    (the trial's own error handling, Lightning's) turns it into a failed trial. ``error``: the heartbeat's
    :class:`~nasbook.SearchLockedError`.
    """

    def __init__(self, error: SearchLockedError):
        super().__init__(str(error))
        self.error = error


class Heartbeat:
    """Renews ``owner``'s lease on search ``search_id`` of ``st`` every ``interval_s`` until :meth:`stop`."""

    def __init__(self, st: Storage, search_id: int, owner: str, name: str, interval_s: float):
        self._st, self._sid, self._owner, self._name = st, search_id, owner, name
        self._interval = max(float(interval_s), 0.01)  # 0 (a test's "every poll") must not spin
        self._done = threading.Event()
        self.lost: SearchLockedError | None = None  # the lease was found gone or another owner's
        self._thread: threading.Thread | None = None
        self._also: list[Callable[[], None]] = []  # renewed at each beat too, best effort (a kb mirror's lease)
        if renews_lease_apart(st):
            thread = threading.Thread(target=self._beat, name=f"nasbook-lease-{name}", daemon=True)
            try:
                thread.start()
            except RuntimeError as exc:  # "can't start new thread": the loop still renews between its polls
                _log.warning("nasbook: search %r runs without a lease heartbeat thread: %s", name, exc)
            else:
                self._thread = thread

    def _beat(self) -> None:
        while not self._done.wait(self._interval):
            try:
                renew_lease_apart(self._st, self._sid, self._owner, self._name)
            except SearchLockedError as exc:  # taken over (or released): the run learns it at its next poll
                self.lost = exc
                return
            except Exception as exc:  # noqa: BLE001 - never into the run: a passing failure is tried again
                _log.warning("nasbook: renewing the lease of search %r failed (tried again in %g s; another "
                             "host takes the search over after its lease TTL without one): %s",
                             self._name, self._interval, exc)
            for renew in list(self._also):  # after the search's own lease: a slow kb never delays it
                try:
                    renew()
                except Exception as exc:  # noqa: BLE001 - never into the run, never the search's own lease
                    _log.debug("nasbook: a heartbeat's extra renewal of search %r failed: %s", self._name, exc)

    def also(self, renew: Callable[[], None]) -> None:
        """Call ``renew`` at each beat too (a knowledge base mirror's lease): best effort, its errors only logged."""
        self._also.append(renew)

    def check(self) -> None:
        """Raise the :class:`~nasbook.SearchLockedError` of a renewal that found the lease taken over, if any."""
        if self.lost is not None:
            raise self.lost

    def stop_trial(self) -> None:
        """Raise :class:`LeaseLost` if a renewal found the lease taken over: called at each report of a trial that
        trains in the run's process (``decide`` in :func:`._loop.run_trials`), which then stops there."""
        if self.lost is not None:
            raise LeaseLost(self.lost)

    def stop(self) -> None:
        """End the thread and wait for it (at most :data:`JOIN_S`); never raises."""
        self._done.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_S)
