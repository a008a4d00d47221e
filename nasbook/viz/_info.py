"""Data builders behind the plots: pure functions from searches to ``xarray.Dataset``.

They are what the tests check and what to start from for a plot of your own; the renderers in
:mod:`nasbook.viz._plots` only draw them. Nothing here imports a plotting library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int, did_you_mean, plain_number

if TYPE_CHECKING:
    import xarray as xr

    from nasbook.search import Search
    from nasbook.trial import Trial

HistoryX = Literal["trials", "epochs", "seconds"]
#: what ``plot_history(..., x=...)`` puts on the x axis: trials, epochs spent, or seconds
HISTORY_X: tuple[str, ...] = ("trials", "epochs", "seconds")
_NOT_AN_AXIS = {"best_so_far"}  # per-trial floats that are not properties of a trial


def _bad_choice(owner: str, param: str, value: object, choices: Sequence[str], hint: str = "") -> InvalidParameterError:
    listed = ", ".join(repr(c) for c in choices)
    msg = f"{owner}({param}=...) must be one of {listed}; got {value!r}{did_you_mean(str(value), choices)}."
    return InvalidParameterError(msg + (" " + hint if hint else ""))


def _is_complete(t: Trial) -> bool:
    v = t.value
    return t.state.value == "complete" and v is not None and math.isfinite(v)


def _check_search(owner: str, search: Any, param: str = "search") -> None:
    from nasbook.search import Search

    if not isinstance(search, Search):
        raise InvalidParameterTypeError(
            f"{owner}({param}=...) must be a nasbook Search; got {search!r} of type {type(search).__name__}."
        )
    if not any(_is_complete(t) for t in search.trials):
        raise InvalidParameterError(
            f"{owner}({param}=...): search {search.name!r} has no completed trials "
            f"({search.n_trials} committed); run it first (search.run()) or pass another search."
        )


def _ranked(trials: Sequence[Trial], mode: str) -> list[Trial]:
    """Completed trials, best first (ties: lower trial number first)."""
    sign = -1.0 if mode == "max" else 1.0
    done = [t for t in trials if _is_complete(t)]
    return sorted(done, key=lambda t: (sign * float(t.value), t.number))  # type: ignore[arg-type]


# -- history ----------------------------------------------------------------------------------------
def _one_history(search: Search, x: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x values, values, trial numbers) in the order the best-so-far runs over."""
    owner = "history_info"
    trials = [t for t in search.trials if t.state.is_finished]
    if x == "seconds":
        trials = [t for t in trials if t.started_at is not None and t.finished_at is not None]
        if not trials:
            raise InvalidParameterError(f"{owner}(x='seconds'): the trials of search {search.name!r} have no timestamps; use x='trials'.")
        trials.sort(key=lambda t: (t.finished_at, t.number))
        t0 = min(t.started_at for t in trials)  # type: ignore[type-var]
        xs = [float(t.finished_at) - float(t0) for t in trials]  # type: ignore[arg-type]
    elif x == "epochs":
        if all(t.epochs is None for t in trials):
            raise InvalidParameterError(
                f"{owner}(x='epochs') needs trials that train for epochs; search {search.name!r} looks its "
                "results up (every trial has epochs=None). Use x='trials' or x='seconds'."
            )
        by_number = {t.number: t for t in trials}
        spent, xs = 0, []
        for t in trials:  # counted as search.epochs_spent counts them: a continuation (multi-fidelity promotion)
            # only its extra epochs, unless its task says it trained from scratch (epochs_run); plus lost dask attempts'
            spent += t.epochs_trained(by_number.get(t.parent) if t.parent is not None else None)
            xs.append(float(spent))
    else:
        xs = [float(i + 1) for i in range(len(trials))]
    values = [float(t.value) if _is_complete(t) else math.nan for t in trials]  # type: ignore[arg-type]
    numbers = [t.number for t in trials]
    if x == "epochs" and no_result_epochs(search, xs):  # spent by trials with no result yet: a last step
        xs, values, numbers = [*xs, float(search.epochs_spent)], [*values, math.nan], [*numbers, -1]
    return np.asarray(xs, dtype=float), np.asarray(values, dtype=float), np.asarray(numbers, dtype=np.int64)


