"""``SubsetSpace``: a search space restricted to a finite list of another space's architectures."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidArchitectureError, InvalidParameterError
from nasbook.space._arch import register_space
from nasbook.space._base import Architecture, SearchSpace, check_rng, stable_hash

if TYPE_CHECKING:
    import torch

    from nasbook.display import Diagram


class SubsetSpace(SearchSpace):
    """The architectures of ``space`` listed in ``archs``, and no others.

    Made for tables of trained architectures (e.g. :class:`~nasbook.tasks.DigitsTable`): a
    strategy searching a ``SubsetSpace`` only ever proposes architectures the table holds.

    **Identity.** A subset is a space of its own: its ``space_id`` is ``"subset-"`` plus a hash of
    the parent's ``space_id`` and of the sorted member ids, and its architectures carry that
    ``space_id`` (same ``id`` and canonical spec as in the parent). Membership is checked by id
    (and spec): ``parent_arch in subset`` is False, ``subset.make(**parent_arch.spec)`` or
    :meth:`from_parent` gives the subset's version, :meth:`to_parent` goes back.

    **Moves.**

    - ``sample``: uniform over the members;
    - ``mutate(arch, rng)``: one parent move, projected: a uniformly random parent neighbour of
      ``arch``, kept when it is a member, else replaced by a random one of the members (never
      ``arch``) nearest to it in Jaccard distance of the parent's 0/1 adjacency encoding
      (:attr:`projection`; Hamming made short ConvDense stacks near everything). A small subset
      of a large space is sparse (few parent neighbours are members), and projecting the *move*
      keeps the parent's move distribution, where jumping to the members nearest ``arch`` would
      follow whatever the table happens to hold near it (docs/benchmarks.md 1k, 1l);
    - ``neighbours(arch)``: the set ``mutate`` draws from (every parent neighbour projected, all
      ties kept), so it is non-empty for every member of a subset of two or more and local search
      climbs instead of restarting;
    - ``encode`` / ``encoding_size`` / ``build``: the parent's, on the parent's version.

    Parameters
    ----------
    space : SearchSpace
        The parent space.
    archs : sequence of Architecture or spec mappings
        The members, as architectures of ``space`` or as their specs (``arch.to_dict()``); each is
        canonicalized by ``space`` and duplicates are refused. Their order is kept
        (:attr:`members`, :meth:`index`).

    Examples
    --------
    >>> import numpy as np
    >>> from nasbook.space import CellSpace
    >>> parent = CellSpace()
    >>> rng = np.random.default_rng(0)
    >>> sub = SubsetSpace(parent, [parent.sample(rng) for _ in range(5)])
    >>> sub.cardinality
    5
    >>> sub.sample(rng) in sub
    True
    """

    name: ClassVar[str] = "subset"
    #: the distance on the parent's 0/1 adjacency encoding that projects a parent move onto the
    #: members: ``"jaccard"`` (1 - shared ones / ones in either; the default) or ``"hamming"``
    #: (differing bits; on ConvDenseSpace it sends deep networks' children to shallow members,
    #: docs/benchmarks.md 1l)
    projection: ClassVar[str] = "jaccard"

    def __init__(self, space: SearchSpace, archs: Sequence[Architecture | Mapping[str, Any]]):
        if not isinstance(space, SearchSpace):
            raise InvalidParameterError(f"SubsetSpace(space=...) must be a SearchSpace; got {space!r} of type {type(space).__name__}.")
        if isinstance(archs, (str, bytes, Mapping)) or not isinstance(archs, Sequence) or not archs:
            raise InvalidParameterError(
                "SubsetSpace(archs=...) must be a non-empty list of architectures of the parent space (or their specs); "
                f"got {archs!r}."
            )
        self.space = space
        parent_archs: list[Architecture] = []
        for k, a in enumerate(archs):
            if isinstance(a, Architecture):
                try:
                    pa = space.validate(a)
                except InvalidArchitectureError as exc:
                    raise InvalidParameterError(f"SubsetSpace(archs=...): item {k} is not an architecture of {space!r}: {exc}") from exc
            elif isinstance(a, Mapping):
                try:
                    pa = space.from_dict(a)
                except InvalidArchitectureError as exc:
                    raise InvalidParameterError(f"SubsetSpace(archs=...): item {k} is not a spec of {space!r}: {exc}") from exc
            else:
                raise InvalidParameterError(
                    f"SubsetSpace(archs=...): item {k} must be an Architecture or a spec mapping; got {a!r} of type {type(a).__name__}."
                )
            parent_archs.append(pa)
        ids = [a.id for a in parent_archs]
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            dup = next(i for i in ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
            raise InvalidParameterError(
                f"SubsetSpace(archs=...) lists architecture {dup!r} twice (after canonicalization by {space!r}); list each once."
            )
        self._parent_archs = parent_archs
        self.archs = [a.to_dict() for a in parent_archs]
        self._setup()

    def _setup(self) -> None:
        sid = self.space_id
        self._members = [Architecture._trusted(sid, a.id, a._spec, self) for a in self._parent_archs]
        self._index = {a.id: i for i, a in enumerate(self._members)}
        self._nbrs: dict[str, list[Architecture]] = {}
        self._proj: dict[int, list[list[int]]] = {}
        self._codes: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"space": self.space, "archs": self.archs, "_parent_archs": self._parent_archs,
                "_space_id": self.__dict__.get("_space_id")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if self.__dict__.get("_space_id") is None:
            self.__dict__.pop("_space_id", None)
        self._setup()

    # -- identity ------------------------------------------------------------------------------
    def _identity_params(self) -> dict[str, Any]:
        return {"parent": self.space.space_id, "ids": sorted(a.id for a in self._parent_archs)}

    @property
    def space_id(self) -> str:
        cached = self.__dict__.get("_space_id")
        if cached is None:
            cached = f"{self.name}-{stable_hash(self._identity_params(), 8)}"
            self.__dict__["_space_id"] = cached
            register_space(self, cached)  # as SearchSpace.space_id does
        return cached

    def to_config(self) -> dict[str, Any]:
        return {"class": type(self).__name__, "params": {"space": self.space.to_config(), "archs": self.archs}}

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> SearchSpace:
        parent = params.get("space")
        if isinstance(parent, Mapping):
            params = {**params, "space": SearchSpace.from_config(parent)}
        return cls(**params)

    def __repr__(self) -> str:
        return f"SubsetSpace({self.space!r}, {len(self._members)} architectures)"

    @property
    def parent(self) -> SearchSpace:
        """The space the members come from."""
        return self.space

    @property
    def members(self) -> list[Architecture]:
        """The members (this space's architectures) in the order given."""
        return list(self._members)

    @property
    def ids(self) -> list[str]:
        """Member ids in the order given."""
        return [a.id for a in self._members]

    def index(self, arch: Architecture | str) -> int:
        """Position of ``arch`` in :attr:`members`; InvalidArchitectureError when it is not a member.

        Parameters
        ----------
        arch : Architecture or str
            An architecture of this space or of the parent, or an id.

        Returns
        -------
        int
            Its index in :attr:`members`.
        """
        if not isinstance(arch, (str, Architecture)):
            raise InvalidParameterError(
                f"SubsetSpace.index(arch=...) takes an architecture of this space or of its parent, or an id; "
                f"got {' '.join(repr(arch).split())[:80]} of type {type(arch).__name__}.")
        arch_id = arch if isinstance(arch, str) else arch.id
        i = self._index.get(arch_id)
        if i is None:
            raise self._not_member(arch_id)
        return i

    def _not_member(self, arch_id: str) -> InvalidArchitectureError:
        return InvalidArchitectureError(
            f"Architecture {arch_id!r} is not one of the {len(self._members)} architectures of this "
            f"SubsetSpace of {self.space!r} ({self.space_id!r})."
        )

    def from_parent(self, arch: Architecture) -> Architecture:
        """This space's version of a parent-space architecture (InvalidArchitectureError if not a member).

        Parameters
        ----------
        arch : Architecture
            An architecture of the parent space.

        Returns
        -------
        Architecture
            The member with the same id, of this space.
        """
        pa = self.space.validate(arch)
        return self._members[self.index(pa.id)]

    def to_parent(self, arch: Architecture) -> Architecture:
        """The parent space's version of a member.

        Parameters
        ----------
        arch : Architecture
            A member of this space.

        Returns
        -------
        Architecture
            The same architecture as the parent space made it (to build or encode with the parent).
        """
        return self._parent_archs[self._index[self.validate(arch).id]]

    # -- membership ------------------------------------------------------------------------------
    def make(self, **spec: Any) -> Architecture:
        """Canonicalize ``spec`` with the parent space; raise InvalidArchitectureError unless it is a member."""
        pa = self.space.make(**spec)
        return self._members[self.index(pa.id)]

    def validate(self, arch: object) -> Architecture:
        """Return ``arch`` if it is a member of this subset, else raise InvalidArchitectureError."""
        if isinstance(arch, Architecture) and arch.space_id == self.space.space_id and arch.space_id != self.space_id:
            known = self._index.get(arch.id)
            hint = (
                f" It is member {known} of the subset: use subset.from_parent(arch)." if known is not None
                else " It is not one of the subset's architectures."
            )
            raise InvalidArchitectureError(
                f"Architecture {arch.id!r} belongs to the parent space {self.space!r}, not to this SubsetSpace "
                f"({self.space_id!r}).{hint}"
            )
        a = self._check_space_id(arch)
        i = self._index.get(a.id)
        if i is None:
            raise self._not_member(a.id)
        member = self._members[i]
        if a is not member and a._spec != member._spec:
            raise InvalidArchitectureError(
                f"Architecture {a.id!r} claims space {a.space_id!r} but its spec {a.spec!r} differs from the member's "
                f"{member.spec!r}. Make architectures with space.make(...)."
            )
        return member

    @property
    def cardinality(self) -> int:
        return len(self._members)

    # -- moves -------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Architecture:
        check_rng(self, "sample", rng)
        return self._members[int(rng.integers(len(self._members)))]

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """The members one parent move away, each parent neighbour projected onto the members.

        For each of the parent's neighbours of ``arch``, in the parent's order: itself when it is a
        member, else every member (other than ``arch``) nearest to it (:attr:`projection`
        distance of the parent's adjacency encoding), in table order; without repeats. This is exactly the set
        :meth:`mutate` draws from, so it is non-empty for every member of a subset of two or more
        (when the parent gives ``arch`` no neighbour at all: the members nearest to ``arch``)."""
        a = self.validate(arch)
        got = self._nbrs.get(a.id)
        if got is None:
            order = dict.fromkeys(j for cands in self._projections(self._index[a.id]) for j in cands)  # first seen, no repeats
            got = [self._members[j] for j in order]
            self._nbrs[a.id] = got
        return list(got)

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """One parent move, projected onto the members; never ``arch`` itself.

        Draws one of the parent's neighbours of ``arch`` uniformly (the parent's own ``mutate`` on
        the built-in spaces but ``GraphSpace``, whose edit kinds are weighted); a member is returned
        as is, a non-member is replaced by one of the members (other than ``arch``) nearest to it
        (:attr:`projection` distance of the parent's adjacency encoding), ties at random. Mutation thus keeps
        the parent's move distribution (e.g. as many layer removals as the parent proposes) instead
        of drifting towards whatever members lie closest to ``arch``. When the parent gives
        ``arch`` no neighbour: one of the members nearest to ``arch`` (:meth:`nearest`)."""
        check_rng(self, "mutate", rng)
        a = self.validate(arch)
        if len(self._members) < 2:
            raise InvalidArchitectureError(f"Architecture {a.id!r} has no other architecture to mutate into in {self!r}.")
        proj = self._projections(self._index[a.id])
        cands = proj[int(rng.integers(len(proj)))]
        return self._members[cands[int(rng.integers(len(cands)))] if len(cands) > 1 else cands[0]]

    def _projections(self, i: int) -> list[list[int]]:
        """Per parent neighbour of member ``i`` (parent's order): the positions of its projection,
        [its own position] for a member, else the nearest members other than ``i`` (all ties, table
        order). ``[nearest(i)]`` when the parent gives no neighbour; ``[]`` for a lone member."""
        got = self._proj.get(i)
        if got is not None:
            return got
        if len(self._members) < 2:
            got = []
        else:
            pnbrs = self.space.neighbours(self._parent_archs[i])
            if not pnbrs:
                got = [self.nearest(self._members[i])]
            else:
                outside = [k for k, n in enumerate(pnbrs) if n.id not in self._index]
                got = [[self._index[n.id]] if n.id in self._index else [] for n in pnbrs]
                if outside:
                    dist = self._distances([pnbrs[k] for k in outside])
                    dist[:, i] = np.inf
                    for row, k in enumerate(outside):
                        d = dist[row]
                        got[k] = [int(j) for j in np.flatnonzero(d == d.min())]
        self._proj[i] = got
        return got

    def _distances(self, parent_archs: Sequence[Architecture]) -> np.ndarray:
        """(len(parent_archs), n_members): :attr:`projection` distance of the parent's adjacency encoding."""
        c = self._member_codes().astype(np.float32)
        xf = (self.space.encode_many(list(parent_archs), "adjacency") > 0.5).astype(np.float32)
        inter = xf @ c.T  # shared ones (exact in float32 at these sizes)
        union = xf.sum(axis=1)[:, None] + c.sum(axis=1)[None, :] - inter
        if self.projection == "hamming":
            return union - inter
        # Jaccard distance, 1 - |x & c| / |x | c|, (ties: equal fractions of small integers)
        return 1.0 - inter.astype(np.float64) / np.maximum(union, 1.0)

    def nearest_to(self, arch: Architecture, exclude: Collection[str] = ()) -> list[int]:
        """Positions of the members nearest to ``arch``, an architecture of the PARENT space: its own
        position when it is a member, else every member at the smallest :attr:`projection` distance
        of the parent's adjacency encoding (all ties, table order); the projection :meth:`mutate`
        applies to a parent move, here of any parent architecture (e.g. an Optuna proposal,
        :class:`~nasbook.strategies.OptunaSampler`).

        Parameters
        ----------
        arch : Architecture
            An architecture of the parent space.
        exclude : collection of str, default ()
            Ids of members left out (e.g. those a search has seen). The nearest of the other members
            are returned, at whatever distance (``arch`` itself is left out too when it is an excluded
            member).

        Returns
        -------
        list of int
            Positions in :attr:`members`; ``[]`` when every member is excluded.
        """
        if isinstance(exclude, (str, bytes)):
            raise InvalidParameterError(
                f"SubsetSpace.nearest_to(exclude=...) must be a collection of member ids; got the string {exclude!r:.80}.")
        pa = self.space.validate(arch)
        i = self._index.get(pa.id)
        if i is not None and pa.id not in exclude:
            return [i]
        d = self._distances([pa])[0]
        if exclude:
            d[[j for j, m in enumerate(self._members) if m.id in exclude]] = np.inf
            if not np.isfinite(d).any():
                return []
        return [int(j) for j in np.flatnonzero(d == d.min())]

    def _member_codes(self) -> np.ndarray:
        if self._codes is None:
            self._codes = self.space.encode_many(self._parent_archs, "adjacency") > 0.5
        return self._codes

    def nearest(self, arch: Architecture) -> list[int]:
        """Positions of the members (other than ``arch``) closest to ``arch`` in Hamming distance of the parent's adjacency encoding.

        Parameters
        ----------
        arch : Architecture
            A member of this space.

        Returns
        -------
        list of int
            Positions in :attr:`members`, every one at the smallest distance (ties in table order).
        """
        i = self._index[self.validate(arch).id]
        codes = self._member_codes()
        dist = (codes != codes[i]).sum(axis=1)
        dist[i] = np.iinfo(dist.dtype).max
        return [int(j) for j in np.flatnonzero(dist == dist.min())]

    # -- encodings, enumeration and building ------------------------------------------------------
    @property
    def encodings(self) -> tuple[str, ...]:
        """The parent's encodings."""
        return self.space.encodings

    def encoding_version(self, kind: str = "adjacency") -> str:
        """The parent's: a subset encodes its members exactly as the parent does."""
        self._check_encoding(kind, "encoding_version")
        return self.space.encoding_version(kind)

    def encode_many(self, archs: Sequence[Architecture], kind: str = "adjacency") -> np.ndarray:
        """The parent's ``encode_many`` of the members' parent versions."""
        self._check_encoding(kind, "encode_many")
        archs = self._arch_list(archs, "encode_many")
        return self.space.encode_many([self._parent_archs[self._index[self.validate(a).id]] for a in archs], kind)

    def _encoding_size(self, kind: str) -> int:
        return self.space.encoding_size(kind)

    def _encode(self, arch: Architecture, kind: str) -> np.ndarray:
        return self.space.encode(self._parent_archs[self._index[arch.id]], kind)

    def _encoded(self, arch: Architecture, kind: str) -> np.ndarray:
        return self._encode(arch, kind)  # the parent caches

    def _feature_names(self, kind: str) -> list[str]:
        return self.space.feature_names(kind)

    def _enumerate(self) -> list[Architecture]:
        """The members, in the order given."""
        return list(self._members)

    def build(self, arch: Architecture, input_shape: Sequence[int], n_classes: int) -> torch.nn.Module:
        """The parent's network for ``arch``."""
        return self.space.build(self.to_parent(arch), input_shape, n_classes)

    # -- drawing (notebook reprs) --------------------------------------------------------------
    def draw(self, arch: Architecture) -> Diagram | None:
        """The parent space's drawing of ``arch``."""
        return self.space.draw(self.to_parent(arch))
