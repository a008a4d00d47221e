"""The knowledge base's catalogue: which task and space each search ran on, and idempotent bulk inserts.

A search's task is known by a stable *task key*: a hash of its configuration (class, parameters,
metric, mode) as JSON with sorted keys, so the same task run from two processes, two machines or
two nasbook versions that configure it alike gets the same key. ``nasbook_tasks`` holds one row per
key (name, config, meta-features, landmarks), ``nasbook_spaces`` one row per ``space_id``;
``nasbook_searches.task_key``, ``space_id`` and ``strategy`` are filled when a search is created.

Rows are added with "insert unless present" (``ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL,
``INSERT IGNORE`` on MySQL), so processes registering the same task at once never collide.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from nasbook._run_only import split_config
from nasbook.storage._schema import TRIAL_COLUMNS, searches, spaces, tasks

_TRIAL_COLS = ("search_id", *TRIAL_COLUMNS)


def task_identity(task_config: Mapping[str, Any]) -> dict[str, Any]:
    """A task configuration without its run-only settings: what its key hashes.

    ``"run_params"`` is left out, and so are the run-only Lightning options (``benchmark``...) that a
    configuration stored before they left the key holds in ``params["trainer"]``, so both forms of one task
    have one identity (the rule: :func:`nasbook._run_only.split_config`).

    Parameters
    ----------
    task_config : Mapping
        ``task.to_config()``.

    Returns
    -------
    dict
        The configuration, run-only settings left out.
    """
    return split_config(task_config)[0]


def task_key(task_config: Mapping[str, Any]) -> str:
    """The stable key of a task configuration (16 hex digits of a SHA-256 of its canonical JSON).

    Run-only settings (``task_config["run_params"]``: ``deterministic``...; in a configuration stored before
    they left the key, the run-only options in ``params["trainer"]``) are left out (:func:`task_identity`):
    trials of a task run with them changed are the same task's.

    Parameters
    ----------
    task_config : Mapping
        ``task.to_config()`` (as stored).

    Returns
    -------
    str
        The same for configurations of equal identity, on every machine.
    """
    text = json.dumps(task_identity(task_config), sort_keys=True, separators=(",", ":"), default=repr, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe_task(task_config: Mapping[str, Any]) -> str:
    """``Class(param=value, ...)``: a task's name when its config does not carry one.

    Parameters
    ----------
    task_config : Mapping
        ``task.to_config()``.

    Returns
    -------
    str
        At most 255 characters.
    """
    params = task_config.get("params", {})
    inner = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items())) if isinstance(params, dict) else ""
    return f"{task_config.get('class', 'Task')}({inner})"[:255]


def strategy_label(config: Mapping[str, Any]) -> str | None:
    strategy = config.get("strategy")
    if isinstance(strategy, dict):
        label = strategy.get("alias") or strategy.get("class")
        return str(label)[:64] if label else None
    return str(strategy)[:64] if isinstance(strategy, str) else None


def catalog_columns(config: Mapping[str, Any]) -> dict[str, Any]:
    """``task_key``, ``space_id`` and ``strategy`` of a search, from its config (None where absent)."""
    task = config.get("task")
    space_id = config.get("space_id")
    return {
        "task_key": task_key(task) if isinstance(task, dict) else None,
        "space_id": str(space_id)[:64] if isinstance(space_id, str) else None,
        "strategy": strategy_label(config),
    }


def insert_ignore(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows whose primary key is not stored yet (the others are left as they are).

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store (inside the caller's transaction where it writes).
    table : sqlalchemy.Table
        One of the store's tables.
    rows : sequence of dict
        Rows by column name; none does nothing.
    """
    if not rows:
        return
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        from sqlalchemy.dialects import postgresql, sqlite

        mod: Any = sqlite if name == "sqlite" else postgresql
        conn.execute(mod.insert(table).on_conflict_do_nothing(), list(rows))
    elif name in ("mysql", "mariadb"):
        conn.execute(table.insert().prefix_with("IGNORE"), list(rows))
    else:  # another database: look first (a racing insert then fails with the primary key's error)
        pk = list(table.primary_key.columns)
        for row in rows:
            if conn.execute(sa.select(*pk).where(*(c == row[c.name] for c in pk))).first() is None:
                conn.execute(table.insert(), [row])


