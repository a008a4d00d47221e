"""Results as tables: ``Search.to_dataframe()`` and ``Search.to_xarray()``.

The Dataset schema (version 1)
------------------------------
Dims ``("trial",)``. Coordinates: ``trial`` (the trial number), ``arch_id`` (str),
``state`` (str). Variables: ``value`` (the objective, NaN unless complete), ``best_so_far``
(running best over trials in number order), ``duration_s``, ``epochs`` (NaN for look-ups),
and one float variable per metric and per held-out attr (e.g. ``test_accuracy``,
``latency_ms``, ``params_m``). Attributes: ``name``, ``metric``, ``mode``, ``seed``,
``space``, ``space_id``, ``task``, ``strategy``, ``nasbook_version``, ``schema_version``.
Learning curves add an ``epoch`` dim in a later schema version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook._version import __version__

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from nasbook.search import Search

SCHEMA_VERSION = 1


def _columns(search: Search) -> dict[str, list[Any]]:
    trials = sorted(search.trials, key=lambda t: t.number)
    metric_keys = sorted({k for t in trials for k, v in t.metrics.items() if isinstance(v, (int, float))})
    attr_keys = sorted({k for t in trials for k, v in t.attrs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    nan = float("nan")
    cols: dict[str, list[Any]] = {
        "number": [t.number for t in trials],
        "arch_id": [t.arch.id for t in trials],
        "state": [t.state.value for t in trials],
        "value": [nan if t.value is None else t.value for t in trials],
        "epochs": [nan if t.epochs is None else t.epochs for t in trials],
        "duration_s": [nan if t.duration_s is None else t.duration_s for t in trials],
        "started_at": [t.started_at for t in trials],
        "reason": [t.reason or "" for t in trials],
    }
    for k in metric_keys:
        cols[k] = [float(t.metrics.get(k, nan)) for t in trials]
    for k in attr_keys:
        if k not in cols:
            cols[k] = [float(t.attrs.get(k, nan)) for t in trials]
    values = np.asarray(cols["value"], dtype=float)
    sign = 1.0 if search.mode == "max" else -1.0
    filled = np.where(np.isnan(values), -np.inf, sign * values)
    best = np.maximum.accumulate(filled) if len(filled) else filled
    cols["best_so_far"] = list(np.where(np.isinf(best), np.nan, sign * best))
    cols["arch"] = [t.arch.spec for t in trials]
    return cols


def trials_dataframe(search: Search) -> pd.DataFrame:
    import pandas as pd

    cols = _columns(search)
    df = pd.DataFrame(cols)
    return df.set_index("number")


def trials_dataset(search: Search) -> xr.Dataset:
    import xarray as xr

    cols = _columns(search)
    number = np.asarray(cols.pop("number"), dtype=np.int64)
    arch_id = np.asarray(cols.pop("arch_id"), dtype=object).astype(str)
    state = np.asarray(cols.pop("state"), dtype=object).astype(str)
    reason = np.asarray(cols.pop("reason"), dtype=object).astype(str)
    cols.pop("arch")
    cols.pop("started_at")
    data_vars = {k: ("trial", np.asarray(v, dtype=float)) for k, v in cols.items()}
    data_vars["reason"] = ("trial", reason)
    ds = xr.Dataset(
        data_vars,
        coords={"trial": number, "arch_id": ("trial", arch_id), "state": ("trial", state)},
        attrs={
            "name": search.name,
            "metric": search.metric,
            "mode": search.mode,
            "seed": search.seed,
            "space": repr(search.space),
            "space_id": search.space.space_id,
            "task": repr(search.task),
            "strategy": repr(search.strategy),
            "nasbook_version": __version__,
            "schema_version": SCHEMA_VERSION,
        },
    )
    ds["value"].attrs["long_name"] = search.metric
    return ds


__all__ = ["SCHEMA_VERSION", "trials_dataframe", "trials_dataset"]
