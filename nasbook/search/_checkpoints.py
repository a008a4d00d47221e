"""Checkpoints a search keeps for its strategy: in memory, or in the run's storage area on disk.

A strategy with ``continues_trials`` gets each finished trial's checkpoint kept (in memory) so a
later proposal can continue it. One with ``keeps_checkpoints`` as well (:class:`~nasbook.strategies.Growth`,
whose parents have many children; the multi-fidelity schedulers ASHA, successive halving and Hyperband,
whose promotions continue trials run many tells earlier) gets them kept on disk next to a SQLite database, in
``<database>.checkpoints/search-<id>/``, so that a resumed search (after Ctrl-C, or in a new process) still
finds them; the search deletes those the strategy no longer needs (``strategy.checkpoints_needed()``) after
every tell. With ``":memory:"`` or a server database they stay in memory, as long as the Search object: a
``run()`` after an exception re-reads the store but keeps them (:func:`keep_held`), as a search on
disk finds its folder again; a new process has none, and a promotion there trains from scratch (its
``epochs_run`` says so).
"""

from __future__ import annotations

import numbers
import os
import pathlib
import tempfile
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from nasbook._errors import StorageError
from nasbook.trial import Proposal, Trial

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
        fd, tmp = tempfile.mkstemp(dir=self.path, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, self._file(number))
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


def store_path(s: Search) -> pathlib.Path | None:
    """Where a search keeps checkpoints on disk: next to its SQLite file; None for other storage."""
    target = getattr(s.storage, "_target", None)
    path = getattr(target, "path", None)
    if path is None or getattr(target, "memory", False):
        return None
    return pathlib.Path(f"{path}.checkpoints") / f"search-{s._search_id}"


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
    s._checkpoints.update({n: data for n, data in held.items() if n in finished})


def open_store(s: Search) -> None:
    """Give the search the checkpoint store its strategy asks for (after the strategy is set up)."""
    if getattr(s.strategy, "keeps_checkpoints", False) and not isinstance(s._checkpoints, CheckpointDir):
        path = store_path(s)
        if path is not None:
            held = dict(s._checkpoints)
            s._checkpoints = CheckpointDir(path)  # type: ignore[assignment]
            s._checkpoints.update(held)
    prune(s)


def prune(s: Search) -> None:
    """Drop the checkpoints the strategy no longer needs (after every tell: a set difference, no folder read)."""
    needed = getattr(s.strategy, "checkpoints_needed", lambda: None)()
    if needed is None:
        return
    held = s._checkpoints
    numbers = held.held() if isinstance(held, CheckpointDir) else held.keys()
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
                          "they train from scratch.", stacklevel=6)
    return out


def epochs_trained(trial: Trial, parent_epochs: int) -> int:
    """Epochs this evaluation of ``trial`` trained (what ``budget={"epochs": ...}`` counts): the task's own
    count (``epochs_run``, in ``attrs`` as nasbook's tasks record it, or in ``metrics``), which is honest when a
    continued trial's checkpoint was gone and it trained from scratch (a resume on a store that keeps none),
    else its epochs beyond its parent's."""
    ran = trial.attrs.get("epochs_run", trial.metrics.get("epochs_run"))
    if isinstance(ran, numbers.Integral) and not isinstance(ran, bool) and 0 <= int(ran) <= (trial.epochs or 0):
        return int(ran)
    return max(0, (trial.epochs or 0) - parent_epochs)
