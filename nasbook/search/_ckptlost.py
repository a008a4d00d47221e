"""One warning when a search beside a SQLite file finds its checkpoint folder gone (the database moved or copied alone).

A search on a SQLite file keeps its multi-fidelity checkpoints in ``<database>.checkpoints/search-<id>/``. A
database copied or moved without that folder (to another machine, into a results folder) was resumed silently:
the folder was made again, empty, and the promotions of the trials finished before trained from scratch with no
word, where a search given ``checkpoints=`` whose folder is gone warns once at ``load_search``. The store records no
checkpoint itself, only the trials; so the run that opens the folder (:func:`missing`, before it is made) warns once
when it was not there and the strategy, told the stored history, still needs the checkpoints of finished trials
(``checkpoints_needed()``) and the strategy the stored trials ran under (the stored one, :func:`note_stored`) kept
checkpoints too: a fresh search, a strategy that keeps none, one whose stored trials it will not continue, or a
random search loaded with ASHA or Growth (its trials never had a checkpoint kept), is not warned about.

``load_search(..., checkpoints=<another folder>)`` replaces the stored folder (the one given as ``checkpoints=``
before, or the one beside the SQLite file). Given a folder whose ``search-<id>/`` holds no checkpoint while the
old one holds some, the search started there empty, silently, and the promotions of the trials finished before
trained from scratch. Nothing is moved or copied (the old folder may be a teammate's, or still in use by another
copy of the store): :func:`warn_relocated` warns once, at ``load_search``, naming both folders and how to keep
them (copy ``search-<id>/`` over, or pass the old folder). An old folder this machine cannot reach is warned
about when the store holds finished trials (it cannot be told whether it held checkpoints); one it reaches and
finds without checkpoints is not.
"""

from __future__ import annotations

import os
import pathlib
import warnings
from typing import TYPE_CHECKING, Any

from nasbook._errors import NasbookWarning, stacklevel_outside_nasbook

if TYPE_CHECKING:
    from nasbook.search._search import Search


def note_stored(s: Search, config: dict[str, Any]) -> None:
    """``load_search``: note whether the strategy the stored trials ran under (``config["strategy"]``, before a
    strategy given here replaces it) kept checkpoints; one nasbook cannot rebuild here counts as keeping none."""
    stored = config.get("strategy")
    kept = False
    if isinstance(stored, dict) and stored.get("class") == type(s.strategy).__name__:
        kept = bool(getattr(s.strategy, "keeps_checkpoints", False))  # (the same class: as the search's own)
    elif isinstance(stored, dict):
        from nasbook.search._resume import strategy_or_why

        try:
            rebuilt = strategy_or_why(stored)
        except Exception:  # a damaged configuration: cannot tell, say nothing
            rebuilt = None
        kept = bool(getattr(rebuilt, "keeps_checkpoints", False))  # (False for a NotRebuilt)
    setattr(s, "_ckpt_kept_before", kept)  # noqa: B010  (read by warn(); no attribute of Search's own)


def missing(s: Search) -> pathlib.Path | None:
    """The ``search-<id>/`` folder beside the search's SQLite file when it is not there (None when it is, or when
    the search keeps its checkpoints elsewhere: a folder given, which ``load_search`` warns about, or no file)."""
    if getattr(s, "_ckpt", None) is not None:
        return None
    target = getattr(s.storage, "_target", None)
    path = getattr(target, "path", None)
    if path is None or getattr(target, "memory", False):
        return None
    folder = pathlib.Path(f"{path}.checkpoints") / f"search-{s._search_id}"
    try:
        return None if folder.exists() else folder
    except OSError:  # cannot tell: say nothing
        return None


def warn(s: Search, folder: pathlib.Path) -> None:
    """Warn once that ``folder`` (made again now) lacks the checkpoints the strategy needs of finished trials."""
    if not getattr(s, "_ckpt_kept_before", True):  # (a Search() made here: its own strategy's)
        return
    needed = s.strategy.checkpoints_needed()
    finished = {t.number for t in s._trials if t.state.has_value}
    lost = finished if needed is None else finished & set(needed)
    if not lost:
        return
    warnings.warn(f"search {s.name!r} keeps its checkpoints beside its database, in {str(folder.parent)!r}, but "
                  f"{folder.name}/ is not there (the database was moved or copied without it): it is made again now. "
                  f"The checkpoints of {len(lost)} trials finished before that its strategy may still continue are "
                  "gone, so a promotion of such a trial trains from scratch (its epochs_run, and epochs_spent, count "
                  "it). To keep them, stop the search and copy the old database's <database>.checkpoints/"
                  f"{folder.name}/ over the new one before running it again.", NasbookWarning,
                  stacklevel=stacklevel_outside_nasbook())


def _ckpt_files(folder: pathlib.Path) -> int | None:
    """How many checkpoint files ``folder`` holds (0 when it is missing); None when this process cannot look."""
    try:
        return sum(1 for p in folder.glob("trial-*.ckpt") if p.is_file()) if folder.is_dir() else 0
    except OSError:
        return None


def warn_relocated(s: Search, config: dict[str, Any]) -> None:
    """``load_search(..., checkpoints=...)`` (after the search is attached): warn once when the folder given holds
    no checkpoint of the search while the one it replaces (stored, or beside the SQLite file) holds some."""
    ck = getattr(s, "_ckpt", None)
    if ck is None or not getattr(s.strategy, "keeps_checkpoints", False) or not getattr(s, "_ckpt_kept_before", False):
        return
    label = f"search-{s._search_id}"
    stored = config.get("checkpoints")
    old: str | None
    if isinstance(stored, dict):
        old = stored.get("folder") if isinstance(stored.get("folder"), str) else None
    else:
        target = getattr(s.storage, "_target", None)
        path = getattr(target, "path", None)
        old = None if path is None or getattr(target, "memory", False) else f"{path}.checkpoints"
    if old is None or not os.path.isabs(old) or os.path.normpath(old) == os.path.normpath(ck.folder):
        return  # (a server database given no folder: a temporary one, gone with its process)
    if _ckpt_files(pathlib.Path(ck.folder) / label):  # the old folder as mounted here, or a copy of it
        return
    held = _ckpt_files(pathlib.Path(old) / label)
    finished = sum(1 for t in s._trials if t.state.has_value)
    if held == 0 or not finished:
        return
    what = f"{held} checkpoint files" if held is not None else "the checkpoints (this process cannot look there)"
    warnings.warn(f"search {s.name!r} kept its checkpoints in {str(pathlib.Path(old) / label)!r}, which holds {what}; "
                  f"the folder given, {ck.folder!r}, replaces it and holds none of them ({label}/ is empty or missing). "
                  f"Nothing was moved: run as it is, a promotion of one of the {finished} trials finished before trains "
                  "from scratch (its epochs_run, and epochs_spent, count it). To continue them, copy (or move) "
                  f"{str(pathlib.Path(old) / label)!r} to {str(pathlib.Path(ck.folder) / label)!r} before running it, "
                  f"or pass load_search(..., checkpoints={old!r}).", NasbookWarning, stacklevel=stacklevel_outside_nasbook())
