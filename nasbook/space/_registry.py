"""Resolve a stored space's class name: the spaces nasbook exports, and those :func:`register`-ed in this process."""

from __future__ import annotations

import inspect
from typing import Any

from nasbook._plugins import Registry
from nasbook.space._base import SearchSpace


def _reserved() -> dict[str, type]:
    """The spaces nasbook exports, by class name."""
    import nasbook.space as package

    return {n: c for n in package.__all__ if isinstance(c := getattr(package, n), type) and issubclass(c, SearchSpace)}


_REGISTRY = Registry("space", "nasbook.space", SearchSpace, _reserved)


def register(plugin: type[SearchSpace] | None = None, /, *, name: str | None = None) -> Any:
    """Register a search-space class in this process, so that :func:`~nasbook.load_search` rebuilds it.

    A search stores its space's class name and constructor parameters (``to_config()``), never a
    pickle; ``load_search`` rebuilds a built-in space from them, and a registered one likewise (else it
    needs ``space=...``): a space written in a notebook cell resumes once its cell has run. Usable as
    a decorator, ``@register``. Running the cell again (the class redefined, same module and name)
    replaces the old definition, with no error.

    Parameters
    ----------
    plugin : type, optional
        A :class:`SearchSpace` subclass (the class, not an instance). Omitted: a decorator is returned.
    name : str, optional
        A name to list it under; default the class name. Stored searches are found by the class name,
        which must differ from a built-in space's; a name this process gave another class is refused
        (:func:`unregister` it first).

    Returns
    -------
    type or callable
        ``plugin``, unchanged; without it, a decorator that registers the class it is applied to.
    """
    return _REGISTRY.register(plugin, name)


def unregister(name_or_class: str | type[SearchSpace]) -> list[str]:
    """Drop a space :func:`register` registered in this process.

    Parameters
    ----------
    name_or_class : str or type
        A name given to :func:`register`, or a class: every name of a class with that module and
        qualified name is dropped. A name nothing holds drops nothing (so a cell may unregister before
        it registers); a built-in space's name is an error.

    Returns
    -------
    list of str
        The names dropped.
    """
    return _REGISTRY.unregister(name_or_class)


def space_class(name: str) -> type[SearchSpace] | None:
    """The space class a stored configuration names: a built-in, or one registered in this process.

    Parameters
    ----------
    name : str
        A built-in space's class name (``"GraphSpace"``), or a name or class name given to :func:`register`
        (what a stored search records, so ``load_search`` rebuilds the space from its parameters).

    Returns
    -------
    type or None
        The :class:`SearchSpace` subclass, or None when no space of that name is known here.
    """
    cls = _reserved().get(name)
    if cls is not None and not inspect.isabstract(cls):
        return cls
    return _REGISTRY.find(name)
