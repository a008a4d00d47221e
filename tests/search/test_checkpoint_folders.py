"""The folders that hold a search's checkpoints on disk are never read as another search's, never left behind by a
killed process, and never left half-written.

* Beside a SQLite file (``<db>.checkpoints/search-<id>/``): a database deleted and made again numbers its searches
  from 1 again, so the new search "a" found the old search "a"'s folder and continued its checkpoints. The folder is
  now marked with the search's creation time in the store; a folder marked for another one is deleted, with a
  :class:`~nasbook.StaleCheckpointsWarning` naming the user's line.
* A ``":memory:"`` search's own folder (under ``checkpoints=``) stayed forever when its process was SIGKILLed; the
  next process to make one there now deletes those no live process holds (``search/_ownfolder.py``).
* A checkpoint whose write fails (a full disk) leaves no ``.part`` file and raises StorageError naming the path.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest

import nasbook
from nasbook._errors import StorageError
from nasbook.search import _checkpoints, _ownfolder
from nasbook.search._checkpoints import MARKER, CheckpointDir
from nasbook.space import CellSpace
from nasbook.storage import open_storage
from nasbook.strategies import ASHA
from nasbook.testing import ToyTask

SPACE = CellSpace()
KW = {"min_epochs": 1, "max_epochs": 9, "eta": 3}


def _asha(path, budget=30, **kw):
    return nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(**KW), budget=budget, seed=3, storage=path,
                          name="a", **kw)


def _drop_db(path):
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)


def _created(path, name="a"):
    st = open_storage(path, create=False)
    try:
        return st.get_search(name).created_at
    finally:
        st.close()


# -- 1. the folder beside a SQLite file belongs to one search ------------------------------------------------

def test_a_recreated_database_does_not_reuse_the_old_searchs_folder(tmp_path):
    db = tmp_path / "s.db"
    old = _asha(db).run(progress="none")
    folder = tmp_path / "s.db.checkpoints" / "search-1"
    assert isinstance(old._checkpoints, CheckpointDir) and old._checkpoints.path == folder
    assert json.loads((folder / MARKER).read_text())["created_at"] == _created(db)
    (folder / "trial-999.ckpt").write_bytes(b"the old search's")  # what a new trial 999 would have continued
    old.close()
    del old
    _drop_db(db)
    time.sleep(0.01)  # (a new creation time, even on a coarse clock)

    new = _asha(db)
    with pytest.warns(nasbook.StaleCheckpointsWarning, match=r"belonged to another search 'a' .*deleted and made "
                      r"again.*That folder was deleted") as record:
        new.run(progress="none")
    assert [Path(w.filename).name for w in record] == [Path(__file__).name]  # the user's run() line, not nasbook's
    assert not (folder / "trial-999.ckpt").exists()
    assert json.loads((folder / MARKER).read_text())["created_at"] == _created(db)
    assert set(new._checkpoints) == new.strategy.checkpoints_needed()
    assert not [p for p in folder.parent.iterdir() if ".stale-" in p.name]  # the stale copy is gone too
    new.close()


def test_the_same_search_resumed_finds_its_folder_without_a_warning(tmp_path):
    db = tmp_path / "s.db"

    def stop(s, trial):
        if trial.number == 12:
            raise KeyError("stop")

    cut = _asha(db, budget=40, callbacks=[stop])
    with pytest.raises(KeyError):
        cut.run(progress="none")
    kept = set(cut._checkpoints)
    assert kept
    cut.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = nasbook.load_search("a", db, task=ToyTask(SPACE, epochs=9), space=SPACE)
        assert set(resumed._checkpoints) == set()  # (not opened before run)
        resumed.run(progress="none")
    promoted = [t for t in resumed.trials if t.number > 12 and t.parent in kept]
    assert promoted and all(t.metrics["epochs_run"] < t.epochs for t in promoted)  # continued, not from scratch
    resumed.close()


def test_an_unmarked_folder_is_kept_when_written_since_the_search_was_made_and_deleted_when_older(tmp_path):
    """A folder from before markers existed: written after the search was created, it is this search's (marked
    now, its checkpoints kept); last written before, it was another search's."""
    db = tmp_path / "s.db"
    s = _asha(db)
    folder = tmp_path / "s.db.checkpoints" / "search-1"
    folder.mkdir(parents=True)
    (folder / "trial-0.ckpt").write_bytes(b"x")
    assert _checkpoints._beside(s, folder) == folder
    assert (folder / "trial-0.ckpt").exists() and (folder / MARKER).exists()

    (folder / MARKER).unlink()
    past = _created(db) - 3600
    os.utime(folder, (past, past))
    with pytest.warns(nasbook.StaleCheckpointsWarning, match="before markers"):
        assert _checkpoints._beside(s, folder) == folder
    assert not (folder / "trial-0.ckpt").exists() and (folder / MARKER).exists()
    s.close()


