"""Plots of the knowledge base: the task map and an architecture's neighbourhood.

Each is a pair as in :mod:`nasbook.viz`: ``_*_info`` returns the DataFrame that is drawn (what the
tests check) and ``plot_*`` draws it with hvplot, imported inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, unknown_choice
from nasbook._png import matplotlib_opts

EMBEDDINGS: tuple[str, ...] = ("mds", "pca")


def _hvplot() -> None:
    try:
        import hvplot.pandas  # noqa: F401 - registers DataFrame.hvplot
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("nasbook.knowledge plots need hvplot: pip install hvplot") from err


def _task_map_info(distances: Any, clusters: Any = None, method: str = "mds", seed: int = 0) -> Any:
    """A 2-D embedding of a task x task distance matrix (:func:`task_distances`).

    ``method="mds"``: metric MDS on the distances (scikit-learn, ``dissimilarity="precomputed"``);
    ``"pca"``: classical scaling (PCA of the double-centred squared distances). Returns a DataFrame:
    ``task``, ``x``, ``y``, ``cluster`` (from ``clusters``, :func:`cluster_tasks`'s frame, else 0),
    ``nearest`` (the closest other task); attrs ``stress`` (MDS) or ``explained`` (PCA).
    """
    import pandas as pd

    if not isinstance(distances, pd.DataFrame) or distances.shape[0] != distances.shape[1]:
        raise InvalidParameterTypeError("plot_task_map(distances=...) takes the square DataFrame task_distances() "
                                        f"returns; got {type(distances).__name__}.")
    if method not in EMBEDDINGS:
        raise unknown_choice("plot_task_map(method=...) embedding", method, EMBEDDINGS)
    d = distances.to_numpy(dtype=float)
    n = len(d)
    if n < 2:
        raise InvalidParameterError(f"plot_task_map: needs at least 2 recorded tasks; got {n}.")
    if not np.isfinite(d).all():
        from nasbook.knowledge._tasksim import incomparable

        raise InvalidParameterError(f"plot_task_map: {incomparable(distances)}")
    attrs: dict[str, Any] = {"method": method}
    if method == "mds":
        import warnings

        from sklearn.manifold import MDS

        with warnings.catch_warnings():  # scikit-learn 1.8 renames dissimilarity/init; the old names still work
            warnings.simplefilter("ignore", FutureWarning)
            mds = MDS(n_components=2, dissimilarity="precomputed", random_state=seed, n_init=4, normalized_stress="auto")
            xy = mds.fit_transform(d)
        attrs["stress"] = float(mds.stress_)
    else:
        j = np.eye(n) - 1.0 / n
        b = -0.5 * j @ (d**2) @ j
        vals, vecs = np.linalg.eigh(b)
        top = np.argsort(vals)[::-1][:2]
        xy = vecs[:, top] * np.sqrt(np.maximum(vals[top], 0.0))
        attrs["explained"] = float(np.maximum(vals[top], 0).sum() / max(np.maximum(vals, 0).sum(), 1e-12))
    if xy.shape[1] < 2:  # pragma: no cover - two tasks embed on a line
        xy = np.column_stack([xy, np.zeros(n)])
    names = [str(t) for t in distances.index]
    masked = d + np.diag(np.full(n, np.inf))
    cluster = dict(zip(clusters["task"], clusters["cluster"])) if clusters is not None else {}
    out = pd.DataFrame({"task": names, "x": xy[:, 0], "y": xy[:, 1], "cluster": [int(cluster.get(t, 0)) for t in names],
                        "nearest": [names[int(i)] for i in masked.argmin(axis=1)]})
    out.attrs.update(attrs)
    return out


def plot_task_map(distances: Any, clusters: Any = None, method: str = "mds", **opts: Any) -> Any:
    """The recorded tasks on a plane: near tasks (same architectures win) lie close; colour = cluster.

    See :func:`_task_map_info` for the embedding.

    Parameters
    ----------
    distances : pandas.DataFrame
        The square matrix :func:`task_distances` returns.
    clusters : pandas.DataFrame, optional
        :func:`cluster_tasks`'s frame, to colour by cluster; None: one colour.
    method : {"mds", "pca"}, default "mds"
        Metric MDS on the distances, or classical scaling.
    **opts
        Options passed to the plot's ``.opts()`` (holoviews).

    Returns
    -------
    holoviews.Overlay
        The points and their labels.
    """
    info = _task_map_info(distances, clusters, method)
    _hvplot()
    # names in black a little above their points (over the marker they hid it, in the cluster's blue they were
    # hard to read), the plot wide enough and padded so that a name at the edge stays inside the axes
    size = {"width": 600, "height": 420, "padding": 0.15}
    points = info.hvplot.scatter(x="x", y="y", c="cluster", cmap="Category10", hover_cols=["task", "nearest"],
                                 size=80, colorbar=False, xlabel="", ylabel="", **size)
    labels = info.hvplot.labels(x="x", y="y", text="task", text_baseline="bottom", text_font_size="9pt",
                                text_color="black", **size)
    title = f"task map ({info.attrs['method'].upper()} of task distances, {len(info)} tasks; near = alike)"
    import holoviews as hv

    labels = labels.opts(yoffset=_offset(info["y"]), backend="bokeh")
    plot = matplotlib_opts(points * labels, Scatter={"color": hv.dim("cluster"), "cmap": "Category10", "s": 80, "padding": 0.15},
                           Labels={"verticalalignment": "bottom", "size": 9, "color": "black", "yoffset": _offset(info["y"])},
                           Overlay={"title": title, "xlabel": "", "ylabel": "", "aspect": "auto", "fig_inches": (6, 4.2)})
    return plot.opts(**{"title": title, **opts})


def _offset(y: Any) -> float:
    """How far above its point a name sits: 3% of the y range (a marker's radius at the plot's height)."""
    span = float(np.ptp(np.asarray(y, dtype=float)))
    return 0.03 * (span if span > 0 else 1.0)


def _neighbourhood_info(neighbours: Any) -> Any:
    """The frame :func:`similar_archs` returned, checked, one row per neighbour, with ``score`` (the value
    when it came from one task, else the neighbour's mean quantile over its tasks) and ``score_name``."""
    import pandas as pd

    need = {"arch_id", "distance", "value", "quantile"}
    if not isinstance(neighbours, pd.DataFrame) or not need <= set(neighbours.columns):
        raise InvalidParameterTypeError("plot_neighbourhood(neighbours=...) takes the DataFrame similar_archs() "
                                        f"returns (columns {sorted(need)}); got {type(neighbours).__name__}.")
    task = neighbours.attrs.get("task")
    one_task = "task" not in neighbours.columns or neighbours["task"].dropna().nunique() <= 1
    # the long form (no task): one point per neighbour, at its mean quantile over its tasks
    out = neighbours.groupby("arch_id", sort=False).agg(distance=("distance", "first"), value=("value", "first"),
                                                      quantile=("quantile", "mean")).reset_index()
    use_value = task is not None or (one_task and len(out) > 0 and out["value"].notna().all())
    out["score"] = out["value"] if use_value else out["quantile"]
    out.attrs.update(neighbours.attrs, score_name="value" if use_value else "quantile (1 = best on its tasks)")
    return out


def plot_neighbourhood(neighbours: Any, **opts: Any) -> Any:
    """Distance from the query (x) against recorded score (y) of :func:`similar_archs`'s neighbours.

    A flat cloud says nearness predicts little here, a falling one that near architectures score alike.

    Parameters
    ----------
    neighbours : pandas.DataFrame
        What :func:`similar_archs` (or ``kb.similar``) returned.
    **opts
        Options passed to the plot's ``.opts()`` (holoviews), e.g. ``width=500``.

    Returns
    -------
    holoviews.Scatter
        The plot (hvplot).
    """
    info = _neighbourhood_info(neighbours)
    _hvplot()
    a = info.attrs
    where = f" on {a['task']}" if a.get("task") else ""
    title = f"neighbours of {a.get('query') or 'the query'}{where} ({a.get('kind', '')} encoding)"
    # a recorded value is the neighbour's mean over its trials on that task; the title is wider than a square plot
    ylabel = f"mean value on {a['task']}" if a["score_name"] == "value" and a.get("task") else a["score_name"]
    plot = info.hvplot.scatter(x="distance", y="score", hover_cols=["arch_id"], xlabel="distance to the query",
                               ylabel=ylabel, size=60, width=600, height=400)
    plot = matplotlib_opts(plot, Scatter={"title": title, "xlabel": "distance to the query", "ylabel": ylabel, "s": 60,
                                          "aspect": "auto", "fig_inches": (6, 4)})
    return plot.opts(**{"title": title, **opts})
