"""SQLAlchemy storage: one table of searches, one of trials, one of metadata.

SQLite files run in WAL mode with ``synchronous=NORMAL``: every commit is written to the
write-ahead log before ``commit()`` returns, so a killed process (SIGKILL, a kernel restart)
loses nothing that was committed; only a power cut can lose the last few commits. Pass a
database URL (``postgresql://...``) for a server.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from nasbook._errors import DuplicatedSearchError, InvalidParameterError, SearchNotFoundError, StorageError
from nasbook._version import __version__

SCHEMA_VERSION = "1"
_MAGIC = "nasbook"

_md = sa.MetaData()
_meta = sa.Table(
    "nasbook_meta", _md,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
_searches = sa.Table(
    "nasbook_searches", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("nasbook_version", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("elapsed_s", sa.Float, nullable=False, default=0.0),
)
_trials = sa.Table(
    "nasbook_trials", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("search_id", sa.Integer, sa.ForeignKey("nasbook_searches.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("arch_id", sa.String(64), nullable=False),
    sa.Column("arch", sa.Text, nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("metrics", sa.Text, nullable=False),
    sa.Column("attrs", sa.Text, nullable=False),
    sa.Column("epochs", sa.Integer, nullable=True),
    sa.Column("n_told_before", sa.Integer, nullable=False),
    sa.Column("tell_seq", sa.Integer, nullable=True),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("curves", sa.Text, nullable=False, default="{}"),
    sa.Column("parent", sa.Integer, nullable=True),
    sa.UniqueConstraint("search_id", "number", name="uq_trial_number"),
)


#: Column order of :meth:`Storage.commit_trial`'s ``values``.
TRIAL_COLUMNS: tuple[str, ...] = (
    "number", "state", "arch_id", "arch", "value", "metrics", "attrs", "epochs", "n_told_before",
    "tell_seq", "started_at", "finished_at", "reason", "curves", "parent",
)


@dataclass(frozen=True)
class TrialRow:
    """A trial as stored: plain values, JSON already decoded."""

    number: int
    state: str
    arch_id: str
    arch: dict[str, Any]
    value: float | None
    metrics: dict[str, Any]
    attrs: dict[str, Any]
    epochs: int | None
    n_told_before: int
    tell_seq: int | None
    started_at: float | None
    finished_at: float | None
    reason: str | None
    curves: dict[str, list[float]]
    parent: int | None


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=True)


def _sqlite_pragmas(dbapi_con: Any, _record: Any) -> None:
    dbapi_con.execute("PRAGMA journal_mode=WAL")
    dbapi_con.execute("PRAGMA synchronous=NORMAL")
    dbapi_con.execute("PRAGMA foreign_keys=ON")
    dbapi_con.execute("PRAGMA busy_timeout=10000")


def _to_url(storage: str | os.PathLike[str]) -> tuple[str, str]:
    """Return (SQLAlchemy URL, human label) for a path, ':memory:' or a URL."""
    if isinstance(storage, os.PathLike):
        storage = os.fspath(storage)
    if not isinstance(storage, str) or not storage:
        raise InvalidParameterError(
            "storage must be a file path, ':memory:', a database URL such as 'sqlite:///runs.db' or "
            f"'postgresql://host/db', or a nasbook Storage; got {storage!r}."
        )
    if storage == ":memory:":
        return "sqlite://", ":memory:"
    if "://" in storage:
        return storage, storage
    path = Path(storage).expanduser()
    if path.is_dir():
        raise InvalidParameterError(f"storage={storage!r} is a directory; give a file path such as {str(path / 'nasbook.db')!r}.")
    return f"sqlite:///{path}", str(path)


class Storage:
    """A nasbook database: searches and their trials.

    Parameters
    ----------
    url : str or path
        A SQLite file path (created if missing), ``":memory:"``, or any SQLAlchemy URL.
    """

    def __init__(self, url: str | os.PathLike[str] = "nasbook.db"):
        self.url, self.label = _to_url(url)
        self._path = None if not self.url.startswith("sqlite:///") else Path(self.url[len("sqlite:///"):])
        if self._path is not None and self._path.exists() and self._path.stat().st_size > 0:
            _check_sqlite_header(self._path)
        kwargs: dict[str, Any] = {}
        if self.url == "sqlite://":
            kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        elif self.url.startswith("sqlite"):
            kwargs = {"connect_args": {"check_same_thread": False}}
        try:
            self.engine = sa.create_engine(self.url, **kwargs)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise InvalidParameterError(f"storage={self.label!r} is not a usable database URL: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._conn: sa.Connection | None = None
        self._ins_trial = _trials.insert()
        # the hot path: a plain INSERT in the driver's own paramstyle skips SQLAlchemy's
        # statement compilation (about half the per-trial cost on SQLite)
        self._trial_cols = ["search_id", *TRIAL_COLUMNS]
        ph = {"qmark": "?", "numeric": ":{i}", "named": ":{n}", "format": "%s", "pyformat": "%({n})s"}[
            self.engine.dialect.paramstyle
        ]
        self._raw_insert = "INSERT INTO nasbook_trials ({}) VALUES ({})".format(
            ", ".join(self._trial_cols),
            ", ".join(ph.format(i=i + 1, n=n) for i, n in enumerate(self._trial_cols)),
        )
        self._named = self.engine.dialect.paramstyle in ("named", "pyformat")
        self._sqlite = self.engine.dialect.name == "sqlite" and self.engine.dialect.driver == "pysqlite"
        self._init_schema()

    # -- connection -----------------------------------------------------------------------------
    @property
    def conn(self) -> sa.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self.engine.connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url if self.url != "sqlite://" else ":memory:"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"Storage({self.label!r})"

    def _wrap(self, exc: Exception) -> StorageError:
        return StorageError(f"storage {self.label!r} failed: {exc}")

    def _init_schema(self) -> None:
        try:
            insp = sa.inspect(self.conn)
            tables = set(insp.get_table_names())
        except (DatabaseError, OperationalError) as exc:
            self.close()
            raise StorageError(f"storage {self.label!r} cannot be opened as a database: {exc.orig}") from exc
        if tables and "nasbook_meta" not in tables:
            self.close()
            raise StorageError(
                f"storage {self.label!r} is a database of something else (tables {sorted(tables)[:5]!r}), "
                "not a nasbook storage; nasbook will not write into it. Give a new file path."
            )
        if not tables:
            _md.create_all(self.conn)
            self.conn.execute(_meta.insert(), [
                {"key": "magic", "value": _MAGIC},
                {"key": "schema_version", "value": SCHEMA_VERSION},
                {"key": "created_by", "value": __version__},
            ])
            self.conn.commit()
            return
        rows = dict(self.conn.execute(sa.select(_meta.c.key, _meta.c.value)).all())
        if rows.get("magic") != _MAGIC:
            self.close()
            raise StorageError(f"storage {self.label!r} has a nasbook_meta table without nasbook's marker; refusing to use it.")
        if rows.get("schema_version") != SCHEMA_VERSION:
            self.close()
            raise StorageError(
                f"storage {self.label!r} has schema version {rows.get('schema_version')!r}; this nasbook "
                f"({__version__}) reads version {SCHEMA_VERSION!r}."
            )
        missing = {"nasbook_searches", "nasbook_trials"} - tables
        if missing:
            self.close()
            raise StorageError(f"storage {self.label!r} is damaged: tables {sorted(missing)!r} are missing.")

    # -- searches --------------------------------------------------------------------------------
    def create_search(self, name: str, config: dict[str, Any]) -> int:
        try:
            res = self.conn.execute(_searches.insert().values(
                name=name, created_at=time.time(), nasbook_version=__version__, state="created",
                config=_dumps(config), elapsed_s=0.0,
            ))
            self.conn.commit()
        except IntegrityError as exc:
            self.conn.rollback()
            raise DuplicatedSearchError(
                f"A search named {name!r} already exists in {self.label!r}. Resume it with "
                f"nasbook.load_search({name!r}, storage={self.label!r}), or pick another name."
            ) from exc
        except (DatabaseError, OperationalError) as exc:
            self.conn.rollback()
            raise self._wrap(exc) from exc
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    def get_search(self, name: str) -> tuple[int, dict[str, Any], str, float]:
        row = self.conn.execute(
            sa.select(_searches.c.id, _searches.c.config, _searches.c.state, _searches.c.elapsed_s).where(_searches.c.name == name)
        ).first()
        self.conn.commit()
        if row is None:
            names = self.search_names()
            from nasbook._errors import did_you_mean

            raise SearchNotFoundError(
                f"No search named {name!r} in {self.label!r}. Searches there: {names[:10]!r}{did_you_mean(name, names)}."
            )
        try:
            config = json.loads(row.config)
        except json.JSONDecodeError as exc:
            raise StorageError(f"search {name!r} in {self.label!r} has a corrupt configuration: {exc}") from exc
        return int(row.id), config, str(row.state), float(row.elapsed_s)

    def search_names(self) -> list[str]:
        names = [r[0] for r in self.conn.execute(sa.select(_searches.c.name).order_by(_searches.c.id))]
        self.conn.commit()
        return names

    def update_search(self, search_id: int, *, state: str | None = None, config: dict[str, Any] | None = None, elapsed_s: float | None = None) -> None:
        values: dict[str, Any] = {}
        if state is not None:
            values["state"] = state
        if config is not None:
            values["config"] = _dumps(config)
        if elapsed_s is not None:
            values["elapsed_s"] = elapsed_s
        if values:
            self.conn.execute(_searches.update().where(_searches.c.id == search_id).values(**values))
            self.conn.commit()

    # -- trials ----------------------------------------------------------------------------------
    def commit_trial(self, search_id: int, values: tuple[Any, ...]) -> None:
        """Insert one finished trial and commit: it is durable when this returns.

        ``values`` follows :data:`TRIAL_COLUMNS`, JSON fields already dumped (the hot path of a
        tabular search: no dicts, no statement compilation).
        """
        conn = self.conn
        params: Any = (search_id, *values)
        if self._named:
            params = dict(zip(self._trial_cols, params))
        try:
            if self._sqlite and not conn.in_transaction():
                # SQLite: one INSERT and one COMMIT on the DBAPI connection SQLAlchemy pooled
                dbapi = conn.connection.dbapi_connection
                try:
                    dbapi.execute(self._raw_insert, params)  # type: ignore[union-attr]
                    dbapi.commit()  # type: ignore[union-attr]
                except BaseException:
                    dbapi.rollback()  # type: ignore[union-attr]
                    raise
                return
            conn.exec_driver_sql(self._raw_insert, params)
            conn.commit()
        except (IntegrityError, sqlite3.IntegrityError) as exc:
            conn.rollback()
            raise StorageError(
                f"trial {values[0]} is already stored in {self.label!r}: is another process running "
                "this search? (load it again to continue from what is committed)"
            ) from exc
        except (DatabaseError, OperationalError, sqlite3.Error) as exc:
            conn.rollback()
            raise self._wrap(exc) from exc

    def finish_trial(self, search_id: int, values: tuple[Any, ...]) -> None:
        """Overwrite the row of trial ``values[0]`` (e.g. RUNNING -> COMPLETE) and commit."""
        row = dict(zip(TRIAL_COLUMNS, values))
        number = row.pop("number")
        try:
            self.conn.execute(
                _trials.update().where(_trials.c.search_id == search_id, _trials.c.number == number).values(**row)
            )
            self.conn.commit()
        except (DatabaseError, OperationalError) as exc:
            self.conn.rollback()
            raise self._wrap(exc) from exc

    def delete_trials(self, search_id: int, numbers: list[int]) -> None:
        """Remove unfinished trials (never finished ones) and commit."""
        if not numbers:
            return
        t = _trials.c
        self.conn.execute(
            _trials.delete().where(t.search_id == search_id, t.number.in_(numbers), t.state.in_(["running", "queued"]))
        )
        self.conn.commit()

    def iter_trials(self, search_id: int) -> Iterator[TrialRow]:
        t = _trials.c
        q = sa.select(
            t.number, t.state, t.arch_id, t.arch, t.value, t.metrics, t.attrs, t.epochs, t.n_told_before,
            t.tell_seq, t.started_at, t.finished_at, t.reason, t.curves, t.parent,
        ).where(t.search_id == search_id).order_by(t.number)
        rows = self.conn.execute(q).all()
        self.conn.commit()
        for r in rows:
            try:
                yield TrialRow(
                    int(r.number), str(r.state), str(r.arch_id), json.loads(r.arch),
                    None if r.value is None else float(r.value), json.loads(r.metrics), json.loads(r.attrs),
                    r.epochs, int(r.n_told_before), r.tell_seq, r.started_at, r.finished_at, r.reason,
                    json.loads(r.curves), r.parent,
                )
            except (json.JSONDecodeError, TypeError, ValueError) as exc:
                raise StorageError(f"trial {r.number} in {self.label!r} is corrupt: {exc}") from exc


def _check_sqlite_header(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise StorageError(
            f"storage {str(path)!r} is not a SQLite database (it starts with {head[:16]!r}); "
            "nasbook will not overwrite it. Give a new file path or a database URL."
        )


def open_storage(storage: Storage | str | os.PathLike[str] | None) -> Storage:
    """Return a :class:`Storage` for a path, ``":memory:"`` or a database URL."""
    if isinstance(storage, Storage):
        return storage
    if storage is None:
        raise InvalidParameterError(
            "storage=None: nasbook keeps every trial durably; give a file path (default 'nasbook.db') "
            "or ':memory:' for a throw-away search."
        )
    return Storage(storage)


__all__ = ["SCHEMA_VERSION", "Storage", "TrialRow", "open_storage"]


# --- TEMPORARY adapter (replaced by the storage rework): the new API over the old tables ---------
@dataclass(frozen=True)
class SearchRecord:
    id: int
    name: str
    config: dict[str, Any]
    state: str
    elapsed_s: float


def _tmp_row(trial: Any, tell_seq: int | None) -> tuple[Any, ...]:
    return (trial.number, trial.state.value, trial.arch.id, trial.arch.to_json(), trial.value,
            _dumps(trial.metrics), _dumps(trial.attrs), trial.epochs, trial.n_told_before, tell_seq,
            trial.started_at, trial.finished_at, trial.reason, _dumps(trial.curves), trial.parent)


def _tmp_add(self: Storage, search_id: int, trial: Any, *, tell_seq: int | None = None) -> None:
    self.commit_trial(search_id, _tmp_row(trial, tell_seq))


def _tmp_update(self: Storage, search_id: int, trial: Any, *, tell_seq: int | None = None) -> None:
    self.finish_trial(search_id, _tmp_row(trial, tell_seq))


def _tmp_load(self: Storage, search_id: int, space: Any) -> tuple[list[Any], dict[int, int]]:
    from nasbook.trial import Trial, TrialState
    out, seq = [], {}
    for row in self.iter_trials(search_id):
        arch = space.from_dict(row.arch)
        out.append(Trial(row.number, arch, TrialState(row.state), row.value, row.metrics, row.attrs, row.epochs,
                         row.started_at, row.finished_at, row.reason, row.n_told_before, row.curves, row.parent))
        if row.tell_seq is not None:
            seq[row.number] = row.tell_seq
    return out, seq


def _tmp_get(self: Storage, name: str) -> SearchRecord:
    sid, config, state, elapsed = self._old_get_search(name)
    return SearchRecord(sid, name, config, state, elapsed)


Storage._old_get_search = Storage.get_search  # type: ignore[attr-defined]
Storage.get_search = _tmp_get  # type: ignore[assignment,method-assign]
Storage.add_trial = _tmp_add  # type: ignore[attr-defined]
Storage.update_trial = _tmp_update  # type: ignore[attr-defined]
Storage.load_trials = _tmp_load  # type: ignore[attr-defined]
Storage.acquire_lease = lambda self, sid, owner, ttl_s=60.0: None  # type: ignore[attr-defined]
Storage.renew_lease = lambda self, sid, owner: None  # type: ignore[attr-defined]
Storage.release_lease = lambda self, sid, owner: None  # type: ignore[attr-defined]
_old_open = open_storage


def open_storage(storage: Any, *, create: bool = True) -> Storage:  # type: ignore[no-redef]
    return _old_open(storage)
