"""The bulk insert of ready-made trial rows (``Storage.insert_trial_rows``, the fast path of
``KnowledgeBase.ingest``): executemany on SQLite, COPY on PostgreSQL with psycopg, ``sa.text`` elsewhere.

The body of ``Storage.insert_trial_rows`` (kept there with its docstring); it takes the storage first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from nasbook._errors import StorageError
from nasbook.storage import _catalog, _stats

if TYPE_CHECKING:
    from nasbook.storage._sql import Storage


def insert_trial_rows(st: Storage, rows: Sequence[Any], *, ignore_existing: bool = False) -> None:
    """The body of ``Storage.insert_trial_rows``: all of ``rows`` in one transaction, then COMMIT, or none."""
    if not rows:
        return
    dialect, driver = st.engine.dialect.name, st.engine.dialect.driver
    conn = st.conn
    try:
        if (st._sqlite or (dialect == "postgresql" and driver == "psycopg")) and not conn.in_transaction():
            dbapi: Any = conn.connection.dbapi_connection
            try:
                if st._sqlite:
                    sql = _catalog.trial_insert_sql(dialect, ignore=ignore_existing, qmark=True)
                    dbapi.executemany(sql, _catalog.trial_rows(rows))
                    _stats.record_rows(dbapi.execute, dbapi.executemany, dialect, rows)
                else:
                    _catalog.pg_insert(dbapi, rows, ignore=ignore_existing)
                    with dbapi.cursor() as cur:
                        _stats.record_rows(lambda q, p: cur.execute(q, p), lambda q, p: cur.executemany(q, p),
                                           dialect, rows, pyformat=True)
                dbapi.commit()
            except BaseException:
                dbapi.rollback()
                raise
            return
        sql = _catalog.trial_insert_sql(dialect, ignore=ignore_existing, qmark=False)
        try:
            conn.execute(sa.text(sql), _catalog.trial_dicts(rows))
            _stats.record_rows(_stats.sa_execute(conn), _stats.sa_execute(conn), dialect, rows)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    except (IntegrityError, sqlite3.IntegrityError) as exc:
        raise StorageError(
            f"storage {st.label!r} refused the trials: {st._target.scrub(str(getattr(exc, 'orig', exc)))} "
            "(a trial number stored twice for one search, or a search that does not exist). Nothing was stored."
        ) from None
    except (DatabaseError, OperationalError, sqlite3.Error) as exc:
        raise st._wrap(exc) from None
