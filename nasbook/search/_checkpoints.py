"""Checkpoints a search keeps for its strategy: in memory, or in the run's storage area on disk.

A strategy with ``continues_trials`` gets each finished trial's checkpoint kept (in memory) so a
later proposal can continue it. One with ``keeps_checkpoints`` as well (:class:`~nasbook.strategies.Growth`,
whose parents have many children; the multi-fidelity schedulers ASHA, successive halving and Hyperband,
whose promotions continue trials run many tells earlier) gets them kept on disk next to a SQLite database, in
``<database>.checkpoints/search-<id>/``, so that a resumed search (after Ctrl-C, or in a new process) still
finds them; the search deletes those the strategy no longer needs (``strategy.checkpoints_needed()``) after
every tell. With ``":memory:"`` or a server database they go to a temporary folder of the search's own
(:class:`~nasbook.search._tempckpt.TempCheckpoints`; in memory where it cannot be written), as long as the Search
object or until ``close()``: a ``run()`` after an exception re-reads the store but keeps them (:func:`keep_held`),
as a search on disk finds its folder again; a new process has none, and a promotion there trains from scratch
(its ``epochs_run`` says so).

``Search(..., checkpoints="folder")`` (:class:`Folder`) puts them in ``folder/search-<id>/`` instead, for any
store: the folder is stored with the search (``config["checkpoints"]``), so ``load_search`` in another process
finds it; ``load_search(..., checkpoints=...)`` names another one (a teammate's folder mounted elsewhere). A stored
folder that is gone (deleted, or moved) where its parent folder still is, is made again when the search runs, and
its checkpoints go there; one this machine cannot reach (no such parent: a teammate's path) is never created, and
that session keeps them in a temporary folder of its own. Both warn once, at ``load_search``: the checkpoints of
trials finished before are gone, so their promotions train from scratch (``epochs_run`` says so); a SQLite
database moved without its ``<database>.checkpoints/`` folder warns at its next run (:mod:`._ckptlost`). Two
stores (two PostgreSQL databases) may both number a search 1, so ``search-<id>/`` holds a marker
(:data:`MARKER`) naming its search by a key kept in the configuration; a folder marked for another search is
refused, never read. Beside a SQLite file the marker names the search by its creation time in the store: a
database deleted and made again numbers from 1 again, and a folder marked for another search is deleted (with a
:class:`~nasbook.StaleCheckpointsWarning`), never continued. A ``":memory:"`` store (its ids start at 1 in every
process, and it cannot be resumed once its process ends) gets a folder of its own in the folder given
(:class:`~nasbook.search._tempckpt.TempCheckpoints` rooted there), deleted by ``close()`` as a temporary folder is,
with the Search object (or at exit), or by a later process once its own was killed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import re
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from nasbook._errors import (
    InvalidParameterError,
    InvalidParameterTypeError,
    NasbookWarning,
    StaleCheckpointsWarning,
    StorageError,
    stacklevel_outside_nasbook,
)
from nasbook.search import _ckptlost, _ownfolder
from nasbook.search._ckptmarker import MARKER as MARKER  # (tests and the folder checks read it here)
from nasbook.search._ckptmarker import claim as _claim
from nasbook.search._tempckpt import TempCheckpoints
from nasbook.trial import Proposal

if TYPE_CHECKING:
    from nasbook.search._search import Search


class CheckpointDir(MutableMapping[int, bytes]):
    """``trial number -> checkpoint bytes``, one file per trial in ``path`` (written atomically)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = pathlib.Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the checkpoint folder {str(self.path)!r}: {exc}") from exc
        self._held = set(self._numbers())  # what this object wrote and found: prune reads no folder per tell

    def held(self) -> set[int]:
        """The trial numbers found in the folder when it was opened, plus those written since, less those deleted."""
        return set(self._held)

    def _file(self, number: int) -> pathlib.Path:
        return self.path / f"trial-{int(number)}.ckpt"

    def __getitem__(self, number: int) -> bytes:
        try:
            return self._file(number).read_bytes()
        except FileNotFoundError:
            raise KeyError(number) from None

    def __setitem__(self, number: int, data: bytes) -> None:
        target = self._file(number)
        try:
            _write_atomically(target, data)
        except OSError as exc:
            raise StorageError(f"cannot write the checkpoint of trial {int(number)} to {str(target)!r}: "
                               f"{exc.strerror or exc}. Nothing was left half-written there; free space (or make "
                               "the folder writable) and run the search again: its trials are stored.") from exc
        self._held.add(int(number))

    def __delitem__(self, number: int) -> None:
        self._held.discard(int(number))
        try:
            self._file(number).unlink()
        except FileNotFoundError:
            raise KeyError(number) from None

    def _numbers(self) -> list[int]:
        """The trial numbers of the files named as :meth:`_file` names them; any other file (a copy,
        ``trial-3 (1).ckpt``, a file dropped in the folder) is not a checkpoint of this store."""
        found = (p.name[len("trial-"):-len(".ckpt")] for p in self.path.glob("trial-*.ckpt") if p.is_file())
        return sorted(int(n) for n in found if n.isascii() and n.isdigit() and str(int(n)) == n)

    def __iter__(self) -> Iterator[int]:
        return iter(self._numbers())

    def __len__(self) -> int:
        return len(self._numbers())

    def __repr__(self) -> str:
        return f"CheckpointDir({str(self.path)!r}, {len(self)} checkpoints)"


