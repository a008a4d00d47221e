"""``KnowledgeBase.similar``'s kept summary and index on disk, so that the first call in a new process reads
neither the trials nor encodes every architecture again.

Where: next to a SQLite file store (``<file>.similar/<space>.<kind>.npz``); for a server database (PostgreSQL)
in this user's cache folder on this machine (``<cache>/similar/<database>-<key>/<space>.<kind>.npz``, the cache
folder from ``set_options(cache_dir=...)``, else ``$NASBOOK_CACHE_DIR``, else the user cache folder:
:func:`cache_root`). The key is a digest of the URL's backend, host, port, database and user (never its
password or query: no credential reaches a file name, or the file) and of the store's id (``nasbook_meta``'s
``store_id``, a random id every new store gets: :func:`nasbook.storage.store_id`), so a database dropped and
created again at the same URL is another store, with another file. The id is also in every file's header,
SQLite's included, and a file whose id is not the store's is ignored (a SQLite file deleted and made again at
the same path). In-memory stores, a SQLite ``file:`` URI and a cache turned off keep nothing on disk.

What: one ``.npz`` of plain arrays (numbers and unicode, read with ``allow_pickle=False``), written to a temporary
file and renamed over the old one. It holds the summary's arrays (:meth:`ArchSummary.to_arrays`), the index's
architecture ids, its standardisation (``mean``, ``scale``) and its standardised vectors: of a flat index in
id order (:meth:`ArchIndex.stored_vectors`: FAISS's constructors add them again, a copy), of an IVF index
its trained centroids and inverted lists as they were (``ArchIndex._ivf_lists``: copied back into the
lists, so a new process neither trains nor assigns the vectors, and gets the saved index's neighbours). A file
found on disk is never deserialised by FAISS, whose reader is not made for bytes someone else wrote:
every array is checked (shapes, ids, finite values) and handed to FAISS as plain numbers. Also the pending
trial ids and row counts, and a JSON header: format, space, encoding kind and version, the store's id, the
index's settings, the store's change token the contents were read at, the anchor (below), and a BLAKE2b digest
of every array. A file whose format, space, encoding, store, anchor, digest or arrays do not match, or that
cannot be read at all, is ignored (and replaced by the next save); one that matches is brought up to the store's
current token as a kept summary is (merged, or everything read again), and touched (its modification time is
its last use).

The anchor (:func:`anchor`): who wrote the trial row of the largest id the summary was read up to (its search,
number and architecture, and the lease token of the run that wrote it, a random id per ``Search`` object; for a
row no run wrote, an ingested or imported one, its times). The store id alone does not tell two databases
restored from one dump (or a file put back from a backup) apart: both have the dump's id, and after they
diverge each can have the same searches, counts and largest id, so one was served the other's summary (kept,
or merged from the wrong rows). The rows they wrote after the dump are different writes, so the row at the
saved largest id is another one there: one read by primary key when a file is loaded. Ignored in vain (a file
read again) only where that row was changed in place since: a queued trial started, or one run taken over.

The cache folder's ``similar/`` is bounded (``set_options(cache_max_bytes=...)``, 2 GiB by default): after each
save there the least recently used files are removed (:mod:`._cache_prune`); a SQLite file's are not.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook.knowledge._arch_summary import ArchSummary
from nasbook.knowledge._index import ArchIndex

if TYPE_CHECKING:
    from nasbook.knowledge._similar_cache import Kept
    from nasbook.space import SearchSpace

#: 1 held FAISS's serialisation of the index (such files are read again, never loaded); 2 the vectors only (the
#: standardisation drawn again and an IVF index trained again in every new process: read again too); 3 no anchor
#: (:func:`anchor`: read again once)
FORMAT = 4


#: the environment variable naming the cache folder (``off``: none), read when ``set_options(cache_dir=None)``
CACHE_ENV = "NASBOOK_CACHE_DIR"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def cache_root() -> Path | None:
    """The folder server databases' summaries go under (:func:`path_for`); None when caching is turned off.

    ``set_options(cache_dir=...)`` when not None (False: off), else ``$NASBOOK_CACHE_DIR`` when set and not empty
    (``off``: off), else platformdirs' user cache folder for nasbook (``~/.cache/nasbook`` on Linux, honouring
    ``XDG_CACHE_HOME``), or that path itself where platformdirs is missing; None when there is no home folder."""
    from nasbook._options import OPTIONS

    chosen = OPTIONS["cache_dir"]
    if chosen is False:
        return None
    if chosen is not None:
        return Path(chosen).expanduser()
    env = os.environ.get(CACHE_ENV, "")
    if env.strip().lower() == "off":
        return None
    if env:
        return Path(env).expanduser()
    try:
        from platformdirs import user_cache_dir  # declared (pyproject.toml)

        return Path(user_cache_dir("nasbook", appauthor=False))
    except ImportError:  # an install without nasbook's dependencies (--no-deps): the Linux folder
        pass
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    try:
        return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "nasbook"
    except RuntimeError:  # no home folder to be found
        return None


def store_of(kb: Any) -> str | None:
    """The store's id (:func:`nasbook.storage.store_id`, read once per ``kb``); None where none can be read or
    written (a database that has none and refuses the write: nothing is kept on disk for it then)."""
    if "_store_id" not in kb.__dict__:
        from nasbook._errors import StorageError
        from nasbook.storage import store_id

        try:
            kb.__dict__["_store_id"] = kb._write(store_id)
        except StorageError:
            kb.__dict__["_store_id"] = None
    found: str | None = kb.__dict__["_store_id"]
    return found


def path_for(kb: Any, space_id: str, kind: str | None) -> Path | None:
    """Where the summary of ``(space_id, kind)`` is kept for ``kb``: next to a SQLite file, in :func:`cache_root`
    for a server database with a store id; None for an in-memory store, a SQLite URI, or caching turned off."""
    url = kb.storage.engine.url
    db = url.database
    name = _safe(f"{space_id}.{kind or 'default'}") + ".npz"
    if url.get_backend_name() == "sqlite":
        if not db or db == ":memory:" or db.startswith("file:") or url.query.get("uri"):
            return None
        file = Path(db).expanduser()
        return file.with_name(file.name + ".similar") / name
    root = cache_root()
    sid = store_of(kb) if root is not None else None
    if root is None or sid is None:
        return None
    where = json.dumps([url.get_backend_name(), url.host, url.port, db, url.username, sid])  # no password, no query
    key = hashlib.blake2b(where.encode(), digest_size=16).hexdigest()
    return root / "similar" / f"{_safe(str(db or ''))[:40]}-{key}" / name


def anchor(kb: Any, top: int) -> list[Any] | None:
    """What identifies the write of the trial row of id ``top`` (the largest a summary was read up to), as JSON:
    ``[search_id, number, arch_id, owner, started_at, finished_at]``, the times only for a row no run owns (an
    ingested, imported or mirrored one: written finished, once); None when there is no such row. One read by
    primary key."""
    import sqlalchemy as sa

    from nasbook.storage import TABLES

    t = TABLES["trials"].c
    rows = kb._rows(sa.select(t.search_id, t.number, t.arch_id, t.owner, t.started_at, t.finished_at).where(t.id == top))
    if not rows:
        return None
    sid, number, arch_id, owner, started, finished = rows[0]
    times = [None, None] if owner is not None else [None if x is None else float(x) for x in (started, finished)]
    return [int(sid), int(number), str(arch_id), None if owner is None else str(owner), *times]


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.blake2b(digest_size=32)
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.reshape(-1).view(np.uint8).data if a.dtype.itemsize else b"")  # a.tobytes(), not copied
    return h.hexdigest()


class _Digest:
    """:func:`_digest` of ``arrays`` (a copy of the dict: the caller pops from its own), computed on a thread
    while the caller builds the summary and the index from the same arrays (nothing is returned before
    :meth:`result` agreed with the header, so nothing built from damaged arrays is used)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        import threading

        self._arrays, self._out = dict(arrays), ""
        self._thread = threading.Thread(target=self._run, name="nasbook-similar-digest", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._out = _digest(self._arrays)

    def result(self) -> str:
        self._thread.join()
        return self._out


def _tuples(x: Any) -> Any:
    return tuple(_tuples(v) for v in x) if isinstance(x, list) else x


def save(path: Path, kept: Kept, space_id: str, kind: str | None, store: str | None = None,
         anchored: list[Any] | None = None) -> bool:
    """Write ``kept`` to ``path`` (atomically), for the store of id ``store`` whose row at ``kept.top`` is
    ``anchored`` (:func:`anchor`); False when the file cannot be written (nothing is kept then). A folder made in
    the cache folder is this user's only (mode 0o700)."""
    arrays = kept.summary.to_arrays()
    arrays.update(_index_arrays(kept.index))
    arrays["pending"] = np.array(sorted(kept.pending), dtype=np.int64)
    arrays["counts"] = np.array(sorted(kept.counts.items()), dtype=np.int64).reshape(-1, 2)
    header = {"format": FORMAT, "space_id": space_id, "kind": kind, "index_kind": kept.index.kind,
              "encoding_version": kept.index.encoding_version, "method": kept.index.method,
              "exact_max": kept.index.exact_max, "nprobe": kept.index.nprobe, "ef_search": kept.index.ef_search,
              "trained_n": kept.index._trained_n, "token": kept.token, "top": kept.top,
              "store": store, "anchor": anchored, "digest": _digest(arrays)}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        private = not path.parent.name.endswith(".similar")  # a cache folder's (``<database>-<key>``), not a file's
        path.parent.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            named: dict[str, Any] = {"header": np.array(json.dumps(header)), **arrays}
            np.savez(f, **named)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):  # a read-only directory, a full disk, a token JSON cannot hold
        with contextlib.suppress(OSError):  # (a file where the folder would be: not there to remove either)
            tmp.unlink(missing_ok=True)
        return False
    _prune_after(path)
    return True


