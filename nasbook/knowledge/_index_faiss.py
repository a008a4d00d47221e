"""The FAISS layer of :class:`~nasbook.knowledge.ArchIndex`: building the raw index, reading its vectors
back, and searching it (approximately, or exactly over a filter's own vectors)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

#: IVF lists visited per query unless told: at 10^6 real CellSpace(n_nodes=5) cells (nlist 1000) 32 lists gave
#: recall@10 0.976 at 2.1 ms a query, the former max(32, nlist // 16) = 62 lists 0.998 at 6-8 ms (goal <= 5 ms,
#: >= 0.95); HNSW (M 32, efSearch 128) answered in 1.6 ms at 0.997 but took 14x IVF's build time and twice its
#: bytes, and cannot remove (docs/benchmarks.md, "11s. KnowledgeBase at 10^6")
DEFAULT_NPROBE = 32
#: a filter of at most this many architectures is searched exactly over its own vectors (more on IVF)
EXACT_FILTER_MAX = 4096


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


class FaissStore:
    """Mixed into :class:`~nasbook.knowledge.ArchIndex`: the methods that talk to its FAISS index."""

    _index: Any
    kind_built_: str
    _trained_n: int
    nprobe: int | None
    ef_search: int
    _pos: dict[str, int]
    arch_ids: list[str | None]

    if TYPE_CHECKING:  # what the mixin reads from ArchIndex
        @property
        def dim(self) -> int: ...
        def __len__(self) -> int: ...

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

    def stored_vectors(self) -> tuple[list[str], np.ndarray]:
        """The indexed architectures' ids and standardised vectors, in index order: plain data from
        which ``ArchIndex(space, kind).add_vectors(ids, x, standardised=True)`` builds the same index.

        Returns
        -------
        tuple of (list of str, numpy.ndarray)
            The architecture ids and a float32 array of shape ``(len(self), dim)``.
        """
        x, ids = self._all_vectors(alive_only=True)
        return [str(self.arch_ids[i]) for i in ids], x

    def _ivf_lists(self) -> dict[str, np.ndarray] | None:
        """An IVF index as plain arrays (None for flat and HNSW, which are rebuilt from :meth:`stored_vectors`):
        its trained centroids, and its inverted lists in their own order (each list's size, the int ids and the
        standardised vectors one list after the other). :meth:`_restore_ivf` makes the same index from them
        with no training and no assignment of the vectors to lists: what a new process's first
        ``KnowledgeBase.similar`` loads (docs/benchmarks.md 11s-kbload)."""
        import faiss

        if self.kind_built_ != "ivf" or self._index is None:
            return None
        index, d = self._index, self.dim
        lists = index.invlists
        sizes = np.array([lists.list_size(i) for i in range(index.nlist)], dtype=np.int64)
        ids, x = np.empty(int(sizes.sum()), dtype=np.int64), np.empty((int(sizes.sum()), d), dtype=np.float32)
        at = 0
        for i in np.flatnonzero(sizes).tolist():
            n = int(sizes[i])
            ids[at:at + n] = faiss.rev_swig_ptr(lists.get_ids(i), n)
            x[at:at + n] = faiss.rev_swig_ptr(lists.get_codes(i), n * d * 4).view(np.float32).reshape(n, d)
            at += n
        centroids = np.ascontiguousarray(index.quantizer.reconstruct_n(0, index.nlist), dtype=np.float32)
        return {"centroids": centroids, "sizes": sizes, "ids": ids, "vectors": x}

    def _restore_ivf(self, centroids: np.ndarray, sizes: np.ndarray, ids: np.ndarray, x: np.ndarray,
                     trained_n: int) -> None:
        """The IVF index :meth:`_ivf_lists` gave, from its arrays (checked by the caller: shapes, ids, finite
        values): the centroids into a flat quantiser, each list's entries copied as they were
        (``InvertedLists.add_entries``), the hash-table direct map filled from the lists. No FAISS reader sees
        a byte of a file, and the neighbours are the saved index's (same centroids, lists and order)."""
        import faiss

        nlist, d = centroids.shape
        quantizer = faiss.IndexFlatL2(d)
        quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
        index: Any = faiss.IndexIVFFlat(quantizer, d, nlist)
        index.is_trained = True
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        codes = np.ascontiguousarray(x, dtype=np.float32).view(np.uint8)
        at = 0
        for i in np.flatnonzero(sizes).tolist():
            n = int(sizes[i])
            index.invlists.add_entries(i, n, faiss.swig_ptr(ids[at:at + n]), faiss.swig_ptr(codes[at:at + n]))
            at += n
        index.ntotal = len(ids)
        index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
        self._index, self.kind_built_, self._trained_n = index, "ivf", int(trained_n)

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
