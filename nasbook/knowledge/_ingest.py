"""``KnowledgeBase.ingest``: trials of a run made elsewhere, checked and bulk-inserted as one new search.

Speed: rows are built as tuples in the store's column order and inserted in chunks (executemany on
SQLite, COPY on PostgreSQL). Each distinct architecture is checked against the space once (a cache
keyed by its spec), so 10^6 trials over a space of 26,206 architectures pay for 26,206 checks.
All or nothing: a row that fails a check, or a failed insert, removes the partial search.
"""

from __future__ import annotations

import math
import numbers
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError, StorageError
from nasbook._version import __version__
from nasbook.storage import TABLES, dumps

if TYPE_CHECKING:
    from nasbook.knowledge._kb import KnowledgeBase
    from nasbook.space import SearchSpace

CHUNK = 50_000
_STATES = frozenset({"complete", "pruned", "failed", "diverged"})
_S, _T = TABLES["searches"], TABLES["trials"]


_COLUMNS = ("arch", "arch_id", "value", "number", "state", "metrics", "epochs", "finished_at")


def int_limit(dialect: str) -> tuple[int, str]:
    """The largest whole number the store's integer columns (``number``, ``epochs``) hold, and why: SQLite's
    INTEGER is 64-bit, PostgreSQL's (and other servers') 32-bit. A larger one raised the driver's error (an
    OverflowError on SQLite, a StorageError on PostgreSQL) part-way through the insert."""
    if dialect == "sqlite":
        return 2**63 - 1, "the largest a SQLite INTEGER holds"
    return 2**31 - 1, f"the largest a {'PostgreSQL' if dialect == 'postgresql' else dialect} INTEGER holds"


def _chunks(trials: Any, size: int) -> Iterator[tuple[int, dict[str, list[Any]]]]:
    """``(index of the first row, {column: values})`` chunk by chunk, read column-wise."""
    if hasattr(trials, "columns") and hasattr(trials, "iloc"):  # a DataFrame
        if "arch" not in trials.columns:
            raise InvalidParameterError(f"KnowledgeBase.ingest: the DataFrame has no 'arch' column (an Architecture or "
                                        f"its spec per row); its columns: {list(trials.columns)[:10]!r}.")
        n = len(trials)
        for lo in range(0, n, size):
            part = trials.iloc[lo:lo + size]
            yield lo, {c: part[c].tolist() if c in part.columns else [None] * len(part) for c in _COLUMNS}
        return
    if isinstance(trials, (str, bytes, Mapping)) or not isinstance(trials, Iterable):
        raise InvalidParameterTypeError(
            f"KnowledgeBase.ingest(trials=...) takes a DataFrame or an iterable of mappings (one per trial, with 'arch' "
            f"and 'value'); got {type(trials).__name__}.")
    rows: list[Mapping[str, Any]] = []
    lo = 0
    for i, row in enumerate(trials):
        if not isinstance(row, Mapping):
            raise InvalidParameterTypeError(f"KnowledgeBase.ingest: trial {i} should be a mapping with 'arch' and "
                                            f"'value'; got {type(row).__name__} {row!r:.60}.")
        if "arch" not in row:
            raise InvalidParameterError(f"KnowledgeBase.ingest: trial {i} has no 'arch' (an Architecture or its "
                                        f"spec); its keys: {sorted(row)[:10]!r}.")
        rows.append(row)
        if len(rows) >= size:
            yield lo, {c: [r.get(c) for r in rows] for c in _COLUMNS}
            lo, rows = lo + len(rows), []
    if rows:
        yield lo, {c: [r.get(c) for r in rows] for c in _COLUMNS}


def _task_config(task: Any, metric: str | None, mode: str | None) -> tuple[dict[str, Any], str]:
    from nasbook.knowledge._frames import as_stored

    if isinstance(task, str) and task:
        mode = mode or "max"
        if mode not in ("max", "min"):
            raise InvalidParameterError(f"KnowledgeBase.ingest(mode=...) must be 'max' or 'min'; got {mode!r}.")
        return {"class": "ExternalTask", "params": {"name": task}, "metric": metric or "value", "mode": mode}, task
    if hasattr(task, "to_config"):
        if (metric is not None and metric != task.metric) or (mode is not None and mode != task.mode):
            raise InvalidParameterError(f"KnowledgeBase.ingest: {task!r:.60} has metric {task.metric!r} and mode "
                                        f"{task.mode!r}; metric= and mode= are for a task given by name.")
        return as_stored(task.to_config()), str(task.name)
    raise InvalidParameterTypeError(f"KnowledgeBase.ingest(task=...) must be a nasbook Task or a task name (str); "
                                    f"got {task!r:.80} of type {type(task).__name__}.")


