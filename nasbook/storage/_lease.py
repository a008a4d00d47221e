"""One process at a time per search: a lease row (owner token, host, pid, heartbeat time).

On this host a holder whose process is alive keeps the lease and one whose process is gone loses it
at once; a holder on another host loses it when its heartbeat is older than ``ttl_s``.

Taking a lease is atomic on any database without locks held across statements: a free search is
taken by an INSERT (the primary key lets exactly one of several racing processes in), a stale
one by a compare-and-swap UPDATE that names the holder it read (``owner`` and ``heartbeat_at``),
so of several processes taking over the same stale lease exactly one sees ``rowcount == 1``.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from nasbook._errors import InvalidParameterError, SearchLockedError
from nasbook.storage._schema import leases

_L = leases.c


@dataclass(frozen=True)
class Holder:
    owner: str
    hostname: str
    pid: int
    heartbeat_at: float


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a zombie counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return False
    return True


def check_args(owner: Any, ttl_s: Any = 1.0) -> None:
    if not isinstance(owner, str) or not owner or len(owner) > 64:
        raise InvalidParameterError(
            f"lease owner must be a non-empty string of at most 64 characters (e.g. uuid.uuid4().hex); got {owner!r}."
        )
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, (int, float)) or not ttl_s > 0:
        raise InvalidParameterError(f"ttl_s must be a number of seconds > 0; got {ttl_s!r}.")


def holder(conn: sa.Connection, search_id: int) -> Holder | None:
    row = conn.execute(
        sa.select(_L.owner, _L.hostname, _L.pid, _L.heartbeat_at).where(_L.search_id == search_id)
    ).first()
    return None if row is None else Holder(str(row.owner), str(row.hostname), int(row.pid), float(row.heartbeat_at))


#: a live process on this host keeps its lease however old its heartbeat (a run's heartbeat thread
#: renews it, but a process stopped in a debugger or by SIGSTOP renews nothing); past this age the
#: pid is taken to be reused
SAME_HOST_MAX_AGE_S = 24 * 3600.0


#: the lease's time to live for a run (``nasbook.search._loop.LEASE_TTL_S``; a run renews it every 10 s)
RUN_TTL_S = 60.0


def running_now(read: Callable[[Any], Any], search_ids: list[int]) -> set[int]:
    """Which of ``search_ids`` (stored as running) may still be running (``read``: the storage's read of a statement's
    rows): all but those whose lease a run would take over as its holder's (a process on this host that is gone, or
    from another host no heartbeat within :data:`RUN_TTL_S`). A search with no lease row here is kept: a knowledge
    base's mirror whose run could not take the mirror's lease holds none, so this store cannot tell (a run stores its end
    before it releases its lease, so a run of this store killed in between reads as it stored)."""
    if not search_ids:
        return set()
    rows = read(sa.select(_L.search_id, _L.owner, _L.hostname, _L.pid, _L.heartbeat_at).where(_L.search_id.in_(search_ids)))
    now = time.time()
    dead = {int(r.search_id) for r in rows
            if _stale(Holder(str(r.owner), str(r.hostname), int(r.pid), float(r.heartbeat_at)), "", RUN_TTL_S, now)}
    return set(search_ids) - dead


def _stale(h: Holder, owner: str, ttl_s: float, now: float) -> bool:
    if h.owner == owner:
        return True
    if h.hostname == socket.gethostname():  # ask the OS rather than the clock
        return not pid_alive(h.pid) or h.heartbeat_at < now - max(ttl_s, SAME_HOST_MAX_AGE_S)
    return h.heartbeat_at < now - ttl_s


def locked_error(name: str, h: Holder | None, ttl_s: float | None = None) -> SearchLockedError:
    if h is None:
        return SearchLockedError(f"search {name!r}: this process no longer holds its lease (it was released).")
    age = max(0.0, time.time() - h.heartbeat_at)
    expiry = f"; a lease not renewed for {ttl_s:g} s is taken over" if ttl_s is not None else ""
    return SearchLockedError(
        f"search {name!r} is being run by another process (pid {h.pid} on host {h.hostname!r}, last heartbeat "
        f"{age:.0f} s ago); wait for it to finish, or stop it (and then load the search again){expiry}."
    )


def acquire(conn: sa.Connection, search_id: int, owner: str, ttl_s: float, name: str) -> None:
    """Take the lease or raise SearchLockedError; commits. See the module docstring."""
    me = {"owner": owner, "hostname": socket.gethostname(), "pid": os.getpid()}
    for _ in range(5):  # the holder may change between our statements: look again
        now = time.time()
        try:
            conn.execute(leases.insert().values(search_id=search_id, acquired_at=now, heartbeat_at=now, **me))
            conn.commit()
            return
        except IntegrityError:
            conn.rollback()
        h = holder(conn, search_id)
        conn.commit()
        if h is None:
            continue  # released meanwhile: try the INSERT again
        if not _stale(h, owner, ttl_s, now):
            raise locked_error(name, h, ttl_s)
        res = conn.execute(
            leases.update()
            .where(_L.search_id == search_id, _L.owner == h.owner, _L.heartbeat_at == h.heartbeat_at)
            .values(acquired_at=now, heartbeat_at=now, **me)
        )
        conn.commit()
        if res.rowcount == 1:
            return
    raise locked_error(name, holder(conn, search_id), ttl_s)


def held_by(search_id: int, owner: str) -> sa.ColumnElement[bool]:
    """The condition "``owner`` holds the lease on search ``search_id``", for the WHERE of a run's UPDATE of its
    search's row (a compare-and-set: a run taken over writes nothing). On PostgreSQL the lease row is locked
    FOR SHARE until the write commits, so a takeover committed while the UPDATE ran is seen (read committed
    re-reads a locked row), and one that comes later waits for it; SQLite writes one transaction at a time."""
    return sa.exists(
        sa.select(_L.search_id).where(_L.search_id == search_id, _L.owner == owner).with_for_update(read=True)
    )


def renew(conn: sa.Connection, search_id: int, owner: str, name_of: Callable[[int], str]) -> None:
    res = conn.execute(
        leases.update().where(_L.search_id == search_id, _L.owner == owner).values(heartbeat_at=time.time())
    )
    conn.commit()
    if res.rowcount != 1:
        h = holder(conn, search_id)
        conn.commit()
        raise locked_error(name_of(search_id), h)
    checkpoint(conn)


def renew_apart(st: Any, search_id: int, owner: str, name: str) -> None:
    """Heartbeat of ``owner``'s lease on search ``search_id`` of ``st``, from a thread other than the one using
    ``st.conn``: ``st.renew_lease(search_id, owner)``, called with ``st.conn`` in this thread being a connection
    of its own, checked out of ``st``'s engine and given back (``Storage._own_connection``).

    The storage's public method, so a :class:`~nasbook.storage.Storage` subclass that overrides
    ``renew_lease`` (to log heartbeats, or to renew something of its own with the lease) is heard at every
    heartbeat, as in the loop; it runs in the heartbeat's thread, where ``self.conn`` is that thread's own.
    A SQLAlchemy connection belongs to one thread at a time, and a run's thread may be in the middle of a
    write on the shared one; the engine's pool hands this call another connection (SQLite waits for the
    run's write under its busy timeout; PostgreSQL locks only the lease row, which the run does not hold).
    Not for an in-memory store, whose one connection is shared by every checkout (:func:`renews_apart`).

    Parameters
    ----------
    st : Storage
        The store.
    search_id : int
        The search's id in it.
    owner : str
        The token given to ``acquire_lease``.
    name : str
        The search's name (unused: ``renew_lease`` names it in its own messages; kept for callers).

    Raises
    ------
    SearchLockedError
        ``owner`` no longer holds the lease (another process took it over, or it was released).
    StorageError
        The database failed (busy past its timeout, unreachable); the lease is as it was.
    """
    check_args(owner)
    try:
        with st._own_connection():  # noqa: SLF001 - the storage's own, for its own method
            st.renew_lease(search_id, owner)
    except (DatabaseError, OperationalError) as exc:  # checking a connection out (renew_lease wraps its own)
        raise st._wrap(exc) from None  # noqa: SLF001 - the storage's own wording, password masked


def renews_apart(st: Any) -> bool:
    """Whether :func:`renew_apart` can renew a lease in ``st`` from another thread: not in an in-memory
    store (its one connection is shared by every checkout, and no other process can reach it anyway).

    Parameters
    ----------
    st : Storage
        The store.

    Returns
    -------
    bool
        True for a SQLite file or a database server.
    """
    return not st._target.memory  # noqa: SLF001


def release(conn: sa.Connection, search_id: int, owner: str) -> None:
    conn.execute(leases.delete().where(_L.search_id == search_id, _L.owner == owner))
    conn.commit()
    checkpoint(conn)


def checkpoint(conn: sa.Connection) -> None:
    """Copy a SQLite store's recent commits from its ``-wal`` file into the database file itself.

    In WAL mode a commit lands in ``FILE-wal``; SQLite copies it into ``FILE`` every 1000 pages or
    when the last connection closes. A notebook keeps its connection open, so a ``cp``, upload or
    e-mail of the ``.db`` file alone after ``run()`` silently lacked the last few hundred trials.
    A run checkpoints at each heartbeat (every ``LEASE_RENEW_S``) and when it ends. PASSIVE never
    waits for a reader in another process: what a reader still needs is copied at the next one.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        conn.commit()
