"""A Search object loaded before another one stored more trials refuses to run, and changes nothing stored."""

import pytest

import nasbook
from nasbook._errors import StorageError
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.storage import open_storage
from nasbook.testing import ToyTask


def _stored(db, name):
    st = open_storage(db, create=False)
    try:
        rec = st.get_search(name)
        return rec.state, rec.elapsed_s, [(t.number, t.state.value, t.value) for t in st.load_trials(rec.id, GraphSpace(ops=PROTEINS_OPS))[0]]
    finally:
        st.close()


def test_a_stale_search_refuses_to_run_and_leaves_the_stored_search_as_it_was(tmp_path):
    db = str(tmp_path / "stale.db")
    space = GraphSpace(ops=PROTEINS_OPS)
    nasbook.Search(space, ToyTask(space), strategy="random", budget=3, seed=100, storage=db, name="s").run(progress="none")
    stale = nasbook.load_search("s", storage=db, task=ToyTask(space), budget=10)
    nasbook.load_search("s", storage=db, task=ToyTask(space), budget=8).run(progress="none")  # another process
    before = _stored(db, "s")
    assert before[0] == "done" and len(before[2]) == 8
    with pytest.raises(StorageError, match=r"trial 3 .*already stored.*load it again"):
        stale.run(progress="none")
    assert _stored(db, "s") == before  # state, elapsed time and trials: as the fresh search left them
    # the lease is given back, and the refused object re-reads the store on its next run(): it runs on from there
    assert stale.run(progress="none").n_trials == 10
    state, _, stored = _stored(db, "s")
    assert state == "done" and [t[0] for t in stored] == list(range(10)) and stored[:8] == before[2]


# -- overtaken mid-loop: another process took the search over while this object was running it -----------------
import sqlite3  # noqa: E402

from nasbook._errors import SearchLockedError  # noqa: E402
from nasbook.executors import LocalExecutor  # noqa: E402
from nasbook.search import _loop  # noqa: E402


def _lease_from_another_host(db):
    """Make the running object's lease look like a dead one of another host's: the next process takes it over."""
    con = sqlite3.connect(db, timeout=10)
    try:
        assert con.execute("UPDATE nasbook_leases SET hostname = 'another-host', heartbeat_at = 0").rowcount == 1
        con.commit()
    finally:
        con.close()


class _Workers(LocalExecutor):
    """Two trials at once, each stored RUNNING first (as on dask workers); one outcome handed back per poll."""

    in_process = False
    capacity = 2

    def poll(self, timeout_s=0.1):
        done = [e for e in self._events if e.kind == "done"][:1]
        self._events = [e for e in self._events if e not in done]
        return done


def _taken_over_after(db, space, n, budget, executor=None):
    """A callback that, after ``n`` trials of this run, lets "another process" take the search over and finish it."""
    seen = []

    def cb(search, trial):
        seen.append(trial.number)
        if len(seen) == n:
            _lease_from_another_host(db)
            other = nasbook.load_search("s", storage=db, task=ToyTask(space), budget=budget)
            other.run(progress="none")
            other.storage.close()

    return cb


@pytest.mark.parametrize("executor", [None, _Workers()], ids=["in-process", "workers"])
def test_a_search_overtaken_mid_run_leaves_the_other_runs_state_and_trials(tmp_path, executor):
    db = str(tmp_path / "over.db")
    space = GraphSpace(ops=PROTEINS_OPS)
    nasbook.Search(space, ToyTask(space), strategy="random", budget=3, seed=100, storage=db, name="s").run(progress="none")
    mine = nasbook.load_search("s", storage=db, task=ToyTask(space), budget=12,
                               callbacks=[_taken_over_after(db, space, 2, 9)], executor=executor)
    with pytest.raises(StorageError, match=r"(?s)another process.*took.*over.*load_search\('s', .*\)"):
        mine.run(progress="none")
    state, elapsed, stored = _stored(db, "s")
    other = nasbook.load_search("s", storage=db, task=ToyTask(space))
    assert state == "done" and elapsed == other.elapsed_s  # as the other run left them, not "interrupted"
    # every trial is as the other run stored it: complete (none overwritten QUEUED by the refused object)
    assert [t[0] for t in stored] == list(range(9)) and {t[1] for t in stored} == {"complete"}
    assert mine.state.value == "done"  # what the store says
    assert mine.run(progress="none").n_trials == 12  # the object re-reads the store and goes on from there


def test_a_run_whose_lease_was_taken_over_stops_without_writing_its_state(tmp_path, monkeypatch):
    db = str(tmp_path / "lease.db")
    space = GraphSpace(ops=PROTEINS_OPS)
    nasbook.Search(space, ToyTask(space), strategy="random", budget=2, seed=101, storage=db, name="s").run(progress="none")
    monkeypatch.setattr(_loop, "LEASE_RENEW_S", 0.0)  # renew after every trial
    holder = {}

    def cb(search, trial):
        if not holder:  # another process takes the lease over (and holds it) after this run's first trial
            _lease_from_another_host(db)
            st = open_storage(db, create=False)
            st.acquire_lease(st.get_search("s").id, "another-process")
            holder["st"] = st

    mine = nasbook.load_search("s", storage=db, task=ToyTask(space), budget=10, callbacks=[cb])
    before_elapsed = _stored(db, "s")[1]
    with pytest.raises(nasbook.SearchOvertaken, match=r"(?s)another process.*took.*over.*Wait for it.*load_search\('s', "):
        mine.run(progress="none")
    state, elapsed, stored = _stored(db, "s")
    assert state == "running" and elapsed == before_elapsed  # the other holder runs it: nothing of ours written over
    assert [t[0] for t in stored] == [0, 1, 2]  # the trial this run committed is kept
    holder["st"].close()


def test_a_background_run_overtaken_mid_run_raises_at_wait(tmp_path):
    db = str(tmp_path / "bg.db")
    space = GraphSpace(ops=PROTEINS_OPS)
    nasbook.Search(space, ToyTask(space), strategy="random", budget=3, seed=102, storage=db, name="s").run(progress="none")
    mine = nasbook.load_search("s", storage=db, task=ToyTask(space), budget=12,
                               callbacks=[_taken_over_after(db, space, 1, 6)])
    mine.start(progress="none")
    with pytest.raises(SearchLockedError, match=r"took search 's' over"):
        mine.wait(30)
    state, elapsed, stored = _stored(db, "s")
    assert state == "done" and len(stored) == 6 and mine.state.value == "done" and mine.elapsed_s == elapsed
