"""Matplotlib options beside a plot's bokeh ones, for the PNGs ``nasbook.viz.save`` draws.

holoviews' matplotlib backend reads only the options set for it, and hvplot (like ``.opts()`` without
``backend=``) sets them for bokeh, the current backend. The plots of :mod:`nasbook.viz` and of
:mod:`nasbook.knowledge` both pass theirs through :func:`matplotlib_opts`.
"""

from __future__ import annotations

from typing import Any


def matplotlib_opts(obj: Any, **by_type: dict[str, Any]) -> Any:
    """``obj`` with matplotlib options per holoviews type name (``Scatter={"alpha": 0.35}``), the bokeh
    options left as they are; ``obj`` unchanged where matplotlib is not installed.

    Parameters
    ----------
    obj : holoviews object
        The plot built for bokeh.
    **by_type : dict
        Matplotlib options per holoviews type (``Curve``, ``Scatter``, ``Overlay``...).

    Returns
    -------
    holoviews object
        ``obj`` with those options.
    """
    try:
        import holoviews.plotting.mpl  # noqa: F401 - registers matplotlib's options; bokeh stays current
    except ImportError:  # pragma: no cover - matplotlib is a dependency; save() says how to install it
        return obj
    import holoviews as hv

    return obj.opts(*(getattr(hv.opts, name)(**options, backend="matplotlib") for name, options in by_type.items()))
