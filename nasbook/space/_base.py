"""The search-space protocol and the immutable :class:`Architecture`."""

from __future__ import annotations

import abc
import hashlib
import inspect
import json
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    NotBuildableError,
    check_int,
)
from nasbook._params import Params  # also checks constructor keywords: CellSpace(n_node=5) suggests 'n_nodes'
from nasbook.space._arch import Architecture as Architecture
from nasbook.space._arch import register_space, space_with_id
from nasbook.space._encoding import ENCODINGS as ENCODINGS
from nasbook.space._encoding import EncodingKind as EncodingKind
from nasbook.space._encoding import Encodings
from nasbook.space._helpers import MAX_WIDTH as MAX_WIDTH
from nasbook.space._helpers import _freeze, _thaw, enumerate_by_walking
from nasbook.space._helpers import check_choice_list as check_choice_list
from nasbook.space._helpers import check_int_range as check_int_range
from nasbook.space._helpers import check_rng as check_rng
from nasbook.space._helpers import randbelow as randbelow
from nasbook.space._parameters import NamedParameters

if TYPE_CHECKING:
    import torch

    from nasbook.display import Diagram, View


def stable_hash(payload: Any, n: int = 12) -> str:
    """A short hex digest of the canonical JSON of ``payload``: stable across runs and machines.

    Parameters
    ----------
    payload : JSON-serializable
        Dicts, lists, str, numbers, bool and None; dict keys are sorted first, so key order does
        not change the digest.
    n : int, default 12
        Number of hex characters kept (at most 40, the length of a SHA-1 digest).

    Returns
    -------
    str
        The first ``n`` hex characters of the SHA-1 of the compact JSON: an architecture's ``id``
        (``stable_hash(spec)``) or the hash in a ``space_id``.
    """
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()[:n]


