"""hvplot renderers over the ``*_info`` builders, and :func:`save` for offline files.

hvplot and holoviews are imported inside the functions, so ``import nasbook.viz`` stays light.
Each renderer goes through a tidy DataFrame (hvplot on a Dataset would turn leftover dims
into a slider widget).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError, check_int
from nasbook.viz._info import HistoryX, curves_info, history_info, op_frequency_info, tradeoff_info
from nasbook.viz._mpl import for_png

if TYPE_CHECKING:
    from nasbook.search import Search

_INSTALL = "pip install hvplot matplotlib  (or: conda install -c conda-forge hvplot matplotlib)"


def _built(plot: str, builder: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``builder(*args, **kwargs)``, its errors naming the plot the user called (``plot_history(x=...)``)
    rather than the builder behind it (``history_info(x=...)``)."""
    try:
        return builder(*args, **kwargs)
    except NasbookError as exc:
        exc.args = tuple(a.replace(builder.__name__, plot) if isinstance(a, str) else a for a in exc.args)
        raise


#: the holoviews options of a plot's size, in pixels: each a whole number >= 1 (or None, holoviews' own default)
SIZES = ("width", "height", "frame_width", "frame_height", "min_width", "min_height", "max_width", "max_height")


def _sized(plot: str, opts: dict[str, Any], kind: str) -> dict[str, Any]:
    """``opts`` with its size options (:data:`SIZES`) checked, numpy integers as plain ints, and every
    other option checked for the holoviews type ``kind`` the plot applies them to (:func:`._opts.check_opts`);
    an InvalidParameterError naming ``plot(width=...)`` otherwise. holoviews took ``width="wide"`` (or a
    float, or a negative height), ``title=3`` or ``aspect="wide"`` into the plot and failed only when it was
    drawn, in the notebook's display or in :func:`save`, far from the call; ``width=True`` drew a plot 1 pixel wide."""
    sized = {k: check_int(plot, k, v, minimum=1, allow_none=True) if k in SIZES else v for k, v in opts.items()}
    if any(k not in SIZES for k in sized):
        from nasbook.viz._opts import check_opts

        _hvplot()  # holoviews' bokeh backend, whose plot classes declare the options
        sized = check_opts(plot, sized, kind)
    return sized


def _hvplot() -> None:
    try:
        import hvplot.pandas  # noqa: F401 - registers DataFrame.hvplot
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(f"nasbook.viz plots need hvplot: {_INSTALL}") from err


def plot_history(*searches: Search, x: HistoryX = "trials", **opts: Any) -> Any:
    """Best value so far (a step line) over each trial's value (dots), one colour per search.

    Parameters
    ----------
    *searches : Search
        One or more searches with a completed trial, sharing one ``mode``, overlaid.
    x : {"trials", "epochs", "seconds"}
        See :func:`nasbook.viz.history_info`.
    **opts
        holoviews options applied to the overlay (``width``, ``height``, ``title``...).

    Returns
    -------
    holoviews.Overlay
        The best-so-far step lines over the trials' dots.
    """
    opts = _sized("plot_history", opts, "Overlay")
    ds = _built("plot_history", history_info, *searches, x=x)
    _hvplot()
    df = ds.to_dataframe().reset_index().dropna(subset=[x])
    df["search"] = df["search"].map(dict(zip(ds["search"].values, _legend_names(searches))))
    label = ds[x].attrs["long_name"]
    best = df.hvplot.step(x=x, y="best_so_far", by="search", where="post", xlabel=label, ylabel=ds.attrs["metric"])
    dots = df.dropna(subset=["value"]).hvplot.scatter(x=x, y="value", by="search", alpha=0.35, legend=False)
    tasks = {s.task.name for s in searches}
    where = f" on {tasks.pop()}" if len(tasks) == 1 else ""
    title = f"best {ds.attrs['metric']} so far (line) and each trial's (dots){where}, {ds.attrs['mode']}imised"
    if x == "epochs" and (waiting := int(ds["epochs_no_result"].sum())):  # the line's last step: no trial's point
        title += f"; its last {waiting} epochs trained by lost attempts of trials with no result yet"
    plot = for_png(dots * best, opts, Scatter={"alpha": 0.35, "show_legend": False}, Curve={"interpolation": "steps-post"},
                   Overlay={"title": title, "xlabel": label, "ylabel": ds.attrs["metric"]})
    return plot.opts(**{"title": title, **opts})


