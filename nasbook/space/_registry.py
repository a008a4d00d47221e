"""Resolve a stored space's class name: the spaces nasbook exports, those installed under the entry-point group
``nasbook.spaces`` and those :func:`register`-ed in this process."""

from __future__ import annotations

import inspect
from typing import Any

from nasbook._plugins import Registry
from nasbook.space._base import SearchSpace


def _reserved() -> dict[str, type]:
    """The spaces nasbook exports, by class name."""
    import nasbook.space as package

    return {n: c for n in package.__all__ if isinstance(c := getattr(package, n), type) and issubclass(c, SearchSpace)}


#: where an installed package lists its spaces (``[project.entry-points."nasbook.spaces"]``): the kind in the plural,
#: as ``nasbook.strategies`` and ``nasbook.predictors`` (the module is ``nasbook.space``)
ENTRY_POINT_GROUP = "nasbook.spaces"

_REGISTRY = Registry("space", "nasbook.space", SearchSpace, _reserved, ENTRY_POINT_GROUP)


def register(plugin: type[SearchSpace] | None = None, /, *, name: str | None = None) -> Any:
    """Register a search-space class in this process, so that :func:`~nasbook.load_search` rebuilds it.

    A search stores its space's class name and constructor parameters (``to_config()``), never a
    pickle; ``load_search`` rebuilds a built-in space from them, an installed one (entry-point group
    ``nasbook.spaces``) and a registered one likewise (else it needs ``space=...``): a space written in
    a notebook cell resumes once its cell has run. Usable as a decorator, ``@register``. Running the
    cell again (the class redefined, same module and name) replaces the old definition, with no error.

    Parameters
    ----------
    plugin : type, optional
        A :class:`SearchSpace` subclass (the class, not an instance). Omitted: a decorator is returned.
    name : str, optional
        A name to list it under; default the class name. Stored searches are found by the class name,
        which must differ from a built-in space's and an installed plug-in's; a name this process gave
        another class, or an installed plug-in's name, is refused (:func:`unregister` it first).

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
        it registers); a built-in space's or an installed plug-in's name is an error.

    Returns
    -------
    list of str
        The names dropped.
    """
    return _REGISTRY.unregister(name_or_class)


def space_class(name: str) -> type[SearchSpace] | None:
    """The space class a stored configuration names: a built-in, one registered in this process, or one installed.

    Parameters
    ----------
    name : str
        A built-in space's class name (``"GraphSpace"``), a name or class name given to :func:`register`, or
        an entry point's name or class name in group ``nasbook.spaces`` (an installed package's space). A
        stored search records the class name, so ``load_search`` rebuilds the space from its parameters.

    Returns
    -------
    type or None
        The :class:`SearchSpace` subclass (an entry point is imported), or None when no space of that name
        is known here. An installed plug-in that fails to import raises :class:`~nasbook.NasbookError`
        naming the entry point and its package.
    """
    builtin = {n: c for n, c in _reserved().items() if not inspect.isabstract(c)}
    return _REGISTRY.lookup(name, builtin)  # a SearchSpace subclass: Registry.register and Registry.load check it