def no_result_epochs(search: Search, xs: list[float]) -> int:
    """Epochs ``search.epochs_spent`` counts that no finished trial holds: those its lost dask attempts trained of a
    trial re-queued (interrupted, or running when the process died), which has no result yet."""
    return max(0, int(search.epochs_spent) - (int(xs[-1]) if xs else 0))


def _best_so_far(values: np.ndarray, mode: str) -> np.ndarray:
    sign = 1.0 if mode == "max" else -1.0
    filled = np.where(np.isnan(values), -np.inf, sign * values)
    best = np.maximum.accumulate(filled) if len(filled) else filled
    return np.where(np.isinf(best), np.nan, sign * best)


def history_info(*searches: Search, x: HistoryX = "trials") -> xr.Dataset:
    """Best value so far of one or more searches, against trials, epochs or seconds.

    Parameters
    ----------
    *searches : Search
        One or more searches with at least one completed trial, overlaid. They must share a
        ``mode`` (min or max).
    x : {"trials", "epochs", "seconds"}
        ``"trials"``: finished trials, in trial-number order (1, 2, ...). ``"epochs"``: cumulative
        epochs trained, in trial-number order, each trial counted as ``search.epochs_spent`` counts it
        (:meth:`Trial.epochs_trained <nasbook.trial.Trial.epochs_trained>`: a multi-fidelity continuation
        only its extra epochs, unless its task says it trained from scratch; plus the epochs its attempts
        lost with a dask worker trained). A trial re-queued after such a loss (an interrupted run, or a process
        that died while it ran) has no result yet, but its lost epochs are spent: a last step (``trial`` -1,
        ``value`` NaN, ``best_so_far`` unchanged) ends the history at ``search.epochs_spent``, and the variable
        ``epochs_no_result`` says how many epochs that step holds (0: none). ``"seconds"``: seconds from the first
        trial's start to each trial's finish, in finishing order (wall clock, so time a resumed
        search spent stopped is included).

    Returns
    -------
    xarray.Dataset
        Dims ``("search", "step")``; coords ``search`` (the search names, made unique with a
        ``" (2)"`` suffix) and ``step`` (0-based). Variables: ``<x>`` (the x value, named after
        ``x``), ``value`` (NaN unless the trial is COMPLETE), ``best_so_far`` (running best by
        ``mode``; NaN before the first completed trial) and ``trial`` (its number). Shorter
        searches are padded with NaN (``trial`` with -1). Attributes: ``x``, ``metric`` (the
        searches' metrics joined by ", " when they differ) and ``mode``.

    Examples
    --------
    >>> ds = history_info(search_a, search_b, x="trials")  # doctest: +SKIP
    >>> float(ds["best_so_far"].sel(search=search_a.name).dropna("step")[-1]) == search_a.best.value  # doctest: +SKIP
    """
    import xarray as xr

    owner = "history_info"
    if x not in HISTORY_X:
        raise _bad_choice(owner, "x", x, HISTORY_X)
    if not searches:
        raise InvalidParameterError(f"{owner}() needs at least one search; got none.")
    for s in searches:
        _check_search(owner, s, "searches")
    modes = {s.mode for s in searches}
    if len(modes) > 1:
        raise InvalidParameterError(
            f"{owner}(searches=...) must share a mode to be overlaid; got "
            + ", ".join(f"{s.name!r} ({s.mode})" for s in searches) + "."
        )
    mode = searches[0].mode
    labels: list[str] = []
    for s in searches:
        label, k = s.name, 2
        while label in labels:
            label, k = f"{s.name} ({k})", k + 1
        labels.append(label)
    parts = [_one_history(s, x) for s in searches]
    n = max(len(p[0]) for p in parts)
    xs = np.full((len(parts), n), np.nan)
    values = np.full((len(parts), n), np.nan)
    best = np.full((len(parts), n), np.nan)
    numbers = np.full((len(parts), n), -1, dtype=np.int64)
    for i, (px, pv, pn) in enumerate(parts):
        xs[i, : len(px)] = px
        values[i, : len(pv)] = pv
        best[i, : len(pv)] = _best_so_far(pv, mode)
        numbers[i, : len(pn)] = pn
    metrics = list(dict.fromkeys(s.metric for s in searches))
    dims = ("search", "step")
    ds = xr.Dataset(
        {x: (dims, xs), "value": (dims, values), "best_so_far": (dims, best), "trial": (dims, numbers)},
        coords={"search": labels, "step": np.arange(n)},
        attrs={"x": x, "metric": ", ".join(metrics), "mode": mode},
    )
    if x == "epochs":  # the last step's epochs, spent by trials with no result yet (0: no such step)
        ds["epochs_no_result"] = ("search", np.asarray([no_result_epochs(s, list(p[0][p[2] >= 0]))
                                                        for s, p in zip(searches, parts, strict=True)], dtype=np.int64))
    ds["best_so_far"].attrs["long_name"] = f"best {ds.attrs['metric']} so far"
    ds[x].attrs["long_name"] = {"trials": "trials", "epochs": "epochs trained", "seconds": "elapsed (s)"}[x]
    return ds