_AUTO_NAME = re.compile(r"search-\d{8}-\d{6}-[0-9a-f]{6}")


def _legend_names(searches: tuple[Search, ...]) -> list[str]:
    """A search's name in a legend, unique; a name the search gave itself (``search-20261130-202541-2740cc``)
    tells a reader nothing, so such a search shows as its strategy and seed (``random, seed 0``)."""
    out: list[str] = []
    for s in searches:
        base = f"{s.strategy.alias or type(s.strategy).__name__}, seed {s.seed}" if _AUTO_NAME.fullmatch(s.name) else s.name
        name, k = base, 2
        while name in out:
            name, k = f"{base} ({k})", k + 1
        out.append(name)
    return out


def plot_curves(search: Search, metric: str | None = None, top_k: int | None = None, **opts: Any) -> Any:
    """Learning curves (metric against epoch), one line per trial; see :func:`curves_info`.

    Trials take the colours of holoviews' default cycle in trial-number order (the 13th trial the
    first trial's colour again), with a legend of trial numbers when there are 10 or fewer; hovering
    a line shows its trial, epochs trained and value. The trials that share a colour are drawn as one
    line broken by NaN between trials, so thousands of curves draw 12 lines (one holoviews element and
    one Bokeh renderer per trial took 60 s to build and render at 1,000 curves on a loaded 2-core
    machine, over 120 s at 8,764; now 0.6 and 0.4 s: docs/benchmarks.md, "nasbook.viz at 10,000 trials").

    Parameters
    ----------
    search : Search
        A search whose task trains for epochs and reports curves.
    metric : str, optional
        Which curve (default: the search's metric).
    top_k : int, optional
        Only the ``k`` completed trials with the best value (default: every trial with a curve).
    **opts
        holoviews options (``width``, ``height``, ``title``...).

    Returns
    -------
    holoviews.NdOverlay
        One ``Curve`` per colour, keyed by trial number when each trial has its own colour (12 trials
        or fewer) and by colour otherwise; each has value dimensions ``curve`` and ``trial``.
    """
    opts = _sized("plot_curves", opts, "NdOverlay")
    ds = _built("plot_curves", curves_info, search, metric=metric, top_k=top_k)
    _hvplot()
    import holoviews as hv
    import numpy as np

    order = np.argsort(ds["trial"].values, kind="stable")  # colours go by trial number, as hvplot's by="trial" gave them
    curves, numbers = ds["curve"].values[order], ds["trial"].values[order]
    colours = hv.Cycle.default_cycles["default_colors"]
    n, n_epochs = curves.shape
    # the first value of a curve is the metric after one epoch: x counts epochs trained from 1, where a 0-based
    # ``epoch`` read as a value before any training
    xdim, ydim = hv.Dimension("epochs trained"), hv.Dimension("curve", label=ds.attrs["metric"])
    x = np.arange(1, n_epochs + 2, dtype=float)
    x[-1] = np.nan  # one column of NaN after every trial: the line breaks there, in Bokeh and matplotlib alike
    lines: dict[int, Any] = {}
    for slot in range(min(n, len(colours))):
        rows = np.arange(slot, n, len(colours))
        y = np.concatenate([curves[rows], np.full((len(rows), 1), np.nan)], axis=1).ravel()
        keep = ~np.isnan(y) | np.isnan(np.tile(x, len(rows)))  # a curve's own NaN (past its last epoch) goes
        keep[-1] = False  # and so does the break after the last trial
        data = {xdim.name: np.tile(x, len(rows))[keep], ydim.name: y[keep],
                "trial": np.repeat(numbers[rows], n_epochs + 1)[keep]}
        lines[int(numbers[slot]) if n <= len(colours) else slot] = hv.Curve(data, kdims=[xdim], vdims=[ydim, "trial"])
    key = "trial" if n <= len(colours) else "colour"
    what = f"top {top_k} trials" if top_k else f"{n} trials"
    title, legend = f"{ds.attrs['metric']} per epoch ({what})", n <= 10
    labels = {"xlabel": "epochs trained", "ylabel": ds.attrs["metric"]}
    plot = hv.NdOverlay(lines, kdims=[key]).opts(
        hv.opts.Curve(color=hv.Cycle(colours), line_width=2, tools=[_curve_hover()], width=700, height=300),
        # unbatched: holoviews would merge the lines into one multi-line glyph, whose hover cannot tell the epoch
        hv.opts.NdOverlay(title=title, show_legend=legend, legend_position="right", batched=False, **labels))
    return for_png(plot, opts, NdOverlay={"title": title, "show_legend": legend, **labels}).opts(**opts)


