"""Resolve predictor names: built-ins plus the entry-point group ``nasbook.predictors``."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from nasbook._errors import InvalidParameterTypeError, unknown_choice
from nasbook.predictors._base import BasePredictor

ENTRY_POINT_GROUP = "nasbook.predictors"


def _builtin() -> dict[str, type[BasePredictor]]:
    from nasbook.predictors._ensemble import Ensemble
    from nasbook.predictors._mlp import MLPEnsemble
    from nasbook.predictors._models import ExtraTrees, GaussianProcess, GradientBoosting, RandomForest

    return {cls.alias: cls for cls in (GaussianProcess, RandomForest, ExtraTrees, GradientBoosting, MLPEnsemble, Ensemble)}


def available_predictors() -> dict[str, Any]:
    """Built-in models and those third parties register under ``nasbook.predictors``.

    Returns
    -------
    dict
        ``{alias: class}`` for built-ins (``"gp"``, ``"random-forest"``, ...); a third-party entry is its
        ``EntryPoint`` until :func:`predictor_class` loads it. A built-in alias wins a clash.
    """
    found: dict[str, Any] = dict(_builtin())
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)  # loaded lazily in predictor_class
    return found


def predictor_class(name: str, *, kind: str = "predictor model", hint: str = "") -> type[BasePredictor]:
    """The class registered under ``name`` (or whose class name is ``name``).

    Parameters
    ----------
    name : str
        An alias (``"gp"``), a built-in class name (``"GaussianProcess"``) or an entry point of group
        ``nasbook.predictors``.
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
    found = available_predictors()
    by_class = {cls.__name__: cls for cls in _builtin().values()}
    cls: Any = found.get(name) or by_class.get(name)
    if cls is None:
        raise unknown_choice(kind, name, found, f"{hint}Third-party models register under entry-point group "
                                                f"{ENTRY_POINT_GROUP!r}.")
    if not isinstance(cls, type):
        cls = cls.load()
    return cls  # type: ignore[no-any-return]


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
