"""The search-space protocol and the immutable :class:`Architecture`."""

from __future__ import annotations

import abc
import hashlib
import inspect
import json
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from nasbook._errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    InvalidParameterTypeError,
    NotBuildableError,
    check_int,
    unknown_choice,
)
from nasbook._params import Params  # also checks constructor keywords: CellSpace(n_node=5) suggests 'n_nodes'

if TYPE_CHECKING:
    import torch

    from nasbook.display import Diagram, View

EncodingKind = Literal["adjacency", "path"]
ENCODINGS: tuple[str, ...] = ("adjacency", "path")


def _freeze(value: Any) -> Any:
    """Turn lists/dicts into tuples so that a spec is hashable and immutable."""
    if isinstance(value, Mapping):
        return tuple((str(k), _freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def stable_hash(payload: Any, n: int = 12) -> str:
    """A short hex digest of the canonical JSON of ``payload``: stable across runs and machines."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()[:n]


class Architecture:
    """One point of a search space: immutable, hashable, with a stable id.

    Architectures are made by a space (``space.sample(rng)``, ``space.make(...)``), which
    puts them in canonical form first, so two isomorphic cells are one ``Architecture`` with
    one ``id``. Equality and hashing use ``(space_id, id)``.

    Parameters
    ----------
    space_id : str
        Identity of the space (its class and configuration) the architecture belongs to.
    id : str
        Stable id, unique inside the space.
    spec : mapping
        The canonical description (JSON-serializable), e.g. ``{"link": [...], "ops": [...]}``.
    """

    __slots__ = ("_spec", "id", "space_id", "_hash", "_json")
    id: str
    space_id: str
    _spec: tuple[tuple[str, Any], ...]
    _hash: int
    _json: str | None

    def __init__(self, space_id: str, id: str, spec: Mapping[str, Any]):
        object.__setattr__(self, "space_id", str(space_id))
        object.__setattr__(self, "id", str(id))
        object.__setattr__(self, "_spec", tuple((str(k), _freeze(v)) for k, v in spec.items()))
        object.__setattr__(self, "_hash", hash((self.space_id, self.id)))
        object.__setattr__(self, "_json", None)

    @classmethod
    def _trusted(cls, space_id: str, id: str, frozen_spec: tuple[tuple[str, Any], ...]) -> Architecture:
        """Fast constructor for spaces: ``frozen_spec`` is already canonical and frozen."""
        self = object.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(self, "space_id", space_id)
        setattr_(self, "id", id)
        setattr_(self, "_spec", frozen_spec)
        setattr_(self, "_hash", hash((space_id, id)))
        setattr_(self, "_json", None)
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Architecture is immutable; make a new one with space.make(...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Architecture is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Architecture, (self.space_id, self.id, self.to_dict()))

    @property
    def spec(self) -> dict[str, Any]:
        """The canonical description as a fresh dict of lists (safe to modify)."""
        return {k: _thaw(v) for k, v in self._spec}

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form; ``space.from_dict(arch.to_dict())`` gives it back."""
        return self.spec

    def to_json(self) -> str:
        """Compact JSON of :meth:`to_dict` (computed once)."""
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
        """The notebook view: ids, a drawing by ``space`` (default: its space, if in memory), the spec."""
        from nasbook.space._views import architecture_view

        return architecture_view(self, space)


class SearchSpace(Params, abc.ABC):
    """A set of architectures that strategies search over.

    Subclasses implement the abstract methods; everything that takes a random generator takes a
    ``numpy.random.Generator`` so that one seed drives a whole search.

    Methods are called:

    - ``sample(rng)`` when a strategy needs a fresh architecture (uniform over *architectures*,
      i.e. over canonical forms, not over raw encodings);
    - ``mutate(arch, rng)`` for a random neighbour (always a different architecture);
    - ``neighbours(arch)`` for every architecture one edit away (local search);
    - ``encode(arch, kind)`` for a fixed-length float vector (predictors, embeddings);
    - ``validate(arch)`` before anything is evaluated or stored.
    """

    #: short name used in ids and reprs
    name: ClassVar[str] = "space"

    def __new__(cls, *args: Any, **kwargs: Any) -> SearchSpace:
        self = super().__new__(cls)
        _LIVE_SPACES[id(self)] = self  # so an architecture's repr finds its space (see live_space)
        return self

    # -- identity (get_params, repr and clone come from Params) ---------------------------------
    @property
    def space_id(self) -> str:
        """Identity of this space and its configuration: ``name`` plus a hash of its params."""
        cached = self.__dict__.get("_space_id")
        if cached is None:
            params = {k: _thaw(_freeze(v)) for k, v in self._identity_params().items()}
            cached = f"{self.name}-{stable_hash(params, 8)}"
            self.__dict__["_space_id"] = cached
        return cached

    def _identity_params(self) -> dict[str, Any]:
        """What makes two spaces the same (defaults resolved); ``space_id`` hashes it."""
        return self.get_params()

    def to_config(self) -> dict[str, Any]:
        """JSON description of the space, stored with every search."""
        return {"class": type(self).__name__, "params": {k: _thaw(_freeze(v)) for k, v in self.get_params().items()}}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SearchSpace:
        """The space that :meth:`to_config` described: ``space.from_config(space.to_config()) == space``.

        Called on :class:`SearchSpace` itself, ``config["class"]`` names a built-in space of
        :mod:`nasbook.space`; called on a subclass, it must name that subclass.
        """
        name = config.get("class") if isinstance(config, Mapping) else None
        params = config.get("params", {}) if isinstance(config, Mapping) else None
        if not isinstance(name, str) or not isinstance(params, Mapping):
            raise InvalidParameterError(
                f"{cls.__name__}.from_config(config=...) takes what space.to_config() returns, "
                f"{{'class': ..., 'params': {{...}}}}; got {config!r}."
            )
        if cls is SearchSpace:
            from nasbook import space as builtin

            found = getattr(builtin, name, None)
            if not (isinstance(found, type) and issubclass(found, SearchSpace)) or found is SearchSpace:
                raise InvalidParameterError(
                    f"SearchSpace.from_config(config=...): {name!r} is not a built-in space of nasbook.space; "
                    f"rebuild it with YourSpace.from_config(config)."
                )
            return found.from_config(config)
        if name != cls.__name__:
            raise InvalidParameterError(
                f"{cls.__name__}.from_config(config=...) got the config of a {name!r}; use {name}.from_config "
                "or SearchSpace.from_config for built-in spaces."
            )
        try:
            inspect.signature(cls.__init__).bind(None, **params)
        except TypeError as exc:
            raise InvalidParameterError(
                f"{cls.__name__}.from_config(config=...): its params do not fit {cls.__name__}: {exc}."
            ) from None
        return cls._from_params(dict(params))

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> SearchSpace:
        """Build from the JSON params of :meth:`to_config`; spaces whose params nest other objects override it."""
        return cls(**params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.space_id == other.space_id

    def __hash__(self) -> int:
        return hash(self.space_id)


    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Notebook display: text/plain and text/html with the size, choices and an example drawn (see :mod:`nasbook.display`)."""
        from nasbook.display import repr_mimebundle

        return repr_mimebundle(self, include=include, exclude=exclude)

    def _view(self) -> View:
        """The notebook view: size, parameters, choices and an example drawn with :meth:`draw`."""
        from nasbook.space._views import space_view

        return space_view(self)

    # -- drawing -----------------------------------------------------------------------------
    def draw(self, arch: Architecture) -> Diagram | None:
        """A drawing of ``arch`` for notebook reprs, or None to show its spec as text (the default).

        Override it to draw the architectures of your own space: return a
        :class:`nasbook.display.Diagram`, nodes (:class:`~nasbook.display.DiagramNode`) in
        topological order and edges (:class:`~nasbook.display.DiagramEdge`) from an earlier node
        to a later one, optionally labelled with an op. ``nasbook.display`` lays it out as an
        inline SVG (HTML reprs) and as text (``text/plain``); every label is escaped. The reprs
        of an architecture, a trial and a search call it; an error it raises is shown in the
        repr instead of the drawing. Read only ``arch`` and this space's configuration: no I/O.

        Parameters
        ----------
        arch : Architecture
            An architecture of this space.

        Returns
        -------
        Diagram or None

        Examples
        --------
        >>> from nasbook.display import Diagram, DiagramEdge, DiagramNode
        >>> class Pipeline(SearchSpace):  # doctest: +SKIP
        ...     def draw(self, arch):
        ...         steps = [DiagramNode("input", "io"), *(DiagramNode(s) for s in arch["steps"]), DiagramNode("output", "io")]
        ...         return Diagram(tuple(steps), tuple(DiagramEdge(i, i + 1) for i in range(len(steps) - 1)))
        """
        return None

    # -- membership ------------------------------------------------------------------------
    @abc.abstractmethod
    def make(self, **spec: Any) -> Architecture:
        """Canonicalize and validate a description; raise InvalidArchitectureError if not a member."""

    def from_dict(self, data: Mapping[str, Any]) -> Architecture:
        """Rebuild an architecture from ``Architecture.to_dict()`` (re-validated)."""
        if not isinstance(data, Mapping):
            raise InvalidArchitectureError(
                f"{type(self).__name__}.from_dict() takes a mapping like arch.to_dict(); got {type(data).__name__}."
            )
        return self.make(**dict(data))

    def validate(self, arch: object) -> Architecture:
        """Return ``arch`` if it belongs to this space, else raise InvalidArchitectureError."""
        if not isinstance(arch, Architecture):
            raise InvalidArchitectureError(
                f"{type(self).__name__} expected an Architecture; got {arch!r} of type {type(arch).__name__}. "
                f"Make one with space.make(...) or space.sample(rng)."
            )
        if arch.space_id != self.space_id:
            raise InvalidArchitectureError(
                f"Architecture {arch.id!r} belongs to space {arch.space_id!r}, not to this "
                f"{type(self).__name__} ({self.space_id!r})."
            )
        return arch

    def __contains__(self, arch: object) -> bool:
        try:
            self.validate(arch)
        except InvalidArchitectureError:
            return False
        return True

    @property
    @abc.abstractmethod
    def cardinality(self) -> int:
        """Number of distinct (canonical) architectures."""

    # -- moves -------------------------------------------------------------------------------
    @abc.abstractmethod
    def sample(self, rng: np.random.Generator) -> Architecture:
        """A uniformly random architecture."""

    @abc.abstractmethod
    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every architecture one edit away from ``arch`` (without ``arch``), in a fixed order."""

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """A random neighbour of ``arch`` (never ``arch`` itself)."""
        check_rng(self, "mutate", rng)
        nbrs = self.neighbours(self.validate(arch))
        if not nbrs:
            raise InvalidArchitectureError(f"Architecture {arch.id!r} has no neighbours in {self!r}.")
        return nbrs[int(rng.integers(len(nbrs)))]

    # -- encodings ---------------------------------------------------------------------------
    def encoding_size(self, kind: str = "adjacency") -> int:
        """Length of ``encode(arch, kind)``."""
        self._check_encoding(kind)
        return int(self._encoding_size(kind))

    def encode(self, arch: Architecture, kind: str = "adjacency") -> np.ndarray:
        """A fixed-length float32 vector: ``"adjacency"`` (one-hot adjacency + ops) or ``"path"``."""
        self._check_encoding(kind)
        return self._encode(self.validate(arch), kind)

    def encode_many(self, archs: Sequence[Architecture], kind: str = "adjacency") -> np.ndarray:
        """Stack ``encode`` over ``archs`` into a (n, encoding_size) array."""
        size = self.encoding_size(kind)
        out = np.zeros((len(archs), size), dtype=np.float32)
        for i, a in enumerate(archs):
            out[i] = self.encode(a, kind)
        return out

    def _check_encoding(self, kind: str) -> None:
        if kind not in ENCODINGS:
            raise unknown_choice("encoding", kind, ENCODINGS)

    @abc.abstractmethod
    def _encode(self, arch: Architecture, kind: str) -> np.ndarray: ...

    @abc.abstractmethod
    def _encoding_size(self, kind: str) -> int: ...

    # -- building ------------------------------------------------------------------------------
    def build(self, arch: Architecture, input_shape: Sequence[int], n_classes: int) -> torch.nn.Module:
        """A ``torch.nn.Module`` for ``arch``. Tabular spaces have nothing to build."""
        raise NotBuildableError(
            f"{type(self).__name__} is a tabular benchmark space: its architectures are looked up, "
            "not built. Use CellSpace or ChainSpace to train networks."
        )

    # -- named parameters (Optuna-style samplers; nasbook/space/_parameters.py) -------------------
    def suggest(self, choose: Callable[[str, tuple[Any, ...]], Any]) -> Architecture:
        """The architecture made of the values ``choose(name, choices)`` returns, asked parameter by
        parameter in a fixed order (define-by-run: later parameters may depend on earlier values).

        For Optuna: ``space.suggest(lambda name, choices: trial.suggest_categorical(name, choices))``.
        Choices are str, int, float, bool or None. Raises InvalidArchitectureError when the values make
        no member of the space (count it as a failed proposal and ask again). Third-party spaces
        override it together with :meth:`parameters_of`.
        """
        from nasbook.space._parameters import suggest

        return suggest(self, choose)

    def parameters_of(self, arch: Architecture) -> dict[str, tuple[tuple[Any, ...], Any]]:
        """``{name: (choices, value)}``: the parameters :meth:`suggest` asks for, with the values that
        give ``arch`` (to tell a sampler about an architecture it did not propose)."""
        from nasbook.space._parameters import parameters_of

        return parameters_of(self, arch)


#: Widest layer (channels or units) a built-in space accepts: a 3x3 convolution this wide already
#: holds 38 billion weights, so anything larger is a typo (a missing comma, an extra zero).
MAX_WIDTH = 2**16


def check_int_range(owner: str, param: str, value: object, minimum: int, maximum: int, why: str = "") -> int:
    """Check that ``value`` is an int in ``[minimum, maximum]``; ``why`` explains the upper bound."""
    check_int(owner, param, value, minimum=minimum)
    if value > maximum:  # type: ignore[operator]
        raise InvalidParameterError(
            f"{owner}({param}=...) must be an int from {minimum} to {maximum}; got {value!r}." + (f" {why}" if why else "")
        )
    return int(value)  # type: ignore[call-overload]


#: every SearchSpace in memory, weakly (an Architecture only knows its space's id)
_LIVE_SPACES: weakref.WeakValueDictionary[int, SearchSpace] = weakref.WeakValueDictionary()


def live_space(space_id: str) -> SearchSpace | None:
    """A space in memory whose ``space_id`` is ``space_id``, or None (spaces are held weakly)."""
    for space in list(_LIVE_SPACES.values()):
        try:
            if space.space_id == space_id:
                return space
        except Exception:  # a half-built space (its __init__ raised) has no id
            continue
    return None


def check_choice_list(owner: str, param: str, values: object, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
    """Validate a non-empty list of distinct op names (optionally from ``allowed``)."""
    listed = f" Allowed: {', '.join(repr(a) for a in allowed)}." if allowed is not None else ""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidParameterTypeError(
            f"{owner}({param}=...) must be a non-empty list of names; got {values!r} of type {type(values).__name__}.{listed}"
        )
    if not values:
        raise InvalidParameterError(f"{owner}({param}=...) must be a non-empty list of names; got {values!r}.{listed}")
    out = tuple(values)
    for v in out:
        if not isinstance(v, str):
            raise InvalidParameterTypeError(
                f"{owner}({param}=...) must hold strings; got {v!r} of type {type(v).__name__} in {list(out)!r}.{listed}"
            )
        if allowed is not None and v not in allowed:
            raise unknown_choice(f"op in {owner}({param}=...)", v, allowed)
    if len(set(out)) != len(out):
        dups = sorted({v for v in out if out.count(v) > 1})
        raise InvalidParameterError(f"{owner}({param}=...) must not repeat names; got {list(out)!r} ({dups!r} repeated).")
    return out


def check_rng(space: object, method: str, rng: object) -> None:
    """Refuse anything but a numpy Generator (an int seed or None would fail deep inside numpy).
    On the hot path of every sample: the message is built only when it is needed."""
    if type(rng) is not np.random.Generator and not isinstance(rng, np.random.Generator):
        raise InvalidParameterTypeError(
            f"{type(space).__name__}.{method}(rng=...) must be a numpy.random.Generator, e.g. np.random.default_rng(0); "
            f"got {rng!r:.60} of type {type(rng).__name__}."
        )


def randbelow(rng: np.random.Generator, n: int) -> int:
    """A uniform int in ``[0, n)`` for any Python int ``n`` (numpy stops at 2**63)."""
    if n <= 2**62:
        return int(rng.integers(n))
    bits = n.bit_length()
    chunks = math.ceil(bits / 62)
    while True:
        x = 0
        for _ in range(chunks):
            x = (x << 62) | int(rng.integers(2**62))
        x >>= 62 * chunks - bits
        if x < n:
            return x
