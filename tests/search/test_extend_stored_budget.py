"""``Search.extend`` adds to the budget stored now, not to the one the object read: another object or process
may have extended the search since (outside probe 4: two objects loaded at once, each ``extend(10)`` on a
budget of 5, stored 15 and lost one extension)."""
import subprocess
import sys

import nasbook
from nasbook.tasks import NasBenchGraph


def _stored(name, db):
    return nasbook.load_search(name, db).budget.trials


def test_two_objects_each_extending_add_both(tmp_path):
    db = str(tmp_path / "s.db")
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=5, seed=431, storage=db, name="x").run(progress="none")
    a, b = nasbook.load_search("x", db), nasbook.load_search("x", db)
    b.extend(10)
    a.extend(10)
    assert a.budget.trials == _stored("x", db) == 25
    a.extend(1)  # its own extends still add once each
    assert a.budget.trials == _stored("x", db) == 26


def test_an_extend_in_another_process_is_kept_and_the_run_spends_the_sum(tmp_path):
    db = str(tmp_path / "s.db")
    s = nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=4, seed=432, storage=db, name="y").run(progress="none")
    subprocess.run([sys.executable, "-c", f"import nasbook; nasbook.load_search('y', {db!r}).extend(3)"],
                   check=True, capture_output=True, text=True, timeout=300)
    s.extend(2)
    assert s.budget.trials == _stored("y", db) == 9
    s.run(progress="none")
    assert s.n_trials == nasbook.load_search("y", db).n_trials == 9


def test_an_object_loaded_before_anothers_extend_keeps_that_extension_when_it_writes(tmp_path, monkeypatch):
    # a resume in another environment rewrites the configuration at the end of run(): an object that read
    # the budget before another object's extend() put the old budget back, and the extension was lost
    from nasbook.search import _provenance

    db = str(tmp_path / "s.db")
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=2, seed=433, storage=db, name="z").run(progress="none")
    a = nasbook.load_search("z", db, budget=3)  # its own change: stored at once
    nasbook.load_search("z", db).extend(5)  # another object: 8 stored
    env = _provenance._environment()
    monkeypatch.setattr(_provenance, "_environment", lambda: {**env, "python": "0.0.0"})  # a session elsewhere
    a.run(progress="none")
    assert a.n_trials == 8 and a.budget.trials == 8  # it spent the search's budget, not its stale 3
    assert _stored("z", db) == 8
    assert _provenance._environment()["python"] == "0.0.0" and a.environment_history  # the write did happen


def test_a_budget_an_object_changes_itself_is_written_as_given(tmp_path):
    db = str(tmp_path / "s.db")
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=2, seed=434, storage=db, name="w").run(progress="none")
    nasbook.load_search("w", db).extend(5)  # 7 stored
    b = nasbook.load_search("w", db, budget=4)  # loaded after it: its own budget is what it asked for
    assert b.budget.trials == _stored("w", db) == 4
