"""One promise every configurable plug-in keeps (scikit-learn's estimator convention): each
constructor argument is kept as an attribute of the same name, unchanged."""

from __future__ import annotations

import inspect
from typing import Any


def assert_constructor_arguments_kept(obj: Any) -> None:
    """Fail when an ``__init__`` argument of ``obj`` is not an attribute of that name.

    ``get_params()`` reads the arguments back from the signature, so one kept as ``self._p`` (or
    not at all) is missing from ``repr``, ``clone()`` and the configuration stored with a search:
    a clone (the contracts, ASHA's base, a Portfolio's arms) or a resumed search silently runs with
    the default instead.
    """
    name = type(obj).__name__
    sig = inspect.signature(type(obj).__init__)
    args = [n for n, p in sig.parameters.items() if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    params = obj.get_params()
    missing = [n for n in args if n not in params]
    assert not missing, (
        f"{name}.__init__ takes {missing} but keeps no attribute of that name: get_params(), repr, clone() and the "
        f"stored configuration leave it out, so a clone or a resumed search runs with its default. Keep each "
        f"argument as self.<name> = <name> (validate it later, e.g. in setup or fit)."
    )
    assert repr(obj.clone()) == repr(obj), f"{name}.clone() is {obj.clone()!r}, not {obj!r}"
