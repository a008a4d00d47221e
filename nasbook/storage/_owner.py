"""Which run a trial row belongs to: the compare-and-set that keeps a run off another run's rows.

A run writes its lease owner token into every trial row it stores (``nasbook_trials.owner``, schema
5). Its later writes of that row (RUNNING -> COMPLETE, FAILED, PRUNED ...; RUNNING -> QUEUED when it
stops; QUEUED -> RUNNING when it runs the trial again) name that token and an unfinished state in the
UPDATE's WHERE, and count the rows changed: 0 means another run took the row over (and may have run
the trial again and finished it), so nothing is written and :class:`TrialTaken` says so.

A run that resumes a search takes the unfinished rows it will run again (:func:`claim_trials`) right
after taking the search's lease: from then on a run that was overtaken, still holding trials in
flight on workers, finds every one of those rows taken. One UPDATE per ``run()``, only when trials
are to run again; a trial's own writes cost nothing more (the check is in the same statement).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nasbook._errors import NasbookWarning, StorageError, stacklevel_outside_nasbook
from nasbook.storage import _lease
from nasbook.storage._schema import trials as _T

if TYPE_CHECKING:
    from nasbook.trial import Trial

#: the states a run may still write over: a trial it stored and has not finished
UNFINISHED = ("running", "queued")
#: appended to the UPDATE of one trial row (``WHERE search_id = ? AND number = ?``): the compare-and-set
OWNED_NAMED = " AND owner = :owner AND state IN ('running', 'queued')"
OWNED_QMARK = " AND owner = ? AND state IN ('running', 'queued')"


class TrialTaken(StorageError):
    """A run's write of a trial row was refused: the row is no longer that run's (another run took it over).

    Each parameter is kept as an attribute of the same name (``message`` as ``str(error)``).

    Parameters
    ----------
    message : str
        What happened, naming the trial, the search and the store.
    trial : Trial
        What the refused write would have stored (for a finished trial, its result), not stored.
    stored_state : str or None
        The state of the row that stands (the other run's), None if the row is gone.
    stored_value : float or None
        Its value.
    """

    def __init__(self, message: str, trial: Trial, stored_state: str | None, stored_value: float | None):
        super().__init__(message)
        self.trial = trial
        self.stored_state = stored_state
        self.stored_value = stored_value


_WARNED: set[type] = set()  # Storage subclasses already warned about (once per class and process)


@functools.lru_cache(maxsize=64)
def _takes_owner(method: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):  # no signature to read (a C method): assume it does
        return True
    return "owner" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def owner_kwargs(st: Any, owner: str) -> dict[str, Any]:
    """What a run passes to ``st.add_trial`` and ``st.update_trial`` besides the trial: ``{"owner": owner}``.

    A ``Storage`` subclass written before the owner token (schema 5) may override those methods
    without ``owner=``: it still works, without the compare-and-set (``{}``: its rows are written
    unconditionally, so a run overtaken by another process could overwrite that run's row of the same
    number), and a :class:`~nasbook.NasbookWarning` says so once per class, naming what to add.

    Parameters
    ----------
    st : Storage
        The store a search writes its trials to (a :class:`Storage` or a subclass of one's own).
    owner : str
        The run's lease owner token.

    Returns
    -------
    dict
        The keyword arguments of the run's ``add_trial`` and ``update_trial`` calls.
    """
    cls = type(st)
    missing = [name for name in ("add_trial", "update_trial") if not _takes_owner(getattr(cls, name))]
    if not missing:
        return {"owner": owner}
    if cls not in _WARNED:
        _WARNED.add(cls)
        methods = " and ".join(f"{cls.__name__}.{name}" for name in missing)
        warnings.warn(
            f"{methods} {'takes' if len(missing) == 1 else 'take'} no owner= argument, so a search stored in {cls.__name__} writes its trial rows without "
            "the run's lease token: a run overtaken by another process could overwrite that run's trials. Add "
            "`owner=None` to their keyword arguments and pass it on (e.g. `def add_trial(self, search_id, trial, *, "
            "tell_seq=None, owner=None): ... super().add_trial(search_id, trial, tell_seq=tell_seq, owner=owner)`); "
            "nasbook.testing.StorageContract checks it.", NasbookWarning, stacklevel=stacklevel_outside_nasbook())
    return {}


def search_owner_kwargs(st: Any, owner: str) -> dict[str, Any]:
    """What a run passes to ``st.update_search`` besides the fields: ``{"owner": owner}`` (the write is then a
    compare-and-set on the search's lease: a run taken over writes nothing over the other run's search row).

    A ``Storage`` subclass that overrides ``update_search`` without ``owner=`` still works, its search row
    written unconditionally (``{}``), and a :class:`~nasbook.NasbookWarning` says so once per class.

    Parameters
    ----------
    st : Storage
        The store a search is stored in.
    owner : str
        The run's lease owner token.

    Returns
    -------
    dict
        The keyword arguments of the run's ``update_search`` calls.
    """
    cls = type(st)
    if _takes_owner(cls.update_search):
        return {"owner": owner}
    if cls not in _WARNED_SEARCH:
        _WARNED_SEARCH.add(cls)
        warnings.warn(
            f"{cls.__name__}.update_search takes no owner= argument, so a search stored in {cls.__name__} writes its "
            "state and elapsed time without checking the run's lease: a run overtaken by another process could "
            "overwrite that run's search row. Add `owner=None` to its keyword arguments and pass it on (`def "
            "update_search(self, search_id, *, state=None, config=None, elapsed_s=None, owner=None): ... "
            "super().update_search(search_id, state=state, config=config, elapsed_s=elapsed_s, owner=owner)`); "
            "nasbook.testing.StorageContract checks it.",
            NasbookWarning, stacklevel=stacklevel_outside_nasbook())
    return {}


_WARNED_SEARCH: set[type] = set()  # Storage subclasses already warned about (update_search)


def taken(st: Any, search_id: int, trial: Trial) -> StorageError:
    """The error for a conditional write of ``trial`` that changed no row: :class:`TrialTaken` when a row
    of that number is stored (another run's, or finished), a plain StorageError when none is."""
    rows = st._read(sa.select(_T.c.state, _T.c.value).where(_T.c.search_id == search_id, _T.c.number == trial.number))  # noqa: SLF001
    name = st._search_name(search_id)  # noqa: SLF001
    if not rows:
        return StorageError(f"trial {trial.number} of search {name!r} is not stored in {st.label!r}, so it cannot be "
                            "updated; store it first with add_trial.")
    state, value = str(rows[0][0]), None if rows[0][1] is None else float(rows[0][1])
    now = f"{state}" + (f", value {value:.6g}" if value is not None else "")
    return TrialTaken(
        f"trial {trial.number} of search {name!r} in {st.label!r} is no longer this run's: another process (or "
        f"Search object) took it over (stored: {now}); this run's write ({trial.state.value}) was not applied.",
        trial, state, value)


def claim_trials(st: Any, search_id: int, numbers: Sequence[int], owner: str) -> int:
    """Make the unfinished (RUNNING, QUEUED) rows among ``numbers`` the rows of run ``owner`` and COMMIT; how
    many it took. A resumed run calls it after taking the search's lease, for the trials it runs again: a
    row finished (or removed) by another run since the caller read it is not taken, so fewer than
    ``len(numbers)`` tells the caller that its reading is stale.

    A compare-and-set on the lease, as ``update_search(owner=...)`` is (in the UPDATE itself): a run whose lease
    was taken over before it claimed (it stalled longer than the lease's TTL between the two) takes nothing and
    gets :class:`~nasbook.SearchLockedError`; it used to take the new holder's rows, whose own writes were then
    refused (:class:`TrialTaken`) as if it had lost them.

    Parameters
    ----------
    st : Storage
        The store.
    search_id : int
        The search's id in it.
    numbers : sequence of int
        The trial numbers to take (each stored unfinished when the caller read the store).
    owner : str
        The run's lease owner token (what it passes to ``add_trial`` and ``update_trial`` as ``owner``).

    Returns
    -------
    int
        The number of rows taken.

    Raises
    ------
    SearchLockedError
        ``owner`` does not hold the search's lease (nothing was taken).
    """
    numbers = sorted({int(n) for n in numbers})
    if not numbers:
        return 0
    stmt = (_T.update().where(_T.c.search_id == search_id, _T.c.number.in_(numbers), _T.c.state.in_(UNFINISHED),
                              _lease.held_by(search_id, owner))
            .values(owner=owner))
    conn = st.conn
    try:
        n = conn.execute(stmt).rowcount
        conn.commit()
        if n < len(numbers):  # rows finished meanwhile, or none taken: the lease is not ours
            h = _lease.holder(conn, search_id)
            conn.commit()
            if h is None or h.owner != owner:
                raise _lease.locked_error(st._search_name(search_id), h)  # noqa: SLF001
    except (sa.exc.DatabaseError, sa.exc.OperationalError) as exc:
        st._rollback_quietly()  # noqa: SLF001
        raise st._wrap(exc) from None  # noqa: SLF001
    return int(n)
