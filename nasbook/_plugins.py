"""Plug-ins: registered under an entry-point group by an installed package, or in this process by
``register`` (:class:`Registry`: a class written in a notebook cell).

The groups, one per kind, named after the kind in the plural: ``nasbook.strategies``,
``nasbook.predictors``, ``nasbook.spaces`` and ``nasbook.tasks``. One place for what the registries do
with them: read a group with built-ins first (an entry point that reuses a built-in's name or class
name, or another plug-in's name for another object, is ignored with a warning that says so, rather
than silently), find a plug-in by the *class* name a stored search recorded (``to_config()`` stores
``type(obj).__name__``; the entry point's name may differ), and load it with an error that names the
entry point and its package when it cannot be imported or is not a class of that kind.

A group's entry points are read once and kept (reading them parses every installed distribution's
``entry_points.txt``: milliseconds, at every look-up by name). They are read again when the places
``importlib.metadata`` discovers distributions in change (``sys.path``, the modification times of its
folders, which installing or removing a package updates, ``sys.meta_path`` and the working folder), and
when a look-up finds no such name (an entry point added by hand to an installed ``entry_points.txt``).
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError, NasbookWarning


def is_entry_point(obj: Any) -> bool:
    """Whether ``obj`` is an entry point not loaded yet, of the standard library's ``importlib.metadata``
    *or* of its backport ``importlib_metadata``: once anything imports the backport (torch's code
    paths do), its path finder sits on ``sys.meta_path`` and the standard ``entry_points()`` returns
    the backport's objects, which are no ``importlib.metadata.EntryPoint`` instances."""
    return not isinstance(obj, type) and all(hasattr(obj, a) for a in ("load", "value", "attr", "group"))


def is_plugin_name(name: str) -> bool:
    """Whether ``name`` has the form of a registry name: an identifier in which '-' may stand for '_'
    (``"median-stopping"``, ``"random-forest"``, a class name); no spaces, dots, or leading '-' or digit."""
    return not name.startswith("-") and name.replace("-", "_").isidentifier()


#: group -> (the state of distribution discovery when read, its entry points)
_READ: dict[str, tuple[tuple[Any, ...], tuple[EntryPoint, ...]]] = {}


def _discovery_state() -> tuple[Any, ...]:
    """What decides which distributions ``importlib.metadata`` finds (its own caches key on the folders'
    modification times too): a package installed or removed since changes it."""
    paths = tuple(sys.path)
    times: list[int | None] = []
    for p in paths:
        try:
            times.append(os.stat(p or ".").st_mtime_ns)
        except (OSError, TypeError, ValueError):  # gone, or not a folder path (a zip is stat-ed as a file)
            times.append(None)
    try:
        cwd = os.getcwd()  # "" on sys.path is the working folder
    except OSError:
        cwd = None
    return paths, tuple(times), tuple(id(f) for f in sys.meta_path), cwd


def group_entry_points(group: str, *, fresh: bool = False) -> tuple[EntryPoint, ...]:
    """The group's entry points: read again only when distribution discovery changed, or ``fresh``."""
    state = _discovery_state()
    kept = _READ.get(group)
    if not fresh and kept is not None and kept[0] == state:
        return kept[1]
    eps = tuple(entry_points(group=group))
    _READ[group] = (state, eps)
    return eps


def registered(group: str, builtin: dict[str, Any], reserved: dict[str, type] | None = None, *,
               fresh: bool = False) -> dict[str, Any]:
    """``builtin`` plus the group's entry points not loaded yet (by name); clashes warn.

    An entry point named like a key of ``builtin`` or of ``reserved`` (the built-ins' class names, what
    a stored search records) is ignored, and so is a second one under a name another took. ``fresh``
    reads the group again even if nothing seems installed since (:func:`group_entry_points`)."""
    found: dict[str, Any] = dict(builtin)
    taken = {**(reserved or {}), **builtin}
    for ep in group_entry_points(group, fresh=fresh):
        known = found.get(ep.name)
        if known is None and ep.name not in taken:
            found[ep.name] = ep
            continue
        if known is not None and is_entry_point(known) and known.value == ep.value:
            continue  # one distribution seen twice on the path
        what = f"the built-in {taken[ep.name].__name__}" if ep.name in taken else f"entry point {getattr(known, 'value', known)!r}"
        warnings.warn(
            f"entry point {ep.name!r} = {ep.value!r} of group {group!r} is ignored: {ep.name!r} is already "
            f"{what}. Register the plug-in under another name.", NasbookWarning, stacklevel=3)
    return found


