"""Checkpoints of a search whose store has no disk beside it, in a temporary folder of its own instead of memory.

ASHA, successive halving, Hyperband and Growth keep a checkpoint per trial they may still continue: about 0.58 N
of them for ASHA after N trials (~1 MB each for a small CNN with its optimizer state). Beside a SQLite file, or in
a folder given as ``checkpoints=``, they are files; on a ``":memory:"`` store or a server database given no
folder they were held in memory, and a long ASHA run grew without bound. They now go to a folder of the search's
own in the system's temporary folder (``tempfile.gettempdir()``, set by ``TMPDIR``):
``nasbook-memory-search-<id>-<random>/``, made by :mod:`nasbook.search._ownfolder` when the first checkpoint
is written (a search that writes none makes none), held locked while in use, deleted by ``Search.close()``, when
the Search object is collected or at exit, and by the next process that makes one if this one was killed.

Nothing else changes: the same checkpoints are read back, so the same trials are promoted and continued. A new
process never finds them (its folder is new; the old one is swept once its process is dead), as it never found
those held in memory: a ``":memory:"`` store dies with its process anyway, and a search on a server database
resumed elsewhere re-trains the promotions of earlier trials from scratch (``epochs_run`` says so) unless it was
given ``checkpoints=``. Where the temporary folder cannot be written (read-only, full), the checkpoints stay in
memory as before, with one :class:`~nasbook.NasbookWarning`.

A ``":memory:"`` search given ``checkpoints=`` keeps them the same way in a folder of its own in that folder
(``root``): it cannot be resumed once its process ends, so its folder too is deleted by ``close()`` (a later
``run()`` makes a new one), with the object, at exit, or by a later process. A write failing there raises (the
folder was the user's choice), as one in a ``search-<id>/`` folder does, instead of falling back to memory.
"""

from __future__ import annotations

import pathlib
import tempfile
import warnings
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from nasbook._errors import NasbookWarning, StorageError, stacklevel_outside_nasbook
from nasbook.search import _ownfolder


class TempCheckpoints(MutableMapping[int, bytes]):
    """``trial number -> checkpoint bytes`` in a folder of its own made at the first write, in the system's
    temporary folder or in ``root`` (``open_dir(folder)`` gives the mapping of its files, a
    :class:`~nasbook.search._checkpoints.CheckpointDir`); in memory from the first write that fails in a
    temporary folder on (one failing in ``root`` raises StorageError)."""

    def __init__(self, search: str, label: str, open_dir: Callable[[pathlib.Path], Any], root: pathlib.Path | None = None):
        self.search = search  # its name, for the warning
        self.label = label  # "search-<id>": the folder is nasbook-memory-<label>-<random>
        self._open_dir = open_dir
        self.root = root  # the folder given as checkpoints= (a write there that fails raises); None: the temporary one
        self._dir: Any = None  # the CheckpointDir, once made
        self.memory: dict[int, bytes] = {}  # where checkpoints go once the folder cannot be written
        self._fallen_back = False
        self._kept = False  # keep_at_exit() was called

    @property
    def path(self) -> pathlib.Path | None:
        """The folder, once the first checkpoint made it (None before, and after :meth:`release`)."""
        return None if self._dir is None else self._dir.path

    def held(self) -> set[int]:
        """The trial numbers held (no folder read)."""
        return (self._dir.held() if self._dir is not None else set()) | set(self.memory)

    def __getitem__(self, number: int) -> bytes:
        if number in self.memory:
            return self.memory[number]
        if self._dir is None:
            raise KeyError(number)
        data: bytes = self._dir[number]
        return data

    def __setitem__(self, number: int, data: bytes) -> None:
        if not self._fallen_back:
            root = self.root if self.root is not None else pathlib.Path(tempfile.gettempdir())
            try:
                if self._dir is None:
                    self._dir = self._open_dir(_ownfolder.make(self, root, self.label))
                    if self._kept:
                        _ownfolder.keep_at_exit(self._dir.path)
                self._dir[number] = data
                return
            except OSError as exc:
                if self.root is None:
                    self._fall_back(root, exc)
                else:
                    raise StorageError(f"cannot create a checkpoint folder in {str(root)!r}: {exc}") from exc
            except StorageError as exc:
                if self.root is not None:
                    raise
                self._fall_back(root, exc)
        if self._dir is not None and int(number) in self._dir.held():  # an older copy on disk: this one wins
            del self._dir[number]
        self.memory[int(number)] = data

    def _fall_back(self, root: pathlib.Path, exc: BaseException) -> None:
        self._fallen_back = True
        cause = exc.__cause__ if isinstance(exc, StorageError) and exc.__cause__ is not None else exc
        why = getattr(cause, "strerror", None) or str(cause)
        where = str(self.path) if self.path is not None else str(root)
        warnings.warn(f"search {self.search!r} cannot keep its checkpoints in a temporary folder in {where!r} "
                      f"({why[:160]}): it keeps them in memory from now on (about one per trial a promotion may "
                      "still continue, as large as a checkpoint of the task's network). Give it a folder it can write, "
                      "Search(..., checkpoints='<folder>'), or point TMPDIR at one.", NasbookWarning,
                      stacklevel=stacklevel_outside_nasbook())

    def __delitem__(self, number: int) -> None:
        found = self.memory.pop(int(number), None) is not None
        if self._dir is not None and int(number) in self._dir.held():
            del self._dir[number]
            found = True
        if not found:
            raise KeyError(number)

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self.held()))

    def __len__(self) -> int:
        return len(self.held())

    def release(self) -> None:
        """Delete the folder and everything held (``Search.close()``); a later write makes a new folder."""
        if self._dir is not None:
            _ownfolder.release(self._dir.path)
        self._dir = None
        self.memory.clear()
        self._fallen_back = False

    def keep_at_exit(self) -> None:
        """Leave the folder (and one made later) at the interpreter's exit, its run still going in a daemon thread:
        deleted under it, the run's next write failed; the next process's sweep deletes it once this one is gone."""
        self._kept = True
        if self._dir is not None:
            _ownfolder.keep_at_exit(self._dir.path)

    def __repr__(self) -> str:
        where = str(self.path) if self.path is not None else "no folder yet"
        return f"TempCheckpoints({where!r}, {len(self)} checkpoints, {len(self.memory)} in memory)"
