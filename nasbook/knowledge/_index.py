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

import contextlib
import json
import math
import struct
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError, check_int, unknown_choice
from nasbook.knowledge._vectors import check_kind, check_space, encode_archs, reference_stats, standardise
from nasbook.space import Architecture, SearchSpace

#: above this many vectors "auto" leaves exact search for IVF (docs/benchmarks.md, "KB similarity at scale":
#: on the shared 2-core machine one exact query took ~4 ms over 5x10^4 vectors but 39 ms over 10^5, while IVF
#: answered in ~1 ms with recall 0.99 at 2x10^5). The built-in spaces (GraphSpace 26,206, CellSpace 8,764
#: architectures) always stay exact.
EXACT_MAX = 50_000
#: IVF lists visited per query unless told: at 10^6 real CellSpace(n_nodes=5) cells (nlist 1000) 32 lists gave
#: recall@10 0.976 at 2.1 ms a query, the former max(32, nlist // 16) = 62 lists 0.998 at 6-8 ms (goal <= 5 ms,
#: >= 0.95); HNSW (M 32, efSearch 128) answered in 1.6 ms at 0.997 but took 14x IVF's build time and twice its
#: bytes, and cannot remove (docs/benchmarks.md, "11s. KnowledgeBase at 10^6")
DEFAULT_NPROBE = 32
METHODS: tuple[str, ...] = ("auto", "flat", "ivf", "hnsw")
#: a filter of at most this many architectures is searched exactly over its own vectors (more on IVF)
EXACT_FILTER_MAX = 4096
_MAGIC = b"NBKIDX"
_FORMAT = 1


class StaleIndexError(NasbookError):
    """A stored index was built for another space or another encoding layout: rebuild it."""


