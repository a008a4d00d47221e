"""Checkpoint folders that go missing or are left behind: a SQLite database moved without its ``<db>.checkpoints/``
folder warns once; what a process killed mid-write leaves (``.part`` files, probes, ``.stale-`` folders) is swept once
its writer is gone; a search still running at the interpreter's exit keeps its temporary folder (a later process
sweeps it) instead of having it deleted under the run.
"""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

import nasbook
from nasbook._errors import NasbookWarning, ReproducibilityWarning
from nasbook.search import _ownfolder
from nasbook.search._checkpoints import CheckpointDir
from nasbook.space import CellSpace
from nasbook.strategies import ASHA
from nasbook.testing import ToyTask

SPACE = CellSpace()
KW = {"min_epochs": 1, "max_epochs": 9, "eta": 3}
ENV = dict(os.environ, PYTHONPATH=str(Path(nasbook.__file__).resolve().parents[1]), OMP_NUM_THREADS="1")


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


@pytest.mark.parametrize("case", ["with its folder", "fresh", "keeps none", "kept none, loaded with ASHA"])
def test_no_warning_when_no_stored_checkpoint_is_missing(case, tmp_path):
    db, moved = tmp_path / "a.db", tmp_path / "moved" / "a.db"
    moved.parent.mkdir()
    if case == "fresh":  # created, never run: no trial had a checkpoint
        nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(**KW), budget=30, seed=5, storage=db,
                       name="a").storage.close()
    elif case.startswith("ke"):  # a random search continues no trial, and kept no checkpoint
        _cut(db, strategy="random")
    else:
        _cut(db)
        shutil.copytree(f"{db}.checkpoints", f"{moved}.checkpoints")
    shutil.copy(db, moved)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if case.endswith("ASHA"):  # its stored trials never had a checkpoint: none is missing
            warnings.filterwarnings("ignore", category=ReproducibilityWarning)  # (another strategy: said, not this)
            again = nasbook.load_search("a", moved, task=ToyTask(SPACE, epochs=9), space=SPACE, strategy=ASHA(**KW))
        else:
            again = _load(moved)
        again.run(progress="none")
    if case == "with its folder":
        old = [t for t in again.trials if t.number > 40 and t.parent is not None and t.parent <= 40]
        assert old and all(t.metrics["epochs_run"] < t.epochs for t in old)  # continued from the copied folder
    again.close()


def test_no_warning_for_a_random_search_loaded_with_growth_whose_trials_never_had_a_checkpoint(tmp_path):
    """Growth continues its population's trials, the random search's among them; but the stored strategy kept no
    checkpoint, so none is missing (the folder was never made, the database not moved)."""
    from nasbook.strategies import Growth
    from nasbook.tasks import DigitsTable

    db = str(tmp_path / "s.db")
    nasbook.Search(DigitsTable(), strategy="random", budget=3, seed=0, storage=db, name="y").run(progress="none").close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grown = nasbook.load_search("y", db, strategy=Growth(population_size=3, sample_size=2, train_more=False), budget=6)
        assert grown.run(progress="none").n_trials == 6
    assert Path(f"{db}.checkpoints", "search-1").is_dir()  # made now, for Growth's own checkpoints
    grown.close()


KILLED = textwrap.dedent("""
    import os, pathlib, shutil, sys, time
    import nasbook
    from nasbook.search import _checkpoints
    from nasbook.space import CellSpace
    from nasbook.strategies import ASHA
    from nasbook.testing import ToyTask

    def hang(path):  # SIGKILLed here, in the middle of the write
        print(path, flush=True)
        time.sleep(600)

    how, db, ck = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    space = CellSpace()
    if how == "part":  # a checkpoint written to its .part file, not renamed yet
        real, n = os.replace, []
        def replace(src, dst):
            n.append(dst)
            if len(n) == 5:
                hang(src)
            return real(src, dst)
        os.replace = replace
        nasbook.Search(space, ToyTask(space, epochs=9), strategy=ASHA(min_epochs=1, max_epochs=9, eta=3), budget=30,
                       seed=5, storage=db, name="a").run(progress="none")
    elif how == "probe":  # a folder's probe made, not deleted yet
        real_unlink = os.unlink
        def unlink(path, *a, **kw):
            if os.path.basename(path).startswith(".nasbook-probe-"):
                hang(path)
            return real_unlink(path, *a, **kw)
        os.unlink = unlink
        nasbook.Search(space, ToyTask(space, epochs=9), strategy="asha", storage=":memory:", checkpoints=ck)
    else:  # a stale search-<id>/ folder renamed out of the way, not deleted yet
        stale = pathlib.Path(f"{db}.checkpoints") / "search-9"
        stale.mkdir(parents=True)
        (stale / "trial-1.ckpt").write_bytes(b"old")
        shutil.rmtree = lambda path, **kw: hang(path)
        _checkpoints._discard(stale)
""")


