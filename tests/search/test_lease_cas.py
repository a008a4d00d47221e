"""A run's writes of its search's row are a compare-and-set on the lease, in the database itself.

The run checked only its heartbeat's flag before writing the search's row (state, elapsed time,
configuration): a takeover the heartbeat had not noticed yet (up to one beat, 10 s) was overwritten
by the run that lost its lease (``state="running"`` from its set-up, ``done`` and its elapsed time as
it ended). ``update_search(owner=...)`` now changes the row only while ``owner`` holds the lease.

Here the heartbeat never beats (``HEARTBEAT_S`` an hour): its flag is not set when the run writes. The
takeover is a real one (``acquire_lease`` from "another host" once the lease's clock is past its TTL).
"""

import warnings

import pytest
from test_lease_heartbeat import SPACE, _Watcher, clock  # noqa: F401 - clock: the lease's clock, a fixture

import nasbook
from nasbook._errors import InvalidParameterError, SearchLockedError, SearchOvertaken, StorageError
from nasbook.search import _loop, _resume
from nasbook.storage import Storage
from nasbook.testing import ToyTask

THEIRS = {"state": "done", "elapsed_s": 123.0, "executor": "the other run's"}


def _row(st, name="s"):
    record = st.get_search(name)
    return {"state": record.state, "elapsed_s": record.elapsed_s, "executor": record.config.get("executor")}


def _they_take_it_over(url, clock, name="s"):  # noqa: F811 - the fixture's value, passed on
    """A process on another host takes the stale lease over (its TTL past) and writes the search's row; the
    run's heartbeat does not know yet."""
    watcher = _Watcher(url)
    try:
        assert watcher.sql("UPDATE nasbook_leases SET hostname = 'another-host'") == 1  # the run, seen from there
        clock[0] += 2 * _loop.LEASE_TTL_S
        sid = watcher.st.get_search(name).id
        watcher.st.acquire_lease(sid, "teammate", ttl_s=_loop.LEASE_TTL_S)
        assert watcher.sql("UPDATE nasbook_leases SET hostname = 'another-host'") == 1  # it runs on another host
        config = {**watcher.st.get_search(name).config, "executor": THEIRS["executor"]}
        watcher.st.update_search(sid, state=THEIRS["state"], elapsed_s=THEIRS["elapsed_s"], config=config)
    finally:
        watcher.close()


@pytest.mark.parametrize("when", ["set-up", "end"])
def test_a_run_whose_lease_was_taken_over_writes_nothing_over_the_other_runs_search_row(store_url, clock, monkeypatch,  # noqa: F811
                                                                                        when):
    monkeypatch.setattr(_loop, "HEARTBEAT_S", 3600.0, raising=False)  # the heartbeat's flag stays unset
    monkeypatch.setattr(_loop, "LEASE_RENEW_S", 3600.0, raising=False)  # nor does the loop renew meanwhile
    callbacks = []
    if when == "set-up":  # taken over while the run replays the search into its strategy
        replay = _resume.replay
        monkeypatch.setattr(_resume, "replay", lambda s: (replay(s), _they_take_it_over(store_url, clock)))
    else:  # ... or after its last trial was committed, before it stores "done" and its elapsed time
        callbacks = [lambda search, trial: _they_take_it_over(store_url, clock) if trial.number == 1 else None]
    first = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=store_url, name="s", callbacks=callbacks)
    with pytest.raises(SearchOvertaken, match=r"(?s)took search 's' over.*pid \d+ on host 'another-host'.*"
                                              r"without writing over it"):
        first.run(progress="none")
    watcher = _Watcher(store_url)
    try:
        # the old code stored "running" over it (set-up), and "done" with its own elapsed time (both)
        assert _row(watcher.st) == THEIRS
        assert tuple(watcher.lease())[:2] == ("teammate", "another-host")  # its lease is left alone
        assert len(watcher.trials()) == (0 if when == "set-up" else 2)  # trials committed before the takeover stay
    finally:
        watcher.close()
    assert first.state.value == "done" and first.elapsed_s == 123.0  # the object takes the stored ones as its own
    first.close()


def test_update_search_with_an_owner_writes_only_while_it_holds_the_lease(store_url):
    st = Storage(store_url)
    try:
        sid = st.create_search("s", {"a": 1})
        with pytest.raises(SearchLockedError, match=r"search 's': this process no longer holds its lease"):
            st.update_search(sid, state="running", owner="me")  # no lease at all
        st.acquire_lease(sid, "me")
        st.update_search(sid, state="running", elapsed_s=1.0, owner="me")
        assert (st.get_search("s").state, st.get_search("s").elapsed_s) == ("running", 1.0)
        st.release_lease(sid, "me")
        st.acquire_lease(sid, "other")
        with pytest.raises(SearchLockedError, match=r"search 's' is being run by another process \(pid \d+"):
            st.update_search(sid, state="done", elapsed_s=9.0, config={"b": 2}, owner="me")
        record = st.get_search("s")
        assert (record.state, record.elapsed_s, record.config) == ("running", 1.0, {"a": 1})  # nothing written
        st.update_search(sid, state="interrupted")  # no owner (an edit outside a run): written, whoever holds it
        assert st.get_search("s").state == "interrupted"
        with pytest.raises(StorageError, match=r"no search with id 999"):
            st.update_search(999, state="done", owner="other")
        with pytest.raises(InvalidParameterError, match=r"lease owner must be a non-empty string.*got ''"):
            st.update_search(sid, state="done", owner="")
        st.update_search(sid, owner="me")  # nothing to write: nothing checked
    finally:
        st.close()


def test_a_storage_subclass_whose_update_search_takes_no_owner_runs_with_a_warning(tmp_path):
    class Old(Storage):  # written before update_search took owner=
        def update_search(self, search_id, *, state=None, config=None, elapsed_s=None):
            super().update_search(search_id, state=state, config=config, elapsed_s=elapsed_s)

    st = Old(tmp_path / "old.db")
    with pytest.warns(nasbook.NasbookWarning, match=r"Old\.update_search takes no owner=.*owner=None"):
        s = nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=st, name="a").run(progress="none")
    assert s.n_trials == 2 and st.get_search("a").state == "done"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per class
        nasbook.load_search("a", st, task=ToyTask(SPACE), budget=3).run(progress="none")
    st.close()
