"""The knowledge base's top-fidelity rule in SQL: one definition (SQLAlchemy core) for every query that uses it.

The rule (:func:`nasbook.knowledge.top_fidelity` states it on a DataFrame): a trial counts for quality
when it is complete with a finite value, in a catalogued search (its task and space known), and,
within its search, was trained for that search's most epochs among such trials, or has no
``epochs`` recorded. :func:`top_fidelity_trials` is that rule as a subquery; the stored warm-start
ranks (:func:`top_fidelity_cells`), the multi-fidelity check (:func:`mixed_fidelity_tasks`) and the
best per task (``KnowledgeBase.tasks``, :func:`best_counted`) and per search (``Storage.list_searches``, ``nasbook
list``, ``KnowledgeBase.searches``: :func:`best_of_searches`) all read it; :class:`TopFidelityBest` is the same rule
kept as trials arrive (``Search.best``, its repr and views), so every "best" of a search is the same trial; their statements are built once,
with bound parameters (building one per call cost more than running it on a small task), so SQLite and PostgreSQL answer alike: NaN is
NULL on SQLite and above every number on PostgreSQL, and the finite bounds drop it on both.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nasbook.storage._schema import searches as _S
from nasbook.storage._schema import space_archs as _A
from nasbook.storage._schema import trials as _T

if TYPE_CHECKING:
    from nasbook.trial import Trial

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


class TopFidelityBest:
    """The best trial of one search by the top-fidelity rule, kept as its trials arrive (``Search.best``).

    A trial counts when it is complete with a finite value and was trained for the most epochs among the
    trials that count so far, or has no ``epochs`` recorded; the best is the highest (``mode="min"``: lowest)
    value among them, ties to the trial added first. So an ASHA search's best is its best trial at the
    highest rung reached, never a lucky 1-epoch score. O(1) per trial. :func:`search_bests` and
    :func:`best_of_searches` apply it to the stored trials of every search.

    Parameters
    ----------
    mode : {"max", "min"}
        Whether the objective is maximised or minimised.
    trials : iterable of Trial, optional
        Trials to add at once, in the order they were written.
    """

    __slots__ = ("_free", "_min", "best", "top", "value")

    def __init__(self, mode: str, trials: Iterable[Trial] = ()) -> None:
        self._min = mode == "min"
        self.top: int | None = None  # the most epochs among the trials that count
        self.best: Any = None  # the best trial (or what offer() was given)
        self.value: float | None = None  # its value
        self._free: tuple[float, Any] | None = None  # the best of those without epochs (they count at every top)
        for trial in trials:
            self.add(trial)

    def _beats(self, a: float, b: float) -> bool:
        return a < b if self._min else a > b

    def offer(self, value: float, epochs: int | None, item: Any) -> None:
        """Count ``item`` with this finite ``value`` and ``epochs`` by the rule.

        Parameters
        ----------
        value : float
            Its finite value.
        epochs : int or None
            Its epochs (None: it counts at every top).
        item : object
            The trial, or what stands for it (``best`` is the best one's).
        """
        if epochs is None:
            if self._free is None or self._beats(value, self._free[0]):
                self._free = (value, item)
        elif self.top is None or epochs > self.top:  # a higher rung: the lower rungs no longer count
            self.top, self.value, self.best = epochs, value, item
            if self._free is not None and not self._beats(value, self._free[0]):  # ties: the free one came first
                self.value, self.best = self._free
            return
        elif epochs < self.top:
            return
        if self.value is None or self._beats(value, self.value):
            self.value, self.best = value, item

    def add(self, trial: Trial) -> Trial | None:
        """Count ``trial`` if it may (complete, a finite value).

        Parameters
        ----------
        trial : Trial
            The next trial of the search, in the order they were written.

        Returns
        -------
        Trial or None
            The best so far.
        """
        v = trial.value
        if trial.state == "complete" and isinstance(v, (int, float)) and math.isfinite(v):  # (a str enum: no .value)
            self.offer(float(v), trial.epochs, trial)
        return self.best  # type: ignore[no-any-return]


def _finite_complete() -> sa.ColumnElement[bool]:
    return sa.and_(_T.c.state == "complete", _T.c.value.is_not(None), _T.c.value >= -_BIG, _T.c.value <= _BIG)


@functools.cache
def _counts_statement() -> sa.Select[Any]:
    return sa.select(_T.c.search_id, sa.func.count()).group_by(_T.c.search_id)  # from the index alone


@functools.cache
def fidelity_groups() -> sa.Select[Any]:
    """The statement of one GROUP BY search over the complete trials with a finite value (in the
    ``search_id`` index's order, no sort): ``(search_id, top, low, best_max, best_min, free_max, free_min)``:
    ``top`` / ``low`` the most / fewest epochs recorded, ``best_max`` / ``best_min`` the extreme values,
    ``free_max`` / ``free_min`` those of the trials without epochs. Where ``low == top`` (a single-fidelity
    search) the best is ``best_max`` / ``best_min``; :func:`search_bests` reads the others' top rungs.

    Returns
    -------
    sqlalchemy.Select
        The statement, built once.
    """
    free = _T.c.epochs.is_(None)
    return (sa.select(_T.c.search_id, sa.func.max(_T.c.epochs), sa.func.min(_T.c.epochs), sa.func.max(_T.c.value),
                      sa.func.min(_T.c.value), sa.func.max(sa.case((free, _T.c.value))),
                      sa.func.min(sa.case((free, _T.c.value))))
            .where(_finite_complete()).group_by(_T.c.search_id))


def _finite(at: Any) -> tuple[sa.ColumnElement[bool], ...]:
    """A complete trial of search ``at`` with a finite value (NaN is NULL on SQLite, outside the bounds)."""
    return _T.c.search_id == at, _T.c.state == "complete", _T.c.value >= -_BIG, _T.c.value <= _BIG


@functools.cache
def _seek_statement() -> sa.Select[Any]:
    """SQLite: every search's best by seeks in the ``(search_id, state, epochs, value)`` index
    (``ix_nasbook_trials_best``), not a pass over its trials: ``(search_id, top, top_max, top_min, free_max,
    free_min)`` then the id of the first trial at each of these four values. ``top`` is the most epochs among
    the complete trials with a finite value (the first entry in the index's descending order), the extremes
    the ends of the value range at ``top`` epochs and at NULL epochs (SQLite's min/max optimisation), and a
    first id the least rowid among the index entries at one value (the rowid ends every index entry). Each
    subquery reads a few index entries; NaN is NULL on SQLite, outside the finite bounds."""
    top = (sa.select(_T.c.epochs).where(*_finite(_S.c.id), _T.c.epochs.is_not(None))
           .order_by(_T.c.epochs.desc()).limit(1).scalar_subquery())
    tops = sa.select(_S.c.id.label("sid"), top.label("top")).subquery("tops")
    at_top, free = _T.c.epochs == tops.c.top, _T.c.epochs.is_(None)

    def extreme(fn: Any, at: sa.ColumnElement[bool]) -> Any:
        return sa.select(fn(_T.c.value)).where(*_finite(tops.c.sid), at).scalar_subquery()

    ext = sa.select(tops.c.sid, tops.c.top, extreme(sa.func.max, at_top).label("tmax"),
                    extreme(sa.func.min, at_top).label("tmin"), extreme(sa.func.max, free).label("fmax"),
                    extreme(sa.func.min, free).label("fmin")).subquery("extremes")

    def first(at: sa.ColumnElement[bool], value: Any) -> Any:
        return (sa.select(sa.func.min(_T.c.id))
                .where(_T.c.search_id == ext.c.sid, _T.c.state == "complete", at, _T.c.value == value).scalar_subquery())

    e_top, e_free = _T.c.epochs == ext.c.top, _T.c.epochs.is_(None)
    return sa.select(ext.c.sid, ext.c.top, ext.c.tmax, ext.c.tmin, ext.c.fmax, ext.c.fmin,
                     first(e_top, ext.c.tmax), first(e_top, ext.c.tmin), first(e_free, ext.c.fmax),
                     first(e_free, ext.c.fmin))


def _seek_bests(read: Callable[..., Iterable[Any]], out: dict[int, tuple[int, TopFidelityBest]]) -> None:
    """:func:`search_bests` on SQLite from :func:`_seek_statement`: ``rule.best`` is the best trial's id."""
    for sid, top, tmax, tmin, fmax, fmin, id_tmax, id_tmin, id_fmax, id_fmin in read(_seek_statement()):
        if int(sid) not in out:
            continue
        rule = out[int(sid)][1]
        at_top, at_free = (tmin, id_tmin) if rule._min else (tmax, id_tmax), (fmin, id_fmin) if rule._min else (fmax, id_fmax)
        if at_free[0] is not None:
            rule.offer(float(at_free[0]), None, None)
        if top is not None and at_top[0] is not None:
            rule.offer(float(at_top[0]), int(top), None)
        ids = [int(i) for v, i in (at_top, at_free) if v is not None and i is not None and float(v) == rule.value]
        rule.best = min(ids) if ids else None  # the first written at the best value, at the top or without epochs


def _pairs_in(a: Any, b: Any, kind: Any, pairs: Sequence[tuple[Any, Any]], dialect: str) -> sa.ColumnElement[bool]:
    """``(a, b) IN ((..), ...)`` on SQLite (an ephemeral index; a VALUES CTE took 1.5x as long), elsewhere
    ``(a, b) IN (SELECT ... FROM <pairs as a VALUES CTE>)``: a hashed semi-join on PostgreSQL, where the literal
    list was checked pair by pair on every row (10x slower at 1,000 searches)."""
    if dialect == "sqlite":
        return sa.tuple_(a, b).in_(list(pairs))
    if dialect == "postgresql":  # two arrays bound, not a parameter per value
        from sqlalchemy.dialects.postgresql import ARRAY

        xs = sa.cast(sa.bindparam("px", [int(x) for x, _ in pairs]), ARRAY(sa.Integer))
        ys = sa.cast(sa.bindparam("py", [y for _, y in pairs]), ARRAY(kind))
        u = sa.func.unnest(xs, ys).table_valued("x", "y").render_derived(name="pairs")
        return sa.tuple_(a, b).in_(sa.select(u.c.x, u.c.y))
    w = sa.values(sa.column("x", sa.Integer), sa.column("y", kind), name="pairs").data(list(pairs)).cte("pairs")
    return sa.tuple_(a, b).in_(sa.select(w.c.x, w.c.y))


@functools.cache
def _one_pass() -> sa.Select[Any]:
    """PostgreSQL: every search's trial count and its best trial by the rule in one hashed GROUP BY search over
    the trials: ``(search_id, n, top, free)``, ``top`` the lexicographic max of ``ARRAY[epochs, k, -id]`` over
    its trials that count with epochs (the most epochs, then the best value, then the first written), ``free``
    that of ``ARRAY[k, -id]`` over those without; ``k`` is the value, negated for the searches bound in
    ``:mins`` (min mode). Floats hold the ids and epochs exactly (below 2**53)."""
    from sqlalchemy.dialects.postgresql import ARRAY, array

    ok = _finite_complete()
    mins = sa.cast(sa.bindparam("mins", type_=ARRAY(sa.Integer)), ARRAY(sa.Integer))
    k = sa.case((_T.c.search_id == sa.func.any(mins), -_T.c.value), else_=_T.c.value)
    first = -sa.cast(_T.c.id, sa.Float(53))
    top = sa.func.max(array([sa.cast(_T.c.epochs, sa.Float(53)), k, first])).filter(ok, _T.c.epochs.is_not(None))
    free = sa.func.max(array([k, first])).filter(ok, _T.c.epochs.is_(None))
    return sa.select(_T.c.search_id, sa.func.count(), top, free).group_by(_T.c.search_id)


def _one_pass_bests(read: Callable[..., Iterable[Any]], modes: Mapping[int, str]) -> dict[int, tuple[int, TopFidelityBest]]:
    """:func:`search_bests` on PostgreSQL, from :func:`_one_pass`; ``rule.best`` is the best trial's id."""
    out = {}
    for sid, n, top, free in read(_one_pass(), {"mins": [s for s, m in modes.items() if m == "min"]}):
        rule = TopFidelityBest(modes.get(int(sid), "max"))
        sign = -1.0 if rule._min else 1.0
        if free is not None:
            rule.offer(sign * free[0], None, None)
        if top is not None:
            rule.offer(sign * top[1], int(top[0]), None)
        cands = [c for c in (None if top is None else top[1:], free) if c is not None]
        if cands:  # the largest k, then the first written (-id largest), at the top or without epochs
            rule.best = -int(max((c[0], c[1]) for c in cands)[1])
        out[int(sid)] = (int(n), rule)
    return out


def search_bests(read: Callable[..., Iterable[Any]], modes: Mapping[int, str], dialect: str = "sqlite",
                 chunk: int = 5000) -> dict[int, tuple[int, TopFidelityBest]]:
    """``{search id: (n_trials, its TopFidelityBest)}`` for every search with trials: its best value by the
    top-fidelity rule (``rule.value``, None when nothing counts; ``rule.top`` its most epochs), as
    :class:`TopFidelityBest` keeps it for ``Search.best``; on PostgreSQL and SQLite also ``rule.best``, the id of
    its best trial (the first written at that value, as :func:`best_of_searches` finds it).

    On PostgreSQL one hashed GROUP BY over the trials answers (:func:`_one_pass`; main's passes cost 1.6-2.4x
    as much, docs/benchmarks.md, kbfast). On SQLite a count per search (from the ``search_id`` index alone) and
    one statement of seeks in ``ix_nasbook_trials_best`` (:func:`_seek_statement`: a few index entries per
    search, not a pass over its trials; docs/benchmarks.md, kbperf). Elsewhere the count, one GROUP BY over the
    trials that may count (:func:`fidelity_groups`) answer every single-fidelity search, and the extremes of
    the multi-fidelity ones' top rungs come from one more GROUP BY over their trials only (``(search_id,
    epochs) IN (...)``, per ``chunk`` searches); ``rule.best`` is None there.

    Parameters
    ----------
    read : callable
        Executes a statement (with optional parameters) and returns its rows (``Storage._read``,
        ``conn.execute(q, p).all()``).
    modes : mapping of int to str
        "min" or "max" by search id (max if missing).
    dialect : str, default "sqlite"
        The store's SQLAlchemy dialect name.
    chunk : int, default 5000
        Searches per statement of the second GROUP BY (two bound values each), but on PostgreSQL and SQLite.

    Returns
    -------
    dict
        ``{search id: (n_trials, TopFidelityBest)}`` for every search with trials.
    """
    if dialect == "postgresql":
        return _one_pass_bests(read, modes)
    out = {int(sid): (int(n), TopFidelityBest(modes.get(int(sid), "max"))) for sid, n in read(_counts_statement())}
    if dialect == "sqlite":
        _seek_bests(read, out)
        return out
    mixed: list[tuple[int, int]] = []
    for sid, top, low, best_max, best_min, free_max, free_min in read(fidelity_groups()):
        rule = out[int(sid)][1]
        free = free_min if rule._min else free_max
        if free is not None:
            rule.offer(float(free), None, None)
        if top is not None and low == top:  # one fidelity: every trial that may count does
            rule.offer(float(best_min if rule._min else best_max), int(top), None)
        elif top is not None:
            mixed.append((int(sid), int(top)))
    for i in range(0, len(mixed), chunk):
        ok = _finite_complete()
        q = (sa.select(_T.c.search_id, _T.c.epochs, sa.func.max(_T.c.value), sa.func.min(_T.c.value))
             .where(ok, _pairs_in(_T.c.search_id, _T.c.epochs, sa.Integer, mixed[i:i + chunk], dialect))
             .group_by(_T.c.search_id, _T.c.epochs))
        for sid, top, best_max, best_min in read(q):
            rule = out[int(sid)][1]
            rule.offer(float(best_min if rule._min else best_max), int(top), None)
    return out


def best_of_searches(conn: sa.Connection, modes: Mapping[int, str], chunk: int = 5000,
                     bests: Mapping[int, TopFidelityBest] | None = None) -> dict[int, tuple[float, str, str, int | None]]:
    """The best trial of every search that has one, by the top-fidelity rule (``Search.best``'s).

    :func:`search_bests` gives each search's best value and most epochs, and on PostgreSQL the id of its
    first trial at that value among those that count; elsewhere one scan finds that trial (``(search_id,
    value) IN (...)``, per ``chunk`` searches). The winners' rows are then read by id. No ranking of every
    trial: a ``ROW_NUMBER`` window, or a top-1 query per search, cost 2-6x as much at 10^5 trials
    (docs/benchmarks.md, kb-best and lsbest).

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the store.
    modes : mapping of int to str
        "min" or "max" by search id; the searches to answer for.
    chunk : int, default 5000
        Searches per statement (two bound values each: SQLite allows 32766).
    bests : mapping of int to TopFidelityBest, optional
        Each search's rule from :func:`search_bests` already (``Storage.list_searches_with_bests``): its
        GROUP BYs are not run again.

    Returns
    -------
    dict
        ``{search id: (value, arch_id, search name, epochs)}``; a search with no trial that counts is not in it.
    """
    if bests is None:
        bests = {sid: rule for sid, (_, rule) in
                 search_bests(lambda q, p=None: conn.execute(q, p).all(), modes, conn.dialect.name).items()}
    bests = {sid: rule for sid, rule in bests.items() if sid in modes and rule.value is not None}
    first = {sid: int(rule.best) for sid, rule in bests.items() if isinstance(rule.best, int)}  # one pass found it
    pairs = [(sid, rule.value) for sid, rule in bests.items() if sid not in first]
    for i in range(0, len(pairs), chunk):
        q = (sa.select(_T.c.search_id, _T.c.epochs, sa.func.min(_T.c.id))
             .where(_T.c.state == "complete", _pairs_in(_T.c.search_id, _T.c.value, sa.Float, pairs[i:i + chunk], conn.dialect.name))
             .group_by(_T.c.search_id, _T.c.epochs))
        for sid, epochs, tid in conn.execute(q):  # the best value at the top, or with no epochs: both count
            if epochs is None or epochs == bests[int(sid)].top:
                first[int(sid)] = min(int(tid), first.get(int(sid), int(tid)))
    ids = sorted(first.values())
    out: dict[int, tuple[float, str, str, int | None]] = {}
    for i in range(0, len(ids), chunk):
        rows = conn.execute(sa.select(_T.c.search_id, _T.c.value, _T.c.arch_id, _S.c.name, _T.c.epochs)
                            .select_from(_T.join(_S, _S.c.id == _T.c.search_id)).where(_T.c.id.in_(ids[i:i + chunk])))
        for sid, v, a, name, e in rows:
            out[int(sid)] = (float(v), str(a), str(name), None if e is None else int(e))
    return out