class _Arch:
    """Architecture -> (id, JSON), each distinct spec checked against the space once."""

    def __init__(self, space: SearchSpace, validate: bool):
        self.space, self.validate = space, validate
        self.cache: dict[str, tuple[str, str]] = {}
        self.by_obj: dict[int, tuple[Any, tuple[str, str]]] = {}

    def __call__(self, i: int, arch: Any, given_id: Any) -> tuple[str, str]:
        hit = self.by_obj.get(id(arch))
        if hit is not None and hit[0] is arch and given_id is None:  # the same spec object again (a DataFrame column)
            return hit[1]
        if hasattr(arch, "space_id") and hasattr(arch, "to_json"):
            if arch.space_id != self.space.space_id:
                raise InvalidParameterError(f"KnowledgeBase.ingest: trial {i}'s architecture {arch.id} is from space "
                                            f"{arch.space_id!r}, not {self.space.space_id!r} (the space= given).")
            return arch.id, arch.to_json()
        if isinstance(arch, str):
            arch_text = arch
        elif isinstance(arch, Mapping):
            arch_text = dumps(arch)
        else:
            raise InvalidParameterTypeError(f"KnowledgeBase.ingest: trial {i}'s 'arch' should be an Architecture or "
                                            f"its spec (a dict); got {type(arch).__name__} {arch!r:.60}.")
        if not self.validate:
            if not isinstance(given_id, str) or not given_id:
                raise InvalidParameterError(f"KnowledgeBase.ingest(validate=False): trial {i} needs an 'arch_id' (str); "
                                            f"got {given_id!r}.")
            return given_id, arch_text
        hit2 = self.cache.get(arch_text)
        if hit2 is None:
            from nasbook.knowledge._frames import load_json

            try:
                built = self.space.from_dict(load_json(arch_text, f"trial {i}'s arch") if isinstance(arch, str) else arch)
            except NasbookError as exc:
                raise InvalidParameterError(f"KnowledgeBase.ingest: trial {i}'s architecture is not in "
                                            f"{self.space!r:.80}: {exc}") from None
            hit2 = self.cache[arch_text] = (built.id, built.to_json())
        if given_id is not None and given_id != hit2[0]:
            raise InvalidParameterError(f"KnowledgeBase.ingest: trial {i} gives arch_id {given_id!r}, but its "
                                        f"architecture's id in {self.space.space_id!r} is {hit2[0]!r}.")
        if isinstance(arch, Mapping):
            self.by_obj[id(arch)] = (arch, hit2)  # keeps the object alive, so its id is not reused
        return hit2


def _float(i: int, v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Real):  # numpy numbers are Real; "0.5" and np.bool_ are not
        raise InvalidParameterError(f"KnowledgeBase.ingest: trial {i}'s value should be a number (or None); got "
                                    f"{v!r:.40} of type {type(v).__name__}.")
    v = float(v)
    return None if math.isnan(v) else v


class _Numbers:
    """Trial numbers, checked across chunks: whole numbers >= 0, each used once in the search (a missing one
    is the row's index). Read at C speed when a chunk's numbers are all missing or all plain ints."""

    def __init__(self, limit: tuple[int, str] = (2**63 - 1, "")) -> None:
        self.limit = limit
        self.seen: set[int] = set()
        self.rows: dict[int, int] = {}  # number -> row, for rows that gave one (a missing number is the row's index)

    def __call__(self, lo: int, column: list[Any]) -> list[int]:
        k = len(column)
        given = not all(v is None for v in column)
        if not given:
            out: list[int] = list(range(lo, lo + k))
        elif all(type(v) is int for v in column) and min(column) >= 0 and max(column) <= self.limit[0]:  # at C speed
            out = column
        else:
            out = [self._one(lo + j, v, self.limit) for j, v in enumerate(column)]
        chunk = set(out)
        if len(chunk) != k or not self.seen.isdisjoint(chunk):
            self._duplicate(lo, out)
        self.seen |= chunk
        if given:
            self.rows.update(zip(out, range(lo, lo + k)))
        return out

    @staticmethod
    def _one(i: int, given: Any, limit: tuple[int, str]) -> int:
        if given is None:
            return i
        number = None
        if isinstance(given, numbers.Integral) and not isinstance(given, bool):  # numpy integers (not np.bool_)
            number = int(given)
        elif isinstance(given, numbers.Real) and not isinstance(given, bool) and float(given).is_integer():
            number = int(float(given))  # a float column's 3.0; not 1.5, inf or NaN
        if number is None or number < 0:
            raise InvalidParameterError(f"KnowledgeBase.ingest: trial {i}'s number should be an int >= 0 (or None: "
                                        f"the row's index); got {given!r:.40}.")
        if number > limit[0]:
            raise InvalidParameterError(f"KnowledgeBase.ingest: trial {i}'s number should be an int from 0 to {limit[0]} "
                                        f"({limit[1]}); got {given!r:.40}. Nothing was recorded.")
        return number

    def _duplicate(self, lo: int, out: list[int]) -> None:
        here: dict[int, int] = {}
        for j, number in enumerate(out):
            first = self.rows.get(number, number) if number in self.seen else here.get(number)
            if first is not None:
                raise InvalidParameterError(
                    f"KnowledgeBase.ingest: trials {first} and {lo + j} both have number {number}; each trial of a "
                    f"search needs its own number (leave 'number' out to number the rows 0, 1, 2, ...). Nothing "
                    f"was recorded.")
            here[number] = lo + j