def qualified(cls: type) -> str:
    """``module.QualName``: what tells a class redefined by a re-run notebook cell (the same) from another."""
    return f"{cls.__module__}.{cls.__qualname__}"


class Registry:
    """The classes of one kind of plug-in registered in *this process* (a notebook cell's class).

    Beside the built-ins and the entry points (``group``): ``register`` names a class so that a name
    (``Search(strategy="mine")``) and ``load_search`` find it, as they find an installed plug-in. A
    stored search records the class name (``type(obj).__name__``) and its constructor parameters, and
    is rebuilt from them, so the rules keep every stored name pointing at one class:

    - a built-in's name (alias or class name) or an entry point's name is never taken: it would change
      what other stored searches resume with; a class *named* like a built-in or like another plug-in's
      class is refused too (its stored class name could not be told apart);
    - the same class again (same module and qualified name: a notebook cell run again, a module
      reloaded) replaces the old definition under every name it had, with no error;
    - another class under a name this process registered is refused: :meth:`unregister` it first.

    The entry points of ``group`` (an installed package's) follow the same rules when they are read
    (:meth:`listed`) and loaded (:meth:`load`): a built-in's name or class name is never theirs, and a
    class that is not of this kind, or is named like a built-in, is refused. :meth:`lookup` is the one
    look-up every kind uses: its built-ins, this process's classes, then the installed plug-ins.
    """

    def __init__(self, kind: str, where: str, base: type, reserved: Callable[[], dict[str, type]],
                 group: str | None = None) -> None:
        self.kind = kind  # "strategy": for messages
        self.where = where  # "nasbook.strategies": where register/unregister live, for messages
        self.base = base
        self._reserved = reserved  # {built-in alias or class name: class}
        self.group = group
        self.classes: dict[str, type] = {}

    # -- register / unregister ------------------------------------------------------------------------
    def register(self, cls: Any, name: Any) -> Any:
        """``cls`` registered (returned, for a decorator); with ``cls`` None, the decorator."""
        if cls is None:
            return lambda c: self.register(c, name)
        if isinstance(cls, str):
            raise InvalidParameterTypeError(
                f"{self.where}.register takes the class first and the name as a keyword: "
                f"{self.where}.register(MyClass, name={cls!r}), or @{self.where}.register(name={cls!r}) above the class.")
        self._check_class(cls)
        if name is None:
            name = cls.__name__
        if not isinstance(name, str):
            raise InvalidParameterTypeError(f"{self.where}.register(name=...) must be a non-empty str (the name to use, "
                                            f"e.g. {self.kind}={cls.__name__!r}), or None for the class name; got "
                                            f"{name!r} of type {type(name).__name__}.")
        if not is_plugin_name(name):
            fixed = "-".join(name.split())
            raise InvalidParameterError(
                f"{self.where}.register(name=...) must be a non-empty str of letters, digits, '_' and '-', not starting "
                f"with a digit or '-', like the built-in names ('median-stopping') and class names: it is typed as "
                f"{self.kind}='...'; got {name!r}" + (f" (did you mean {fixed!r}?)." if is_plugin_name(fixed) else "."))
        self._check_names(cls, name)
        for known, old in list(self.classes.items()):  # a redefinition replaces the stale class everywhere
            if qualified(old) == qualified(cls):
                self.classes[known] = cls
        self.classes[name] = cls
        return cls

    def _check_class(self, cls: Any) -> None:
        base = self.base.__name__
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            what = ("an instance; pass its class" if isinstance(cls, self.base) else
                    f"{cls!r:.80} of type {type(cls).__name__}")
            raise InvalidParameterTypeError(f"{self.where}.register(plugin=...) must be a subclass of {self.where}.{base} "
                                            f"(the class itself); got {what}.")
        if cls is self.base or inspect.isabstract(cls):
            missing = sorted(getattr(cls, "__abstractmethods__", ()))
            raise InvalidParameterTypeError(f"{self.where}.register(plugin=...) must be a {self.kind} that can be made; "
                                            f"{cls.__name__} is abstract" + (f" (it lacks {missing})." if missing else "."))

    def _check_names(self, cls: type, name: str) -> None:
        reserved = self._reserved()
        if cls.__name__ in reserved:
            raise InvalidParameterError(
                f"{self.where}.register: the class {qualified(cls)} is named like the built-in {self.kind} "
                f"{cls.__name__}; a search stores a {self.kind}'s class name, so load_search would rebuild the built-in "
                f"in its place. Rename the class.")
        taken = reserved.get(name)
        if taken is not None:
            raise InvalidParameterError(
                f"{self.where}.register(name={name!r}): {name!r} is the built-in {self.kind} {taken.__name__}'s name, "
                f"and stays so (other searches stored under it resume with it). Register {cls.__name__} under another name.")
        for ep in self._entry_points():
            same = ep.value == f"{cls.__module__}:{cls.__qualname__}"
            if not same and (ep.name == name or (ep.attr or "").rsplit(".", 1)[-1] == cls.__name__):
                clash = f"the name {name!r}" if ep.name == name else f"the class name {cls.__name__!r}"
                raise InvalidParameterError(
                    f"{self.where}.register: {clash} is installed plug-in {ep.name!r} = {ep.value!r} (entry-point group "
                    f"{self.group!r}), which it keeps. Register {qualified(cls)} under another name"
                    + ("." if ep.name == name else ", and rename the class: a search stores the class name."))
        old = self.classes.get(name)
        if old is not None and qualified(old) != qualified(cls):
            raise InvalidParameterError(
                f"{self.where}.register(name={name!r}): {name!r} is registered to {qualified(old)} in this process. "
                f"Call {self.where}.unregister({name!r}) first to give the name to {qualified(cls)}.")
        for known, other in self.classes.items():
            if other.__name__ == cls.__name__ and qualified(other) != qualified(cls):
                raise InvalidParameterError(
                    f"{self.where}.register: {qualified(other)} is registered (as {known!r}) with the same class name as "
                    f"{qualified(cls)}; a search stores the class name, so load_search could not tell them apart. "
                    f"Rename one, or call {self.where}.unregister({known!r}) first.")

    def _entry_points(self) -> tuple[EntryPoint, ...]:
        return group_entry_points(self.group) if self.group else ()

    def unregister(self, what: Any) -> list[str]:
        """Drop a name (a str), or every name of a class (by its qualified name); the names dropped."""
        if isinstance(what, str):
            if what in self._reserved():
                raise InvalidParameterError(f"{self.where}.unregister({what!r}): {what!r} is a built-in {self.kind}, "
                                            "which cannot be unregistered.")
            if what not in self.classes and any(ep.name == what for ep in self._entry_points()):
                raise InvalidParameterError(f"{self.where}.unregister({what!r}): {what!r} is an installed plug-in (entry-"
                                            f"point group {self.group!r}); uninstall its package to drop it.")
            names = [what] if what in self.classes else []
        elif isinstance(what, type):
            names = [n for n, c in self.classes.items() if qualified(c) == qualified(what)]
        else:
            raise InvalidParameterTypeError(f"{self.where}.unregister(name_or_class=...) must be a name given to "
                                            f"{self.where}.register or a class; got {what!r:.80} of type {type(what).__name__}.")
        for n in names:
            del self.classes[n]
        return names

    # -- look-ups ----------------------------------------------------------------------------------------
    def find(self, name: str) -> type | None:
        """The class registered under ``name``, or whose class name is ``name`` (what a stored search records)."""
        if not name:  # a stored config without an alias: never a class whose alias is ""
            return None
        found = self.classes.get(name)
        if found is None:  # a stored class name, or an alias the class gives itself (a strategy's ``alias``)
            found = next((c for c in self.classes.values() if name in (c.__name__, getattr(c, "alias", None))), None)
        return found

    def listed(self, builtin: dict[str, Any], *, fresh: bool = False) -> dict[str, Any]:
        """``builtin``, the group's entry points (not loaded yet) and the classes registered here, by name
        (``fresh``: the group read again, :func:`group_entry_points`)."""
        found = registered(self.group, builtin, self._reserved(), fresh=fresh) if self.group else dict(builtin)
        return {**found, **self.classes}

    def lookup(self, name: str, builtin: dict[str, type]) -> type | None:
        """``builtin[name]``, a class registered here (:meth:`find`), or an installed plug-in, loaded; None if none.

        The one look-up of every kind: ``builtin`` holds the names it resolves itself (aliases, class
        names). An entry point is found by its name or by its class's name (what a stored search records);
        one named like a built-in is nobody's (reading the group warns about it), and two installed
        classes sharing the stored name are an error: neither is guessed.
        """
        found = self.listed(builtin)
        cls = found.get(name) or self.find(name) or self._by_class_name(found, name)
        if cls is None and self.group:  # not known: read the group again (an entry point added by hand since)
            found = self.listed(builtin, fresh=True)
            cls = found.get(name) or self._by_class_name(found, name)
        return cls if cls is None or isinstance(cls, type) else self.load(cls)

    def _by_class_name(self, found: dict[str, Any], name: str) -> EntryPoint | None:
        if not name:
            return None
        kept = {ep.value: ep for ep in found.values()
                if is_entry_point(ep) and ep.attr is not None and ep.attr.rsplit(".", 1)[-1] == name}
        if len(kept) > 1:
            listed = ", ".join(f"{ep.name!r} = {ep.value!r} ({_package(ep)})" for ep in kept.values())
            raise NasbookError(f"{len(kept)} installed {self.kind} plug-ins of entry-point group {self.group!r} have "
                               f"the class name {name!r}, which is all a stored search records: {listed}. Uninstall "
                               f"one, or pass the {self.kind} to load_search.")
        return next(iter(kept.values()), None)

    def load(self, ep: EntryPoint) -> type:
        """The entry point's class, imported and checked: a concrete subclass of ``base``, not named like a built-in.

        A package that fails to import, or names something else, raises :class:`NasbookError` naming the
        entry point and the package; nasbook never falls back to another class under that name."""
        where = f"{self.kind} plug-in {ep.name!r} = {ep.value!r} (entry-point group {self.group!r}, package {_package(ep)})"
        try:
            cls = ep.load()
        except Exception as exc:  # ImportError, a missing attribute, any error the module raises on import
            raise NasbookError(f"The {where} failed to import: {type(exc).__name__}: {exc}. Fix or reinstall that "
                               f"package, or uninstall it.") from exc
        if not (isinstance(cls, type) and issubclass(cls, self.base)) or inspect.isabstract(cls):
            raise NasbookError(f"The {where} is {cls!r:.80}, not a {self.kind} class: the entry point must name a "
                               f"subclass of {self.where}.{self.base.__name__} that can be made. Fix the entry point in "
                               f"that package's pyproject.toml.")
        builtin = self._reserved().get(cls.__name__)
        if builtin is not None and builtin is not cls:
            raise NasbookError(f"The {where} is {qualified(cls)}, named like the built-in {self.kind} {cls.__name__}; a "
                               f"search stores the class name, so load_search would rebuild the built-in in its place. "
                               f"Rename the class in that package.")
        return cls


def _package(ep: EntryPoint) -> str:
    """The distribution an entry point comes from, ``name version``, for messages."""
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "unknown"
