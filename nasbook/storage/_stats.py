"""The warm-start aggregates (schema version 4), kept in the same transaction as the trials they come from.

What a warm start reads is, per past task, the rank of every architecture's best value among the
task's architectures. Ranking every trial at query time costs seconds at 10^6 trials, so the store
keeps:

* ``nasbook_space_archs``: one row per (space, architecture) with a finished trial: an integer
  ``no`` (what the ranks are stored by) and the architecture's spec;
* ``nasbook_arch_stats``: one row per (space, task, architecture): the largest and the smallest
  finite value of its complete trials (so either direction can be ranked) and the ids of the
  searches that recorded it (``",3,17,"``);
* ``nasbook_task_ranks``: one row per (space, task): ``changed`` (bumped by every write of the
  task's trials), ``ranked`` (the ``changed`` its ``ranks`` were computed at), the number of
  architectures, and blobs: ``nos`` (the architectures' ``no``, int32), ``qmax`` and ``qmin``
  (float64: each one's quantile when larger values are better, and when smaller ones are).

Writes (:meth:`Storage.add_trial`, ``update_trial``, ``insert_trial_rows``) call :func:`record` on
the rows just written: the first two tables are upserted with max/min (idempotent, so a trial
written twice counts once) and ``changed`` is bumped. A complete trial overwritten by another value,
or trials removed, call :func:`rebuild` for their task (its aggregates recomputed from its trials).
Ranks are recomputed lazily, per task, by :func:`refresh_ranks` on the first read after a write.
Quantiles are ``(rank - 1/2) / n`` with ties sharing their mean rank: ``knowledge.task_quantiles``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from nasbook.storage._schema import STORE_ID, trials
from nasbook.storage._schema import searches as _S
from nasbook.storage._schema import tasks as _K

#: a finite float (NaN is larger than every number on PostgreSQL and NULL on SQLite: both fail this)
_FINITE = "t.value >= -1.7976931348623157e308 AND t.value <= 1.7976931348623157e308"
# the condition of nasbook.storage._fidelity.counts (which the top-fidelity queries use), as text for the upserts
_OK = (f"t.state = 'complete' AND t.value IS NOT NULL AND {_FINITE} AND s.task_key IS NOT NULL "
       "AND s.space_id IS NOT NULL")
_FROM = "FROM nasbook_trials t JOIN nasbook_searches s ON s.id = t.search_id"
_WHERE = "t.search_id = :sid AND t.number >= :lo AND t.number <= :hi"

Execute = Callable[[str, Any], Any]


def _sql(dialect: str) -> tuple[str, str, str]:
    """(archs upsert, stats upsert, task counter upsert) for ``dialect`` (sqlite or postgresql)."""
    hi, lo_, find = ("max", "min", "instr") if dialect == "sqlite" else ("GREATEST", "LEAST", "strpos")
    archs = (f"INSERT INTO nasbook_space_archs (space_id, arch_id, arch) SELECT s.space_id, t.arch_id, MIN(t.arch) "
             f"{_FROM} WHERE {_WHERE} AND {_OK} GROUP BY s.space_id, t.arch_id "
             "ON CONFLICT (space_id, arch_id) DO NOTHING")
    stats = ("INSERT INTO nasbook_arch_stats (space_id, task_key, arch_id, vmax, vmin, searches) "
             "SELECT s.space_id, s.task_key, t.arch_id, MAX(t.value), MIN(t.value), ',' || CAST(s.id AS TEXT) || ',' "
             f"{_FROM} WHERE {_WHERE} AND {_OK} GROUP BY s.space_id, s.task_key, t.arch_id, s.id "
             "ON CONFLICT (space_id, task_key, arch_id) DO UPDATE SET "
             f"vmax = {hi}(nasbook_arch_stats.vmax, excluded.vmax), vmin = {lo_}(nasbook_arch_stats.vmin, excluded.vmin), "
             f"searches = CASE WHEN {find}(nasbook_arch_stats.searches, excluded.searches) > 0 "
             "THEN nasbook_arch_stats.searches ELSE nasbook_arch_stats.searches || substr(excluded.searches, 2) END")
    bump = ("INSERT INTO nasbook_task_ranks (space_id, task_key, changed, ranked, n) "
            "SELECT s.space_id, s.task_key, 1, 0, 0 FROM nasbook_searches s "
            "WHERE s.id = :sid AND s.task_key IS NOT NULL AND s.space_id IS NOT NULL "
            "ON CONFLICT (space_id, task_key) DO UPDATE SET changed = nasbook_task_ranks.changed + 1")
    return archs, stats, bump


_CACHE: dict[tuple[str, bool], tuple[str, ...]] = {}


def statements(dialect: str, *, pyformat: bool = False) -> tuple[str, ...]:
    """:func:`_sql`'s statements, with ``%(name)s`` parameters for a psycopg cursor when ``pyformat``."""
    key = (dialect, pyformat)
    if key not in _CACHE:
        out = _sql(dialect)
        _CACHE[key] = tuple(re.sub(r":(\w+)", r"%(\1)s", s) for s in out) if pyformat else out
    return _CACHE[key]


