"""Results as tables: ``Search.to_dataframe()`` and ``Search.to_xarray()``.

The Dataset schema (version 2)
------------------------------
Dims ``("trial",)``. Coordinates: ``trial`` (the trial number), ``arch_id`` (str),
``state`` (str). Variables: ``value`` (the objective, NaN unless complete), ``best_so_far``
(running best over trials in number order), ``duration_s``, ``reason`` (str), ``epochs`` (for a
task that trains for epochs, ``task.has_epochs``, or once a trial has epochs; NaN where a trial
has none), and one float variable per metric and per held-out attr that some trial has (e.g.
``test_accuracy``, ``latency_ms``, ``params_m``). Attributes: ``name``, ``metric``, ``mode``,
``seed``, ``space``, ``space_id``, ``task``, ``strategy`` (its repr with the seed in effect: a search not
yet run shows the seed ``run()`` gives it, not ``seed=None``), ``nasbook_version`` (of the nasbook that
built the Dataset), ``schema_version``, and ``environment`` when the search recorded it (JSON text:
the Python, platform and package versions, nasbook's included, of the process that created the search), and
``environment_history`` when a later ``run()`` session ran in another environment (JSON text of
``Search.environment_history``: each such session's time, environment and what changed).
No variable is made for what neither the task nor any trial has; the task, or a trial having the
key, decides, never the values, so a resumed or extended search keeps its variables (a metric
every trial recorded as NaN stays: NaN is its value). Version 1 had ``epochs`` always, all-NaN on
a look-up task (NAS-Bench-Graph). ``to_dataframe()`` keeps an ``epochs`` column for every task
(a fixed column set, which ``KnowledgeBase.ingest`` reads).
When any trial has learning curves, an ``epoch`` dim (0-based) is added with one
``curve_<metric>(trial, epoch)`` variable per curve (NaN past a trial's last epoch). Always
present: ``parent`` (trial, -1 when none) records multi-fidelity continuations (the checkpoint a trial trained on
from); ``derived_from`` (trial, -1 when none) the trial an architecture was mutated from (its lineage).

Importing this module registers the ``.nas`` accessor on Datasets:
``ds.nas.best(k)``, ``ds.nas.pareto_front(minimize=[...], maximize=[...])``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook._version import __version__

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from nasbook.search import Search

SCHEMA_VERSION = 2


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
    for k in _text_attr_keys(trials):  # e.g. warm_start_from: which past tasks a warm-start seed came from
        if k not in cols:
            cols[k] = [str(t.attrs.get(k, "")) for t in trials]
    values = np.asarray(cols["value"], dtype=float)
    sign = 1.0 if search.mode == "max" else -1.0
    filled = np.where(np.isnan(values), -np.inf, sign * values)
    best = np.maximum.accumulate(filled) if len(filled) else filled
    cols["best_so_far"] = list(np.where(np.isinf(best), np.nan, sign * best))
    cols["arch"] = [t.arch.spec for t in trials]
    return cols


def _attr_keys(trials: list[Any], is_kind: Callable[[Any], bool]) -> list[str]:
    """Attributes whose value is of the kind ``is_kind`` tests on every trial that has them (mixed kinds are not)."""
    kinds: dict[str, set[bool]] = {}
    for t in trials:
        for k, v in t.attrs.items():
            kinds.setdefault(k, set()).add(bool(is_kind(v)))
    return sorted(k for k, seen in kinds.items() if seen == {True})


def _text_attr_keys(trials: list[Any]) -> list[str]:
    """Attributes that are text on every trial that has them."""
    return _attr_keys(trials, lambda v: isinstance(v, str))


def trials_dataframe(search: Search) -> pd.DataFrame:
    """One row per trial of ``search``, indexed by trial number: what ``Search.to_dataframe()`` returns.

    Parameters
    ----------
    search : Search
        The search; only its in-memory trials are read.

    Returns
    -------
    pandas.DataFrame
        Index ``number``; columns ``arch_id``, ``state``, ``value``, ``parent`` and ``derived_from``
        (nullable Int64: the checkpoint a continuation trained from, the trial a child was mutated or
        grown from), ``best_so_far``, ``duration_s``, ``epochs``, ``started_at``, ``reason``,
        ``arch`` (the spec), and one column per metric and per held-out attribute (integer
        attributes as Int64, text ones as str).
    """
    import pandas as pd

    cols = _columns(search)
    df = pd.DataFrame(cols)
    # lineage, named as in to_xarray (there -1 stands for none; here pandas' missing value): which
    # trial's checkpoint a promotion continued, and which trial a mutated or grown child came from
    trials = sorted(search.trials, key=lambda t: t.number)
    df.insert(3, "parent", pd.array([t.parent for t in trials], dtype="Int64"))
    df.insert(4, "derived_from", pd.array([t.lineage[0] if t.lineage else None for t in trials], dtype="Int64"))
    metrics = {k for t in trials for k in t.metrics}
    ints = _attr_keys(trials, lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)))
    for k in ints:  # a rank or a count stays an integer here (NaN-filled floats in to_xarray)
        if k in df and k not in _BUILTIN and k not in metrics:
            df[k] = pd.array([t.attrs.get(k) for t in trials], dtype="Int64")
    return df.set_index("number")


_BUILTIN = frozenset({"number", "arch_id", "state", "value", "epochs", "duration_s", "started_at", "reason",
                      "best_so_far", "arch", "parent", "derived_from"})


def trials_dataset(search: Search) -> xr.Dataset:
    """The trials of ``search`` as an ``xarray.Dataset``: what ``Search.to_xarray()`` returns.

    Parameters
    ----------
    search : Search
        The search; only its in-memory trials are read.

    Returns
    -------
    xarray.Dataset
        The schema of this module's docstring (version :data:`SCHEMA_VERSION`): dims ``("trial",)``
        and, with learning curves, ``("trial", "epoch")``.
    """
    import xarray as xr

    cols = _columns(search)
    number = np.asarray(cols.pop("number"), dtype=np.int64)
    arch_id = np.asarray(cols.pop("arch_id"), dtype=object).astype(str)
    state = np.asarray(cols.pop("state"), dtype=object).astype(str)
    reason = np.asarray(cols.pop("reason"), dtype=object).astype(str)
    cols.pop("arch")
    cols.pop("started_at")
    text = set(_text_attr_keys(list(search.trials)))
    data_vars = {k: ("trial", np.asarray(v, dtype=object).astype(str) if k in text else np.asarray(v, dtype=float))
                 for k, v in cols.items()}
    data_vars["reason"] = ("trial", reason)
    if not getattr(search.task, "has_epochs", False) and all(t.epochs is None for t in search.trials):
        del data_vars["epochs"]  # a look-up: no trial trains for epochs (it was an all-NaN variable)
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
            "strategy": search.strategy._repr_with(seed=search.seed),  # as run() seeds it, run or not
            "nasbook_version": __version__,
            "schema_version": SCHEMA_VERSION,
        },
    )
    environment = getattr(search, "environment", None)
    if environment is not None:  # where the search was created: Python, platform, package versions (JSON text)
        ds.attrs["environment"] = json.dumps(environment, sort_keys=True)
    history = getattr(search, "environment_history", None)
    if history:  # the run() sessions in another environment: when, what, and what changed (JSON text)
        ds.attrs["environment_history"] = json.dumps(history, sort_keys=True)
    ds["value"].attrs["long_name"] = search.metric
    trials = sorted(search.trials, key=lambda t: t.number)
    ds["parent"] = ("trial", np.asarray([-1 if t.parent is None else t.parent for t in trials], dtype=np.int64))
    ds["derived_from"] = ("trial", np.asarray([t.lineage[0] if t.lineage else -1 for t in trials], dtype=np.int64))
    names = sorted({k for t in trials for k in t.curves})
    if names:
        n_epochs = max(len(v) for t in trials for v in t.curves.values())
        for name in names:
            arr = np.full((len(trials), n_epochs), np.nan)
            for i, t in enumerate(trials):
                curve = t.curves.get(name)
                if curve:
                    arr[i, : len(curve)] = curve
            ds[f"curve_{name}"] = (("trial", "epoch"), arr)
        ds = ds.assign_coords(epoch=np.arange(n_epochs))
    return ds


def _register_accessor() -> None:
    import xarray as xr

    if hasattr(xr.Dataset, "nas"):
        return

    @xr.register_dataset_accessor("nas")
    class NasAccessor:
        """nasbook's view of a search Dataset: ``ds.nas.best(k)``, ``ds.nas.pareto_front(...)``."""

        def __init__(self, ds: xr.Dataset):
            self._ds = ds

        def _ok(self) -> xr.Dataset:
            ds = self._ds
            return ds.isel(trial=np.flatnonzero(np.isfinite(ds["value"].values)))

        def best(self, k: int = 5) -> xr.Dataset:
            """The ``k`` best trials with a value, best first (by ``attrs['mode']``)."""
            from nasbook._errors import check_int

            k = check_int("ds.nas.best", "k", k, minimum=1)
            ds = self._ok()
            values = ds["value"].values
            order = np.argsort(-values if self._ds.attrs.get("mode", "max") == "max" else values, kind="stable")
            return ds.isel(trial=order[:k])

        def pareto_front(self, minimize: list[str] | tuple[str, ...] = (), maximize: list[str] | tuple[str, ...] | None = None) -> xr.Dataset:
            """Trials no other trial beats on every objective (ties kept).

            ``maximize`` defaults to ``["value"]`` for a maximised metric (``minimize`` gets it
            otherwise); e.g. ``ds.nas.pareto_front(minimize=["latency_ms"])``.
            """
            from nasbook._errors import InvalidParameterError

            ds = self._ok()
            minimize = list(minimize)
            if maximize is None:
                maximize = ["value"] if self._ds.attrs.get("mode", "max") == "max" else []
                if "value" not in maximize and "value" not in minimize:
                    minimize.append("value")
            cols = []
            for name, sign in [(n, 1.0) for n in minimize] + [(n, -1.0) for n in maximize]:
                if name not in ds or ds[name].dims != ("trial",):
                    per_trial = sorted(str(v) for v in ds.data_vars if ds[v].dims == ("trial",) and ds[v].dtype.kind == "f")
                    raise InvalidParameterError(
                        f"pareto_front: {name!r} is not a per-trial number of this Dataset; choose from {per_trial!r}."
                    )
                cols.append(sign * ds[name].values.astype(float))
            if not cols:
                raise InvalidParameterError("pareto_front needs at least one objective in minimize or maximize.")
            x = np.stack(cols, axis=1)  # all minimised
            x = np.where(np.isnan(x), np.inf, x)
            # a trial that dominates another comes before it in lexicographic order, and whatever is dominated is
            # dominated by a trial of the front: in that order, each trial is checked against the front found so
            # far only (n times the front's size, not n^2: 10,000 trials took seconds)
            keep = np.zeros(len(x), dtype=bool)
            front = np.empty_like(x)
            m = 0
            for i in np.lexsort(x.T[::-1]):
                f, p = front[:m], x[i]
                if not (np.all(f <= p, axis=1) & np.any(f < p, axis=1)).any():
                    keep[i] = True
                    front[m] = p
                    m += 1
            return ds.isel(trial=np.flatnonzero(keep))


_register_accessor()


__all__ = ["SCHEMA_VERSION", "trials_dataframe", "trials_dataset"]
