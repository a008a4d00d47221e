"""What a run does once its lease is taken over outside its loop, and whose ``renew_lease`` the heartbeat calls.

* The set-up a run does before its loop (replaying a long search into its strategy, starting a cluster) wrote
  the search's row (state ``running``, the executor it runs on) without asking whether the lease was still
  held: a run whose search was taken over meanwhile wrote over the other run's search.
* An in-process trial (``executor="local"``, Lightning training for minutes) trained to its end after the
  heartbeat found the lease taken over: its result was not stored, the whole trial wasted. It now stops at its
  next report.
* The heartbeat renewed through the engine, bypassing a ``Storage`` subclass's ``renew_lease``.

No test here waits for a TTL: the takeover is written into the lease row by hand, trials are held on events,
and every wait is a safety net (``test_lease_heartbeat.py`` does the same).
"""

import threading

import pytest
from test_lease_heartbeat import SAFETY_S, SPACE, _heartbeats, _taken_over_here, _Watcher

import nasbook
from nasbook._errors import SearchOvertaken
from nasbook.executors import LocalExecutor
from nasbook.search import _loop, _resume
from nasbook.storage import Storage, renew_lease_apart
from nasbook.testing import ToyTask

THEIRS = {"state": "done", "elapsed_s": 123.0}  # what the run that took the search over stored


def _they_take_it_over(url, name="s"):
    """Another host takes the search over and writes its row: this run's heartbeat has found it on return."""
    _taken_over_here(url)
    watcher = _Watcher(url)
    try:
        record = watcher.st.get_search(name)
        watcher.st.update_search(record.id, config={**record.config, "executor": "the other run's"}, **THEIRS)
    finally:
        watcher.close()


def _search_row(url, name="s"):
    watcher = _Watcher(url)
    try:
        record = watcher.st.get_search(name)
        return {"state": record.state, "elapsed_s": record.elapsed_s, "executor": record.config.get("executor")}
    finally:
        watcher.close()


class _SlowStart(LocalExecutor):
    """An executor whose start takes long (a dask cluster starting) and which describes itself anew once started."""

    def __init__(self, during=None):
        super().__init__()
        self.during, self.started = during, False

    def start(self, decide=None):
        super().start(decide)
        if self.during is not None:
            self.during()
        self.started = True

    def __repr__(self):
        return "SlowStart(started)" if self.started else "SlowStart()"


@pytest.mark.parametrize("slow", ["replay", "executor start"])
def test_a_run_taken_over_during_its_set_up_writes_nothing_over_the_other_runs_search(store_url, monkeypatch, slow):
    monkeypatch.setattr(_loop, "HEARTBEAT_S", 0.01, raising=False)
    during = lambda: _they_take_it_over(store_url)  # noqa: E731
    executor = _SlowStart(during if slow == "executor start" else None)
    if slow == "replay":  # a long search replayed into its strategy
        replay = _resume.replay
        monkeypatch.setattr(_resume, "replay", lambda s: (replay(s), during()))
    task = ToyTask(SPACE)
    first = nasbook.Search(SPACE, task, budget=3, seed=0, storage=store_url, name="s", executor=executor)
    with pytest.raises(SearchOvertaken, match=r"(?s)took search 's' over.*without writing over it.*"
                                              r"the 0 trials this run committed are stored"):
        first.run(progress="none")
    # the other run's state, elapsed time and configuration stand (the old code stored "running" over them, or the
    # executor it had started)
    assert _search_row(store_url) == {**THEIRS, "executor": "the other run's"}
    watcher = _Watcher(store_url)
    try:
        assert watcher.trials() == []
        assert tuple(watcher.lease())[:2] == ("teammate", "another-host")  # its lease is left alone
    finally:
        watcher.close()
    assert first.state.value == "done" and first.elapsed_s == 123.0  # the object takes the stored ones as its own
    assert not _heartbeats()
    first.close()


class _Reports(ToyTask):
    """Trains for 50 epochs, reporting each; ``at_report(epoch)`` is called before each report of its first trial."""

    def __init__(self, space, at_report, **kw):
        super().__init__(space, epochs=50, **kw)
        self.at_report, self.reported, self.calls = at_report, [], 0

    def evaluate(self, arch, *, report=None, **kw):
        self.calls += 1
        first = self.calls == 1

        def reporting(epoch, **metrics):
            if first:
                self.at_report(epoch)
            self.reported.append(epoch)
            return report(epoch, **metrics)

        return super().evaluate(arch, report=reporting, **kw)


