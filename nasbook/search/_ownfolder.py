"""Folders of their own for searches on a ``":memory:"`` store, and sweeping up those a killed process left.

A ``":memory:"`` search given ``checkpoints=`` keeps them in a folder of its own under it (its ids start at 1
in every process and it cannot be resumed once its process ends). One given no folder on a store with no disk
beside it (``":memory:"``, a server database) keeps them in such a folder in the system's temporary folder. Both
are :class:`~nasbook.search._tempckpt.TempCheckpoints`, deleted by ``Search.close()``, with the Search object or at
exit. A process killed with SIGKILL (the out-of-memory killer, a cluster's time limit, a kernel restart) runs
none of these, and its folder stayed behind, a checkpoint per pending promotion, forever. So each such folder holds a lock file that its process
keeps ``fcntl.flock``-ed while the folder is in use (the kernel releases it when the process dies, however it
dies), and the next process that makes one in the same place first deletes every folder of that kind whose lock
it can take. Only folders named as nasbook names them (:data:`PREFIX`) and holding a lock file are considered:
a folder is born with its lock held (made under a temporary name, locked, then renamed), so one being made or
used by a live process is never taken for a leftover, and nothing else in the folder is ever touched.

A process killed while it made one (between ``mkdtemp`` and the rename) left a ``.nasbook-making-<random>/``
folder (:data:`MAKING`) instead, also never deleted. The sweep deletes those too, only when their lock file is
free (or missing: killed before it was made) and the folder is older than :data:`MAKING_GRACE_S`: a live process
holds the lock from a few microseconds after ``mkdtemp`` until the rename, and the grace covers that window.

A folder whose run is still going at the interpreter's exit (a background search the exit hook could not stop:
:mod:`nasbook.search._background`) is not deleted at exit (:func:`keep_at_exit`): deleted under the run, its next
write failed. It stays locked until the process is gone, then the next process's sweep deletes it.

Writes left half-done by a killed process are swept too (:func:`sweep_writes`, :func:`sweep_probes`): a checkpoint
or a marker is written to a ``.<name>.<random>.part`` file renamed over its name when whole, a folder's writability is
probed with an empty ``.nasbook-probe-<random>`` file deleted at once, and a stale ``search-<id>/`` folder is renamed
``.search-<id>.stale-<hex>/`` then deleted; a SIGKILL in between left them forever. Each is taken for a dead writer's
once not modified for :data:`MAKING_GRACE_S` (a live writer writes a checkpoint in one go, a probe lives microseconds);
``.part`` files only in a ``search-<id>/`` folder opened by the run holding the search's lease (no other run writes
there), and a ``.stale-`` folder is garbage from its rename on (two deleting it at once do no harm).

Where ``fcntl`` is missing (Windows), folders are still deleted with the Search object or at exit, and none is swept.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import shutil
import tempfile
import time
import uuid
import weakref
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: how the folders of ``":memory:"`` searches are named (and recognised when swept): ``nasbook-memory-search-<id>-<random>``
PREFIX = "nasbook-memory-"
#: the file in such a folder that its live process keeps locked
LOCK = ".nasbook-lock"
#: how a folder is named while :func:`make` makes it (swept once its maker is dead, :func:`sweep`)
MAKING = ".nasbook-making-"
#: how old (seconds since made) an unlocked :data:`MAKING` folder must be to be taken for a dead maker's
MAKING_GRACE_S = 60.0


def make(owner: Any, root: pathlib.Path, label: str) -> pathlib.Path:
    """A new folder ``root/nasbook-memory-<label>-<random>/`` held by this process until ``owner`` is collected
    (or the interpreter exits), then deleted; leftovers of dead processes in ``root`` are deleted first."""
    root.mkdir(parents=True, exist_ok=True)
    sweep(root)
    making = pathlib.Path(tempfile.mkdtemp(prefix=MAKING, dir=root))  # swept only once its lock is free and it is old
    try:
        fd = os.open(making / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError:
        shutil.rmtree(making, ignore_errors=True)
        raise
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody else knows the folder yet
        folder = root / f"{PREFIX}{label}-{uuid.uuid4().hex[:12]}"
        os.rename(making, folder)  # born locked under its final name
    except BaseException:
        os.close(fd)
        shutil.rmtree(making, ignore_errors=True)
        raise
    _finalizers[folder] = weakref.finalize(owner, _release, fd, folder)
    return folder


#: the folders this process holds, by path: their finalizers (run at collection, at exit, or by :func:`release`)
_finalizers: dict[pathlib.Path, weakref.finalize] = {}


def release(folder: pathlib.Path) -> None:
    """Delete a folder :func:`make` made now (``Search.close()``), not when its owner is collected; once only."""
    finalizer = _finalizers.pop(folder, None)
    if finalizer is not None:
        finalizer()


def keep_at_exit(folder: pathlib.Path) -> None:
    """Leave ``folder`` at the interpreter's exit (a run still writing there: a search the exit hook could not stop),
    held locked until the process is gone, then swept by the next process that makes a folder in the same place."""
    finalizer = _finalizers.get(folder)
    if finalizer is not None:
        finalizer.atexit = False


def _release(fd: int, folder: pathlib.Path) -> None:
    _finalizers.pop(folder, None)
    shutil.rmtree(folder, ignore_errors=True)  # deleted while still held: no sweeper deletes it under us
    with contextlib.suppress(OSError):
        os.close(fd)


def sweep(root: pathlib.Path) -> list[pathlib.Path]:
    """Delete the folders in ``root`` that a dead process made (named :data:`PREFIX`..., their lock free), and
    those a process killed while making one left (:data:`MAKING`..., lock free or missing, older than
    :data:`MAKING_GRACE_S`); returns them. A folder whose lock a live process holds is left alone, and so is a
    :data:`PREFIX` one without a lock file."""
    if fcntl is None:  # pragma: no cover - Windows: no way to tell a live folder from a leftover
        return []
    swept = []
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith((PREFIX, MAKING))]
    except OSError:
        return []
    for folder in candidates:
        making = folder.name.startswith(MAKING)
        try:
            if folder.is_symlink() or not folder.is_dir():
                continue
            if making and time.time() - folder.stat().st_mtime < MAKING_GRACE_S:  # perhaps being made now
                continue
        except OSError:  # gone meanwhile
            continue
        try:
            fd = os.open(folder / LOCK, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:  # no lock file: not one of ours as made here (or gone); a maker killed before it
            if making:
                shutil.rmtree(folder, ignore_errors=True)
                swept.append(folder)
            continue
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # a live process holds it
                continue
            if os.fstat(fd).st_nlink == 0:  # another sweeper deleted it between our open and our lock
                continue
            shutil.rmtree(folder, ignore_errors=True)
            swept.append(folder)
        finally:
            os.close(fd)
    return swept


#: a dead writer's leftovers, by name: a checkpoint's or marker's ``.part`` file, a probe, a stale folder being deleted
_PART = re.compile(r"\.(trial-\d+\.ckpt|search\.json)\.[a-z0-9_]{8}\.part")
_PROBE = re.compile(r"\.nasbook-probe-[a-z0-9_]{8}")
_STALE = re.compile(r"\.search-\d+\.stale-[0-9a-f]{8}")


def _old(entry: os.DirEntry[str], *, folder: bool) -> bool:
    """``entry`` is a plain file (``folder``: a folder), no link, not modified for :data:`MAKING_GRACE_S`."""
    try:
        if entry.is_symlink() or not (entry.is_dir() if folder else entry.is_file()):
            return False
        return time.time() - entry.stat(follow_symlinks=False).st_mtime >= MAKING_GRACE_S
    except OSError:  # gone meanwhile
        return False


def sweep_writes(folder: pathlib.Path) -> list[pathlib.Path]:
    """Delete the ``.part`` files a dead writer left in a ``search-<id>/`` folder (its run holds the search's lease)
    and the ``.search-<id>.stale-<hex>/`` folders a dead process left beside it, once old; returns them."""
    swept = []
    for where, pattern, is_dir in ((folder, _PART, False), (folder.parent, _STALE, True)):
        try:
            entries = [e for e in os.scandir(where) if pattern.fullmatch(e.name) and _old(e, folder=is_dir)]
        except OSError:
            continue
        for entry in entries:
            path = pathlib.Path(entry.path)
            if is_dir:
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    path.unlink()
            swept.append(path)
    return swept


def sweep_probes(folder: pathlib.Path) -> list[pathlib.Path]:
    """Delete the empty ``.nasbook-probe-*`` files a process killed while probing ``folder`` left, once old."""
    try:
        entries = [e for e in os.scandir(folder) if _PROBE.fullmatch(e.name) and _old(e, folder=False)]
    except OSError:
        return []
    swept = []
    for entry in entries:
        with contextlib.suppress(OSError):
            if entry.stat(follow_symlinks=False).st_size == 0:  # a probe is never written to
                os.unlink(entry.path)
                swept.append(pathlib.Path(entry.path))
    return swept
