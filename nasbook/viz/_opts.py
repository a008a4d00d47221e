"""The holoviews options a ``plot_*`` function takes in ``**opts``, checked when it is called.

holoviews took a wrong value (``title=3``, ``logy="yes"``, ``aspect="wide"``, ``xlim="auto"``,
``legend_position="middle"``) into the plot and failed only when the plot was drawn, in the notebook's
display or in :func:`nasbook.viz.save`, far from the call, with an error naming holoviews' own classes
(``String parameter 'BokehPlot.title'...``); ``aspect=-1`` or ``fontsize="big"`` failed there or were
dropped. Here each option the bokeh plot of the returned object declares is checked against that
declaration (its ``param`` parameter: type, choices, bounds), plus the few holoviews leaves open
(``aspect``, ``fontsize``, axis limits) and the numeric style options (``alpha``, ``line_width``...), and a
wrong one raises an error naming the function, the option, what it takes and what it got. An option
holoviews does not know is left to holoviews, which refuses it at the call naming similar ones.
"""

from __future__ import annotations

import numbers
import re
from typing import Any

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, plain_scalar

#: what ``aspect`` takes besides a number > 0
ASPECT_WORDS = ("square", "equal")
#: the keys of a ``fontsize`` dict (holoviews' ``_fontsize_keys`` and the forms its plots read)
FONTSIZE_KEYS = ("title", "labels", "xlabel", "ylabel", "zlabel", "clabel", "ticks", "xticks", "yticks", "zticks",
                 "minor_xticks", "minor_yticks", "cticks", "legend", "legend_title")
#: a CSS font size as bokeh's ``FontSize`` property takes it: "12pt", "1.5em", "80%"
_FONT_SIZE = re.compile(r"^[0-9]*\.?[0-9]+(%|em|ex|ch|ic|rem|vw|vh|vi|vb|vmin|vmax|cm|mm|q|in|pc|pt|px)$", re.I)


def check_opts(plot: str, opts: dict[str, Any], kind: str) -> dict[str, Any]:
    """``opts`` checked for the holoviews type ``kind`` (``"Overlay"``, ``"NdOverlay"``, ``"Bars"``) that
    ``plot`` applies them to, with numpy scalars as plain values.

    Parameters
    ----------
    plot : str
        The function the user called, e.g. ``"plot_history"``: errors name ``plot_history(title=...)``.
    opts : dict
        Its ``**opts`` (the size options checked already).
    kind : str
        The holoviews element or overlay type the options go to.

    Returns
    -------
    dict
        The options to pass on.

    Raises
    ------
    InvalidParameterTypeError, InvalidParameterError
        An option of the wrong type or out of range.
    """
    if not opts:
        return opts
    import holoviews as hv

    plot_class = hv.Store.registry.get("bokeh", {}).get(getattr(hv, kind, None))
    if plot_class is None:  # pragma: no cover - the bokeh backend is loaded with hvplot
        return opts
    params = plot_class.param.objects("existing")
    style = set(getattr(plot_class, "style_opts", ()))
    out: dict[str, Any] = {}
    for name, value in opts.items():
        value = plain_scalar(value)
        if name in _SPECIAL:
            _SPECIAL[name](plot, name, value)
        elif name in params:
            _check_param(plot, name, value, params[name])
        elif name in style:
            _check_style(plot, name, value)
        out[name] = value
    return out


def _refuse(plot: str, name: str, allowed: str, value: Any, *, type_error: bool = True) -> None:
    cls = InvalidParameterTypeError if type_error else InvalidParameterError
    raise cls(f"{plot}({name}=...) must be {allowed}; got {value!r:.60} of type {type(value).__name__}.")


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _aspect(plot: str, name: str, value: Any) -> None:
    if value is None or (isinstance(value, str) and value in ASPECT_WORDS):
        return
    if not _real(value):
        _refuse(plot, name, f"a number > 0 (width / height), {' or '.join(map(repr, ASPECT_WORDS))} or None", value)
    if not 0 < value < float("inf"):
        _refuse(plot, name, "a number > 0 (width / height)", value, type_error=False)


def _font_size(value: Any) -> bool:
    return (_real(value) and value > 0) or (isinstance(value, str) and bool(_FONT_SIZE.match(value.strip())))