def supported(dialect: str) -> bool:
    """Whether the aggregates are kept on this database (SQLite and PostgreSQL: both have ON CONFLICT)."""
    return dialect in ("sqlite", "postgresql")


def record(execute: Execute, dialect: str, search_id: int, lo: int, hi: int, *, pyformat: bool = False) -> None:
    """Fold the trials ``lo <= number <= hi`` of a search into the aggregates (inside the caller's transaction)."""
    if not supported(dialect):
        return
    params = {"sid": int(search_id), "lo": int(lo), "hi": int(hi)}
    archs, stats, bump = statements(dialect, pyformat=pyformat)
    execute(archs, params)
    if getattr(execute(stats, params), "rowcount", 1) != 0:  # nothing new for the aggregates: ranks stay valid
        execute(bump, params)


def _upserts(dialect: str, pyformat: bool) -> tuple[str, str, str]:
    """(archs, stats, task counter) upserts of given values, for :func:`record_rows`."""
    key = (dialect + ":values", pyformat)
    if key not in _CACHE:
        stats_sql = _sql(dialect)[1]
        archs = ("INSERT INTO nasbook_space_archs (space_id, arch_id, arch) VALUES (:sp, :a, :spec) "
                 "ON CONFLICT (space_id, arch_id) DO NOTHING")
        stats = ("INSERT INTO nasbook_arch_stats (space_id, task_key, arch_id, vmax, vmin, searches) "
                 "VALUES (:sp, :tk, :a, :vmax, :vmin, :se) " + stats_sql[stats_sql.index("ON CONFLICT"):])
        bump = ("INSERT INTO nasbook_task_ranks (space_id, task_key, changed, ranked, n) VALUES (:sp, :tk, 1, 0, 0) "
                "ON CONFLICT (space_id, task_key) DO UPDATE SET changed = nasbook_task_ranks.changed + 1")
        out = (archs, stats, bump)
        _CACHE[key] = tuple(re.sub(r":(\w+)", r"%(\1)s", q) for q in out) if pyformat else out
    return _CACHE[key]  # type: ignore[return-value]


def record_rows(execute: Execute, executemany: Execute, dialect: str, rows: Sequence[Any], *,
                pyformat: bool = False, keys: dict[int, tuple[Any, Any]] | None = None) -> None:
    """Fold bulk-inserted trial rows (tuples in ``("search_id", *TRIAL_COLUMNS)`` order, or dicts; JSON
    as text) into the aggregates: reduced here, per search and architecture, then one upsert per
    distinct architecture (no per-trial SQL). ``keys``: the caller's cache of each search's (space,
    task), which a search's trials share (a Storage clears it when a search's configuration changes)."""
    if not supported(dialect) or not rows:
        return
    if not isinstance(rows[0], tuple):
        rows = [(r["search_id"], r["number"], r["state"], r["arch_id"], r["arch"], r["value"]) for r in rows]
    by_search: dict[int, dict[str, list[Any]]] = {}
    inf = float("inf")
    for r in rows:
        v = r[5]
        if r[2] != "complete":
            continue
        agg = by_search.setdefault(r[0], {})  # a complete trial without a finite value bumps its task's counter only
        if v is None or not (-inf < v < inf):
            continue
        cell = agg.get(r[3])
        if cell is None:
            agg[r[3]] = [v, v, r[4]]
        elif v > cell[0]:
            cell[0] = v
        elif v < cell[1]:
            cell[1] = v
    archs_sql, stats_sql, bump = _upserts(dialect, pyformat)
    for sid, agg in by_search.items():
        found = None if keys is None else keys.get(sid)
        if found is None:  # (space, task) of the search: asked once per search when the caller keeps ``keys``
            ph = "%(sid)s" if pyformat else ":sid"
            found = execute(f"SELECT space_id, task_key FROM nasbook_searches WHERE id = {ph}", {"sid": sid}).fetchone()
            if found is not None and keys is not None:
                keys[sid] = tuple(found)
        if found is None or found[0] is None:
            continue
        if found[1] is None:  # a search without a task keeps no counter: its space's trials changed all the same
            mark_rewritten(execute, dialect, pyformat=pyformat)
            continue
        sp, tk = found
        se = f",{sid},"
        if not agg:  # only trials without a finite value: nothing to aggregate, but the task's trials changed
            if getattr(execute(_bump_only(dialect, pyformat), {"sp": sp, "tk": tk}), "rowcount", 1) == 0:
                mark_rewritten(execute, dialect, pyformat=pyformat)  # no counter row to bump (no finite value yet)
            continue
        if len(agg) == 1:  # one trial (a search recording as it goes): plain statements
            ((a, c),) = agg.items()
            execute(archs_sql, {"sp": sp, "a": a, "spec": c[2]})
            execute(stats_sql, {"sp": sp, "tk": tk, "a": a, "vmax": c[0], "vmin": c[1], "se": se})
        else:
            executemany(archs_sql, [{"sp": sp, "a": a, "spec": c[2]} for a, c in agg.items()])
            executemany(stats_sql, [{"sp": sp, "tk": tk, "a": a, "vmax": c[0], "vmin": c[1], "se": se}
                                    for a, c in agg.items()])
        execute(bump, {"sp": sp, "tk": tk})