def _epochs(lo: int, epochs: list[Any], limit: tuple[int, str] = (2**63 - 1, "")) -> list[int | None]:
    """Whole numbers from 0 to ``limit`` (a float column's 3.0 is 3; NaN or None: unknown); 2.5, -1 or one the
    store cannot hold is an error, not truncated."""
    top = limit[0]
    if all(e is None or (type(e) is int and 0 <= e <= top) for e in epochs):  # the usual column, at C speed
        return epochs
    out: list[int | None] = []
    for j, e in enumerate(epochs):
        if e is None or (isinstance(e, float) and e != e):
            out.append(None)
            continue
        try:
            ok = not isinstance(e, bool) and float(e) == int(e) and int(e) >= 0
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise InvalidParameterError(f"KnowledgeBase.ingest: trial {lo + j}'s epochs should be a whole number >= 0 "
                                        f"(or None); got {e!r:.40}.")
        if int(e) > top:
            raise InvalidParameterError(f"KnowledgeBase.ingest: trial {lo + j}'s epochs should be a whole number from 0 "
                                        f"to {top} ({limit[1]}) or None; got {e!r:.40}. Nothing was recorded.")
        out.append(int(e))
    return out


def _finished(lo: int, finished: list[Any], now: float) -> list[float]:
    """Seconds since the epoch (a number, a datetime or a pandas Timestamp); None or NaN: now."""
    if all(f is None for f in finished):
        return [now] * len(finished)
    if all(type(f) is float and math.isfinite(f) for f in finished):
        return finished
    out = []
    for j, f in enumerate(finished):
        if hasattr(f, "timestamp") and not isinstance(f, (int, float)):
            try:
                f = f.timestamp()  # datetime, pandas Timestamp
            except (ValueError, OverflowError):
                f = None  # pandas NaT: a missing time
        try:
            v = now if f is None or f != f else float(f)
        except (TypeError, ValueError):
            v = math.nan
        if isinstance(f, bool) or not math.isfinite(v):
            raise InvalidParameterError(f"KnowledgeBase.ingest: trial {lo + j}'s finished_at should be a time in seconds "
                                        f"since the epoch or a datetime (or None); got {f!r:.40}.")
        out.append(v)
    return out


def _states(lo: int, states: list[Any]) -> list[str]:
    if all(v is None for v in states):
        return ["complete"] * len(states)
    out = ["complete" if v is None else v for v in states]
    for j, state in enumerate(out):
        if state not in _STATES:
            raise InvalidParameterError(f"KnowledgeBase.ingest: trial {lo + j}'s state must be one of {sorted(_STATES)}; "
                                        f"got {state!r}.")
    return out


def _values(lo: int, values: list[Any], states: list[str]) -> list[float | None]:
    if all(type(v) is float for v in values):  # a DataFrame's float column: NaN is the missing value
        out: list[float | None] = [None if v != v else v for v in values]
    else:
        out = [_float(lo + j, v) for j, v in enumerate(values)]
    for j, (v, state) in enumerate(zip(out, states)):
        if v is None and state == "complete":
            raise InvalidParameterError(f"KnowledgeBase.ingest: trial {lo + j} is complete but has no value (a number).")
    return out