# -- learning curves -----------------------------------------------------------------------------
def curves_info(search: Search, metric: str | None = None, top_k: int | None = None) -> xr.Dataset:
    """Learning curves of one metric, one row per trial.

    A trial that was continued by another (a multi-fidelity promotion) is left out: its curve is
    the start of its continuation's, so every architecture's training shows once.

    Parameters
    ----------
    search : Search
        A search whose task trains for epochs and reports curves.
    metric : str, optional
        Which curve (default: the search's metric). Must be one the trials reported.
    top_k : int, optional
        Keep only the ``k`` completed trials with the best value (by the search's mode), best
        first. By default every trial with a curve, in trial-number order.

    Returns
    -------
    xarray.Dataset
        Dims ``("trial", "epoch")`` (``epoch`` 0-based); coords ``trial``, ``arch_id``.
        Variables: ``curve(trial, epoch)`` (NaN past a trial's last epoch), ``value(trial)``
        (the trial's objective, NaN unless complete), ``epochs(trial)`` (length of its curve).
        Attributes: ``name``, ``metric`` (the curve's), ``objective`` (the search's metric),
        ``mode``, ``top_k``.

    Examples
    --------
    >>> import nasbook
    >>> from nasbook.space import CellSpace
    >>> from nasbook.testing import ToyTask
    >>> space = CellSpace()
    >>> search = nasbook.Search(space, ToyTask(space, epochs=5), budget=8, seed=0, storage=":memory:").run(progress="none")
    >>> ds = curves_info(search, top_k=3)
    >>> ds["curve"].dims, ds.sizes["trial"]
    (('trial', 'epoch'), 3)
    >>> float(ds["value"][0]) == search.best.value  # best first
    True
    """
    import xarray as xr

    owner = "curves_info"
    _check_search(owner, search)
    top_k = check_int(owner, "top_k", top_k, minimum=1, allow_none=True)
    trials = search.trials
    names = sorted({k for t in trials for k, v in t.curves.items() if v})
    if not names:
        raise InvalidParameterError(
            f"{owner}(search=...): search {search.name!r} has no learning curves: its task "
            f"({search.task!r}) does not report per-epoch metrics. Plot its history instead."
        )
    chosen = search.metric if metric is None else metric
    if chosen not in names:
        raise _bad_choice(owner, "metric", chosen, names, hint="(the curves the trials of this search reported)")
    continued = {t.parent for t in trials if t.parent is not None}
    kept = [t for t in trials if t.curves.get(chosen) and t.number not in continued]
    if top_k is not None:
        kept = _ranked(kept, search.mode)[:top_k]
        if not kept:
            raise InvalidParameterError(f"{owner}(top_k={top_k}): search {search.name!r} has no completed trial with a {chosen!r} curve.")
    n_epochs = max(len(t.curves[chosen]) for t in kept)
    arr = np.full((len(kept), n_epochs), np.nan)
    for i, t in enumerate(kept):
        c = t.curves[chosen]
        arr[i, : len(c)] = c
    ds = xr.Dataset(
        {
            "curve": (("trial", "epoch"), arr),
            "value": ("trial", np.asarray([float(t.value) if _is_complete(t) else math.nan for t in kept])),  # type: ignore[arg-type]
            "epochs": ("trial", np.asarray([len(t.curves[chosen]) for t in kept], dtype=np.int64)),
        },
        coords={
            "trial": np.asarray([t.number for t in kept], dtype=np.int64),
            "arch_id": ("trial", np.asarray([t.arch.id for t in kept], dtype=str)),
            "epoch": np.arange(n_epochs),
        },
        attrs={"name": search.name, "metric": chosen, "objective": search.metric, "mode": search.mode,
               "top_k": -1 if top_k is None else top_k},
    )
    ds["curve"].attrs["long_name"] = chosen
    return ds


