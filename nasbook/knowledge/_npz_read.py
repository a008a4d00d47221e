"""Read the plain arrays of an uncompressed ``.npz`` (what ``np.savez`` writes) with one read of the file.

``np.load`` reads each member through ``zipfile`` in chunks, computing its CRC-32 as it goes, then copies it
into its array: at a 136 MB summary (10^6 trials) that was a fifth of a new process's first ``kb.similar``. Here
each member is read straight into its new array (one ``readinto``), located from the zip's central directory and
the member's local header, its ``.npy`` header parsed by numpy's own ``read_magic`` / ``read_array_header_*``. No CRC is computed: :mod:`._similar_store` checks every array against
its BLAKE2b digest anyway. Only what ``np.savez`` writes is taken (stored members, ``.npy`` names, no object
dtype, each member's size exactly its header and data); anything else raises ValueError, and the caller reads
the file with ``np.load`` instead (which reports real damage). No mmap: a file truncated under a live map would
stop the process (SIGBUS); each array is the process's own.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np

_LOCAL = struct.Struct("<4s2B4HL2L2H")  # zipfile's local file header (30 bytes)


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """``{name: array}`` of every member of the uncompressed ``.npz`` at ``path``, each read straight into its
    new array (``readinto``: one copy from the page cache, no chunks, no zero-filling).

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    dict of str to numpy.ndarray
        The arrays, by name (without ``.npy``).

    Raises
    ------
    ValueError
        Anything but what ``np.savez`` writes (a compressed member, an object array, sizes that disagree).
    """
    read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    out = {}
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        for info in zipfile.ZipFile(f).infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy") or info.flag_bits & 1:
                raise ValueError(f"member {info.filename!r} is not a stored .npy")
            f.seek(info.header_offset)
            head = _LOCAL.unpack(f.read(_LOCAL.size))
            if head[0] != b"PK\x03\x04":
                raise ValueError("bad local header")
            start = info.header_offset + _LOCAL.size + head[10] + head[11]
            end = start + info.file_size
            if end > size:
                raise ValueError("member beyond the file")
            f.seek(start)
            version = np.lib.format.read_magic(f)
            if version not in read_header:
                raise ValueError(f"npy version {version}")
            shape, fortran, dtype = read_header[version](f)
            if dtype.hasobject:
                raise ValueError("object array")
            arr = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
            if f.tell() + arr.nbytes != end:
                raise ValueError(f"member {info.filename!r} has {end - f.tell()} bytes for {arr.size} x {dtype}")
            raw = arr.reshape(-1, order="A").view(np.uint8)
            if f.readinto(raw.data) != arr.nbytes:
                raise ValueError("short read")
            out[info.filename[:-4]] = arr
    return out
