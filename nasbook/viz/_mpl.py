"""Matplotlib options of the plots, so that a PNG keeps what a reader relies on.

:func:`nasbook.viz.save` draws a PNG with holoviews' matplotlib backend, which reads only the options
set for it; hvplot, and ``.opts()`` without ``backend=``, set them for bokeh, the current backend. So a
PNG lost the dots' transparency, the best-so-far step line (drawn as a ramp), the dashed Pareto front,
the log axis of predictor scores, the legend of grouped bars, the titles and the axis labels, and
was a 4-inch square with the legend over the data. Each plot passes here the matplotlib options that
match its bokeh ones (:func:`plot_compare` sets both itself, element by element); the figure takes the
bokeh plot's shape and the legend sits on the right, as hvplot puts them.
"""

from __future__ import annotations

from typing import Any

from nasbook._png import matplotlib_opts

#: options a caller's ``plot_*(..., **opts)`` may give that mean the same to both backends: passed on to
#: matplotlib too (``width`` and ``height`` give the figure's shape; ``tools``... are bokeh's own and stay there)
SHARED = ("title", "xlabel", "ylabel", "logx", "logy", "xlim", "ylim", "xrotation", "yrotation", "show_legend")


def for_png(obj: Any, user: dict[str, Any], **by_type: dict[str, Any]) -> Any:
    """``obj`` with matplotlib options ``by_type``, element (or overlay) type name -> options, e.g.
    ``Scatter={"alpha": 0.35}``, applied to every element of that type in ``obj``, and the caller's
    :data:`SHARED` options ``user`` applied to ``obj`` itself; the bokeh options are left as they are,
    and ``obj`` is returned unchanged where matplotlib is not installed.

    Parameters
    ----------
    obj : holoviews object
        The plot built for bokeh.
    user : dict
        The options the caller passed to the ``plot_*`` function (those not in :data:`SHARED` are ignored).
    **by_type : dict
        Matplotlib options per holoviews type (``Curve``, ``Scatter``, ``Overlay``...).

    Returns
    -------
    holoviews object
        ``obj`` with those options.
    """
    by_type = {name: dict(options) for name, options in by_type.items()}
    outer = by_type.setdefault(type(obj).__name__, {})
    outer.setdefault("legend_position", "right")  # as hvplot puts it: outside, not over the data
    outer.update({k: v for k, v in user.items() if k in SHARED})
    outer.update(_size(obj, user))
    return matplotlib_opts(obj, **by_type)


def _size(obj: Any, user: dict[str, Any]) -> dict[str, Any]:
    """The matplotlib figure size of the bokeh plot's width and height (the caller's, else hvplot's), at
    100 pixels an inch: the PNG has the bokeh plot's shape rather than matplotlib's 4-inch square. The
    axes fill it (``aspect="auto"``): a numeric aspect is computed by holoviews in natural-log units on a
    log axis, where matplotlib reads base 10, and squeezed the log-x plot of predictor scores."""
    import holoviews as hv

    sizes = [hv.Store.lookup_options("bokeh", el, "plot").kwargs for el in obj.traverse(lambda x: x, [hv.Element])]
    width = user.get("width") or next((s["width"] for s in sizes if s.get("width")), None)
    height = user.get("height") or next((s["height"] for s in sizes if s.get("height")), None)
    if not (isinstance(width, (int, float)) and isinstance(height, (int, float)) and width > 0 and height > 0):
        return {}
    return {"aspect": "auto", "fig_inches": (width / 100, height / 100)}