def _fontsize(plot: str, name: str, value: Any) -> None:
    allowed = ("a font size (a number of points, or a CSS size such as '12pt', '1.2em'), a dict of them by "
               f"{', '.join(map(repr, FONTSIZE_KEYS[:4]))}... or None")
    if value is None or _font_size(value):
        return
    if not isinstance(value, dict):
        _refuse(plot, name, allowed, value, type_error=not isinstance(value, (str, numbers.Real)))
    for key, size in value.items():
        if key not in FONTSIZE_KEYS:
            raise InvalidParameterError(f"{plot}({name}=...) takes keys {list(FONTSIZE_KEYS)!r}; got {key!r}.")
        if not _font_size(size):
            _refuse(plot, f"{name}[{key!r}]", "a font size: a number of points, or a CSS size such as '12pt'", size)


def _limits(plot: str, name: str, value: Any) -> None:
    """``xlim``, ``ylim``, ``zlim``: two ends, each a number, a date or None (holoviews' own check took
    ``("a", "b")``, which failed when drawn)."""
    import datetime

    import numpy as np

    def end(x: Any) -> bool:
        x = plain_scalar(x)
        return x is None or (_real(x) and x == x) or isinstance(x, (datetime.date, np.datetime64))

    if not (isinstance(value, tuple) and len(value) == 2 and all(end(x) for x in value)):
        _refuse(plot, name, "a tuple of two ends, each a number, a date or None (no limit there), e.g. (0, 1)", value)


_SPECIAL = {"aspect": _aspect, "fontsize": _fontsize, "xlim": _limits, "ylim": _limits, "zlim": _limits}


def _check_param(plot: str, name: str, value: Any, parameter: Any) -> None:
    """Check ``value`` as holoviews checks it when the plot is drawn (the bokeh plot class's parameter)."""
    import param

    try:
        parameter._validate(value)
    except (ValueError, TypeError) as exc:  # a number out of bounds, or a choice not offered: the type may be right
        wrong_value = isinstance(parameter, param.Selector) or (isinstance(parameter, param.Number) and _real(value))
        _refuse(plot, name, _described(parameter, str(exc)), value, type_error=not wrong_value)


def _described(parameter: Any, fallback: str) -> str:
    """What a holoviews plot parameter takes, in words."""
    import param

    none = " or None" if parameter.allow_None else ""
    if isinstance(parameter, param.Boolean):
        return f"True or False{none}"
    if isinstance(parameter, param.Selector):
        return f"one of {list(parameter.objects)!r}"
    if isinstance(parameter, param.String):
        return f"a str{none}"
    if isinstance(parameter, (param.Integer, param.Number)):
        kind = "an int" if isinstance(parameter, param.Integer) else "a number"
        low, high = parameter.bounds or (None, None)
        where = (f" from {low} to {high}" if low is not None and high is not None else f" >= {low}" if low is not None
                 else f" <= {high}" if high is not None else "")
        return f"{kind}{where}{none}"
    if isinstance(parameter, param.Tuple):
        return f"a tuple of {parameter.length}{none}"
    if isinstance(parameter, param.Dict):
        return f"a dict{none}"
    if isinstance(parameter, param.List):
        item = getattr(parameter, "item_type", None) or getattr(parameter, "class_", None)
        return f"a list{' of ' + _names(item) if item else ''}{none}"
    if isinstance(parameter, param.ClassSelector):
        return f"{_names(parameter.class_)}{none}"
    return fallback  # pragma: no cover - the parameters above are those the plots declare


def _names(classes: Any) -> str:
    classes = classes if isinstance(classes, tuple) else (classes,)
    return " or ".join(getattr(c, "__name__", str(c)) for c in classes)


def _check_style(plot: str, name: str, value: Any) -> None:
    """The numeric style options: ``*alpha`` from 0 to 1, ``*width`` (a line's, a bar's) >= 0; a value
    holoviews maps from the data (a ``hv.dim``, a column name, a ``Cycle``) is left to it."""
    if isinstance(value, str) or not (_real(value) or isinstance(value, (bool, list, tuple, dict, type(None)))):
        return  # a column name, hv.dim(...), hv.Cycle(...), a colour: holoviews' and bokeh's own
    if name.endswith("alpha"):
        if not _real(value):
            _refuse(plot, name, "a number from 0 to 1", value)
        if not 0 <= value <= 1:
            _refuse(plot, name, "a number from 0 to 1", value, type_error=False)
    elif name.endswith("width") and not name.startswith("label"):
        if not _real(value):
            _refuse(plot, name, "a number >= 0", value)
        if not value >= 0:
            _refuse(plot, name, "a number >= 0", value, type_error=False)
