"""MIME bundles for ``_repr_mimebundle_``: text/plain always, text/html unless turned off."""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any

from nasbook._options import OPTIONS
from nasbook.display._html import render_html
from nasbook.display._model import View
from nasbook.display._text import render_text
from nasbook.display._views import view_of


def mimebundle(
    text: str,
    html: str | Callable[[], str] | None = None,
    *,
    include: Container[str] | None = None,
    exclude: Container[str] | None = None,
) -> dict[str, str]:
    """Assemble a bundle for IPython's ``_repr_mimebundle_(include, exclude)``.

    ``html`` may be a callable, so it is only built when wanted: not with
    ``set_options(display_style="text")``, nor when the front end excludes ``text/html``.

    Parameters
    ----------
    text : str
        The ``text/plain`` repr.
    html : str or callable, optional
        The ``text/html`` repr, or a function of no arguments that builds it; None: text only.
    include : container of str, optional
        MIME types the front end asks for (IPython's argument); None asks for all.
    exclude : container of str, optional
        MIME types the front end does not want; None excludes none.

    Returns
    -------
    dict of str to str
        ``{mime type: content}`` with the wanted types only.

    Examples
    --------
    >>> class Thing:
    ...     def _repr_mimebundle_(self, include=None, exclude=None):
    ...         return mimebundle(repr(self), lambda: object_html("Thing", []), include=include, exclude=exclude)
    """

    def wanted(mime: str) -> bool:
        return (include is None or mime in include) and (exclude is None or mime not in exclude)

    bundle: dict[str, str] = {}
    if wanted("text/plain"):
        bundle["text/plain"] = text
    if html is not None and OPTIONS["display_style"] == "html" and wanted("text/html"):
        bundle["text/html"] = html() if callable(html) else html
    return bundle


def view_mimebundle(view: View, include: Container[str] | None = None, exclude: Container[str] | None = None) -> dict[str, str]:
    """The bundle of a :class:`View`: its text, and its HTML only when wanted (both list the same sections).

    Parameters
    ----------
    view : View
        The repr to render.
    include : container of str, optional
        MIME types the front end asks for (IPython's argument); None asks for all.
    exclude : container of str, optional
        MIME types the front end does not want; None excludes none.

    Returns
    -------
    dict of str to str
        ``{mime type: content}``, as :func:`mimebundle` gives it.
    """
    text = render_text(view)
    return mimebundle(text, lambda: render_html(view, text), include=include, exclude=exclude)


def repr_mimebundle(obj: Any, include: Container[str] | None = None, exclude: Container[str] | None = None) -> dict[str, str]:
    """``text/plain`` and ``text/html`` for any object, from its :func:`view_of`.

    The view is a registered one (Search, Trial), else ``obj._view()`` (Architecture,
    SearchSpace, your own classes), else the class name and ``get_params()``. Both mimetypes come
    from one view, so they list the same sections. Only in-memory attributes are read: never
    storage, dask or a benchmark table.

    Parameters
    ----------
    obj : object
        Anything; see above for where its view comes from.
    include : container of str, optional
        MIME types the front end asks for (IPython's argument); None asks for all.
    exclude : container of str, optional
        MIME types the front end does not want; None excludes none.

    Returns
    -------
    dict of str to str
        ``{mime type: content}``, as :func:`mimebundle` gives it.

    Examples
    --------
    >>> from nasbook.display import Note, Section, View
    >>> class Thing:
    ...     def _view(self):
    ...         return View("Thing", sections=(Section("Overview", (Note("a thing"),)),))
    ...     def _repr_mimebundle_(self, include=None, exclude=None):
    ...         return repr_mimebundle(self, include=include, exclude=exclude)
    >>> print(Thing()._repr_mimebundle_()["text/plain"])
    Thing
    Overview
      a thing
    """
    return view_mimebundle(view_of(obj), include=include, exclude=exclude)


def search_text(search: Any) -> str:
    """The text/plain repr of a Search (the same sections as :func:`search_html`).

    Parameters
    ----------
    search : Search
        The search; only its in-memory state is read.

    Returns
    -------
    str
        The repr.
    """
    return render_text(view_of(search))


def trial_text(trial: Any) -> str:
    """The text/plain repr of a Trial.

    Parameters
    ----------
    trial : Trial
        The trial.

    Returns
    -------
    str
        The repr.
    """
    return render_text(view_of(trial))


def architecture_text(arch: Any, space: Any = None) -> str:
    """The text/plain repr of an Architecture (its drawing as text, by ``space``, default its own).

    Parameters
    ----------
    arch : Architecture
        The architecture.
    space : SearchSpace, optional
        The space that draws it; None uses its own space when that is in memory (else the spec).

    Returns
    -------
    str
        The repr.
    """
    return render_text(arch._view(space) if space is not None else view_of(arch))


def space_text(space: Any) -> str:
    """The text/plain repr of a SearchSpace.

    Parameters
    ----------
    space : SearchSpace
        The space.

    Returns
    -------
    str
        The repr.
    """
    return render_text(view_of(space))
