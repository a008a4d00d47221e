"""A run keeps its search's lease for as long as it runs, however long a trial trains in its process.

The loop renewed the lease only between its polls, so an in-process trial longer than the lease's TTL let a
process on another host (a teammate on a shared PostgreSQL) take the search over while it still trained, and
both wrote trials. A heartbeat thread now renews it (``nasbook/search/_heartbeat.py``). No test here waits for
a TTL: the lease's clock is moved on by hand, trials are held on events, and every wait is a safety net.
"""

import logging
import threading
import time
import types

import pytest
import sqlalchemy as sa

import nasbook
from nasbook._errors import SearchLockedError, SearchOvertaken, StorageError
from nasbook.search import _heartbeat, _loop
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.storage import Storage, _lease
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)
SAFETY_S = 30.0  # only how long a wait gives up after (a broken run), never what a test measures


def _heartbeats():
    return [t for t in threading.enumerate() if t.name.startswith("nasbook-lease-") and t.is_alive()]


def _until(condition):
    """Wait until ``condition()`` holds (True), or give up after SAFETY_S (False)."""
    deadline = time.monotonic() + SAFETY_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class _During(ToyTask):
    """Calls ``during()`` inside its first trial (training in the run's process, as executor="local" does)."""

    def __init__(self, space, during=None, **kw):
        super().__init__(space, **kw)
        self.during, self.calls = during, 0

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        self.calls += 1
        if self.calls == 1 and self.during is not None:
            self.during()
        return super().evaluate(arch, space=space, fidelity=fidelity, report=report)


class _Watcher:
    """Another process's view of the store: the lease row, read and written with SQL."""

    def __init__(self, url):
        self.st = Storage(url, create=False)

    def sql(self, stmt, **params):
        res = self.st.conn.execute(sa.text(stmt), params)
        rows = res.all() if res.returns_rows else res.rowcount
        self.st.conn.commit()
        return rows

    def lease(self):
        rows = self.sql("SELECT owner, hostname, heartbeat_at FROM nasbook_leases")
        return rows[0] if rows else None

    def trials(self):
        return [tuple(r) for r in self.sql("SELECT number, state, owner FROM nasbook_trials ORDER BY number")]

    def close(self):
        self.st.close()


@pytest.fixture
def clock(monkeypatch):
    """The lease's clock (heartbeats, a takeover's "now"), which the test moves on: ``clock[0]`` seconds ahead."""
    ahead = [0.0]
    monkeypatch.setattr(_lease, "time", types.SimpleNamespace(time=lambda: time.time() + ahead[0]))
    return ahead


@pytest.mark.parametrize("how", ["run", "start", "a slow callback"])
def test_a_trial_longer_than_the_lease_ttl_keeps_the_search_from_another_host(store_url, clock, monkeypatch, how):
    monkeypatch.setattr(_loop, "HEARTBEAT_S", 0.01, raising=False)
    seen = {}

    def during():  # trial 0 trains, in the run's process, for an hour: a teammate's process tries to run the search
        watcher = _Watcher(store_url)
        try:
            # the run holds the lease from another host, as the teammate's process sees it (there a TTL applies)
            assert watcher.sql("UPDATE nasbook_leases SET hostname = 'another-host'") == 1
            clock[0] += 3600.0  # an hour of training, longer than LEASE_TTL_S
            hour = _lease.time.time()
            seen["renewed"] = _until(lambda: watcher.lease().heartbeat_at >= hour)  # the heartbeat went on
            other = nasbook.load_search("s", store_url, task=task)
            try:
                other.run(progress="none")
                seen["teammate"] = "ran the search"  # and both runs write trials
            except SearchLockedError as exc:
                seen["teammate"] = "refused"
                seen["message"] = str(exc)
            finally:
                other.close()
        finally:
            watcher.close()

    # "a slow callback": the loop held outside any trial (as by a dask cluster starting, or a long replay)
    task = _During(SPACE, during=during if how != "a slow callback" else None)
    callbacks = [lambda search, trial: during() if trial.number == 0 else None] if how == "a slow callback" else []
    first = nasbook.Search(SPACE, task, budget=3, seed=0, storage=store_url, name="s", callbacks=callbacks)
    if how != "start":
        first.run(progress="none")
    else:
        first.start(progress="none").wait()
    assert seen["teammate"] == "refused", seen
    assert seen["renewed"] and "being run by another process" in seen["message"]
    watcher = _Watcher(store_url)
    try:
        assert watcher.trials() == [(n, "complete", first._owner) for n in range(3)]  # all of them the first run's
        assert watcher.lease() is None  # given back at the end
    finally:
        watcher.close()
    assert first.state.value == "done" and first.n_trials == 3
    assert not _heartbeats()
    first.close()


def _taken_over_here(store_url):
    """A process on another host takes the search over; returns once the run's heartbeat thread has found it."""
    watcher = _Watcher(store_url)
    try:
        assert watcher.sql("UPDATE nasbook_leases SET owner = 'teammate', hostname = 'another-host', "
                           "heartbeat_at = :now", now=time.time()) == 1
        assert _until(lambda: not _heartbeats()), "the heartbeat never found the lease taken over"
    finally:
        watcher.close()


