"""Plots of predictors: scores against training-set size (``predictors.evaluate``), predicted vs true.

Each plot is a pair, as in ``_plots.py``: a ``*_info`` builder returns the xarray Dataset that is
drawn (what tests check), and a ``plot_*`` renderer draws it with hvplot, imported inside.
Predictors are duck-typed (``scored_``, ``score``), so viz imports nothing from ``predictors``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, unknown_choice
from nasbook.viz._mpl import for_png

if TYPE_CHECKING:
    import xarray as xr

Band = Literal["ci95", "std", "none"]
BANDS: tuple[str, ...] = ("ci95", "std", "none")
_EVAL_DIMS = ("predictor", "n_train", "seed")
#: the nominal level a coverage metric should reach
_NOMINAL = {"coverage_68": 0.6827, "coverage_95": 0.95}
#: the range a metric's mean over seeds lies within, to which its band is cut (a rank correlation cannot pass 1,
#: a share cannot leave [0, 1], a time cannot be negative): the cut interval covers the mean whenever the uncut
#: one does; metrics not listed (``nll``) are not cut
_RANGE = {"kendall_tau": (-1.0, 1.0), "spearman": (-1.0, 1.0), "top_k_overlap": (0.0, 1.0), "coverage_68": (0.0, 1.0),
          "coverage_95": (0.0, 1.0), "fit_s": (0.0, math.inf), "predict_s": (0.0, math.inf)}


def predictor_scores_info(ds: xr.Dataset, metric: str = "kendall_tau", band: Band = "ci95") -> xr.Dataset:
    """Mean over seeds of one metric of :func:`nasbook.predictors.evaluate`'s result, with a band.

    Parameters
    ----------
    ds : xarray.Dataset
        What ``evaluate`` returned (dims ``predictor``, ``n_train``, ``seed``).
    metric : str
        One of its variables, e.g. ``"kendall_tau"``, ``"spearman"``, ``"coverage_68"``, ``"fit_s"``.
    band : {"ci95", "std", "none"}
        ``"ci95"``: the 95% confidence interval of the mean over seeds (Student t);
        ``"std"``: mean +- one standard deviation over seeds; ``"none"``: no band. Either band is
        cut to the metric's range (``[-1, 1]`` for rank correlations, ``[0, 1]`` for coverage and
        top-k overlap, ``>= 0`` for times), which the mean lies within: a t interval cut so still
        covers the mean whenever the uncut one does.

    Returns
    -------
    xarray.Dataset
        Dims ``(predictor, n_train)``; variables ``mean``, ``lo``, ``hi``, ``n_seeds`` (finite
        values); attrs ``metric``, ``long_name``, ``band``, ``task``, ``reference`` (the noise
        ceiling for rank metrics, the nominal level for coverage; NaN when none).
    """
    import xarray as xr

    if not isinstance(ds, xr.Dataset) or any(d not in ds.dims for d in _EVAL_DIMS):
        raise InvalidParameterTypeError(
            "predictor_scores_info(ds=...) must be the Dataset that nasbook.predictors.evaluate returned (dims "
            f"{', '.join(_EVAL_DIMS)}); got {type(ds).__name__} with dims {list(getattr(ds, 'dims', []))}."
        )
    metrics = [str(v) for v in ds.data_vars if ds[v].dims == _EVAL_DIMS]
    if metric not in metrics:
        raise unknown_choice("metric for predictor_scores_info(metric=...)", metric, metrics)
    if band not in BANDS:
        raise unknown_choice("predictor_scores_info(band=...)", band, BANDS)
    da = ds[metric]
    n = da.notnull().sum("seed")
    mean = da.mean("seed", skipna=True)
    sd = da.std("seed", ddof=1, skipna=True).fillna(0.0)
    if band == "std":
        half = sd
    elif band == "ci95":
        from scipy import stats

        tq = xr.apply_ufunc(lambda k: np.where(k > 1, stats.t.ppf(0.975, np.maximum(k - 1, 1)), 0.0), n)
        half = tq * sd / np.sqrt(n.clip(min=1))
    else:
        half = xr.zeros_like(mean)
    if metric in _NOMINAL:
        reference = _NOMINAL[metric]
    elif metric in ("kendall_tau",):
        reference = float(ds.attrs.get("noise_ceiling", math.nan))
    else:
        reference = math.nan
    lower, upper = _RANGE.get(metric, (-math.inf, math.inf))
    return xr.Dataset(
        {"mean": mean, "lo": (mean - half).clip(lower, upper), "hi": (mean + half).clip(lower, upper), "n_seeds": n},
        attrs={"metric": metric, "long_name": da.attrs.get("long_name", metric), "band": band,
               "task": ds.attrs.get("task", ""), "reference": reference},
    )


def predictions_info(predictor: Any, archs: Any = None, scores: Any = None) -> xr.Dataset:
    """Predicted and true scores of a predictor's last ``score`` call (or of ``score(archs, scores)``
    when they are given).

    Parameters
    ----------
    predictor : Predictor
        A fitted nasbook predictor; unless ``archs`` and ``scores`` are given it must have been
        scored (``predictor.score(archs, scores)``).
    archs : sequence of Architecture, optional
        Architectures to score the predictor on first (with ``scores``).
    scores : sequence of float, optional
        Their true scores (with ``archs``).

    Returns
    -------
    xarray.Dataset
        Dim ``point``; variables ``predicted``, ``true``; attrs ``predictor`` (repr) and the last
        scores (``kendall_tau``, ``spearman``, ``coverage_68``...).

    Examples
    --------
    >>> from nasbook.predictors import RandomForest
    >>> from nasbook.tasks import DigitsTable
    >>> table = DigitsTable()
    >>> archs, scores = table.space.enumerate(), table.values()
    >>> model = RandomForest(n_estimators=20).fit(archs[:100], scores[:100])
    >>> ds = predictions_info(model, archs[100:], scores[100:])
    >>> ds["predicted"].dims, ds.sizes["point"]
    (('point',), 200)
    """
    import xarray as xr

    if not hasattr(predictor, "score") or not hasattr(predictor, "fit"):
        raise InvalidParameterTypeError(
            f"predictions_info(predictor=...) must be a nasbook predictor; got {predictor!r:.60} of type {type(predictor).__name__}."
        )
    if (archs is None) != (scores is None):
        raise InvalidParameterError("predictions_info(archs=..., scores=...) takes both or neither.")
    if archs is not None:
        predictor.score(archs, scores)
    scored = getattr(predictor, "scored_", None)
    if scored is None:
        raise InvalidParameterError(
            f"predictions_info(predictor=...): this {type(predictor).__name__} has not been scored yet; call "
            "predictor.score(archs, scores) first, or pass archs=... and scores=... with the true scores."
        )
    y, mean = (np.asarray(a, dtype=np.float64) for a in scored)
    attrs: dict[str, Any] = {"predictor": repr(predictor)}
    attrs.update({k: float(v) for k, v in getattr(predictor, "scores_", {}).items()})
    return xr.Dataset({"predicted": ("point", mean), "true": ("point", y)}, attrs=attrs)


def plot_predictor_scores(ds: xr.Dataset, metric: str = "kendall_tau", band: Band = "ci95", **opts: Any) -> Any:
    """One metric of :func:`nasbook.predictors.evaluate` against training-set size (log axis): a
    line per predictor (mean over seeds) with a band; the task's noise ceiling (Kendall tau) or
    the nominal level (coverage) as a grey line. See :func:`predictor_scores_info`.

    Parameters
    ----------
    ds : xarray.Dataset
        What ``evaluate`` returned.
    metric : str, default "kendall_tau"
        One of its variables (``"spearman"``, ``"coverage_68"``, ``"fit_s"``...).
    band : {"ci95", "std", "none"}, default "ci95"
        The 95% confidence interval of the mean over seeds, mean +- one std over seeds, or none.
    **opts
        holoviews options (``width``, ``height``, ``title``...).

    Returns
    -------
    holoviews.Overlay
        A line (and band) per predictor, with the grey reference line.
    """
    from nasbook.viz._plots import _built, _hvplot, _sized

    opts = _sized("plot_predictor_scores", opts, "Overlay")
    info = _built("plot_predictor_scores", predictor_scores_info, ds, metric=metric, band=band)
    _hvplot()
    import holoviews as hv

    df = info.to_dataframe().reset_index().dropna(subset=["mean"])
    label = str(info.attrs["long_name"])
    ticks = sorted(int(v) for v in info["n_train"].values)  # the sizes measured, not 2x10^1, 3x10^1...
    kw = dict(x="n_train", by="predictor", logx=True, xlabel="training architectures", ylabel=label, xticks=ticks)
    lines = df.hvplot.line(y="mean", **kw)
    dots = df.hvplot.scatter(y="mean", legend=False, **kw)
    plot = lines * dots
    if band != "none":
        plot = df.hvplot.area(y="lo", y2="hi", alpha=0.2, stacked=False, legend=False, **kw) * plot
    title = f"{label} vs training-set size" + (f" on {info.attrs['task']}" if info.attrs["task"] else "")
    ref = info.attrs["reference"]
    if math.isfinite(ref):
        plot = plot * hv.HLine(ref).opts(color="gray", alpha=0.7)
        title += f" (grey: {'nominal' if metric in _NOMINAL else 'noise ceiling'} {ref:.2f})"
    # the x axis ends a little beyond the smallest and largest training sets (padding is in log units on a
    # log axis): without it the dots at both ends were cut in half by the frame, the legend beside the plot
    # sat on the last ones, and the smallest size had no tick label
    pad: dict[str, Any] = {"padding": (0.06, 0.05)}
    if math.isfinite(ref):  # bokeh sets the y range from the data alone: a reference above it was not drawn
        drawn = df[["mean", "lo", "hi"] if band != "none" else ["mean"]].to_numpy(dtype=float)
        lo, hi = min(float(np.nanmin(drawn)), ref), max(float(np.nanmax(drawn)), ref)  # a one-seed band is NaN
        margin = 0.05 * (hi - lo) if hi > lo else 0.05
        pad["ylim"] = (lo - margin, hi + margin)
    plot = for_png(plot, opts, Area={"alpha": 0.2, "linewidth": 0}, HLine={"color": "gray", "alpha": 0.7},
                   Overlay={"title": title, "logx": True, "xlabel": "training architectures", "ylabel": label,
                            "xticks": ticks, "hooks": [_plain_log_ticks], **pad})
    return plot.opts(**{"title": title, "legend_position": "right", **pad, **opts})


def _plain_log_ticks(plot: Any, element: Any) -> None:
    """Matplotlib hook: the log x axis labels its ticks (the measured sizes) as plain numbers, and its minor
    ticks not at all; matplotlib wrote 2x10^1, 3x10^1, 4x10^1... over a decade or two."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    axis = plot.handles["axis"].xaxis
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())