def _write_atomically(target: pathlib.Path, data: bytes) -> None:
    """Write ``target`` through a ``.part`` file beside it, renamed over it when complete; on any failure
    (a full disk) the ``.part`` file is removed and the error raised: ``target`` is whole or as it was."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclasses.dataclass
class Folder:
    """A folder given as ``checkpoints=`` (or stored with the search) and the key that names the search in it."""

    folder: str  # absolute, as given (or as stored)
    key: str  # 32 hex digits, kept in the search's configuration and in the marker of its ``search-<id>/``
    usable: bool = True  # False: a stored folder this machine cannot reach: a temporary folder for this session


def check_folder(owner: str, value: Any) -> pathlib.Path | None:
    """``checkpoints=``: None, or a folder this process can write (created at the first run if missing),
    made absolute. Nothing is created: a probe file is written and removed in the nearest existing folder."""
    if value is None:
        return None
    raw = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if not isinstance(raw, str):
        raise InvalidParameterTypeError(f"{owner}(checkpoints=...) must be a folder path (a str or os.PathLike) or None; "
                                        f"got {value!r:.80} of type {type(value).__name__}.")
    if not raw.strip() or raw == ":memory:" or "://" in raw:
        raise InvalidParameterError(f"{owner}(checkpoints=...) must be a folder path for checkpoint files (not a store: "
                                    f"that is storage=...); got {raw!r:.120}.")
    path = pathlib.Path(os.path.abspath(os.path.expanduser(raw)))
    problem = _unwritable(path, create=True)
    if problem:
        raise InvalidParameterError(f"{owner}(checkpoints=...) must be a folder this process can write (created if "
                                    f"missing); got {raw!r:.120}, {problem}.")
    return path


def _unwritable(path: pathlib.Path, *, create: bool) -> str:
    """Why checkpoints cannot be written under ``path`` ('' when they can); with ``create`` a missing folder
    counts when its nearest existing parent is a folder this process can write."""
    probe = path
    try:
        while create and not probe.exists() and probe.parent != probe:
            probe = probe.parent
        if not probe.exists():
            return "which does not exist on this machine"
        if not probe.is_dir():
            return f"which is a file, not a folder ({str(probe)!r})" if probe == path else f"but {str(probe)!r} is a file"
    except OSError as exc:  # e.g. a parent this process may not enter
        return f"which this process cannot reach ({exc.strerror or exc})"
    try:
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".nasbook-probe-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        return f"which this process cannot write in ({str(probe)!r}: {exc.strerror or exc})"
    _ownfolder.sweep_probes(probe)  # those of a process killed here
    return ""


def given(owner: str, value: Any) -> Folder | None:
    """``Search(checkpoints=...)``, checked: the search's :class:`Folder` with a new key, or None (the default)."""
    path = check_folder(owner, value)
    return None if path is None else Folder(str(path), uuid.uuid4().hex)


