"""Refuse, before anything is written, to run a Search object that another one has overtaken.

A Search object knows the trials it read or ran; another process (or another Search object on the
same store) may have stored more since, and finished or interrupted the search. Running the stale
object would propose trial numbers that are taken: the store refuses the first one ("trial N is
already stored"), but only after the run had marked the search ``running`` and then, on its way out,
``interrupted``, with this object's elapsed time, although the other run may have completed it.
:func:`acquire` takes the lease as ``run()`` does and then compares: when trials numbered from the
object's next number on are stored, it gives the lease back and raises that StorageError, and the
stored search (state, elapsed time, trials) is left as the other run left it. The object re-reads the
store on its next ``run()``, as after any failed run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nasbook._errors import StorageError
from nasbook.storage import trials_stored_from

if TYPE_CHECKING:
    from nasbook.search import Search


def acquire(s: Search, ttl_s: float) -> None:
    """Take the search's lease for ``s``; StorageError (lease given back, nothing written) if the store
    holds trials that ``s`` has not read."""
    s._storage.acquire_lease(s._search_id, s._owner, ttl_s=ttl_s)
    try:
        count, lowest = trials_stored_from(s._storage, s._search_id, s._next_number)
    except BaseException:
        s._storage.release_lease(s._search_id, s._owner)
        raise
    if not count:
        return
    s._storage.release_lease(s._search_id, s._owner)
    s._stale = True  # the next run() starts from what the store holds
    raise StorageError(
        f"trial {lowest} of search {s.name!r} is already stored in {s._storage.label!r} ({count} trial"
        f"{'s' if count != 1 else ''} stored after this Search object read it): another process or Search object "
        "ran it since. Nothing was run or changed; load it again (nasbook.load_search), or call run() again, to "
        "continue from what is committed."
    )
