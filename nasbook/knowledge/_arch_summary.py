"""What ``similar_archs`` and ``KnowledgeBase.similar`` read of one space's trials, kept per task so that new
trials are merged in by recomputing only their tasks, and the one assembly of their answer.

A summary keeps, per task, the task's complete rows (the inputs of :func:`~nasbook.knowledge.task_quantiles`,
in first-recorded order) and their result (each architecture's mean top-fidelity value, quantile and count);
per architecture its first-recorded spec and the tasks it has a value on. Every aggregate of a task depends
on that task's rows only (the top-fidelity rule is per search, a search has one task, and means, ranks and
the mode are per task), so recomputing the tasks that received rows, over all their rows in the same order,
gives what a summary of all the rows gives: exactly (tests)."""

from __future__ import annotations

import copy
import json
import json.scanner
from collections.abc import Iterable
from typing import Any

import numpy as np

from nasbook._errors import unknown_choice
from nasbook.space import Architecture, SearchSpace

#: the columns of a space's trials a summary keeps per task (``state`` only when given), then its order key
KEPT = ("task", "search", "arch_id", "value", "mode", "epochs", "state")
ORDER = ("_sid", "_num")
#: a C JSON scanner, json.loads's own (``architectures``)
_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
ANSWER_COLUMNS = ("arch_id", "distance", "task", "value", "quantile", "n_trials", "n_tasks", "scores", "arch")


class TaskTable:
    """One task's :func:`task_quantiles` rows: architecture ids, mean values, quantiles, trial counts.

    A loaded table (``codes``: each row's number among the summary's architectures, ``names`` those ids) makes
    its list of ids and its id -> row dict only when asked (:attr:`ids`, :attr:`pos`): an answer finds its rows
    by number (:meth:`rows_of`), so a new process's first answer builds no dict per task."""

    __slots__ = ("_ids", "value", "quantile", "n", "_pos", "_codes", "_names", "_inv")

    def __init__(self, ids: list[str] | None, value: np.ndarray, quantile: np.ndarray, n: np.ndarray,
                 codes: np.ndarray | None = None, names: np.ndarray | None = None) -> None:
        self._ids, self.value, self.quantile, self.n = ids, value, quantile, n
        self._codes, self._names = codes, names
        self._pos: dict[str, int] | None = None
        self._inv: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.value)

    @property
    def ids(self) -> list[str]:
        """The rows' architecture ids."""
        if self._ids is None:
            assert self._names is not None and self._codes is not None
            self._ids = self._names[self._codes].tolist()
        return self._ids

    @property
    def pos(self) -> dict[str, int]:
        """Architecture id -> row."""
        if self._pos is None:
            self._pos = dict(zip(self.ids, range(len(self.value))))
        return self._pos

    def rows_of(self, ids: list[str], codes: list[int] | None, names: Any) -> list[int | None]:
        """The row of each of ``ids`` (None: not in this task); ``codes``: their numbers among ``names``, the
        architectures this table was loaded with (then no dict is built), else None."""
        if codes is None or names is not self._names or self._codes is None:
            return [self.pos.get(a) for a in ids]
        if self._inv is None:  # number -> row (-1: none), one array per table
            self._inv = np.full(len(self._names), -1, dtype=np.int64)
            self._inv[self._codes] = np.arange(len(self._codes))
        rows = self._inv[np.array(codes, dtype=np.int64)].tolist() if codes else []
        return [None if r < 0 else int(r) for r in rows]