class SearchSpace(Params, Encodings, NamedParameters, abc.ABC):
    """A set of architectures that strategies search over.

    Subclasses implement ``cardinality``, ``make`` (canonical spec -> ``Architecture(self.space_id,
    stable_hash(spec), spec)``), ``sample``, ``neighbours``, ``_encode(arch, kind)`` and
    ``_encoding_size(kind)`` (docs/search-loop.md, "Writing a space"); everything that takes a random
    generator takes a ``numpy.random.Generator`` so that one seed drives a whole search.

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
            register_space(self, cached)  # what Architecture(self.space_id, ...) keeps
        return cached

    def _identity_params(self) -> dict[str, Any]:
        """What makes two spaces the same (defaults resolved); ``space_id`` hashes it."""
        return self.get_params()

    def to_config(self) -> dict[str, Any]:
        """JSON description of the space, stored with every search.

        Returns
        -------
        dict
            ``{"class": <class name>, "params": {<constructor argument>: <JSON value>}}``: what
            :meth:`from_config` takes back.
        """
        return {"class": type(self).__name__, "params": {k: _thaw(_freeze(v)) for k, v in self.get_params().items()}}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SearchSpace:
        """The space that :meth:`to_config` described: ``space.from_config(space.to_config()) == space``.

        Called on :class:`SearchSpace` itself, ``config["class"]`` names a built-in space of
        :mod:`nasbook.space`; called on a subclass, it must name that subclass.

        Parameters
        ----------
        config : Mapping
            ``{"class": str, "params": {...}}`` as :meth:`to_config` returns it (a stored search
            holds one). Another class, or params that do not fit the class's constructor, raise
            InvalidParameterError.

        Returns
        -------
        SearchSpace
            A new space of the named class built from the params, equal to the space that wrote
            the config.
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
        return {k: v for k, v in self.__dict__.items() if k not in ("_encoding_cache", "_validated")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if isinstance(state.get("_space_id"), str):  # its cached id came along: architectures made here keep it
            register_space(self, state["_space_id"])

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
        """Canonicalize and validate a description; raise InvalidArchitectureError if not a member.

        Parameters
        ----------
        **spec
            The space's own description of an architecture, e.g. ``edges=..., ops=...`` on
            :class:`~nasbook.space.CellSpace`, ``layers=...`` on :class:`~nasbook.space.ChainSpace`;
            each space documents its keys (``arch.spec`` of a member is a valid one).

        Returns
        -------
        Architecture
            The canonical architecture: two descriptions of the same network (e.g. isomorphic cells)
            give the same ``id``.
        """

    def from_dict(self, data: Mapping[str, Any]) -> Architecture:
        """Rebuild an architecture from ``Architecture.to_dict()`` (re-validated).

        Parameters
        ----------
        data : Mapping
            The architecture's spec as ``arch.to_dict()`` returns it: the keyword arguments of
            :meth:`make`. Anything else raises InvalidArchitectureError.

        Returns
        -------
        Architecture
            ``self.make(**data)``.
        """
        if not isinstance(data, Mapping):
            raise InvalidArchitectureError(
                f"{type(self).__name__}.from_dict() takes a mapping like arch.to_dict(); got {type(data).__name__}."
            )
        return self.make(**dict(data))

    def validate(self, arch: object) -> Architecture:
        """Return ``arch`` if it belongs to this space, else raise InvalidArchitectureError.

        Default: ``arch`` carries this space's id and is what ``make(**arch.spec)`` gives (same id and spec;
        each id is re-made once). A space with a faster test overrides it, calling :meth:`_check_space_id` first.

        Parameters
        ----------
        arch : object
            Anything; only an :class:`Architecture` carrying this space's ``space_id`` whose spec
            is canonical for this space passes.

        Returns
        -------
        Architecture
            ``arch`` itself, unchanged.
        """
        arch = self._check_space_id(arch)
        known = self.__dict__.setdefault("_validated", {})
        if known.get(arch.id) == arch._spec:
            return arch
        try:
            made: Architecture | None = self.make(**arch.spec)
        except (InvalidArchitectureError, TypeError, KeyError):  # a spec make() does not take is no member
            made = None
        if made is None or made.id != arch.id or made._spec != arch._spec:
            raise InvalidArchitectureError(
                f"Architecture {arch.id!r} claims space {arch.space_id!r} but {type(self).__name__}.make(**arch.spec) "
                f"gives {made!r} for its spec {arch.spec!r}. Make architectures with space.make(...).")
        if len(known) >= 2**16:
            known.clear()
        known[arch.id] = arch._spec
        return arch

    def _validate_many(self, archs: Sequence[object]) -> list[Architecture]:
        """:meth:`validate` of each of ``archs``, in order: the first non-member raises its error. A space that tests
        many architectures faster at once overrides it (``CellSpace``), keeping that error and that order."""
        return [self.validate(a) for a in archs]

    def _check_space_id(self, arch: object) -> Architecture:
        """``arch`` if it is an Architecture carrying this space's id (the first step of :meth:`validate`)."""
        if not isinstance(arch, Architecture):
            raise InvalidArchitectureError(f"{type(self).__name__} expected an Architecture; got {arch!r} of type "
                                           f"{type(arch).__name__}. Make one with space.make(...) or space.sample(rng).")
        if arch.space_id != self.space_id:
            raise InvalidArchitectureError(f"Architecture {arch.id!r} belongs to space {arch.space_id!r}, not to this "
                                           f"{type(self).__name__} ({self.space_id!r}).")
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
        """A uniformly random architecture.

        Parameters
        ----------
        rng : numpy.random.Generator
            The only source of randomness, so that a seeded search samples the same architectures
            (the built-in spaces refuse anything else with InvalidParameterTypeError).

        Returns
        -------
        Architecture
            A member drawn uniformly over canonical architectures, not over raw encodings.
        """

    @abc.abstractmethod
    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every architecture one edit away from ``arch`` (without ``arch``), in a fixed order; a
        non-member raises InvalidArchitectureError (start with ``arch = self.validate(arch)``).

        Parameters
        ----------
        arch : Architecture
            A member of this space.

        Returns
        -------
        list of Architecture
            Distinct architectures other than ``arch``, each one edit away (one op, one edge, one
            layer: the space defines an edit), in the same order on every call; empty when the
            space has a single member.
        """

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """A random neighbour of ``arch`` (never ``arch`` itself).

        Parameters
        ----------
        arch : Architecture
            A member of this space; one without neighbours raises InvalidArchitectureError.
        rng : numpy.random.Generator
            Picks the neighbour, uniformly over :meth:`neighbours` unless the space overrides it.

        Returns
        -------
        Architecture
            A member other than ``arch``: by default one of ``self.neighbours(arch)`` (a space
            may say otherwise, as :meth:`CellSpace.mutate <nasbook.space.CellSpace.mutate>` does).
        """
        check_rng(self, "mutate", rng)
        nbrs = self.neighbours(self.validate(arch))
        if not nbrs:
            raise InvalidArchitectureError(f"Architecture {arch.id!r} has no neighbours in {self!r}.")
        return nbrs[int(rng.integers(len(nbrs)))]

    # -- encodings: encodings, encode, encode_many, encoding_size, feature_names, encoding_version and the
    # hooks _encode / _encoding_size come from Encodings (nasbook/space/_encoding.py)

    # -- enumeration ---------------------------------------------------------------------------
    def enumerate(self, limit: int = 100_000) -> list[Architecture]:
        """Every architecture of the space, in a fixed order (the same on every call and machine).

        Raises InvalidParameterError when :attr:`cardinality` exceeds ``limit`` (sample instead,
        or pass a larger ``limit``), and NotEnumerableError when the space cannot list its members.

        Parameters
        ----------
        limit : int, default 100_000
            The most architectures to list, >= 0: a guard against filling memory with a huge space.

        Returns
        -------
        list of Architecture
            All :attr:`cardinality` members, each once.
        """
        limit = check_int(f"{type(self).__name__}.enumerate", "limit", limit, minimum=0)
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
        """A ``torch.nn.Module`` for ``arch``. Tabular spaces have nothing to build.

        Parameters
        ----------
        arch : Architecture
            A member of this space.
        input_shape : sequence of int
            Shape of one input example without the batch dimension, e.g. ``(40,)`` for a signal of
            40 values or ``(1, 8, 8)`` for an 8x8 one-channel image.
        n_classes : int
            Number of output logits.

        Returns
        -------
        torch.nn.Module
            An untrained network mapping a batch of shape ``(n, *input_shape)`` to ``(n, n_classes)``
            logits. This default raises NotBuildableError: a tabular space has no networks to build.
        """
        raise NotBuildableError(
            f"{type(self).__name__} is a tabular benchmark space: its architectures are looked up, "
            "not built. Use CellSpace or ChainSpace to train networks."
        )

    # -- named parameters (Optuna-style samplers): suggest and parameters_of come from NamedParameters
    # (nasbook/space/_parameters.py)


#: every SearchSpace in memory, weakly (an Architecture keeps the space that made it; one rebuilt from its
#: pickle or its stored form finds an equal space here)
_LIVE_SPACES: weakref.WeakValueDictionary[int, SearchSpace] = weakref.WeakValueDictionary()


def live_space(space_id: str | Architecture) -> SearchSpace | None:
    """The space of an architecture, or a space in memory whose ``space_id`` is ``space_id``, or None.

    Parameters
    ----------
    space_id : str or Architecture
        A :attr:`SearchSpace.space_id`, as an :class:`Architecture` carries it; or an
        architecture: the space that made it (it keeps it), else a space in memory with its id.

    Returns
    -------
    SearchSpace or None
        That space (an architecture's repr draws with it; predictors encode with it); None when
        the architecture keeps none (rebuilt from a pickle or storage) and no space with that id
        is in memory (spaces are held weakly).
    """
    if isinstance(space_id, Architecture):
        if space_id._space is not None:
            return space_id._space
        space_id = space_id.space_id
    found = space_with_id(space_id)
    if found is not None:
        return found
    for space in list(_LIVE_SPACES.values()):
        try:
            if space.space_id == space_id:
                return space
        except Exception:  # a half-built space (its __init__ raised) has no id
            continue
    return None
