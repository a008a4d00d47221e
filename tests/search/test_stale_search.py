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


@pytest.fixture(autouse=True)
def _no_heartbeat_between(monkeypatch):
    """These tests make a running search's lease look like a dead one (heartbeat 0, another host) for "another
    process" to take it over: the run's heartbeat thread must not renew it in between (every 10 s, so on a loaded
    machine it could: the takeover was then refused). The loop's own renewal (LEASE_RENEW_S) stays as it is."""
    monkeypatch.setattr(_loop, "HEARTBEAT_S", 1e6)


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


# -- the window closed by the trial rows' owner token (nasbook/storage/_owner.py): a trial held in flight -------
import dataclasses  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from nasbook._errors import SearchOvertaken  # noqa: E402
from nasbook.storage import Storage, TrialTaken  # noqa: E402
from nasbook.trial import Trial, TrialState  # noqa: E402


def _age_lease(url):
    """The running object's lease made to look like a dead one of another host's (any database)."""
    st = Storage(url, create=False)
    try:
        assert st.conn.execute(sa.text("UPDATE nasbook_leases SET hostname = 'another-host', heartbeat_at = 0")).rowcount == 1
        st.conn.commit()
    finally:
        st.close()


def _rows(url, name="s"):
    st = Storage(url, create=False)
    try:
        sid = st.get_search(name).id
        return {t.number: (t.state.value, t.value, t.arch.id) for t in st.load_trials(sid, GraphSpace(ops=PROTEINS_OPS))[0]}
    finally:
        st.close()


class _Held(_Workers):
    """Workers (trials stored RUNNING first) that hold trial ``hold``'s outcome back until ``release`` is set; the
    held result is made different (+1000), as a re-run of the same proposal may give another value."""

    def __init__(self, hold):
        super().__init__()
        self.hold, self.release, self.held = hold, False, None

    def poll(self, timeout_s=0.1):
        held = [e for e in self._events if e.kind == "done" and e.number == self.hold]
        if held:
            self._events.remove(held[0])
            res = held[0].outcome.result
            held[0].outcome.result = dataclasses.replace(res, value=res.value + 1000.0)
            self.held = held[0]
        if self.release and self.held is not None:
            self._events.append(self.held)
            self.held = None
        return super().poll(timeout_s)


def test_a_trial_finishing_after_a_takeover_leaves_the_other_runs_row_and_is_named(store_url):
    space = GraphSpace(ops=PROTEINS_OPS)
    nasbook.Search(space, ToyTask(space), strategy="random", budget=3, seed=103, storage=store_url, name="s").run(progress="none")
    ex = _Held(hold=3)  # trial 3 stays in flight on the "workers" while trial 4 finishes
    taken = {}

    def cb(search, trial):
        if trial.number == 4:  # another process takes the search over and re-runs trial 3 (stored RUNNING: queued)
            _age_lease(store_url)
            other = nasbook.load_search("s", storage=store_url, task=ToyTask(space), budget=7)
            other.run(progress="none")
            other.storage.close()
            taken.update(_rows(store_url))
            ex.release = True  # ... and only then does this run's trial 3 finish

    mine = nasbook.load_search("s", storage=store_url, task=ToyTask(space), budget=5, callbacks=[cb], executor=ex)
    with pytest.raises(SearchOvertaken, match=r"(?s)took search 's' over.*result of trial 3 \(complete, value \S+\) "
                       r"was not stored.*keeps the other run's trial 3: complete, value ") as info:
        mine.run(progress="none")
    assert isinstance(info.value.__cause__, TrialTaken)
    (unstored,) = info.value.unstored  # the result is handed back, not dropped ...
    assert f"trial 3 (complete, value {unstored.value!r}) was not stored" in str(info.value)  # ... and named
    rows = _rows(store_url)
    assert rows == taken  # the other run's rows: unchanged, trial 3 its own result, not this run's
    assert unstored.number == 3 and unstored.state is TrialState.COMPLETE and unstored.value == taken[3][1] + 1000
    assert unstored.arch.id == rows[3][2]  # the same proposal, run twice
    assert mine.state.value == "done"  # the other run's state, read back


def _fourth_arch(space, seed):
    """What the seeded random strategy proposes as trial 3 (a killed run's RUNNING trial is one it proposed)."""
    return nasbook.Search(space, ToyTask(space), strategy="random", budget=4, seed=seed, storage=":memory:",
                          name="x").run(progress="none").trials[3].arch


def test_a_trial_to_run_again_that_another_run_finished_after_loading_is_not_run_over(store_url):
    space = GraphSpace(ops=PROTEINS_OPS)
    first = nasbook.Search(space, ToyTask(space), strategy="random", budget=3, seed=104, storage=store_url, name="s")
    first.run(progress="none")
    st = Storage(store_url, create=False)
    sid = st.get_search("s").id
    arch = _fourth_arch(space, 104)
    st.add_trial(sid, Trial(3, arch, TrialState.RUNNING, None, {}, {}, n_told_before=3), owner="a-run-on-another-host")
    mine = nasbook.load_search("s", storage=store_url, task=ToyTask(space), budget=6)  # reads trial 3: to run again
    # ... which the other run, alive after all, finishes before this object runs
    st.update_trial(sid, Trial(3, arch, TrialState.COMPLETE, 0.25, {}, {}, n_told_before=3), tell_seq=3,
                    owner="a-run-on-another-host")
    before = _rows(store_url)
    with pytest.raises(StorageError, match=r"would run again \(of trials \[3\]\) was finished.*Nothing was run"):
        mine.run(progress="none")
    assert _rows(store_url) == before and st.get_search("s").state == "done"
    assert mine.run(progress="none").n_trials == 6  # re-reads the store: trial 3 is the other run's, kept
    assert _rows(store_url)[3] == before[3]
    st.close()


def test_a_run_overtaken_before_its_requeued_trial_finishes_cannot_write_it(store_url):
    """A killed run's RUNNING trial, run again by a resumed object that is itself overtaken mid-trial."""
    space = GraphSpace(ops=PROTEINS_OPS)
    first = nasbook.Search(space, ToyTask(space), strategy="random", budget=3, seed=105, storage=store_url, name="s")
    first.run(progress="none")
    st = Storage(store_url, create=False)
    sid = st.get_search("s").id
    # a killed run's trial 3, stored RUNNING without an owner (as by a nasbook before schema 5)
    st.add_trial(sid, Trial(3, _fourth_arch(space, 105), TrialState.RUNNING, None, {}, {}, n_told_before=3))
    ex, taken = _Held(hold=3), {}

    def cb(search, trial):
        if trial.number == 4:  # this object runs trial 3 again (claimed), held; another process takes over
            _age_lease(store_url)
            nasbook.load_search("s", storage=store_url, task=ToyTask(space), budget=6).run(progress="none")
            taken.update(_rows(store_url))
            ex.release = True

    mine = nasbook.load_search("s", storage=store_url, task=ToyTask(space), budget=5, executor=ex, callbacks=[cb])
    with pytest.raises(SearchOvertaken, match=r"result of trial 3 .*was not stored"):
        mine.run(progress="none")
    assert taken[3][0] == "complete" and _rows(store_url) == taken  # its trial 3 is the other run's result
    st.close()
