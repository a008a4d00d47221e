"""``Search(..., checkpoints="folder")``: the checkpoints a multi-fidelity search continues live in a folder of the
user's for a store with no file beside it (PostgreSQL, ``":memory:"``), so they are not held in memory and a search
resumed in a new process continues them; the folder is stored with the search, and a folder this machine lacks (a
teammate's path) falls back to memory with a warning, never an error."""

import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import pytest
from test_multifidelity_checkpoints import KW, SPACE, _continued, _cut_at_40, _decisions, _Stop

import nasbook
from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookWarning, StorageError
from nasbook.search._checkpoints import MARKER, CheckpointDir
from nasbook.search._tempckpt import TempCheckpoints
from nasbook.storage import open_storage
from nasbook.strategies import ASHA
from nasbook.tasks import NasBenchGraph
from nasbook.testing import ToyTask
from nasbook.testing._postgres import fresh_database


def _watch(log):
    """A callback recording, after every trial, the checkpoints held in memory and those on disk."""
    def watch(s, trial):
        held = s._checkpoints
        if isinstance(held, TempCheckpoints):
            log.append((len(held.memory), len(held.held()) - len(held.memory)))
            return
        on_disk = isinstance(held, CheckpointDir)
        log.append((0 if on_disk else len(held), len(held.held()) if on_disk else 0))
    return watch


def _stored(storage, name):
    st = open_storage(storage, create=False)
    try:
        return st.get_search(name).config.get("checkpoints")
    finally:
        st.close()


@pytest.mark.parametrize("where", ["postgresql", "memory"])
def test_asha_keeps_its_checkpoints_in_the_folder_not_in_memory(where, tmp_path, request, monkeypatch):
    storage = request.getfixturevalue("postgres_url") if where == "postgresql" else ":memory:"
    task = ToyTask(SPACE, epochs=9)
    log, plain = [], []
    s = nasbook.Search(SPACE, task, strategy=ASHA(**KW), budget=150, seed=3, storage=storage,
                       checkpoints=tmp_path / "ck", callbacks=[_watch(log)]).run(progress="none")
    assert max(mem for mem, _ in log) == 0  # none held in memory at any point, as next to a SQLite file
    assert max(disk for _, disk in log) > 20
    mine = TempCheckpoints if where == "memory" else CheckpointDir  # (":memory:": a folder of its own, close() deletes)
    assert isinstance(s._checkpoints, mine) and s._checkpoints.path.parent == tmp_path / "ck"
    assert set(s._checkpoints) == s.strategy.checkpoints_needed()  # pruned after every tell, as on SQLite
    assert _continued(s)
    # the same search without the folder keeps them in a temporary folder of its own (no longer in memory), and
    # decides the same
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    same = nasbook.Search(SPACE, task, strategy=ASHA(**KW), budget=150, seed=3, storage=storage,
                          callbacks=[_watch(plain)]).run(progress="none")
    assert max(mem for mem, _ in plain) == 0 and max(disk for _, disk in plain) > 20
    assert isinstance(same._checkpoints, TempCheckpoints) and same._checkpoints.path.parent == tmp_path / "tmp"
    assert _decisions(same) == _decisions(s)
    if where == "memory":  # a folder of its own (ids start at 1 in every :memory: store), gone with the search
        own = s._checkpoints.path
        assert own.name.startswith("nasbook-memory-search-1-") and not (own / MARKER).exists()
        del s, same
        gc.collect()
        assert not own.exists() and (tmp_path / "ck").is_dir()
    else:
        assert s._checkpoints.path.name == f"search-{s._search_id}"
        assert json.loads((s._checkpoints.path / MARKER).read_text())["key"] == _stored(storage, s.name)["key"]
        assert _stored(storage, s.name)["folder"] == str(tmp_path / "ck")


def test_two_memory_searches_sharing_a_folder_each_keep_their_own(tmp_path):
    task = ToyTask(SPACE, epochs=9)
    a, b = (nasbook.Search(SPACE, task, strategy=ASHA(**KW), budget=60, seed=seed, storage=":memory:",
                           checkpoints=tmp_path) for seed in (3, 4))
    a.run(progress="none")
    b.run(progress="none")
    assert a._search_id == b._search_id == 1 and a._checkpoints.path != b._checkpoints.path
    assert _continued(a) and _continued(b)


