"""Resolve a stored task's class name: the tasks nasbook rebuilds, those installed under the entry-point group
``nasbook.tasks`` and those :func:`register`-ed in this process."""

from __future__ import annotations

from typing import Any

from nasbook._plugins import Registry
from nasbook.tasks._base import Task

#: built-in tasks nasbook rebuilds from a stored configuration (the others may hold user data: pass task=...)
REBUILDABLE = frozenset({"NasBenchGraph", "Digits", "BreastCancer", "DigitsTable", "MNIST1D", "MNIST1DTable"})


def builtin_tasks() -> dict[str, type]:
    """The tasks nasbook exports, by class name."""
    import nasbook.tasks as package

    return {n: c for n in package.__all__ if isinstance(c := getattr(package, n), type) and issubclass(c, Task)}


_reserved = builtin_tasks
#: how a stored configuration names a subclass of NasBenchGraph (``stored_class``): ``<Class>-NasBenchGraph``
_NBG_SUFFIX = "-NasBenchGraph"


#: where an installed package lists its tasks (``[project.entry-points."nasbook.tasks"]``), as ``nasbook.strategies``
ENTRY_POINT_GROUP = "nasbook.tasks"

_REGISTRY = Registry("task", "nasbook.tasks", Task, _reserved, ENTRY_POINT_GROUP)


def register(plugin: type[Task] | None = None, /, *, name: str | None = None) -> Any:
    """Register a task class in this process, so that :func:`~nasbook.load_search` rebuilds it.

    A search stores its task's class name and constructor parameters (``to_config()``), never a
    pickle. ``load_search`` rebuilds only tasks whose parameters say everything they evaluate on (a
    benchmark's dataset name, a path): a task holding data in memory needs ``task=...``. Registering
    a task says it is of the first kind: its stored parameters rebuild it, so a task written in a
    notebook cell resumes once its cell has run (a task an installed package lists under the
    entry-point group ``nasbook.tasks`` says the same, in every process). Usable as a decorator,
    ``@register``. Running the cell again (the class redefined, same module and name) replaces the old
    definition, with no error.

    Parameters
    ----------
    plugin : type, optional
        A :class:`Task` subclass (the class, not an instance). Omitted: a decorator is returned.
    name : str, optional
        A name to list it under; default the class name. Stored searches are found by the class name,
        which must differ from a built-in task's and an installed plug-in's; a name this process gave
        another class, or an installed plug-in's name, is refused (:func:`unregister` it first).

    Returns
    -------
    type or callable
        ``plugin``, unchanged; without it, a decorator that registers the class it is applied to.
    """
    return _REGISTRY.register(plugin, name)


def unregister(name_or_class: str | type[Task]) -> list[str]:
    """Drop a task :func:`register` registered in this process.

    Parameters
    ----------
    name_or_class : str or type
        A name given to :func:`register`, or a class: every name of a class with that module and
        qualified name is dropped. A name nothing holds drops nothing (so a cell may unregister before
        it registers); a built-in task's or an installed plug-in's name is an error.

    Returns
    -------
    list of str
        The names dropped.
    """
    return _REGISTRY.unregister(name_or_class)


def task_class(name: str) -> type[Task] | None:
    """The task class a stored configuration names, if nasbook may rebuild it from its parameters.

    Parameters
    ----------
    name : str
        A built-in task's class name that holds no data of the user's (:data:`REBUILDABLE`: ``"NasBenchGraph"``,
        ``"Digits"``...), a name or class name given to :func:`register`, or an entry point's name or class
        name in group ``nasbook.tasks`` (an installed package's task).

    Returns
    -------
    type or None
        The :class:`Task` subclass (an entry point is imported), or None when nasbook cannot rebuild a task
        of that name from storage (one that holds data in memory needs ``task=`` on resume). An installed
        plug-in that fails to import raises :class:`~nasbook.NasbookError` naming the entry point and its package.
    """
    builtin = {n: c for n, c in _reserved().items() if n in REBUILDABLE}
    if name.endswith(_NBG_SUFFIX) and len(name) > len(_NBG_SUFFIX):  # a subclass of NasBenchGraph, by its own name
        from nasbook.tasks._nbg import NasBenchGraph

        cls = _REGISTRY.lookup(name[: -len(_NBG_SUFFIX)], {})
        return cls if cls is not None and issubclass(cls, NasBenchGraph) else None
    return _REGISTRY.lookup(name, builtin)  # a Task subclass: Registry.register and Registry.load check it