def test_a_damaged_marker_beside_a_sqlite_file_is_stale(tmp_path):
    db = tmp_path / "s.db"
    s = _asha(db)
    folder = tmp_path / "s.db.checkpoints" / "search-1"
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("{not json")
    with pytest.warns(nasbook.StaleCheckpointsWarning, match=f"its {MARKER} cannot be read"):
        _checkpoints._beside(s, folder)
    assert json.loads((folder / MARKER).read_text())["created_at"] == _created(db)
    s.close()


def test_markers_written_at_once_by_many_claimants_agree_on_one_winner(tmp_path):
    """Marked through os.link of a whole temporary file: every claimant reads the same marker (with write-then-
    rename each would have believed its own, the last one silently replacing the others)."""
    folder = tmp_path / "search-1"
    n = 16
    barrier = threading.Barrier(n)
    results = [None] * n

    def claim(i):
        barrier.wait()
        results[i] = _checkpoints._claim(folder, {"created_at": float(i)})

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = json.loads((folder / MARKER).read_text())
    assert all(r == stored for r in results)
    assert sorted(p.name for p in folder.iterdir()) == [MARKER]  # no temporary file left


# -- 2. a :memory: search's folder, left by a SIGKILLed process, is swept by the next one ------------------------

HOLDER = textwrap.dedent("""
    import sys, time
    import nasbook
    from nasbook.space import CellSpace
    from nasbook.strategies import ASHA
    from nasbook.testing import ToyTask

    def hold(s, trial):
        if trial.number == 8:
            print(s._checkpoints.path, flush=True)
            time.sleep(600)  # killed here

    space = CellSpace()
    nasbook.Search(space, ToyTask(space, epochs=9), strategy=ASHA(min_epochs=1, max_epochs=9, eta=3), budget=40,
                   seed=1, storage=":memory:", checkpoints=sys.argv[1], callbacks=[hold]).run(progress="none")
""")


