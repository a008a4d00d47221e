"""Building views (see ``_model``): value formatting, the generic object view, and the dispatch.

This module knows no nasbook object. Each object builds its own view in the package that owns it
(``Architecture._view()`` and ``SearchSpace._view()`` in :mod:`nasbook.space`, the Search and
Trial views in :mod:`nasbook.search`); :func:`view_of` finds it:

1. a view registered for the object's class with ``view_of.register(cls)`` (for classes that
   live in a lower layer than their view, like ``Trial``);
2. else the object's own ``_view()`` method;
3. else :func:`object_view`: the class name and ``get_params()``.

Views are built from in-memory attributes only: a repr must be instant and must work on a search
that is running in another thread or whose database is gone.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from nasbook._options import OPTIONS
from nasbook.display._model import Cell, Drawing, Note, Section, View, fields
from nasbook.display._svg import Diagram, diagram_svg, diagram_text

MISSING = "-"
REASON_CHARS = 80  # reasons longer than this are cut in tables (the trial's own repr shows all)
#: a parameter's repr longer than this is cut (a SubsetSpace's ``archs`` can be thousands of specs)
PARAM_CHARS = 160


# -- value formatting -------------------------------------------------------------------------------
def fmt_value(value: Any) -> str:
    """A short, stable text for a number or anything else (plain text, not escaped).

    Parameters
    ----------
    value : object
        None, a bool, an int, a float (6 significant digits), a numpy scalar, a str, or anything
        else (its ``repr``).

    Returns
    -------
    str
        ``"-"`` (:data:`MISSING`) for None.
    """
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy scalars
        return fmt_value(value.item())
    if isinstance(value, str):
        return value
    return repr(value)


def fmt_duration(seconds: float | None) -> str:
    """A duration for humans: µs, ms and s below two minutes, then ``"4m05s"`` or ``"1h02m"``.

    Parameters
    ----------
    seconds : float or None
        The duration in seconds; None gives :data:`MISSING`.

    Returns
    -------
    str
        The duration with its unit.
    """
    if seconds is None:
        return MISSING
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def fmt_time(ts: float | None) -> str:
    """A timestamp as ``"YYYY-MM-DD HH:MM:SS UTC"``.

    Parameters
    ----------
    ts : float or None
        Seconds since the epoch (``time.time()``); None gives :data:`MISSING`.

    Returns
    -------
    str
        The time in UTC.
    """
    if ts is None:
        return MISSING
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_state(obj: Any) -> str:
    """The lower-case value of a state enum (or any object).

    Parameters
    ----------
    obj : object
        A state such as ``TrialState.COMPLETE``; an object without ``value`` is converted with ``str``.

    Returns
    -------
    str
        e.g. ``"complete"``.
    """
    value = getattr(obj, "value", obj)
    return str(value).lower()


def short(text: str, n: int = REASON_CHARS) -> str:
    """``text`` on one line, cut to ``n`` characters with an ellipsis.

    Parameters
    ----------
    text : str
        Any text; runs of whitespace (newlines too) become one space.
    n : int, default REASON_CHARS
        The most characters kept, the ellipsis included (80).

    Returns
    -------
    str
        At most ``n`` characters.
    """
    one_line = " ".join(str(text).split())
    return one_line if len(one_line) <= n else one_line[: n - 1] + "…"


def max_rows() -> int:
    """The ``display_max_rows`` option.

    Returns
    -------
    int
        The most rows a table or field list of a repr shows (see :func:`nasbook.set_options`).
    """
    return int(OPTIONS["display_max_rows"])


def mapping_rows(mapping: Mapping[str, Any], skip: Iterable[str] = ()) -> list[tuple[str, Cell]]:
    """``(name, formatted value)`` rows of a mapping, for a :class:`Fields` part.

    Parameters
    ----------
    mapping : Mapping of str to object
        The entries, in their order; values go through :func:`fmt_value`.
    skip : iterable of str, default ()
        Keys left out.

    Returns
    -------
    list of (str, Cell)
        One row per entry kept.
    """
    skipped = set(skip)
    return [(str(k), fmt_value(v)) for k, v in mapping.items() if k not in skipped]


def param_repr(value: Any) -> str:
    """A parameter's repr, short: long lists say how many items they hold and show the first.

    Parameters
    ----------
    value : object
        A constructor argument.

    Returns
    -------
    str
        ``repr(value)`` when at most :data:`PARAM_CHARS` (160) characters; else ``"N items: [first, …]"``
        for a list or tuple, or the repr cut with its length noted.
    """
    text = repr(value)
    if len(text) <= PARAM_CHARS:
        return text
    if isinstance(value, (list, tuple)) and value:
        first = repr(value[0])
        if len(first) > PARAM_CHARS // 2:
            first = first[: PARAM_CHARS // 2] + "…"
        return f"{len(value):,} items: [{first}, …]"
    return text[:PARAM_CHARS] + f"… ({len(text):,} characters)"


def attempt(fn: Callable[[], Any]) -> tuple[Any, str | None]:
    """``(fn(), None)``, or ``(None, "unavailable (Error: message)")``: a repr must not raise.

    Parameters
    ----------
    fn : callable
        A function of no arguments that builds part of a repr.

    Returns
    -------
    value : object or None
        What ``fn`` returned; None when it raised.
    error : str or None
        None when ``fn`` succeeded; else the text shown in place of the part.
    """
    try:
        return fn(), None
    except Exception as exc:  # a repr must not raise: show why a part is missing instead
        return None, f"unavailable ({type(exc).__name__}: {exc})"


def drawing(d: Diagram | None, fallback: str = MISSING, *, scale: float = 1.0, title: str | None = None) -> Drawing:
    """The :class:`Drawing` part of a diagram: SVG for HTML, :func:`diagram_text` for text.

    Parameters
    ----------
    d : Diagram or None
        The diagram; None (nothing to draw) gives ``fallback`` as text and no SVG.
    fallback : str, default MISSING
        The text shown when ``d`` is None (e.g. the architecture's spec).
    scale : float, default 1.0
        Size factor of the SVG.
    title : str, optional
        The SVG's accessible title.

    Returns
    -------
    Drawing
        The part.
    """
    if d is None:
        return Drawing(None, fallback)
    return Drawing(diagram_svg(d, scale=scale, title=title), diagram_text(d))


# -- anything with get_params (Predictor, KnowledgeBase, strategies) -------------------------------------
def object_view(obj: Any) -> View:
    """A generic repr: the class name and ``get_params()`` when the object has it.

    Parameters
    ----------
    obj : object
        Anything; without a working ``get_params`` its ``repr`` is shown.

    Returns
    -------
    View
        Title the class name; a "Parameters" section, or an "Overview" note.
    """
    sections: list[Section] = []
    get_params = getattr(obj, "get_params", None)
    if callable(get_params):
        params, err = attempt(get_params)
        if err is None and isinstance(params, Mapping):
            rows = [(str(k), param_repr(v)) for k, v in params.items()]
            sections.append(Section("Parameters", (fields(rows, max_rows(), "parameters"),)))
    if not sections:
        sections.append(Section("Overview", (Note(repr(obj)),)))
    return View(type(obj).__name__, sections=tuple(sections), kind="object")


@functools.singledispatch
def view_of(obj: Any) -> View:
    """The :class:`View` of ``obj``: a registered view, else ``obj._view()``, else :func:`object_view`.

    A package registers the view of a class it does not own with ``view_of.register(cls, fn)``.

    Parameters
    ----------
    obj : object
        The object to show (not a class).

    Returns
    -------
    View
        The view both the text and the HTML repr are rendered from.
    """
    own = getattr(obj, "_view", None)
    if callable(own) and not isinstance(obj, type):
        view = own()
        if isinstance(view, View):
            return view
    return object_view(obj)

