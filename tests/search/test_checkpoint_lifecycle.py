"""Where a multi-fidelity search's checkpoints live when their folder goes away, and when a search is closed.

A stored ``checkpoints=`` folder that was deleted is made again at the next run (one warning at load_search: the
checkpoints of trials finished before are gone, their promotions train from scratch); one this machine cannot reach
is never created, and that session's go to a temporary folder of its own: never in memory. A ``":memory:"`` search's
folder of its own in the folder given is deleted by ``close()``, like its temporary one. ``close()`` from another
thread stops a running search and waits for it before releasing anything; from the run's own thread it is refused.
A ``.nasbook-making-*`` folder left by a process killed while making a folder is swept once it is old and unlocked.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest

import nasbook
from nasbook._errors import NasbookError, NasbookWarning, StorageError
from nasbook.search import _ownfolder
from nasbook.search._checkpoints import MARKER, CheckpointDir
from nasbook.search._tempckpt import TempCheckpoints
from nasbook.space import CellSpace
from nasbook.storage import open_storage
from nasbook.strategies import ASHA
from nasbook.testing import ToyTask

SPACE = CellSpace()
KW = {"min_epochs": 1, "max_epochs": 9, "eta": 3}


class _Stop(Exception):
    pass


def _cut(storage, **kw):
    """An ASHA search of 120 trials, interrupted after trial 40 (as Ctrl-C would)."""
    def stop(search, trial):
        if trial.number == 40:
            raise _Stop

    cut = nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(**KW), budget=120, seed=5, storage=storage,
                         name="a", callbacks=[stop], **kw)
    with pytest.raises(_Stop):
        cut.run(progress="none")
    cut.close()
    return cut


def _in_memory(log):
    """A callback recording, after every trial, how many checkpoints the search holds in memory."""
    def watch(s, trial):
        held = s._checkpoints
        log.append(len(held.memory) if isinstance(held, TempCheckpoints) else 0 if isinstance(held, CheckpointDir)
                   else len(held))
    return watch


def _from_scratch(s, before):
    """(promotions of trials numbered <= ``before`` that trained from scratch, those that continued, all promotions
    of later trials continued)."""
    by = {t.number: t for t in s.trials}
    late = [t for t in s.trials if t.number > before and t.parent is not None]
    old = [t for t in late if t.parent <= before]
    scratch = [t for t in old if t.metrics["epochs_run"] == t.epochs]
    rest = all(t.metrics["epochs_run"] == t.epochs - by[t.parent].epochs for t in late if t.parent > before)
    return len(scratch), len(old) - len(scratch), rest


@pytest.fixture
def tmp_root(tmp_path, monkeypatch):
    """The system's temporary folder, for this test: ``tmp_path/"tmp"``."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_a_deleted_stored_folder_is_made_again_and_written_with_one_warning(tmp_path):
    db, ck = tmp_path / "a.db", tmp_path / "ck"
    cut = _cut(db, checkpoints=ck)
    before = [(t.number, t.arch.id, t.state.value, t.value) for t in cut.trials]
    shutil.rmtree(ck)  # the user deleted it
    log = []
    with pytest.warns(NasbookWarning) as caught:
        again = nasbook.load_search("a", db, task=ToyTask(SPACE, epochs=9), space=SPACE, callbacks=[_in_memory(log)])
    assert len(caught) == 1
    message = str(caught[0].message)
    assert str(ck) in message and "gone (deleted or moved)" in message and "made again" in message
    assert "from scratch" in message and "epochs_run" in message and "checkpoints=" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once, at the load: not again when it runs
        again.run(progress="none")
    assert isinstance(again._checkpoints, CheckpointDir) and again._checkpoints.path == ck / "search-1"
    stored = open_storage(db, create=False)
    try:
        assert json.loads((ck / "search-1" / MARKER).read_text())["key"] == stored.get_search("a").config["checkpoints"]["key"]
    finally:
        stored.close()
    assert max(log) == 0  # none held in memory
    scratch, continued, rest = _from_scratch(again, 40)
    assert scratch > 0 and continued == 0 and rest  # what the warning said; this session's promotions continue
    assert [(t.number, t.arch.id, t.state.value, t.value) for t in again.trials[:len(before)]] == before
    again.close()


