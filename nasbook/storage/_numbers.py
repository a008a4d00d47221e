"""Which trial numbers of a search are stored from a given number on, and who holds its lease: how a
Search object tells that another process (or another Search object on the same store) stored trials
after it read them, or took the search over while it ran."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from nasbook.storage._schema import leases as _L
from nasbook.storage._schema import trials as _T


def trials_stored_from(st: Any, search_id: int, start: int) -> tuple[int, int | None]:
    """``(count, lowest)`` of the trials of search ``search_id`` stored in ``st`` with a number >= ``start``
    (``(0, None)`` when there is none); one indexed read (the unique ``(search_id, number)`` key).

    Parameters
    ----------
    st : Storage
        The store.
    search_id : int
        The search's id in it.
    start : int
        The first trial number asked about.

    Returns
    -------
    tuple of int and (int or None)
        How many such trials are stored, and the lowest of their numbers.
    """
    q = sa.select(sa.func.count(), sa.func.min(_T.c.number)).where(_T.c.search_id == search_id, _T.c.number >= start)
    count, lowest = st._read(q)[0]  # noqa: SLF001 - the storage's read: errors wrapped, transaction ended
    return int(count or 0), None if lowest is None else int(lowest)


def lease_holder(st: Any, search_id: int) -> tuple[str, str, int, float] | None:
    """Who holds the lease on search ``search_id`` in ``st``: ``(owner, hostname, pid, heartbeat_at)``, or
    None when no process holds it; one indexed read. How a run tells that another process took its search over.

    Parameters
    ----------
    st : Storage
        The store.
    search_id : int
        The search's id in it.

    Returns
    -------
    tuple of (str, str, int, float) or None
        The holder's owner token, host name, process id and last heartbeat (seconds since the epoch).
    """
    q = sa.select(_L.c.owner, _L.c.hostname, _L.c.pid, _L.c.heartbeat_at).where(_L.c.search_id == search_id)
    rows = st._read(q)  # noqa: SLF001 - the storage's read: errors wrapped, transaction ended
    if not rows:
        return None
    owner, hostname, pid, heartbeat_at = rows[0]
    return str(owner), str(hostname), int(pid), float(heartbeat_at)