def plot_predictions(predictor: Any, archs: Any = None, scores: Any = None, **opts: Any) -> Any:
    """Predicted (x) against true (y) scores of the predictor's last ``score`` call, with the
    diagonal; with ``archs`` and ``scores``, scores them first. See :func:`predictions_info`.

    Parameters
    ----------
    predictor : BasePredictor
        A fitted predictor (that has been scored, unless ``archs`` and ``scores`` are given).
    archs, scores : optional
        Architectures and their true scores to score the predictor on first (both or neither).
    **opts
        holoviews options (``width``, ``height``, ``title``...).

    Returns
    -------
    holoviews.Overlay
        The points and the diagonal (a perfect prediction).
    """
    from nasbook.viz._plots import _built, _hvplot, _sized

    opts = _sized("plot_predictions", opts, "Overlay")
    info = _built("plot_predictions", predictions_info, predictor, archs, scores)
    _hvplot()
    import holoviews as hv

    df = info.to_dataframe().reset_index()
    lo = float(min(df["predicted"].min(), df["true"].min()))
    hi = float(max(df["predicted"].max(), df["true"].max()))
    pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
    # one scale on both axes, so that the grey diagonal is the 45-degree line and a spread reads the same either way
    limits = {"xlim": (lo - pad, hi + pad), "ylim": (lo - pad, hi + pad), "xlabel": "predicted score", "ylabel": "true score"}
    points = df.hvplot.scatter(x="predicted", y="true", alpha=0.5, width=450, height=450, **limits)
    diagonal = hv.Curve([(lo, lo), (hi, hi)]).opts(color="gray", alpha=0.7)
    tau = info.attrs.get("kendall_tau", math.nan)
    title = f"predicted vs true: {len(df)} architectures, Kendall tau {tau:.3f} (grey: perfect)"
    plot = for_png(points * diagonal, opts, Scatter={"alpha": 0.5}, Curve={"color": "gray", "alpha": 0.7},
                   Overlay={"title": title, **limits})
    return plot.opts(**{"title": title, **opts})