def test_a_stored_folder_this_machine_cannot_reach_goes_to_a_temporary_folder_not_memory(tmp_path, tmp_root):
    db = tmp_path / "a.db"
    (tmp_path / "home" / "alice").mkdir(parents=True)
    _cut(db, checkpoints=tmp_path / "home" / "alice" / "ck")
    (tmp_path / "home" / "alice").rename(tmp_path / "home" / "bob")  # no such parent here: a teammate's path
    log = []
    with pytest.warns(NasbookWarning) as caught:
        again = nasbook.load_search("a", db, task=ToyTask(SPACE, epochs=9), space=SPACE, callbacks=[_in_memory(log)])
    message = str(caught[0].message)
    assert "does not exist on this machine" in message and "temporary folder" in message and "from scratch" in message
    again.run(progress="none")
    held = again._checkpoints
    assert isinstance(held, TempCheckpoints) and held.path.parent == tmp_root and max(log) == 0
    assert not (tmp_path / "home" / "alice").exists()  # nothing made at a path that is not this machine's
    assert _from_scratch(again, 40)[0] > 0
    again.close()
    assert held.path is None and not list(tmp_root.iterdir())


def test_close_deletes_the_folder_of_its_own_of_a_memory_search_given_a_folder(tmp_path):
    ck = tmp_path / "ck"
    s = nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(**KW), budget=60, seed=3, storage=":memory:",
                       checkpoints=ck).run(progress="none")
    own = s._checkpoints.path
    assert own.parent == ck and list(own.glob("trial-*.ckpt"))
    s.close()  # it cannot be resumed once this process ends: its folder goes now, not at exit
    assert not own.exists() and not list(ck.iterdir())
    s.extend(trials=30)
    s.run(progress="none")  # a later run makes another, deleted by close() again
    new = s._checkpoints.path
    assert new is not None and new != own and new.parent == ck and new.is_dir()
    s.close()
    assert not list(ck.iterdir())


def test_a_memory_search_whose_given_folder_cannot_be_written_raises_not_memory(tmp_path, monkeypatch):
    """The folder was the user's choice: a write failing there stops the run with StorageError naming it (its
    trial stored), as in a ``search-<id>/`` folder; no silent fall-back to memory as for a temporary folder."""
    def full(owner, root, label):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_ownfolder, "make", full)
    s = nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(**KW), budget=30, seed=3, storage=":memory:",
                       checkpoints=tmp_path / "ck")
    with pytest.raises(StorageError, match=r"No space left on device") as caught:
        s.run(progress="none")
    assert str(tmp_path / "ck") in str(caught.value)
    assert s.n_trials == 1 and not s._checkpoints.memory


class _Gate(ToyTask):
    """A ToyTask whose 6th evaluation waits (in flight) until the test lets it go; counts the reports it makes."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.calls, self.reports, self.entered, self.go = 0, 0, threading.Event(), threading.Event()

    def evaluate(self, arch, *, report=None, **kw):
        self.calls += 1
        if self.calls == 6:
            self.entered.set()
            assert self.go.wait(60)

        def counted(epoch, **metrics):
            self.reports += 1
            return report(epoch, **metrics)

        return super().evaluate(arch, report=counted if report is not None else None, **kw)


class _SeenWaiting(threading.Event):
    """The search's run-idle event, telling the test when close() starts waiting on it."""

    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def wait(self, timeout=None):
        self.seen("close() waits for the run")
        return super().wait(timeout)