def _curve_hover() -> Any:
    """The hover of a learning curve: its trial, then the point's epoch and value (what hvplot's
    ``by="trial"`` showed), whichever key the overlay has."""
    from bokeh.models import HoverTool

    return HoverTool(tooltips=[("trial", "@{trial}"), ("epochs trained", "@{epochs_trained}"), ("curve", "@{curve}")])


def plot_tradeoff(search: Search, x: str = "auto", y: str = "value", **opts: Any) -> Any:
    """Every completed trial as a point of (x, y), the Pareto front highlighted and joined.

    Parameters
    ----------
    search : Search
        A search with completed trials.
    x, y : str, default "auto" and "value"
        Per-trial numbers of ``search.to_xarray()``; ``x`` is minimised (a cost), ``y`` follows the
        search's mode (see :func:`tradeoff_info`). ``x="auto"``: the architecture's size, ``params_m``
        on NAS-Bench-Graph, ``n_params`` where the task reports that (training tasks, ``DigitsTable``).
    **opts
        holoviews options (``width``, ``height``, ``title``...).

    Returns
    -------
    holoviews.Overlay
        The trials' points, with the Pareto front joined on top.
    """
    opts = _sized("plot_tradeoff", opts, "Overlay")
    ds = _built("plot_tradeoff", tradeoff_info, search, x=x, y=y)
    x = ds.attrs["x"]  # "auto" resolved
    _hvplot()
    df = ds.reset_coords().to_dataframe().reset_index()
    df["point"] = df["on_front"].map({True: "Pareto front", False: "dominated"})
    hover = list(dict.fromkeys(["trial", "arch_id", x, y]))
    labels = {"xlabel": _label(x, ds.attrs["metric"]), "ylabel": _label(y, ds.attrs["metric"])}
    points = df.hvplot.scatter(x=x, y=y, by="point", hover_cols=hover, **labels)
    front = df[df["on_front"]].sort_values([x, y]).hvplot.line(x=x, y=y, color="black", line_dash="dashed", **labels)
    title = f"{labels['ylabel']} vs {labels['xlabel']} ({int(ds['on_front'].sum())} of {ds.sizes['trial']} trials on the Pareto front)"
    plot = for_png(points * front, opts, Curve={"color": "black", "linestyle": "dashed"}, Overlay={"title": title, **labels})
    return plot.opts(**{"title": title, **labels, **opts})


#: unit suffixes of per-trial numbers (``latency_ms``, ``params_m``, ``duration_s``), spelt out on an axis
_UNITS = {"_ms": "ms", "_s": "s", "_m": "millions"}


def _label(name: str, metric: str) -> str:
    """An axis label for a per-trial number: the metric's name for ``value``, the unit spelt out for a suffix."""
    if name == "value":
        return metric
    if name == "epochs":
        return "epochs trained"
    for suffix, unit in _UNITS.items():
        if name.endswith(suffix):
            return f"{name[: -len(suffix)].replace('_', ' ')} ({unit})"
    return name


