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
"""

from __future__ import annotations

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
