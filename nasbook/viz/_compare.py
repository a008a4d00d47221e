"""Strategies compared over seeds: anytime curves aggregated per group, and a paired test.

:func:`compare_info` is the data (an ``xarray.Dataset``, what the tests check and what a
results table starts from); :func:`plot_compare` draws it. A *group* is a set of searches that
differ only by their seed (by default: one strategy); the seeds pair the groups, so the test at a
checkpoint is a paired one (Wilcoxon signed-rank over seeds, two-sided).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int, did_you_mean, plain_scalar
from nasbook.viz._info import _best_so_far, _check_search, _one_history
from nasbook.viz._intervals import _interval, _support, _wilcoxon

if TYPE_CHECKING:
    import xarray as xr

    from nasbook.search import Search

CompareX = Literal["trials", "epochs"]
COMPARE_X: tuple[str, ...] = ("trials", "epochs")
CompareY = Literal["auto", "regret", "best_so_far"]
COMPARE_Y: tuple[str, ...] = ("auto", "regret", "best_so_far")
Stat = Literal["mean", "median"]
Interval = Literal["t", "bootstrap"]
GroupBy = str | Callable[[Any], Any] | Mapping[Any, Any]
_OWNER = "compare_info"


def _choice(param: str, value: object, choices: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise InvalidParameterError(f"{_OWNER}({param}=...) must be one of {listed}; got {value!r}{did_you_mean(str(value), choices)}.")


def _strategy_label(search: Search) -> str:
    return search.strategy.alias or type(search.strategy).__name__


def _groups(searches: tuple[Any, ...], by: GroupBy) -> dict[str, list[Search]]:
    """``label -> searches`` in first-seen order, each search checked."""
    from nasbook.search import Search

    groups: dict[str, list[Search]] = {}
    if isinstance(by, Mapping):
        if searches:
            raise InvalidParameterError(
                f"{_OWNER}(by=...) is a mapping label -> searches, so it lists the searches; pass none positionally "
                f"(got {len(searches)} positional search(es) too)."
            )
        for label, members in by.items():
            if not isinstance(members, (Search, Sequence, set, frozenset)) or isinstance(members, str):
                raise InvalidParameterTypeError(
                    f"{_OWNER}(by=...): group {label!r} must map to a list of searches (or one search); got {members!r:.60} "
                    f"of type {type(members).__name__}."
                )
            listed = [members] if isinstance(members, Search) else list(members)
            if not listed:
                raise InvalidParameterError(f"{_OWNER}(by=...): group {label!r} has no searches; give each label one search per seed.")
            groups[str(label)] = listed
    else:
        if not searches:
            raise InvalidParameterError(f"{_OWNER}() needs at least one search (one per group and seed); got none.")
        if by == "strategy":
            key: Callable[[Any], Any] = _strategy_label
        elif callable(by) and not isinstance(by, str):
            key = by
        else:
            raise InvalidParameterError(
                f"{_OWNER}(by=...) must be 'strategy', a callable search -> label, or a mapping label -> searches; got {by!r}."
            )
        for s in searches:
            _check_search(_OWNER, s, "searches")
            groups.setdefault(str(key(s)), []).append(s)
    if isinstance(by, Mapping):
        for members in groups.values():
            for s in members:
                _check_search(_OWNER, s, "by")
    elif by == "strategy":
        for label, members in groups.items():
            configs = {repr(s.strategy.to_config()) for s in members}
            if len(configs) > 1:
                raise InvalidParameterError(
                    f"{_OWNER}(by='strategy'): group {label!r} mixes strategy configurations ({', '.join(sorted(configs))}); "
                    "pass by=<callable search -> label> or a mapping label -> searches to tell them apart."
                )
    return groups


def _same(what: str, groups: dict[str, list[Search]], get: Callable[[Search], Any], show: Callable[[Search], str]) -> None:
    seen = {repr(get(s)) for ss in groups.values() for s in ss}
    if len(seen) > 1:
        got = ", ".join(f"{s.name!r} ({show(s)})" for ss in groups.values() for s in ss)
        raise InvalidParameterError(f"{_OWNER}(searches=...) must share one {what} to be compared; got {got}.")


def _seeds(groups: dict[str, list[Search]]) -> dict[str, dict[int, Search]]:
    out: dict[str, dict[int, Search]] = {}
    for label, members in groups.items():
        by_seed: dict[int, Search] = {}
        for s in members:
            if s.seed in by_seed:
                raise InvalidParameterError(
                    f"{_OWNER}(searches=...): group {label!r} has two searches with seed {s.seed} "
                    f"({by_seed[s.seed].name!r} and {s.name!r}); each seed must appear once per group "
                    "(a seed pairs the groups). Drop one, or group them apart with by=."
                )
            by_seed[s.seed] = s
        out[label] = by_seed
    return out


def _optimum(task: Any) -> float | None:
    """The task's best objective value (``task.optimum()[1]``), or None when it does not know it."""
    optimum = getattr(task, "optimum", None)
    if not callable(optimum):
        return None
    return float(optimum()[1])


