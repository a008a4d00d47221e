"""Resolve predictor names: built-ins plus the entry-point group ``nasbook.predictors``."""

from __future__ import annotations

from typing import Any

from nasbook._errors import InvalidParameterTypeError, unknown_choice
from nasbook._plugins import by_class_name, registered
from nasbook.predictors._base import BasePredictor

ENTRY_POINT_GROUP = "nasbook.predictors"


def _builtin() -> dict[str, type[BasePredictor]]:
    from nasbook.predictors._ensemble import Ensemble
    from nasbook.predictors._mlp import MLPEnsemble
    from nasbook.predictors._models import ExtraTrees, GaussianProcess, GradientBoosting, RandomForest

    return {cls.alias: cls for cls in (GaussianProcess, RandomForest, ExtraTrees, GradientBoosting, MLPEnsemble, Ensemble)}


def available_predictors() -> dict[str, Any]:
    """Built-in models and those third parties register under ``nasbook.predictors``."""
    return registered(ENTRY_POINT_GROUP, _builtin())  # entry points are loaded lazily, in predictor_class


def predictor_class(name: str, *, kind: str = "predictor model", hint: str = "") -> type[BasePredictor]:
    """The class registered under ``name`` (or whose class name is ``name``); an unknown name is an
    error that names ``kind`` (e.g. ``"Predictor(model=...)"``), lists the names and adds ``hint``."""
    found = available_predictors()
    by_class = {cls.__name__: cls for cls in _builtin().values()}
    cls: Any = found.get(name) or by_class.get(name) or by_class_name(ENTRY_POINT_GROUP, name)  # a stored class name
    if cls is None:
        raise unknown_choice(kind, name, found, f"{hint}Third-party models register under entry-point group "
                                                f"{ENTRY_POINT_GROUP!r}.")
    if not isinstance(cls, type):
        cls = cls.load()
    return cls  # type: ignore[no-any-return]


def get_predictor(model: str | BasePredictor, **params: Any) -> BasePredictor:
    """A predictor instance from an instance or a registered name (with ``params``)."""
    if isinstance(model, BasePredictor):
        return model
    if not isinstance(model, str):
        raise InvalidParameterTypeError(
            f"model must be a name such as 'gp' or a BasePredictor instance; got {model!r:.60} of type {type(model).__name__}."
        )
    return predictor_class(model)(**params)
