"""The knowledge base's tables as pandas DataFrames and an xarray Dataset (pandas imported on use)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nasbook._errors import StorageError
from nasbook.storage import TABLES, best_counted, loads

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
                 "state": _TEXT, "n_trials": "int64", "best": "float64", "metric": _TEXT, "mode": _TEXT, "seed": "int64",
                 "created_at": "datetime64[ns]", "elapsed_s": "float64", "nasbook_version": _TEXT},
    "tasks": {"task": _TEXT, "class": _TEXT, "n_searches": "int64", "n_trials": "int64", "best": "float64",
              "best_arch_id": _TEXT, "metric": _TEXT, "mode": _TEXT},
    "spaces": {"class": _TEXT, "n_searches": "int64", "n_trials": "int64"},
    "trials": {"task": _TEXT, "task_key": _TEXT, "search": _TEXT, "strategy": _TEXT, "space_id": _TEXT, "state": _TEXT,
               "arch_id": _TEXT, "arch": "object", "metrics": "object", "metric": _TEXT, "mode": _TEXT},
}


def _typed(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """``df``, with the dtypes of a filled table when it is empty (pandas infers float64 or object there)."""
    if len(df):
        return df
    out = df.astype(_EMPTY_DTYPES[table])
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

    records = kb.storage.list_searches()
    cat = {int(r.id): r for r in kb._rows(
        sa.select(_S.c.id, _S.c.task_key, _S.c.space_id, _S.c.strategy, _K.c.name.label("task"))
        .select_from(_S.outerjoin(_K, _K.c.key == _S.c.task_key)))}
    rows = []
    for rec in records:
        c = cat.get(rec.id)
        rows.append({
            "search": rec.name, "task": c.task if c else None, "task_key": c.task_key if c else None,
            "space_id": c.space_id if c else None, "strategy": c.strategy if c else None, "state": rec.state,
            "n_trials": rec.n_trials, "best": rec.best_value, "metric": rec.config.get("metric"),
            "mode": rec.config.get("mode", "max"), "seed": rec.config.get("seed"),
            "mirror_of": rec.config.get("mirror_of"), "created_at": pd.Timestamp(rec.created_at, unit="s"),
            "elapsed_s": rec.elapsed_s, "nasbook_version": rec.nasbook_version,
        })
    cols = ["search", "task", "task_key", "space_id", "strategy", "state", "n_trials", "best", "metric", "mode",
            "seed", "mirror_of", "created_at", "elapsed_s", "nasbook_version"]
    return _typed(pd.DataFrame(rows, columns=cols), "searches")


def _counts(kb: KnowledgeBase, by: Any) -> dict[str, tuple[int, int]]:
    """``{key: (n_searches, n_complete_trials)}`` grouped by a searches column."""
    n_trials = (sa.select(_T.c.search_id, sa.func.count().label("n")).where(_T.c.state == "complete")
                .group_by(_T.c.search_id).subquery())
    q = (sa.select(by, sa.func.count(_S.c.id), sa.func.coalesce(sa.func.sum(n_trials.c.n), 0))
         .select_from(_S.outerjoin(n_trials, n_trials.c.search_id == _S.c.id)).group_by(by))
    return {str(k): (int(a), int(b)) for k, a, b in kb._rows(q) if k is not None}


def best_per_task(kb: KnowledgeBase, keys: Sequence[str], modes: dict[str, str]) -> dict[str, tuple[float, str, str]]:
    """``{task key: (best value, its arch_id, its search)}`` under each task's mode over the trials that count
    by the top-fidelity rule (:func:`nasbook.storage.top_fidelity_trials`, the one the ranks use)."""
    out = {}
    for key in keys:
        rows = kb._rows(best_counted("min" if modes.get(key) == "min" else "max"), {"tk": key})
        if rows:
            out[key] = (float(rows[0][0]), str(rows[0][1]), str(rows[0][2]))
    return out


def tasks_frame(kb: KnowledgeBase) -> pd.DataFrame:
    import pandas as pd

    rows = kb._rows(sa.select(_K.c.key, _K.c.name, sa.type_coerce(_K.c.config, sa.Text),
                              sa.type_coerce(_K.c.meta_features, sa.Text), sa.type_coerce(_K.c.landmarks, sa.Text))
                    .order_by(_K.c.created_at, _K.c.key))
    counts = _counts(kb, _S.c.task_key)
    configs = {str(r[0]): load_json(r[2], f"the configuration of task {r[1]!r}") for r in rows}
    modes = {k: str(c.get("mode", "max")) if isinstance(c, dict) else "max" for k, c in configs.items()}
    best = best_per_task(kb, list(configs), modes)
    out = []
    for key, name, _, meta, marks in rows:
        config = configs[str(key)] if isinstance(configs[str(key)], dict) else {}
        n_s, n_t = counts.get(str(key), (0, 0))
        b = best.get(str(key))
        out.append({
            "task_key": str(key), "task": name, "class": config.get("class"), "n_searches": n_s, "n_trials": n_t,
            "best": b[0] if b else None, "best_arch_id": b[1] if b else None, "metric": config.get("metric"),
            "mode": config.get("mode", "max"),
            "meta_features": load_json(meta, f"the meta-features of task {name!r}") if meta is not None else None,
            "landmarks": load_json(marks, f"the landmarks of task {name!r}") if marks is not None else None,
        })
    cols = ["task_key", "task", "class", "n_searches", "n_trials", "best", "best_arch_id", "metric", "mode",
            "meta_features", "landmarks"]
    return _typed(pd.DataFrame(out, columns=cols).set_index("task_key"), "tasks")


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


def trials_frame(kb: KnowledgeBase, where: Sequence[Any]) -> pd.DataFrame:
    import pandas as pd

    q = (sa.select(_S.c.id, _K.c.name, _S.c.task_key, _S.c.name, _S.c.strategy, _S.c.space_id, _T.c.number,
                   _T.c.state, _T.c.arch_id, sa.type_coerce(_T.c.arch, sa.Text), _T.c.value,
                   sa.type_coerce(_T.c.metrics, sa.Text), _T.c.epochs, _T.c.finished_at)
         .select_from(_T.join(_S, _S.c.id == _T.c.search_id).outerjoin(_K, _K.c.key == _S.c.task_key))
         .where(*where).order_by(_S.c.id, _T.c.number))
    rows = kb._rows(q)
    configs = _search_configs(kb) if rows else {}
    cols: dict[str, list[Any]] = {c: [] for c in TRIAL_COLUMNS}
    for sid, task, key, search, strategy, space_id, number, state, arch_id, arch, value, metrics, epochs, fin in rows:
        config = configs.get(int(sid), {})
        what = f"trial {number} of search {search!r}"
        cols["task"].append(task)
        cols["task_key"].append(key)
        cols["search"].append(search)
        cols["strategy"].append(strategy)
        cols["space_id"].append(space_id)
        cols["number"].append(number)
        cols["state"].append(state)
        cols["arch_id"].append(arch_id)
        cols["arch"].append(load_json(arch, f"the architecture of {what}"))
        cols["value"].append(value)
        cols["metrics"].append(load_json(metrics, f"the metrics of {what}"))
        cols["metric"].append(config.get("metric"))
        cols["mode"].append(config.get("mode", "max"))
        cols["epochs"].append(epochs)
        cols["finished_at"].append(fin)
    df = pd.DataFrame(cols, columns=list(TRIAL_COLUMNS))
    df["number"] = df["number"].astype("int64")
    df["value"] = df["value"].astype("float64")
    df["epochs"] = df["epochs"].astype("Int64")
    df["finished_at"] = df["finished_at"].astype("float64")
    return _typed(df, "trials")


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
