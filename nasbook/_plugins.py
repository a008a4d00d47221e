"""Plug-ins: registered under an entry-point group (``nasbook.strategies``, ``nasbook.predictors``) by an
installed package, or in this process by ``register`` (:class:`Registry`: a class written in a notebook cell).

One place for what the registries do with entry points: read the group with built-ins first (an entry point
that reuses a built-in's name, or another plug-in's name for another object, is ignored with a
warning that says so, rather than silently), and find a plug-in by the *class* name a stored search
recorded (``to_config()`` stores ``type(obj).__name__``; the entry point's name may differ).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookWarning


def registered(group: str, builtin: dict[str, Any]) -> dict[str, Any]:
    """``builtin`` plus the group's entry points not loaded yet (by name); clashes warn."""
    found: dict[str, Any] = dict(builtin)
    for ep in entry_points(group=group):
        known = found.get(ep.name)
        if known is None:
            found[ep.name] = ep
            continue
        if isinstance(known, EntryPoint) and known.value == ep.value:
            continue  # one distribution seen twice on the path
        what = f"the built-in {known.__name__}" if ep.name in builtin else f"entry point {known.value!r}"
        warnings.warn(
            f"entry point {ep.name!r} = {ep.value!r} of group {group!r} is ignored: {ep.name!r} is already "
            f"{what}. Register the plug-in under another name.", NasbookWarning, stacklevel=3)
    return found


def by_class_name(group: str, name: str) -> Any:
    """The group's entry point whose object is named ``name`` (``module:Class`` ends in it), loaded; or None."""
    for ep in entry_points(group=group):
        if ep.attr is not None and ep.attr.rsplit(".", 1)[-1] == name:
            return ep.load()
    return None


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
        if not isinstance(name, str) or not name or name != name.strip():
            raise InvalidParameterTypeError(f"{self.where}.register(name=...) must be a non-empty str without surrounding "
                                            f"spaces (the name to use, e.g. {self.kind}={cls.__name__!r}), or None for "
                                            f"the class name; got {name!r} of type {type(name).__name__}.")
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

    def _entry_points(self) -> list[EntryPoint]:
        return list(entry_points(group=self.group)) if self.group else []

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
