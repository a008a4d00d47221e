"""A SQLite database moved or copied without its ``<db>.checkpoints/`` folder warns once, when it runs."""

import shutil
import warnings
from pathlib import Path

import pytest

import nasbook
from nasbook._errors import NasbookWarning
from nasbook.search._checkpoints import CheckpointDir
from nasbook.space import CellSpace
from nasbook.strategies import ASHA
from nasbook.testing import ToyTask

SPACE = CellSpace()
KW = {"min_epochs": 1, "max_epochs": 9, "eta": 3}


class _Stop(Exception):
    pass


def _cut(db, strategy=None):
    """A search of 120 trials on ``db``, interrupted after trial 40 (as Ctrl-C would), closed."""
    def stop(search, trial):
        if trial.number == 40:
            raise _Stop

    cut = nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=strategy or ASHA(**KW), budget=120, seed=5,
                         storage=db, name="a", callbacks=[stop])
    with pytest.raises(_Stop):
        cut.run(progress="none")
    cut.close()


def _load(db):
    return nasbook.load_search("a", db, task=ToyTask(SPACE, epochs=9), space=SPACE)


def test_a_sqlite_database_moved_without_its_checkpoint_folder_warns_once_when_it_runs(tmp_path):
    db, moved = tmp_path / "a.db", tmp_path / "moved" / "a.db"
    _cut(db)
    moved.parent.mkdir()
    shutil.copy(db, moved)  # the database alone: a.db.checkpoints/ stays behind
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = _load(moved)  # (the strategy is not told the history yet: nothing to say at the load)
    with pytest.warns(NasbookWarning) as caught:
        again.run(progress="none")
    assert len(caught) == 1
    message = str(caught[0].message)
    assert f"{moved}.checkpoints" in message and "search-1/ is not there" in message and "made again" in message
    assert "from scratch" in message and "epochs_run" in message
    assert isinstance(again._checkpoints, CheckpointDir) and again._checkpoints.path == Path(f"{moved}.checkpoints") / "search-1"
    old = [t for t in again.trials if t.number > 40 and t.parent is not None and t.parent <= 40]
    assert old and all(t.metrics["epochs_run"] == t.epochs for t in old)  # what the warning said
    again.close()


@pytest.mark.parametrize("case", ["with its folder", "fresh", "keeps none"])
def test_no_warning_when_no_stored_checkpoint_is_missing(case, tmp_path):
    db, moved = tmp_path / "a.db", tmp_path / "moved" / "a.db"
    moved.parent.mkdir()
    if case == "fresh":  # created, never run: no trial had a checkpoint
        nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(**KW), budget=30, seed=5, storage=db,
                       name="a").storage.close()
    elif case == "keeps none":  # a random search continues no trial
        _cut(db, strategy="random")
    else:
        _cut(db)
        shutil.copytree(f"{db}.checkpoints", f"{moved}.checkpoints")
    shutil.copy(db, moved)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = _load(moved)
        again.run(progress="none")
    if case == "with its folder":
        old = [t for t in again.trials if t.number > 40 and t.parent is not None and t.parent <= 40]
        assert old and all(t.metrics["epochs_run"] < t.epochs for t in old)  # continued from the copied folder
    again.close()