def _on_grid(xs: np.ndarray, best: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The best-so-far step function at each grid point: the last value with x <= g; NaN before the
    first trial and past the search's last x (it did not run that far)."""
    i = np.searchsorted(xs, grid, side="right") - 1
    out = np.where(i >= 0, best[np.clip(i, 0, None)], np.nan)
    return np.where(grid > xs[-1], np.nan, out)


def _checkpoints(checkpoints: Sequence[Real] | None, grid: np.ndarray, ends: list[float], x: str) -> np.ndarray:
    if checkpoints is None:
        return np.asarray([min(ends)], dtype=float)
    if isinstance(checkpoints, np.ndarray) and checkpoints.ndim == 1:  # np.arange(10, 51, 10): refused before
        checkpoints = checkpoints.tolist()
    if isinstance(checkpoints, (str, bytes)) or not isinstance(checkpoints, Sequence):
        raise InvalidParameterTypeError(
            f"{_OWNER}(checkpoints=...) must be a list of {x} counts (or None: the last one every search reached; [] for no test); "
            f"got {checkpoints!r} of type {type(checkpoints).__name__}."
        )
    lo, hi = float(grid[0]), float(grid[-1])
    bad = [c for c in checkpoints if isinstance(c, bool) or not isinstance(c, Real) or not lo <= float(c) <= hi]
    if bad:
        raise InvalidParameterError(f"{_OWNER}(checkpoints=...) must be {x} counts from {lo:g} to {hi:g}; got {list(checkpoints)!r}.")
    return np.asarray(sorted({float(c) for c in checkpoints}), dtype=float)


def compare_info(
    *searches: Search,
    by: GroupBy = "strategy",
    x: CompareX = "trials",
    y: CompareY = "auto",
    stat: Stat = "mean",
    interval: Interval = "t",
    confidence: float = 0.95,
    reference: str | None = None,
    checkpoints: Sequence[Real] | None = None,
    random_state: int = 0,
) -> xr.Dataset:
    """Anytime best-so-far (or regret) of searches grouped and aggregated over seeds, with a paired test.

    Parameters
    ----------
    *searches : Search
        Searches with at least one completed trial, one per (group, seed). They must share a task
        (same ``task.to_config()``, hence one metric and mode) and a search space.
    by : "strategy", callable or mapping, default "strategy"
        How to form groups. ``"strategy"``: by the strategy's alias (``"random"``, ``"evolution"``);
        a group whose searches' strategy configurations differ is refused. A callable: ``search ->
        label``. A mapping ``label -> searches`` (a list, or one search): the groups given outright,
        with no positional searches.
    x : {"trials", "epochs"}, default "trials"
        The budget axis. ``"trials"``: finished trials 1, 2, ... ``"epochs"``: cumulative epochs
        trained (a multi-fidelity continuation counts its extra epochs only); the curves are read on
        the union of all searches' epoch counts (a step function: the best after at most that many
        epochs).
    y : {"auto", "regret", "best_so_far"}, default "auto"
        ``"regret"``: the gap to the task's optimum (``task.optimum()``, known by the tabular
        benchmarks), in the objective's units and >= 0 (``optimum - best`` when maximising, ``best -
        optimum`` when minimising; against the top-fidelity optimum, so a low-fidelity value of a
        multi-fidelity search can make it negative). ``"best_so_far"``: the best value itself.
        ``"auto"``: regret when the task knows its optimum, the best value otherwise.
    stat : {"mean", "median"}, default "mean"
        The statistic the interval is about (both are always in the Dataset).
    interval : {"t", "bootstrap"}, default "t"
        How the interval over seeds is made. ``"t"``: Student's t interval of the mean (``mean ±
        t(n-1) · sd / √n``), cut at the bounds the mean is known to lie within: regret >= 0, and a
        best-so-far value beyond the task's optimum is impossible (the ``lower_bound`` and
        ``upper_bound`` attributes; none when a recorded value passes them, as a low-fidelity value of
        a multi-fidelity search can). The default, because with the 3 to 10 seeds NAS papers report it
        covers the mean as it should and a bootstrap does not: on NAS-Bench-Graph regret (cora and
        pubmed, random and evolution, 10 to 100 trials) a 95% t interval covered the mean over 200
        searches 0.951 / 0.949 / 0.951 of the time at 3 / 5 / 10 seeds (lowest cell 0.926), the
        percentile bootstrap 0.744 / 0.829 / 0.903 (``docs/benchmarks.md``). It is deterministic too.
        The cut keeps that coverage (the mean lies within the bounds, so the cut interval covers it
        whenever the t interval does) and drops only impossible values, which the symmetric t
        interval reaches when seeds sit near the bound (16% of the 3-seed intervals there);
        ``stat="mean"`` only.
        ``"bootstrap"``: :func:`scipy.stats.bootstrap` of ``stat`` (percentile method, 9999
        resamples, ``random_state``): within the data's range, hence the bounds, with no normality
        needed, but too narrow at few seeds.
    confidence : float, default 0.95
        The interval's confidence level, in (0, 1).
    reference : str, optional
        The group the others are tested against (default: the first group).
    checkpoints : list of numbers, optional
        The ``x`` values (e.g. trial counts) at which to test; each group is read at the last grid
        point at or before the checkpoint. Default: the last ``x`` every search reached. ``[]``: no
        test, and then seeds need not pair.
    random_state : int, default 0
        Seed of the bootstrap resampling.

    Returns
    -------
    xarray.Dataset
        Dims ``group``, ``seed`` (the sorted union of the searches' seeds), ``step`` (0-based) and
        ``checkpoint`` (the tested ``x`` values). Coords: ``<x>(step)`` (the ``x`` value of each
        step) and ``n_seeds(group)``. Per search: ``best_so_far(group, seed, step)``, ``regret`` (the
        same shape, when the task knows its optimum) and ``search(group, seed)`` (its name; ``""``
        for a seed a group lacks). Over seeds, of ``attrs["y"]``: ``mean``, ``median``, ``low`` and
        ``high`` (the interval), all ``(group, step)``; each is NaN at a step where any seed of the
        group has no value (none yet, or none any more: past that search's last ``x``, as with
        ``x="epochs"``); no seed is silently dropped, and ``low``/``high`` are NaN for a
        group of one seed (no interval can be made). Paired tests against ``reference``, ``(group,
        checkpoint)``: ``diff`` (mean over seeds of group minus reference, in ``y`` units),
        ``p_value`` (two-sided Wilcoxon signed-rank, :func:`scipy.stats.wilcoxon` on the pairs where
        both have a value; 1.0 when every difference is 0; NaN for the reference itself) and
        ``n_pairs``. Attributes: ``x``, ``y``, ``metric``, ``mode``, ``task``, ``optimum`` (when
        known), ``stat``, ``interval``, ``confidence``, ``reference``, ``lower_bound`` and
        ``upper_bound`` (what ``low`` and ``high`` are cut to: 0 and inf for regret; -inf and inf
        when no bound is known).

    Raises
    ------
    InvalidParameterError
        No searches; searches of different modes, metrics, tasks or spaces; two searches with one
        seed in a group; a group whose seeds differ from the reference's when a test is asked for
        (they would be unpaired: drop them, or pass ``checkpoints=[]``); a bad choice of ``x``,
        ``y``, ``stat``, ``interval``, ``reference`` or ``checkpoints``.

    Examples
    --------
    >>> import nasbook
    >>> from nasbook.tasks import NasBenchGraph
    >>> task = NasBenchGraph("cora")
    >>> runs = [nasbook.Search(task, strategy=s, budget=15, seed=seed, storage=":memory:").run(progress="none")
    ...         for s in ("random", "evolution") for seed in range(3)]
    >>> ds = compare_info(*runs, reference="random")
    >>> ds["regret"].dims
    ('group', 'seed', 'step')
    >>> ds["p_value"].sel(group="evolution").item() <= 1.0
    True
    """
    import xarray as xr

    _choice("x", x, COMPARE_X)
    _choice("y", y, COMPARE_Y)
    _choice("stat", stat, ("mean", "median"))
    _choice("interval", interval, ("t", "bootstrap"))
    if interval == "t" and stat != "mean":
        raise InvalidParameterError(
            f"{_OWNER}(interval='t') is an interval of the mean; got stat={stat!r}. Use interval='bootstrap' for the median."
        )
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < float(confidence) < 1:
        raise InvalidParameterError(f"{_OWNER}(confidence=...) must be a number in (0, 1), e.g. 0.95; got {confidence!r}.")
    random_state = check_int(_OWNER, "random_state", random_state, minimum=0)
    groups = _groups(searches, by)
    _same("mode", groups, lambda s: s.mode, lambda s: s.mode)
    _same("metric", groups, lambda s: s.metric, lambda s: s.metric)
    _same("task", groups, lambda s: s.task.to_config(), lambda s: s.task.name)
    _same("search space", groups, lambda s: s.space.space_id, lambda s: repr(s.space))
    seeds = _seeds(groups)
    labels = list(groups)
    if reference is None:
        reference = labels[0]
    elif reference not in labels:
        listed = ", ".join(repr(g) for g in labels)
        raise InvalidParameterError(f"{_OWNER}(reference=...) must be one of the groups {listed}; got {reference!r}{did_you_mean(str(reference), labels)}.")
    first = next(iter(groups.values()))[0]
    mode, task = first.mode, first.task
    known = _optimum(task)
    optimum = known if y != "best_so_far" else None
    if y == "regret" and optimum is None:
        raise InvalidParameterError(
            f"{_OWNER}(y='regret') needs a task that knows its optimum (task.optimum(), as the tabular benchmarks do); "
            f"{task.name} does not. Use y='best_so_far' (or 'auto')."
        )
    yname = "best_so_far" if optimum is None else "regret"

    histories = {(g, seed): _one_history(s, x) for g, by_seed in seeds.items() for seed, s in by_seed.items()}
    grid = np.unique(np.concatenate([h[0] for h in histories.values()]))
    ends = [float(h[0][-1]) for h in histories.values()]
    tested = _checkpoints(checkpoints, grid, ends, x)
    all_seeds = sorted({seed for by_seed in seeds.values() for seed in by_seed})
    shape = (len(labels), len(all_seeds), len(grid))
    best = np.full(shape, np.nan)
    names = np.full(shape[:2], "", dtype=object)
    for (g, seed), (xs, values, _) in histories.items():
        i, j = labels.index(g), all_seeds.index(seed)
        best[i, j] = _on_grid(xs, _best_so_far(values, mode), grid)
        names[i, j] = seeds[g][seed].name
    ys = best if optimum is None else (optimum - best if mode == "max" else best - optimum)

    support = _support(ys, yname, mode, known)
    rng = np.random.default_rng(random_state)
    summary = {k: np.full((len(labels), len(grid)), np.nan) for k in ("mean", "median", "low", "high")}
    for i, g in enumerate(labels):
        a = ys[i, [all_seeds.index(seed) for seed in sorted(seeds[g])]]
        ok = np.isfinite(a).all(axis=0)
        summary["mean"][i, ok] = a[:, ok].mean(axis=0)
        summary["median"][i, ok] = np.median(a[:, ok], axis=0)
        summary["low"][i], summary["high"][i] = _interval(a, stat, interval, float(confidence), rng, support)

    diff = np.full((len(labels), len(tested)), np.nan)
    p_value = np.full((len(labels), len(tested)), np.nan)
    n_pairs = np.zeros((len(labels), len(tested)), dtype=np.int64)
    r = labels.index(reference)
    if len(tested) and len(labels) > 1:
        for g in labels:
            if g != reference and set(seeds[g]) != set(seeds[reference]):
                only_r, only_g = sorted(set(seeds[reference]) - set(seeds[g])), sorted(set(seeds[g]) - set(seeds[reference]))
                raise InvalidParameterError(
                    f"{_OWNER}(searches=...): group {g!r} and the reference {reference!r} must have the same seeds to be "
                    f"paired; seeds {only_r} are only in {reference!r} and {only_g} only in {g!r}. Drop the unpaired "
                    "searches, or pass checkpoints=[] for the curves without a test."
                )
        cols = np.searchsorted(grid, tested, side="right") - 1
        ref_cols = [all_seeds.index(seed) for seed in sorted(seeds[reference])]
        for i, g in enumerate(labels):
            if g == reference:
                continue
            for k, col in enumerate(cols):
                diff[i, k], p_value[i, k], n_pairs[i, k] = _wilcoxon(ys[i, ref_cols, col], ys[r, ref_cols, col])

    dims3, dims2, dims_t = ("group", "seed", "step"), ("group", "step"), ("group", "checkpoint")
    data = {"best_so_far": (dims3, best), "search": (("group", "seed"), names.astype(str)),
            **{k: (dims2, v) for k, v in summary.items()},
            "diff": (dims_t, diff), "p_value": (dims_t, p_value), "n_pairs": (dims_t, n_pairs)}
    if optimum is not None:
        data["regret"] = (dims3, ys)
    attrs: dict[str, Any] = {"x": x, "y": yname, "metric": first.metric, "mode": mode, "task": task.name, "stat": stat,
                             "interval": interval, "confidence": float(confidence), "reference": reference,
                             "lower_bound": support[0], "upper_bound": support[1]}
    if optimum is not None:
        attrs["optimum"] = optimum
    ds = xr.Dataset(
        data,
        coords={"group": labels, "seed": np.asarray(all_seeds, dtype=np.int64), "step": np.arange(len(grid)),
                x: ("step", grid), "n_seeds": ("group", [len(seeds[g]) for g in labels]), "checkpoint": tested},
        attrs=attrs,
    )
    ds[x].attrs["long_name"] = {"trials": "trials", "epochs": "epochs trained"}[x]
    ds["best_so_far"].attrs["long_name"] = f"best {first.metric} so far"
    if optimum is not None:
        ds["regret"].attrs["long_name"] = f"regret ({first.metric}, optimum {optimum:.6g})"
    return ds


def plot_compare(
    *searches: Search,
    by: GroupBy = "strategy",
    x: CompareX = "trials",
    y: CompareY = "auto",
    stat: Stat = "mean",
    interval: Interval = "t",
    confidence: float = 0.95,
    logy: bool = False,
    **opts: Any,
) -> Any:
    """Anytime curves of searches grouped over seeds: the mean (or median) line of each group and its interval as a band.

    The data is :func:`compare_info` (with no test: seeds need not pair here). A group of one seed
    has no interval: it is drawn as a line without a band, and its legend entry says so.

    Parameters
    ----------
    *searches : Search
        Searches with at least one completed trial, one per (group, seed), on one task.
    by : "strategy", callable or mapping, default "strategy"
        How to form groups: by strategy alias, by a callable ``search -> label``, or a mapping
        ``label -> searches`` given instead of positional searches (see :func:`compare_info`).
    x : {"trials", "epochs"}, default "trials"
        The budget axis.
    y : {"auto", "regret", "best_so_far"}, default "auto"
        Regret to the task's optimum when it knows one (the tabular benchmarks), else the best value.
    stat : {"mean", "median"}, default "mean"
        The line drawn; the band is the interval of this statistic.
    interval : {"t", "bootstrap"}, default "t"
        A Student's t interval of the mean, cut at the bounds the mean lies within (regret >= 0; a
        best value cannot pass the task's optimum; the title says so), or a percentile bootstrap of
        ``stat`` (which ``stat="median"`` needs). See :func:`compare_info` for why t is the default.
    confidence : float, default 0.95
        The band's confidence level.
    logy : bool, default False
        A log y axis (e.g. for regret over a long budget); a zero (every seed found the optimum,
        or a band cut at 0) cannot be drawn there.
    **opts
        holoviews options applied to the overlay (``width``, ``height``, ``title``...); by default
        700 x 350 with the legend on the right, outside the axes, and a title that names the
        statistic, the task and the band.

    Returns
    -------
    holoviews.Overlay
        One ``Area`` (the band) and one ``Curve`` per group, coloured alike.

    Examples
    --------
    >>> nasbook.viz.plot_compare(*random_runs, *evolution_runs, logy=True)  # doctest: +SKIP
    """
    from nasbook.viz._mpl import for_png
    from nasbook.viz._plots import _built, _hvplot, _sized

    opts = _sized("plot_compare", opts, "Overlay")
    ds = _built("plot_compare", compare_info, *searches, by=by, x=x, y=y, stat=stat, interval=interval,
                confidence=confidence, checkpoints=[])
    logy = plain_scalar(logy)  # np.bool_(True), as checked **opts take it
    if not isinstance(logy, bool):
        raise InvalidParameterTypeError(f"plot_compare(logy=...) must be True or False; got {logy!r} of type {type(logy).__name__}.")
    _hvplot()  # loads holoviews' bokeh backend, so .opts below apply
    import holoviews as hv

    with contextlib.suppress(ImportError):  # registers matplotlib's options too, for a PNG save(); bokeh stays current
        import holoviews.plotting.mpl  # noqa: F401

    colours = hv.Cycle.default_cycles["default_colors"]
    xs = ds[x].values
    yname = ds.attrs["y"]
    ydim = hv.Dimension(yname, label=f"{yname.replace('_', ' ')} ({ds.attrs['metric']})")
    xdim = hv.Dimension(x, label=ds[x].attrs["long_name"])
    layers = []
    for i, g in enumerate(ds["group"].values):
        one = ds.sel(group=g)
        colour = colours[i % len(colours)]
        n = int(one["n_seeds"])
        label = f"{g} ({n} seeds)" if n > 1 else f"{g} (1 seed, no band)"
        if n > 1:  # options for both backends: save() draws a PNG with matplotlib
            band = hv.Area((xs, one["low"].values, one["high"].values), kdims=[xdim], vdims=[ydim, "high"])
            band = band.opts(color=colour, alpha=0.2, line_alpha=0, backend="bokeh")
            layers.append(band.opts(color=colour, alpha=0.2, linewidth=0, backend="matplotlib"))
        line = hv.Curve((xs, one[stat].values), kdims=[xdim], vdims=[ydim], label=label)
        line = line.opts(color=colour, line_width=2, backend="bokeh")
        layers.append(line.opts(color=colour, linewidth=2, backend="matplotlib"))
    overlay = hv.Overlay(layers)
    title = _title(ds, stat, interval)
    # legend beside the axes in both backends: inside, top-right covered a best-so-far curve's end and its band;
    # hvplot's 700 x 300 shape unless the caller gives one (the PNG takes it too, else a 4-inch square)
    size = {"width": 700, "height": 350}
    overlay = overlay.opts(title=title, logy=logy, legend_position="right", **size, backend="bokeh")
    overlay = overlay.opts(title=title, logy=logy, backend="matplotlib").opts(**opts)
    return for_png(overlay, {**size, **opts})


def _title(ds: xr.Dataset, stat: str, interval: str) -> str:
    """What the plot shows: the statistic, the task, the band and, for a t band, the bound it is cut at."""
    yname = ds.attrs["y"].replace("_", " ")
    if int(ds["n_seeds"].max()) < 2:
        return f"{stat} {yname} on {ds.attrs['task']} (one seed: no interval)"
    band = f"{100 * ds.attrs['confidence']:g}% {'t' if interval == 't' else 'bootstrap'} interval over seeds"
    lower, upper = ds.attrs["lower_bound"], ds.attrs["upper_bound"]
    cut = ""
    if interval == "t" and math.isfinite(lower):
        cut = ", cut at 0: regret >= 0" if ds.attrs["y"] == "regret" else f", cut at the optimum {lower:.4g}"
    elif interval == "t" and math.isfinite(upper):
        cut = f", cut at the optimum {upper:.4g}"
    return f"{stat} {yname} on {ds.attrs['task']} (band: {band}{cut})"
