"""The immutable :class:`Architecture`: one point of a search space (made by a :class:`SearchSpace`)."""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nasbook._errors import InvalidParameterError
from nasbook.space._helpers import _freeze, _thaw

if TYPE_CHECKING:
    from nasbook.display import View
    from nasbook.space._base import SearchSpace

#: ``space_id`` -> a weak reference to a space in memory with that id (:func:`register_space` fills it, the reference's
#: callback empties it): what an Architecture built from a bare ``space_id`` keeps (a space of your own makes
#: ``Architecture(self.space_id, ...)``); a plain dict, read inline by ``Architecture.__init__``
_SPACE_REFS: dict[str, weakref.ref[SearchSpace]] = {}


def register_space(space: SearchSpace, space_id: str) -> None:
    """Let architectures built from ``space_id`` alone keep ``space`` (the latest space with that id wins)."""

    def gone(ref: weakref.ref[SearchSpace], space_id: str = space_id, refs: dict[str, Any] = _SPACE_REFS) -> None:
        if refs.get(space_id) is ref:
            refs.pop(space_id, None)

    _SPACE_REFS[space_id] = weakref.ref(space, gone)


def space_with_id(space_id: str) -> SearchSpace | None:
    """The space :func:`register_space` holds under ``space_id`` if it is still in memory, else None."""
    ref = _SPACE_REFS.get(space_id)
    return ref() if ref is not None else None


class Architecture:
    """One point of a search space: immutable, hashable, with a stable id.

    Architectures are made by a space (``space.sample(rng)``, ``space.make(...)``), which
    puts them in canonical form first, so two isomorphic cells are one ``Architecture`` with
    one ``id``. Equality and hashing use ``(space_id, id)``.

    An architecture keeps the space that made it, so that predictors, the knowledge base and its
    notebook drawing find that space while the architecture lives (``archs = task.space.sample(...)``
    drops the task and its space, not the space of ``archs``). That reference is no part of its
    identity: equality, hashing, pickling (a worker gets the spec alone) and the stored form leave it
    out; an architecture rebuilt from them keeps an equal space in memory, if there is one.

    Parameters
    ----------
    space_id : str
        Identity of the space (its class and configuration) the architecture belongs to.
    id : str
        Stable id, unique inside the space.
    spec : mapping
        The canonical description (JSON-serializable), e.g. ``{"link": [...], "ops": [...]}``.
    space : SearchSpace, optional
        The space that makes it (its ``space_id`` must be ``space_id``), kept as described above;
        None: the space in memory whose ``space_id`` is ``space_id``, if any.
    """

    __slots__ = ("_spec", "id", "space_id", "_hash", "_json", "_space")
    id: str
    space_id: str
    _spec: tuple[tuple[str, Any], ...]
    _hash: int
    _json: str | None
    _space: SearchSpace | None

    def __init__(self, space_id: str, id: str, spec: Mapping[str, Any], *, space: SearchSpace | None = None):
        object.__setattr__(self, "space_id", str(space_id))
        object.__setattr__(self, "id", str(id))
        object.__setattr__(self, "_spec", tuple((str(k), _freeze(v)) for k, v in spec.items()))
        object.__setattr__(self, "_hash", hash((self.space_id, self.id)))
        object.__setattr__(self, "_json", None)
        if space is None:
            ref = _SPACE_REFS.get(self.space_id)
            space = ref() if ref is not None else None
        elif getattr(space, "space_id", None) != self.space_id:
            raise InvalidParameterError(
                f"Architecture(space=...) must be the space whose space_id is {self.space_id!r} (the space making it); "
                f"got {space!r:.80} with space_id {getattr(space, 'space_id', None)!r}.")
        object.__setattr__(self, "_space", space)

    @classmethod
    def _trusted(cls, space_id: str, id: str, frozen_spec: tuple[tuple[str, Any], ...],
                 space: SearchSpace | None) -> Architecture:
        """Fast constructor for spaces: ``frozen_spec`` is already canonical and frozen, ``space`` (whose
        ``space_id`` is ``space_id``) is the space making it."""
        self = object.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(self, "space_id", space_id)
        setattr_(self, "id", id)
        setattr_(self, "_spec", frozen_spec)
        setattr_(self, "_hash", hash((space_id, id)))
        setattr_(self, "_json", None)
        setattr_(self, "_space", space)
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Architecture is immutable; make a new one with space.make(...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Architecture is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        # the spec alone: a pickled architecture (a trial sent to a dask worker) never drags its space along
        return (Architecture, (self.space_id, self.id, self.to_dict()))

    def __copy__(self) -> Architecture:
        return self  # immutable: a copy is itself, and keeps its space

    def __deepcopy__(self, memo: dict[int, Any]) -> Architecture:
        return self

    @property
    def spec(self) -> dict[str, Any]:
        """The canonical description as a fresh dict of lists (safe to modify)."""
        return {k: _thaw(v) for k, v in self._spec}

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form; ``space.from_dict(arch.to_dict())`` gives it back.

        Returns
        -------
        dict
            The canonical spec as a fresh dict of lists, str, numbers and None (the same as
            :attr:`spec`): the keyword arguments of its space's ``make``.
        """
        return self.spec

    def to_json(self) -> str:
        """Compact JSON of :meth:`to_dict` (computed once).

        Returns
        -------
        str
            ``json.dumps(arch.to_dict())`` without spaces, keys in spec order; the same string on
            every call.
        """
        if self._json is None:
            object.__setattr__(self, "_json", json.dumps(self.to_dict(), separators=(",", ":")))
        return self._json  # type: ignore[return-value]

    def __getitem__(self, key: str) -> Any:
        for k, v in self._spec:
            if k == key:
                return _thaw(v)
        raise KeyError(key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Architecture):
            return NotImplemented
        return self.id == other.id and self.space_id == other.space_id

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={_thaw(v)!r}" for k, v in self._spec)
        return f"Architecture({self.id!r}: {body})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Notebook display: text/plain and text/html with a drawing by its space (see :meth:`SearchSpace.draw`)."""
        from nasbook.display import repr_mimebundle

        return repr_mimebundle(self, include=include, exclude=exclude)

    def _view(self, space: SearchSpace | None = None) -> View:
        """The notebook view: ids, a drawing by ``space`` (default: the space it keeps, else one with its id), the spec."""
        from nasbook.space._views import architecture_view

        return architecture_view(self, space)