# -- trade-off -------------------------------------------------------------------------------------
def tradeoff_info(search: Search, x: str = "auto", y: str = "value") -> xr.Dataset:
    """Completed trials as points (x, y), flagged when on the Pareto front.

    The front is ``ds.nas.pareto_front``'s: ``x`` is minimised (a cost: ``params_m``,
    ``latency_ms``, ``n_params``...) and ``y`` follows the search's mode (maximised for
    ``mode="max"``), ties kept.

    Parameters
    ----------
    search : Search
        A search with completed trials.
    x, y : str
        Per-trial numbers of ``search.to_xarray()``: ``value``, metrics and held-out attrs
        (``test_accuracy``, ``latency_ms``, ``params_m``...), ``duration_s``, ``epochs``. ``x="auto"``:
        the size the task reports, ``params_m`` (NAS-Bench-Graph) or else ``n_params`` (training tasks,
        the curve tables), else an error listing the numbers there are.

    Returns
    -------
    xarray.Dataset
        Dim ``("trial",)``, completed trials with finite ``x`` and ``y`` only; coords ``trial``,
        ``arch_id``, ``state``. Variables: ``<x>``, ``<y>``, ``value`` and ``on_front`` (bool). Attributes:
        ``name``, ``metric``, ``mode``, ``x``, ``y``.
    """
    import nasbook.results  # noqa: F401 - registers the .nas accessor

    owner = "tradeoff_info"
    _check_search(owner, search)
    full = search.to_xarray()
    allowed = sorted(
        str(v) for v in full.data_vars
        if full[v].dims == ("trial",) and full[v].dtype.kind == "f" and v not in _NOT_AN_AXIS
    )
    if x == "auto":  # the size, by the name the task reports it under
        x = next((n for n in ("params_m", "n_params") if n in allowed), "params_m")
    for param, name in (("x", x), ("y", y)):
        if name not in allowed:
            raise _bad_choice(owner, param, name, allowed, hint=f"(the per-trial numbers of search {search.name!r})")
    if x == y:
        raise InvalidParameterError(f"{owner}(x=..., y=...) must differ; got x=y={x!r}.")
    ok = (full["state"].values == "complete") & np.isfinite(full["value"].values)
    ok &= np.isfinite(full[x].values) & np.isfinite(full[y].values)
    if not ok.any():
        raise InvalidParameterError(f"{owner}(x={x!r}, y={y!r}): no completed trial of search {search.name!r} has both numbers.")
    ds = full[list(dict.fromkeys([x, y, "value"]))].isel(trial=np.flatnonzero(ok))
    if search.mode == "max":
        front = ds.nas.pareto_front(minimize=[x], maximize=[y])
    else:
        front = ds.nas.pareto_front(minimize=list(dict.fromkeys([x, y])), maximize=[])
    ds["on_front"] = ("trial", np.isin(ds["trial"].values, front["trial"].values))
    ds.attrs = {"name": search.name, "metric": search.metric, "mode": search.mode, "x": x, "y": y}
    return ds