def test_an_in_process_trial_stops_at_its_next_report_once_the_lease_is_lost(store_url, monkeypatch):
    monkeypatch.setattr(_loop, "HEARTBEAT_S", 0.01, raising=False)
    task = _Reports(SPACE, lambda epoch: _taken_over_here(store_url) if epoch == 1 else None)
    first = nasbook.Search(SPACE, task, budget=3, seed=0, storage=store_url, name="s")
    with pytest.raises(SearchOvertaken, match=r"(?s)took search 's' over.*the 0 trials this run committed are stored"
                       ) as info:
        first.run(progress="none")
    assert task.reported == [0, 1]  # stopped at the report after the takeover was found, not trained for 48 more
    assert task.calls == 1 and info.value.unstored == ()  # no result: nothing to name
    watcher = _Watcher(store_url)
    try:
        assert watcher.trials() == []  # nothing written over the other run's search
        assert tuple(watcher.lease())[:2] == ("teammate", "another-host")
    finally:
        watcher.close()
    assert not _heartbeats()
    first.close()


@pytest.mark.slow
def test_a_lightning_trial_stops_at_its_next_epoch_once_the_lease_is_lost(tmp_path, monkeypatch):
    from nasbook.space import ChainSpace
    from nasbook.tasks import Digits

    monkeypatch.setattr(_loop, "HEARTBEAT_S", 0.01, raising=False)
    db = f"sqlite:///{tmp_path / 'l.db'}"
    space = ChainSpace(kind="mlp")
    epochs = []

    class _Taken(Digits):
        def evaluate(self, arch, *, report=None, **kw):
            def reporting(epoch, **metrics):
                epochs.append(epoch)
                if epoch == 0:
                    _taken_over_here(db)
                return report(epoch, **metrics)

            return super().evaluate(arch, report=reporting, **kw)

    first = nasbook.Search(space, _Taken(max_epochs=20), budget=2, seed=0, storage=db, name="s")
    with pytest.raises(SearchOvertaken, match=r"took search 's' over"):
        first.run(progress="none")
    assert epochs == [0]  # Lightning trained no epoch past the one whose report found the lease lost
    first.close()


class _Heard(Storage):
    """A store whose ``renew_lease`` override records each call: the thread it came from, and on which connection."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.heard, self.beat = [], threading.Event()

    def renew_lease(self, search_id, owner):
        shared = self._conn
        self.heard.append((threading.current_thread().name, self.conn is not shared))
        super().renew_lease(search_id, owner)
        if threading.current_thread().name.startswith("nasbook-lease-"):
            self.beat.set()


def test_the_heartbeat_renews_through_a_storage_subclass_override(store_url, monkeypatch):
    monkeypatch.setattr(_loop, "HEARTBEAT_S", 0.01, raising=False)
    monkeypatch.setattr(_loop, "LEASE_RENEW_S", 3600.0)  # the loop does not renew: only the heartbeat does
    st = _Heard(store_url)
    # trial 0 trains until the heartbeat has renewed (through the override)
    task = _Reports(SPACE, lambda epoch: st.beat.wait(SAFETY_S) if epoch == 0 else None)
    s = nasbook.Search(SPACE, task, budget=2, seed=0, storage=st, name="s").run(progress="none")
    assert st.beat.is_set() and s.state.value == "done"
    beats = [own for thread, own in st.heard if thread.startswith("nasbook-lease-")]
    assert beats and all(beats)  # every beat on a connection of the heartbeat thread's own, not the run's
    assert not _heartbeats()
    st.close()


def test_renew_lease_apart_calls_the_storage_method_on_a_connection_of_its_own(store_url):
    st = _Heard(store_url)
    try:
        sid = st.create_search("s", {"mode": "max"})
        st.acquire_lease(sid, "me")
        shared = st.conn
        renew_lease_apart(st, sid, "me", "s")
        assert st.heard == [(threading.current_thread().name, True)]
        assert st.conn is shared  # the thread's own connection is given back: the shared one again
        with pytest.raises(nasbook.SearchLockedError):
            renew_lease_apart(st, sid, "another owner", "s")
    finally:
        st.close()