def _metrics(lo: int, metrics: list[Any]) -> list[str]:
    out = []
    for j, m in enumerate(metrics):
        if type(m) is dict or isinstance(m, Mapping):
            out.append(dumps(m) if m else "{}")
        elif m is None or (isinstance(m, float) and m != m):  # a DataFrame's missing cell
            out.append("{}")
        else:
            raise InvalidParameterError(f"KnowledgeBase.ingest: trial {lo + j}'s metrics should be a dict; got {m!r:.40}.")
    return out


def _rows(sid: int, lo: int, cols: dict[str, list[Any]], arch: _Arch, numbered: _Numbers, now: float) -> list[tuple[Any, ...]]:
    """The chunk's rows in the store's column order, checked column by column."""
    ids, specs = [], []
    for j, (a, given) in enumerate(zip(cols["arch"], cols["arch_id"])):
        arch_id, arch_json = arch(lo + j, a, given)
        ids.append(arch_id)
        specs.append(arch_json)
    trial_numbers = numbered(lo, cols["number"])
    states = _states(lo, cols["state"])
    values = _values(lo, cols["value"], states)
    metrics = _metrics(lo, cols["metrics"])
    epochs = _epochs(lo, cols["epochs"], numbered.limit)
    finished = _finished(lo, cols["finished_at"], now)
    k = len(ids)
    # search_id, number, state, arch_id, arch, value, metrics, attrs, epochs, n_told_before, tell_seq,
    # started_at, finished_at, reason, curves, parent, lineage
    return list(zip([sid] * k, trial_numbers, states, ids, specs, values, metrics, ["{}"] * k, epochs, trial_numbers,
                    trial_numbers, [None] * k, finished, [None] * k, ["{}"] * k, [None] * k, ["[]"] * k))


def ingest_trials(kb: KnowledgeBase, trials: Any, *, task: Any, space: Any, name: str | None, strategy: str,
                  metric: str | None, mode: str | None, validate: bool) -> str:
    from nasbook.space import SearchSpace

    if not isinstance(space, SearchSpace):
        raise InvalidParameterTypeError(f"KnowledgeBase.ingest(space=...) must be a SearchSpace (the space of the "
                                        f"architectures); got {space!r:.80} of type {type(space).__name__}.")
    if not isinstance(strategy, str) or not strategy:
        raise InvalidParameterError(f"KnowledgeBase.ingest(strategy=...) must be a non-empty str; got {strategy!r}.")
    if not isinstance(validate, bool):
        raise InvalidParameterTypeError(f"KnowledgeBase.ingest(validate=...) must be True or False; got {validate!r}.")
    task_config, task_name = _task_config(task, metric, mode)
    name = name if name is not None else f"ingest-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    config = {
        "name": name, "space": space.to_config(), "space_id": space.space_id, "task": task_config,
        "task_name": task_name, "strategy": {"class": strategy, "alias": strategy, "params": {}},
        "seed": 0, "metric": task_config.get("metric"), "mode": task_config.get("mode", "max"),
        "nasbook_version": __version__, "ingested": True,
    }
    st = kb.storage
    sid = st.create_search(name, config)
    arch, now, n = _Arch(space, validate), time.time(), 0
    numbered = _Numbers(int_limit(st.engine.dialect.name))
    try:
        for lo, cols in _chunks(trials, CHUNK):
            rows = _rows(sid, lo, cols, arch, numbered, now)
            st.insert_trial_rows(rows)
            n += len(rows)
        if n == 0:  # an empty search would only add a name that every listing shows with no trials
            raise InvalidParameterError("KnowledgeBase.ingest(trials=...) holds no trials; pass at least one row "
                                        "(a mapping or DataFrame row with 'arch' and 'value'). Nothing was recorded.")
        config["budget"] = {"trials": n}
        st.update_search(sid, state="done", config=config)
    except BaseException:
        _drop_search(kb, sid)
        raise
    return name


def _drop_search(kb: KnowledgeBase, sid: int) -> None:
    """Remove a partly ingested search (all or nothing)."""
    from nasbook.storage import rebuild_stats

    def drop(conn: sa.Connection) -> None:
        row = conn.execute(sa.select(_S.c.space_id, _S.c.task_key).where(_S.c.id == sid)).first()
        conn.execute(_T.delete().where(_T.c.search_id == sid))
        conn.execute(_S.delete().where(_S.c.id == sid))
        if row is not None:
            rebuild_stats(conn, row[0], row[1])  # the chunks stored before the failure leave the aggregates

    try:
        kb._write(drop)
    except (StorageError, sa.exc.SQLAlchemyError):  # pragma: no cover - the original error matters more
        pass
