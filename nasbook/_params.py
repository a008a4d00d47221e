"""``get_params``, ``repr`` and ``clone`` written once, for every configurable object.

Strategies, tasks and search spaces are configured in ``__init__`` (scikit-learn style): their
constructor arguments are stored under the same names, so ``get_params()`` can read them back from
the signature, ``repr`` can show them, and ``clone()`` can build a fresh, unfitted copy.
"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from nasbook._errors import InvalidParameterTypeError, checked_signature, plain_number

_T = TypeVar("_T", bound="Params")


class Params:
    """Mixin: constructor arguments as parameters (``get_params``, ``__repr__``, ``clone``)."""

    #: longest repr of one parameter value in ``repr(obj)`` (a list of 300 specs would fill a screen)
    _repr_max_value: int = 80

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_init(cls)

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, read from the ``__init__`` signature (scikit-learn style).

        Returns
        -------
        dict
            ``{parameter: value}`` for every named ``__init__`` parameter the object stores under
            that name; they feed ``repr``, the HTML repr, :meth:`clone` and stored configurations.
        """
        sig = inspect.signature(type(self).__init__)
        return {
            name: plain_number(getattr(self, name))
            for name, p in sig.parameters.items()
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and hasattr(self, name)
        }

    def _repr_params(self) -> dict[str, Any]:
        """What ``repr`` shows: the parameters (subclasses may add effective values)."""
        return self.get_params()

    def __repr__(self) -> str:
        return self._format_repr(self._repr_params())

    def _repr_with(self, **effective: Any) -> str:
        """``repr`` showing each parameter of ``effective`` that is None as the value given, the one that
        will be in effect: a search not yet run shows ``strategy._repr_with(seed=search.seed)``, the seed
        its ``run()`` gives an unseeded strategy (``setup``), not ``seed=None``."""
        params = self._repr_params()
        params.update({k: v for k, v in effective.items() if k in params and params[k] is None})
        return self._format_repr(params)

    def _format_repr(self, params: dict[str, Any]) -> str:
        """``Class(k=v, ...)`` of ``params`` (each value's repr cut at ``_repr_max_value``)."""
        parts = []
        for k, v in params.items():
            text = repr(v)
            if "\n" in text:  # a DataFrame or an array: its shape, not a table inside the constructor call
                shape = getattr(v, "shape", None)
                text = f"<{type(v).__name__} of shape {tuple(shape)}>" if shape is not None else " ".join(text.split())
            if len(text) > self._repr_max_value:
                text = text[: self._repr_max_value - 3] + "..."
            parts.append(f"{k}={text}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def clone(self: _T) -> _T:
        """A fresh copy with the same constructor arguments and no learned state.

        Nested :class:`Params` arguments, e.g. a wrapped strategy, are cloned too.

        Returns
        -------
        Params
            A new instance of the same class.
        """
        params = {k: v.clone() if isinstance(v, Params) else v for k, v in self.get_params().items()}
        return type(self)(**params)


def wrap_init(cls: type) -> None:
    """Make ``cls(misspelt=...)`` an InvalidParameterTypeError with a suggestion (see ``checked_signature``)."""
    init = cls.__dict__.get("__init__")
    if init is not None and not hasattr(init, "__wrapped__"):
        cls.__init__ = checked_signature(init)  # type: ignore[misc]


def check_base_init(obj: Any, base: type) -> None:
    """Raise when ``type(obj).__init__`` skipped ``base.__init__``: its parameters are then unset, and the
    first method to read one failed with a bare AttributeError naming an attribute the user never wrote."""
    names = [n for n, p in inspect.signature(base.__dict__["__init__"]).parameters.items()
             if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    missing = [n for n in names if not hasattr(obj, n)]
    if missing:
        raise InvalidParameterTypeError(
            f"{type(obj).__name__}.__init__ did not call super().__init__(...): {base.__name__}'s parameters {missing} are "
            f"unset. Take them as arguments and pass them on: super().__init__({', '.join(f'{n}={n}' for n in names)}).")
