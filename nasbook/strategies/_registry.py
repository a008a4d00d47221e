"""Resolve strategy names: built-ins, the entry-point group ``nasbook.strategies`` and the classes
:func:`register`-ed in this process."""

from __future__ import annotations

from typing import Any

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, class_given, did_you_mean, unknown_choice
from nasbook._plugins import Registry
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
#: where an installed package lists its strategies (``[project.entry-points."nasbook.strategies"]``)
ENTRY_POINT_GROUP = "nasbook.strategies"


def _reserved() -> dict[str, type]:
    """Every built-in name: the aliases and the class names of the strategies nasbook exports."""
    import nasbook.strategies as package

    classes = {n: c for n in package.__all__ if isinstance(c := getattr(package, n), type) and issubclass(c, BaseStrategy)}
    return {**classes, **BUILTIN}


_REGISTRY = Registry("strategy", "nasbook.strategies", BaseStrategy, _reserved, ENTRY_POINT_GROUP)
_HINT = (f"Pass your own strategy as an instance (strategy=MyStrategy()), register its class in this process with "
         f"nasbook.strategies.register(MyStrategy), or install it under entry-point group {ENTRY_POINT_GROUP!r}.")


def register(plugin: type[BaseStrategy] | None = None, /, *, name: str | None = None) -> Any:
    """Register a strategy class in this process, so that a name finds it as it finds a built-in.

    ``Search(strategy=name)``, a Portfolio's arms and :func:`~nasbook.load_search` (which rebuilds a
    stored search's strategy from its class name and constructor parameters, never from a pickle) then
    find it: a class written in a notebook cell resumes like an installed plug-in, once its cell has
    run. Usable as a decorator, ``@register`` or ``@register(name="mine")``. Running the cell again
    (the class redefined, same module and name) replaces the old definition, with no error.

    Parameters
    ----------
    plugin : type, optional
        A :class:`BaseStrategy` subclass (the class, not an instance). Omitted: a decorator is returned.
    name : str, optional
        The name to use (``Search(strategy="mine")``); default the class's ``alias``, else its name. A built-in's name or an
        installed plug-in's (entry point) is refused, and so is one this process gave another class
        (:func:`unregister` it first). The class name too must differ from a built-in's: a search
        stores the class name.

    Returns
    -------
    type or callable
        ``plugin``, unchanged; without it, a decorator that registers the class it is applied to.

    Examples
    --------
    >>> import nasbook
    >>> from nasbook.strategies import RandomSearch
    >>> @nasbook.strategies.register(name="my-random")
    ... class MyRandom(RandomSearch):
    ...     pass
    >>> type(nasbook.strategies.get_strategy("my-random")).__name__
    'MyRandom'
    >>> nasbook.strategies.unregister("my-random")
    ['my-random']
    """
    if name is None and isinstance(plugin, type) and issubclass(plugin, BaseStrategy) and plugin.alias:
        name = plugin.alias  # the class's own registered name, stored with its searches
    return _REGISTRY.register(plugin, name)


def unregister(name_or_class: str | type[BaseStrategy]) -> list[str]:
    """Drop a strategy :func:`register` registered in this process.

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


def available_strategies() -> dict[str, type[BaseStrategy]]:
    """Built-in strategies, those third parties register under ``nasbook.strategies`` and those :func:`register`-ed.

    Returns
    -------
    dict
        ``{alias: class}`` for built-ins and classes registered in this process; an entry point is its
        ``EntryPoint`` until :func:`strategy_class` loads it. A built-in alias wins over an entry point
        of the same name (which warns).
    """
    return _REGISTRY.listed(BUILTIN)  # entry points load lazily, in strategy_class


def strategy_class(name: str) -> type[BaseStrategy]:
    """The class registered under ``name`` (or whose class name is ``name``).

    Parameters
    ----------
    name : str
        An alias (``"evolution"``), a built-in class name (``"RegularizedEvolution"``), an entry
        point registered under group ``nasbook.strategies``, a name given to :func:`register`, or a plug-in's
        class name (what a stored search records, so ``load_search`` finds a plug-in registered under
        another name). An unknown name raises an error that lists the available ones and suggests the nearest.

    Returns
    -------
    type
        The :class:`BaseStrategy` subclass (an entry point is loaded).
    """
    cls = _REGISTRY.lookup(name, {**{c.__name__: c for c in BUILTIN.values()}, **BUILTIN})
    if cls is None:
        raise unknown_choice("strategy", name, available_strategies(), _HINT)
    return cls


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
    from nasbook.strategies._wraps import WrapsBase

    found = available_strategies()
    allowed = sorted(k for k, v in found.items() if not (proposing and isinstance(v, type) and issubclass(v, WrapsBase)))
    listed = ", ".join(repr(k) for k in allowed)
    raise InvalidParameterError(
        f"{param} must be a registered strategy name or a BaseStrategy instance; got {name!r}, which is not registered. "
        f"Allowed names: {listed}{did_you_mean(str(name), allowed)}. {_HINT}") from None


def refuse_class(param: str, value: Any) -> None:
    """Refuse a strategy class given where a strategy is expected (``ASHA(base=RandomSearch)``), as
    ``Search(strategy=RandomSearch)`` is refused: ``param`` (``"ASHA(base=...)"``) takes a registered name or
    an instance, and the error says to pass ``RandomSearch(...)`` or its name (``'random'``)."""
    if isinstance(value, type) and issubclass(value, BaseStrategy):
        raise InvalidParameterTypeError(f"{param} must be a registered strategy name or a BaseStrategy instance; got "
                                        f"{value!r}{class_given(value, BaseStrategy, available_strategies)}.")


def get_strategy(strategy: str | BaseStrategy, **params: Any) -> BaseStrategy:
    """Return a strategy instance from an instance or a registered name (with ``params``).

    A strategy class is refused, as everywhere a strategy is taken (``Search(strategy=...)``, a wrapper's
    ``base``, a Portfolio's arms): call it instead, ``RandomSearch(seed=3)``, or pass its name.

    Parameters
    ----------
    strategy : str or BaseStrategy
        An instance (returned as is, ``params`` ignored) or a name that :func:`strategy_class` resolves
        (``"random"``, a class name such as ``"RandomSearch"``, or a name :func:`register` gave).
    **params
        Constructor arguments for a name.

    Returns
    -------
    BaseStrategy
        A strategy, not set up yet.
    """
    if isinstance(strategy, BaseStrategy):
        return strategy
    refuse_class("get_strategy(strategy=...)", strategy)
    if not isinstance(strategy, str):
        raise InvalidParameterTypeError(
            f"strategy must be a name such as 'evolution' or a BaseStrategy instance; got {strategy!r:.80} "
            f"of type {type(strategy).__name__}."
        )
    return strategy_class(strategy)(**params)