def on_load(s: Search, config: dict[str, Any], value: Any) -> None:
    """``load_search``: the folder given (checked; it replaces the stored one in the configuration, the key is
    kept), else the stored one when this machine has it; else memory for this session, with a warning."""
    _ckptlost.note_stored(s, config)  # (the SQLite-side folder's warning, at the run)
    stored = config.get("checkpoints")
    key = stored.get("key") if isinstance(stored, dict) else None
    key = key if isinstance(key, str) and re.fullmatch(r"[0-9a-f]{32}", key) else None
    path = check_folder("load_search", value)
    if path is not None:
        s._ckpt = Folder(str(path), key or uuid.uuid4().hex)
        return
    s._ckpt = None
    if stored is None:
        return
    folder = stored.get("folder") if isinstance(stored, dict) else None
    if not isinstance(folder, str) or key is None:
        problem, folder = "is damaged in the store", repr(stored)[:120]
    elif not os.path.isabs(folder):
        problem = "is not an absolute path"
    else:
        problem = _unwritable(pathlib.Path(folder), create=False)
    gone = bool(problem) and isinstance(folder, str) and key is not None and os.path.isabs(folder) and _gone(folder)
    if problem and getattr(s.strategy, "keeps_checkpoints", False):  # (a random search keeps none: nothing to say)
        where = ("which is gone (deleted or moved): it is made again when the search runs and this session's go there"
                 if gone else f"{problem.removeprefix('which ')}: this session keeps them in a temporary folder of its own "
                 "(deleted by close())")
        warnings.warn(f"search {s.name!r} keeps its checkpoints in the folder {folder!r} (stored with it), {where}. "
                      "The checkpoints of trials finished before are not there, so a promotion of such a trial trains "
                      "from scratch (its epochs_run, and epochs_spent, count it). Pass load_search(..., checkpoints="
                      "'<folder>') to use that folder as it is reached from this machine (where it was moved to), or "
                      "another one (it replaces the stored folder).", NasbookWarning, stacklevel=stacklevel_outside_nasbook())
    problem = "" if gone else problem
    if key is not None and isinstance(folder, str):  # kept in the configuration as it was
        s._ckpt = Folder(folder, key, usable=not problem)


def _gone(folder: str) -> bool:
    """A stored folder missing where its parent folder is (and this process can write there): deleted or moved,
    to be made again; not a path this machine lacks altogether (a teammate's), which is never created."""
    path = pathlib.Path(folder)
    return not os.path.lexists(path) and path.parent.is_dir() and not _unwritable(path, create=True)


def with_config(s: Search, config: dict[str, Any]) -> dict[str, Any]:
    """The configuration with the folder given as ``checkpoints=`` and the search's key in it (if any)."""
    ck = getattr(s, "_ckpt", None)
    if ck is not None:
        config["checkpoints"] = {"folder": ck.folder, "key": ck.key}
    return config


def _memory(s: Search) -> bool:
    return bool(getattr(getattr(s.storage, "_target", None), "memory", False))


def _given_path(s: Search, ck: Folder) -> pathlib.Path | None:
    """The ``search-<id>/`` folder of a search given a folder (made, and marked as the search's), or None."""
    if not ck.usable or _memory(s):  # (":memory:": a folder of its own in it, made by open_store)
        return None
    path = pathlib.Path(ck.folder) / f"search-{s._search_id}"
    found = _claim(path, {"key": ck.key, "search": s.name, "store": s.storage.label})
    if found.get("key") != ck.key:
        other = (f"search {str(found.get('search'))[:80]!r} of {str(found.get('store'))[:120]!r}"
                 if "key" in found else "a marker this search cannot read")
        raise StorageError(
            f"the checkpoint folder {str(path)!r} holds the checkpoints of another search ({other}, says its "
            f"{MARKER}): two stores keep checkpoints in {ck.folder!r} and both have a search numbered "
            f"{s._search_id}. Nothing was run and those files were not touched. Give search {s.name!r} a folder "
            f"of its own: nasbook.load_search({s.name!r}, <its storage>, checkpoints='<another folder>'), or "
            "delete that folder if its search is gone.")
    return path


