"""Resolve strategy names: built-ins plus the entry-point group ``nasbook.strategies``."""

from __future__ import annotations

from typing import Any

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, did_you_mean, unknown_choice
from nasbook._plugins import by_class_name, registered
from nasbook.strategies._base import BaseStrategy
from nasbook.strategies._bo import BO
from nasbook.strategies._curve_stopping import CurveStopping
from nasbook.strategies._evolution import RegularizedEvolution
from nasbook.strategies._fingerprint import FingerprintStopping
from nasbook.strategies._growth import Growth
from nasbook.strategies._local import LocalSearch
from nasbook.strategies._multifidelity import ASHA, Hyperband, SuccessiveHalving
from nasbook.strategies._optuna import OptunaSampler
from nasbook.strategies._portfolio import Portfolio
from nasbook.strategies._pruning import MedianStopping
from nasbook.strategies._random import RandomSearch

BUILTIN: dict[str, type[BaseStrategy]] = {
    "random": RandomSearch,
    "evolution": RegularizedEvolution,
    "local": LocalSearch,
    "asha": ASHA,
    "sh": SuccessiveHalving,
    "hyperband": Hyperband,
    "median-stopping": MedianStopping,
    "curve-stopping": CurveStopping,
    "optuna": OptunaSampler,
    "bo": BO,
    "portfolio": Portfolio,
    "fingerprint-stopping": FingerprintStopping,
    "growth": Growth,
}
ENTRY_POINT_GROUP = "nasbook.strategies"


def available_strategies() -> dict[str, type[BaseStrategy]]:
    """Built-in strategies and those third parties register under ``nasbook.strategies``.

    Returns
    -------
    dict
        ``{alias: class}`` for built-ins; a third-party entry is its ``EntryPoint`` until
        :func:`strategy_class` loads it. A built-in alias wins over an entry point of the same name (which warns).
    """
    return registered(ENTRY_POINT_GROUP, BUILTIN)  # entry points are loaded lazily, in strategy_class


def strategy_class(name: str) -> type[BaseStrategy]:
    """The class registered under ``name`` (or whose class name is ``name``).

    Parameters
    ----------
    name : str
        An alias (``"evolution"``), a built-in class name (``"RegularizedEvolution"``) or an entry
        point registered under group ``nasbook.strategies``, or a plug-in's class name (what a stored search
        records, so ``load_search`` finds a plug-in whose entry point is named otherwise). An unknown name raises an error that
        lists the available ones and suggests the nearest.

    Returns
    -------
    type
        The :class:`BaseStrategy` subclass (an entry point is loaded).
    """
    found = available_strategies()
    by_class = {cls.__name__: cls for cls in BUILTIN.values()}
    cls: Any = found.get(name) or by_class.get(name) or by_class_name(ENTRY_POINT_GROUP, name)
    if cls is None:
        raise unknown_choice(
            "strategy", name, found,
            f"Third-party strategies register under entry-point group {ENTRY_POINT_GROUP!r}.",
        )
    if not isinstance(cls, type):
        cls = cls.load()
    return cls  # type: ignore[no-any-return]


def named_strategy(param: str, name: str, *, proposing: bool = False) -> type[BaseStrategy]:
    """The class a strategy parameter's name resolves to (:func:`strategy_class`), an unknown name refused naming the parameter.

    ``ASHA(base="evolutoin")`` was refused as an unknown *strategy*, without saying which argument
    held it; this names ``param`` (``"ASHA(base=...)"``), lists the names it takes and the nearest.

    Parameters
    ----------
    param : str
        The parameter as the user wrote it, e.g. ``"ASHA(base=...)"``.
    name : str
        The name given.
    proposing : bool, default False
        True when ``param`` takes proposing strategies only (a wrapper's ``base``, a Portfolio's arms):
        the built-in schedulers and wrappers are left out of the names listed.

    Returns
    -------
    type
        The :class:`BaseStrategy` subclass.
    """
    try:
        return strategy_class(name)
    except InvalidParameterError:
        if name in available_strategies():  # a registered entry point that failed to load: its own error
            raise
    from nasbook.strategies._base import WrapsBase

    found = available_strategies()
    allowed = sorted(k for k, v in found.items() if not (proposing and isinstance(v, type) and issubclass(v, WrapsBase)))
    listed = ", ".join(repr(k) for k in allowed)
    raise InvalidParameterError(
        f"{param} must be a registered strategy name or a BaseStrategy instance; got {name!r}, which is not registered. "
        f"Allowed names: {listed}{did_you_mean(str(name), allowed)}. Third-party strategies register under "
        f"entry-point group {ENTRY_POINT_GROUP!r}.") from None


def get_strategy(strategy: str | BaseStrategy, **params: Any) -> BaseStrategy:
    """Return a strategy instance from an instance or a registered name (with ``params``).

    Parameters
    ----------
    strategy : str, BaseStrategy or type
        An instance (returned as is, ``params`` ignored), a subclass, or a name that
        :func:`strategy_class` resolves.
    **params
        Constructor arguments for a class or a name.

    Returns
    -------
    BaseStrategy
        A strategy, not set up yet.
    """
    if isinstance(strategy, BaseStrategy):
        return strategy
    if isinstance(strategy, type) and issubclass(strategy, BaseStrategy):
        return strategy(**params)
    if not isinstance(strategy, str):
        raise InvalidParameterTypeError(
            f"strategy must be a name such as 'evolution' or a BaseStrategy instance; got {strategy!r} "
            f"of type {type(strategy).__name__}."
        )
    return strategy_class(strategy)(**params)
