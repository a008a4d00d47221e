"""MIME bundles for ``_repr_mimebundle_``: text/plain always, text/html unless turned off."""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import TYPE_CHECKING, Any

from nasbook._options import OPTIONS
from nasbook.display._html import render_html
from nasbook.display._text import render_text
from nasbook.display._views import architecture_view, search_view, space_view, trial_view, view_of

if TYPE_CHECKING:
    from nasbook.search import Search
    from nasbook.trial import Trial
    from nasbook.space import Architecture, SearchSpace


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


def repr_mimebundle(obj: Any, include: Container[str] | None = None, exclude: Container[str] | None = None) -> dict[str, str]:
    """``text/plain`` and ``text/html`` for a Search, Trial, Architecture or SearchSpace.

    Dispatches on the type of ``obj`` (anything else gets its class name and ``get_params()``).
    Both mimetypes come from one view, so they list the same sections. Only in-memory attributes
    are read: never storage, dask or a benchmark table.

    Examples
    --------
    >>> class Search:
    ...     def _repr_mimebundle_(self, include=None, exclude=None):
    ...         return nasbook.display.repr_mimebundle(self, include=include, exclude=exclude)
    """
    view = view_of(obj)
    text = render_text(view)
    return mimebundle(text, lambda: render_html(view, text), include=include, exclude=exclude)


def search_text(search: Search) -> str:
    """The text/plain repr of a Search (the same sections as :func:`search_html`)."""
    return render_text(search_view(search))


def trial_text(trial: Trial) -> str:
    """The text/plain repr of a Trial."""
    return render_text(trial_view(trial))


def architecture_text(arch: Architecture, space: SearchSpace | None = None) -> str:
    """The text/plain repr of an Architecture (its drawing as text)."""
    return render_text(architecture_view(arch, space))


def space_text(space: SearchSpace) -> str:
    """The text/plain repr of a SearchSpace."""
    return render_text(space_view(space))
