"""The SQLite file of a store is complete on its own: a copy of the ``.db`` file (cp, an upload) made while
the notebook still has it open, or while a search writes it, holds what was committed (WAL mode keeps
recent commits in ``FILE-wal`` until a checkpoint)."""

import shutil

import nasbook
from nasbook.search import _loop
from nasbook.tasks import NasBenchGraph


def test_a_copy_of_the_file_alone_after_run_holds_every_trial(tmp_path):
    path = tmp_path / "s.db"
    s = nasbook.Search(NasBenchGraph("cora"), budget=300, seed=0, storage=path, name="s").run(progress="none")
    shutil.copy(path, tmp_path / "copy.db")  # the notebook still holds the store open
    copy = nasbook.load_search("s", tmp_path / "copy.db")
    assert copy.n_trials == 300 and [t.arch.id for t in copy.trials] == [t.arch.id for t in s.trials]


def test_a_copy_made_while_a_search_writes_lags_at_most_one_heartbeat(tmp_path, monkeypatch):
    monkeypatch.setattr(_loop, "LEASE_RENEW_S", 0.0)  # a heartbeat after every trial
    path = tmp_path / "w.db"

    def copy(search, trial):
        if search.n_trials == 200:
            shutil.copy(path, tmp_path / "copy.db")

    nasbook.Search(NasBenchGraph("cora"), budget=250, seed=0, storage=path, name="w", callbacks=[copy]).run(progress="none")
    assert nasbook.load_search("w", tmp_path / "copy.db").n_trials >= 199
