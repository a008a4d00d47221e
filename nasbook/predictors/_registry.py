"""Resolve predictor names: built-ins, the entry-point group ``nasbook.predictors`` and the classes
:func:`register`-ed in this process."""

from __future__ import annotations

from typing import Any

from nasbook._errors import InvalidParameterTypeError, unknown_choice
from nasbook._plugins import Registry
from nasbook.predictors._base import BasePredictor

#: where an installed package lists its predictors (``[project.entry-points."nasbook.predictors"]``), as ``nasbook.strategies``
ENTRY_POINT_GROUP = "nasbook.predictors"


def _builtin() -> dict[str, type[BasePredictor]]:
    from nasbook.predictors._ensemble import Ensemble
    from nasbook.predictors._mlp import MLPEnsemble
    from nasbook.predictors._models import ExtraTrees, GaussianProcess, GradientBoosting, RandomForest

    return {cls.alias: cls for cls in (GaussianProcess, RandomForest, ExtraTrees, GradientBoosting, MLPEnsemble, Ensemble)}


def _reserved() -> dict[str, type]:
    """Every built-in name: the aliases and the class names of the predictors nasbook exports."""
    import nasbook.predictors as package

    classes = {n: c for n in package.__all__ if isinstance(c := getattr(package, n), type) and issubclass(c, BasePredictor)}
    return {**classes, **_builtin(), "auto": package.Predictor}


_REGISTRY = Registry("predictor", "nasbook.predictors", BasePredictor, _reserved, ENTRY_POINT_GROUP)
_HINT = (f"Register a model of your own in this process with nasbook.predictors.register(MyModel), or install it under "
         f"entry-point group {ENTRY_POINT_GROUP!r}.")


def register(plugin: type[BasePredictor] | None = None, /, *, name: str | None = None) -> Any:
    """Register a predictor class in this process, so that a name finds it as it finds a built-in.

    ``Predictor(model=name)``, ``BO(predictor=name)``, ``Ensemble`` members and :func:`~nasbook.load_search`
    (which rebuilds a stored BO's surrogate from its class name and parameters, never from a pickle)
    then find it: a model written in a notebook cell resumes like an installed plug-in, once its cell
    has run. Usable as a decorator, ``@register`` or ``@register(name="knn")``. Running the cell again
    (the class redefined, same module and name) replaces the old definition, with no error.

    Parameters
    ----------
    plugin : type, optional
        A :class:`BasePredictor` subclass (the class, not an instance). Omitted: a decorator is returned.
    name : str, optional
        The name to use (``Predictor(model="knn")``); default the class name. A built-in's name or an
        installed plug-in's (entry point) is refused, and so is one this process gave another class
        (:func:`unregister` it first). The class name too must differ from a built-in's: a search
        stores the class name.

    Returns
    -------
    type or callable
        ``plugin``, unchanged; without it, a decorator that registers the class it is applied to.
    """
    return _REGISTRY.register(plugin, name)


def unregister(name_or_class: str | type[BasePredictor]) -> list[str]:
    """Drop a predictor :func:`register` registered in this process.

    Parameters
    ----------
    name_or_class : str or type
        A name given to :func:`register`, or a class: every name of a class with that module and
        qualified name is dropped. A name nothing holds drops nothing (so a cell may unregister before
        it registers); a built-in's or an installed plug-in's name is an error.

    Returns
    -------
    list of str
        The names dropped.
    """
    return _REGISTRY.unregister(name_or_class)


def available_predictors() -> dict[str, Any]:
    """Built-in models, those third parties register under ``nasbook.predictors`` and those :func:`register`-ed.

    Returns
    -------
    dict
        ``{alias: class}`` for built-ins (``"gp"``, ``"random-forest"``, ...) and classes registered in
        this process; an entry point is its ``EntryPoint`` until :func:`predictor_class` loads it. A
        built-in alias wins a clash (which warns).
    """
    return _REGISTRY.listed(_builtin())  # entry points load lazily, in predictor_class


def predictor_class(name: str, *, kind: str = "predictor model", hint: str = "") -> type[BasePredictor]:
    """The class registered under ``name`` (or whose class name is ``name``).

    Parameters
    ----------
    name : str
        An alias (``"gp"``), a built-in class name (``"GaussianProcess"``), an entry point of group
        ``nasbook.predictors``, a name given to :func:`register`, or a plug-in's class name (what a
        stored search records).
    kind : str, default "predictor model"
        What the name was given as, for the error an unknown name raises (e.g.
        ``"Predictor(model=...)"``); the error also lists the known names.
    hint : str, default ""
        Text added to that error before the note on entry points.

    Returns
    -------
    type
        The :class:`BasePredictor` subclass (an entry point is loaded).
    """
    builtin = _builtin()
    cls = _REGISTRY.lookup(name, {**{c.__name__: c for c in builtin.values()}, **builtin})  # also a stored class name
    if cls is None:
        raise unknown_choice(kind, name, available_predictors(), f"{hint}{_HINT}")
    return cls


def get_predictor(model: str | BasePredictor, **params: Any) -> BasePredictor:
    """A predictor instance from an instance or a registered name (with ``params``).

    Parameters
    ----------
    model : str or BasePredictor
        An instance (returned as is, ``params`` ignored) or a name :func:`predictor_class` resolves.
    **params
        Constructor arguments for the named class.

    Returns
    -------
    BasePredictor
        A predictor, not fitted.
    """
    if isinstance(model, BasePredictor):
        return model
    if not isinstance(model, str):
        raise InvalidParameterTypeError(
            f"model must be a name such as 'gp' or a BasePredictor instance; got {model!r:.60} of type {type(model).__name__}."
        )
    return predictor_class(model)(**params)
