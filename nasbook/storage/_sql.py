"""SQLAlchemy storage: searches, their trials, and a lease per search; a SQLite file by default.

SQLite files run in WAL mode with ``synchronous=NORMAL``: every commit is written to the
write-ahead log before ``commit()`` returns, so a killed process (SIGKILL, a kernel restart)
loses nothing that was committed; only a power cut can lose the last few commits. Pass a
database URL (``postgresql://...``) for a server.

Trial values round-trip exactly (JSON with NaN and +-inf for metrics, attrs, curves), with one
exception set by SQLite itself: a REAL column has no NaN, so a NaN ``value`` reads back as None
(and ``-0.0`` as ``0.0``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from nasbook._errors import InvalidParameterError, StorageError
from nasbook.storage import _bulk, _engine, _owner, _stats
from nasbook.storage._records import Damaged, SearchRecord, build_trial, decode_trial_row, trial_values
from nasbook.storage._schema import SCHEMA_VERSION, TRIAL_COLUMNS, init_schema, trials
from nasbook.storage._searches import SearchRows
from nasbook.storage._writes import INSERT as _INSERT
from nasbook.storage._writes import UPDATE as _UPDATE
from nasbook.storage._writes import UPDATE_FRESH as _UPDATE_FRESH
from nasbook.storage._writes import UPDATE_OWNED as _UPDATE_OWNED
from nasbook.storage._writes import Write as _Write

if TYPE_CHECKING:
    from nasbook.space import SearchSpace
    from nasbook.trial import Trial

_SELECT_SQL = "SELECT {} FROM nasbook_trials WHERE search_id = :search_id ORDER BY number".format(", ".join(TRIAL_COLUMNS))
_UNFINISHED = ("running", "queued")


class _Apart(threading.local):
    """A thread's own connection (:meth:`Storage._own_connection`); None in a thread without one, read as a
    class attribute: the loop reads ``conn`` once per trial, and a plain ``threading.local`` without the
    attribute answers ``getattr(..., None)`` through an AttributeError (0.4 us a call)."""

    conn: sa.Connection | None = None


class Storage(SearchRows):  # the searches' and leases' methods: _searches.py
    """A nasbook database: searches, their trials, and who is running each search.

    Every write commits before it returns, so what a method stored survives a killed process.

    Parameters
    ----------
    url : str or path
        A SQLite file path, ``":memory:"``, or any SQLAlchemy URL (``postgresql://user@host/db``).
    create : bool
        Create a SQLite file that does not exist yet (default). With False, a missing file raises
        StorageError and nothing is created (for reading a search back: a mistyped path never
        leaves an empty file behind).

    Attributes
    ----------
    url : str
        What SQLAlchemy connects to (may hold a password: never printed).
    label : str
        What messages and ``repr`` show: the path, or the URL with its password masked.
    """

    def __init__(self, url: str | os.PathLike[str] = "nasbook.db", *, create: bool = True):
        target = _engine.resolve(url, create=create)
        self._target = target
        self.url, self.label = target.url, target.label
        if target.path is not None:
            _engine.probe_sqlite_file(target.path, self.label)
        self.engine = _engine.create_engine(target)
        self._conn: sa.Connection | None = None
        self._sqlite = self.engine.dialect.name == "sqlite" and self.engine.dialect.driver == "pysqlite"
        self._names: dict[int, str] = {}
        self._stat_keys: dict[int, tuple[Any, Any]] = {}  # search id -> (space_id, task_key), for the aggregates
        self._apart = _Apart()  # a thread's connection of its own while in _own_connection()
        self._init_schema()

    # -- connection -----------------------------------------------------------------------------
    @property
    def conn(self) -> sa.Connection:
        """The SQLAlchemy connection every method uses, opened on first use (and again after :meth:`close`).

        In a thread inside :meth:`_own_connection` (a run's lease heartbeat), that thread's connection instead."""
        own = getattr(getattr(self, "_apart", None), "conn", None)
        if own is not None:
            return own  # type: ignore[no-any-return]
        if self._conn is None or self._conn.closed:
            self._conn = self.engine.connect()
        return self._conn

    @contextlib.contextmanager
    def _own_connection(self) -> Iterator[sa.Connection]:
        """In this block, every method called from this thread uses a connection of its own (:attr:`conn`),
        checked out of the engine's pool and given back at the end; other threads keep the shared one.

        How a run's lease heartbeat calls :meth:`renew_lease` (a subclass's override included) from its
        thread while the run's thread writes on the shared connection: a SQLAlchemy connection is one
        thread's at a time. Not for a ``":memory:"`` store, whose pool holds one connection.
        """
        local = self.__dict__.get("_apart")
        if local is None:  # a subclass whose __init__ did not call Storage's
            local = self.__dict__.setdefault("_apart", _Apart())
        with self.engine.connect() as conn:
            local.conn = conn
            try:
                yield conn
            finally:
                local.conn = None

    def close(self) -> None:
        """Close the connection and the engine's pool (on SQLite, the last close folds the WAL into the file).

        A file or server store can still be used afterwards: the next call connects again. A
        ``":memory:"`` store is gone (its tables with it).
        """
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url if not self._target.memory else ":memory:"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"Storage({self.label!r})"

    def _wrap(self, exc: BaseException) -> StorageError:
        orig = getattr(exc, "orig", None) or exc
        return StorageError(f"storage {self.label!r} failed: {self._target.scrub(str(orig))}{_engine.what_to_do(orig)}")

    def _init_schema(self) -> None:
        for attempt in range(3):
            try:
                conn = self.conn
            except (DatabaseError, OperationalError) as exc:  # an unreachable server, refused credentials
                self.close()
                raise StorageError(
                    f"storage {self.label!r} cannot be opened as a database: the server did not accept a connection "
                    f"(within {_engine.CONNECT_TIMEOUT_S} s): {self._target.scrub(str(getattr(exc, 'orig', exc)).strip())}. "
                    "Check the host, port and credentials in the URL, and that the server is running."
                ) from None
            try:
                if self._sqlite:
                    # one writer at a time: processes opening a new (or old) file at once take turns,
                    # the first creates (or migrates) the tables, the others find them
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                init_schema(conn, self.label, make_index=_engine.mode_writable(self._target.path))
                conn.commit()
                return
            except StorageError:
                conn.rollback()
                self.close()
                raise
            except (DatabaseError, OperationalError) as exc:
                self._rollback_quietly()
                text = str(getattr(exc, "orig", exc)).lower()
                if attempt < 2 and ("already exists" in text or isinstance(exc, IntegrityError)):
                    continue  # a server without transactional DDL: another process created them first
                self.close()
                raise StorageError(
                    f"storage {self.label!r} cannot be opened as a database: {self._target.scrub(str(getattr(exc, 'orig', exc)))}"
                ) from None
            except BaseException:  # anything else half-way through a migration (a bug, Ctrl-C): nothing it did stays
                self._rollback_quietly()
                self.close()
                raise

    def _rollback_quietly(self) -> None:
        try:
            self.conn.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone; close() follows
            pass

    def _read(self, stmt: Any, params: dict[str, Any] | None = None) -> Sequence[Any]:
        try:
            rows = self.conn.execute(stmt, params or {}).all()
            self.conn.commit()
        except (DatabaseError, OperationalError) as exc:
            self._rollback_quietly()
            raise self._wrap(exc) from None
        return rows

    def _write(self, stmt: _Write, params: dict[str, Any]) -> int:
        """Run one write statement and COMMIT (durable on return); the number of rows it touched.

        A trial written complete is folded into the warm-start aggregates (:mod:`._stats`) in the
        same transaction."""
        conn = self.conn
        stats = params.get("state") == "complete" and "number" in params
        if self._sqlite and not conn.in_transaction():
            # SQLite: statement and COMMIT straight on the pooled DBAPI connection (no compilation: half the cost)
            dbapi: Any = conn.connection.dbapi_connection
            try:
                n = dbapi.execute(stmt.qmark, stmt.order(params)).rowcount
                if stats and n:
                    _stats.record_rows(dbapi.execute, dbapi.executemany, "sqlite", [_stats.row_of(params)],
                                       keys=self._stat_keys)
                dbapi.commit()
            except BaseException:
                dbapi.rollback()
                raise
            return int(n)
        try:
            n = conn.execute(sa.text(stmt.named), params).rowcount
            if stats and n:
                run = _stats.sa_execute(conn)
                _stats.record_rows(run, run, conn.dialect.name, [_stats.row_of(params)], keys=self._stat_keys)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return int(n)

    # -- trials ----------------------------------------------------------------------------------
    def add_trial(self, search_id: int, trial: Trial, *, tell_seq: int | None = None, owner: str | None = None) -> None:
        """Insert ``trial`` and COMMIT: durable when this returns.

        A COMPLETE trial also joins the warm-start aggregates of its task, in the same transaction.

        Parameters
        ----------
        search_id : int
            The id :meth:`create_search` returned.
        trial : Trial
            The trial to store, in any state; its ``number`` must be new to the search.
        tell_seq : int, optional
            When the strategy was told of this trial: 0 for the first finished trial it heard of,
            1 for the next, ... (a resumed search tells them again in that order); None for a
            trial not told yet (RUNNING, QUEUED).
        owner : str, optional
            The lease owner token of the run that stores it: its later :meth:`update_trial` calls
            with the same ``owner`` apply only while the row is still that run's (``_owner.py``).

        Raises
        ------
        StorageError
            Its number is already stored (is another process running this search?), no search has
            id ``search_id``, its metrics, attrs or curves cannot be stored as JSON, or the
            database failed; nothing is stored.
        """
        values = trial_values(trial, tell_seq)
        values["search_id"], values["owner"] = search_id, owner
        self._write_trial(_INSERT, values)

    def update_trial(self, search_id: int, trial: Trial, *, tell_seq: int | None = None, owner: str | None = None) -> None:
        """Overwrite the stored row of ``trial.number`` (RUNNING -> COMPLETE, RUNNING -> QUEUED, ...) and COMMIT.

        Overwriting a trial stored COMPLETE recomputes its task's warm-start aggregates (its value
        may have been the best) in the same transaction.

        Parameters
        ----------
        search_id : int
            The id :meth:`create_search` returned.
        trial : Trial
            The trial's new state; every stored column of that number is replaced.
        tell_seq : int, optional
            When the strategy was told of this trial: 0 for the first finished trial it heard of,
            1 for the next, ... (a resumed search tells them again in that order); None for a
            trial not told yet (RUNNING, QUEUED).
        owner : str, optional
            A run's lease owner token: the row is written only if it is unfinished (RUNNING,
            QUEUED) and that run's (stored with this ``owner``, or taken with ``claim_trials``), in
            the same statement. None: written whatever it holds.

        Raises
        ------
        TrialTaken
            (a StorageError) ``owner`` given and the row is finished or another run's: nothing written.
        StorageError
            No trial of that number is stored (store it first with :meth:`add_trial`), no search
            has id ``search_id``, a JSON field cannot be stored, or the database failed.
        """
        values = trial_values(trial, tell_seq)
        values["search_id"] = search_id
        if owner is not None:  # a run's own row: compare-and-set on its token, one statement
            values["owner"] = owner
            if self._write_trial(_UPDATE_OWNED, values) != 1:
                raise _owner.taken(self, search_id, trial)
            return
        if self._write_trial(_UPDATE_FRESH, values) == 1:  # the usual case: one statement
            return
        if not _stats.was_complete(self, search_id, trial.number):
            raise StorageError(f"trial {trial.number} of search {self._search_name(search_id)!r} is not stored in "
                               f"{self.label!r}, so it cannot be updated; store it first with add_trial.")
        _stats.overwrite_complete(self, values, _UPDATE.named)  # a complete trial overwritten: its task's aggregates rebuilt

    def _write_trial(self, stmt: _Write, values: dict[str, Any]) -> int:
        try:
            return self._write(stmt, values)
        except (IntegrityError, sqlite3.IntegrityError) as exc:
            text = str(getattr(exc, "orig", exc))
            if "FOREIGN KEY" in text.upper():
                self._search_name(values["search_id"])  # raises: no such search
            raise StorageError(
                f"trial {values['number']} is already stored in {self.label!r}: is another process running "
                "this search? (load it again to continue from what is committed)"
            ) from None
        except (DatabaseError, OperationalError, sqlite3.Error) as exc:
            raise self._wrap(exc) from None

    def add_trials(self, search_id: int, trials: Sequence[Trial], *, ignore_existing: bool = True) -> None:
        """Insert many trials in one transaction and COMMIT (all of them, or none).

        Parameters
        ----------
        search_id : int
            The id :meth:`create_search` returned.
        trials : sequence of Trial
            The trials, in any state; stored without a ``tell_seq``.
        ignore_existing : bool, default True
            Skip a trial whose number is stored already, so copying the same trials twice stores
            them once (how a knowledge base mirrors a search kept elsewhere). With False such a
            trial makes the whole call fail.

        Raises
        ------
        StorageError
            A number is stored already (``ignore_existing=False``), no search has id
            ``search_id``, a JSON field cannot be stored, or the database failed; nothing is stored.
        """
        rows = []
        for trial in trials:
            row = trial_values(trial, None)
            row["search_id"] = search_id
            rows.append(row)
        self.insert_trial_rows(rows, ignore_existing=ignore_existing)

    def insert_trial_rows(self, rows: Sequence[Any], *, ignore_existing: bool = False) -> None:
        """Bulk insert of ready-made trial rows in one transaction, then COMMIT (all of them, or none).

        The fast path of ``KnowledgeBase.ingest``: executemany on SQLite, COPY on PostgreSQL
        (psycopg) unless ``ignore_existing``. Rows are not checked: use :meth:`add_trials` for Trials.

        Parameters
        ----------
        rows : sequence of dict or sequence of tuple
            All dicts (every column of ``TRIAL_COLUMNS`` and ``search_id``) or all tuples (in the
            order ``("search_id", *TRIAL_COLUMNS)``; the first row decides); the JSON columns
            (arch, metrics, attrs, curves, lineage) as JSON text. Empty: nothing happens.
        ignore_existing : bool, default False
            Skip a row whose (search, number) is stored already (on SQLite, PostgreSQL and
            MySQL/MariaDB); with False such a row makes the whole call fail.

        Raises
        ------
        StorageError
            A (search, number) is stored twice, a ``search_id`` does not exist, or the database
            failed; nothing is stored.
        """
        _bulk.insert_trial_rows(self, rows, ignore_existing=ignore_existing)

    def delete_trials(self, search_id: int, numbers: Sequence[int]) -> None:
        """Remove unfinished (RUNNING, QUEUED) trials among ``numbers`` and COMMIT; finished ones stay.

        Parameters
        ----------
        search_id : int
            The id :meth:`create_search` returned.
        numbers : sequence of int
            Trial numbers; those not stored, or stored finished (COMPLETE, PRUNED, FAILED,
            DIVERGED), are left alone without an error. Empty: nothing happens.

        Raises
        ------
        StorageError
            The database failed; nothing is removed.
        """
        numbers = [int(n) for n in numbers]
        if not numbers:
            return
        t = trials.c
        try:
            self.conn.execute(
                trials.delete().where(t.search_id == search_id, t.number.in_(numbers), t.state.in_(_UNFINISHED))
            )
            self.conn.commit()
        except (DatabaseError, OperationalError) as exc:
            self._rollback_quietly()
            raise self._wrap(exc) from None

    def load_trials(self, search_id: int, space: SearchSpace) -> tuple[list[Trial], dict[int, int]]:
        """Trials of the search in number order, architectures rebuilt in ``space``, and ``{number: tell_seq}``.

        Parameters
        ----------
        search_id : int
            The id :meth:`create_search` returned.
        space : SearchSpace
            The search's space, configured as when the trials were stored: each architecture is
            rebuilt with ``space.from_dict`` and its id checked against the stored one.

        Returns
        -------
        trials : list of Trial
            Every stored trial of the search, in any state, by number.
        tell_seq : dict of int to int
            ``{number: tell_seq}`` for the trials stored with one (see :meth:`add_trial`).

        Raises
        ------
        StorageError
            No search has id ``search_id``; a row is damaged or its architecture is not (any
            more) one of ``space`` (the message names the trial); or the database failed.
        """
        name = self._search_name(search_id)
        out: list[Trial] = []
        tell_seq: dict[int, int] = {}
        for row in self._read(sa.text(_SELECT_SQL), {"search_id": search_id}):
            m = row._mapping
            try:
                values = decode_trial_row(m)
                trial = build_trial(values, space)
            except Damaged as exc:
                raise StorageError(f"trial {m['number']!s:.20} of search {name!r} in {self.label!r}: {exc}.") from None
            out.append(trial)
            if values["tell_seq"] is not None:
                tell_seq[trial.number] = values["tell_seq"]
        return out, tell_seq


def open_storage(storage: Storage | str | os.PathLike[str] | None, *, create: bool = True) -> Storage:
    """Return a :class:`Storage` for a path, ``":memory:"`` or a database URL (a Storage is returned as is).

    Parameters
    ----------
    storage : Storage, str or path
        A Storage (returned unchanged, ``create`` ignored); a SQLite file path; ``":memory:"``
        for a throw-away store; or a SQLAlchemy URL (``"sqlite:///runs.db"``,
        ``"postgresql://user@host/db"``). None is refused: nasbook keeps every trial durably.
    create : bool, default True
        Create a SQLite file that does not exist yet. With False a missing file raises
        StorageError and nothing is created (for reading a search back).

    Returns
    -------
    Storage
        Connected, its tables created or migrated to the current schema.

    Raises
    ------
    InvalidParameterError
        ``storage`` is None, or not a path, ``":memory:"``, URL or Storage.
    StorageError
        The file is missing (``create=False``), is not a nasbook database, or the server
        refused the connection; the message says what to do.

    Examples
    --------
    >>> st = open_storage(":memory:")
    >>> search_id = st.create_search("demo", {"mode": "max"})
    >>> st.search_names()
    ['demo']
    >>> open_storage(st) is st
    True
    """
    if isinstance(storage, Storage):
        return storage
    if storage is None:
        raise InvalidParameterError(
            "storage=None: nasbook keeps every trial durably; give a file path (default 'nasbook.db') "
            "or ':memory:' for a throw-away search."
        )
    return Storage(storage, create=create)


__all__ = ["SCHEMA_VERSION", "SearchRecord", "Storage", "open_storage"]
