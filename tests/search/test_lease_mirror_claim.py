"""The two writes of a run that were not a compare-and-set on its lease: its claim of the trial rows it runs again,
and its knowledge-base mirror's state.

* ``claim_trials`` (right after a resumed run takes the lease) took the unfinished rows whoever held the lease: a
  run that stalled past the lease's TTL between the two statements, taken over meanwhile, took the new holder's
  rows, whose writes were then refused (``TrialTaken``) as if that run had lost them. It now takes nothing and
  raises SearchLockedError.
* A run's last mirror write (``done`` and its elapsed time, in the kb's store) came after it gave its lease back:
  a run that took the search over then (its set-up writes ``running`` into the mirror) found its state overwritten
  by the finished run's. The mirror is written before the lease is given back. (Across two databases no single
  statement can make it a compare-and-set; the set-up's mirror write follows the run's own checked write of its row.)
"""

import numpy as np
import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook._errors import SearchLockedError
from nasbook.search import _fresh, _loop
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.storage import Storage
from nasbook.storage._owner import TrialTaken, claim_trials
from nasbook.testing import ToyTask
from nasbook.trial import Trial, TrialState

SPACE = GraphSpace(ops=PROTEINS_OPS)


def _queued(number):
    return Trial(number, SPACE.sample(np.random.default_rng(number)), TrialState.QUEUED, None, {}, {})


def test_a_run_that_lost_its_lease_before_claiming_its_trials_takes_none_of_the_new_holders(store_url):
    st = Storage(store_url)
    try:
        sid = st.create_search("s", {})
        st.acquire_lease(sid, "old")
        for n in (0, 1):
            st.add_trial(sid, _queued(n), owner="old")
        # the old run stalls; its lease is taken over (released here: the holder is what counts), and the new
        # holder takes the rows it runs again
        st.release_lease(sid, "old")
        st.acquire_lease(sid, "new")
        assert claim_trials(st, sid, [0, 1], "new") == 2
        with pytest.raises(SearchLockedError, match=r"search 's' is being run by another process"):
            claim_trials(st, sid, [0, 1], "old")  # the old run, awake again
        running = Trial(0, _queued(0).arch, TrialState.RUNNING, None, {}, {})
        st.update_trial(sid, running, owner="new")  # the new holder's rows are still its own
        done = Trial(0, _queued(0).arch, TrialState.COMPLETE, 0.5, {}, {}, finished_at=1.0)
        st.update_trial(sid, done, owner="new")
        with pytest.raises(TrialTaken):
            st.update_trial(sid, Trial(1, _queued(1).arch, TrialState.RUNNING, None, {}, {}), owner="old")
        st.release_lease(sid, "new")
        with pytest.raises(SearchLockedError, match=r"no longer holds its lease"):
            claim_trials(st, sid, [1], "new")  # no lease at all: nothing taken either
    finally:
        st.close()


def test_a_resumed_run_taken_over_between_its_lease_and_its_claim_stops_and_the_new_run_keeps_its_trials(tmp_path,
                                                                                                      monkeypatch):
    path = str(tmp_path / "s.db")
    first = nasbook.Search(SPACE, ToyTask(SPACE), budget=4, seed=0, storage=path, name="s")
    st = first.storage
    sid = first._search_id
    for n in (0, 1):  # two trials left QUEUED by an interrupted run
        st.add_trial(sid, _queued(n))
    stale = nasbook.load_search("s", path, task=ToyTask(SPACE), space=SPACE)
    winner = nasbook.load_search("s", path, task=ToyTask(SPACE), space=SPACE)
    real = _fresh.trials_stored_from
    once = []

    def taken_over_here(storage, search_id, start):  # after the stale run took the lease, before it claims
        if storage is stale.storage and not once:
            once.append(True)
            storage.release_lease(search_id, stale._owner)  # (its lease taken over: the holder is what counts)
            winner.storage.acquire_lease(search_id, winner._owner, ttl_s=_loop.LEASE_TTL_S)
            assert claim_trials(winner.storage, search_id, [0, 1], winner._owner) == 2
        return real(storage, search_id, start)

    monkeypatch.setattr(_fresh, "trials_stored_from", taken_over_here)
    with pytest.raises(SearchLockedError):
        stale.run(progress="none")
    monkeypatch.setattr(_fresh, "trials_stored_from", real)
    rows = {n: owner for n, owner in st.conn.exec_driver_sql(
        "SELECT number, owner FROM nasbook_trials ORDER BY number").all()}
    st.conn.commit()
    assert rows == {0: winner._owner, 1: winner._owner}  # the old code made them the stale run's
    arch = stale._requeue[0].arch if stale._requeue else _queued(0).arch
    winner.storage.update_trial(sid, Trial(0, arch, TrialState.RUNNING, None, {}, {}), owner=winner._owner)  # its own
    winner.storage.release_lease(sid, winner._owner)  # the winner's run, as the next run() would
    for s in (first, stale, winner):
        s.close()


def test_a_finished_runs_mirror_state_is_written_before_the_next_run_takes_the_search(tmp_path, monkeypatch):
    kb_path, path = tmp_path / "kb.db", str(tmp_path / "own.db")
    kb = KnowledgeBase(kb_path)
    first = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=path, kb=kb, name="m")
    real = Storage.release_lease
    seen = {}

    def then_the_next_run_takes_it(self, search_id, owner):
        real(self, search_id, owner)
        # the moment the finished run gives its lease back (the search's, not its mirror's in the kb: h-execdur)
        if owner == first._owner and self is first.storage and "next" not in seen:
            nxt = seen["next"] = nasbook.load_search("m", path, task=ToyTask(SPACE), kb=KnowledgeBase(kb_path), budget=4)
            beat = _fresh.acquire(nxt, _loop.LEASE_TTL_S, 3600.0)
            _loop.set_up(nxt, beat)  # writes "running", to its own store and to the mirror
            beat.stop()

    monkeypatch.setattr(Storage, "release_lease", then_the_next_run_takes_it)
    first.run(progress="none")
    assert first.state.value == "done"
    nxt = seen["next"]
    assert nxt.storage.get_search("m").state == "running"
    assert kb.searches.set_index("search").loc["m", "state"] == "running", "the finished run's mirror write came last"
    monkeypatch.setattr(Storage, "release_lease", real)
    nxt.storage.release_lease(nxt._search_id, nxt._owner)
    for s in (first, nxt):
        s.close()
    kb.close()