@contextlib.contextmanager
def faiss_threads(n: int) -> Iterator[None]:
    """Run FAISS with ``n`` OpenMP threads inside the block (one thread for single queries:
    two made one query 100x slower on a busy machine, NOTES.md)."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(max(1, n))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


class ArchIndex:
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
                 exact_max: int = EXACT_MAX, nprobe: int | None = None, ef_search: int = 128):
        self.space: SearchSpace | None = check_space("ArchIndex", space)
        self.kind = check_kind("ArchIndex", space, kind)
        if method not in METHODS:
            raise unknown_choice("ArchIndex(method=...) index method", method, METHODS)
        check_int("ArchIndex", "exact_max", exact_max, minimum=1)
        check_int("ArchIndex", "nprobe", nprobe, minimum=1, allow_none=True)
        check_int("ArchIndex", "ef_search", ef_search, minimum=1)
        self.method, self.exact_max, self.nprobe, self.ef_search = method, exact_max, nprobe, ef_search
        self.space_id = space.space_id
        self.encoding_version = space.encoding_version(self.kind)
        self.mean_, self.scale_ = reference_stats(space, self.kind)
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
        """True when ``space`` encodes differently than this index was built with (rebuild it)."""
        return space.space_id != self.space_id or space.encoding_version(self.kind) != self.encoding_version

    def int_id(self, arch_id: str) -> int:
        """The FAISS int64 id of ``arch_id`` (KeyError if not indexed)."""
        return self._pos[arch_id]

    def arch_id(self, int_id: int) -> str:
        """The architecture id of FAISS id ``int_id`` (KeyError if none or removed)."""
        found = self.arch_ids[int_id] if 0 <= int_id < len(self.arch_ids) else None
        if found is None:
            raise KeyError(int_id)
        return found

    # -- adding and removing ------------------------------------------------------------------------
    def add(self, archs: Iterable[Architecture]) -> ArchIndex:
        """Index ``archs`` (those already indexed are skipped); returns self."""
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

    def add_vectors(self, arch_ids: Sequence[str], vectors: Any) -> ArchIndex:
        """Index raw encodings (rows of ``space.encode_many(archs, kind)``) under ``arch_ids``.
        Ids already indexed are skipped; returns self."""
        x = standardise(vectors, self.mean_, self.scale_, "ArchIndex.add_vectors")
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
        x, labels = x[keep], np.asarray(ids, dtype=np.int64)
        target = self._target_kind(len(self))
        grown = self.kind_built_ == "ivf" and len(self) > 4 * self._trained_n
        if self._index is None or target != self.kind_built_ or grown:
            old_x, old_ids = self._all_vectors()
            self._build(np.concatenate([old_x, x]), np.concatenate([old_ids, labels]), target)
        else:
            with faiss_threads(2):
                self._index.add_with_ids(x, labels)
        return self

    def remove(self, arch_ids: Iterable[str]) -> int:
        """Drop architectures from the index; returns how many were there."""
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

    def _build(self, x: np.ndarray, ids: np.ndarray, kind: str) -> None:
        import faiss

        d = self.dim
        index: Any
        with faiss_threads(2):
            if kind == "flat":
                index = faiss.IndexIDMap2(faiss.IndexFlatL2(d))
            elif kind == "hnsw":
                index = faiss.IndexIDMap2(faiss.IndexHNSWFlat(d, 32))
            else:
                nlist = max(1, min(int(math.sqrt(len(x))), len(x) // 39))
                index = faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, nlist)
                index.cp.seed, index.cp.niter = 0, 10
                rng = np.random.default_rng(0)
                train = x if len(x) <= 40 * nlist else x[rng.choice(len(x), 40 * nlist, replace=False)]
                index.train(train)
                index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
            index.add_with_ids(x, ids)
        self._index, self.kind_built_, self._trained_n = index, kind, len(x)

    def _all_vectors(self, alive_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Every stored (standardised) vector and its int id, read back from FAISS."""
        import faiss

        if self._index is None or self._index.ntotal == 0:
            return np.zeros((0, self.dim), dtype=np.float32), np.zeros(0, dtype=np.int64)
        if self.kind_built_ in ("flat", "hnsw"):
            ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            x = self._index.index.reconstruct_n(0, self._index.ntotal)
        else:
            ids = np.asarray(sorted(self._pos.values()), dtype=np.int64)
            x = self._index.reconstruct_batch(ids)
        if alive_only:
            alive = np.array([self.arch_ids[i] is not None for i in ids], dtype=bool)
            x, ids = x[alive], ids[alive]
        return np.ascontiguousarray(x, dtype=np.float32), ids

    # -- queries -----------------------------------------------------------------------------------------
    def vector(self, query: Architecture | Any) -> np.ndarray:
        """The standardised (1, d) vector of an architecture or of a raw encoding."""
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

        check_int("ArchIndex.similar", "k", k, minimum=1)
        q = self.vector(query)
        skip = query.id if isinstance(query, Architecture) and exclude_self else None
        if filter is not None:
            if isinstance(filter, str):
                raise InvalidParameterTypeError("ArchIndex.similar(filter=...) takes a collection of architecture "
                                                f"ids, not one string; got {filter!r}.")
            cand = {self._pos[a] for a in map(str, filter) if a in self._pos}
        else:
            cand = None
        if skip is not None and skip in self._pos:
            if cand is None:
                cand_n = len(self) - 1
            else:
                cand.discard(self._pos[skip])
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

    def search(self, vectors: Any, k: int, *, standardised: bool = False, threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Batch search: ``(int ids, squared distances)`` of shape (n, k), -1 where fewer exist.
        For benchmarks and bulk work; ``similar`` is the friendly form."""
        check_int("ArchIndex.search", "k", k, minimum=1)
        x = np.ascontiguousarray(vectors, dtype=np.float32) if standardised else standardise(vectors, self.mean_, self.scale_)
        if self._index is None:
            return np.full((len(x), k), -1, dtype=np.int64), np.full((len(x), k), np.inf, dtype=np.float32)
        with faiss_threads(threads):
            dist, labels = self._index.search(x, k, params=self._params(None))
        return labels, dist

    def _params(self, sel: Any, scale: int = 1) -> Any:
        import faiss

        if self.kind_built_ == "ivf":
            nlist = self._index.nlist
            nprobe = self.nprobe or DEFAULT_NPROBE
            return faiss.SearchParametersIVF(sel=sel, nprobe=min(nlist, nprobe * scale))  # type: ignore[call-arg]
        if self.kind_built_ == "hnsw":
            return faiss.SearchParametersHNSW(sel=sel, efSearch=self.ef_search * scale)  # type: ignore[attr-defined]
        return faiss.SearchParameters(sel=sel) if sel is not None else None  # type: ignore[call-arg]

    def _exact_filter_max(self) -> int:
        """Filters up to this size are searched exactly over their own vectors: reading them costs no
        more than the vectors an approximate search would scan (IVF: ``nprobe / nlist`` of the index),
        and an IVF search restricted to a small filter misses the filtered neighbours in unprobed lists."""
        if self.kind_built_ == "ivf":
            nlist = self._index.nlist
            scanned = len(self) * min(nlist, self.nprobe or DEFAULT_NPROBE) / nlist
            return max(EXACT_FILTER_MAX, int(2 * scanned))
        return EXACT_FILTER_MAX

    def _search(self, q: np.ndarray, want: int, cand: set[int] | None, skip_id: int) -> tuple[list[int], np.ndarray]:
        import faiss

        if cand is not None and len(cand) <= self._exact_filter_max():
            return self._exact_subset(q, want, cand)
        sel = None
        if cand is not None:
            sel = faiss.IDSelectorBatch(np.fromiter(cand, dtype=np.int64, count=len(cand)))
        fetch = want + (1 if skip_id >= 0 and cand is None else 0)
        for scale in (1, 4, 16):
            with faiss_threads(1):
                dist, labels = self._index.search(q, fetch, params=self._params(sel, scale))
            found = [(int(i), float(d)) for i, d in zip(labels[0], dist[0]) if i >= 0 and i != skip_id]
            if len(found) >= want:
                found = found[:want]
                return [i for i, _ in found], np.array([d for _, d in found])
            if self.kind_built_ == "flat":
                break
        # an approximate search came back short (a restrictive filter): exact over the candidates
        if cand is None:
            cand = {i for i in self._pos.values() if i != skip_id}
        return self._exact_subset(q, want, cand)

    def _read(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of sorted int ids: a zero-copy view of flat storage (its rows follow the
        ascending ids of ``id_map``), or the IVF direct map."""
        import faiss

        if self.kind_built_ == "ivf":
            return np.asarray(self._index.reconstruct_batch(ids))
        inner: Any = faiss.downcast_index(self._index.index)
        flat: Any = faiss.downcast_index(inner.storage) if self.kind_built_ == "hnsw" else inner
        xb = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * self.dim).reshape(flat.ntotal, self.dim)
        rows = np.searchsorted(faiss.vector_to_array(self._index.id_map), ids)
        return np.asarray(xb[rows])

    def _exact_subset(self, q: np.ndarray, want: int, cand: set[int]) -> tuple[list[int], np.ndarray]:
        ids = np.fromiter(cand, dtype=np.int64, count=len(cand))
        ids.sort()
        d2 = np.empty(len(ids))
        for start in range(0, len(ids), 65536):
            chunk = ids[start:start + 65536]
            x = self._read(chunk)
            d2[start:start + len(chunk)] = ((x - q) ** 2).sum(axis=1)
        order = np.lexsort((ids, d2))[:want]
        return ids[order].tolist(), d2[order]

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
        database blob or a sidecar file and read it back with :meth:`from_bytes`."""
        import faiss

        header = {
            "format": _FORMAT, "space_id": self.space_id, "kind": self.kind,
            "encoding_version": self.encoding_version, "method": self.method, "exact_max": self.exact_max,
            "nprobe": self.nprobe, "ef_search": self.ef_search, "built": self.kind_built_,
            "trained_n": self._trained_n, "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
            "arch_ids": self.arch_ids,
        }
        head = json.dumps(header, separators=(",", ":")).encode()
        body = b"" if self._index is None else faiss.serialize_index(self._index).tobytes()
        return _MAGIC + struct.pack("<IQ", _FORMAT, len(head)) + head + body

    @classmethod
    def from_bytes(cls, data: bytes, space: SearchSpace | None = None) -> ArchIndex:
        """Read :meth:`to_bytes` back. With ``space``, raise :class:`StaleIndexError` when the space
        now encodes differently (another space, another encoding layout): rebuild then."""
        import faiss

        if not isinstance(data, (bytes, bytearray, memoryview)) or bytes(data[:6]) != _MAGIC:
            raise InvalidParameterError("ArchIndex.from_bytes(data=...) takes what ArchIndex.to_bytes() returned; "
                                        "these bytes are not an architecture index.")
        data = bytes(data)
        try:
            fmt, n_head = struct.unpack("<IQ", data[6:18])
            header = json.loads(data[18:18 + n_head])
        except (struct.error, ValueError) as exc:
            raise InvalidParameterError(f"ArchIndex.from_bytes: a corrupt index header ({exc}); rebuild the index.") from None
        if fmt != _FORMAT:
            raise StaleIndexError(f"ArchIndex.from_bytes: index format {fmt}, this nasbook reads {_FORMAT}; rebuild it.")
        if space is not None:
            check_space("ArchIndex.from_bytes", space)
            have = space.encoding_version(header["kind"]) if header["kind"] in space.encodings else None
            if space.space_id != header["space_id"] or have != header["encoding_version"]:
                raise StaleIndexError(
                    f"ArchIndex.from_bytes: the index was built over {header['encoding_version']!r}, but the space "
                    f"now encodes as {have!r}; rebuild it from the recorded architectures (sync_index does)."
                )
        self = cls.__new__(cls)
        self.space = space
        self.kind, self.method, self.exact_max = header["kind"], header["method"], header["exact_max"]
        self.nprobe, self.ef_search = header["nprobe"], header["ef_search"]
        self.space_id, self.encoding_version = header["space_id"], header["encoding_version"]
        self.mean_ = np.asarray(header["mean"], dtype=np.float32)
        self.scale_ = np.asarray(header["scale"], dtype=np.float32)
        self.arch_ids = header["arch_ids"]
        self._pos = {a: i for i, a in enumerate(self.arch_ids) if a is not None}
        self.kind_built_, self._trained_n = header["built"], header["trained_n"]
        body = data[18 + n_head:]
        try:
            self._index = faiss.deserialize_index(np.frombuffer(body, dtype=np.uint8)) if body else None
        except RuntimeError as exc:
            raise InvalidParameterError(f"ArchIndex.from_bytes: a corrupt FAISS index ({exc}); rebuild it.") from None
        if self._index is not None and self._index.ntotal != len(self._pos):
            raise InvalidParameterError(f"ArchIndex.from_bytes: the FAISS index holds {self._index.ntotal} vectors but "
                                        f"the header names {len(self._pos)}; rebuild it.")
        return self

    def nbytes(self) -> int:
        """Size of :meth:`to_bytes` (the index, its id mapping and header)."""
        return len(self.to_bytes())