def register(conn: sa.Connection, config: Mapping[str, Any], now: float | None = None) -> None:
    """Add the search config's task and space to the catalogue (inside the caller's transaction)."""
    now = time.time() if now is None else now
    task = config.get("task")
    if isinstance(task, dict):
        name = config.get("task_name")
        name = str(name)[:255] if isinstance(name, str) and name else describe_task(task)
        insert_ignore(conn, tasks, [{"key": task_key(task), "name": name, "config": task_identity(task), "meta_features": None,
                                     "landmarks": None, "created_at": now, "updated_at": now}])
    space_id, space = config.get("space_id"), config.get("space")
    if isinstance(space_id, str) and isinstance(space, dict):
        insert_ignore(conn, spaces, [{"space_id": space_id[:64], "config": space, "created_at": now}])


def backfill(conn: sa.Connection) -> None:
    """Fill the catalogue from every stored search's config (the migration to schema version 3)."""
    from nasbook.storage._records import Damaged, decode_json

    rows = conn.execute(sa.select(searches.c.id, sa.type_coerce(searches.c.config, sa.Text))).all()
    for search_id, text in rows:
        try:
            config = decode_json(text, "config")
        except Damaged:
            continue  # a damaged config stays out of the catalogue; reading that search reports it
        if not isinstance(config, dict):
            continue
        register(conn, config)
        conn.execute(searches.update().where(searches.c.id == search_id).values(**catalog_columns(config)))


def trial_insert_sql(dialect: str, *, ignore: bool, qmark: bool) -> str:
    """``INSERT INTO nasbook_trials`` for all columns (JSON columns given as text); ``ignore``: skip a
    trial whose (search, number) is stored already."""
    head = f"INSERT INTO nasbook_trials ({', '.join(_TRIAL_COLS)}) VALUES "
    values = f"({', '.join('?' * len(_TRIAL_COLS))})" if qmark else f"({', '.join(':' + c for c in _TRIAL_COLS)})"
    if not ignore:
        return head + values
    if dialect in ("sqlite", "postgresql"):
        return head + values + " ON CONFLICT (search_id, number) DO NOTHING"
    if dialect in ("mysql", "mariadb"):
        return head.replace("INSERT INTO", "INSERT IGNORE INTO") + values
    return head + values


def trial_rows(rows: Sequence[Any]) -> Sequence[tuple[Any, ...]]:
    """Rows (by column name, or tuples already) as tuples in :func:`trial_insert_sql`'s column order."""
    if rows and isinstance(rows[0], tuple):
        return rows
    return [tuple(r[c] for c in _TRIAL_COLS) for r in rows]


def trial_dicts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows (tuples in column order, or by name already) by column name."""
    return [dict(zip(_TRIAL_COLS, r)) if isinstance(r, tuple) else r for r in rows]



def pg_insert(dbapi: Any, rows: Sequence[Any], *, ignore: bool) -> None:
    """Trial rows into PostgreSQL through a psycopg (3) connection: COPY (the fastest path), or an
    executemany with ``ON CONFLICT DO NOTHING`` when stored trials are to be skipped."""
    cols = ", ".join(_TRIAL_COLS)
    with dbapi.cursor() as cur:
        if ignore:
            sql = (f"INSERT INTO nasbook_trials ({cols}) VALUES ({', '.join(['%s'] * len(_TRIAL_COLS))}) "
                   "ON CONFLICT (search_id, number) DO NOTHING")
            cur.executemany(sql, trial_rows(rows))
            return
        with cur.copy(f"COPY nasbook_trials ({cols}) FROM STDIN") as copy:
            for row in trial_rows(rows):
                copy.write_row(row)