def test_a_run_that_lost_its_lease_in_a_slow_callback_runs_no_further_trial(tmp_path, monkeypatch):
    monkeypatch.setattr(_loop, "HEARTBEAT_S", 0.01, raising=False)
    db = str(tmp_path / "cb.db")
    task = _During(SPACE)
    first = nasbook.Search(SPACE, task, budget=3, seed=0, storage=db, name="s",
                           callbacks=[lambda search, trial: _taken_over_here(db) if trial.number == 0 else None])
    with pytest.raises(SearchOvertaken, match=r"(?s)took search 's' over.*the 1 trial this run committed is stored"):
        first.run(progress="none")
    assert task.calls == 1  # trial 1 was never trained
    watcher = _Watcher(db)
    try:
        assert watcher.trials() == [(0, "complete", first._owner)]
    finally:
        watcher.close()
    assert not _heartbeats()
    first.close()


def test_a_run_that_lost_its_lease_during_a_trial_stops_before_storing_it(store_url, monkeypatch):
    monkeypatch.setattr(_loop, "HEARTBEAT_S", 0.01, raising=False)
    monkeypatch.setattr(_loop, "LEASE_RENEW_S", 0.0)  # the loop renews too, after every poll

    during = lambda: _taken_over_here(store_url)  # noqa: E731 - while trial 0 trains here
    first = nasbook.Search(SPACE, _During(SPACE, during=during), budget=3, seed=0, storage=store_url, name="s")
    with pytest.raises(SearchOvertaken, match=r"(?s)took search 's' over.*trial 0 \(complete.*was not stored") as info:
        first.run(progress="none")
    assert [t.number for t in info.value.unstored] == [0]
    watcher = _Watcher(store_url)
    try:
        assert watcher.trials() == []  # nothing written over the other run's search
        assert tuple(watcher.lease())[:2] == ("teammate", "another-host")  # its lease is left alone
    finally:
        watcher.close()
    assert not _heartbeats()
    first.close()


def test_a_failed_heartbeat_is_logged_and_the_run_goes_on(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(_loop, "HEARTBEAT_S", 0.01)
    calls, beaten = [], threading.Event()
    renew = _heartbeat.renew_lease_apart

    def flaky(*args):
        calls.append(args)
        if len(calls) == 1:
            raise StorageError("storage 'x' failed: database is locked")
        renew(*args)
        beaten.set()

    monkeypatch.setattr(_heartbeat, "renew_lease_apart", flaky)
    task = _During(SPACE, during=lambda: beaten.wait(SAFETY_S))  # trial 0 trains until a heartbeat got through
    with caplog.at_level(logging.WARNING, logger="nasbook.search._heartbeat"):
        s = nasbook.Search(SPACE, task, budget=3, seed=0, storage=tmp_path / "f.db", name="s").run(progress="none")
    assert beaten.is_set() and s.state.value == "done" and s.n_trials == 3
    assert "renewing the lease of search 's' failed" in caplog.text and "database is locked" in caplog.text
    assert not _heartbeats()
    s.close()


@pytest.mark.parametrize("ending", ["done", "a callback raises", "ctrl-c", "stop()"])
def test_the_heartbeat_runs_while_run_runs_and_ends_with_it(tmp_path, ending):
    running, callbacks = [], []

    def during():
        running.append(len(_heartbeats()))
        if ending == "ctrl-c":
            raise KeyboardInterrupt

    task = _During(SPACE, during=during)
    if ending == "a callback raises":
        callbacks = [lambda search, trial: 1 / 0]
    s = nasbook.Search(SPACE, task, budget=3, seed=0, storage=tmp_path / "h.db", name="s", callbacks=callbacks)
    if ending == "done":
        s.run(progress="none")
    elif ending == "a callback raises":
        with pytest.raises(ZeroDivisionError):
            s.run(progress="none")
    elif ending == "ctrl-c":
        with pytest.raises(KeyboardInterrupt):
            s.run(progress="none")
    else:
        go = threading.Event()
        task.during = lambda: (running.append(len(_heartbeats())), go.wait(SAFETY_S))
        s.start(progress="none")
        assert _until(lambda: running), "the background run never started a trial"
        stopper = threading.Thread(target=s.stop)  # stop() waits for the trial in flight: from a thread
        stopper.start()
        assert _until(lambda: s._stop_flag), "stop() never asked the run to end"
        go.set()  # the trial ends once the run knows it must stop: no second trial starts
        stopper.join(SAFETY_S)
        s.wait()
        assert s.state.value == "interrupted"
    assert running == [1]  # one heartbeat thread while the trial trained
    assert not _heartbeats()  # and none once run() returned, however it ended
    s.close()


def test_an_in_memory_search_needs_no_heartbeat_thread():
    running = []
    task = _During(SPACE, during=lambda: running.append(len(_heartbeats())))
    s = nasbook.Search(SPACE, task, budget=3, seed=0, storage=":memory:", name="m").run(progress="none")
    assert running == [0] and s.n_trials == 3 and not _heartbeats()
