"""The knowledge base's tables as pandas DataFrames and an xarray Dataset (pandas imported on use)."""

from __future__ import annotations

import functools
import json
import json.scanner
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, StorageError, did_you_mean
from nasbook._gc import gc_paused
from nasbook.storage import TABLES, best_counted, best_of_searches, loads, top_fidelity_trials

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from nasbook.knowledge._kb import KnowledgeBase

_S, _T, _K, _P = TABLES["searches"], TABLES["trials"], TABLES["tasks"], TABLES["spaces"]
TRIAL_COLUMNS = ("task", "task_key", "search", "strategy", "space_id", "number", "state", "arch_id", "arch", "value",
                 "metrics", "metric", "mode", "epochs", "finished_at")
#: the dtypes of an empty table: those of a filled one ("str": pandas' string dtype, object before pandas 3), so
#: that code written against a filled table (``.str``, arithmetic, ``pd.concat``) also runs on an empty one
_TEXT = "str"
_EMPTY_DTYPES: dict[str, dict[str, str]] = {
    "searches": {"search": _TEXT, "task": _TEXT, "task_key": _TEXT, "space_id": _TEXT, "strategy": _TEXT,
                 "state": _TEXT, "n_trials": "int64", "best": "float64", "best_arch_id": _TEXT, "best_epochs": "Int64",
                 "metric": _TEXT, "mode": _TEXT, "seed": "int64",
                 "created_at": "datetime64[ns]", "elapsed_s": "float64", "nasbook_version": _TEXT},
    "tasks": {"task": _TEXT, "class": _TEXT, "n_searches": "int64", "n_trials": "int64", "best": "float64",
              "best_arch_id": _TEXT, "best_epochs": "Int64", "metric": _TEXT, "mode": _TEXT},
    "spaces": {"class": _TEXT, "n_searches": "int64", "n_trials": "int64"},
    "trials": {"task": _TEXT, "task_key": _TEXT, "search": _TEXT, "strategy": _TEXT, "space_id": _TEXT, "state": _TEXT,
               "arch_id": _TEXT, "arch": "object", "metrics": "object", "metric": _TEXT, "mode": _TEXT},
}