def store_path(s: Search) -> pathlib.Path | None:
    """Where a search keeps checkpoints on disk: in the folder given as ``checkpoints=``, else next to its
    SQLite file; None for other storage (or a stored folder this machine lacks)."""
    ck = getattr(s, "_ckpt", None)
    target = getattr(s.storage, "_target", None)
    path = getattr(target, "path", None)
    if ck is not None:
        found = _given_path(s, ck)
    elif path is None or getattr(target, "memory", False):
        return None
    else:
        found = _beside(s, pathlib.Path(f"{path}.checkpoints") / f"search-{s._search_id}")
    if found is not None:  # (this run holds the search's lease: no other run writes there)
        _ownfolder.sweep_writes(found)
    return found


#: how much older than the search an unmarked folder must be to count as another search's
_CLOCK_SLACK_S = 2.0


def _beside(s: Search, path: pathlib.Path) -> pathlib.Path:
    """The ``search-<id>/`` folder beside a SQLite file, marked with the search's creation time in the store.

    A database deleted and made again numbers its searches from 1 again, so an earlier search's folder (the
    same name, the same number) would be read as this one's: its checkpoints continued by promotions of
    trials they never belonged to. A folder marked for another creation time, or unmarked (made before
    folders were marked) and last written before this search was created (by more than
    :data:`_CLOCK_SLACK_S`), is deleted with a :class:`~nasbook.StaleCheckpointsWarning`; an unmarked one
    written since is this search's and is marked."""
    try:
        created = float(s.storage.get_search(s.name).created_at)
    except (StorageError, OSError, AttributeError, TypeError, ValueError):  # a store that cannot tell: as before
        return path
    mine = {"created_at": created, "search": s.name, "store": s.storage.label}
    found: dict[str, Any] | None = None
    try:
        # (a file system's clock is coarser than time.time(): a folder made just after the search may read older)
        if path.is_dir() and not (path / MARKER).exists() and path.stat().st_mtime < created - _CLOCK_SLACK_S:
            found = {"search": "?", "created_at": "before markers, last written " + _when(path.stat().st_mtime)}
    except OSError:
        pass
    if found is None:
        found = _claim(path, mine)
        if found.get("created_at") == created:
            return path
    when = found.get("created_at")
    other = (f"another search {str(found.get('search'))[:80]!r} (created "
             f"{_when(when) if isinstance(when, float) else str(when)[:80]})" if "created_at" in found else
             f"another search (its {MARKER} cannot be read: {str(found.get('error', found))[:80]})")
    warnings.warn(
        f"the checkpoint folder {str(path)!r} belonged to {other}, not to search {s.name!r} created "
        f"{_when(created)} in {s.storage.label!r}: the database was deleted and made again, and its search "
        f"{s._search_id} was another one. That folder was deleted (its checkpoints fit no trial stored here); this "
        "search keeps its own there from now on. Silence with warnings.filterwarnings('ignore', "
        "category=nasbook.StaleCheckpointsWarning).", StaleCheckpointsWarning, stacklevel=stacklevel_outside_nasbook())
    _discard(path)
    found = _claim(path, mine)
    if found.get("created_at") != created:
        raise StorageError(f"the checkpoint folder {str(path)!r} was marked for another search while search "
                           f"{s.name!r} deleted its stale copy; nothing was run. Run it again.")
    return path


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _discard(path: pathlib.Path) -> None:
    """Delete a stale folder: renamed out of the way first (atomic), so it is never half there under its name."""
    gone = path.with_name(f".{path.name}.stale-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(path, gone)
    except FileNotFoundError:  # another process discarded it already
        return
    except OSError as exc:
        raise StorageError(f"cannot delete the stale checkpoint folder {str(path)!r}: {exc}. Delete it by hand, "
                           "then run the search again; nothing was run.") from exc
    shutil.rmtree(gone, ignore_errors=True)


def keep_held(s: Search, held: MutableMapping[int, bytes]) -> None:
    """Give back, after the store was re-read (``run()`` after an exception), the checkpoints held in memory.

    A search on disk finds its checkpoint folder again (:func:`open_store`); one in memory
    (``":memory:"``, a server database) had only this object's dict, which the re-read emptied, so
    its rerun grew children from scratch where the uninterrupted run grew them from their parents'
    weights. Only the checkpoints of trials the store holds finished are kept: one written for a
    trial whose commit failed belongs to no stored trial (the number is run again).
    """
    if isinstance(held, CheckpointDir):  # reopened from its path by open_store
        return
    finished = {t.number for t in s._trials}
    if isinstance(held, TempCheckpoints):  # its folder is this object's: kept, less what fits no stored trial
        for number in held.held() - finished:
            del held[number]
        s._checkpoints = held  # type: ignore[assignment]
        return
    s._checkpoints.update({n: data for n, data in held.items() if n in finished})


def open_store(s: Search) -> None:
    """Give the search the checkpoint store its strategy asks for (after the strategy is set up)."""
    if getattr(s.strategy, "keeps_checkpoints", False) and not isinstance(s._checkpoints, (CheckpointDir, TempCheckpoints)):
        held = dict(s._checkpoints)
        ck = getattr(s, "_ckpt", None)
        lost = _ckptlost.missing(s)  # (before store_path makes it)
        path = store_path(s)
        if path is not None:
            s._checkpoints = CheckpointDir(path)  # type: ignore[assignment]
            if lost is not None:
                _ckptlost.warn(s, lost)
        else:  # none beside the store: a temporary folder, or one of its own in the folder given (":memory:")
            root = pathlib.Path(ck.folder) if ck is not None and ck.usable else None
            temp = TempCheckpoints(s.name, f"search-{s._search_id}", CheckpointDir, root)
            if getattr(s, "_keep_folder", False):  # made in a set-up the exit hook found still going (_background)
                temp.keep_at_exit()
            s._checkpoints = temp  # type: ignore[assignment]
        s._checkpoints.update(held)
    prune(s)


def release(s: Search) -> None:
    """``Search.close()``: delete the folder of its own of a search that has one, temporary or in the folder given
    to a ``":memory:"`` search (a later run makes another)."""
    held = getattr(s, "_checkpoints", None)
    if isinstance(held, TempCheckpoints):
        held.release()


def prune(s: Search) -> None:
    """Drop the checkpoints the strategy no longer needs (after every tell: a set difference, no folder read)."""
    needed = getattr(s.strategy, "checkpoints_needed", lambda: None)()
    if needed is None:
        return
    held = s._checkpoints
    numbers = held.held() if isinstance(held, (CheckpointDir, TempCheckpoints)) else held.keys()
    for number in numbers - needed:
        try:
            del held[number]  # (not pop: a CheckpointDir's pop reads the file it deletes)
        except KeyError:
            pass


def fidelity(s: Search, proposal: Proposal) -> dict[str, Any] | None:
    """The task's ``fidelity`` for a proposal: epochs, the checkpoint it continues or grows from."""
    grow = proposal.grow
    if proposal.epochs is None and proposal.parent is None and grow is None:
        return None
    out: dict[str, Any] = {}
    if proposal.epochs is not None:
        out["epochs"] = proposal.epochs
    if grow is not None:
        ckpt = s._checkpoints.get(int(grow["from"]))
        if ckpt is not None:  # else (the parent's checkpoint is gone) the child trains from scratch
            out["checkpoint"] = ckpt
            out["grow"] = {k: v for k, v in grow.items() if k != "from"}
    elif proposal.parent is not None:
        ckpt = s._checkpoints.get(proposal.parent)
        if ckpt is not None:  # else (e.g. after a restart) it trains from scratch
            out["checkpoint"] = ckpt
        elif not s.strategy.continues_trials and not s._warned_parent:
            import warnings

            s._warned_parent = True
            warnings.warn(f"{type(s.strategy).__name__} proposes continuations (Proposal(parent=...)) but does "
                          "not set the class attribute continues_trials = True, so no checkpoint was kept: "
                          "they train from scratch.", stacklevel=stacklevel_outside_nasbook())
    return out