# -- op frequency ----------------------------------------------------------------------------------
def _ops_of(spec: dict[str, Any]) -> list[str]:
    if "ops" in spec:  # GraphSpace {"link", "ops"}
        return [str(o) for o in spec["ops"]]
    if "edges" in spec:  # CellSpace: one op per edge, "none" included
        return [str(o) for o in spec["edges"]]
    if "layers" in spec:  # ChainSpace [[op, width], ...]: widths ignored
        return [str(layer[0]) for layer in spec["layers"]]
    raise InvalidParameterError(
        f"op_frequency_info: cannot find ops in an architecture spec with keys {sorted(spec)!r}; "
        "supported: GraphSpace ('ops'), CellSpace ('edges'), ChainSpace ('layers')."
    )


def op_frequency_info(search: Search, top: float | int = 0.1) -> xr.Dataset:
    """How often each op appears among the best architectures compared with all of them.

    Architectures are the distinct ``arch_id`` of completed trials (an architecture trained at
    several fidelities counts once, by its most-trained trial), ranked by value. Every op slot
    counts: GraphSpace ``ops``, CellSpace ``edges`` (``"none"`` is counted like any op, so
    sparse cells show as a high ``none`` share), ChainSpace layer ops (widths ignored).

    Parameters
    ----------
    search : Search
        A search with completed trials.
    top : float or int
        A float in (0, 1]: that fraction of the architectures (at least one, rounded up); an
        int >= 1: that many (capped at the number of architectures).

    Returns
    -------
    xarray.Dataset
        Dims ``("group", "op")`` with ``group = ["top", "all"]`` and ``op`` in the space's
        order (ops not in the space appended, sorted). Variables: ``count`` (op slots) and
        ``frequency`` (``count`` over the group's slots: sums to 1 over ``op``). Attributes:
        ``name``, ``metric``, ``mode``, ``top`` (as given), ``n_top``, ``n_all`` (architectures).
    """
    import xarray as xr

    owner = "op_frequency_info"
    _check_search(owner, search)
    top = plain_number(top)  # np.int64 / np.float32 as the plain number
    if isinstance(top, bool) or not isinstance(top, (int, float)):
        raise InvalidParameterTypeError(f"{owner}(top=...) must be a float in (0, 1] or an int >= 1; got {top!r}.")
    if isinstance(top, float) and not 0.0 < top <= 1.0 or isinstance(top, int) and top < 1:
        raise InvalidParameterError(f"{owner}(top=...) must be a float in (0, 1] or an int >= 1; got {top!r}.")
    per_arch: dict[str, Trial] = {}
    for t in search.trials:
        if not _is_complete(t):
            continue
        seen = per_arch.get(t.arch.id)
        if seen is None or (t.epochs or 0, t.number) > (seen.epochs or 0, seen.number):
            per_arch[t.arch.id] = t
    ranked = _ranked(list(per_arch.values()), search.mode)
    n_all = len(ranked)
    n_top = min(n_all, top) if isinstance(top, int) else max(1, math.ceil(top * n_all - 1e-9))
    ops_top = [o for t in ranked[:n_top] for o in _ops_of(t.arch.spec)]
    ops_all = [o for t in ranked for o in _ops_of(t.arch.spec)]
    space_ops = [str(o) for o in getattr(search.space, "_ops", ()) or ()]
    names = space_ops + sorted(set(ops_all) - set(space_ops))
    index = {o: i for i, o in enumerate(names)}
    count = np.zeros((2, len(names)), dtype=np.int64)
    for g, ops in enumerate((ops_top, ops_all)):
        for o in ops:
            count[g, index[o]] += 1
    totals = count.sum(axis=1, keepdims=True)
    ds = xr.Dataset(
        {"count": (("group", "op"), count), "frequency": (("group", "op"), count / np.maximum(totals, 1))},
        coords={"group": ["top", "all"], "op": names},
        attrs={"name": search.name, "metric": search.metric, "mode": search.mode, "top": top,
               "n_top": n_top, "n_all": n_all},
    )
    return ds
