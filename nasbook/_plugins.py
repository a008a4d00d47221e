"""Plug-ins registered under an entry-point group (``nasbook.strategies``, ``nasbook.predictors``).

One place for what both registries do with them: read the group with built-ins first (an entry point
that reuses a built-in's name, or another plug-in's name for another object, is ignored with a
warning that says so, rather than silently), and find a plug-in by the *class* name a stored search
recorded (``to_config()`` stores ``type(obj).__name__``; the entry point's name may differ).
"""

from __future__ import annotations

import warnings
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from nasbook._errors import NasbookWarning


def registered(group: str, builtin: dict[str, Any]) -> dict[str, Any]:
    """``builtin`` plus the group's entry points not loaded yet (by name); clashes warn."""
    found: dict[str, Any] = dict(builtin)
    for ep in entry_points(group=group):
        known = found.get(ep.name)
        if known is None:
            found[ep.name] = ep
            continue
        if isinstance(known, EntryPoint) and known.value == ep.value:
            continue  # one distribution seen twice on the path
        what = f"the built-in {known.__name__}" if ep.name in builtin else f"entry point {known.value!r}"
        warnings.warn(
            f"entry point {ep.name!r} = {ep.value!r} of group {group!r} is ignored: {ep.name!r} is already "
            f"{what}. Register the plug-in under another name.", NasbookWarning, stacklevel=3)
    return found


def by_class_name(group: str, name: str) -> Any:
    """The group's entry point whose object is named ``name`` (``module:Class`` ends in it), loaded; or None."""
    for ep in entry_points(group=group):
        if ep.attr is not None and ep.attr.rsplit(".", 1)[-1] == name:
            return ep.load()
    return None