def _prune_after(path: Path) -> None:
    """Bound the cache folder's ``similar/`` once ``path`` was saved there (:mod:`._cache_prune`; never a SQLite
    file's ``<file>.similar``): never fails the save."""
    from nasbook.knowledge import _cache_prune

    try:
        root = cache_root()
        if root is not None and path.parent.parent == root / "similar":
            _cache_prune.prune(path.parent.parent, _cache_prune.max_bytes(), keep=path)
    except Exception:  # noqa: BLE001, S110 - housekeeping only: kb.similar's answer does not depend on it
        pass


def load(path: Path | None, space: SearchSpace, kind: str | None, store: str | None = None,
         anchor_of: Callable[[int], Any] | None = None) -> Kept | None:
    """The kept state saved at ``path`` for the store of id ``store``, or None when there is none or it does not
    check out: with ``anchor_of`` (the store's :func:`anchor` at an id), also when the store's row at the saved
    largest id is not the one the file was read with (another database restored from the same dump).

    The file is read by ``np.load``, and its digest is computed on a thread while the index and summary are made from the same
    arrays: nothing made is returned unless the digest agrees (docs/benchmarks.md, kbperf)."""
    from nasbook.knowledge._similar_cache import Kept

    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        header = json.loads(str(arrays.pop("header")))
        if (not isinstance(header, dict) or header.get("format") != FORMAT or header.get("space_id") != space.space_id
                or header.get("kind") != kind or header.get("store") != store):
            return None
        digest = _Digest(arrays)  # hashed on another thread meanwhile (hashlib lets go of the GIL); awaited below
        if header["encoding_version"] != space.encoding_version(header["index_kind"]):
            return None
        if anchor_of is not None and header.get("anchor") != anchor_of(int(header["top"])):
            return None  # not the store the summary was read from, though it has its id (a restored dump)
        index = ArchIndex(space, header["index_kind"], method=header["method"], exact_max=header["exact_max"],
                          nprobe=header["nprobe"], ef_search=header["ef_search"],
                          reference=(arrays.pop("index_mean"), arrays.pop("index_scale")))
        if index.kind != header["index_kind"] or not _load_index(index, arrays, header):
            return None
        pending, counts = arrays.pop("pending"), arrays.pop("counts")
        summary = ArchSummary.from_arrays(arrays, space.space_id)
        kept = summary._specs  # the same ids as the index's (distinct, as many: then each one is kept)
        if len(kept) != len(index._pos) or not index._pos.keys() <= kept.keys() or digest.result() != header.get("digest"):
            return None
        with contextlib.suppress(OSError):  # used now: the cache's prune removes least recently used files first
            os.utime(path)
        return Kept(_tuples(header["token"]), summary, index, int(header["top"]), {int(i) for i in pending},
                    {int(s): int(n) for s, n in counts}, "loaded", summary.n_rows)
    except Exception:  # noqa: BLE001 - any damage (truncated zip, bad JSON, wrong shapes, a stale index): rebuild
        return None