def _bump_only(dialect: str, pyformat: bool) -> str:
    """The task counter bump of a task that has one (a task with no finite value keeps no ranks row)."""
    sql = "UPDATE nasbook_task_ranks SET changed = changed + 1 WHERE space_id = :sp AND task_key = :tk"
    return re.sub(r":(\w+)", r"%(\1)s", sql) if pyformat else sql


#: the ``nasbook_meta`` key of the store's rewrite counter (:func:`mark_rewritten`)
REWRITTEN = "trials_rewritten"


def mark_rewritten(execute: Execute, dialect: str, *, pyformat: bool = False) -> None:
    """Bump the store-wide rewrite counter (``nasbook_meta``, key :data:`REWRITTEN`), in the caller's transaction.

    Called where the complete trials change other than by new rows that bump a task counter: a task's
    aggregates rebuilt (a complete trial overwritten or removed: :func:`rebuild`), and a trial completed
    where no counter is kept (a task without a finite value yet, a search without a task). Readers that
    follow the trials by appended ids (``KnowledgeBase.similar``) read everything again when it moves."""
    if not supported(dialect):
        return
    sql = ("INSERT INTO nasbook_meta (key, value) VALUES (:k, '1') ON CONFLICT (key) DO UPDATE SET "
           "value = CAST(CAST(nasbook_meta.value AS INTEGER) + 1 AS TEXT)")
    execute(re.sub(r":(\w+)", r"%(\1)s", sql) if pyformat else sql, {"k": REWRITTEN})


def sa_execute(conn: sa.Connection) -> Execute:
    return lambda sql, params: conn.execute(sa.text(sql), params)


def rebuild(conn: sa.Connection, space_id: str | None, task_key: str | None) -> None:
    """Recompute one (space, task)'s aggregates from its trials (after a trial was overwritten or removed).

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store (inside the caller's transaction where it writes).
    space_id : str or None
        The space of the search whose trials changed; None (a search without one) does nothing.
    task_key : str or None
        The task's key (:func:`task_key`); None does nothing.
    """
    dialect = conn.dialect.name
    if not supported(dialect) or space_id is None or task_key is None:
        return
    conn.execute(sa.text("DELETE FROM nasbook_arch_stats WHERE space_id = :sp AND task_key = :tk"),
                 {"sp": space_id, "tk": task_key})
    ids = conn.execute(sa.select(_S.c.id).where(_S.c.space_id == space_id, _S.c.task_key == task_key)).scalars().all()
    big = 2**62
    for sid in ids:
        record(sa_execute(conn), dialect, int(sid), -big, big)
    conn.execute(sa.text("UPDATE nasbook_task_ranks SET changed = changed + 1 WHERE space_id = :sp AND task_key = :tk"),
                 {"sp": space_id, "tk": task_key})
    mark_rewritten(sa_execute(conn), dialect)


def row_of(values: dict[str, Any]) -> tuple[Any, ...]:
    """A trial row (by column name) as :func:`record_rows` reads it."""
    return (values["search_id"], values["number"], values["state"], values["arch_id"], values["arch"], values["value"])