def plot_op_frequency(search: Search, top: float | int = 0.1, **opts: Any) -> Any:
    """Share of each op among the top architectures next to its share among all of them.

    Parameters
    ----------
    search : Search
        A search with completed trials.
    top : float or int, default 0.1
        A float in (0, 1]: that fraction of the architectures; an int >= 1: that many (see
        :func:`op_frequency_info`).
    **opts
        holoviews options (``width``, ``height``, ``title``...).

    Returns
    -------
    holoviews.Bars
        Two bars per op: its share among the top architectures and among all.
    """
    opts = _sized("plot_op_frequency", opts, "Bars")
    ds = _built("plot_op_frequency", op_frequency_info, search, top=top)
    _hvplot()
    df = ds["frequency"].to_dataframe().reset_index()
    df["group"] = df["group"].map({"top": f"top {ds.attrs['n_top']}", "all": f"all {ds.attrs['n_all']}"})
    title = f"ops of the {ds.attrs['n_top']} best architectures by {ds.attrs['metric']} vs all {ds.attrs['n_all']}"
    plot = df.hvplot.bar(x="op", y="frequency", by="group", ylabel="share of op slots", rot=45, title=title)
    # matplotlib writes a second tick label per bar (the group) where bokeh nests them: a legend instead
    return for_png(plot, opts, Bars={"title": title, "ylabel": "share of op slots", "xrotation": 45, "multi_level": False,
                               "show_legend": True}).opts(**opts)


def save(obj: Any, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Write a plot to ``.html`` (Bokeh, resources inlined: opens offline) or ``.png``.

    The PNG goes through holoviews' matplotlib backend, so it needs matplotlib but no
    browser; the ``plot_*`` functions set their styles (transparency, step and dashed lines, log
    axes, legends, titles) for that backend too. Returns the path written.

    Parameters
    ----------
    obj : holoviews object
        What a ``plot_*`` function returned.
    path : str or path-like
        Ends in ``.html`` or ``.png``.
    title : str, optional
        The HTML page title.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".html", ".png"):
        raise InvalidParameterError(f"save(path=...) must end in '.html' or '.png'; got {os.fspath(path)!r}.")
    if title is not None and not isinstance(title, str):  # title=3 was written as the page's title, unchecked
        raise InvalidParameterTypeError(f"save(title=...) must be a str (the HTML page title) or None; got {title!r:.60} "
                                        f"of type {type(title).__name__}.")
    try:
        import holoviews as hv
    except ImportError as err:  # pragma: no cover
        raise ImportError(f"nasbook.viz.save needs holoviews: {_INSTALL}") from err
    if not isinstance(obj, hv.core.Dimensioned):
        raise InvalidParameterTypeError(
            f"save(obj=...) must be a plot that a plot_* function returned (a holoviews object); got {obj!r:.60} "
            f"of type {type(obj).__name__}."
        )
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidParameterError(
            f"save(path={os.fspath(path)!r}): the folder {str(folder)!r} does not exist; create it first (os.makedirs)."
        )
    if suffix == ".html":
        import holoviews.plotting.bokeh  # noqa: F401 - registers the renderer without hv.extension()
        from bokeh.embed import file_html
        from bokeh.resources import INLINE

        # plain Bokeh rather than hv.save's Panel template: that template links its favicons
        # from a CDN and carries Panel's bundle, which a static plot does not need
        model = hv.render(obj, backend="bokeh")
        p.write_text(file_html(model, INLINE, title=title or p.stem), encoding="utf-8")
    else:
        try:
            import holoviews.plotting.mpl  # noqa: F401
        except ImportError as err:  # pragma: no cover
            raise ImportError(f"nasbook.viz.save(..., '*.png') needs matplotlib: {_INSTALL}") from err
        hv.save(obj, p, fmt="png", backend="matplotlib")
    return p