def _holder(root, tmp_path):
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    proc = subprocess.Popen([sys.executable, str(script), str(root)], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line, "the holder died before making its folder"
    return proc, Path(line)


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl.flock and SIGKILL")
def test_a_folder_left_by_a_sigkilled_process_is_deleted_by_the_next_but_a_live_ones_is_not(tmp_path):
    root = tmp_path / "ck"
    dead, dead_folder = _holder(root, tmp_path)
    live, live_folder = _holder(root, tmp_path)
    try:
        dead.send_signal(signal.SIGKILL)
        dead.wait(30)
        assert dead_folder.name.startswith(_ownfolder.PREFIX + "search-1-") and list(dead_folder.glob("trial-*.ckpt"))
        # what is not a leftover of nasbook's: a PostgreSQL search's folder, a folder named alike with no lock
        # file, a user's file
        (root / "search-1").mkdir()
        (root / "search-1" / MARKER).write_text("{}")
        (root / f"{_ownfolder.PREFIX}mine").mkdir()
        (root / "notes.txt").write_text("mine")

        s = _asha(":memory:", budget=20, checkpoints=root).run(progress="none")
        own = s._checkpoints.path
        assert not dead_folder.exists()  # swept: its process is dead
        assert live_folder.is_dir() and list(live_folder.glob("trial-*.ckpt"))  # held by a live process
        assert (root / "search-1" / MARKER).exists() and (root / f"{_ownfolder.PREFIX}mine").is_dir()
        assert (root / "notes.txt").read_text() == "mine"
        assert own.is_dir() and own != dead_folder
        assert _ownfolder.sweep(root) == []  # this process's own folder is held too
    finally:
        live.send_signal(signal.SIGKILL)
        live.wait(30)
    assert _ownfolder.sweep(root) == [live_folder] and not live_folder.exists()
    assert own.is_dir()
    del s
    import gc

    gc.collect()
    assert not own.exists()  # deleted with its Search object, as before


# -- 5. a checkpoint write that fails leaves nothing half-written ------------------------------------------------

def test_a_failed_checkpoint_write_leaves_no_part_file_and_names_the_path(tmp_path, monkeypatch):
    store = CheckpointDir(tmp_path / "search-1")
    store[3] = b"whole"
    real_replace = os.replace

    def full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StorageError, match=r"cannot write the checkpoint of trial 3 to '.*trial-3\.ckpt'.*No space left"):
        store[3] = b"new"
    monkeypatch.setattr(os, "replace", real_replace)
    assert sorted(p.name for p in store.path.iterdir()) == ["trial-3.ckpt"]  # no .part left behind
    assert store[3] == b"whole"  # the old checkpoint is as it was


def test_a_failed_write_in_the_middle_of_the_data_leaves_no_part_file(tmp_path):
    store = CheckpointDir(tmp_path / "search-1")

    with pytest.raises((StorageError, TypeError)):
        store[1] = object()  # type: ignore[assignment]  # write() fails after the .part file was made
    assert list(store.path.iterdir()) == []
    assert 1 not in store.held()


@pytest.mark.parametrize("value", [3, b"ck", ["ck"], object()])
def test_a_non_path_checkpoints_names_the_parameter(value, tmp_path):
    with pytest.raises(nasbook.InvalidParameterError, match=r"Search\(checkpoints=\.\.\.\) must be a folder path") as err:
        _asha(tmp_path / "s.db", checkpoints=value)
    assert isinstance(err.value, TypeError) and type(value).__name__ in str(err.value)
    assert not (tmp_path / "s.db").exists()


def test_a_full_disk_mid_run_stores_the_trial_whose_checkpoint_failed_and_the_search_resumes(tmp_path, monkeypatch):
    """The checkpoint is written before the trial is committed: a failed write used to lose the trial's result
    with it. Now the trial is committed first, then the StorageError (naming the file) stops the run."""
    db = tmp_path / "s.db"
    real = _checkpoints._write_atomically
    calls = {"n": 0}

    def fill_up(target, data):
        calls["n"] += 1
        if calls["n"] == 6:
            raise OSError(28, "No space left on device")
        return real(target, data)

    monkeypatch.setattr(_checkpoints, "_write_atomically", fill_up)
    s = _asha(db, budget=30)
    with pytest.raises(StorageError, match=r"cannot write the checkpoint of trial (\d+) to '.*search-1/trial-\1\.ckpt'") as info:
        s.run(progress="none")
    failed = int(str(info.value).split("trial ")[1].split(" ")[0])
    assert failed in {t.number for t in s.trials}  # its result is stored, not lost with the checkpoint
    assert not list((tmp_path / "s.db.checkpoints" / "search-1").glob("*.part"))
    s.close()
    monkeypatch.setattr(_checkpoints, "_write_atomically", real)
    again = nasbook.load_search("a", db, task=ToyTask(SPACE, epochs=9), space=SPACE)
    assert failed in {t.number for t in again.trials}
    assert again.run(progress="none").n_trials == 30
    again.close()
