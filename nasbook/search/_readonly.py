"""A stored search whose strategy nasbook cannot rebuild: loaded read-only, not refused.

``load_search`` needs the strategy only to go on proposing; every read (the trials, ``best``,
``to_dataframe``/``to_xarray``, the plots of :mod:`nasbook.viz`, the notebook views, ``nasbook show``)
needs the stored configuration and the committed trials alone. So when the stored strategy cannot
be rebuilt in this process (a class of the user's that is not registered here, an
``OptunaSampler`` around a sampler instance, a ``Portfolio`` with such an arm, a BO whose transfer
prior came from a knowledge base not given), ``load_search`` still returns the search, as
``optuna.load_study`` always loads a study, with :class:`UnrebuiltStrategy` in the strategy's
place: it shows the stored class and parameters and raises :class:`SearchNotResumableError` if
asked to propose. :attr:`ReadOnly.resumable` is False, the reprs say why and how to resume it, and
``run``, ``start``, ``extend`` and ``load_search(..., budget=...)`` raise that error before anything
is written: a read of a shared file changes nothing in it.

A stored *task* nasbook cannot rebuild (a class of the user's not importable or registered here, a task
holding data in memory) loads the same way, with :class:`UnrebuiltTask` in its place: it keeps the stored
name, metric, mode and configuration (what every reader needs) and refuses to evaluate. When both are
missing, the task is named first (given ``task=...``, the strategy then is).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from nasbook._errors import SearchNotResumableError
from nasbook.strategies import BaseStrategy
from nasbook.tasks import Task

if TYPE_CHECKING:
    from nasbook.search._search import Search


@dataclass(frozen=True)
class NotRebuilt:
    """Why a stored strategy (or task) was not rebuilt: its stored class name, whether nasbook found that class
    (a built-in whose stored parameters cannot be rebuilt) or not (a class of the user's), nasbook's message,
    and which it is (``"strategy"`` or ``"task"``)."""

    cls: str
    found: bool
    detail: str
    what: str = "strategy"

    @property
    def why(self) -> str:
        """One clause: ``its strategy class 'Mine' is not registered in this process``; nasbook's own message
        (a built-in's: ``this search ran with an Optuna sampler instance...``) is :attr:`detail`."""
        if not self.found:
            return f"its {self.what} class {self.cls!r} is not registered in this process"
        return f"its {self.what} {self.cls} cannot be rebuilt from the stored configuration"

    @property
    def does(self) -> str:
        """What the search cannot do without it: ``propose trials`` (a strategy), ``evaluate trials`` (a task)."""
        return "evaluate trials" if self.what == "task" else "propose trials"

    def fix(self, name: str, label: str) -> str:
        """How to make it resumable: load it again with the strategy or task (or after registering the class)."""
        again = f"nasbook.load_search({name!r}, {label!r}, {self.what}=...)"
        package = "tasks" if self.what == "task" else "strategies"
        return f"to resume it: {again}" + ("" if self.found else f", or nasbook.{package}.register({self.cls}) first "
                                                                 "and load it again")


class UnrebuiltStrategy(BaseStrategy):
    """The place of a stored strategy nasbook could not rebuild, in a search loaded read-only.

    ``load_search`` makes a subclass of it named after the stored class, with the stored alias, so
    that every reader (``repr``, ``search.strategy.to_config()``, the plots' labels, the xarray
    attrs) shows the stored strategy as it was recorded. It holds the stored configuration only:
    ``setup``, ``ask`` and ``tell`` raise :class:`SearchNotResumableError`: load the search again with
    ``strategy=...`` to run it. Test for it with ``isinstance(search.strategy, nasbook.search.UnrebuiltStrategy)``
    (``type(search.strategy).__name__`` is the stored class name).

    Parameters
    ----------
    config : dict
        The stored strategy configuration (``{"class": ..., "params": {...}, "alias": ...}``): what
        ``to_config()`` returns; ``get_params()`` returns its ``params``.
    reason : NotRebuilt
        Why the strategy was not rebuilt (its stored class, and nasbook's message): what the refusals say.
    """

    def __init__(self, config: dict[str, Any], reason: NotRebuilt):
        params = config.get("params")
        self._stored = copy.deepcopy(config)
        self._params = dict(params) if isinstance(params, dict) else {}
        self._reason = reason
        seed = self._params.get("seed")
        super().__init__(seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None)

    def get_params(self) -> dict[str, Any]:
        return copy.deepcopy(self._params)

    def to_config(self) -> dict[str, Any]:
        return copy.deepcopy(self._stored)

    def clone(self) -> UnrebuiltStrategy:
        return type(self)(self._stored, self._reason)

    def _validate_params(self) -> None:
        pass  # nothing to check: it never proposes

    def _refuse(self) -> SearchNotResumableError:
        return SearchNotResumableError(f"{self._reason.cls} was not rebuilt from storage ({self._reason.why}): it cannot "
                                       "propose. Load the search again with strategy=... to resume it.")

    def setup(self, space: Any, *, seed: int | None = None, mode: str = "max", metric: str | None = None) -> BaseStrategy:
        raise self._refuse()

    def ask(self) -> Any:
        raise self._refuse()

    def _ask(self) -> Any:
        raise self._refuse()

    def tell(self, trial: Any) -> None:
        raise self._refuse()

    def enqueue(self, archs: Any) -> BaseStrategy:
        raise self._refuse()


def unrebuilt(config: dict[str, Any], reason: NotRebuilt) -> UnrebuiltStrategy:
    """An :class:`UnrebuiltStrategy` whose class bears the stored class name and alias."""
    alias = config.get("alias")
    cls = type(reason.cls or "UnrebuiltStrategy", (UnrebuiltStrategy,),
               {"alias": alias if isinstance(alias, str) else "", "__module__": __name__})
    return cast("type[UnrebuiltStrategy]", cls)(config, reason)


class UnrebuiltTask(Task):
    """The place of a stored task nasbook could not rebuild (a class of the user's not importable here, a task
    holding data in memory), in a search loaded read-only.

    It says what the task was: ``name``, ``metric``, ``mode`` and ``to_config()`` are the stored ones, so the
    trials, ``best``, ``to_xarray`` and the reprs read as the original search's; ``stored_class`` names the
    class. ``evaluate`` and ``check`` raise :class:`SearchNotResumableError`: load the search again with
    ``task=...`` to run it. ``load_search`` makes it; test for it with
    ``isinstance(search.task, nasbook.search.UnrebuiltTask)``.

    Parameters
    ----------
    config : dict
        The stored task configuration (``{"class": ..., "params": {...}}``): what ``to_config()`` returns.
    reason : NotRebuilt
        Why the task was not rebuilt (its stored class, and nasbook's message): what the reprs and the
        refusals say.
    name : str, optional
        The stored task name; default the stored class name.
    metric : str, optional
        The stored objective; default the configuration's ``metric``, else ``"value"``.
    mode : {"max", "min"}, optional
        The stored direction; default the configuration's ``mode``, else ``"max"``.
    has_epochs : bool, default False
        Whether the stored task trained for epochs (a stored budget in epochs still loads).

    Attributes
    ----------
    stored_class : str
        The name of the stored task class.
    """

    def __init__(self, config: dict[str, Any], reason: NotRebuilt, *, name: str | None = None, metric: Any = None,
                 mode: Any = None, has_epochs: bool = False):
        params = config.get("params")
        self._stored = copy.deepcopy(config)
        self._params = dict(params) if isinstance(params, dict) else {}
        self._reason = reason
        self.stored_class = reason.cls
        self._name = name if isinstance(name, str) and name else reason.cls or "UnrebuiltTask"
        metric = metric if isinstance(metric, str) else config.get("metric")
        self.metric = metric if isinstance(metric, str) and metric else "value"
        mode = mode if mode in ("max", "min") else config.get("mode")
        self.mode = mode if mode in ("max", "min") else "max"
        self.has_epochs = bool(has_epochs)  # a stored budget in epochs still loads

    @property
    def name(self) -> str:
        return self._name

    def get_params(self) -> dict[str, Any]:
        return copy.deepcopy(self._params)

    def to_config(self) -> dict[str, Any]:
        return copy.deepcopy(self._stored)

    def __repr__(self) -> str:
        stored = self.stored_class + self._format_repr(self._params)[len(type(self).__name__):]  # as the original's repr
        return f"UnrebuiltTask(stored {stored}: {self._reason.why})"

    def _refuse(self) -> SearchNotResumableError:
        return SearchNotResumableError(f"the task {self.stored_class} was not rebuilt from storage ({self._reason.why}): "
                                       "it cannot evaluate. Load the search again with task=... to resume it.")

    def evaluate(self, arch: Any, *, space: Any = None, fidelity: Any = None, report: Any = None) -> Any:
        raise self._refuse()

    def check(self) -> None:
        raise self._refuse()


class ReadOnly:
    """Mixin of :class:`~nasbook.search.Search`: whether it can be resumed, and the refusal when not."""

    #: set by ``load_search`` when the stored strategy was not rebuilt; None: resumable
    _not_rebuilt: NotRebuilt | None = None

    @property
    def resumable(self) -> bool:
        """False for a search loaded read-only: its stored strategy could not be rebuilt in this process.

        Such a search reads as any other (trials, ``best``, ``to_dataframe``, ``to_xarray``, plots,
        reprs); ``run``, ``start`` and ``extend`` raise :class:`SearchNotResumableError`, saying why
        and how to resume it (``load_search(name, storage, strategy=...)``, or register the class first).
        """
        return self._not_rebuilt is None

    def _read_only_note(self) -> str:
        """For the one-line repr: ``"; read-only: <why>; <fix>"``, or "" for a resumable search."""
        reason = self._not_rebuilt
        if reason is None:
            return ""
        s = cast("Search", self)
        return f"; read-only: {reason.why}; {reason.fix(s.name, s.storage.label)}"

    def _check_resumable(self, what: str) -> None:
        """Raise :class:`SearchNotResumableError` for ``what`` (``"run()"``...) on a read-only search."""
        reason = self._not_rebuilt
        if reason is not None:
            s = cast("Search", self)
            raise refusal(reason, what, s.name, s.storage.label)


def refusal(reason: NotRebuilt, what: str, name: str, label: str) -> SearchNotResumableError:
    """The error of ``what`` on a search loaded read-only: why, that nothing was changed, how to resume."""
    fix = reason.fix(name, label)
    detail = f" Why nasbook could not rebuild it: {reason.detail}" if reason.found else ""
    return SearchNotResumableError(f"{what}: search {name!r} is read-only: {reason.why}, so it cannot {reason.does}; "
                                   f"nothing was run or stored. {fix[0].upper()}{fix[1:]}.{detail}")


def view_text(search: Any) -> str:
    """The "read-only" row of the notebook views: why (nasbook's message for a built-in), and how to resume
    it; "" for a resumable search."""
    reason = getattr(search, "_not_rebuilt", None)
    if not isinstance(reason, NotRebuilt):
        return ""
    detail = f" ({reason.detail})" if reason.found else ""
    return f"{reason.why}{detail}; {reason.fix(search.name, search.storage.label)}"
