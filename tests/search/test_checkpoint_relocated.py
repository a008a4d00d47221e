"""``load_search(..., checkpoints=<another folder>)`` for a search whose checkpoints are in another folder (the one
given before, or the one beside its SQLite file) warns once, naming both folders, when the folder given holds none
of them: the search started there empty, silently, and the promotions of earlier trials trained from scratch.
Nothing is moved; the same folder given again, or a copy of the old one, is not warned about.
"""

import shutil
import warnings

import pytest

import nasbook
from nasbook.space import CellSpace
from nasbook.strategies import ASHA
from nasbook.testing import ToyTask

SPACE = CellSpace()


def _asha(path, **kw):
    return nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(min_epochs=1, max_epochs=9, eta=3),
                          budget=12, seed=3, storage=path, name="a", **kw)


def _load(path, folder):
    return nasbook.load_search("a", path, task=ToyTask(SPACE, epochs=9), space=SPACE, checkpoints=folder)


def _quiet_load(path, folder):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = _load(path, folder)
    s.storage.close()


@pytest.mark.parametrize("given_before", [False, True])
def test_another_folder_given_at_load_warns_naming_both_when_it_lacks_the_old_ones_checkpoints(tmp_path, given_before):
    db = str(tmp_path / "s.db")
    old = tmp_path / "old"
    s = _asha(db, **({"checkpoints": str(old)} if given_before else {})).run(progress="none")
    s.storage.close()
    old_search = (old if given_before else tmp_path / "s.db.checkpoints") / "search-1"
    assert sorted(old_search.glob("trial-*.ckpt"))  # trials a promotion may still continue
    new = tmp_path / "new"
    new.mkdir()

    with pytest.warns(nasbook.NasbookWarning, match="kept its checkpoints in") as caught:
        loaded = _load(db, str(new))
    loaded.storage.close()
    message = str(caught[0].message)
    assert str(old_search) in message and str(new) in message
    assert "trains from scratch" in message and "copy" in message

    if given_before:
        _quiet_load(db, str(old))  # the same folder: nothing to say
    shutil.copytree(old_search, new / "search-1", dirs_exist_ok=True)  # copied over, as the warning says
    _quiet_load(db, str(new))
