"""The filters of :class:`~nasbook.knowledge.KnowledgeBase` queries: which tasks, spaces, searches and states.

The bodies of ``KnowledgeBase._catalog``, ``_where``, ``task_keys`` and ``_space_id`` (kept there
with their docstrings); each takes the knowledge base as its first argument and reads the store
through ``kb._rows``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, did_you_mean
from nasbook.knowledge import _frames
from nasbook.storage import TABLES

if TYPE_CHECKING:
    from nasbook.knowledge._kb import KnowledgeBase

many = _frames.many  # a filter's values as a list (numpy arrays and Series of names too)
_S, _T, _K, _P = TABLES["searches"], TABLES["trials"], TABLES["tasks"], TABLES["spaces"]


def catalog(kb: KnowledgeBase) -> tuple[dict[str, str], set[str], list[str]]:
    """(task key -> name, space ids, search names)."""
    keys = {str(k): str(n) for k, n in kb._rows(sa.select(_K.c.key, _K.c.name))}
    spaces = {str(r[0]) for r in kb._rows(sa.select(_P.c.space_id))}
    names = [str(r[0]) for r in kb._rows(sa.select(_S.c.name).order_by(_S.c.id))]
    return keys, spaces, names


def where(kb: KnowledgeBase, task: Any, space: Any, search: Any, states: Any) -> list[Any]:
    """The WHERE clauses of :meth:`KnowledgeBase.trials <nasbook.knowledge.KnowledgeBase.trials>`'s filters."""
    from nasbook.knowledge._kb import ALL_STATES

    keys, spaces, names = catalog(kb)
    where: list[Any] = []
    if task is not None:
        where.append(_S.c.task_key.in_(kb.task_keys(task, _keys=keys)))
    if space is not None:
        where.append(_S.c.space_id.in_([space_id(kb, s, spaces) for s in many(space)]))
    if search is not None:
        wanted = [s if isinstance(s, str) else getattr(s, "name", s) for s in many(search)]
        for name in wanted:
            if name not in names:
                raise InvalidParameterError(f"KnowledgeBase.trials(search=...): no search named {name!r} in "
                                            f"{kb.label!r}; searches there: {names[:10]!r}{did_you_mean(str(name), names)}.")
        where.append(_S.c.name.in_(wanted))
    if states is not None:
        where.append(_T.c.state.in_(_frames.trial_states(states, ALL_STATES)))
    return where


def task_keys(kb: KnowledgeBase, task: Any, keys: dict[str, str] | None) -> list[str]:
    """:meth:`KnowledgeBase.task_keys <nasbook.knowledge.KnowledgeBase.task_keys>` (``keys``: the catalog's, if read)."""
    keys = catalog(kb)[0] if keys is None else keys
    out: list[str] = []
    for t in many(task):
        if isinstance(t, str):
            found = [t] if t in keys else [k for k, n in keys.items() if n == t]
        elif hasattr(t, "to_config"):
            found = [kb.task_key(t)]
            found = found if found[0] in keys else []
        else:
            raise InvalidParameterTypeError(f"a task filter must be a Task, a task key or a task name; got {t!r:.80} "
                                            f"of type {type(t).__name__}.")
        if not found:
            names = sorted(set(keys.values()))
            raise InvalidParameterError(
                f"task {getattr(t, 'name', t)!r} is not in knowledge base {kb.label!r}; tasks there: {names[:10]!r}"
                f"{did_you_mean(str(getattr(t, 'name', t)), names)}. Run a Search(..., kb=kb) on it or kb.ingest(...) its trials.")
        out += found
    return out


def space_id(kb: KnowledgeBase, space: Any, known: set[str]) -> str:
    """The ``space_id`` a SearchSpace or id stands for, if ``known`` (the stored ones); an error otherwise."""
    sid = space if isinstance(space, str) else getattr(space, "space_id", None)
    if not isinstance(sid, str):
        raise InvalidParameterTypeError(f"a space filter must be a SearchSpace or a space_id; got {space!r:.80}.")
    if sid not in known:
        raise InvalidParameterError(
            f"space {sid!r} has never been seen by knowledge base {kb.label!r}; spaces there: "
            f"{sorted(known)[:10]!r}. Its architectures have no recorded trials here.")
    return sid