class ArchSummary:
    """What :func:`similar_archs` reads of one space's trials: each architecture's spec (first recorded order),
    each task's architectures, and :func:`task_quantiles`. ``KnowledgeBase.similar`` keeps one per space and
    merges new trials into it (:meth:`merge`); :func:`similar_archs` builds one per call. Both answer
    through :meth:`answer`.

    Parameters
    ----------
    rows : pandas.DataFrame
        ``kb.trials()`` rows of one space (task, space_id, arch_id, arch, value, mode, ...), in first-recorded
        order; with ``_sid`` and ``_num`` columns (search id, trial number) when more rows will be merged.
    """

    def __init__(self, rows: Any) -> None:
        self.space_id = str(rows["space_id"].iloc[0]) if len(rows) else None
        self.n_rows = 0
        self._specs: dict[str, Any] = {}  # arch id -> spec, in first-recorded order (the index's insertion order)
        self._task_names: set[str] = set()
        self._raw: dict[Any, Any] = {}  # task -> its rows (KEPT + ORDER), ordered by ORDER (or, loaded, row numbers)
        self._filters: dict[Any, frozenset[str]] = {}  # task -> its architectures (built on first use when loaded)
        self._tab: dict[Any, TaskTable] = {}
        self._loaded: Any = None  # the saved rows (from_arrays), made into a task's frame when it is needed
        self._names: Any = None  # a loaded summary's architecture ids as saved (its tables' rows are numbers in it)
        self._spec_blob: Any = None  # a loaded summary's spec texts (bytes, ends) while _specs holds their numbers
        self._code: dict[str, int] | None = None  # id -> number in _names (made on first use)
        self.merge(rows)

    # -- building ----------------------------------------------------------------------------------
    def merge(self, rows: Any) -> list[str]:
        """Add complete trial rows recorded after (or completed in place since) those already kept; returns the
        ids of the architectures new to the summary, in first-recorded order. Only their tasks are recomputed.

        Parameters
        ----------
        rows : pandas.DataFrame
            Rows of this space, with the columns of the constructor (``_sid``/``_num`` ordering them among
            the kept ones; without them they follow the kept rows in their order).
        """
        import pandas as pd

        if not len(rows):
            return []
        rows = rows.reset_index(drop=True)
        if "_sid" not in rows.columns:
            rows = rows.assign(_sid=0, _num=np.arange(self.n_rows, self.n_rows + len(rows)))
        order = np.lexsort((rows["_num"].to_numpy(), rows["_sid"].to_numpy()))
        if (order != np.arange(len(rows))).any():
            rows = rows.iloc[order].reset_index(drop=True)
        self.n_rows += len(rows)
        first = rows.drop_duplicates("arch_id")
        new = []
        for a, spec in zip(_strs(first["arch_id"]), first["arch"]):
            if a not in self._specs:
                self._specs[a] = spec
                new.append(a)
        self._task_names.update(map(str, rows["task"].unique()))
        cols = [c for c in KEPT + ORDER if c in rows.columns]
        touched = {}
        for task, part in rows[cols].groupby("task", sort=False):  # a row without a task is in no task's aggregates
            kept = self._raw_of(task)
            if kept is not None:
                part = pd.concat([kept, part], ignore_index=True)
                later = np.lexsort((part["_num"].to_numpy(), part["_sid"].to_numpy()))
                if (later != np.arange(len(part))).any():
                    part = part.iloc[later].reset_index(drop=True)
            touched[task] = part
            self._filters[task] = frozenset(_strs(part["arch_id"]))
        self._raw.update(touched)
        self._recompute(touched)
        return new

    def _recompute(self, touched: dict[Any, Any]) -> None:
        import pandas as pd

        from nasbook.knowledge._similar import task_quantiles

        if not touched:
            return
        per = task_quantiles(pd.concat(list(touched.values()), ignore_index=True) if len(touched) > 1
                             else next(iter(touched.values())))
        tables = {}
        for task, g in per.groupby("task", sort=False, observed=True):
            tables[task] = TaskTable(_strs(g["arch_id"]), g["value"].to_numpy(dtype=np.float64),
                                     g["quantile"].to_numpy(dtype=np.float64), g["n_trials"].to_numpy(dtype=np.int64))
        for task in touched:
            self._set_table(task, tables.get(task))

    def _set_table(self, task: Any, table: TaskTable | None) -> None:
        self._tab.pop(task, None)
        if table is not None:
            self._tab[task] = table

    def _raw_of(self, task: Any) -> Any:
        """The kept rows of ``task`` (None: none yet); a loaded summary's are made into a frame here, once."""
        import pandas as pd

        part = self._raw.get(task)
        if isinstance(part, np.ndarray):  # row numbers of a loaded summary (ascending: first-recorded order)
            c = {k: (v[0][v[1][part]] if isinstance(v, tuple) else v[part]) for k, v in self._loaded.items()}
            frame = {k: pd.Series(c[k], dtype=object) for k in ("task", "search", "arch_id", "mode", "state") if k in c}
            part = self._raw[task] = pd.DataFrame({
                **frame, "value": c["value"], "epochs": pd.array(c["epochs"], dtype="Float64").astype("Int64"),
                "_sid": c["_sid"], "_num": c["_num"]})[[k for k in (*KEPT, *ORDER) if k in c]]
        return part

    # -- as arrays (what a persisted summary holds: no pickle) ----------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The summary as plain arrays (numbers, and text as UTF-8 bytes with offsets): :meth:`from_arrays`
        reads them back."""
        import pandas as pd

        self._decode_all()
        raw = pd.concat([self._raw_of(t) for t in self._raw], ignore_index=True) if self._raw else None
        ids = list(self._specs)
        code = pd.Index(ids, dtype=object)
        out: dict[str, np.ndarray] = {"n_rows": np.array([self.n_rows], dtype=np.int64)}
        _pack(out, "arch_ids", ids)
        _pack(out, "specs", [s if isinstance(s, str) else json.dumps(s) for s in self._specs.values()])
        _pack(out, "task_names", sorted(self._task_names))
        if raw is not None:
            for c in ("task", "search", "mode", "state"):
                if c in raw.columns:
                    codes, names = pd.factorize(raw[c].astype(str))
                    out[f"raw_{c}"] = codes.astype(np.int32)
                    _pack(out, f"raw_{c}_names", [str(n) for n in names])
            out["raw_arch"] = code.get_indexer(pd.Index(_strs(raw["arch_id"]), dtype=object)).astype(np.int64)
            out["raw_value"] = raw["value"].to_numpy(dtype=np.float64)
            out["raw_epochs"] = pd.to_numeric(raw["epochs"]).astype("float64").to_numpy(na_value=np.nan)
            out["raw_sid"] = raw["_sid"].to_numpy(dtype=np.int64)
            out["raw_num"] = raw["_num"].to_numpy(dtype=np.int64)
        tabs = list(self._tab.items())
        _pack(out, "tab_tasks", [str(t) for t, _ in tabs])
        out["tab_len"] = np.array([len(tab) for _, tab in tabs], dtype=np.int64)
        out["tab_arch"] = code.get_indexer(pd.Index([a for _, tab in tabs for a in tab.ids], dtype=object)).astype(np.int64)
        for name in ("value", "quantile", "n"):
            parts = [getattr(tab, name) for _, tab in tabs]
            out[f"tab_{name}"] = np.concatenate(parts) if parts else np.zeros(0, np.int64 if name == "n" else np.float64)
        return out

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], space_id: str) -> ArchSummary:
        """:meth:`to_arrays` read back (the arrays are trusted: check them before, e.g. by a digest)."""

        self = cls.__new__(cls)
        self.space_id, self.n_rows = space_id, int(a["n_rows"][0])
        ids = _unpack(a, "arch_ids")
        if len(a["specs_end"]) != len(ids):
            raise ValueError("specs and ids differ in number")
        self._specs = dict(zip(ids, range(len(ids))))  # numbers: the texts are decoded when asked for (_text)
        self._code = None  # id -> number in _names: made from _names on first use (_codes_of)
        self._spec_blob = (a["specs"], a["specs_end"])
        self._task_names = set(_unpack(a, "task_names"))
        self._raw, self._filters, self._tab, self._loaded = {}, {}, {}, None
        names = np.array(ids, dtype=object)
        if "raw_task" in a:  # text columns as (names, codes): a task's values are taken when it is needed (_raw_of)
            cols: dict[str, Any] = {c: (np.array(_unpack(a, f"raw_{c}_names"), dtype=object), a[f"raw_{c}"])
                                    for c in ("search", "mode", "state") if f"raw_{c}" in a}
            task_names = np.array(_unpack(a, "raw_task_names"), dtype=object)
            cols.update(task=(task_names, a["raw_task"]), arch_id=(names, a["raw_arch"]), value=a["raw_value"],
                        epochs=a["raw_epochs"], _sid=a["raw_sid"], _num=a["raw_num"])
            self._loaded = cols
            order = np.argsort(a["raw_task"], kind="stable")
            cut = np.flatnonzero(np.r_[True, np.diff(a["raw_task"][order]) != 0, True])
            self._raw = {task_names[a["raw_task"][order[lo]]]: order[lo:hi] for lo, hi in zip(cut[:-1], cut[1:])}
        cut = np.r_[0, np.cumsum(a["tab_len"])]
        for task, lo, hi in zip(_unpack(a, "tab_tasks"), cut[:-1], cut[1:], strict=True):
            self._set_table(task, TaskTable(None, a["tab_value"][lo:hi].copy(), a["tab_quantile"][lo:hi].copy(),
                                            a["tab_n"][lo:hi].astype(np.int64), codes=a["tab_arch"][lo:hi], names=names))
        self._names = names
        return self

    # -- what the index and the checks read --------------------------------------------------------------
    @property
    def tasks(self) -> list[str]:
        """The recorded task names (``str`` of each), sorted: the choices of ``task=``."""
        return sorted(self._task_names)

    @property
    def archs(self) -> Any:
        """One row per architecture (space_id, arch_id, arch), in first-recorded order: what sync_index indexes."""
        import pandas as pd

        self._decode_all()
        ids = list(self._specs)
        return pd.DataFrame({"space_id": [self.space_id] * len(ids), "arch_id": ids,
                             "arch": [self.spec(a) for a in ids]})

    def architectures(self, ids: Iterable[str]) -> list[Architecture]:
        """The kept architectures ``ids`` as Architectures of this space (to index them): a spec kept as JSON text
        is decoded by ``json``'s own C scanner (what ``json.loads`` runs, without its wrappers and the error text
        :meth:`spec` prepares per call: a third of this at 10^5 architectures); anything else through :meth:`spec`."""
        space_id, out, scan = str(self.space_id), [], _SCAN
        self._decode_all()
        for a in ids:
            text = self._specs.get(a)
            if type(text) is str:
                try:
                    spec, end = scan(text, 0)
                    if end == len(text):
                        out.append(Architecture(space_id, a, spec))
                        continue
                except (StopIteration, ValueError, RecursionError):
                    pass
            out.append(Architecture(space_id, a, self.spec(a)))  # whitespace, damage (raises), a decoded spec
        return out

    def _text(self, arch_id: str) -> Any:
        """The kept spec of ``arch_id`` (a loaded one's JSON text decoded from the saved bytes here)."""
        spec = self._specs[arch_id]
        if type(spec) is int and self._spec_blob is not None:
            blob, ends = self._spec_blob
            spec = bytes(blob[int(ends[spec - 1]) if spec else 0:int(ends[spec])]).decode()
        return spec

    def _decode_all(self) -> None:
        """Every loaded spec text decoded (at once: what a save or indexing them all reads)."""
        if self._spec_blob is not None:
            texts = _unpack({"specs": self._spec_blob[0], "specs_end": self._spec_blob[1]}, "specs")
            self._specs = {a: texts[v] if type(v) is int else v for a, v in self._specs.items()}
            self._spec_blob = None

    def arch_ids(self) -> list[str]:
        """Every kept architecture id, in first-recorded order."""
        return list(self._specs)

    def spec(self, arch_id: str) -> Any:
        """The first-recorded spec of ``arch_id`` (a spec is a mapping; one kept as the store's JSON text is decoded
        here, since most are never shown): the caller's own copy."""
        from nasbook.knowledge._frames import load_json

        spec = self._text(arch_id) if arch_id in self._specs else float("nan")
        if isinstance(spec, (str, bytes)):  # as stored (JSON text): decoded when an answer shows it
            return load_json(str(spec), f"the architecture {arch_id!r}")
        return copy.deepcopy(spec)

    def check_task(self, task: str | None, space: SearchSpace) -> None:
        """Raise the error :func:`similar_archs` gives for a ``task`` with no trial in the space."""
        if task is not None and task not in self._task_names:
            raise unknown_choice(f"task of similar_archs(task=...) in space {space.space_id!r}", task, self.tasks)

    def _filter(self, task: str | None) -> Any:
        if task is None:
            return None
        filt = self._filters.get(task)
        if filt is None and task in self._raw:  # a loaded summary: made on first use
            filt = self._filters[task] = frozenset(_strs(self._raw_of(task)["arch_id"]))
        return frozenset() if filt is None else filt  # a task none is recorded under: no candidate

    def _codes_of(self, ids: list[str]) -> list[int] | None:
        """The numbers of ``ids`` among the architectures a loaded summary's tables were saved with (``_names``;
        its id -> number dict made on first use); None for a summary not loaded."""
        if self._names is None:
            return None
        if self._code is None:
            self._code = dict(zip(self._names.tolist(), range(len(self._names))))
        codes = [self._code.get(a) for a in ids]
        return codes if all(type(c) is int for c in codes) else None  # type: ignore[return-value]  # merged: by id

    # -- the answer ----------------------------------------------------------------------------------
    def answer(self, idx: Any, space: SearchSpace, arch: Architecture | Any, k: int, task: str | None) -> Any:
        """:func:`similar_archs`'s answer, with ``idx`` already synced to these trials: the ``k`` neighbours'
        rows assembled from the per-task tables (nothing grouped or merged per call)."""
        import pandas as pd

        near = idx.similar(arch, k, filter=self._filter(task))
        ids = near["arch_id"].tolist()
        dist = near["distance"].to_numpy(dtype=np.float64)
        nan = float("nan")
        tabs = sorted(self._tab.items(), key=lambda c: c[0])  # each neighbour's (task, table, row), by task name
        codes = self._codes_of(ids)
        rows = [tab.rows_of(ids, codes, self._names) for _, tab in tabs]
        mine = [[(t, tab, r[j]) for (t, tab), r in zip(tabs, rows) if r[j] is not None] for j in range(len(ids))]
        scores = [{t: float(tab.value[i]) for t, tab, i in cells} for cells in mine]
        n_sum = [int(sum(int(tab.n[i]) for _, tab, i in cells)) for cells in mine]
        n_tasks = [len(cells) for cells in mine]
        specs = [self.spec(a) for a in ids]
        if task is not None:
            on = [next(((tab, i) for t, tab, i in cells if t == task), None) for cells in mine]
            cols: dict[str, Any] = {
                "arch_id": near["arch_id"].array, "distance": dist,
                "value": np.array([c[0].value[c[1]] if c is not None else nan for c in on], dtype=np.float64),
                "quantile": np.array([c[0].quantile[c[1]] if c is not None else nan for c in on], dtype=np.float64),
                "n_trials": np.array(n_sum, dtype=np.int64), "n_tasks": np.array(n_tasks, dtype=np.int64),
                "scores": object_array(scores), "arch": object_array(specs)}
        else:  # long form: one row per (neighbour, task), nearest first, then by task name
            c: dict[str, list[Any]] = {name: [] for name in ANSWER_COLUMNS}
            for j, (a, cells) in enumerate(zip(ids, mine)):
                for t, tab, i in cells or [(nan, None, None)]:  # type: ignore[list-item]
                    c["arch_id"].append(a)
                    c["distance"].append(dist[j])
                    c["task"].append(t)
                    c["value"].append(tab.value[i] if tab is not None else nan)
                    c["quantile"].append(tab.quantile[i] if tab is not None else nan)
                    c["n_trials"].append(int(tab.n[i]) if tab is not None else 0)
                    c["n_tasks"].append(n_tasks[j])
                    c["scores"].append(scores[j])
                    c["arch"].append(specs[j])  # the caller's own copy, one per neighbour
            cols = {"arch_id": pd.array(c["arch_id"], dtype=near["arch_id"].dtype),
                    "distance": np.array(c["distance"], dtype=np.float64),
                    "task": pd.Series(c["task"], dtype=object), "value": np.array(c["value"], dtype=np.float64),
                    "quantile": np.array(c["quantile"], dtype=np.float64),
                    "n_trials": np.array(c["n_trials"], dtype=np.int64),
                    "n_tasks": np.array(c["n_tasks"], dtype=np.int64),
                    "scores": object_array(c["scores"]), "arch": object_array(c["arch"])}
        if task is not None and ids:
            cols = {**dict(list(cols.items())[:2]), "task": [task] * len(ids), **dict(list(cols.items())[2:])}
        result = pd.DataFrame(cols)
        if task is not None and not ids:
            result.insert(2, "task", task)  # the dtype pandas gives a scalar column when empty (not a list's)
        result.attrs.update({"space_id": space.space_id, "kind": idx.kind, "encoding_version": idx.encoding_version,
                             "task": task, "query": getattr(arch, "id", None), "index": idx.kind_built_})
        return result


def _strs(col: Any) -> list[str]:
    """A column's values as a list of ``str`` (arch ids: already ``str`` from a store, converted otherwise)."""
    vals = col.tolist()
    return vals if all(type(v) is str for v in vals) else [str(v) for v in vals]


def _pack(out: dict[str, np.ndarray], name: str, texts: list[str]) -> None:
    """``texts`` as ``name`` (their UTF-8 bytes, one after the other) and ``name + "_end"`` (where each ends)."""
    data = [t.encode() for t in texts]
    out[name] = np.frombuffer(b"".join(data), dtype=np.uint8)
    out[name + "_end"] = np.cumsum([len(d) for d in data], dtype=np.int64)


def _unpack(a: dict[str, np.ndarray], name: str) -> list[str]:
    blob, ends = a[name].tobytes(), a[name + "_end"].tolist()
    starts = [0, *ends[:-1]] if ends else []  # none packed (e.g. no task table): none read back
    if blob.isascii():  # one decode, then str slices (byte offsets are character offsets): ids and specs
        text = blob.decode()
        return [text[lo:hi] for lo, hi in zip(starts, ends, strict=True)]
    return [blob[lo:hi].decode() for lo, hi in zip(starts, ends, strict=True)]


def object_array(items: Any) -> Any:
    """An object array of ``items`` (dicts and tuples stay whole elements)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