def test_asha_on_postgresql_resumed_in_a_new_process_continues_from_the_folder(tmp_path, postgres_url, postgres_server):
    """Interrupted, then ``load_search`` without naming the folder (a new process): the stored folder is found, so
    no promotion of a trial finished before the interruption trains from scratch; the trials equal an uninterrupted
    run's. Without the folder (the old behaviour on PostgreSQL) such promotions train from scratch."""
    task, cut = _cut_at_40(postgres_url, checkpoints=tmp_path / "ck")
    assert isinstance(cut._checkpoints, CheckpointDir) and set(cut._checkpoints)
    cut.close()
    del cut
    resumed = nasbook.load_search("a", postgres_url, task=task, space=SPACE)
    resumed.run(progress="none")
    late = [t for t in resumed.trials if t.number > 40 and t.parent is not None and t.parent <= 40]
    assert late, "no promotion after the resume of a trial finished before it"
    assert _continued(resumed)  # 0 from scratch
    whole = nasbook.Search(SPACE, task, strategy=ASHA(**KW), budget=120, seed=5, storage=":memory:").run(progress="none")
    assert _decisions(resumed) == _decisions(whole)
    assert resumed.epochs_spent == whole.epochs_spent
    resumed.close()

    other = fresh_database(postgres_server)
    _, cut = _cut_at_40(other)  # no folder: a temporary one of its own, deleted by close(), never found again
    cut.close()
    again = nasbook.load_search("a", other, task=task, space=SPACE).run(progress="none")
    assert not _continued(again)
    again.close()