def _index_arrays(index: ArchIndex) -> dict[str, np.ndarray]:
    """The index as ``save`` writes it: ids (in int-id order, renumbered 0..n-1 on load), mean and scale, then
    a flat index's vectors in that order, or an IVF index's centroids, list sizes, and per list entry its row
    in the ids and its vector."""
    out = {"index_mean": index.mean_, "index_scale": index.scale_}
    lists = index._ivf_lists()
    if lists is None:
        ids, vectors = index.stored_vectors()
        out["index_ids"], out["index_vectors"] = np.array(ids, dtype=str), vectors
        return out
    alive = np.array(sorted(index._pos.values()), dtype=np.int64)
    out["index_ids"] = np.array([index.arch_ids[i] for i in alive.tolist()], dtype=str)
    out["index_vectors"], out["index_sizes"], out["index_centroids"] = lists["vectors"], lists["sizes"], lists["centroids"]
    out["index_rows"] = np.searchsorted(alive, lists["ids"]).astype(np.int64)  # ascending: ties keep their order
    return out


def _load_index(index: ArchIndex, arrays: dict[str, np.ndarray], header: dict[str, Any]) -> bool:
    """Fill the new ``index`` from ``_index_arrays``' arrays (popped); False when they do not fit together."""
    saved, x = arrays.pop("index_ids"), arrays.pop("index_vectors")
    ids = saved.tolist() if saved.dtype.kind == "U" else list(map(str, saved.tolist()))  # "U": already str
    if "index_centroids" not in arrays:
        index.add_vectors(ids, x, standardised=True)
        return True
    centroids, sizes, rows = arrays.pop("index_centroids"), arrays.pop("index_sizes"), arrays.pop("index_rows")
    n, d = len(ids), index.dim
    trained = header.get("trained_n")
    if (centroids.ndim != 2 or centroids.shape[1] != d or len(centroids) < 1 or sizes.shape != (len(centroids),)
            or sizes.dtype != np.int64 or rows.dtype != np.int64 or rows.shape != (n,) or x.shape != (n, d)
            or x.dtype != np.float32 or (sizes < 0).any() or int(sizes.sum()) != n or len(pos := dict(zip(ids, range(n)))) != n
            or not (np.bincount(rows, minlength=n) == 1).all() or not np.isfinite(centroids).all()
            or not np.isfinite(x).all() or type(trained) is not int or trained < 1):
        return False  # (bincount raises on a negative row, caught by load: every row is one of the ids, once)
    index.arch_ids, index._pos = ids, pos
    index._restore_ivf(centroids, sizes, rows, x, trained)
    return True
