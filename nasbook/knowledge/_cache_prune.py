"""A bound on the cache folder's ``similar/`` tree (server databases' ``kb.similar`` summaries,
:mod:`._similar_store`): least recently used files go first once it holds more than the cap.

Each database x space x encoding kind keeps a file (about 136 MB at 10^6 trials), and a database dropped or
made again gets a new store id, so a new folder: without a bound the old ones stay forever. After every save
into the cache, :func:`prune` removes files oldest first by modification time (a load touches its file, so
that time is the last use) until the total is at most the cap, never the file just written, then the folders
it emptied. The cap: ``set_options(cache_max_bytes=...)`` when not None (False: no cap), else
``$NASBOOK_CACHE_MAX_BYTES`` when set and not empty (bytes, or with a K/M/G/T suffix, powers of 1024;
``none`` or ``off``: no cap; anything else: the default), else :data:`DEFAULT_MAX_BYTES`.

Only what nasbook writes there is touched: folders named ``<database>-<32 hex digits>`` directly in
``similar/`` and in them files named ``<space>.<kind>.npz`` (or a save's ``<...>.npz.<pid>.tmp`` that a crash
left). Nothing is followed through a symbolic link (``similar/`` itself being one: nothing is pruned), and
other names are neither removed nor counted. A SQLite file's ``<file>.similar/`` folder is not the cache and is
never pruned (its files are the database's own, one per space and kind, and go with it).

Failures never reach ``kb.similar``: a file that vanished meanwhile (another process's prune), one that cannot
be removed (permissions; on Windows, a file open elsewhere) is skipped, and the next save tries again. Removing
a file another process is reading is safe on POSIX: unlinking takes the name away, and an ``np.load`` in
progress keeps reading through its open handle (the space is freed when it closes). A process whose folder was
emptied and removed just before it saves finds no folder to write its temporary file in; that save is skipped
(``kb.similar`` answers the same) and the next one makes the folder again; so is a save whose temporary file
another process's prune removed (only when the cap leaves no room even for the newest files).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

#: the default cap, 2 GiB: some fifteen summaries of 10^6 trials (136 MB each), hundreds of smaller ones; a
#: few active databases' spaces and kinds fit, and evicting one costs only its next first call (read again)
DEFAULT_MAX_BYTES = 2 * 1024**3

#: the environment variable giving the cap, read when ``set_options(cache_max_bytes=None)``
MAX_ENV = "NASBOOK_CACHE_MAX_BYTES"

FOLDER = re.compile(r"[A-Za-z0-9_.-]{0,40}-[0-9a-f]{32}")  # _similar_store.path_for's `<database>-<key>`
FILE = re.compile(r"[A-Za-z0-9_.-]+\.npz(\.[0-9]+\.tmp)?")  # its `<space>.<kind>.npz`, and save's temporary file
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def max_bytes() -> int | None:
    """The cap on the cache's ``similar/`` tree in bytes (module docstring); None: no cap."""
    from nasbook._options import OPTIONS

    chosen = OPTIONS["cache_max_bytes"]
    if chosen is False:
        return None
    if chosen is not None:
        return int(chosen)
    env = os.environ.get(MAX_ENV, "").strip().lower()
    if env in ("none", "off"):
        return None
    found = re.fullmatch(r"([0-9]+)\s*([kmgt]?)(i?b)?", env)
    return int(found[1]) * _UNITS[found[2]] if found else DEFAULT_MAX_BYTES


def _entries(root: Path) -> list[tuple[int, str, int, Path]]:
    """``(mtime_ns, path, size, path)`` of every file nasbook wrote under ``root`` (``similar/``)."""
    found = []
    with os.scandir(root) as folders:
        for folder in folders:
            if not FOLDER.fullmatch(folder.name) or not folder.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError), os.scandir(folder.path) as files:
                for f in files:
                    if FILE.fullmatch(f.name) and f.is_file(follow_symlinks=False):
                        with contextlib.suppress(OSError):
                            st = f.stat(follow_symlinks=False)
                            found.append((st.st_mtime_ns, f.path, st.st_size, Path(f.path)))
    return found


def prune(root: Path, cap: int | None, keep: Path | None = None) -> int:
    """Remove nasbook's files under ``root`` (the cache's ``similar/``) least recently used first until they
    total at most ``cap`` bytes (None: nothing), never ``keep``, then the folders emptied; the bytes removed.
    Never raises for the file system's sake (module docstring)."""
    if cap is None:
        return 0
    try:
        if root.is_symlink() or not root.is_dir():
            return 0
        entries = sorted(_entries(root))
    except OSError:
        return 0
    total, freed, emptied = sum(e[2] for e in entries), 0, set()
    for _, _, size, path in entries:
        if total <= cap:
            break
        if keep is not None and path == keep:
            continue
        try:
            path.unlink()
        except FileNotFoundError:  # another process's prune took it
            pass
        except OSError:  # permissions; on Windows, open elsewhere: it stays, and counts
            continue
        else:
            freed += size
        total -= size
        emptied.add(path.parent)
    for folder in emptied:
        if keep is None or folder != keep.parent:
            with contextlib.suppress(OSError):  # not empty (another process's file), gone, not ours to remove
                folder.rmdir()
    return freed


def clear_cache() -> int:
    """Remove every ``KnowledgeBase.similar`` summary saved in this user's cache folder; the bytes freed.

    Server databases' (PostgreSQL) summaries are saved in the cache folder (``set_options(cache_dir=...)``,
    else ``$NASBOOK_CACHE_DIR``, else the user cache folder), bounded by ``set_options(cache_max_bytes=...)``.
    This removes them all now; the next ``kb.similar`` on each database reads its trials again. A SQLite
    file's own ``<file>.similar`` folder is left alone, and so is anything in the cache folder that nasbook did
    not write. Nothing is removed when the cache is turned off (``cache_dir=False``).

    Returns
    -------
    int
        The bytes removed (0 when there was nothing, or the cache is turned off).

    Examples
    --------
    >>> import nasbook
    >>> with nasbook.set_options(cache_dir=False):
    ...     nasbook.knowledge.clear_cache()
    0
    """
    from nasbook.knowledge._similar_store import cache_root

    root = cache_root()
    return 0 if root is None else prune(root / "similar", 0)