def was_complete(st: Any, search_id: int, number: int) -> bool:
    """Whether trial ``number`` of the search is stored complete (so overwriting it may lower a best value)."""
    conn = st.conn
    if st._sqlite and not conn.in_transaction():  # the hot path of every trial: the DBAPI connection, no compile
        dbapi: Any = conn.connection.dbapi_connection
        found = dbapi.execute("SELECT state FROM nasbook_trials WHERE search_id = ? AND number = ?",
                              (search_id, number)).fetchone()  # a SELECT opens no transaction: nothing to commit
        return found is not None and found[0] == "complete"
    t = trials.c
    rows = st._read(sa.select(t.state).where(t.search_id == search_id, t.number == number))
    return bool(rows) and rows[0][0] == "complete"


def overwrite_complete(st: Any, values: dict[str, Any], update_sql: str) -> None:
    """A complete trial written again (a new value, a new state): the update, then its task's
    aggregates recomputed (a best value may have gone), in one transaction."""
    from sqlalchemy.exc import DatabaseError, OperationalError

    conn = st.conn
    try:
        conn.execute(sa.text(update_sql), values)
        row = conn.execute(sa.select(_S.c.space_id, _S.c.task_key).where(_S.c.id == values["search_id"])).first()
        if row is not None:
            rebuild(conn, row[0], row[1])
        conn.commit()
    except (DatabaseError, OperationalError) as exc:
        st._rollback_quietly()
        raise st._wrap(exc) from None


def backfill(conn: sa.Connection) -> None:
    """Fill the aggregates from every stored search (the migration to schema version 4)."""
    big = 2**62
    for sid in conn.execute(sa.select(_S.c.id).order_by(_S.c.id)).scalars().all():
        record(sa_execute(conn), conn.dialect.name, int(sid), -big, big)