@pytest.mark.parametrize("how", ["start", "thread"])
@pytest.mark.parametrize("where", ["memory", "sqlite", "sqlite, a trial without reports"])
def test_close_from_another_thread_stops_the_run_and_its_trial_in_flight_at_its_next_report(how, where, tmp_path, tmp_root):
    """close() used to wait for the trial in flight to train to its end (minutes of Lightning); it now stops it at
    its next report, as the interpreter's exit does: not stored, and the next run() runs it again."""
    db = tmp_path / "a.db"
    reports = where != "sqlite, a trial without reports"
    task = _Gate(SPACE, epochs=9 if reports else 0)
    s = nasbook.Search(SPACE, task, strategy=ASHA(**KW) if reports else "random", budget=400 if reports else 20, seed=3,
                       name="a", storage=":memory:" if where == "memory" else db)
    order, first = [], threading.Event()

    def seen(what):
        order.append(what)
        first.set()

    s._run_idle = _SeenWaiting(seen)
    s._run_idle.set()
    runner = s.start(progress="none")._thread if how == "start" else threading.Thread(target=s.run, kwargs={"progress": "none"})
    if how == "thread":
        runner.start()
    assert task.entered.wait(60)  # the 6th trial is in flight
    reported = task.reports
    folder = s._checkpoints.path if where == "memory" else None
    closer = threading.Thread(target=lambda: (s.close(), seen("close() returned")))
    closer.start()
    assert first.wait(60)
    assert order == ["close() waits for the run"]  # (it returned at once, the run going on under a closed search)
    assert folder is None or folder.is_dir()  # nothing released under the trial in flight
    task.go.set()
    closer.join(60)
    assert not closer.is_alive() and not runner.is_alive() and order[-1] == "close() returned"
    assert s.state.value == "interrupted" and not s.running and s.wait() is s  # no error kept for wait()
    # with reports, the trial in flight stopped at its first one (of 9) and is not stored; without, it finished
    done = 5 if reports else 6
    assert task.calls == 6 and [t.state.value for t in s.trials] == ["complete"] * done
    assert task.reports - reported == (1 if reports else 0)
    if where == "memory":
        assert s._checkpoints.path is None and not list(tmp_root.iterdir())  # released after the run, none made since
    else:
        stored = open_storage(db, create=False)
        try:
            assert stored.get_search("a").state == "interrupted"
            trials, _ = stored.load_trials(s._search_id, SPACE)
            assert [t.state.value for t in trials] == ["complete"] * done
        finally:
            stored.close()
    resumed = s.run(progress="none")  # resumable: it goes on where it stopped, the trial stopped run again
    assert resumed.state.value == "done" and len(resumed.trials) == (400 if reports else 20)
    assert [t.number for t in resumed.trials] == list(range(len(resumed.trials)))
    s.close()


@pytest.mark.parametrize("how", ["start", "run"])
def test_close_from_the_runs_own_callback_is_refused_and_releases_nothing(how, tmp_root):
    refused = []

    def close_here(s, trial):
        if trial.number == 10:
            folder = s._checkpoints.path
            with pytest.raises(NasbookError, match=r"own run.*search\.stop\(\)"):
                s.close()
            refused.append(folder.is_dir())
            s.stop()

    s = nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(**KW), budget=60, seed=3, storage=":memory:",
                       callbacks=[close_here])
    s.start(progress="none").wait() if how == "start" else s.run(progress="none")
    assert refused == [True] and s.state.value == "interrupted" and s._checkpoints.path.is_dir()
    s.close()
    assert not list(tmp_root.iterdir())


MAKER = textwrap.dedent("""
    import os, pathlib, sys, time
    from nasbook.search import _ownfolder

    class Owner:
        pass

    def hang(src, dst):  # killed here: between mkdtemp and the rename, the folder locked under its making name
        print(src, flush=True)
        time.sleep(600)

    os.rename = hang
    _ownfolder.make(Owner(), pathlib.Path(sys.argv[1]), "search-1")
""")


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl.flock and SIGKILL")
def test_a_making_folder_left_by_a_process_killed_mid_make_is_swept_once_old(tmp_path):
    making, grace = ".nasbook-making-", getattr(_ownfolder, "MAKING_GRACE_S", 60.0)
    root = tmp_path / "ck"
    root.mkdir()
    script = tmp_path / "maker.py"
    script.write_text(MAKER)
    env = dict(os.environ, PYTHONPATH=str(Path(nasbook.__file__).parent.parent))
    proc = subprocess.Popen([sys.executable, str(script), str(root)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        left = Path(proc.stdout.readline().strip())
        assert left.parent == root and left.name.startswith(making) and (left / _ownfolder.LOCK).exists()
        old = time.time() - 2 * grace
        os.utime(left, (old, old))
        assert _ownfolder.sweep(root) == [] and left.is_dir()  # its maker is alive (it holds the lock)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
    young = Path(tempfile.mkdtemp(prefix=making, dir=root))  # perhaps being made now: not yet locked
    (young / _ownfolder.LOCK).touch()
    bare = Path(tempfile.mkdtemp(prefix=making, dir=root))  # a maker killed before its lock file
    os.utime(bare, (old, old))
    mine = root / "notes"  # anything else in the folder is never touched
    mine.mkdir()
    s = nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(**KW), budget=30, seed=3, storage=":memory:",
                       checkpoints=root).run(progress="none")  # making its own folder sweeps the leftovers
    assert not left.exists() and not bare.exists()
    assert young.is_dir() and mine.is_dir() and s._checkpoints.path.is_dir()
    s.close()
    assert sorted(p.name for p in root.iterdir()) == sorted([young.name, "notes"])