def test_a_stored_folder_missing_on_this_machine_warns_and_trains_from_scratch(tmp_path, postgres_url, postgres_server):
    """The stored folder was moved away (its parent folder is still there): a warning naming it and the fix, the
    folder made again (marked) and this session's checkpoints written there, not held in memory; naming the folder
    as this machine reaches it (here: a copy) continues from the checkpoints and is recorded. (A path this machine
    lacks altogether: tests/search/test_checkpoint_lifecycle.py.)"""
    task, cut = _cut_at_40(postgres_url, checkpoints=tmp_path / "alice")
    cut.close()
    (tmp_path / "alice").rename(tmp_path / "mounted")  # the same files, under another path on "this machine"
    log = []
    with pytest.warns(NasbookWarning) as caught:
        bob = nasbook.load_search("a", postgres_url, task=task, space=SPACE, callbacks=[_watch(log)])
    message = str(caught[0].message)
    assert str(tmp_path / "alice") in message and "gone (deleted or moved)" in message
    assert "made again" in message and "from scratch" in message and "checkpoints=" in message
    assert Path(caught[0].filename).name == Path(__file__).name  # points at the caller's line
    assert not (tmp_path / "alice").exists()  # (made when it runs, not by a load that may only read)
    assert bob.run(progress="none").state.value == "done"
    assert isinstance(bob._checkpoints, CheckpointDir) and bob._checkpoints.path.parent == tmp_path / "alice"
    assert json.loads((bob._checkpoints.path / MARKER).read_text())["key"] == _stored(postgres_url, "a")["key"]
    assert max(mem for mem, _ in log) == 0 and max(disk for _, disk in log) > 0
    assert not _continued(bob)  # trained from scratch, and counted so
    assert bob.epochs_spent == sum(t.metrics["epochs_run"] for t in bob.trials)
    assert _stored(postgres_url, "a")["folder"] == str(tmp_path / "alice")  # alice's path stays stored
    bob.close()

    url = fresh_database(postgres_server)
    task, cut = _cut_at_40(url, checkpoints=tmp_path / "al")
    cut.close()
    shutil.move(tmp_path / "al", tmp_path / "mnt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        carol = nasbook.load_search("a", url, task=task, space=SPACE, checkpoints=tmp_path / "mnt")
    assert _stored(url, "a")["folder"] == str(tmp_path / "mnt")  # the folder given replaces the stored one
    carol.run(progress="none")
    assert _continued(carol)
    carol.close()


def test_two_stores_sharing_a_folder_are_refused_not_mixed(tmp_path):
    """Two stores number their searches from 1: the second search-1 finds the first's marker and refuses to run,
    leaving its files alone; a folder of its own then works."""
    task = ToyTask(SPACE, epochs=9)
    first = nasbook.Search(SPACE, task, strategy=ASHA(**KW), budget=40, seed=3, storage=tmp_path / "a.db", name="x",
                           checkpoints=tmp_path / "ck").run(progress="none")
    files = {p.name: p.read_bytes() for p in first._checkpoints.path.iterdir()}
    second = nasbook.Search(SPACE, task, strategy=ASHA(**KW), budget=40, seed=4, storage=tmp_path / "b.db", name="y",
                            checkpoints=tmp_path / "ck")
    with pytest.raises(StorageError, match="holds the checkpoints of another search") as err:
        second.run(progress="none")
    assert "'x'" in str(err.value) and str(tmp_path / "a.db") in str(err.value) and "checkpoints='<another" in str(err.value)
    assert second.n_trials == 0
    assert {p.name: p.read_bytes() for p in first._checkpoints.path.iterdir()} == files
    second.close()
    moved = nasbook.load_search("y", tmp_path / "b.db", task=task, space=SPACE, checkpoints=tmp_path / "ck2")
    assert _continued(moved.run(progress="none"))
    first.close()
    moved.close()


def test_a_sqlite_store_given_a_folder_uses_it_and_resumes_from_it(tmp_path):
    task, cut = _cut_at_40(tmp_path / "a.db", checkpoints=tmp_path / "ck")
    assert cut._checkpoints.path == tmp_path / "ck" / "search-1"
    cut.close()
    assert not (tmp_path / "a.db.checkpoints").exists()
    resumed = nasbook.load_search("a", tmp_path / "a.db", task=task, space=SPACE).run(progress="none")
    assert _continued(resumed)
    resumed.close()


def test_the_folder_is_stored_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = nasbook.Search(NasBenchGraph("cora"), budget=2, seed=0, storage=":memory:", checkpoints="rel/ck")
    assert s.storage.get_search(s.name).config["checkpoints"]["folder"] == str(tmp_path / "rel" / "ck")
    assert not (tmp_path / "rel").exists()  # nothing made until a strategy keeps checkpoints there
    path = tmp_path / "s.db"
    nasbook.Search(NasBenchGraph("cora"), budget=2, seed=0, storage=path, name="s", checkpoints="gone").run(progress="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a strategy that keeps no checkpoints: a missing folder is not worth a warning
        assert nasbook.load_search("s", path).run(progress="none").n_trials == 2


@pytest.mark.parametrize("value, kind, words", [
    (3, InvalidParameterTypeError, "got 3 of type int"),
    (True, InvalidParameterTypeError, "got True of type bool"),
    (b"ck", InvalidParameterTypeError, "got b'ck' of type bytes"),
    (["ck"], InvalidParameterTypeError, "of type list"),
    ("", InvalidParameterError, "got ''"),
    (":memory:", InvalidParameterError, "not a store: that is storage=..."),
    ("postgresql://u@h/db", InvalidParameterError, "not a store"),
])
def test_bad_checkpoints_are_refused_before_anything_is_stored(value, kind, words, tmp_path):
    path = tmp_path / "s.db"
    with pytest.raises(kind, match=r"Search\(checkpoints=\.\.\.\) must be a folder path") as err:
        nasbook.Search(NasBenchGraph("cora"), budget=2, seed=0, storage=path, checkpoints=value)
    assert words in str(err.value)
    assert not path.exists()  # the store was not even created


def test_a_file_or_a_path_through_a_file_is_refused(tmp_path):
    (tmp_path / "f.txt").write_text("x")
    for given, words in ((tmp_path / "f.txt", "which is a file, not a folder"), (tmp_path / "f.txt" / "sub", "is a file")):
        with pytest.raises(InvalidParameterError, match=r"Search\(checkpoints=\.\.\.\) must be a folder this process "
                                                        r"can write") as err:
            nasbook.Search(NasBenchGraph("cora"), budget=2, seed=0, storage=tmp_path / "s.db", checkpoints=given)
        assert str(given) in str(err.value) and words in str(err.value)
    assert not (tmp_path / "s.db").exists()


def test_load_search_refuses_bad_checkpoints_and_changes_nothing(tmp_path):
    path = tmp_path / "s.db"
    nasbook.Search(NasBenchGraph("cora"), budget=2, seed=0, storage=path, name="s").run(progress="none").close()
    (tmp_path / "f.txt").write_text("x")
    for value, kind in ((7, InvalidParameterTypeError), (tmp_path / "f.txt", InvalidParameterError)):
        with pytest.raises(kind, match=r"load_search\(checkpoints=\.\.\.\) must be a folder"):
            nasbook.load_search("s", path, checkpoints=value)
    assert _stored(path, "s") is None


CHILD = textwrap.dedent(
    """
    import sys
    import nasbook
    from nasbook.tasks import NasBenchGraph
    try:
        nasbook.Search(NasBenchGraph("cora"), budget=2, seed=0, storage=":memory:", checkpoints=sys.argv[1])
    except nasbook.InvalidParameterError as exc:
        print(exc)
    """
)


def test_an_unwritable_folder_is_refused():
    top = Path(tempfile.mkdtemp(prefix="nasbook-ck-"))  # (pytest's tmp_path sits in a folder only its user may enter)
    folder = top / "ro"
    try:
        folder.mkdir()
        os.chmod(top, 0o755)
        os.chmod(folder, 0o555)
        cmd = [sys.executable, "-c", CHILD, str(folder / "ck")]
        env = {**os.environ, "PYTHONPATH": str(Path(nasbook.__file__).parents[1]), "HOME": str(top)}
        if os.geteuid() == 0:  # root writes anywhere: run as nobody
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("running as root without setpriv: cannot make a folder unwritable for this test")
            cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=top)
        assert "Search(checkpoints=...) must be a folder this process can write" in proc.stdout, proc.stdout + proc.stderr
        assert "which this process cannot write in" in proc.stdout and str(folder) in proc.stdout
        assert sorted(p.name for p in folder.iterdir()) == []  # no probe file left, no folder made
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(top, ignore_errors=True)


def test_growth_on_memory_with_a_folder_grows_from_it_and_a_rerun_after_an_exception_finds_it(tmp_path):
    """Growth keeps its parents' checkpoints in the folder too; a ``run()`` after an exception (which re-reads the
    store) reopens the same folder of its own, so its children grow from their parents' weights as in an
    uninterrupted run."""
    from nasbook.space import ChainSpace
    from nasbook.strategies import Growth

    space = ChainSpace(kind="mlp", max_depth=3)

    class Recording(ToyTask):
        def evaluate(self, arch, *, space=None, fidelity=None, report=None):
            self.given.append((arch.id, (fidelity or {}).get("checkpoint") is not None))
            return super().evaluate(arch, space=space, fidelity=fidelity, report=report)

    def search(**kw):
        task = Recording(space, epochs=4)
        task.given = []
        return nasbook.Search(space, task, budget=30, seed=11, storage=":memory:", strategy=Growth(
            population_size=5, sample_size=2, start_epochs=4, child_epochs=4, train_more=False), **kw)

    full = search().run(progress="none")

    def stop(s, trial):
        if trial.number == 12:
            raise _Stop

    again = search(checkpoints=tmp_path, callbacks=[stop])
    with pytest.raises(_Stop):
        again.run(progress="none")
    folder = again._checkpoints.path
    assert isinstance(again._checkpoints, TempCheckpoints) and set(again._checkpoints)
    again.run(progress="none")
    assert again._checkpoints.path == folder and folder.parent == tmp_path
    assert again.task.given == full.task.given
    after = [t for t in again.trials if t.number > 12 and t.attrs.get("grow", {}).get("from", 99) <= 12]
    assert after and all(again.task.given[t.number][1] for t in after)
