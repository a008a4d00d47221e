"""Task keys brought up to the current identity rule (the migration to schema version 6).

Searches stored before run-only Lightning options (``benchmark``, ``detect_anomaly``...) left a task's key
hold them in ``config["task"]["params"]["trainer"]``; their ``task_key`` column, their ``nasbook_tasks`` row
and their warm-start aggregates were filed under a key that hashed them, so a knowledge base counted them
as another task than the same task stored now. :func:`rekey` files them under the key
:func:`~nasbook.storage.task_key` gives their configuration now (:func:`~nasbook.storage.task_identity`):

* each search whose stored key differs from its configuration's gets the new key (its configuration itself
  is left as it was: ``load_search`` reads either form);
* each task row whose configuration is of the old form moves to its identity's key with its identity as
  config; where a row of that key exists, the two become one: the name and config of the existing row, its
  meta-features and landmarks with the moved row's filling the names it lacks, the earlier creation time;
* the aggregates of every (space, key) that lost or gained searches are computed again from the trials.

Rows whose configuration cannot be read are left as they are (reading them reports the damage). It all runs
in the open's write transaction: an open that fails changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from nasbook.storage._catalog import register, task_identity, task_key
from nasbook.storage._schema import arch_stats, searches, task_ranks, tasks


def rekeyed_task_row(key: str, config: Any) -> tuple[str, Any]:
    """The key and config a stored task row has under the current rule.

    Parameters
    ----------
    key : str
        The row's stored key.
    config : object
        Its stored configuration (decoded JSON).

    Returns
    -------
    tuple
        ``(task_key(identity), identity)`` for a configuration of the old form (run-only options in
        ``params["trainer"]``, or ``run_params``); ``(key, config)`` as given for any other.
    """
    if isinstance(config, Mapping):
        identity = task_identity(config)
        if identity != config:
            return task_key(identity), identity
    return key, config


def _decoded(text: Any) -> Any:
    from nasbook.storage._records import Damaged, decode_json

    try:
        return None if text is None else decode_json(text, "config")
    except Damaged:
        return None


def _merged(old: Any, new: Any) -> Any:
    """``new``'s entries with ``old``'s filling the names it lacks (None when neither has any)."""
    if not isinstance(old, dict) or not old:
        return new
    return {**old, **new} if isinstance(new, dict) else old


def rekeyed_task_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Task rows (``key``, ``name``, ``config``, ``meta_features``, ``landmarks``, ``created_at``...) under their
    keys now: what :func:`rekey` makes of them, for rows about to be written (an import).

    Parameters
    ----------
    rows : list of dict
        Task rows by column name.

    Returns
    -------
    list of dict
        One row per key, in the order of the keys' first rows: each moved row under its identity's key
        (:func:`rekeyed_task_row`); rows that now share a key become one: the name and config of the
        first that kept its key (else the first), the meta-features and landmarks of the others filling
        the names it lacks, the earliest creation time.
    """
    out: dict[str, tuple[bool, dict[str, Any]]] = {}  # key -> (whether its row was moved, the row)
    for row in rows:
        key, config = rekeyed_task_row(row["key"], row["config"])
        was_moved, row = key != row["key"], {**row, "key": key, "config": config}
        if key not in out:
            out[key] = (was_moved, row)
            continue
        first_moved, first = out[key]
        keep, fill = (row, first) if first_moved and not was_moved else (first, row)
        out[key] = (first_moved and was_moved, {
            **keep, "meta_features": _merged(fill["meta_features"], keep["meta_features"]),
            "landmarks": _merged(fill["landmarks"], keep["landmarks"]),
            "created_at": min(keep["created_at"], fill["created_at"])})
    return [row for _, row in out.values()]


def _move_task(conn: sa.Connection, old_key: str, new_key: str, config: Any, now: float) -> None:
    k = tasks.c
    text = sa.Text
    row = conn.execute(sa.select(k.name, sa.type_coerce(k.meta_features, text), sa.type_coerce(k.landmarks, text),
                                 k.created_at).where(k.key == old_key)).one()
    name, meta, marks, created = row[0], _decoded(row[1]), _decoded(row[2]), row[3]
    there = conn.execute(sa.select(sa.type_coerce(k.meta_features, text), sa.type_coerce(k.landmarks, text),
                                   k.created_at).where(k.key == new_key)).first()
    conn.execute(tasks.delete().where(k.key == old_key))
    if there is None:
        conn.execute(tasks.insert().values(key=new_key, name=name, config=config, meta_features=meta, landmarks=marks,
                                           created_at=created, updated_at=now))
        return
    conn.execute(tasks.update().where(k.key == new_key).values(
        meta_features=_merged(meta, _decoded(there[0])), landmarks=_merged(marks, _decoded(there[1])),
        created_at=min(float(created), float(there[2])), updated_at=now))


def rekey(conn: sa.Connection) -> None:
    """File every stored task and search under the key its configuration has now (inside the open transaction).

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store, inside the write transaction that migrates it.
    """
    from nasbook.storage import _stats

    now = time.time()
    k = tasks.c
    for key, text in conn.execute(sa.select(k.key, sa.type_coerce(k.config, sa.Text)).order_by(k.key)).all():
        new_key, config = rekeyed_task_row(key, _decoded(text))
        if new_key != key:
            _move_task(conn, key, new_key, config, now)
    s = searches.c
    changed: set[tuple[str, str]] = set()  # (space, key) pairs whose searches changed
    for sid, key, space_id, text in conn.execute(
            sa.select(s.id, s.task_key, s.space_id, sa.type_coerce(s.config, sa.Text)).order_by(s.id)).all():
        config = _decoded(text)
        task = config.get("task") if isinstance(config, dict) else None
        if not isinstance(task, dict) or key is None or task_key(task) == key:
            continue
        register(conn, config, now)  # its task row, where the task rows held none of its new key
        conn.execute(searches.update().where(s.id == sid).values(task_key=task_key(task)))
        if space_id is not None:
            changed |= {(space_id, key), (space_id, task_key(task))}
    for space_id, key in sorted(changed):
        conn.execute(arch_stats.delete().where(arch_stats.c.space_id == space_id, arch_stats.c.task_key == key))
        conn.execute(task_ranks.delete().where(task_ranks.c.space_id == space_id, task_ranks.c.task_key == key))
    for space_id, key in sorted(changed):
        _stats.rebuild(conn, space_id, key)  # a key with no search left keeps no aggregates
