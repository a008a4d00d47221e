"""ArchIndex: a FAISS index of architecture vectors, id-mapped, versioned and serialisable.

One index holds the architectures of one space under one encoding layout
(``space.encoding_version(kind)``). The FAISS index is chosen by size:

- ``"flat"``: exact search, ``IndexIDMap2(IndexFlatL2)`` (custom ids, removal), up to
  :data:`EXACT_MAX` vectors;
- ``"ivf"``: ``IndexIVFFlat`` with native int64 ids, removal and a hash-table direct map (so
  vectors can be read back for filtered exact refills and rebuilds), above it;
- ``"hnsw"``: ``IndexIDMap2(IndexHNSWFlat)``, on request (no removal: removing rebuilds).

Architecture ids are strings; FAISS ids are int64 positions in :attr:`ArchIndex.arch_ids`
(a removed architecture leaves ``None`` there and its int id is never reused).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError, check_int, unknown_choice
from nasbook.knowledge import _index_bytes
from nasbook.knowledge._index_faiss import DEFAULT_NPROBE as DEFAULT_NPROBE
from nasbook.knowledge._index_faiss import EXACT_FILTER_MAX as EXACT_FILTER_MAX
from nasbook.knowledge._index_faiss import FaissStore, faiss_threads
from nasbook.knowledge._vectors import check_kind, check_space, encode_archs, given_stats, reference_stats, standardise
from nasbook.space import Architecture, SearchSpace

#: above this many vectors "auto" leaves exact search for IVF (docs/benchmarks.md, "KB similarity at scale":
#: on the shared 2-core machine one exact query took ~4 ms over 5x10^4 vectors but 39 ms over 10^5, while IVF
#: answered in ~1 ms with recall 0.99 at 2x10^5). The built-in spaces (GraphSpace 26,206, CellSpace 8,764
#: architectures) always stay exact.
EXACT_MAX = 50_000
METHODS: tuple[str, ...] = ("auto", "flat", "ivf", "hnsw")


class StaleIndexError(NasbookError):
    """A stored index was built for another space or another encoding layout: rebuild it."""


class ArchIndex(FaissStore):
    """Nearest architectures of one space, by Euclidean distance between standardised encodings.

    Parameters
    ----------
    space : SearchSpace
        The space whose architectures are indexed (queries by architecture are encoded with it).
    kind : str, optional
        The encoding (default ``"graf"`` where the space has it, else ``"adjacency"``).
    method : {"auto", "flat", "ivf", "hnsw"}
        ``"auto"``: exact flat search up to ``exact_max`` vectors, IVF above (rebuilt as it grows).
    exact_max : int
        The size at which ``"auto"`` switches from exact search to IVF.
    nprobe : int, optional
        IVF lists visited per query (default :data:`DEFAULT_NPROBE`, 32, ``nlist = sqrt(n)``: recall 0.996
        at 2x10^5 real cells, 0.976 at 10^6).
    ef_search : int
        HNSW's search breadth.
    reference : tuple of (array, array), optional
        The ``(mean, scale)`` that standardises vectors; default ``reference_stats(space, kind)``, the same in every
        process (a saved index passes its own, so as not to encode the 2,048 reference cells again).

    Examples
    --------
    >>> from nasbook.space import GraphSpace
    >>> import numpy as np
    >>> space = GraphSpace()
    >>> archs = [space.sample(np.random.default_rng(i)) for i in range(50)]
    >>> index = ArchIndex(space).add(archs)
    >>> len(index.similar(archs[0], k=5))
    5
    """

    def __init__(self, space: SearchSpace, kind: str | None = None, *, method: str = "auto",
                 exact_max: int = EXACT_MAX, nprobe: int | None = None, ef_search: int = 128, reference: Any = None):
        self.space: SearchSpace | None = check_space("ArchIndex", space)
        self.kind = check_kind("ArchIndex", space, kind)
        if method not in METHODS:
            raise unknown_choice("ArchIndex(method=...) index method", method, METHODS)
        exact_max = check_int("ArchIndex", "exact_max", exact_max, minimum=1)
        nprobe = check_int("ArchIndex", "nprobe", nprobe, minimum=1, allow_none=True)
        ef_search = check_int("ArchIndex", "ef_search", ef_search, minimum=1)
        self.method, self.exact_max, self.nprobe, self.ef_search = method, exact_max, nprobe, ef_search
        self.space_id = space.space_id
        self.encoding_version = space.encoding_version(self.kind)
        self.mean_, self.scale_ = (reference_stats(space, self.kind) if reference is None
                                   else given_stats(space, self.kind, reference))
        self.arch_ids: list[str | None] = []
        self._pos: dict[str, int] = {}
        self._index: Any = None
        self.kind_built_ = "flat"
        self._trained_n = 0

    # -- size and identity -------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Length of the indexed vectors: ``space.encoding_size(kind)``."""
        return int(self.mean_.shape[0])

    def __len__(self) -> int:
        return len(self._pos)

    def __contains__(self, arch: object) -> bool:
        return (arch.id if isinstance(arch, Architecture) else arch) in self._pos

    def __repr__(self) -> str:
        return (f"ArchIndex({len(self):,} architectures of {self.space_id}, {self.kind_built_} over "
                f"{self.encoding_version!r})")

    def is_stale(self, space: SearchSpace) -> bool:
        """True when ``space`` encodes differently than this index was built with (rebuild it).

        Parameters
        ----------
        space : SearchSpace
            The space as it is now (e.g. after an upgrade of nasbook).

        Returns
        -------
        bool
            True when its ``space_id`` or ``encoding_version(kind)`` differs from the index's.
        """
        return space.space_id != self.space_id or space.encoding_version(self.kind) != self.encoding_version

    def int_id(self, arch_id: str) -> int:
        """The FAISS int64 id of ``arch_id`` (KeyError if not indexed).

        Parameters
        ----------
        arch_id : str
            An indexed architecture's id (``Architecture.id``).

        Returns
        -------
        int
            Its position in :attr:`arch_ids`, the id FAISS stores and :meth:`search` returns.
        """
        return self._pos[arch_id]

    def arch_id(self, int_id: int) -> str:
        """The architecture id of FAISS id ``int_id`` (KeyError if none or removed).

        Parameters
        ----------
        int_id : int
            A FAISS id, e.g. an entry of the ids :meth:`search` returns (>= 0; -1 there means no neighbour).

        Returns
        -------
        str
            The id of the architecture indexed under it.
        """
        found = self.arch_ids[int_id] if 0 <= int_id < len(self.arch_ids) else None
        if found is None:
            raise KeyError(int_id)
        return found

    # -- adding and removing ------------------------------------------------------------------------
    def add(self, archs: Iterable[Architecture]) -> ArchIndex:
        """Index ``archs`` (those already indexed are skipped); returns self.

        Parameters
        ----------
        archs : iterable of Architecture
            Architectures of this index's space (another space's raise InvalidParameterError); each
            is encoded with ``kind`` and standardised.

        Returns
        -------
        ArchIndex
            This index, so that ``ArchIndex(space).add(archs)`` chains.
        """
        space = self._need_space("add")
        new, seen = [], set()
        for a in archs:
            if not isinstance(a, Architecture):
                raise InvalidParameterTypeError(f"ArchIndex.add(archs=...) takes Architectures; got {a!r}.")
            self._check_arch_space(a, "add")
            if a.id not in self._pos and a.id not in seen:
                seen.add(a.id)
                new.append(a)
        if new:
            self.add_vectors([a.id for a in new], encode_archs(space, new, self.kind))
        return self

    def add_vectors(self, arch_ids: Sequence[str], vectors: Any, *, standardised: bool = False) -> ArchIndex:
        """Index raw encodings (rows of ``space.encode_many(archs, kind)``) under ``arch_ids``.
        Ids already indexed are skipped; returns self.

        Parameters
        ----------
        arch_ids : sequence of str
            One architecture id per row of ``vectors``.
        vectors : array of shape (n, dim)
            The raw (not yet standardised) encodings, ``dim = space.encoding_size(kind)``.
        standardised : bool, default False
            True when ``vectors`` are already standardised (as :meth:`stored_vectors` returns them).

        Returns
        -------
        ArchIndex
            This index (rebuilt as IVF when ``method="auto"`` crosses ``exact_max``).
        """
        zero = np.zeros_like(self.mean_)
        x = (standardise(vectors, zero, np.ones_like(self.mean_), "ArchIndex.add_vectors") if standardised
             else standardise(vectors, self.mean_, self.scale_, "ArchIndex.add_vectors"))
        if len(arch_ids) != x.shape[0]:
            raise InvalidParameterError(f"ArchIndex.add_vectors: {len(arch_ids)} ids for {x.shape[0]} vectors.")
        keep, ids = [], []
        for row, aid in enumerate(arch_ids):
            aid = str(aid)
            if aid in self._pos:
                continue
            self._pos[aid] = len(self.arch_ids)
            ids.append(len(self.arch_ids))
            self.arch_ids.append(aid)
            keep.append(row)
        if not keep:
            return self
        x, labels = (x[keep] if len(keep) < len(x) else x), np.asarray(ids, dtype=np.int64)  # no copy of all rows
        target = self._target_kind(len(self))
        grown = self.kind_built_ == "ivf" and len(self) > 4 * self._trained_n
        if self._index is None or target != self.kind_built_ or grown:
            old_x, old_ids = self._all_vectors()
            self._build(np.concatenate([old_x, x]) if len(old_x) else x,
                        np.concatenate([old_ids, labels]) if len(old_ids) else labels, target)
        else:
            with faiss_threads(2):
                self._index.add_with_ids(x, labels)
        return self

    def remove(self, arch_ids: Iterable[str]) -> int:
        """Drop architectures from the index; returns how many were there.

        Parameters
        ----------
        arch_ids : iterable of str
            Ids of the architectures to drop; ids not indexed are ignored.

        Returns
        -------
        int
            How many of them were indexed and are now removed (their int ids are never reused).
        """
        import faiss

        gone = [self._pos.pop(str(a)) for a in arch_ids if str(a) in self._pos]
        for i in gone:
            self.arch_ids[i] = None
        if not gone:
            return 0
        if self.kind_built_ == "hnsw":  # HNSW cannot remove: rebuild without them
            x, ids = self._all_vectors(alive_only=True)
            self._build(x, ids, "hnsw")
        else:  # an IVF hash-table direct map removes by an explicit array only
            arr = np.asarray(gone, dtype=np.int64)
            sel = faiss.IDSelectorArray(arr) if self.kind_built_ == "ivf" else faiss.IDSelectorBatch(arr)
            self._index.remove_ids(sel)
        return len(gone)

    def _target_kind(self, n: int) -> str:
        if self.method != "auto":
            return self.method
        return "flat" if n <= self.exact_max else "ivf"

    # -- queries -----------------------------------------------------------------------------------------
    def vector(self, query: Architecture | Any) -> np.ndarray:
        """The standardised (1, d) vector of an architecture or of a raw encoding.

        Parameters
        ----------
        query : Architecture or array
            An architecture of this index's space (its stored vector when indexed, else encoded), or
            a raw encoding of length ``dim``.

        Returns
        -------
        numpy.ndarray
            float32 of shape ``(1, dim)``: ``(encoding - mean_) / scale_``.
        """
        if isinstance(query, Architecture):
            self._check_arch_space(query, "similar")
            if query.id in self._pos and self._index is not None:
                return np.asarray(self._index.reconstruct(self._pos[query.id]), dtype=np.float32)[None, :]
            return standardise(encode_archs(self._need_space("similar"), [query], self.kind), self.mean_, self.scale_)
        return standardise(query, self.mean_, self.scale_, "ArchIndex.similar(query=...)")

    def similar(self, query: Architecture | Any, k: int = 10, *, filter: Iterable[str] | None = None,
                exclude_self: bool = True) -> Any:
        """The ``k`` indexed architectures nearest to ``query``, nearest first.

        Parameters
        ----------
        query : Architecture or array
            An architecture of this index's space, or a raw encoding of length ``space.encoding_size(kind)``.
        k : int
            How many neighbours; exactly ``k`` come back whenever ``k`` candidates exist after the filter.
        filter : iterable of str, optional
            Only these architecture ids may be returned (e.g. those recorded on one task).
        exclude_self : bool
            Leave the query architecture itself out of the answer.

        Returns
        -------
        pandas.DataFrame
            Columns ``arch_id`` and ``distance`` (Euclidean, between standardised encodings).
        """
        import pandas as pd

        k = check_int("ArchIndex.similar", "k", k, minimum=1)
        q = self.vector(query)
        skip = query.id if isinstance(query, Architecture) and exclude_self else None
        if filter is not None:
            if isinstance(filter, str):
                raise InvalidParameterTypeError("ArchIndex.similar(filter=...) takes a collection of architecture "
                                                f"ids, not one string; got {filter!r}.")
            cand = self._candidates(filter)
        else:
            cand = None
        if skip is not None and skip in self._pos:
            if cand is None:
                cand_n = len(self) - 1
            else:
                if self._pos[skip] in cand:  # a copy: a kept candidate set stays whole
                    cand = cand - {self._pos[skip]}
                cand_n = len(cand)
        else:
            cand_n = len(self) if cand is None else len(cand)
        want = min(k, cand_n)
        if want <= 0:
            return pd.DataFrame({"arch_id": pd.Series([], dtype=object), "distance": pd.Series([], dtype=float)})
        skip_id = self._pos.get(skip, -1) if skip is not None else -1
        labels, dist = self._search(q, want, cand, skip_id)
        names = np.array([self.arch_ids[i] for i in labels], dtype=object)
        return pd.DataFrame({"arch_id": names, "distance": np.sqrt(np.maximum(dist, 0.0))})

    def _candidates(self, ids: Iterable[str]) -> set[int]:
        """The int ids of the indexed ``ids``. For a frozenset (immutable: ``KnowledgeBase.similar`` passes one per
        task) kept until an add or a remove (which change ``(len(arch_ids), len(self))``: ids are never reused)."""
        key = (len(self.arch_ids), len(self._pos))
        memo: dict[int, tuple[Any, tuple[int, int], set[int]]] = self.__dict__.setdefault("_cand_memo", {})
        hit = memo.get(id(ids)) if isinstance(ids, frozenset) else None
        if hit is not None and hit[0] is ids and hit[1] == key:
            return hit[2]
        cand = {self._pos[a] for a in map(str, ids) if a in self._pos}
        if isinstance(ids, frozenset):
            if len(memo) >= 32:
                memo.clear()
            memo[id(ids)] = (ids, key, cand)  # the set itself is held: its id is not reused while kept
        return cand

    def search(self, vectors: Any, k: int, *, standardised: bool = False, threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Batch search: ``(int ids, squared distances)`` of shape (n, k), -1 where fewer exist.
        For benchmarks and bulk work; ``similar`` is the friendly form.

        Parameters
        ----------
        vectors : array of shape (n, dim)
            The queries: raw encodings, or standardised ones with ``standardised=True``.
        k : int >= 1
            Neighbours per query (the query itself included when it is indexed).
        standardised : bool, default False
            True: ``vectors`` are already standardised (e.g. rows of :meth:`vector`).
        threads : int, default 1
            FAISS OpenMP threads for this search.

        Returns
        -------
        ids : numpy.ndarray
            int64 of shape (n, k): FAISS ids (:meth:`arch_id` names them), nearest first; -1 where
            fewer than ``k`` exist.
        distances : numpy.ndarray
            float32 of shape (n, k): squared Euclidean distances between standardised vectors (inf
            where the index is empty).
        """
        k = check_int("ArchIndex.search", "k", k, minimum=1)
        x = np.ascontiguousarray(vectors, dtype=np.float32) if standardised else standardise(vectors, self.mean_, self.scale_)
        if self._index is None:
            return np.full((len(x), k), -1, dtype=np.int64), np.full((len(x), k), np.inf, dtype=np.float32)
        with faiss_threads(threads):
            dist, labels = self._index.search(x, k, params=self._params(None))
        return labels, dist

    # -- checks ------------------------------------------------------------------------------------------
    def _need_space(self, method: str) -> SearchSpace:
        if self.space is None:
            raise InvalidParameterError(
                f"ArchIndex.{method}: this index was loaded without its space; load it with "
                "ArchIndex.from_bytes(data, space) to add or query architectures (vectors need no space)."
            )
        return self.space

    def _check_arch_space(self, arch: Architecture, method: str) -> None:
        if arch.space_id != self.space_id:
            raise InvalidParameterError(
                f"ArchIndex.{method}: architecture {arch.id!r} belongs to space {arch.space_id!r}, but this index "
                f"holds space {self.space_id!r}; use (or build) the index of that architecture's space."
            )

    # -- persistence -------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The whole index as bytes (a header in JSON, then ``faiss.serialize_index``): store it in a
        database blob or a sidecar file and read it back with :meth:`from_bytes`.

        Returns
        -------
        bytes
            A magic prefix, the format and header length, the JSON header (space, encoding layout,
            settings, standardisation, architecture ids), then the serialised FAISS index.
        """
        return _index_bytes.to_bytes(self)

    @classmethod
    def from_bytes(cls, data: bytes, space: SearchSpace | None = None) -> ArchIndex:
        """Read :meth:`to_bytes` back. With ``space``, raise :class:`StaleIndexError` when the space
        now encodes differently (another space, another encoding layout): rebuild then.

        Parameters
        ----------
        data : bytes
            What :meth:`to_bytes` returned (bytes, bytearray or memoryview); anything else, or a
            corrupt index, raises InvalidParameterError.
        space : SearchSpace, optional
            The index's space, checked against the stored layout; without it the index answers
            queries by vector (:meth:`search`) but cannot add or encode architectures.

        Returns
        -------
        ArchIndex
            The index as it was saved.
        """
        return _index_bytes.from_bytes(cls, data, space)

    def nbytes(self) -> int:
        """Size of :meth:`to_bytes` (the index, its id mapping and header).

        Returns
        -------
        int
            The length in bytes.
        """
        return len(self.to_bytes())
