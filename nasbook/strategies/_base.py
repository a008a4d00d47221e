"""The strategy plug-in point: :class:`BaseStrategy` with ``ask`` and ``tell``."""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, SpaceExhausted, check_int

if TYPE_CHECKING:
    from nasbook.trial import Trial
    from nasbook.space import SearchSpace

from nasbook.space import Architecture
from nasbook.trial import Decision


@dataclass(frozen=True)
class Proposal:
    """What a strategy may return from ``ask`` instead of a bare architecture.

    Attributes
    ----------
    arch : Architecture
    epochs : int or None
        Train to this many epochs in all (multi-fidelity); None: the task's default.
    parent : int or None
        Number of an earlier trial of the same architecture to continue from (its
        checkpoint), so a promotion trains only the extra epochs.
    """

    arch: Architecture
    epochs: int | None = None
    parent: int | None = None


class BaseStrategy(abc.ABC):
    """Proposes architectures (``ask``) and learns from finished trials (``tell``).

    Lifecycle, driven by :class:`~nasbook.Search`:

    1. ``setup(space, seed=..., mode=...)`` once, before anything else (and again on resume, on
       a fresh instance, followed by a replay of the stored history);
    2. ``ask()`` whenever the search has room for another trial;
    3. ``tell(trial)`` once per finished trial, in completion order, *after* the trial is
       committed to storage. ``trial.value`` is None for failed trials; ``trial.attrs`` (test
       scores and other held-out numbers) is always empty here.

    Subclasses implement ``_ask`` and may override ``_setup`` and ``_tell``. The base class keeps
    ``seen_`` (ids proposed or told) so that strategies never propose an architecture twice
    unless ``allow_duplicates=True``.

    Class attributes
    ----------------
    tell_order_independent : bool
        True when the proposals after a batch of tells do not depend on the order of those tells.
    continues_trials : bool
        True when proposals may continue a finished trial (``Proposal(parent=...)``): the search
        then keeps each trial's checkpoint in memory; otherwise it drops them at once.
    """

    tell_order_independent: ClassVar[bool] = False
    continues_trials: ClassVar[bool] = False
    #: name under which the strategy is registered ("random", "evolution", ...)
    alias: ClassVar[str] = ""

    def __init__(self, seed: int | None = None, allow_duplicates: bool = False):
        self.seed = seed
        self.allow_duplicates = allow_duplicates

    # -- configuration ------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, read from the ``__init__`` signature."""
        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self" and hasattr(self, p)}

    def to_config(self) -> dict[str, Any]:
        return {"class": type(self).__name__, "alias": self.alias, "params": self.get_params()}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def _validate_params(self) -> None:
        """Check constructor arguments (called by ``setup``); raise InvalidParameterError."""
        check_int(type(self).__name__, "seed", self.seed, minimum=0, allow_none=True)

    # -- lifecycle ------------------------------------------------------------------------------
    def setup(self, space: SearchSpace, *, seed: int | None = None, mode: str = "max",
              metric: str | None = None) -> BaseStrategy:
        """Bind to a space and reset all learned state. Returns self.

        ``metric`` is the task's objective (the key of ``report``'s metrics and of
        ``trial.curves``), for strategies that watch running trials (:meth:`on_report`).
        """
        self._validate_params()
        self.space_ = space
        self.mode_ = mode
        self.metric_ = metric
        self.rng_ = np.random.default_rng(self.seed if self.seed is not None else seed)
        self.seen_: set[str] = set()
        self.n_told_ = 0
        self._setup()
        return self

    def ask(self) -> Architecture | Proposal:
        """The next architecture to evaluate (or a :class:`Proposal` with a fidelity)."""
        arch = self._ask()
        self.seen_.add(arch.arch.id if isinstance(arch, Proposal) else arch.id)
        return arch

    def tell(self, trial: Trial) -> None:
        """Learn from one finished trial (committed already)."""
        self.seen_.add(trial.arch.id)
        self.n_told_ += 1
        self._tell(trial)

    def on_report(self, number: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        """A running trial's metrics after ``epoch`` (counted from 0); ``Decision.STOP`` prunes it.

        Called in the notebook process for every per-epoch report, whatever the executor; the
        trial then ends PRUNED with what it reached and is told like any other. Default: never
        stop. Decisions are not replayed on resume (the pruned trials are, as stored).
        """
        return Decision.CONTINUE

    def _setup(self) -> None:
        """Hook: reset subclass state after ``setup``."""

    @abc.abstractmethod
    def _ask(self) -> Architecture | Proposal:
        """Hook: propose one architecture."""

    def _tell(self, trial: Trial) -> None:
        """Hook: learn from a finished trial. Default: nothing."""

    # -- helpers for subclasses ------------------------------------------------------------------------
    def _score(self, trial: Trial) -> float:
        """Higher is better, whatever the task's mode; -inf for a trial without a value."""
        if trial.value is None or trial.value != trial.value:
            return float("-inf")
        return trial.value if self.mode_ == "max" else -trial.value

    def _is_new(self, arch: Architecture) -> bool:
        return self.allow_duplicates or arch.id not in self.seen_

    def _sample_new(self, propose: Callable[[], Architecture] | None = None, max_tries: int = 100) -> Architecture:
        """Draw from ``propose`` (default: uniform sampling) until an unseen architecture comes up.

        Falls back to uniform sampling, then raises SpaceExhausted when every architecture of
        the space has been seen.
        """
        space, rng = self.space_, self.rng_
        if propose is not None:
            for _ in range(max_tries):
                arch = propose()
                if self._is_new(arch):
                    return arch
        for _ in range(max_tries):  # cheap first: most draws are new
            arch = space.sample(rng)
            if self._is_new(arch):
                return arch
        if not self.allow_duplicates and len(self.seen_) >= space.cardinality:
            raise SpaceExhausted(f"all {space.cardinality} architectures of {space!r} have been proposed")
        while True:  # expected tries = cardinality / unseen: finite, since something is unseen
            arch = space.sample(rng)
            if self._is_new(arch):
                return arch


def clone(strategy: BaseStrategy) -> BaseStrategy:
    """A fresh, un-set-up copy with the same constructor arguments (nested strategies cloned too)."""
    params: dict[str, Any] = {k: clone(v) if isinstance(v, BaseStrategy) else v for k, v in strategy.get_params().items()}
    return type(strategy)(**params)


class WrapsBase(BaseStrategy):
    """A strategy that draws its architectures from another one, ``base`` (a name, an instance, or
    the configuration a stored search kept): the multi-fidelity schedulers and early stopping."""

    base: Any

    def _check_base(self) -> None:
        """Refuse a scheduler or another wrapper as ``base`` (called by ``_validate_params``)."""
        from nasbook.strategies._registry import strategy_class

        base = self.base
        cls = type(base) if isinstance(base, BaseStrategy) else strategy_class(base) if isinstance(base, str) else None
        if cls is not None and issubclass(cls, WrapsBase):
            raise InvalidParameterError(
                f"{type(self).__name__}(base=...) must be a proposing strategy, not a multi-fidelity scheduler "
                f"or another wrapper; got {self.base!r}."
            )

    def to_config(self) -> dict[str, Any]:
        cfg = super().to_config()
        base = self.base
        cfg["params"]["base"] = base.to_config() if isinstance(base, BaseStrategy) else base
        return cfg

    def _setup_base(self) -> BaseStrategy:
        """A fresh ``base``, set up on this space with a seed drawn from this strategy's generator."""
        from nasbook.strategies._registry import get_strategy, strategy_class

        base = self.base
        if isinstance(base, dict):  # rebuilt from a stored configuration
            base = strategy_class(base.get("alias") or base["class"])(**base.get("params", {}))
        built = clone(base) if isinstance(base, BaseStrategy) else get_strategy(base)
        built.setup(self.space_, seed=int(self.rng_.integers(2**31)), mode=self.mode_, metric=self.metric_)
        return built