def _typed(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """``df``, with the dtypes of a filled table when it is empty (pandas infers float64 or object there)."""
    if len(df):
        return df
    out = df.astype({c: t for c, t in _EMPTY_DTYPES[table].items() if c in df.columns})
    if out.index.name is not None:
        out.index = out.index.astype(_TEXT)
    return out


def as_stored(config: Any) -> Any:
    """A configuration as it reads back from a store (tuples become lists, keys strings)."""
    return json.loads(json.dumps(config, default=repr))


def load_json(text: Any, what: str) -> Any:
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        return text  # a driver that decoded it already
    try:
        return loads(text)
    except (ValueError, RecursionError) as exc:
        raise StorageError(f"{what} is damaged: not valid JSON ({exc}).") from None


def _search_configs(kb: KnowledgeBase) -> dict[int, dict[str, Any]]:
    rows = kb._rows(sa.select(_S.c.id, _S.c.name, sa.type_coerce(_S.c.config, sa.Text)))
    out = {}
    for sid, name, text in rows:
        config = load_json(text, f"the configuration of search {name!r}")
        out[int(sid)] = config if isinstance(config, dict) else {}
    return out


def searches_frame(kb: KnowledgeBase) -> pd.DataFrame:
    import pandas as pd

    records, rules = kb.storage.list_searches_with_bests()
    best = best_per_search(kb, {rec.id: str(rec.config.get("mode", "max")) for rec in records}, rules)
    cat = {int(r.id): r for r in kb._rows(
        sa.select(_S.c.id, _S.c.task_key, _S.c.space_id, _S.c.strategy, _K.c.name.label("task"))
        .select_from(_S.outerjoin(_K, _K.c.key == _S.c.task_key)))}
    rows = []
    for rec in records:
        c, b = cat.get(rec.id), best.get(rec.id)
        rows.append({
            "search": rec.name, "task": c.task if c else None, "task_key": c.task_key if c else None,
            "space_id": c.space_id if c else None, "strategy": c.strategy if c else None, "state": rec.state,
            "n_trials": rec.n_trials, "best": b[0] if b else None, "best_arch_id": b[1] if b else None,
            "best_epochs": b[2] if b else None, "metric": rec.config.get("metric"),
            "mode": rec.config.get("mode", "max"), "seed": rec.config.get("seed"),
            "mirror_of": rec.config.get("mirror_of"), "created_at": pd.Timestamp(rec.created_at, unit="s"),
            "elapsed_s": rec.elapsed_s, "nasbook_version": rec.nasbook_version,
        })
    cols = ["search", "task", "task_key", "space_id", "strategy", "state", "n_trials", "best", "best_arch_id",
            "best_epochs", "metric", "mode", "seed", "mirror_of", "created_at", "elapsed_s", "nasbook_version"]
    df = pd.DataFrame(rows, columns=cols)
    df["best_epochs"] = df["best_epochs"].astype("Int64")  # None where no epochs were recorded (or no best)
    return _typed(df, "searches")


def _counts(kb: KnowledgeBase, by: Any) -> dict[str, tuple[int, int]]:
    """``{key: (n_searches, n_complete_trials)}`` grouped by a searches column."""
    n_trials = (sa.select(_T.c.search_id, sa.func.count().label("n")).where(_T.c.state == "complete")
                .group_by(_T.c.search_id).subquery())
    q = (sa.select(by, sa.func.count(_S.c.id), sa.func.coalesce(sa.func.sum(n_trials.c.n), 0))
         .select_from(_S.outerjoin(n_trials, n_trials.c.search_id == _S.c.id)).group_by(by))
    return {str(k): (int(a), int(b)) for k, a, b in kb._rows(q) if k is not None}


@functools.cache
def _best_all() -> sa.Select[Any]:
    """The best trial that counts of every task in one statement: :func:`nasbook.storage.best_counted`'s order
    (the value, descending for a max-mode task, ascending for a task bound in ``:mins``; then the trial written
    first) as ``ROW_NUMBER() OVER (PARTITION BY task ORDER BY +-value, id)``. The values are finite (the rule's
    bounds), so ``-value`` orders exactly as ``value DESC``. Built once."""
    return _ranked_best(top_fidelity_trials(), "task_key")


def _ranked_best(sub: Any, by: str) -> sa.Select[Any]:
    """Per ``sub.c[by]`` (a task key, a search id) the first row of ``sub`` (top-fidelity trials) ordered by
    value (descending, ascending where ``by`` is bound in ``:mins``) then id: ``(by, value, arch_id, search,
    epochs)``."""
    part = sub.c[by]
    key = sa.case((part.in_(sa.bindparam("mins", expanding=True)), sub.c.value), else_=-sub.c.value)
    rank = sa.func.row_number().over(partition_by=part, order_by=(key, sub.c.id)).label("rank")
    ranked = sa.select(part, sub.c.value, sub.c.arch_id, sub.c.search, sub.c.epochs, rank).subquery("ranked")
    r = ranked.c
    return sa.select(r[by], r.value, r.arch_id, r.search, r.epochs).where(r.rank == 1)


def best_per_search(kb: KnowledgeBase, modes: dict[int, str],
                    rules: Mapping[int, Any] | None = None) -> dict[int, tuple[float, str, int | None]]:
    """``{search id: (best value, its arch_id, its epochs)}`` under each search's mode (``modes``: "min" or
    "max" by search id) over its trials that count by the top-fidelity rule, as :func:`best_per_task` counts
    them and ``Search.best`` keeps them: ``kb.searches``' best agrees with ``kb.tasks``', ``nasbook list`` and
    the search's own (a trial scored after 1 epoch of an ASHA search does not beat the top rung). A search with
    nothing that counts is not in it. :func:`nasbook.storage.best_of_searches`: GROUP BYs over the trials
    (on PostgreSQL one, which finds each search's first trial at its best value too), then the first trial at
    each best value, not a rank of every trial (docs/benchmarks.md, lsbest and kbfast); ``rules``: those GROUP
    BYs' answer already read (``Storage.list_searches_with_bests``)."""
    got = kb._write(lambda conn: best_of_searches(conn, modes, bests=rules))  # one transaction for both statements
    return {sid: (v, a, e) for sid, (v, a, _, e) in got.items()}


def best_per_task(kb: KnowledgeBase, keys: Sequence[str], modes: dict[str, str],
                  window: bool | None = None) -> dict[str, tuple[float, str, str, int | None]]:
    """``{task key: (best value, its arch_id, its search, its epochs)}`` under each task's mode over the trials
    that count by the top-fidelity rule (:func:`nasbook.storage.top_fidelity_trials`, the one the ranks use).

    ``window`` (default: all but SQLite) reads every task in one window statement (:func:`_best_all`), else one
    top-1 query per task (:func:`nasbook.storage.best_counted`); the answers are the same (test). On SQLite a
    statement costs microseconds and the window's sort of every counted trial cost 2-3x the per-task queries
    even at 1,000 tasks; on PostgreSQL a round trip per task cost 5x the window at 1,000 tasks
    (docs/benchmarks.md, section 11t-tasks)."""
    if window is None:
        window = kb.storage.conn.dialect.name != "sqlite"
    if window:
        mins = [key for key in keys if modes.get(key) == "min"]
        want = set(keys)
        return {str(k): (float(v), str(a), str(s), None if e is None else int(e))
                for k, v, a, s, e in kb._rows(_best_all(), {"mins": mins}) if str(k) in want}
    out = {}
    for key in keys:
        rows = kb._rows(best_counted("min" if modes.get(key) == "min" else "max"), {"tk": key})
        if rows:
            v, a, s, e = rows[0]
            out[key] = (float(v), str(a), str(s), None if e is None else int(e))
    return out


def _task_rows(kb: KnowledgeBase) -> list[tuple[str, Any, dict[str, Any], Any, Any]]:
    """``(key, name, config, meta-features, landmarks)`` per stored task, oldest first, JSON decoded (every
    configuration first, then each task's meta-features and landmarks: a damaged one raises)."""
    rows = kb._rows(sa.select(_K.c.key, _K.c.name, sa.type_coerce(_K.c.config, sa.Text),
                              sa.type_coerce(_K.c.meta_features, sa.Text), sa.type_coerce(_K.c.landmarks, sa.Text))
                    .order_by(_K.c.created_at, _K.c.key))
    configs = {str(r[0]): load_json(r[2], f"the configuration of task {r[1]!r}") for r in rows}
    return [(str(key), name, configs[str(key)] if isinstance(configs[str(key)], dict) else {},
             load_json(meta, f"the meta-features of task {name!r}") if meta is not None else None,
             load_json(marks, f"the landmarks of task {name!r}") if marks is not None else None)
            for key, name, _, meta, marks in rows]


def tasks_frame(kb: KnowledgeBase) -> pd.DataFrame:
    import pandas as pd

    counts = _counts(kb, _S.c.task_key)
    tasks = _task_rows(kb)
    modes = {key: str(config.get("mode", "max")) for key, _, config, _, _ in tasks}
    best = best_per_task(kb, list(modes), modes)
    out = []
    for key, name, config, meta, marks in tasks:
        n_s, n_t = counts.get(key, (0, 0))
        b = best.get(key)
        out.append({
            "task_key": key, "task": name, "class": config.get("class"), "n_searches": n_s, "n_trials": n_t,
            "best": b[0] if b else None, "best_arch_id": b[1] if b else None, "best_epochs": b[3] if b else None,
            "metric": config.get("metric"), "mode": config.get("mode", "max"), "meta_features": meta, "landmarks": marks,
        })
    cols = ["task_key", "task", "class", "n_searches", "n_trials", "best", "best_arch_id", "best_epochs", "metric",
            "mode", "meta_features", "landmarks"]
    df = pd.DataFrame(out, columns=cols).set_index("task_key")
    df["best_epochs"] = df["best_epochs"].astype("Int64")  # None where no epochs were recorded (or no best)
    return _typed(df, "tasks")


def summary(kb: KnowledgeBase) -> str:
    """``kb_summary``'s text (the repr) from :func:`summary_counts`: ``kb.tasks``' best per task was 80% of it."""
    from nasbook.display import attempt
    from nasbook.knowledge._views import _count, _n

    def count() -> str:
        n_tasks, n_spaces, n_searches, n_trials = summary_counts(kb)
        return (f"{_count(n_tasks, 'task')}, {_count(n_spaces, 'space')}, {_count(n_searches, 'search', 'searches')}, "
                f"{_n(n_trials)} complete trial{'' if n_trials == 1 else 's'}")

    text, error = attempt(count)
    return text if error is None else str(error)


def summary_counts(kb: KnowledgeBase) -> tuple[int, int, int, int]:
    """``(tasks, spaces, searches, complete trials)`` as ``len(kb.tasks)``, ``len(kb.spaces)`` and the sums of
    ``kb.tasks``' ``n_searches`` and ``n_trials`` give them (the repr), without the best per task (most of
    ``kb.tasks``' time: one top-fidelity query per task); a damaged row raises as those tables raise."""
    tasks = _task_rows(kb)
    counts = _counts(kb, _S.c.task_key)
    spaces = kb._rows(sa.select(_P.c.space_id, sa.type_coerce(_P.c.config, sa.Text)).order_by(_P.c.created_at, _P.c.space_id))
    for space_id, text in spaces:
        load_json(text, f"the configuration of space {space_id!r}")
    n_searches = sum(counts.get(key, (0, 0))[0] for key, *_ in tasks)
    n_trials = sum(counts.get(key, (0, 0))[1] for key, *_ in tasks)
    return len(tasks), len(spaces), n_searches, n_trials


def spaces_frame(kb: KnowledgeBase) -> pd.DataFrame:
    import pandas as pd

    rows = kb._rows(sa.select(_P.c.space_id, sa.type_coerce(_P.c.config, sa.Text)).order_by(_P.c.created_at, _P.c.space_id))
    counts = _counts(kb, _S.c.space_id)
    out = []
    for space_id, text in rows:
        config = load_json(text, f"the configuration of space {space_id!r}")
        n_s, n_t = counts.get(str(space_id), (0, 0))
        out.append({"space_id": str(space_id), "class": config.get("class") if isinstance(config, dict) else None,
                    "n_searches": n_s, "n_trials": n_t, "config": config})
    return _typed(pd.DataFrame(out, columns=["space_id", "class", "n_searches", "n_trials", "config"]).set_index("space_id"),
                  "spaces")


#: the columns ``trials_frame`` reads per trial, in the order of the statement (after ``search_id``)
_PER_TRIAL = ("number", "state", "arch_id", "arch", "value", "metrics", "epochs", "finished_at")
#: the columns that are the same for every trial of a search: read once per search, repeated per row
_PER_SEARCH = ("task", "task_key", "search", "strategy", "space_id", "metric", "mode")
#: a C JSON scanner, json.loads's own: ``loads`` without the wrapper calls (a third of a decode at 10^6 trials)
_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def many(value: Any) -> list[Any]:
    """A filter's values as a list: a list, tuple, set or 1-D array (numpy, pandas) is its items, else one value."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if getattr(value, "ndim", None) == 1 and hasattr(value, "tolist"):  # np.array(["cora"]), a Series of names
        return list(value.tolist())
    return [value]


def trial_states(states: Any, allowed: Sequence[str], owner: str = "KnowledgeBase.trials") -> list[str]:
    """``states=`` of :meth:`KnowledgeBase.trials` checked: a state, or a list (tuple, set, 1-D array) of them."""
    not_a_list = not isinstance(states, str) and getattr(states, "ndim", 1) != 1  # a 0-d or 2-d array
    if not_a_list or isinstance(states, (bytes, Mapping)) or not isinstance(states, (str, Iterable)):
        raise InvalidParameterTypeError(f"{owner}(states=...) must be a trial state or a list of them, among "
                                        f"{list(allowed)} (or None for all); got {states!r:.80} of type {type(states).__name__}.")
    states = [states] if isinstance(states, str) else many(states)
    bad = [s for s in states if s not in allowed]
    if bad:
        raise InvalidParameterError(f"{owner}(states=...) takes trial states among {list(allowed)} "
                                    f"(or None for all); got {bad!r}.")
    return states


def trial_columns(columns: Any, owner: str = "KnowledgeBase.trials") -> tuple[str, ...]:
    """``columns=`` of :meth:`KnowledgeBase.trials` checked: the names, in the order given (None: all)."""
    if columns is None:
        return TRIAL_COLUMNS
    if isinstance(columns, (str, bytes)) or not isinstance(columns, (list, tuple, set, frozenset)) and not (
            hasattr(columns, "__iter__") and hasattr(columns, "__len__")):
        hint = f" (a list: columns=[{columns!r}])" if isinstance(columns, str) else ""
        raise InvalidParameterTypeError(f"{owner}(columns=...) must be a list of column names among {list(TRIAL_COLUMNS)} "
                                        f"or None for all; got {columns!r:.80} of type {type(columns).__name__}{hint}.")
    names = list(columns)
    for name in names:
        if not isinstance(name, str) or name not in TRIAL_COLUMNS:
            raise InvalidParameterError(f"{owner}(columns=...) takes column names among {list(TRIAL_COLUMNS)} (or None "
                                        f"for all); got {name!r:.80} in {names!r:.200}{did_you_mean(str(name), TRIAL_COLUMNS)}.")
    if len(set(names)) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise InvalidParameterError(f"{owner}(columns=...) names {twice!r} more than once; got {names!r}.")
    return tuple(names)


def _decode(texts: Sequence[Any], what: Any) -> list[Any]:
    """``load_json`` of each text (``what(i)`` names row i in an error), through the C scanner where it can."""
    out: list[Any] = []
    append, scan = out.append, _SCAN
    for i, text in enumerate(texts):
        try:
            value, end = scan(text, 0)
            if end == len(text):
                append(value)
                continue
        except (StopIteration, TypeError, ValueError, RecursionError):
            pass
        append(load_json(text, what(i)))  # whitespace, bytes, a driver's object, or damage (raises as before)
    return out


def _decode_distinct(texts: Sequence[Any], what: Any) -> list[Any]:
    """``_decode`` of each distinct text once; rows of one text share one object."""
    try:
        keys = list(dict.fromkeys(texts))  # first-seen order: the first damaged key is the first damaged row's
    except TypeError:  # a driver's decoded (unhashable) objects
        return _decode(texts, what)
    if not all(isinstance(t, str) for t in keys):
        return _decode(texts, what)
    values = _decode(keys, lambda j: what(texts.index(keys[j])))
    lookup = dict(zip(keys, values))
    return [lookup[t] for t in texts]


def _repeated(values: list[Any], lengths: list[int]) -> Any:
    """``values[i]`` repeated ``lengths[i]`` times, as pandas would hold that list: its dtype inferred from
    ``values`` (the same values, so the same dtype), then repeated by ``take`` (no per-row conversion)."""
    import numpy as np
    import pandas as pd

    return pd.Series(values).array.take(np.repeat(np.arange(len(values)), lengths))


def _runs(sids: Sequence[Any]) -> tuple[list[int], list[int]]:
    """The search ids of the rows (ordered by search) as runs: ``(ids, lengths)``."""
    import numpy as np

    arr = np.asarray(sids, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, arr[1:] != arr[:-1]])
    lengths = np.diff(np.r_[starts, len(arr)])
    return arr[starts].tolist(), lengths.tolist()


def trials_frame(kb: KnowledgeBase, where: Sequence[Any], columns: Any = None) -> pd.DataFrame:
    """The trials ``where`` selects as :meth:`KnowledgeBase.trials` returns them (``columns``: a checked subset).

    One statement over the trials (their search's catalogue row joined for ``where`` only; ordered by the
    ``(search_id, number)`` index, so no sort); what is the same for every trial of a search (task, search,
    strategy, space, metric, mode) is read once per search and repeated; each distinct architecture spec
    text is decoded once (rows of one architecture share its dict); metrics are decoded only when asked for.
    """
    with gc_paused():  # millions of new tuples, strings and dicts: collections found no garbage and took up to half the time
        return _trials_frame(kb, where, columns)


def _trials_frame(kb: KnowledgeBase, where: Sequence[Any], columns: Any) -> pd.DataFrame:
    import pandas as pd

    want = trial_columns(columns)
    # number always (it names a damaged row; an int per row), the other per-trial columns when asked for
    per_trial = [c for c in _PER_TRIAL if c in want or c == "number"]
    sql = {"arch": sa.type_coerce(_T.c.arch, sa.Text), "metrics": sa.type_coerce(_T.c.metrics, sa.Text)}
    source, conditions = _trial_filter(where)
    q = (sa.select(_T.c.search_id, *[sql.get(c, _T.c[c]) for c in per_trial]).select_from(source).where(*conditions)
         .order_by(_T.c.search_id, _T.c.number))
    rows = fetch_tuples(kb, q)
    n = len(rows)
    got: dict[str, Sequence[Any]] = dict(zip(("search_id", *per_trial), zip(*rows)))
    del rows  # the row tuples: the columns hold their values
    cols: dict[str, Any] = {c: list(got.get(c, ())) for c in per_trial if c in want and c not in ("arch", "metrics")}
    if n:
        catalog = _search_catalog(kb, "metric" in want or "mode" in want)
        ids, lengths = _runs(got["search_id"])
        for c in _PER_SEARCH:
            if c in want:
                cols[c] = _repeated([catalog[sid][c] for sid in ids], lengths)

        def what(kind: str) -> Any:
            return lambda i: f"the {kind} of trial {got['number'][i]} of search {catalog[got['search_id'][i]]['search']!r}"

        try:
            if "arch" in want:
                cols["arch"] = _decode_distinct(got["arch"], what("architecture"))
            if "metrics" in want:
                cols["metrics"] = _decode(got["metrics"], what("metrics"))
        except StorageError:
            if "arch" in want and "metrics" in want:  # name the first damaged row, arch before metrics, as ever
                for i, (arch, metrics) in enumerate(zip(got["arch"], got["metrics"])):
                    load_json(arch, what("architecture")(i))
                    load_json(metrics, what("metrics")(i))
            raise
    names = pd.Index(list(want), dtype=pd.Index(list(TRIAL_COLUMNS)).dtype)  # no columns: still the str dtype
    df = pd.DataFrame(cols, index=pd.RangeIndex(n), columns=names)
    for col, dtype in (("number", "int64"), ("value", "float64"), ("epochs", "Int64"), ("finished_at", "float64")):
        if col in want:
            df[col] = df[col].astype(dtype)
    return _typed(df, "trials")


def _trial_filter(where: Sequence[Any]) -> tuple[Any, list[Any]]:
    """``(FROM, WHERE)`` for the trials ``where`` selects: its conditions on the searches as ``search_id IN
    (SELECT id ...)``, so SQLite reads each search's trials through the ``(search_id, number)`` index, already
    in order (a join sorted a task's or a space's trials, arch and metrics texts included, in a temporary B-tree)."""
    from sqlalchemy.sql.util import find_tables

    tables = [set(find_tables(w, check_columns=True)) for w in where]
    if any(not t or t - {_S, _T} or t == {_S, _T} for t in tables):  # a condition on both, or on another table
        return _T.join(_S, _S.c.id == _T.c.search_id), list(where)
    on_s = [w for w, t in zip(where, tables) if t == {_S}]
    on_t = [w for w, t in zip(where, tables) if t == {_T}]
    return _T, [*on_t, _T.c.search_id.in_(sa.select(_S.c.id).where(*on_s))]  # as the join: trials of a search


def fetch_tuples(kb: Any, stmt: Any) -> Sequence[Any]:
    """``kb._rows(stmt)`` as the driver's tuples where SQLAlchemy would only wrap them (no result processor,
    nothing buffered), else its Rows (tuples too): Row objects cost as much as the fetch itself at 10^6 trials,
    and again in ``zip``. ``kb.trials`` and ``kb.similar``'s read of a space both fetch through it."""
    conn = kb.storage.conn
    try:
        result = conn.execute(stmt)
        plain = (type(getattr(result, "cursor_strategy", None)).__name__ == "CursorFetchStrategy"
                 and all(p is None for p in getattr(getattr(result, "_metadata", None), "_processors", [0])))
        rows = result.cursor.fetchall() if plain else result.all()
        result.close()
        conn.commit()
    except (sa.exc.DatabaseError, sa.exc.OperationalError) as exc:
        conn.rollback()
        raise StorageError(f"knowledge base {kb.label!r} failed: {getattr(exc, 'orig', exc)}") from None
    return rows


