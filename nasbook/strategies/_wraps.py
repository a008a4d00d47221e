"""The base of the strategies that wrap another: :class:`WrapsBase` (the multi-fidelity schedulers
and early stopping draw their architectures from a ``base`` strategy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.space import Architecture
from nasbook.strategies._base import BaseStrategy, clone, validate_nested
from nasbook.trial import Proposal

__all__ = ["WrapsBase"]


def refuse_base_class(owner: BaseStrategy, base: Any) -> None:
    """Refuse a strategy class as ``base`` when the wrapper is made (``ASHA(base=RandomSearch)``), as
    ``Search(strategy=RandomSearch)`` is refused: pass ``RandomSearch(...)`` or its name."""
    from nasbook.strategies._registry import refuse_class

    refuse_class(f"{type(owner).__name__}(base=...)", base)


class WrapsBase(BaseStrategy):
    """A strategy that draws its architectures from another one, ``base`` (a name, an instance, or
    the configuration a stored search kept): the multi-fidelity schedulers and early stopping."""

    base: Any

    def _check_base(self) -> None:
        """Refuse a scheduler or another wrapper as ``base`` (called by ``_validate_params``)."""
        from nasbook.strategies._registry import named_strategy, refuse_class

        base = self.base
        refuse_class(f"{type(self).__name__}(base=...)", base)  # as Search(strategy=RandomSearch) is refused
        if not isinstance(base, (str, BaseStrategy, dict)):  # a dict: rebuilt from a stored configuration
            raise InvalidParameterTypeError(
                f"{type(self).__name__}(base=...) must be a strategy name such as 'random' or a BaseStrategy "
                f"instance; got {base!r:.60} of type {type(base).__name__}."
            )
        param = f"{type(self).__name__}(base=...)"
        cls = (type(base) if isinstance(base, BaseStrategy) else named_strategy(param, base, proposing=True)
               if isinstance(base, str) else None)
        if cls is not None and issubclass(cls, WrapsBase):
            raise InvalidParameterError(
                f"{type(self).__name__}(base=...) must be a proposing strategy, not a multi-fidelity scheduler "
                f"or another wrapper; got {self.base!r}."
            )
        if isinstance(base, BaseStrategy):
            validate_nested(param, base)

    def to_config(self) -> dict[str, Any]:
        cfg = super().to_config()
        base = self.base
        cfg["params"]["base"] = base.to_config() if isinstance(base, BaseStrategy) else base
        return cfg

    def on_start(self, number: int, proposal: Proposal) -> None:
        base = getattr(self, "base_", None)
        if isinstance(base, BaseStrategy):
            base.on_start(number, proposal)

    def trial_attrs(self, number: int) -> dict[str, Any]:
        base = getattr(self, "base_", None)
        return base.trial_attrs(number) if isinstance(base, BaseStrategy) else {}

    def enqueue(self, archs: Sequence[Architecture]) -> BaseStrategy:
        """Pass ``archs`` to the wrapped strategy (see :meth:`BaseStrategy.enqueue`)."""
        base = getattr(self, "base_", None)
        if base is None:  # not set up yet: served first by this wrapper's own queue
            return super().enqueue(archs)
        base.enqueue(archs)
        return self

    def _setup_base(self) -> BaseStrategy:
        """A fresh ``base``, set up on this space with a seed drawn from this strategy's generator."""
        from nasbook.strategies._registry import get_strategy, strategy_class

        base = self.base
        if isinstance(base, dict):  # rebuilt from a stored configuration
            base = strategy_class(base.get("alias") or base["class"]).from_stored(base.get("params", {}))
        built = clone(base) if isinstance(base, BaseStrategy) else get_strategy(base)
        built.setup(self.space_, seed=int(self.rng_.integers(2**31)), mode=self.mode_, metric=self.metric_)
        return built
