"""The bytes of an :class:`~nasbook.knowledge.ArchIndex`: a JSON header, then ``faiss.serialize_index``.

The bodies of ``ArchIndex.to_bytes`` and ``ArchIndex.from_bytes`` (kept there with their docstrings).
"""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING

import numpy as np

from nasbook._errors import InvalidParameterError
from nasbook.knowledge._vectors import check_space

if TYPE_CHECKING:
    from nasbook.knowledge._index import ArchIndex
    from nasbook.space import SearchSpace

_MAGIC = b"NBKIDX"
_FORMAT = 1


def to_bytes(index: ArchIndex) -> bytes:
    """The body of ``ArchIndex.to_bytes``: magic, format and header length, the JSON header, the FAISS index."""
    import faiss

    header = {
        "format": _FORMAT, "space_id": index.space_id, "kind": index.kind,
        "encoding_version": index.encoding_version, "method": index.method, "exact_max": index.exact_max,
        "nprobe": index.nprobe, "ef_search": index.ef_search, "built": index.kind_built_,
        "trained_n": index._trained_n, "mean": index.mean_.tolist(), "scale": index.scale_.tolist(),
        "arch_ids": index.arch_ids,
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    body = b"" if index._index is None else faiss.serialize_index(index._index).tobytes()
    return _MAGIC + struct.pack("<IQ", _FORMAT, len(head)) + head + body


def from_bytes(cls: type[ArchIndex], data: bytes, space: SearchSpace | None = None) -> ArchIndex:
    """The body of ``ArchIndex.from_bytes``: check the bytes (and the space's layout), rebuild the index."""
    import faiss

    from nasbook.knowledge._index import StaleIndexError

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
    index = cls.__new__(cls)
    index.space = space
    index.kind, index.method, index.exact_max = header["kind"], header["method"], header["exact_max"]
    index.nprobe, index.ef_search = header["nprobe"], header["ef_search"]
    index.space_id, index.encoding_version = header["space_id"], header["encoding_version"]
    index.mean_ = np.asarray(header["mean"], dtype=np.float32)
    index.scale_ = np.asarray(header["scale"], dtype=np.float32)
    index.arch_ids = header["arch_ids"]
    index._pos = {a: i for i, a in enumerate(index.arch_ids) if a is not None}
    index.kind_built_, index._trained_n = header["built"], header["trained_n"]
    body = data[18 + n_head:]
    try:
        index._index = faiss.deserialize_index(np.frombuffer(body, dtype=np.uint8)) if body else None
    except RuntimeError as exc:
        raise InvalidParameterError(f"ArchIndex.from_bytes: a corrupt FAISS index ({exc}); rebuild it.") from None
    if index._index is not None and index._index.ntotal != len(index._pos):
        raise InvalidParameterError(f"ArchIndex.from_bytes: the FAISS index holds {index._index.ntotal} vectors but "
                                    f"the header names {len(index._pos)}; rebuild it.")
    return index