def _killed_mid_write(tmp_path, how, db, ck):
    """What a process SIGKILLed in the middle of a write of kind ``how`` left (its path)."""
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    proc = subprocess.Popen([sys.executable, str(script), how, str(db), str(ck)], stdout=subprocess.PIPE, text=True,
                            env=ENV)
    try:
        left = Path(proc.stdout.readline().strip())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
    assert left.name and os.path.lexists(left), f"{how}: nothing left ({left})"
    old = time.time() - 2 * _ownfolder.MAKING_GRACE_S
    os.utime(left, (old, old))  # not written for a while: its writer is gone
    return left


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_what_a_process_killed_mid_write_left_is_swept_once_its_writer_is_gone(tmp_path):
    db, ck = tmp_path / "a.db", tmp_path / "ck"
    ck.mkdir()
    part = _killed_mid_write(tmp_path, "part", db, ck)
    probe = _killed_mid_write(tmp_path, "probe", db, ck)
    stale = _killed_mid_write(tmp_path, "stale", db, ck)
    folder = Path(f"{db}.checkpoints") / "search-1"
    assert part.parent == folder and part.name.startswith(".trial-") and part.name.endswith(".part")
    assert probe.parent == ck and probe.name.startswith(".nasbook-probe-")
    assert stale.parent == folder.parent and stale.name.startswith(".search-9.stale-") and stale.is_dir()
    young_part = folder / ".trial-77.ckpt.abcd1234.part"  # being written now, by a live writer
    young_part.write_bytes(b"half")
    young_probe = ck / ".nasbook-probe-abcd1234"
    young_probe.touch()
    mine = [folder / "notes.part", ck / ".nasbook-probe-mine.txt", folder.parent / ".search-9.stale-mine"]
    mine[0].write_bytes(b"a user's")  # not named as nasbook names them: never touched
    mine[1].touch()
    mine[2].mkdir()
    for p in mine:
        os.utime(p, (time.time() - 1000, time.time() - 1000))
    s = nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(**KW), storage=":memory:", checkpoints=ck)
    assert not os.path.lexists(probe) and young_probe.exists()  # probing the folder swept the dead one's probe
    s.storage.close()
    again = _load(db)
    again.run(progress="none")  # opening its folder swept the dead writer's .part, and the stale folder
    assert not os.path.lexists(part) and not os.path.lexists(stale)
    assert young_part.exists() and all(os.path.lexists(p) for p in mine)
    assert list(folder.glob("trial-*.ckpt"))
    again.close()


EXITS = textwrap.dedent("""
    import sys, threading
    import nasbook
    from nasbook.search import _background
    from nasbook.space import CellSpace
    from nasbook.strategies import ASHA
    from nasbook.testing import ToyTask

    class Hangs(ToyTask):  # its 8th trial never reports: the exit hook cannot stop the search
        calls = 0
        entered = threading.Event()

        def evaluate(self, arch, **kw):
            Hangs.calls += 1
            if Hangs.calls == 8:
                Hangs.entered.set()
                threading.Event().wait()
            return super().evaluate(arch, **kw)

    _background.EXIT_WAIT_S = 0.2  # (30 s in use)
    space = CellSpace()
    s = nasbook.Search(space, Hangs(space, epochs=9), strategy=ASHA(min_epochs=1, max_epochs=9, eta=3), budget=100,
                       seed=3, storage=":memory:", checkpoints=sys.argv[1])
    s.start(progress="none")
    assert Hangs.entered.wait(120)
    print(s._checkpoints.path, flush=True)
    # the script ends here, the search still in its trial
""")


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl.flock")
def test_a_search_still_running_at_exit_keeps_its_folder_which_a_later_process_sweeps(tmp_path):
    root = tmp_path / "ck"
    root.mkdir()
    script = tmp_path / "exits.py"
    script.write_text(EXITS)
    r = subprocess.run([sys.executable, str(script), str(root)], capture_output=True, text=True, timeout=180, env=ENV)
    assert r.returncode == 0, r.stderr
    folder = Path(r.stdout.strip())
    assert folder.parent == root and folder.name.startswith(_ownfolder.PREFIX)
    assert folder.is_dir() and list(folder.glob("trial-*.ckpt"))  # not deleted under the run still in its trial
    assert _ownfolder.sweep(root) == [folder] and not folder.exists()  # its process is gone: the next one sweeps it
