"""A multi-fidelity (or Growth) search on a store with no disk beside it (``":memory:"``, a server database) and no
``checkpoints=`` keeps its checkpoints in a temporary folder of its own, no longer in memory (ASHA held ~0.58 N of
them there: a long run grew without bound). The folder is made at the first checkpoint, deleted by ``close()`` (or
with the Search object), swept by the next process when its own was killed; the trials are those of a search given
a folder; where the temporary folder cannot be written they stay in memory, with one warning."""

import gc
import signal
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import pytest

import nasbook
from nasbook._errors import NasbookWarning
from nasbook.search import _checkpoints, _ownfolder
from nasbook.search._tempckpt import TempCheckpoints
from nasbook.space import CellSpace
from nasbook.strategies import ASHA
from nasbook.testing import ToyTask

SPACE = CellSpace()
KW = {"min_epochs": 1, "max_epochs": 9, "eta": 3}


def _asha(budget=60, **kw):
    return nasbook.Search(SPACE, ToyTask(SPACE, epochs=9), strategy=ASHA(**KW), budget=budget, seed=3,
                          storage=":memory:", name="a", **kw)


def _decisions(s):
    return [(t.number, t.arch.id, t.epochs, t.parent, t.state.value, t.value, t.metrics.get("epochs_run"))
            for t in s.trials]


def _continued(s):
    by = {t.number: t for t in s.trials}
    promoted = [t for t in s.trials if t.parent is not None]
    return bool(promoted) and all(t.metrics["epochs_run"] == t.epochs - by[t.parent].epochs for t in promoted)


@pytest.fixture
def tmp_root(tmp_path, monkeypatch):
    """The system's temporary folder, for this test: ``tmp_path/"tmp"``."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_checkpoints_go_to_a_temporary_folder_made_at_the_first_one_and_deleted_by_close(tmp_root):
    in_memory = []
    s = _asha(callbacks=[lambda s, t: in_memory.append(len(s._checkpoints.memory))])
    assert list(tmp_root.iterdir()) == []  # nothing made before a checkpoint is written
    s.run(progress="none")
    held = s._checkpoints
    assert isinstance(held, TempCheckpoints) and max(in_memory) == 0  # none held in memory at any point
    folder = held.path
    assert folder.parent == tmp_root and folder.name.startswith(_ownfolder.PREFIX + "search-1-")
    assert (folder / _ownfolder.LOCK).exists()
    on_disk = {int(p.name[len("trial-"):-len(".ckpt")]) for p in folder.glob("trial-*.ckpt")}
    assert on_disk and on_disk == set(held) == s.strategy.checkpoints_needed()  # pruned after every tell
    assert _ownfolder.sweep(tmp_root) == []  # held by this live process
    s.close()
    assert not folder.exists() and held.path is None and len(held) == 0
    assert list(tmp_root.iterdir()) == []


def test_the_same_trials_as_a_search_given_a_folder_and_as_one_holding_them_in_memory(tmp_root, tmp_path):
    temp = _asha(budget=120).run(progress="none")
    given = _asha(budget=120, checkpoints=tmp_path / "ck").run(progress="none")
    assert isinstance(temp._checkpoints, TempCheckpoints) and _continued(temp)
    assert _decisions(temp) == _decisions(given)
    assert temp.epochs_spent == given.epochs_spent
    # the old path, in memory: the temporary folder is a file here, so it cannot be made
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    tempfile.tempdir = str(blocked)
    with pytest.warns(NasbookWarning, match=r"cannot keep its checkpoints in a temporary folder.*in memory") as caught:
        memory = _asha(budget=120).run(progress="none")
    assert len([w for w in caught if issubclass(w.category, NasbookWarning)]) == 1
    assert Path(caught[0].filename).name == Path(__file__).name  # points at the caller's line
    assert memory._checkpoints.path is None and set(memory._checkpoints.memory) == memory.strategy.checkpoints_needed()
    assert _decisions(memory) == _decisions(temp)
    temp.close()
    given.close()


def test_a_write_failing_mid_run_keeps_the_rest_in_memory_with_one_warning(tmp_root, monkeypatch):
    real = _checkpoints._write_atomically
    calls = {"n": 0}

    def fill_up(target, data):
        calls["n"] += 1
        if calls["n"] >= 6:
            raise OSError(28, "No space left on device")
        return real(target, data)

    whole = _asha(budget=120).run(progress="none")
    monkeypatch.setattr(_checkpoints, "_write_atomically", fill_up)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = _asha(budget=120).run(progress="none")
    said = [w for w in caught if issubclass(w.category, NasbookWarning)]
    assert len(said) == 1 and "No space left" in str(said[0].message)
    assert s._checkpoints.memory and s._checkpoints.path is not None  # the first ones stay on disk
    assert _decisions(s) == _decisions(whole) and s.n_trials == 120  # nothing lost, nothing stopped
    whole.close()
    s.close()


class _Stop(Exception):
    pass


def test_a_run_after_an_exception_finds_its_temporary_folder_again(tmp_root):
    def stop(s, trial):
        if trial.number == 40:
            raise _Stop

    cut = _asha(budget=120, callbacks=[stop])
    with pytest.raises(_Stop):
        cut.run(progress="none")
    folder = cut._checkpoints.path
    cut.callbacks = []
    cut.run(progress="none")
    assert cut._checkpoints.path == folder and _continued(cut)  # its promotions continued the checkpoints
    assert _decisions(cut) == _decisions(_asha(budget=120).run(progress="none"))
    cut.close()


def test_the_folder_goes_with_the_search_object(tmp_root):
    s = _asha().run(progress="none")
    folder = s._checkpoints.path
    assert folder.is_dir()
    del s
    gc.collect()
    assert not folder.exists()


HOLDER = textwrap.dedent("""
    import time
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
                   seed=1, storage=":memory:", callbacks=[hold]).run(progress="none")
""")


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl.flock and SIGKILL")
def test_the_folder_of_a_sigkilled_process_is_swept_by_the_next(tmp_root, tmp_path, monkeypatch):
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    monkeypatch.setenv("TMPDIR", str(tmp_root))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        dead = Path(proc.stdout.readline().strip())
        assert dead.parent == tmp_root and list(dead.glob("trial-*.ckpt"))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
    assert dead.is_dir()  # no finalizer ran
    s = _asha().run(progress="none")
    assert not dead.exists() and s._checkpoints.path.is_dir()  # swept when this one made its own
    s.close()