def _search_catalog(kb: KnowledgeBase, configs: bool) -> dict[int, dict[str, Any]]:
    """``{search id: its task, task_key, search, strategy, space_id, metric, mode}`` (metric and mode from its
    configuration, read when ``configs``: every search's, as a damaged one raised before)."""
    q = (sa.select(_S.c.id, _K.c.name, _S.c.task_key, _S.c.name, _S.c.strategy, _S.c.space_id)
         .select_from(_S.outerjoin(_K, _K.c.key == _S.c.task_key)))
    conf = _search_configs(kb) if configs else {}
    out = {}
    for sid, task, key, name, strategy, space_id in kb._rows(q):
        config = conf.get(int(sid), {})
        out[int(sid)] = {"task": task, "task_key": key, "search": name, "strategy": strategy, "space_id": space_id,
                         "metric": config.get("metric"), "mode": config.get("mode", "max")}
    return out


def to_dataset(df: pd.DataFrame, label: str) -> xr.Dataset:
    import numpy as np
    import xarray as xr

    n = len(df)
    data: dict[str, Any] = {}
    for col in ("task", "task_key", "search", "strategy", "space_id", "state", "arch_id", "metric", "mode"):
        data[col] = ("trial", df[col].astype(object).fillna("").astype(str).to_numpy() if n else np.array([], dtype=str))
    data["number"] = ("trial", df["number"].to_numpy(dtype=np.int64))
    data["value"] = ("trial", df["value"].to_numpy(dtype=float))
    data["epochs"] = ("trial", df["epochs"].astype("float64").to_numpy())
    data["finished_at"] = ("trial", df["finished_at"].to_numpy(dtype=float))
    names = sorted({k for m in df["metrics"] for k, v in m.items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool)}) if n else []
    for name in names:
        data[f"metrics.{name}"] = ("trial", np.array([_num(m.get(name)) for m in df["metrics"]], dtype=float))
    return xr.Dataset(data, coords={"trial": np.arange(n)}, attrs={"knowledge_base": label})


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else float("nan")
