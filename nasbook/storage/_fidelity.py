"""The knowledge base's top-fidelity rule in SQL: one definition (SQLAlchemy core) for every query that uses it.

The rule (:func:`nasbook.knowledge.top_fidelity` states it on a DataFrame): a trial counts for quality
when it is complete with a finite value, in a catalogued search (its task and space known), and,
within its search, was trained for that search's most epochs among such trials, or has no
``epochs`` recorded. :func:`top_fidelity_trials` is that rule as a subquery; the stored warm-start
ranks (:func:`top_fidelity_cells`), the multi-fidelity check (:func:`mixed_fidelity_tasks`) and the
best per task (``KnowledgeBase.tasks``, :func:`best_counted`) all read it; their statements are built once,
with bound parameters (building one per call cost more than running it on a small task), so SQLite and PostgreSQL answer alike: NaN is
NULL on SQLite and above every number on PostgreSQL, and the finite bounds drop it on both.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from nasbook.storage._schema import searches as _S
from nasbook.storage._schema import space_archs as _A
from nasbook.storage._schema import trials as _T

#: the largest finite float: a value within +-it is finite (NaN and the infinities fail, on both backends)
_BIG = 1.7976931348623157e308


def counts(*where: Any, catalogued: bool = True) -> sa.ColumnElement[bool]:
    """The condition on ``nasbook_trials JOIN nasbook_searches`` of a trial that may count: complete, a
    finite value, a search with a task and a space (unless ``catalogued`` is False: a search's own best, in
    ``KnowledgeBase.searches``, needs neither); and ``where``."""
    known = (_S.c.task_key.is_not(None), _S.c.space_id.is_not(None)) if catalogued else ()
    return sa.and_(_T.c.state == "complete", _T.c.value.is_not(None), _T.c.value >= -_BIG, _T.c.value <= _BIG,
                   *known, *where)


def top_fidelity_trials(*where: Any, catalogued: bool = True) -> sa.Subquery:
    """The trials that count by the top-fidelity rule among those ``where`` selects.

    Parameters
    ----------
    *where : sqlalchemy.ColumnElement
        Conditions on the trials and searches tables (a task, a space), added to :func:`counts`.
    catalogued : bool, default True
        Only searches with a task and a space (every quality aggregate); False also counts the others (a
        search's own best).

    Returns
    -------
    sqlalchemy.Subquery
        Columns ``id``, ``search_id``, ``search`` (its name), ``task_key``, ``space_id``, ``arch_id``,
        ``value``, ``epochs``.
    """
    joined = _T.join(_S, _S.c.id == _T.c.search_id)
    ok = counts(*where, catalogued=catalogued)
    top = (sa.select(_T.c.search_id, sa.func.max(_T.c.epochs).label("top")).select_from(joined).where(ok)
           .group_by(_T.c.search_id).subquery("fidelity_top"))
    return (sa.select(_T.c.id, _T.c.search_id, _S.c.name.label("search"), _S.c.task_key, _S.c.space_id, _T.c.arch_id,
                      _T.c.value, _T.c.epochs)
            .select_from(joined.join(top, top.c.search_id == _T.c.search_id))
            .where(ok, sa.or_(_T.c.epochs.is_(None), _T.c.epochs == top.c.top))
            .subquery("top_fidelity"))


@functools.cache
def _cells_statement() -> sa.Select[Any]:
    sub = top_fidelity_trials(_S.c.space_id == sa.bindparam("sp"), _S.c.task_key == sa.bindparam("tk"))
    return (sa.select(_A.c.no, sub.c.search_id, sa.func.max(sub.c.value), sa.func.min(sub.c.value))
            .select_from(sub.join(_A, sa.and_(_A.c.space_id == sub.c.space_id, _A.c.arch_id == sub.c.arch_id)))
            .group_by(_A.c.no, sub.c.search_id).order_by(_A.c.no, sub.c.search_id))


def top_fidelity_cells(conn: sa.Connection, space_id: str, task_key: str) -> list[tuple[int, int, float, float]]:
    """The per-(architecture, search) best and worst values of one task's trials that count.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store (inside the caller's transaction where it writes).
    space_id : str
        The space whose aggregates are read or written.
    task_key : str
        The task.

    Returns
    -------
    list of tuple
        ``(architecture no, search id, max value, min value)`` over the trials that count
        (:func:`top_fidelity_trials`), ordered by architecture then search.
    """
    rows = conn.execute(_cells_statement(), {"sp": space_id, "tk": task_key}).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


@functools.cache
def _mixed_statement() -> sa.Select[Any]:
    return (sa.select(_S.c.task_key).select_from(_T.join(_S, _S.c.id == _T.c.search_id))
            .where(counts(_S.c.space_id == sa.bindparam("sp"), _S.c.task_key.in_(sa.bindparam("keys", expanding=True))))
            .group_by(_S.c.task_key, _T.c.search_id)
            .having(sa.func.min(_T.c.epochs) < sa.func.max(_T.c.epochs)))


def mixed_fidelity_tasks(conn: sa.Connection, space_id: str, task_keys: Sequence[str]) -> set[str]:
    """Those of ``task_keys`` with a search whose trials that may count were trained for different epochs.

    Such a task has a multi-fidelity search (ASHA, Hyperband, ...), whose lower rungs must not count
    for quality.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store (inside the caller's transaction where it writes).
    space_id : str
        The space of the tasks.
    task_keys : sequence of str
        Keys of tasks of that space.

    Returns
    -------
    set of str
        The keys of the mixed-fidelity tasks (trials that may count: :func:`counts`).
    """
    if not task_keys:
        return set()
    return {str(k) for k in conn.execute(_mixed_statement(), {"sp": space_id, "keys": list(task_keys)}).scalars().all()}


@functools.cache
def best_counted(mode: str) -> sa.Select[Any]:
    """The statement for the best trial of one task that counts (:func:`top_fidelity_trials`).

    Parameters
    ----------
    mode : {"max", "min"}
        Whether the task's objective is maximised or minimised.

    Returns
    -------
    sqlalchemy.Select
        Selects ``(value, arch_id, search, epochs)`` of the best trial of the task bound as ``:tk``; ties
        go to the trial written first. Built once per mode.
    """
    sub = top_fidelity_trials(_S.c.task_key == sa.bindparam("tk"))
    order = sub.c.value.desc() if mode == "max" else sub.c.value.asc()
    return sa.select(sub.c.value, sub.c.arch_id, sub.c.search, sub.c.epochs).order_by(order, sub.c.id).limit(1)