def quantiles(values: np.ndarray) -> np.ndarray:
    """``(rank - 1/2) / n`` of each value among ``values`` (ascending; ties share their mean rank).

    Parameters
    ----------
    values : numpy.ndarray
        1-D values.

    Returns
    -------
    numpy.ndarray
        Float64 quantiles in (0, 1), aligned with ``values``; empty for no values.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0)
    order = np.argsort(values, kind="mergesort")
    v = values[order]
    start = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])  # first position of each run of equal values
    ends = np.r_[start[1:], n]
    mean_rank = (start + 1 + ends) / 2.0  # mean of the 1-based ranks start+1 .. ends
    out = np.empty(n)
    out[order] = np.repeat(mean_rank, ends - start)
    return (out - 0.5) / n


def refresh_ranks(conn: sa.Connection, space_id: str, skip: Collection[str] = ()) -> None:
    """Recompute the ranks of every task of ``space_id`` written since they were last ranked.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store (inside the caller's transaction where it writes).
    space_id : str
        The space whose aggregates are read or written.
    skip : collection of str, default ()
        Task keys left alone: tasks the caller ranks otherwise, so their stored ranks stay stale.
    """
    stale = conn.execute(sa.text("SELECT task_key, changed FROM nasbook_task_ranks WHERE space_id = :sp "
                                 "AND changed <> ranked"), {"sp": space_id}).all()
    for task_key, changed in stale:
        if task_key in skip:
            continue
        rows = conn.execute(sa.text(
            "SELECT a.no, s.vmax, s.vmin FROM nasbook_arch_stats s JOIN nasbook_space_archs a "
            "ON a.space_id = s.space_id AND a.arch_id = s.arch_id WHERE s.space_id = :sp AND s.task_key = :tk"),
            {"sp": space_id, "tk": task_key}).all()
        table = np.array([tuple(r) for r in rows], dtype=np.float64).reshape(-1, 3).T
        conn.execute(sa.text("UPDATE nasbook_task_ranks SET ranked = :c, n = :n, nos = :nos, qmax = :qmax, qmin = :qmin "
                             "WHERE space_id = :sp AND task_key = :tk"),
                     {"c": changed, "n": len(rows), "nos": table[0].astype(np.int32).tobytes(),
                      "qmax": quantiles(table[1]).tobytes(), "qmin": quantiles(-table[2]).tobytes(),
                      "sp": space_id, "tk": task_key})


def read_ranks(conn: sa.Connection, space_id: str, modes: dict[str, str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The stored per-task ranks of the tasks of ``modes``.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store (inside the caller's transaction where it writes).
    space_id : str
        The space whose aggregates are read or written.
    modes : dict of str to str
        ``{task_key: "max" or "min"}``: which quantiles to read for each task, those where larger
        values are better or those where smaller ones are.

    Returns
    -------
    dict
        ``{task_key: (nos, quantiles)}``: the architectures' numbers in the space (int32) and their
        quantiles (float64); tasks without ranks are left out.
    """
    out = {}
    for mode in ("max", "min"):
        keys = [k for k, m in modes.items() if m == mode]
        if not keys:
            continue
        inlist = ", ".join(f":k{i}" for i in range(len(keys)))
        rows = conn.execute(sa.text(f"SELECT task_key, nos, q{mode} FROM nasbook_task_ranks WHERE space_id = :sp AND n > 0 "
                                    f"AND task_key IN ({inlist})"),
                            {"sp": space_id, **{f"k{i}": k for i, k in enumerate(keys)}}).all()
        for task_key, nos, q in rows:
            out[str(task_key)] = (np.frombuffer(nos, dtype=np.int32), np.frombuffer(q, dtype=np.float64))
    return out


def ranked_tasks(conn: sa.Connection, space_id: str) -> dict[str, int]:
    """The space's tasks with ranks (call :func:`refresh_ranks` first).

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store (inside the caller's transaction where it writes).
    space_id : str
        The space whose aggregates are read or written.

    Returns
    -------
    dict of str to int
        ``{task_key: number of ranked architectures}``.
    """
    rows = conn.execute(sa.text("SELECT task_key, n FROM nasbook_task_ranks WHERE space_id = :sp AND n > 0"),
                        {"sp": space_id}).all()
    return {str(k): int(n) for k, n in rows}


def trials_token(conn: sa.Connection, space_id: str) -> tuple[Any, ...] | None:
    """A value that changes with every committed write that can change the complete trials of ``space_id``
    as ``KnowledgeBase.trials(space=...)`` reads them (what ``KnowledgeBase.similar`` caches by).

    Four small reads, none over the trials, in this order in the tuple: the space's task counters
    (``nasbook_task_ranks.changed``, bumped by every write of a complete trial and every rebuild of a
    task), the space's searches (id, name, task, task name, configuration: the ``search``, ``task`` and
    ``mode`` columns), the largest trial id (store-wide: any insert moves it), and the store's rewrite
    counter (:func:`mark_rewritten`: a complete trial overwritten or removed, or completed where no task
    counter is kept). A reader that keeps what it read may, when only the counters and the largest id
    moved and no search row changed or went, read just the rows above the largest id it saw and the
    unfinished rows it saw (completed in place since); anything else changed the trials otherwise.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store.
    space_id : str
        The space.

    Returns
    -------
    tuple or None
        Equal tokens: no such write committed between the two reads. None on a database without
        the aggregates (:func:`supported`): compare nothing then.
    """
    if not supported(conn.dialect.name):
        return None
    counters = conn.execute(sa.text("SELECT task_key, changed FROM nasbook_task_ranks WHERE space_id = :sp "
                                    "ORDER BY task_key"), {"sp": space_id}).all()
    cat = conn.execute(sa.select(_S.c.id, _S.c.name, _S.c.task_key, _K.c.name, sa.type_coerce(_S.c.config, sa.Text))
                       .select_from(_S.outerjoin(_K, _K.c.key == _S.c.task_key))
                       .where(_S.c.space_id == space_id).order_by(_S.c.id)).all()
    top = conn.execute(sa.select(sa.func.max(trials.c.id))).scalar()
    rewritten = conn.execute(sa.text("SELECT value FROM nasbook_meta WHERE key = :k"), {"k": REWRITTEN}).scalar()
    return tuple(map(tuple, counters)), tuple(map(tuple, cat)), top, rewritten


def store_id(conn: sa.Connection) -> str | None:
    """The store's identity (``nasbook_meta``, key ``store_id``): a random id, different for every store created,
    so a database dropped and created again at the same URL is another store. A store an older nasbook created
    has none: it is written here (in the caller's transaction; two processes asking at once agree on the first).

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store.

    Returns
    -------
    str or None
        The id; None on a database without the aggregates (:func:`supported`).
    """
    if not supported(conn.dialect.name):
        return None
    read = sa.text("SELECT value FROM nasbook_meta WHERE key = :k")
    found = conn.execute(read, {"k": STORE_ID}).scalar()
    if found is None:
        import uuid

        conn.execute(sa.text("INSERT INTO nasbook_meta (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING"),
                     {"k": STORE_ID, "v": uuid.uuid4().hex})
        found = conn.execute(read, {"k": STORE_ID}).scalar()
    return None if found is None else str(found)
