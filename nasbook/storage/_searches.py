"""The per-search rows of a :class:`~nasbook.storage.Storage`: the searches table and each search's lease.

:class:`SearchRows` is mixed into ``Storage`` (``_sql.py`` keeps the connection, the write path and
the trials): creating, reading, listing and updating ``nasbook_searches`` rows, and taking, renewing
and giving up the lease (:mod:`._lease`) that lets one process at a time run a search.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from nasbook._errors import (
    DuplicatedSearchError,
    InvalidParameterError,
    SearchNotFoundError,
    StorageError,
    did_you_mean,
)
from nasbook._version import __version__
from nasbook.storage import _catalog, _lease
from nasbook.storage._fidelity import TopFidelityBest, search_bests
from nasbook.storage._records import SearchRecord, search_record
from nasbook.storage._schema import dumps, searches

_SEARCH_COLS = "id, name, created_at, nasbook_version, state, config, elapsed_s"


class SearchRows:
    """Mixed into :class:`~nasbook.storage.Storage`: its searches and their leases."""

    label: str
    _names: dict[int, str]  # search id -> name, cached
    _stat_keys: dict[int, tuple[Any, Any]]

    if TYPE_CHECKING:  # what the mixin uses from Storage
        @property
        def conn(self) -> sa.Connection: ...
        def _read(self, stmt: Any, params: dict[str, Any] | None = None) -> Sequence[Any]: ...
        def _wrap(self, exc: BaseException) -> StorageError: ...
        def _rollback_quietly(self) -> None: ...

    def _search_name(self, search_id: int) -> str:
        """The name of search ``search_id``; StorageError if there is none."""
        name = self._names.get(search_id)
        if name is None:
            rows = self._read(sa.select(searches.c.name).where(searches.c.id == search_id))
            if not rows:
                raise StorageError(
                    f"no search with id {search_id!r} in {self.label!r} (searches there: {self.search_names()[:10]!r})."
                )
            name = self._names[search_id] = str(rows[0][0])
        return name

    # -- searches --------------------------------------------------------------------------------
    def create_search(self, name: str, config: dict[str, Any]) -> int:
        """Store a new search (state ``"created"``, no trials) and COMMIT.

        Its task and space join the knowledge base's catalogue in the same transaction (when
        ``config`` holds a ``"task"`` dict, and a ``"space_id"`` with a ``"space"`` dict).

        Parameters
        ----------
        name : str
            A non-empty name, unique in this store (:class:`~nasbook.Search` keeps it to 255
            characters, the column's width).
        config : dict
            What the search needs to be rebuilt (task, space, strategy, budget, seed, ``"mode"``,
            ...); any JSON-serializable dict is accepted (NaN and infinities kept).

        Returns
        -------
        int
            The new search's id, which the other methods take as ``search_id``.

        Raises
        ------
        InvalidParameterError
            ``name`` is not a non-empty string, ``config`` is not a dict or cannot be stored as JSON.
        DuplicatedSearchError
            A search named ``name`` is stored already (nothing is changed).
        StorageError
            The database failed (read-only, full, gone); nothing is stored.
        """
        if not isinstance(name, str) or not name:
            raise InvalidParameterError(f"a search name must be a non-empty string; got {name!r}.")
        if not isinstance(config, dict):
            raise InvalidParameterError(f"a search config must be a dict; got {type(config).__name__}.")
        _check_json(config, f"the config of search {name!r}")
        try:
            now = time.time()
            res = self.conn.execute(searches.insert().values(
                name=name, created_at=now, nasbook_version=__version__, state="created",
                config=config, elapsed_s=0.0, **_catalog.catalog_columns(config),
            ))
            _catalog.register(self.conn, config, now)  # its task and space join the knowledge base's catalogue
            self.conn.commit()
        except IntegrityError:
            self._rollback_quietly()
            raise DuplicatedSearchError(
                f"A search named {name!r} already exists in {self.label!r}. Resume it with "
                f"nasbook.load_search({name!r}, storage={self.label!r}), or pick another name."
            ) from None
        except (DatabaseError, OperationalError) as exc:
            self._rollback_quietly()
            raise self._wrap(exc) from None
        pk = res.inserted_primary_key
        assert pk is not None
        self._names[int(pk[0])] = name
        return int(pk[0])

    def get_search(self, name: str) -> SearchRecord:
        """The stored search named ``name``.

        Parameters
        ----------
        name : str
            The search's name, exactly as created (case-sensitive).

        Returns
        -------
        SearchRecord
            Its id, name, config, state, elapsed time, creation time and nasbook version;
            ``n_trials`` and ``best_value`` are None here (:meth:`list_searches` fills them).

        Raises
        ------
        SearchNotFoundError
            No search has that name; the message lists the stored names and a close match.
        StorageError
            The stored row is damaged (its config is not a JSON object, ...), or the database failed.
        """
        rows = self._read(sa.text(f"SELECT {_SEARCH_COLS} FROM nasbook_searches WHERE name = :name"), {"name": name})
        if not rows:
            names = self.search_names()
            raise SearchNotFoundError(
                f"No search named {name!r} in {self.label!r}. Searches there: {names[:10]!r}"
                f"{f' and {len(names) - 10} more' if len(names) > 10 else ''}{did_you_mean(name, names)}."
            )
        return search_record(rows[0]._mapping, self.label)

    def search_names(self) -> list[str]:
        """The names of the stored searches, oldest first.

        Returns
        -------
        list of str
            One name per search, in the order they were created; empty for a new store.
        """
        return [str(r[0]) for r in self._read(sa.select(searches.c.name).order_by(searches.c.id))]

    def list_searches(self) -> list[SearchRecord]:
        """Every stored search, oldest first, with ``n_trials`` and ``best_value`` filled in.

        Returns
        -------
        list of SearchRecord
            One per search: ``n_trials`` counts its stored trials in every state, ``best_value`` is the
            value of its best trial by the top-fidelity rule (the one ``Search.best`` and
            ``KnowledgeBase.searches`` follow, :class:`nasbook.storage.TopFidelityBest`): the max (the min
            when its config's ``"mode"`` is ``"min"``) of its COMPLETE trials with a finite value at the most
            epochs among them (and those with no epochs recorded), so a 1-epoch score of an ASHA search
            never beats its top rung; None when it has none. StorageError if a row is damaged.
        """
        return self.list_searches_with_bests()[0]

    def list_searches_with_bests(self) -> tuple[list[SearchRecord], dict[int, TopFidelityBest]]:
        """:meth:`list_searches` and, by search id, the :class:`~nasbook.storage.TopFidelityBest` its
        ``best_value`` comes from (its ``value`` and ``top``, the most epochs among the trials that count), for
        :func:`~nasbook.storage.best_of_searches` (``KnowledgeBase.searches``) without a second pass.

        Returns
        -------
        tuple
            ``(records, {search id: rule})``; a search without trials has no rule.
        """
        s = searches.c
        q = sa.select(s.id, s.name, s.created_at, s.nasbook_version, s.state,
                      sa.type_coerce(s.config, sa.Text).label("config"), s.elapsed_s).order_by(s.id)
        records = [search_record(r._mapping, self.label) for r in self._read(q)]
        if claimed := [r.id for r in records if r.state == "running"]:  # its run killed: interrupted, as load_search says
            live = _lease.running_now(self._read, claimed)
            records = [dataclasses.replace(r, state="interrupted") if r.state == "running" and r.id not in live else r
                       for r in records]
        bests = search_bests(self._read, {r.id: str(r.config.get("mode", "max")) for r in records},
                             self.conn.dialect.name)
        out = []
        for rec in records:  # PostgreSQL: one GROUP BY over the trials; SQLite: two, and one over the top rungs
            n, rule = bests.get(rec.id, (0, None))
            out.append(dataclasses.replace(rec, n_trials=n, best_value=None if rule is None else rule.value))
        return out, {sid: rule for sid, (_, rule) in bests.items()}

    def update_search(self, search_id: int, *, state: str | None = None, config: dict[str, Any] | None = None,
                      elapsed_s: float | None = None, owner: str | None = None) -> None:
        """Overwrite some of a stored search's fields and COMMIT; those left None stay as stored.

        With every field None nothing is written (nor checked). With ``owner`` (what a search's ``run()``
        passes: its lease token) the write is a compare-and-set on the search's lease, in the UPDATE itself: it
        changes the row only while ``owner`` holds the lease, so a run whose search was taken over (before its
        heartbeat noticed) writes nothing over the other run's state, elapsed time or configuration. Without it
        (an edit outside a run: ``load_search``, ``extend``) the row is written whoever holds the lease.

        Parameters
        ----------
        search_id : int
            The id :meth:`create_search` returned.
        state : str, optional
            The new state, a :class:`~nasbook.search.SearchState` value (``"created"``,
            ``"running"``, ``"interrupted"``, ``"done"``); stored as given.
        config : dict, optional
            The new configuration, replacing the stored one whole (it must be JSON-serializable).
            The catalogue columns (task key, space id, strategy) keep their values from creation.
        elapsed_s : float, optional
            The run time so far, in seconds (replaces the stored total, it is not added to it).
        owner : str, optional
            The token given to :meth:`acquire_lease`: write only while it holds the search's lease.

        Raises
        ------
        SearchLockedError
            ``owner`` was given and no longer holds the lease (another process took it over, or it was
            released); nothing is changed.
        InvalidParameterError
            ``config`` is not a dict or cannot be stored as JSON, or ``owner`` is not a lease token.
        StorageError
            No search has id ``search_id``, or the database failed (nothing is changed).
        """
        values: dict[str, Any] = {}
        if state is not None:
            values["state"] = state
        if config is not None:
            if not isinstance(config, dict):
                raise InvalidParameterError(f"a search config must be a dict; got {type(config).__name__}.")
            _check_json(config, f"the config of search id {search_id}")
            values["config"] = config
        if elapsed_s is not None:
            values["elapsed_s"] = float(elapsed_s)
        if owner is not None:
            _lease.check_args(owner)
        if not values:
            return
        if config is not None:
            self._stat_keys.pop(search_id, None)  # its task may have changed (load_search(allow_changes=True))
        stmt = searches.update().where(searches.c.id == search_id).values(**values)
        if owner is not None:
            stmt = stmt.where(_lease.held_by(search_id, owner))
        try:
            n = self.conn.execute(stmt).rowcount
            self.conn.commit()
            if n == 0 and owner is not None:
                name = self._search_name(search_id)  # raises: no such search
                h = _lease.holder(self.conn, search_id)
                self.conn.commit()
                raise _lease.locked_error(name, h)
        except (DatabaseError, OperationalError) as exc:
            self._rollback_quietly()
            raise self._wrap(exc) from None
        if n == 0:
            self._search_name(search_id)  # raises: no such search

    # -- leases ----------------------------------------------------------------------------------
    def acquire_lease(self, search_id: int, owner: str, *, ttl_s: float = 60.0) -> None:
        """Claim the search for this process, or raise SearchLockedError at once.

        Succeeds if no process holds it, ``owner`` holds it, its heartbeat is older than ``ttl_s``,
        or its holder is a dead process on this host (so a killed run resumes at once). A live
        holder on this host keeps it however old its heartbeat (up to a day). Atomic across
        processes and machines: of several racing for it, exactly one wins. Commits.

        Parameters
        ----------
        search_id : int
            The id :meth:`create_search` returned.
        owner : str
            A token naming this holder, 1 to 64 characters (e.g. ``uuid.uuid4().hex``); pass the
            same one to :meth:`renew_lease` and :meth:`release_lease`.
        ttl_s : float, default 60.0
            Seconds after its last heartbeat that a holder on another host is taken to be gone and
            its lease is taken over; > 0.

        Raises
        ------
        SearchLockedError
            Another live process holds the lease; the message names its pid, host and heartbeat age.
        InvalidParameterError
            ``owner`` or ``ttl_s`` is not as described.
        StorageError
            No search has id ``search_id``, or the database failed.
        """
        _lease.check_args(owner, ttl_s)
        name = self._search_name(search_id)
        self._lease_call(_lease.acquire, search_id, owner, float(ttl_s), name)

    def renew_lease(self, search_id: int, owner: str) -> None:
        """Heartbeat: record that ``owner`` still runs the search, and COMMIT.

        On SQLite it also checkpoints the write-ahead log into the database file, so a copy of the
        ``.db`` file alone holds what was committed up to the last heartbeat.

        A search's ``run()`` calls it from its loop and from its heartbeat thread (every 10 s, whatever the
        loop is doing); there, :attr:`conn` is a connection of that thread's own, so an override in a
        subclass that renews through ``super()`` or uses ``self.conn`` runs safely beside the run's writes.

        Parameters
        ----------
        search_id : int
            The id :meth:`create_search` returned.
        owner : str
            The token given to :meth:`acquire_lease`.

        Raises
        ------
        SearchLockedError
            ``owner`` no longer holds the lease (another process took it over, or it was released).
        InvalidParameterError
            ``owner`` is not a non-empty string of at most 64 characters.
        StorageError
            No search has id ``search_id``, or the database failed.
        """
        _lease.check_args(owner)
        self._lease_call(_lease.renew, search_id, owner, self._search_name)

    def release_lease(self, search_id: int, owner: str) -> None:
        """Give the search up and COMMIT (no error if ``owner`` does not hold it, or it does not exist).

        On SQLite it also checkpoints the write-ahead log into the database file.

        Parameters
        ----------
        search_id : int
            The id :meth:`create_search` returned.
        owner : str
            The token given to :meth:`acquire_lease`; a lease held by another owner is left alone.

        Raises
        ------
        InvalidParameterError
            ``owner`` is not a non-empty string of at most 64 characters.
        StorageError
            The database failed.
        """
        _lease.check_args(owner)
        self._lease_call(_lease.release, search_id, owner)

    def _lease_call(self, fn: Any, *args: Any) -> None:
        try:
            fn(self.conn, *args)
        except (DatabaseError, OperationalError) as exc:
            self._rollback_quietly()
            raise self._wrap(exc) from None


def _check_json(obj: Any, what: str) -> None:
    try:
        dumps(obj)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidParameterError(f"{what} cannot be stored as JSON: {exc}") from None
