"""The search-space protocol and the immutable :class:`Architecture`."""

from __future__ import annotations

import abc
import hashlib
import inspect
import json
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from nasbook._errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    NasbookError,
    NotBuildableError,
    check_int,
    unknown_choice,
)
from nasbook._params import Params  # also checks constructor keywords: CellSpace(n_node=5) suggests 'n_nodes'
from nasbook.space._helpers import MAX_WIDTH as MAX_WIDTH
from nasbook.space._helpers import check_choice_list as check_choice_list
from nasbook.space._helpers import check_int_range as check_int_range
from nasbook.space._helpers import check_rng as check_rng
from nasbook.space._helpers import enumerate_by_walking
from nasbook.space._helpers import randbelow as randbelow

if TYPE_CHECKING:
    import torch

    from nasbook.display import Diagram, View

EncodingKind = Literal["adjacency", "path", "graf"]
#: the encodings every space supports by default (a space lists its own in ``space.encodings``)
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

    def __getstate__(self) -> dict[str, Any]:
        # cached encodings are recomputed on demand: a pickled space (sent to every worker) stays small
        return {k: v for k, v in self.__dict__.items() if k != "_encoding_cache"}

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
            The drawing; None shows the spec as text.

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
    #: the encoding kinds of this space and their layout versions: bump a kind's number whenever its
    #: columns change meaning, so that :meth:`encoding_version` tells a stored model it is stale
    ENCODING_VERSIONS: ClassVar[Mapping[str, int]] = {"adjacency": 1, "path": 1}

    @property
    def encodings(self) -> tuple[str, ...]:
        """The kinds :meth:`encode` accepts on this space, e.g. ``("adjacency", "path", "graf")``."""
        return tuple(self.ENCODING_VERSIONS)

    def encoding_size(self, kind: str = "adjacency") -> int:
        """Length of ``encode(arch, kind)``."""
        self._check_encoding(kind, "encoding_size")
        return int(self._encoding_size(kind))

    def encode(self, arch: Architecture, kind: str = "adjacency") -> np.ndarray:
        """A fixed-length float32 vector, one of :attr:`encodings`: ``"adjacency"`` (one-hot adjacency
        and ops), ``"path"`` (one-hot op sequences of input-output paths) or, on built-in spaces,
        ``"graf"`` (graph features: op counts, path lengths through op subsets, degrees; GRAF,
        Kadlecová et al. 2024), described column by column by :meth:`feature_names`."""
        self._check_encoding(kind, "encode")
        return self._encoded(self.validate(arch), kind).copy()

    def encode_many(self, archs: Sequence[Architecture], kind: str = "adjacency") -> np.ndarray:
        """Stack ``encode`` over ``archs`` into a (n, encoding_size) array (vectors are cached by id)."""
        self._check_encoding(kind, "encode_many")
        out = np.zeros((len(archs), self._encoding_size(kind)), dtype=np.float32)
        for i, a in enumerate(archs):
            out[i] = self._encoded(self.validate(a), kind)
        return out

    def feature_names(self, kind: str = "adjacency") -> list[str]:
        """One name per column of ``encode(arch, kind)``, e.g. ``"count[gcn]"`` (default ``"adjacency[3]"``)."""
        self._check_encoding(kind, "feature_names")
        names = [str(n) for n in self._feature_names(kind)]
        if len(names) != self._encoding_size(kind):  # pragma: no cover - a space's bug, not the user's
            raise NasbookError(f"{type(self).__name__}.feature_names({kind!r}) gives {len(names)} names for "
                               f"{self._encoding_size(kind)} columns.")
        return names

    def _feature_names(self, kind: str) -> list[str]:
        return [f"{kind}[{i}]" for i in range(self._encoding_size(kind))]

    def encoding_version(self, kind: str = "adjacency") -> str:
        """A stable string naming the layout of ``encode(arch, kind)`` on this space:
        ``"{kind}/{version}:{size}:{space_id}"``, e.g. ``"graf/1:118:graph-1a2b3c4d"``.

        Store it with anything fitted on these vectors: another kind, another layout version
        (:attr:`ENCODING_VERSIONS`), another length or another space configuration give another string.
        """
        self._check_encoding(kind, "encoding_version")
        return f"{kind}/{int(self.ENCODING_VERSIONS[kind])}:{self._encoding_size(kind)}:{self.space_id}"

    def _check_encoding(self, kind: object, method: str = "encode") -> None:
        if not isinstance(kind, str) or kind not in self.encodings:
            raise unknown_choice(f"{type(self).__name__}.{method}(kind=...) encoding", kind, self.encodings,
                                 hint="space.encodings lists the encodings this space can give.")

    def _encoded(self, arch: Architecture, kind: str) -> np.ndarray:
        """``_encode`` of a validated ``arch``, cached by id (at most ~16 MB of vectors per kind)."""
        cache = self.__dict__.setdefault("_encoding_cache", {}).setdefault(kind, {})
        vec = cache.get(arch.id)
        if vec is None:
            vec = np.asarray(self._encode(arch, kind), dtype=np.float32)
            if len(cache) * max(vec.size, 1) >= 2**22:
                cache.clear()
            cache[arch.id] = vec
        return vec

    @abc.abstractmethod
    def _encode(self, arch: Architecture, kind: str) -> np.ndarray: ...

    @abc.abstractmethod
    def _encoding_size(self, kind: str) -> int: ...

    # -- enumeration ---------------------------------------------------------------------------
    def enumerate(self, limit: int = 100_000) -> list[Architecture]:
        """Every architecture of the space, in a fixed order (the same on every call and machine).

        Raises InvalidParameterError when :attr:`cardinality` exceeds ``limit`` (sample instead,
        or pass a larger ``limit``), and NotEnumerableError when the space cannot list its members.
        """
        check_int(f"{type(self).__name__}.enumerate", "limit", limit, minimum=0)
        card = self.cardinality
        if card > limit:
            raise InvalidParameterError(
                f"{type(self).__name__}.enumerate(limit=...): the space has {card:,} architectures, more than "
                f"limit={limit:,}; pass a larger limit (if that many fit in memory) or draw with sample(rng)."
            )
        return self._enumerate()

    def _enumerate(self) -> list[Architecture]:
        """Generic: walk neighbours from fixed-seed samples; sorted by id. Override when the space can list itself."""
        return enumerate_by_walking(self)

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
