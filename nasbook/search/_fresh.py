"""Refuse to run a Search object that another one has overtaken, and never write over the other run.

A Search object knows the trials it read or ran; another process (or another Search object on the
same store) may have stored more since, and finished or interrupted the search. Running the stale
object would propose trial numbers that are taken: the store refuses the first one ("trial N is
already stored"), but only after the run had marked the search ``running`` and then, on its way out,
``interrupted``, with this object's elapsed time, although the other run may have completed it.

Two checks keep the stored search as the other run left it:

* :func:`acquire` takes the lease as ``run()`` does and then compares: when trials numbered from the
  object's next number on are stored, it gives the lease back and raises that StorageError before
  anything is written. It then takes the rows of the trials it will run again
  (:func:`~nasbook.storage.claim_trials`): one finished by another run since the object read it is
  stale too, and a run overtaken earlier, with those trials still in flight on its workers, can no
  longer write them (every write of a trial row names its run's token: ``nasbook/storage/_owner.py``).
* :func:`overtaken` is asked when a run fails mid-loop (a trial number already stored, a heartbeat
  refused because the lease was taken over, or any other error): when another process holds the
  lease, or the lease is gone, or trials this object did not write are stored past its numbers, the
  search was taken over. The run then writes nothing more (no QUEUED rows over trials the other run
  may have finished, no state, no elapsed time) and raises :class:`SearchOvertaken`, which names what
  happened and that ``nasbook.load_search`` gives a fresh object. A finished trial whose row the
  store refused (:class:`~nasbook.storage.TrialTaken`: another run took it over) always ends there,
  and its result, not stored, is named in the message and kept in ``SearchOvertaken.unstored``.

* The run's writes of the search's row (its state, elapsed time, configuration) name its lease token
  (``update_search(owner=...)``: a compare-and-set on the lease in the UPDATE itself), so a takeover its
  heartbeat has not noticed yet is not written over either: the set-up's write ends in the loop's handler
  above, the write as ``run()`` ends in :func:`refused_end`.

Either way the object takes the stored state and elapsed time as its own and re-reads the store on its
next ``run()``, as after any failed run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nasbook._errors import SearchLockedError, SearchOvertaken, StorageError
from nasbook.search._budget import Budget
from nasbook.search._heartbeat import Heartbeat
from nasbook.storage import TrialTaken, claim_trials, lease_holder, trials_stored_from

if TYPE_CHECKING:
    from nasbook.search import Search
    from nasbook.trial import Outcome, Trial


def acquire(s: Search, ttl_s: float, heartbeat_s: float) -> Heartbeat:
    """Take the search's lease for ``s`` and the rows of the trials it runs again; StorageError (lease given
    back, nothing written) if the store holds trials that ``s`` has not read, or finished one of those.
    Returns the :class:`Heartbeat` that renews the lease every ``heartbeat_s`` until ``run()`` stops it."""
    s._storage.acquire_lease(s._search_id, s._owner, ttl_s=ttl_s)
    again = [t.number for t in s._requeue]  # run again first: their rows become this run's
    try:
        count, lowest = trials_stored_from(s._storage, s._search_id, s._next_number)
        # a row not taken: another run finished (or removed) that trial since this object read it
        finished = not count and bool(again) and claim_trials(s._storage, s._search_id, again, s._owner) < len(again)
    except BaseException:
        s._storage.release_lease(s._search_id, s._owner)
        raise
    if not count and not finished:
        return Heartbeat(s._storage, s._search_id, s._owner, s.name, heartbeat_s)
    s._storage.release_lease(s._search_id, s._owner)
    s._stale = True  # the next run() starts from what the store holds
    adopt_stored(s)
    what = (f"trial {lowest} of search {s.name!r} is already stored in {s._storage.label!r} ({count} trial"
            f"{'s' if count != 1 else ''} stored after this Search object read it)") if count else (
            f"a trial of search {s.name!r} that this Search object would run again (of trials {again}) was finished "
            f"in {s._storage.label!r} after it read them")
    raise StorageError(
        f"{what}: another process or Search object ran it since. Nothing was run or changed; load it again "
        "(nasbook.load_search), or call run() again, to continue from what is committed."
    )


def overtaken(s: Search, committed: int, exc: BaseException | None = None,
              finished: Sequence[Outcome] = ()) -> SearchOvertaken | None:
    """After a run of ``s`` failed mid-loop with ``exc``: the error saying that another process took the
    search over (it holds the lease, or let it go, or stored trials past this object's numbers, or the
    store refused a trial row as another run's: :class:`TrialTaken`), or None when ``s`` still owns it.
    ``committed``: trials this run committed (all kept). ``finished``: outcomes received but not
    committed yet, named in the message with the refused trial. None too when the store cannot be read
    (the original error stands), unless the store refused a trial row."""
    st, sid = s._storage, s._search_id
    refused = exc.trial if isinstance(exc, TrialTaken) else None
    try:
        holder = lease_holder(st, sid)
        count, lowest = trials_stored_from(st, sid, s._next_number)
    except Exception:  # noqa: BLE001 - the store may be what failed: then nothing can be told
        if refused is None:
            return None
        holder, count, lowest = None, 0, None
    ours = holder is not None and holder[0] == s._owner
    if ours and not count and refused is None:
        return None
    again = f"nasbook.load_search({s.name!r}, {st.label!r}).run()"
    if holder is not None and not ours:
        _, host, pid, heartbeat = holder
        now = (f"it holds the search now (pid {pid} on host {host!r}, last heartbeat "
               f"{max(0.0, time.time() - heartbeat):.0f} s ago)")
        todo = f"Wait for it to finish (or stop it), then continue with a fresh object: {again}."
    else:
        stored = f"; {count} trial{'s' if count != 1 else ''} from trial {lowest} on are stored by it" if count else ""
        now = f"it has run the search and let it go{stored}"
        todo = f"Continue with a fresh object, {again} (or call run() again: this object re-reads the store first)."
    lost = _not_stored(refused, exc, finished)
    error = SearchOvertaken(
        f"another process (or Search object) took search {s.name!r} over while this Search object was running it: "
        f"{now}. This run stopped without writing over it: the search's state, elapsed time and trials are as the "
        f"other run left them, and the {committed} trial{'s' if committed != 1 else ''} this run committed "
        f"{'are' if committed != 1 else 'is'} stored.{lost} {todo}"
    )
    error.unstored = ((refused,) if refused is not None else ()) + tuple(finished)
    return error


def refused_end(s: Search, committed: int, exc: SearchLockedError) -> SearchOvertaken:
    """After the store refused the state and elapsed time that ``run()`` of ``s`` writes as it ends (its
    ``update_search`` names the lease token: ``exc`` says another process holds the lease, or it is gone): the
    :class:`SearchOvertaken` to raise, the run having written nothing over the other run's search row; ``s``
    takes the stored state and elapsed time as its own and re-reads the store on its next ``run()``.
    ``committed``: trials this run committed."""
    lost = overtaken(s, committed, exc) or SearchOvertaken(str(exc))  # the store unreadable: the refusal says it
    s._overtaken = lost
    s._stale = True
    adopt_stored(s)
    return lost


def _not_stored(refused: Trial | None, exc: BaseException | None, finished: Sequence[Outcome]) -> str:
    """What this run finished but did not store (the other run's rows stand), for the message."""
    def result(number: int, state: str, value: float | None) -> str:
        return f"trial {number} ({state}{f', value {value!r}' if value is not None else ''})"

    lost = [result(refused.number, refused.state.value, refused.value)] if refused is not None else []
    lost += [result(o.number, o.state.value, o.result.value if o.result is not None else None) for o in finished]
    if not lost:
        return ""
    held = ""
    if isinstance(exc, TrialTaken) and exc.stored_state is not None:
        held = f" (the store keeps the other run's trial {refused.number if refused else ''}: {exc.stored_state}" + (
            f", value {exc.stored_value!r})" if exc.stored_value is not None else ")")
    return (f" This run's result of {', '.join(lost)} was not stored: the other run took {'it' if len(lost) == 1 else 'them'} "
            f"over{held}.")


def adopt_stored(s: Search) -> None:
    """Take the stored state and elapsed time as ``s``'s own (another run wrote them), if they can be read."""
    try:
        record = s._storage.get_search(s.name)
    except (StorageError, OSError):
        return
    s._attach(s._storage, s._search_id, record.state, record.elapsed_s)


def stored_budget(s: Search) -> Budget:
    """The budget stored for ``s`` now, what :meth:`Search.extend` adds to.

    Another Search object or process may have extended the search since ``s`` read it: adding to
    ``s.budget`` lost that extension (two objects loaded at once, each ``extend(10)`` on a budget of 5,
    stored 15, not 25: outside probe 4). A budget ``s`` was given and has not stored is not possible:
    ``load_search(budget=...)`` and ``extend`` store theirs at once.
    """
    stored = s._storage.get_search(s.name).config.get("budget")
    return s.budget if stored is None else Budget.coerce(stored)


def keep_stored_budget(s: Search) -> None:
    """Before ``s`` writes its configuration: adopt the budget stored now when another Search object or process
    changed it since ``s`` last read or wrote it, and ``s`` did not.

    Every configuration write stores ``s.budget``: an object loaded before another one's ``extend(10)`` put the
    old budget back when it next wrote (a resume in a new environment, the executor it started), and the
    extension was lost. A budget ``s`` changed itself (``extend``, ``load_search(budget=...)``) is written as is.
    """
    seen = s.__dict__.get("_budget_seen")
    if seen is None or getattr(s, "_storage", None) is None or getattr(s, "_search_id", None) is None:
        return  # being created, or a store written by an older nasbook: nothing to compare with
    from nasbook._errors import InvalidParameterError, SearchNotFoundError

    try:
        stored = Budget.coerce(s._storage.get_search(s.name).config.get("budget")).to_dict()
    except (SearchNotFoundError, StorageError, InvalidParameterError, TypeError):  # unreadable: write what s knows
        return
    if stored != seen and s.budget.to_dict() == seen:
        s.budget = Budget.coerce(stored)

